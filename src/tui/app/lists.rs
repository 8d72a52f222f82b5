//! A list's cursor: the selected row, the first row shown, and the filter typed with `/`.

/// Cursor state of one list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cursor {
    /// The selected row (of the filtered rows).
    pub selected: usize,
    /// The first row shown.
    pub offset: usize,
    /// The filter (case-insensitive substring; empty = none).
    pub filter: String,
}

impl Cursor {
    /// Moves by `delta` rows within `len`, keeping the selection inside a viewport of `height`.
    pub fn move_by(&mut self, delta: isize, len: usize, height: usize) {
        if len == 0 {
            self.selected = 0;
            self.offset = 0;
            return;
        }
        let target = (self.selected as isize + delta).clamp(0, len as isize - 1);
        self.selected = target as usize;
        self.scroll_into_view(height);
    }

    /// Jumps to a row.
    pub fn go(&mut self, row: usize, len: usize, height: usize) {
        self.selected = row.min(len.saturating_sub(1));
        self.scroll_into_view(height);
    }

    /// Keeps the selection within `len` rows (after the list shrank).
    pub fn clamp(&mut self, len: usize, height: usize) {
        self.selected = self.selected.min(len.saturating_sub(1));
        self.offset = self.offset.min(len.saturating_sub(height.max(1)));
        self.scroll_into_view(height);
    }

    fn scroll_into_view(&mut self, height: usize) {
        let height = height.max(1);
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + height {
            self.offset = self.selected + 1 - height;
        }
    }

    /// The rows a viewport of `height` shows of `items` (the selection always among them), each
    /// with whether it is the selected one.
    pub fn visible<'a, T>(&self, items: &'a [T], height: usize) -> impl Iterator<Item = (&'a T, bool)> + use<'a, T> {
        let selected = self.selected;
        items
            .iter()
            .enumerate()
            .skip(self.first_visible(height))
            .take(height)
            .map(move |(i, item)| (item, i == selected))
    }

    /// The first row to draw in a viewport of `height` (the selection always visible).
    pub fn first_visible(&self, height: usize) -> usize {
        let height = height.max(1);
        if self.selected < self.offset {
            self.selected
        } else if self.selected >= self.offset + height {
            self.selected + 1 - height
        } else {
            self.offset
        }
    }

    /// Whether the row whose searchable text `text` builds passes the filter; without a filter the
    /// text is never built (a list of 10,000 tenants is walked on every key press).
    pub fn accepts(&self, text: impl FnOnce() -> String) -> bool {
        self.filter.is_empty() || text().to_lowercase().contains(&self.filter.to_lowercase())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_clamp_and_scroll() {
        let mut c = Cursor::default();
        c.move_by(5, 10, 3);
        assert_eq!((c.selected, c.offset), (5, 3));
        c.move_by(-4, 10, 3);
        assert_eq!((c.selected, c.offset), (1, 1));
        c.move_by(100, 10, 3);
        assert_eq!((c.selected, c.offset), (9, 7));
        c.clamp(4, 3);
        assert_eq!(c.selected, 3);
        assert_eq!(c.first_visible(3), 1);
        let rows = ["a", "b", "c", "d"];
        let shown: Vec<(&&str, bool)> = c.visible(&rows, 3).collect();
        assert_eq!(shown, [(&"b", false), (&"c", false), (&"d", true)], "the page holding the selection");
        c.move_by(1, 0, 3);
        assert_eq!(c.selected, 0);
        c.filter = "ACME".into();
        assert!(c.accepts(|| "acme-prod".into()));
        assert!(!c.accepts(|| "globex".into()));
    }
}

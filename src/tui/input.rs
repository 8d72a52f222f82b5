//! A one-line text input (command line, filter, typed confirmation): characters, cursor movement,
//! and the readline keys people type without thinking (Ctrl-U, Ctrl-W, Ctrl-A/E). Enter, Esc and
//! Ctrl-C are not the input's: they are bindings of the line or dialog that uses it (`keys.rs`).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// The text and the cursor (a char index).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LineInput {
    /// The text typed so far.
    pub text: String,
    /// Cursor position in characters.
    pub cursor: usize,
}

impl LineInput {
    /// An input holding `text`, cursor at its end.
    pub fn with_text(text: &str) -> Self {
        LineInput { text: text.to_string(), cursor: text.chars().count() }
    }

    fn byte_at(&self, char_index: usize) -> usize {
        self.text.char_indices().nth(char_index).map_or(self.text.len(), |(i, _)| i)
    }

    /// Applies an editing key (any other key changes nothing).
    pub fn handle(&mut self, key: KeyEvent) {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Char('u') if ctrl => {
                let at = self.byte_at(self.cursor);
                self.text.replace_range(..at, "");
                self.cursor = 0;
            }
            KeyCode::Char('w') if ctrl => {
                let before: Vec<char> = self.text.chars().take(self.cursor).collect();
                let mut start = before.len();
                while start > 0 && before[start - 1] == ' ' {
                    start -= 1;
                }
                while start > 0 && before[start - 1] != ' ' {
                    start -= 1;
                }
                let (a, b) = (self.byte_at(start), self.byte_at(self.cursor));
                self.text.replace_range(a..b, "");
                self.cursor = start;
            }
            KeyCode::Char('a') if ctrl => self.cursor = 0,
            KeyCode::Char('e') if ctrl => self.cursor = self.text.chars().count(),
            KeyCode::Char(c) if !ctrl && !c.is_control() => {
                let at = self.byte_at(self.cursor);
                self.text.insert(at, c);
                self.cursor += 1;
            }
            KeyCode::Backspace if self.cursor > 0 => {
                let (a, b) = (self.byte_at(self.cursor - 1), self.byte_at(self.cursor));
                self.text.replace_range(a..b, "");
                self.cursor -= 1;
            }
            KeyCode::Delete if self.cursor < self.text.chars().count() => {
                let (a, b) = (self.byte_at(self.cursor), self.byte_at(self.cursor + 1));
                self.text.replace_range(a..b, "");
            }
            KeyCode::Left => self.cursor = self.cursor.saturating_sub(1),
            KeyCode::Right => self.cursor = (self.cursor + 1).min(self.text.chars().count()),
            KeyCode::Home => self.cursor = 0,
            KeyCode::End => self.cursor = self.text.chars().count(),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn typing_editing_and_readline_keys() {
        let mut i = LineInput::default();
        for c in "theme dark".chars() {
            i.handle(key(KeyCode::Char(c)));
        }
        assert_eq!(i.text, "theme dark");
        i.handle(KeyEvent::new(KeyCode::Char('w'), KeyModifiers::CONTROL));
        assert_eq!((i.text.as_str(), i.cursor), ("theme ", 6));
        i.handle(key(KeyCode::Left));
        i.handle(key(KeyCode::Backspace));
        assert_eq!(i.text, "them ");
        i.handle(key(KeyCode::Char('é')));
        assert_eq!((i.text.as_str(), i.cursor), ("themé ", 5));
        for not_editing in
            [key(KeyCode::Enter), key(KeyCode::Esc), KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)]
        {
            i.handle(not_editing);
        }
        assert_eq!((i.text.as_str(), i.cursor), ("themé ", 5), "Enter, Esc and Ctrl-C are the line's, not the input's");
        i.handle(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
        assert_eq!(i.text, " ");
    }
}

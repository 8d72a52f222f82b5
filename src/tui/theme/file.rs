//! Reading one theme file into a [`Patch`]: the styles and palette it sets, its `extends`, and
//! warnings for the keys it gives that mean nothing.
//!
//! A style key's dotted name is a path of TOML tables: `branch.failed` is the table `failed` in
//! the table `branch`. Inside a style's table the attributes `fg`, `bg`, `bold`, `dim`, `italic`,
//! `underline` and `reversed` are that style; any other table in it is a longer key (the table
//! `border` holds both the `border` style's attributes and the `border.focused` style).

use std::path::{Path, PathBuf};

use ratatui::style::{Color, Modifier, Style};
use toml::{Table, Value};

use super::colour::{COLOUR_HELP, colour_value, describe};
use super::error::{Result, ThemeError, line_column};
use super::key::StyleKey;

/// What one theme file changes. A style it gives replaces that style wholly; what it does not give
/// stays as in the theme it patches.
#[derive(Clone, Debug)]
pub(super) struct Patch {
    /// The file, for messages.
    path: PathBuf,
    /// The top-level `extends`, if given.
    pub extends: Option<String>,
    /// The styles it gives, indexed by `StyleKey as usize`.
    pub styles: [Option<Style>; StyleKey::COUNT],
    /// `palette.branches`, if given (never empty).
    pub palette: Option<Vec<Color>>,
    /// Keys that mean nothing, as messages naming the file.
    pub warnings: Vec<String>,
}

impl Patch {
    /// Parses `text`, the contents of the file `path` (used only in messages).
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        let table: Table = toml::from_str(text).map_err(|e| {
            let (line, column) = e.span().map_or((1, 1), |span| line_column(text, span.start));
            let message = e.message().trim().replace('\n', "; ");
            ThemeError::Syntax { path: path.to_path_buf(), line, column, message }
        })?;
        let mut patch = Patch {
            path: path.to_path_buf(),
            extends: None,
            styles: [None; StyleKey::COUNT],
            palette: None,
            warnings: Vec::new(),
        };
        for (key, value) in &table {
            match key.as_str() {
                "extends" => match value {
                    Value::String(name) => patch.extends = Some(name.clone()),
                    other => {
                        return Err(patch.invalid(
                            "extends",
                            format!("expected the name of a built-in theme, found {}", describe(other)),
                        ));
                    }
                },
                "palette" => patch.read_palette(value)?,
                _ => patch.read_node(key, value)?,
            }
        }
        Ok(patch)
    }

    /// Reads the value at the dotted path `name`: a style, a group of styles, or an unknown key.
    fn read_node(&mut self, name: &str, value: &Value) -> Result<()> {
        let key = StyleKey::from_name(name);
        if key.is_none() && !StyleKey::is_group(name) {
            self.warn_unknown(name);
            return Ok(());
        }
        let Value::Table(table) = value else {
            let expected =
                if key.is_some() { r#"a style like { fg = "red", bold = true }"# } else { "a table of styles" };
            return Err(self.invalid(name, format!("expected {expected}, found {}", describe(value))));
        };
        // An empty table is a style with nothing set (`failed = {}`: plain text).
        let mut style = Style::new();
        let mut given = table.is_empty();
        for (child, value) in table {
            let path = format!("{name}.{child}");
            if key.is_some() && self.read_attribute(&mut style, child, &path, value)? {
                given = true;
            } else {
                self.read_node(&path, value)?;
            }
        }
        if let Some(key) = key.filter(|_| given) {
            self.styles[key as usize] = Some(style);
        }
        Ok(())
    }

    /// Applies the attribute `attribute` (at `path`, for messages) to `style`; `false` when it is
    /// not an attribute name.
    fn read_attribute(&self, style: &mut Style, attribute: &str, path: &str, value: &Value) -> Result<bool> {
        let modifier = match attribute {
            "fg" | "bg" => {
                let colour = colour_value(value).ok_or_else(|| {
                    self.invalid(path, format!("{} is not a colour ({COLOUR_HELP})", describe(value)))
                })?;
                *style = if attribute == "fg" { style.fg(colour) } else { style.bg(colour) };
                return Ok(true);
            }
            "bold" => Modifier::BOLD,
            "dim" => Modifier::DIM,
            "italic" => Modifier::ITALIC,
            "underline" => Modifier::UNDERLINED,
            "reversed" => Modifier::REVERSED,
            _ => return Ok(false),
        };
        match value {
            // `false` is explicit: drawn over a bold base, the text is not bold.
            Value::Boolean(on) => {
                *style = if *on { style.add_modifier(modifier) } else { style.remove_modifier(modifier) };
                Ok(true)
            }
            other => Err(self.invalid(path, format!("expected true or false, found {}", describe(other)))),
        }
    }

    /// Reads the `[palette]` table.
    fn read_palette(&mut self, value: &Value) -> Result<()> {
        let Value::Table(table) = value else {
            return Err(self.invalid("palette", format!("expected a table, found {}", describe(value))));
        };
        for (key, value) in table {
            if key != "branches" {
                self.warn_unknown(&format!("palette.{key}"));
                continue;
            }
            let Value::Array(items) = value else {
                return Err(
                    self.invalid("palette.branches", format!("expected a list of colours, found {}", describe(value)))
                );
            };
            if items.is_empty() {
                return Err(self.invalid("palette.branches", "needs at least one colour".to_owned()));
            }
            let colours = items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    colour_value(item).ok_or_else(|| {
                        self.invalid(
                            &format!("palette.branches[{i}]"),
                            format!("{} is not a colour ({COLOUR_HELP})", describe(item)),
                        )
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            self.palette = Some(colours);
        }
        Ok(())
    }

    /// Records the warning for a key that means nothing.
    fn warn_unknown(&mut self, key: &str) {
        self.warnings.push(format!("{}: unknown key {key:?} (ignored)", self.path.display()));
    }

    /// Records a warning about this file.
    pub fn warn(&mut self, message: &str) {
        self.warnings.push(format!("{}: {message}", self.path.display()));
    }

    /// An error about the value at `key` in this file.
    fn invalid(&self, key: &str, message: String) -> ThemeError {
        ThemeError::Invalid { path: self.path.clone(), key: key.to_owned(), message }
    }

    /// Whether it gives every style and the palette (a complete theme).
    #[cfg(test)]
    pub fn is_complete(&self) -> bool {
        self.styles.iter().all(Option::is_some) && self.palette.is_some()
    }
}

//! Colour syntax of theme files: a ratatui colour name, `reset`, `#rrggbb`, or an ANSI index 0–255.

use ratatui::style::Color;
use toml::Value;

/// What a colour may look like, for error messages.
pub(super) const COLOUR_HELP: &str = r##"a name like "red" or "light-blue", "#rrggbb", or 0-255"##;

/// Parses a colour written as text: a name (`light-blue`, `light_blue`, `LightBlue`; `gray` may be
/// spelt `grey`), `reset` (the terminal's default), `#rrggbb`, or an ANSI index `0`–`255`. `None`
/// when it is none of those. Public so the console can accept colours elsewhere with one syntax.
pub fn parse_colour(text: &str) -> Option<Color> {
    let text = text.trim();
    if let Some(hex) = text.strip_prefix('#') {
        if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let byte = |at: usize| u8::from_str_radix(hex.get(at..at + 2)?, 16).ok();
        return Some(Color::Rgb(byte(0)?, byte(2)?, byte(4)?));
    }
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse::<u8>().ok().map(Color::Indexed);
    }
    let name: String = text.chars().filter(|c| !matches!(c, '-' | '_')).flat_map(char::to_lowercase).collect();
    Some(match name.as_str() {
        "reset" => Color::Reset,
        "black" => Color::Black,
        "red" => Color::Red,
        "green" => Color::Green,
        "yellow" => Color::Yellow,
        "blue" => Color::Blue,
        "magenta" => Color::Magenta,
        "cyan" => Color::Cyan,
        "gray" | "grey" => Color::Gray,
        "darkgray" | "darkgrey" => Color::DarkGray,
        "lightred" => Color::LightRed,
        "lightgreen" => Color::LightGreen,
        "lightyellow" => Color::LightYellow,
        "lightblue" => Color::LightBlue,
        "lightmagenta" => Color::LightMagenta,
        "lightcyan" => Color::LightCyan,
        "white" => Color::White,
        _ => return None,
    })
}

/// A colour from a TOML value: a string as in [`parse_colour`], or an integer ANSI index.
pub(super) fn colour_value(value: &Value) -> Option<Color> {
    match value {
        Value::String(text) => parse_colour(text),
        Value::Integer(index) => u8::try_from(*index).ok().map(Color::Indexed),
        _ => None,
    }
}

/// A TOML value as a user would recognise it in a message: strings quoted, scalars as written,
/// lists and tables by kind.
pub(super) fn describe(value: &Value) -> String {
    match value {
        Value::String(text) => format!("{text:?}"),
        Value::Integer(n) => n.to_string(),
        Value::Float(x) => x.to_string(),
        Value::Boolean(b) => b.to_string(),
        Value::Datetime(d) => d.to_string(),
        Value::Array(_) => "a list".to_owned(),
        Value::Table(_) => "a table".to_owned(),
    }
}

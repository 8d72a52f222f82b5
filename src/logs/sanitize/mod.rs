//! TEMPORARY stand-in for the log sanitizer (replaced by the real module): drops every control
//! character and escape byte, keeps no styling.

/// A colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Color {
    /// Indexed.
    Indexed(u8),
    /// RGB.
    Rgb(u8, u8, u8),
}

/// Styling.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Style {
    /// Foreground.
    pub fg: Option<Color>,
    /// Background.
    pub bg: Option<Color>,
    /// Bold.
    pub bold: bool,
    /// Dim.
    pub dim: bool,
    /// Italic.
    pub italic: bool,
    /// Underline.
    pub underline: bool,
    /// Reverse.
    pub reverse: bool,
    /// Strikethrough.
    pub strikethrough: bool,
}

/// A styled run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Span {
    /// Text.
    pub text: String,
    /// Style.
    pub style: Style,
}

/// A safe line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SafeLine {
    /// Spans.
    pub spans: Vec<Span>,
}

impl SafeLine {
    /// Plain text.
    pub fn plain(&self) -> String {
        self.spans.iter().map(|s| s.text.as_str()).collect()
    }
    /// Width.
    pub fn width(&self) -> usize {
        self.plain().chars().count()
    }
    /// ANSI.
    pub fn to_ansi(&self) -> String {
        self.plain()
    }
}

/// Sanitises a line.
pub fn sanitize_line(input: &[u8], _state: &mut Style) -> SafeLine {
    SafeLine { spans: vec![Span { text: strip(input), style: Style::default() }] }
}

/// Plain text only.
pub fn strip(input: &[u8]) -> String {
    String::from_utf8_lossy(input).chars().filter(|c| !c.is_control() || *c == '\t').collect()
}

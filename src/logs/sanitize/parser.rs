//! The escape-sequence state machine (after ECMA-48 and the vt100.net DEC parser): every control
//! function is recognised and consumed — in 7-bit (`ESC [`) and 8-bit (C1) forms — so that nothing
//! but printable text and our own re-encoded SGR can ever reach a terminal.

use super::style::Style;
use super::width::char_width;
use super::{MAX_LINE_BYTES, SafeLine, Span};

/// Where the parser is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Ground,
    Escape,
    EscapeIntermediate,
    Csi,
    /// A CSI that will be dropped whatever it is (too many parameters, a control inside it).
    CsiIgnore,
    Osc,
    /// `ESC` seen inside an OSC: `\` ends it, anything else starts a new escape.
    OscEscape,
    /// DCS, SOS, PM, APC: dropped up to their string terminator.
    StringIgnore,
    StringEscape,
}

const MAX_CSI_PARAMS: usize = 32;

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}')
}

struct Builder {
    spans: Vec<Span>,
    column: usize,
    bytes: usize,
    truncated: bool,
}

impl Builder {
    fn push(&mut self, c: char, style: Style) {
        if self.truncated {
            return;
        }
        if self.bytes + c.len_utf8() > MAX_LINE_BYTES {
            self.truncated = true;
            self.push_raw('…', style);
            return;
        }
        self.push_raw(c, style);
    }

    fn push_raw(&mut self, c: char, style: Style) {
        self.bytes += c.len_utf8();
        self.column += char_width(c);
        match self.spans.last_mut() {
            Some(last) if last.style == style => last.text.push(c),
            _ => self.spans.push(Span { text: c.to_string(), style }),
        }
    }
}

/// Sanitises one line; `style` carries SGR state across lines of the same stream.
pub fn sanitize(input: &[u8], style: &mut Style) -> SafeLine {
    let text = String::from_utf8_lossy(input);
    let mut text: &str = &text;
    // A CRLF line ending is a line ending, not a carriage return inside the line.
    if let Some(t) = text.strip_suffix('\r') {
        text = t;
    }
    let mut b = Builder { spans: Vec::new(), column: 0, bytes: 0, truncated: false };
    let mut state = State::Ground;
    let mut params = String::new();
    let mut param_count = 0usize;
    let mut intermediate = false;
    for c in text.chars() {
        if b.truncated {
            break;
        }
        let next = match state {
            State::Ground => ground(c, &mut b, style),
            State::Escape => escape(c),
            State::EscapeIntermediate => match c {
                '\u{20}'..='\u{2F}' => State::EscapeIntermediate,
                '\u{1b}' => State::Escape,
                _ => State::Ground,
            },
            State::Csi => match c {
                '0'..='9' | ';' | ':' | '<' | '=' | '>' | '?' => {
                    if c == ';' || c == ':' {
                        param_count += 1;
                    }
                    params.push(c);
                    if param_count > MAX_CSI_PARAMS { State::CsiIgnore } else { State::Csi }
                }
                '\u{20}'..='\u{2F}' => {
                    intermediate = true;
                    State::Csi
                }
                '\u{40}'..='\u{7E}' => {
                    let private = params.starts_with(['<', '=', '>', '?']);
                    if c == 'm' && !private && !intermediate {
                        style.apply_sgr(&params);
                    }
                    State::Ground
                }
                '\u{1b}' => State::Escape,
                _ => State::CsiIgnore,
            },
            State::CsiIgnore => match c {
                '\u{40}'..='\u{7E}' => State::Ground,
                '\u{1b}' => State::Escape,
                _ => State::CsiIgnore,
            },
            State::Osc => match c {
                '\u{07}' | '\u{9c}' => State::Ground,
                '\u{1b}' => State::OscEscape,
                _ => State::Osc,
            },
            State::OscEscape => {
                if c == '\\' {
                    State::Ground
                } else {
                    escape(c)
                }
            }
            State::StringIgnore => match c {
                '\u{07}' | '\u{9c}' => State::Ground,
                '\u{1b}' => State::StringEscape,
                _ => State::StringIgnore,
            },
            State::StringEscape => {
                if c == '\\' {
                    State::Ground
                } else {
                    escape(c)
                }
            }
        };
        if next == State::Csi && state != State::Csi {
            // A new control sequence starts with no parameters.
            params.clear();
            param_count = 0;
            intermediate = false;
        }
        state = next;
    }
    // An unterminated sequence at the end of the line is dropped; strings never span lines.
    SafeLine { spans: b.spans }
}

/// Ground state: printable text goes out, everything else is consumed.
fn ground(c: char, b: &mut Builder, style: &Style) -> State {
    match c {
        '\u{1b}' => State::Escape,
        '\u{9b}' => State::Csi,
        '\u{9d}' => State::Osc,
        '\u{90}' | '\u{98}' | '\u{9e}' | '\u{9f}' => State::StringIgnore,
        '\t' => {
            let spaces = 8 - b.column % 8;
            for _ in 0..spaces {
                b.push(' ', *style);
            }
            State::Ground
        }
        // Every other C0 control (CR, BS, BEL, NUL, …), DEL and the C1 controls are dropped.
        '\u{00}'..='\u{1f}' | '\u{7f}'..='\u{9f}' => State::Ground,
        c if is_bidi_control(c) => {
            b.push('\u{FFFD}', *style);
            State::Ground
        }
        c if is_invisible(c) => State::Ground,
        c => {
            b.push(c, *style);
            State::Ground
        }
    }
}

/// After `ESC`.
fn escape(c: char) -> State {
    match c {
        '[' => State::Csi,
        ']' => State::Osc,
        'P' | 'X' | '^' | '_' => State::StringIgnore,
        '\u{1b}' => State::Escape,
        '\u{20}'..='\u{2F}' => State::EscapeIntermediate,
        // Any final character (ESC c, ESC 7, ESC =, …) ends a two-character sequence: dropped.
        _ => State::Ground,
    }
}

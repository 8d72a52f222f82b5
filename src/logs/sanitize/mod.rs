//! Log text is untrusted: a pod can print anything, including escape sequences that would move the
//! cursor, rewrite the screen, set the window title or the clipboard (OSC 52), make hyperlinks,
//! switch character sets, query the terminal (and have the reply typed into the shell), ring the
//! bell, or hide text. This module turns a raw log line into text that is safe to print or render:
//!
//! - every control function (ECMA-48: CSI, OSC, DCS, SOS, PM, APC, two-character escapes, in 7-bit
//!   and 8-bit C1 form) is recognised and **consumed**; unterminated ones at the end of the line are
//!   dropped and never carried into the next line;
//! - only SGR (colours, bold, dim, italic, underline, reverse, strikethrough) survives, **as a
//!   structure** ([`Style`]); output for a terminal is re-encoded from it ([`SafeLine::to_ansi`]),
//!   never copied from the input. Blink and conceal are ignored (hidden text would let a pod hide
//!   content from the operator);
//! - the hyperlink OSC 8 is dropped with its URL; the link's text stays as plain text;
//! - C0 controls other than tab (CR, BS, BEL, NUL, …), DEL and C1 controls are dropped. A bare CR
//!   (progress bars) is dropped and **all** the text is kept: on a terminal a later part would
//!   overwrite an earlier one and could hide an error from the operator; here nothing is hidden;
//! - tabs become spaces up to the next multiple of 8 columns;
//! - bidirectional controls (U+202A–E, U+2066–9, U+200E/F, U+061C: "Trojan source" reordering)
//!   become U+FFFD, visibly; zero-width characters (U+200B–D, U+2060, U+FEFF, U+00AD) are dropped;
//! - invalid UTF-8 becomes U+FFFD; a line longer than 64 KiB of output is cut with `…`;
//!   a CSI with more than 32 parameters is dropped whole.

mod parser;
mod style;
mod width;

pub use style::{Color, Style};
pub use width::char_width;

/// Most output bytes a sanitised line may have.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// A run of text with one style.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Span {
    /// The text (printable characters only).
    pub text: String,
    /// Its style.
    pub style: Style,
}

/// One sanitised log line: printable characters only, in styled spans.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SafeLine {
    /// The spans, adjacent ones always differently styled.
    pub spans: Vec<Span>,
}

impl SafeLine {
    /// The text without styling.
    pub fn plain(&self) -> String {
        self.spans.iter().map(|s| s.text.as_str()).collect()
    }

    /// Display columns (wide characters count two, combining marks zero).
    pub fn width(&self) -> usize {
        self.spans.iter().flat_map(|s| s.text.chars()).map(char_width).sum()
    }

    /// The line for a terminal: the text with only the SGR sequences this module builds from
    /// [`Style`], ending with a reset when anything was styled.
    pub fn to_ansi(&self) -> String {
        let mut out = String::new();
        let mut styled = false;
        for span in &self.spans {
            if span.style.is_plain() {
                if styled {
                    out.push_str("\u{1b}[0m");
                    styled = false;
                }
            } else {
                out.push_str(&span.style.to_sgr());
                styled = true;
            }
            out.push_str(&span.text);
        }
        if styled {
            out.push_str("\u{1b}[0m");
        }
        out
    }
}

/// Sanitises one line of a log (the caller splits on `\n`; a trailing `\r` of CRLF is removed).
/// `state` carries the SGR style across lines of the same stream, as a terminal would.
pub fn sanitize_line(input: &[u8], state: &mut Style) -> SafeLine {
    parser::sanitize(input, state)
}

/// Plain text only (for JSON output, search and files): sanitised, without styling.
pub fn strip(input: &[u8]) -> String {
    parser::sanitize(input, &mut Style::default()).plain()
}

#[cfg(test)]
mod tests;

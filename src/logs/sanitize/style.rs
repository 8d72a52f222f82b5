//! Styling that survives sanitising: the SGR attributes a log may use for colour, parsed into a
//! structure and re-encoded by us — never bytes copied from the input.

/// A colour as SGR can express it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Color {
    /// One of the 256 indexed colours (0–15 are the basic and bright ones).
    Indexed(u8),
    /// A 24-bit colour.
    Rgb(u8, u8, u8),
}

/// Styling from SGR sequences. Blink and conceal are deliberately absent: blinking text is noise
/// and concealed text would let a pod hide content from the operator.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Style {
    /// Foreground.
    pub fg: Option<Color>,
    /// Background.
    pub bg: Option<Color>,
    /// Bold.
    pub bold: bool,
    /// Dim (faint).
    pub dim: bool,
    /// Italic.
    pub italic: bool,
    /// Underline.
    pub underline: bool,
    /// Reverse video.
    pub reverse: bool,
    /// Strikethrough.
    pub strikethrough: bool,
}

impl Style {
    /// Whether it styles anything.
    pub fn is_plain(&self) -> bool {
        *self == Style::default()
    }

    /// Applies an SGR parameter list (groups separated by `;`, sub-parameters by `:`).
    pub fn apply_sgr(&mut self, params: &str) {
        let groups: Vec<&str> = params.split(';').collect();
        let mut i = 0;
        while i < groups.len() {
            let group = groups[i];
            let mut sub = group.split(':');
            let code: u32 =
                sub.next().and_then(|c| if c.is_empty() { Some(0) } else { c.parse().ok() }).unwrap_or(u32::MAX);
            let subs: Vec<&str> = sub.collect();
            match code {
                0 => *self = Style::default(),
                1 => self.bold = true,
                2 => self.dim = true,
                3 => self.italic = true,
                4 => self.underline = subs.first().is_none_or(|s| *s != "0"),
                7 => self.reverse = true,
                9 => self.strikethrough = true,
                21 => self.underline = true,
                22 => {
                    self.bold = false;
                    self.dim = false;
                }
                23 => self.italic = false,
                24 => self.underline = false,
                27 => self.reverse = false,
                29 => self.strikethrough = false,
                30..=37 => self.fg = Some(Color::Indexed((code - 30) as u8)),
                39 => self.fg = None,
                40..=47 => self.bg = Some(Color::Indexed((code - 40) as u8)),
                49 => self.bg = None,
                90..=97 => self.fg = Some(Color::Indexed((code - 90 + 8) as u8)),
                100..=107 => self.bg = Some(Color::Indexed((code - 100 + 8) as u8)),
                38 | 48 => {
                    let colour = if subs.is_empty() {
                        // `38;5;n` / `38;2;r;g;b`: the colour takes the following groups.
                        let (c, used) = extended(&groups[i + 1..]);
                        i += used;
                        c
                    } else {
                        // `38:5:n` / `38:2::r:g:b` / `38:2:r:g:b`.
                        extended_sub(&subs)
                    };
                    if let Some(c) = colour {
                        if code == 38 {
                            self.fg = Some(c);
                        } else {
                            self.bg = Some(c);
                        }
                    }
                }
                // Blink (5, 6), conceal (8), reveal (28) and everything else: ignored.
                _ => {}
            }
            i += 1;
        }
    }

    /// The SGR sequence that sets exactly this style from a reset, e.g. `ESC[0;1;38;5;208m`.
    pub fn to_sgr(&self) -> String {
        let mut codes: Vec<String> = vec!["0".into()];
        for (on, code) in [
            (self.bold, "1"),
            (self.dim, "2"),
            (self.italic, "3"),
            (self.underline, "4"),
            (self.reverse, "7"),
            (self.strikethrough, "9"),
        ] {
            if on {
                codes.push(code.into());
            }
        }
        for (colour, base) in [(self.fg, 38), (self.bg, 48)] {
            match colour {
                Some(Color::Indexed(n)) => codes.push(format!("{base};5;{n}")),
                Some(Color::Rgb(r, g, b)) => codes.push(format!("{base};2;{r};{g};{b}")),
                None => {}
            }
        }
        format!("\u{1b}[{}m", codes.join(";"))
    }
}

fn byte(s: &str) -> Option<u8> {
    s.parse::<u16>().ok().and_then(|v| u8::try_from(v).ok())
}

/// `5;n` or `2;r;g;b` after a `38`/`48` group; returns the colour and how many groups it used.
fn extended(rest: &[&str]) -> (Option<Color>, usize) {
    match rest.first().copied() {
        Some("5") => (rest.get(1).and_then(|n| byte(n)).map(Color::Indexed), 2.min(rest.len())),
        Some("2") => {
            let rgb: Option<Vec<u8>> = rest.get(1..4).map(|v| v.iter().filter_map(|c| byte(c)).collect());
            match rgb {
                Some(v) if v.len() == 3 => (Some(Color::Rgb(v[0], v[1], v[2])), 4),
                _ => (None, rest.len().min(4)),
            }
        }
        _ => (None, 0),
    }
}

/// The colon form's sub-parameters after `38`/`48`.
fn extended_sub(subs: &[&str]) -> Option<Color> {
    match subs.first().copied() {
        Some("5") => subs.get(1).and_then(|n| byte(n)).map(Color::Indexed),
        Some("2") => {
            // `2:r:g:b`, or with an (empty) colour-space id: `2::r:g:b` / `2:id:r:g:b`.
            let v: Vec<&str> = subs[1..].to_vec();
            let rgb = if v.len() >= 4 { &v[v.len() - 3..] } else { &v[..] };
            match rgb {
                [r, g, b] => Some(Color::Rgb(byte(r)?, byte(g)?, byte(b)?)),
                _ => None,
            }
        }
        _ => None,
    }
}

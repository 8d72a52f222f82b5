//! Shell pattern matching (`*`, `?`, `[...]`, backslash escapes) for `case` and the
//! `${x#pat}` family. Quoted characters reach here escaped with a backslash.

#[derive(Debug)]
enum Tok {
    Char(char),
    Any,
    Star,
    Class { negated: bool, items: Vec<Item> },
}

#[derive(Debug)]
enum Item {
    Char(char),
    Range(char, char),
    Named(String),
}

fn compile(p: &[char]) -> Vec<Tok> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < p.len() {
        match p[i] {
            '\\' if i + 1 < p.len() => {
                out.push(Tok::Char(p[i + 1]));
                i += 2;
            }
            '*' => {
                if !matches!(out.last(), Some(Tok::Star)) {
                    out.push(Tok::Star);
                }
                i += 1;
            }
            '?' => {
                out.push(Tok::Any);
                i += 1;
            }
            '[' => match bracket(p, i + 1) {
                Some((tok, next)) => {
                    out.push(tok);
                    i = next;
                }
                None => {
                    out.push(Tok::Char('['));
                    i += 1;
                }
            },
            c => {
                out.push(Tok::Char(c));
                i += 1;
            }
        }
    }
    out
}

/// Parses a bracket expression starting after `[`; None if it has no closing `]`.
fn bracket(p: &[char], mut i: usize) -> Option<(Tok, usize)> {
    let mut negated = false;
    if i < p.len() && (p[i] == '!' || p[i] == '^') {
        negated = true;
        i += 1;
    }
    let mut items = Vec::new();
    let mut first = true;
    loop {
        let c = *p.get(i)?;
        if c == ']' && !first {
            return Some((Tok::Class { negated, items }, i + 1));
        }
        first = false;
        if c == '[' && p.get(i + 1) == Some(&':') {
            // [:name:]
            let rest = &p[i + 2..];
            if let Some(end) = rest.windows(2).position(|w| w == [':', ']']) {
                items.push(Item::Named(rest[..end].iter().collect()));
                i += 2 + end + 2;
                continue;
            }
        }
        let (lo, next) = if c == '\\' && i + 1 < p.len() { (p[i + 1], i + 2) } else { (c, i + 1) };
        if p.get(next) == Some(&'-') && p.get(next + 1).is_some_and(|&c| c != ']') {
            let (hi, after) = if p[next + 1] == '\\' && next + 2 < p.len() {
                (p[next + 2], next + 3)
            } else {
                (p[next + 1], next + 2)
            };
            items.push(Item::Range(lo, hi));
            i = after;
        } else {
            items.push(Item::Char(lo));
            i = next;
        }
    }
}

fn class_has(name: &str, c: char) -> bool {
    match name {
        "alpha" => c.is_ascii_alphabetic(),
        "digit" => c.is_ascii_digit(),
        "alnum" => c.is_ascii_alphanumeric(),
        "upper" => c.is_ascii_uppercase(),
        "lower" => c.is_ascii_lowercase(),
        "space" => c.is_ascii_whitespace() || c == '\x0b',
        "blank" => c == ' ' || c == '\t',
        "punct" => c.is_ascii_punctuation(),
        "xdigit" => c.is_ascii_hexdigit(),
        "cntrl" => c.is_ascii_control(),
        "print" => (' '..='~').contains(&c),
        "graph" => ('!'..='~').contains(&c),
        _ => false,
    }
}

fn single(t: &Tok, c: char) -> bool {
    match t {
        Tok::Char(x) => *x == c,
        Tok::Any => true,
        Tok::Star => false,
        Tok::Class { negated, items } => {
            let hit = items.iter().any(|it| match it {
                Item::Char(x) => *x == c,
                Item::Range(lo, hi) => *lo <= c && c <= *hi,
                Item::Named(n) => class_has(n, c),
            });
            hit != *negated
        }
    }
}

/// A compiled pattern, reusable against many strings.
pub(super) struct Pattern(Vec<Tok>);

impl Pattern {
    /// Compiles pattern text (backslash escapes make the next character literal).
    pub(super) fn new(pattern: &str) -> Pattern {
        let chars: Vec<char> = pattern.chars().collect();
        Pattern(compile(&chars))
    }

    /// Whether the whole of `text` matches.
    pub(super) fn matches(&self, text: &str) -> bool {
        let toks = &self.0;
        let s: Vec<char> = text.chars().collect();
        let (mut ti, mut si) = (0usize, 0usize);
        let mut star: Option<(usize, usize)> = None;
        loop {
            if ti < toks.len() {
                if let Tok::Star = toks[ti] {
                    star = Some((ti, si));
                    ti += 1;
                    continue;
                }
                if si < s.len() && single(&toks[ti], s[si]) {
                    ti += 1;
                    si += 1;
                    continue;
                }
            } else if si == s.len() {
                return true;
            }
            match star {
                Some((st, ss)) if ss < s.len() => {
                    star = Some((st, ss + 1));
                    ti = st + 1;
                    si = ss + 1;
                }
                _ => return false,
            }
        }
    }
}

/// Whether `text` matches `pattern` as a whole.
pub(super) fn matches(pattern: &str, text: &str) -> bool {
    Pattern::new(pattern).matches(text)
}

/// Escapes pattern-special characters so that text matches itself literally.
pub(super) fn push_escaped(out: &mut String, text: &str) {
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\' | '!' | '^' | '-') {
            out.push('\\');
        }
        out.push(c);
    }
}

//! The `printf` builtin, following dash: C-style directives over shell words, the format reused
//! while arguments remain, and dash's warnings and errors.

use std::borrow::Cow;

use super::Host;
use super::arith::{strtoimax, strtoumax};
use super::exec::Shell;

fn is_octal(b: u8) -> bool {
    (b'0'..=b'7').contains(&b)
}

/// The one-letter escapes shared by `printf` and `echo -e` (`\\n`, `\\t`, …): the byte they stand for.
pub(super) fn simple_escape(c: u8) -> Option<u8> {
    Some(match c {
        b'\\' => b'\\',
        b'a' => 7,
        b'b' => 8,
        b'e' => 27,
        b'f' => 12,
        b'n' => b'\n',
        b'r' => b'\r',
        b't' => b'\t',
        b'v' => 11,
        _ => return None,
    })
}

/// dash printf's `conv_escape`: the escape starting at `s[i]` (after the backslash).
fn conv_escape(s: &[u8], i: usize) -> (u8, usize) {
    match s.get(i).copied() {
        Some(c) if let Some(v) = simple_escape(c) => (v, i + 1),
        Some(d) if is_octal(d) => {
            let mut value: u32 = 0;
            let mut j = i;
            while j < s.len() && j < i + 3 && is_octal(s[j]) {
                value = value * 8 + u32::from(s[j] - b'0');
                j += 1;
            }
            (value as u8, j)
        }
        _ => (b'\\', i),
    }
}

/// dash printf's `%b` argument decoding; the flag is true when `\c` stops all output.
fn conv_escape_str(s: &[u8]) -> (Vec<u8>, bool) {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let ch = s[i];
        i += 1;
        if ch != b'\\' {
            out.push(ch);
            continue;
        }
        match s.get(i) {
            None => {
                out.push(b'\\');
                break;
            }
            Some(b'c') => return (out, true),
            Some(b'0') if s.get(i + 1).is_some_and(|&d| is_octal(d)) => i += 1,
            _ => {}
        }
        let (v, next) = conv_escape(s, i);
        out.push(v);
        i = next;
    }
    (out, false)
}

#[derive(Default, Clone, Copy)]
struct Spec {
    minus: bool,
    zero: bool,
    plus: bool,
    space: bool,
    hash: bool,
    width: Option<i64>,
    prec: Option<i64>,
}

impl Spec {
    fn normalize(mut self) -> Spec {
        if let Some(w) = self.width
            && w < 0
        {
            self.minus = true;
            self.width = Some(w.saturating_neg());
        }
        if self.prec.is_some_and(|p| p < 0) {
            self.prec = None;
        }
        self
    }

    fn width(&self) -> usize {
        self.width.map(|w| w.clamp(0, 1 << 20) as usize).unwrap_or(0)
    }
}

fn pad_str(out: &mut Vec<u8>, s: &[u8], spec: Spec) {
    let s = match spec.prec {
        Some(p) => &s[..s.len().min(p.clamp(0, 1 << 20) as usize)],
        None => s,
    };
    let w = spec.width();
    let pad = w.saturating_sub(s.len());
    if !spec.minus {
        out.extend(std::iter::repeat_n(b' ', pad));
    }
    out.extend_from_slice(s);
    if spec.minus {
        out.extend(std::iter::repeat_n(b' ', pad));
    }
}

/// Applies a C integer precision (minimum digits; precision 0 prints nothing for 0).
fn apply_prec(digits: String, prec: Option<i64>) -> String {
    match prec {
        Some(p) => {
            let p = p.clamp(0, 1 << 20) as usize;
            if p == 0 && digits == "0" {
                String::new()
            } else if digits.len() < p {
                format!("{}{}", "0".repeat(p - digits.len()), digits)
            } else {
                digits
            }
        }
        None => digits,
    }
}

/// Pads a number whose digits already have the precision applied.
fn pad_num(out: &mut Vec<u8>, prefix: &str, digits: &str, spec: Spec) {
    let len = prefix.len() + digits.len();
    let pad = spec.width().saturating_sub(len);
    if spec.minus {
        out.extend_from_slice(prefix.as_bytes());
        out.extend_from_slice(digits.as_bytes());
        out.extend(std::iter::repeat_n(b' ', pad));
    } else if spec.zero && spec.prec.is_none() {
        out.extend_from_slice(prefix.as_bytes());
        out.extend(std::iter::repeat_n(b'0', pad));
        out.extend_from_slice(digits.as_bytes());
    } else {
        out.extend(std::iter::repeat_n(b' ', pad));
        out.extend_from_slice(prefix.as_bytes());
        out.extend_from_slice(digits.as_bytes());
    }
}

/// Arguments consumed by printf's directives.
struct PArgs<'x, 'y> {
    args: &'x [Cow<'y, str>],
    next: usize,
    warnings: Vec<String>,
}

impl PArgs<'_, '_> {
    fn take(&mut self) -> Option<&str> {
        let a = self.args.get(self.next)?;
        self.next += 1;
        Some(a)
    }

    fn check(&mut self, s: &str, end: usize, range: bool) {
        if end < s.len() {
            if end == 0 {
                self.warnings.push(format!("printf: {s}: expected numeric value"));
            } else {
                self.warnings.push(format!("printf: {s}: not completely converted"));
            }
        } else if range {
            self.warnings.push(format!("printf: {s}: Numerical result out of range"));
        }
    }

    fn int(&mut self) -> i64 {
        let Some(s) = self.take() else { return 0 };
        let s = s.to_string();
        let b = s.as_bytes();
        if matches!(b.first(), Some(b'"' | b'\'')) {
            return b.get(1).map(|&c| i64::from(c)).unwrap_or(0);
        }
        let (v, end, range) = strtoimax(&s, true);
        self.check(&s, end, range);
        v
    }

    fn uint(&mut self) -> u64 {
        let Some(s) = self.take() else { return 0 };
        let s = s.to_string();
        let b = s.as_bytes();
        if matches!(b.first(), Some(b'"' | b'\'')) {
            return b.get(1).map(|&c| u64::from(c)).unwrap_or(0);
        }
        let (v, end, range) = strtoumax(&s, true);
        self.check(&s, end, range);
        v
    }
}

impl<H: Host> Shell<'_, H> {
    /// Runs `printf`; returns its status.
    pub(super) fn printf(&mut self, args: &[Cow<'_, str>]) -> i32 {
        let mut args = args;
        if let Some(first) = args.first() {
            if first == "--" {
                args = &args[1..];
            } else if first.len() > 1 && first.starts_with('-') {
                let c = first[1..].chars().next().unwrap_or('-');
                self.error(&format!("printf: Illegal option -{c}"));
                return 2;
            }
        }
        let Some(format) = args.first() else {
            self.error("printf: usage: printf format [arg ...]");
            return 2;
        };
        let fmt = format.as_bytes();
        let mut pa = PArgs { args: &args[1..], next: 0, warnings: Vec::new() };
        let mut out: Vec<u8> = Vec::new();
        let mut fatal: Option<String> = None;
        'outer: loop {
            let mut i = 0;
            while i < fmt.len() {
                let ch = fmt[i];
                i += 1;
                if ch == b'\\' {
                    let (c, next) = conv_escape(fmt, i);
                    out.push(c);
                    i = next;
                    continue;
                }
                if ch != b'%' {
                    out.push(ch);
                    continue;
                }
                if fmt.get(i) == Some(&b'%') {
                    out.push(b'%');
                    i += 1;
                    continue;
                }
                let start = i - 1;
                let mut spec = Spec::default();
                while let Some(&f) = fmt.get(i) {
                    match f {
                        b'#' => spec.hash = true,
                        b'-' => spec.minus = true,
                        b'+' => spec.plus = true,
                        b' ' => spec.space = true,
                        b'0' => spec.zero = true,
                        _ => break,
                    }
                    i += 1;
                }
                if fmt.get(i) == Some(&b'*') {
                    i += 1;
                    spec.width = Some(pa.int());
                } else {
                    let s = i;
                    while fmt.get(i).is_some_and(|c| c.is_ascii_digit()) {
                        i += 1;
                    }
                    if i > s {
                        spec.width = std::str::from_utf8(&fmt[s..i]).ok().and_then(|t| t.parse().ok());
                    }
                }
                if fmt.get(i) == Some(&b'.') {
                    i += 1;
                    if fmt.get(i) == Some(&b'*') {
                        i += 1;
                        spec.prec = Some(pa.int());
                    } else {
                        let s = i;
                        while fmt.get(i).is_some_and(|c| c.is_ascii_digit()) {
                            i += 1;
                        }
                        spec.prec =
                            Some(std::str::from_utf8(&fmt[s..i]).ok().and_then(|t| t.parse().ok()).unwrap_or(0));
                    }
                }
                let spec = spec.normalize();
                let Some(&conv) = fmt.get(i) else {
                    fatal = Some("printf: missing format character".to_string());
                    break 'outer;
                };
                i += 1;
                match conv {
                    b'b' => {
                        let s = pa.take().unwrap_or("").to_string();
                        let (mut bytes, stop) = conv_escape_str(s.as_bytes());
                        if let Some(nul) = bytes.iter().position(|&c| c == 0) {
                            bytes.truncate(nul);
                        }
                        pad_str(&mut out, &bytes, spec);
                        if stop {
                            break 'outer;
                        }
                    }
                    b'c' => {
                        let c = pa.take().and_then(|s| s.bytes().next()).unwrap_or(0);
                        pad_str(&mut out, &[c], Spec { prec: None, ..spec });
                    }
                    b's' => {
                        let s = pa.take().unwrap_or("").to_string();
                        pad_str(&mut out, s.as_bytes(), spec);
                    }
                    b'd' | b'i' => {
                        let v = pa.int();
                        let sign = if v < 0 {
                            "-"
                        } else if spec.plus {
                            "+"
                        } else if spec.space {
                            " "
                        } else {
                            ""
                        };
                        let digits = apply_prec(v.unsigned_abs().to_string(), spec.prec);
                        pad_num(&mut out, sign, &digits, spec);
                    }
                    b'o' | b'u' | b'x' | b'X' => {
                        let v = pa.uint();
                        let mut digits = match conv {
                            b'o' => format!("{v:o}"),
                            b'u' => v.to_string(),
                            b'x' => format!("{v:x}"),
                            _ => format!("{v:X}"),
                        };
                        digits = apply_prec(digits, spec.prec);
                        let mut prefix = "";
                        if spec.hash {
                            match conv {
                                b'o' if !digits.starts_with('0') => digits.insert(0, '0'),
                                b'x' if v != 0 => prefix = "0x",
                                b'X' if v != 0 => prefix = "0X",
                                _ => {}
                            }
                        }
                        pad_num(&mut out, prefix, &digits, spec);
                    }
                    b'a' | b'A' | b'e' | b'E' | b'f' | b'F' | b'g' | b'G' => {
                        let d = String::from_utf8_lossy(&fmt[start..i]).into_owned();
                        fatal = Some(format!(
                            "printf: {d}: floating-point formats are not supported by the tlc simulated shell"
                        ));
                        break 'outer;
                    }
                    _ => {
                        let d = String::from_utf8_lossy(&fmt[start..i]).into_owned();
                        fatal = Some(format!("printf: {d}: invalid directive"));
                        break 'outer;
                    }
                }
            }
            if pa.next == 0 || pa.next >= pa.args.len() {
                break;
            }
        }
        let warnings = std::mem::take(&mut pa.warnings);
        let mut status = 0;
        for w in &warnings {
            self.error(w);
            status = 1;
        }
        if let Some(f) = fatal {
            self.error(&f);
            status = 2;
        }
        self.buf.clear();
        self.buf.extend_from_slice(&out);
        self.flush_buf(1);
        status
    }
}

//! The builtin commands of the subset and their dispatch. `echo` behaves like busybox's (`-n`,
//! `-e`, `-E`); the special builtins (`exit`, `set`, `export`, ...) like dash's; `sleep` and `cat`
//! like the coreutils programs a dash-based image would run. `printf` and `test` have their own
//! files.

use std::borrow::Cow;

use super::arith::atomax;
use super::exec::{Flow, Shell, Unwind};
use super::parser::name_part;
use super::{Host, set_named_option};

/// The builtin commands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Builtin {
    Colon,
    True,
    False,
    Echo,
    Printf,
    Test,
    Bracket,
    Sleep,
    Cat,
    Exit,
    Export,
    Unset,
    Set,
    Shift,
    Break,
    Continue,
}

/// Directories whose utilities map to the builtins when named by path (`/bin/echo`).
const BIN_DIRS: &[&str] = &["/bin", "/usr/bin", "/usr/local/bin", "/sbin", "/usr/sbin"];

impl Builtin {
    /// The builtin a command name runs, if any.
    pub(super) fn lookup(name: &str) -> Option<Builtin> {
        let name = match name.rfind('/') {
            Some(i) => {
                let (dir, base) = (&name[..i], &name[i + 1..]);
                let external = matches!(base, "echo" | "printf" | "sleep" | "cat" | "true" | "false" | "test" | "[");
                if !BIN_DIRS.contains(&dir) || !external {
                    return None;
                }
                base
            }
            None => name,
        };
        Some(match name {
            ":" => Builtin::Colon,
            "true" => Builtin::True,
            "false" => Builtin::False,
            "echo" => Builtin::Echo,
            "printf" => Builtin::Printf,
            "test" => Builtin::Test,
            "[" => Builtin::Bracket,
            "sleep" => Builtin::Sleep,
            "cat" => Builtin::Cat,
            "exit" => Builtin::Exit,
            "export" => Builtin::Export,
            "unset" => Builtin::Unset,
            "set" => Builtin::Set,
            "shift" => Builtin::Shift,
            "break" => Builtin::Break,
            "continue" => Builtin::Continue,
            _ => return None,
        })
    }

    /// POSIX special builtins: their assignments persist and their errors exit the shell.
    pub(super) fn is_special(self) -> bool {
        matches!(
            self,
            Builtin::Colon
                | Builtin::Exit
                | Builtin::Export
                | Builtin::Unset
                | Builtin::Set
                | Builtin::Shift
                | Builtin::Break
                | Builtin::Continue
        )
    }
}

/// Parses `sleep` operands (coreutils rules: NUMBER[smhd], summed); Err is the full message.
pub(super) fn parse_sleep(args: &[Cow<'_, str>]) -> Result<f64, String> {
    const TRY: &str = "Try 'sleep --help' for more information.\n";
    let mut args = args;
    if let Some(a) = args.first() {
        if a == "--" {
            args = &args[1..];
        } else if let Some(rest) = a.strip_prefix("--") {
            let _ = rest;
            return Err(format!("sleep: unrecognized option '{a}'\n{TRY}"));
        } else if a.len() > 1 && a.starts_with('-') {
            let c = a[1..].chars().next().unwrap_or('-');
            return Err(format!("sleep: invalid option -- '{c}'\n{TRY}"));
        }
    }
    if args.is_empty() {
        return Err(format!("sleep: missing operand\n{TRY}"));
    }
    let mut total = 0.0;
    let mut errors = String::new();
    for a in args {
        match parse_interval(a) {
            Some(s) => total += s,
            None => errors.push_str(&format!("sleep: invalid time interval '{a}'\n")),
        }
    }
    if errors.is_empty() {
        Ok(total)
    } else {
        errors.push_str(TRY);
        Err(errors)
    }
}

fn parse_interval(s: &str) -> Option<f64> {
    let t = s.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
    let (num, suffix) = {
        let b = t.as_bytes();
        let mut i = 0;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        let lower = t[i..].to_ascii_lowercase();
        if lower.starts_with("infinity") {
            i += 8;
        } else if lower.starts_with("inf") {
            i += 3;
        } else {
            let digits_start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            let mut any = i > digits_start;
            if i < b.len() && b[i] == b'.' {
                i += 1;
                let f = i;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                any |= i > f;
            }
            if !any {
                return None;
            }
            if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
                let mut j = i + 1;
                if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
                    j += 1;
                }
                let e = j;
                while j < b.len() && b[j].is_ascii_digit() {
                    j += 1;
                }
                if j > e {
                    i = j;
                }
            }
        }
        (&t[..i], &t[i..])
    };
    let v: f64 = num.parse().ok()?;
    let mult = match suffix {
        "" | "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        "d" => 86400.0,
        _ => return None,
    };
    if v.is_nan() || v < 0.0 {
        return None;
    }
    Some(v * mult)
}

/// busybox `bb_process_escape_sequence`: decodes the escape after a backslash; returns the byte
/// and how many input bytes it used (0: not an escape, print the backslash itself).
fn bb_escape(q: &[u8]) -> (u8, usize) {
    let mut num_digits = 0u32;
    let mut n: u32 = 0;
    let mut base = 8u32;
    let mut k = 0usize;
    if q.first() == Some(&b'x') {
        k = 1;
        base = 16;
        num_digits = 1;
    }
    loop {
        let ch = q.get(k).copied().unwrap_or(0);
        let d: u32 = if ch.is_ascii_digit() {
            u32::from(ch - b'0')
        } else if ch.to_ascii_lowercase() >= b'a' {
            u32::from(ch.to_ascii_lowercase() - b'a') + 10
        } else {
            u32::MAX
        };
        if d >= base {
            if base == 16 {
                num_digits -= 1;
                if num_digits == 0 {
                    return (b'\\', 0);
                }
            }
            break;
        }
        let r = n * base + d;
        if r > 255 {
            break;
        }
        n = r;
        k += 1;
        num_digits += 1;
        if num_digits >= 3 {
            break;
        }
    }
    if num_digits == 0 {
        return match q.first().copied().and_then(super::printf::simple_escape) {
            Some(mapped) => (mapped, 1),
            None => (b'\\', 0),
        };
    }
    (n as u8, k)
}

/// `echo -e` text: returns true if `\c` ended all output.
fn echo_escapes(s: &str, out: &mut Vec<u8>) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        i += 1;
        if c != b'\\' {
            out.push(c);
            continue;
        }
        if b.get(i) == Some(&b'c') {
            return true;
        }
        if b.get(i) == Some(&b'0') && b.get(i + 1).is_some_and(|d| (b'0'..=b'7').contains(d)) {
            i += 1;
        }
        let (ch, used) = bb_escape(&b[i..]);
        out.push(ch);
        i += used;
    }
    false
}

/// dash's single-quoting for `set` / `export -p` listings.
fn single_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\"'\"'"))
}

/// dash's `number()`: a non-negative decimal that fits an int.
fn number(s: &str) -> Option<i64> {
    atomax(s, false).filter(|n| (0..=i64::from(i32::MAX)).contains(n))
}

impl<H: Host> Shell<'_, H> {
    /// Runs a builtin other than `sleep` (which needs to await).
    pub(super) fn run_builtin(&mut self, b: Builtin, args: &[Cow<'_, str>]) -> Flow {
        let rest = &args[1..];
        match b {
            Builtin::Colon | Builtin::True | Builtin::Sleep => Ok(0),
            Builtin::False => Ok(1),
            Builtin::Echo => {
                self.echo(rest);
                Ok(0)
            }
            Builtin::Printf => Ok(self.printf(rest)),
            Builtin::Test | Builtin::Bracket => Ok(self.test(b == Builtin::Bracket, rest)),
            Builtin::Cat => Ok(self.cat(rest)),
            Builtin::Exit => {
                let code = match rest.first() {
                    None => self.status,
                    Some(a) => match number(a) {
                        Some(n) => (n & 255) as i32,
                        None => {
                            return Err(self.special_error(&format!("exit: Illegal number: {a}")));
                        }
                    },
                };
                Err(Unwind::Exit(code))
            }
            Builtin::Export => self.export(rest),
            Builtin::Unset => self.unset(rest),
            Builtin::Set => self.set(rest),
            Builtin::Shift => {
                let n = match rest.first() {
                    None => 1,
                    Some(a) => match number(a) {
                        Some(n) => n as usize,
                        None => {
                            return Err(self.special_error(&format!("shift: Illegal number: {a}")));
                        }
                    },
                };
                if n > self.params.len() {
                    return Err(self.special_error("shift: can't shift that many"));
                }
                self.params.drain(..n);
                Ok(0)
            }
            Builtin::Break | Builtin::Continue => {
                let name = if b == Builtin::Break { "break" } else { "continue" };
                let n = match rest.first() {
                    None => 1,
                    Some(a) => match number(a).filter(|&n| n > 0) {
                        Some(n) => n as u32,
                        None => {
                            return Err(self.special_error(&format!("{name}: Illegal number: {a}")));
                        }
                    },
                };
                let n = n.min(self.loop_depth);
                if n == 0 {
                    return Ok(0);
                }
                Err(if b == Builtin::Break { Unwind::Break(n) } else { Unwind::Continue(n) })
            }
        }
    }

    /// An error of a special builtin: reported, and the shell exits with status 2.
    fn special_error(&mut self, msg: &str) -> Unwind {
        self.error(msg);
        Unwind::Exit(2)
    }

    fn echo(&mut self, args: &[Cow<'_, str>]) {
        let mut newline = true;
        let mut escapes = false;
        let mut i = 0;
        while let Some(a) = args.get(i) {
            let Some(flags) = a.strip_prefix('-') else {
                break;
            };
            if flags.is_empty() || !flags.bytes().all(|c| matches!(c, b'n' | b'e' | b'E')) {
                break;
            }
            for c in flags.bytes() {
                match c {
                    b'n' => newline = false,
                    b'e' => escapes = true,
                    _ => escapes = false,
                }
            }
            i += 1;
        }
        let mut out = std::mem::take(&mut self.buf);
        out.clear();
        let mut stopped = false;
        for (k, a) in args[i..].iter().enumerate() {
            if k > 0 {
                out.push(b' ');
            }
            if escapes {
                if echo_escapes(a, &mut out) {
                    stopped = true;
                    break;
                }
            } else {
                out.extend_from_slice(a.as_bytes());
            }
        }
        if newline && !stopped {
            out.push(b'\n');
        }
        self.buf = out;
        self.flush_buf(1);
    }

    fn cat(&mut self, args: &[Cow<'_, str>]) -> i32 {
        let mut files: Vec<&str> = Vec::new();
        let mut options_done = false;
        for a in args {
            if !options_done && a == "--" {
                options_done = true;
            } else if !options_done && a.len() > 1 && a.starts_with('-') {
                let msg = format!("cat: option '{a}' is not supported by the tlc simulated shell\n");
                self.emit(2, &msg);
                return 1;
            } else {
                files.push(a);
            }
        }
        let mut st = 0;
        for f in files {
            if f == "-" {
                // Standard input of a container is empty.
                continue;
            }
            match self.host.read_file(f) {
                Ok(content) => self.emit(1, &content),
                Err(e) => {
                    let msg = format!("cat: {f}: {e}\n");
                    self.emit(2, &msg);
                    st = 1;
                }
            }
        }
        st
    }

    /// dash's `nextopt`: leading `-x` options (all letters in `allowed`), then the operands.
    fn options<'x, 'y>(
        &mut self,
        cmd: &str,
        args: &'x [Cow<'y, str>],
        allowed: &str,
    ) -> Result<(Vec<char>, &'x [Cow<'y, str>]), Unwind> {
        let mut flags = Vec::new();
        let mut i = 0;
        while let Some(a) = args.get(i) {
            if a == "--" {
                i += 1;
                break;
            }
            let Some(letters) = a.strip_prefix('-') else {
                break;
            };
            if letters.is_empty() {
                break;
            }
            for c in letters.chars() {
                if !allowed.contains(c) {
                    return Err(self.special_error(&format!("{cmd}: Illegal option -{c}")));
                }
                flags.push(c);
            }
            i += 1;
        }
        Ok((flags, &args[i.min(args.len())..]))
    }

    fn export(&mut self, args: &[Cow<'_, str>]) -> Flow {
        let (flags, names) = self.options("export", args, "p")?;
        if !flags.is_empty() || names.is_empty() {
            let mut text = String::new();
            for (n, v, exported) in self.vars.listing() {
                if !exported {
                    continue;
                }
                match v {
                    Some(v) => text.push_str(&format!("export {n}={}\n", single_quote(v))),
                    None => text.push_str(&format!("export {n}\n")),
                }
            }
            self.emit(1, &text);
            return Ok(0);
        }
        for a in names {
            let name = match name_part(a) {
                Ok(n) => n,
                Err(bad) => {
                    return Err(self.special_error(&format!("export: {bad}: bad variable name")));
                }
            };
            if let Some((_, v)) = a.split_once('=') {
                self.vars.set(name, v);
            }
            self.vars.export(name);
        }
        Ok(0)
    }

    fn unset(&mut self, args: &[Cow<'_, str>]) -> Flow {
        let (flags, names) = self.options("unset", args, "vf")?;
        let functions_only = flags.last() == Some(&'f');
        for n in names {
            let name = match name_part(n) {
                Ok(name) => name,
                Err(bad) => {
                    return Err(self.special_error(&format!("unset: {bad}: bad variable name")));
                }
            };
            if !functions_only {
                self.vars.unset(name);
            }
        }
        Ok(0)
    }

    fn set(&mut self, args: &[Cow<'_, str>]) -> Flow {
        if args.is_empty() {
            let mut text = String::new();
            for (n, v, _) in self.vars.listing() {
                if let Some(v) = v {
                    text.push_str(&format!("{n}={}\n", single_quote(v)));
                }
            }
            self.emit(1, &text);
            return Ok(0);
        }
        let mut i = 0;
        let mut set_params = false;
        while let Some(a) = args.get(i) {
            if a == "--" {
                i += 1;
                set_params = true;
                break;
            }
            if a == "-" {
                self.opts.xtrace = false;
                self.opts.verbose = false;
                i += 1;
                set_params = i < args.len();
                break;
            }
            let on = a.starts_with('-');
            if !(on || a.starts_with('+')) || a.len() < 2 {
                set_params = true;
                break;
            }
            for ch in a[1..].chars() {
                match ch {
                    'e' => self.opts.errexit = on,
                    'u' => self.opts.nounset = on,
                    'x' => self.opts.xtrace = on,
                    'f' => self.opts.noglob = on,
                    'v' => self.opts.verbose = on,
                    'C' => self.opts.noclobber = on,
                    'o' => {
                        i += 1;
                        let Some(name) = args.get(i) else {
                            return Err(self.special_error(
                                "set: listing options with -o is not supported by the tlc simulated shell",
                            ));
                        };
                        if !set_named_option(&mut self.opts, name, on) {
                            return Err(self.special_error(&format!("set: Illegal option -o {name}")));
                        }
                    }
                    'a' | 'b' | 'h' | 'm' | 'n' | 'i' | 's' | 'E' | 'p' | 'q' | 'I' => {
                        let known = !matches!(ch, 'q');
                        let msg = if known {
                            format!("set: -{ch} is not supported by the tlc simulated shell")
                        } else {
                            format!("set: Illegal option -{ch}")
                        };
                        return Err(self.special_error(&msg));
                    }
                    _ => return Err(self.special_error(&format!("set: Illegal option -{ch}"))),
                }
            }
            i += 1;
        }
        if set_params {
            self.params = args[i.min(args.len())..].iter().map(|a| a.to_string()).collect();
        }
        Ok(0)
    }
}

//! The `test` / `[` builtin: dash's parser (with its POSIX argument-count rules) and messages;
//! file operators look at the files the host exposes.

use std::borrow::Cow;

use super::Host;
use super::arith::atomax;
use super::exec::Shell;

/// Operators of `test`, as dash classifies them.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum TOp {
    Unary(&'static str),
    Binary(&'static str),
    Not,
    And,
    Or,
    LParen,
    RParen,
}

fn getop(s: &str) -> Option<TOp> {
    const UN: &[&str] = &[
        "-r", "-w", "-x", "-e", "-f", "-d", "-c", "-b", "-p", "-u", "-g", "-k", "-s", "-t", "-z", "-n", "-h", "-O",
        "-G", "-L", "-S",
    ];
    const BIN: &[&str] = &["=", "!=", "<", ">", "-eq", "-ne", "-ge", "-gt", "-le", "-lt", "-nt", "-ot", "-ef"];
    if let Some(u) = UN.iter().find(|&&u| u == s) {
        return Some(TOp::Unary(u));
    }
    if let Some(b) = BIN.iter().find(|&&b| b == s) {
        return Some(TOp::Binary(b));
    }
    Some(match s {
        "!" => TOp::Not,
        "-a" => TOp::And,
        "-o" => TOp::Or,
        "(" => TOp::LParen,
        ")" => TOp::RParen,
        _ => return None,
    })
}

/// Token kinds of dash's `t_lex`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum TTok {
    Eoi,
    Operand,
    Op(TOp),
}

/// dash's recursive-descent `test` evaluator over an argument vector.
struct TestEval<'x, H: Host> {
    argv: &'x [&'x str],
    wp: usize,
    wp_op: Option<TOp>,
    host: &'x H,
    depth: u32,
}

type TResult = Result<bool, String>;

fn syntax(op: Option<&str>, msg: &str) -> String {
    match op {
        Some(o) if !o.is_empty() => format!("{o}: {msg}"),
        _ => msg.to_string(),
    }
}

fn getn(s: &str) -> Result<i64, String> {
    atomax(s, false).ok_or_else(|| format!("Illegal number: {s}"))
}

impl<H: Host> TestEval<'_, H> {
    fn t_lex(&mut self, i: usize) -> TTok {
        let Some(s) = self.argv.get(i) else {
            self.wp_op = None;
            return TTok::Eoi;
        };
        if let Some(op) = getop(s) {
            let unary_operand = matches!(op, TOp::Unary(_)) && self.isoperand(i);
            let lone_paren = op == TOp::LParen && i + 1 >= self.argv.len();
            if !unary_operand && !lone_paren {
                self.wp_op = Some(op);
                return TTok::Op(op);
            }
        }
        self.wp_op = None;
        TTok::Operand
    }

    fn isoperand(&self, i: usize) -> bool {
        if i + 1 >= self.argv.len() {
            return true;
        }
        if i + 2 >= self.argv.len() {
            return false;
        }
        matches!(getop(self.argv[i + 1]), Some(TOp::Binary(_)))
    }

    fn enter(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > 500 {
            return Err("expression too complex".to_string());
        }
        Ok(())
    }

    fn oexpr(&mut self, mut n: TTok) -> TResult {
        self.enter()?;
        let mut res = false;
        loop {
            res |= self.aexpr(n)?;
            n = self.t_lex(self.wp + 1);
            if n != TTok::Op(TOp::Or) {
                break;
            }
            self.wp += 2;
            n = self.t_lex(self.wp);
        }
        self.depth -= 1;
        Ok(res)
    }

    fn aexpr(&mut self, mut n: TTok) -> TResult {
        let mut res = true;
        loop {
            if !self.nexpr(n)? {
                res = false;
            }
            n = self.t_lex(self.wp + 1);
            if n != TTok::Op(TOp::And) {
                break;
            }
            self.wp += 2;
            n = self.t_lex(self.wp);
        }
        Ok(res)
    }

    fn nexpr(&mut self, n: TTok) -> TResult {
        if n != TTok::Op(TOp::Not) {
            return self.primary(n);
        }
        self.enter()?;
        let n = self.t_lex(self.wp + 1);
        if n != TTok::Eoi {
            self.wp += 1;
        }
        let r = !self.nexpr(n)?;
        self.depth -= 1;
        Ok(r)
    }

    fn primary(&mut self, n: TTok) -> TResult {
        if n == TTok::Eoi {
            return Ok(false);
        }
        if n == TTok::Op(TOp::LParen) {
            self.wp += 1;
            let nn = self.t_lex(self.wp);
            if nn == TTok::Op(TOp::RParen) {
                return Ok(false);
            }
            let res = self.oexpr(nn)?;
            self.wp += 1;
            if self.t_lex(self.wp) != TTok::Op(TOp::RParen) {
                return Err(syntax(None, "closing paren expected"));
            }
            return Ok(res);
        }
        if let Some(TOp::Unary(op)) = self.wp_op {
            self.wp += 1;
            let Some(arg) = self.argv.get(self.wp).copied() else {
                return Err(syntax(Some(op), "argument expected"));
            };
            return match op {
                "-z" => Ok(arg.is_empty()),
                "-n" => Ok(!arg.is_empty()),
                "-e" | "-f" | "-r" => Ok(self.host.read_file(arg).is_ok()),
                "-s" => Ok(self.host.read_file(arg).is_ok_and(|c| !c.is_empty())),
                "-d" => Ok(false),
                _ => Err(format!("{op}: this file test is not supported by the tlc simulated shell")),
            };
        }
        self.t_lex(self.wp + 1);
        if let Some(TOp::Binary(_)) = self.wp_op {
            return self.binop();
        }
        Ok(self.argv.get(self.wp).is_some_and(|s| !s.is_empty()))
    }

    fn binop(&mut self) -> TResult {
        let a = self.argv.get(self.wp).copied().unwrap_or("");
        self.wp += 1;
        self.t_lex(self.wp);
        let Some(TOp::Binary(op)) = self.wp_op else {
            return Err(syntax(None, "unexpected operator"));
        };
        self.wp += 1;
        let Some(b) = self.argv.get(self.wp).copied() else {
            return Err(syntax(Some(op), "argument expected"));
        };
        Ok(match op {
            "=" => a == b,
            "!=" => a != b,
            "<" => a < b,
            ">" => a > b,
            "-eq" => getn(a)? == getn(b)?,
            "-ne" => getn(a)? != getn(b)?,
            "-ge" => getn(a)? >= getn(b)?,
            "-gt" => getn(a)? > getn(b)?,
            "-le" => getn(a)? <= getn(b)?,
            "-lt" => getn(a)? < getn(b)?,
            _ => {
                return Err(format!("{op}: this file test is not supported by the tlc simulated shell"));
            }
        })
    }
}

/// dash's `testcmd` minus the `[`/`]` handling: the exit status or an error message.
fn test_status<H: Host>(argv: &[&str], host: &H) -> Result<i32, String> {
    let mut argv = argv;
    let mut res = 1;
    loop {
        if argv.is_empty() {
            return Ok(res);
        }
        let mut skip_lex = false;
        if argv.len() == 3 && matches!(getop(argv[1]), Some(TOp::Binary(_))) {
            skip_lex = true;
        } else if argv.len() == 3 || argv.len() == 4 {
            if argv[0] == "(" && argv[argv.len() - 1] == ")" {
                argv = &argv[1..argv.len() - 1];
            } else if argv[0] == "!" {
                res = 0;
                argv = &argv[1..];
                continue;
            }
        }
        let mut ev = TestEval { argv, wp: 0, wp_op: None, host, depth: 0 };
        let n = if skip_lex { TTok::Operand } else { ev.t_lex(0) };
        let r = ev.oexpr(n)?;
        if ev.wp < argv.len() && ev.wp + 1 < argv.len() {
            return Err(syntax(Some(argv[ev.wp]), "unexpected operator"));
        }
        return Ok(res ^ i32::from(r));
    }
}

impl<H: Host> Shell<'_, H> {
    /// Runs `test` (or `[` when `bracket`); returns its status.
    pub(super) fn test(&mut self, bracket: bool, args: &[Cow<'_, str>]) -> i32 {
        let label = if bracket { "[" } else { "test" };
        let mut argv: Vec<&str> = args.iter().map(|a| a.as_ref()).collect();
        if bracket {
            if !argv.last().is_some_and(|s| s.starts_with(']')) {
                self.error("[: missing ]");
                return 2;
            }
            argv.pop();
        }
        match test_status(&argv, &*self.host) {
            Ok(s) => s,
            Err(msg) => {
                self.error(&format!("{label}: {msg}"));
                2
            }
        }
    }
}

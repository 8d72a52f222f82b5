//! Arithmetic expansion `$(( ))`: a C-like integer expression language (dash's grammar), plus the
//! C-style number parsing that `test`, `printf` and arithmetic share.

use super::Vars;

/// A parsed arithmetic expression.
#[derive(Clone, Debug)]
pub(super) enum ArithExpr {
    Num(i64),
    Var(String),
    Neg(Box<ArithExpr>),
    Not(Box<ArithExpr>),
    BitNot(Box<ArithExpr>),
    Bin(BinOp, Box<ArithExpr>, Box<ArithExpr>),
    And(Box<ArithExpr>, Box<ArithExpr>),
    Or(Box<ArithExpr>, Box<ArithExpr>),
    Cond(Box<ArithExpr>, Box<ArithExpr>, Box<ArithExpr>),
    Assign(Option<BinOp>, String, Box<ArithExpr>),
}

/// Binary operators with their C meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum BinOp {
    Mul,
    Div,
    Rem,
    Add,
    Sub,
    Shl,
    Shr,
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
    BitAnd,
    BitXor,
    BitOr,
}

/// Why an evaluation failed (formatted by the caller in dash's words).
#[derive(Debug, PartialEq, Eq)]
pub(super) enum ArithError {
    DivisionByZero,
    IllegalNumber(String),
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Num(i64),
    Name(String),
    Bin(BinOp),
    Assign(Option<BinOp>),
    AndAnd,
    OrOr,
    Not,
    BitNot,
    LParen,
    RParen,
    Question,
    Colon,
    Bad,
    Eof,
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

/// Result of a C `strto*` style scan: sign, magnitude (saturated), where parsing stopped
/// (0 when no digits were found, like C's `endptr == nptr`).
struct Scan {
    negative: bool,
    magnitude: u128,
    end: usize,
}

fn scan_number(s: &[u8], base0: bool) -> Scan {
    let mut i = 0;
    while i < s.len() && is_space(s[i]) {
        i += 1;
    }
    let mut negative = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        negative = s[i] == b'-';
        i += 1;
    }
    let mut radix = 10u32;
    if base0 && s.get(i) == Some(&b'0') {
        if matches!(s.get(i + 1), Some(b'x' | b'X')) && s.get(i + 2).is_some_and(|c| c.is_ascii_hexdigit()) {
            radix = 16;
            i += 2;
        } else {
            radix = 8;
        }
    }
    let start = i;
    let mut magnitude: u128 = 0;
    while i < s.len() {
        let Some(d) = (s[i] as char).to_digit(radix) else {
            break;
        };
        magnitude = magnitude.saturating_mul(radix as u128).saturating_add(d as u128).min(u128::from(u64::MAX) + 1);
        i += 1;
    }
    if i == start {
        return Scan { negative, magnitude: 0, end: 0 };
    }
    Scan { negative, magnitude, end: i }
}

/// C `strtoimax`: value, end of the parsed prefix (0 if none), and whether it was out of range.
pub(super) fn strtoimax(s: &str, base0: bool) -> (i64, usize, bool) {
    let sc = scan_number(s.as_bytes(), base0);
    let limit = if sc.negative { 1u128 << 63 } else { i64::MAX as u128 };
    if sc.magnitude > limit {
        let v = if sc.negative { i64::MIN } else { i64::MAX };
        return (v, sc.end, true);
    }
    let v = if sc.negative { (sc.magnitude as i128).wrapping_neg() as i64 } else { sc.magnitude as i64 };
    (v, sc.end, false)
}

/// C `strtoumax`: like [`strtoimax`] but negative values wrap around.
pub(super) fn strtoumax(s: &str, base0: bool) -> (u64, usize, bool) {
    let sc = scan_number(s.as_bytes(), base0);
    if sc.magnitude > u64::MAX as u128 {
        return (u64::MAX, sc.end, true);
    }
    let m = sc.magnitude as u64;
    (if sc.negative { m.wrapping_neg() } else { m }, sc.end, false)
}

/// dash's `atomax`: the whole string must be a number (surrounding blanks allowed); with
/// `base0` an empty string is 0 and hex/octal prefixes are accepted.
pub(super) fn atomax(s: &str, base0: bool) -> Option<i64> {
    let (v, end, range) = strtoimax(s, base0);
    if range || (end == 0 && !base0) {
        return None;
    }
    let rest = &s.as_bytes()[end..];
    if rest.iter().all(|&b| is_space(b)) { Some(v) } else { None }
}

struct Lexer<'s> {
    s: &'s [u8],
    i: usize,
}

impl Lexer<'_> {
    fn next(&mut self) -> Tok {
        while self.i < self.s.len() && is_space(self.s[self.i]) {
            self.i += 1;
        }
        let s = self.s;
        let Some(&c) = s.get(self.i) else {
            return Tok::Eof;
        };
        if c.is_ascii_digit() {
            // strtoimax(base 0) on the rest, exactly as dash does.
            let text = std::str::from_utf8(&s[self.i..]).unwrap_or("");
            let (v, end, _) = strtoimax(text, true);
            self.i += end.max(1);
            return Tok::Num(v);
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            let start = self.i;
            while self.i < s.len() && (s[self.i].is_ascii_alphanumeric() || s[self.i] == b'_') {
                self.i += 1;
            }
            return Tok::Name(String::from_utf8_lossy(&s[start..self.i]).into_owned());
        }
        let at = |k: usize| s.get(self.i + k).copied().unwrap_or(0);
        let (tok, len) = match (c, at(1), at(2)) {
            (b'>', b'>', b'=') => (Tok::Assign(Some(BinOp::Shr)), 3),
            (b'<', b'<', b'=') => (Tok::Assign(Some(BinOp::Shl)), 3),
            (b'>', b'>', _) => (Tok::Bin(BinOp::Shr), 2),
            (b'<', b'<', _) => (Tok::Bin(BinOp::Shl), 2),
            (b'>', b'=', _) => (Tok::Bin(BinOp::Ge), 2),
            (b'<', b'=', _) => (Tok::Bin(BinOp::Le), 2),
            (b'=', b'=', _) => (Tok::Bin(BinOp::Eq), 2),
            (b'!', b'=', _) => (Tok::Bin(BinOp::Ne), 2),
            (b'&', b'&', _) => (Tok::AndAnd, 2),
            (b'|', b'|', _) => (Tok::OrOr, 2),
            (b'+', b'=', _) => (Tok::Assign(Some(BinOp::Add)), 2),
            (b'-', b'=', _) => (Tok::Assign(Some(BinOp::Sub)), 2),
            (b'*', b'=', _) => (Tok::Assign(Some(BinOp::Mul)), 2),
            (b'/', b'=', _) => (Tok::Assign(Some(BinOp::Div)), 2),
            (b'%', b'=', _) => (Tok::Assign(Some(BinOp::Rem)), 2),
            (b'&', b'=', _) => (Tok::Assign(Some(BinOp::BitAnd)), 2),
            (b'|', b'=', _) => (Tok::Assign(Some(BinOp::BitOr)), 2),
            (b'^', b'=', _) => (Tok::Assign(Some(BinOp::BitXor)), 2),
            (b'>', _, _) => (Tok::Bin(BinOp::Gt), 1),
            (b'<', _, _) => (Tok::Bin(BinOp::Lt), 1),
            (b'=', _, _) => (Tok::Assign(None), 1),
            (b'!', _, _) => (Tok::Not, 1),
            (b'~', _, _) => (Tok::BitNot, 1),
            (b'&', _, _) => (Tok::Bin(BinOp::BitAnd), 1),
            (b'|', _, _) => (Tok::Bin(BinOp::BitOr), 1),
            (b'^', _, _) => (Tok::Bin(BinOp::BitXor), 1),
            (b'+', _, _) => (Tok::Bin(BinOp::Add), 1),
            (b'-', _, _) => (Tok::Bin(BinOp::Sub), 1),
            (b'*', _, _) => (Tok::Bin(BinOp::Mul), 1),
            (b'/', _, _) => (Tok::Bin(BinOp::Div), 1),
            (b'%', _, _) => (Tok::Bin(BinOp::Rem), 1),
            (b'(', _, _) => (Tok::LParen, 1),
            (b')', _, _) => (Tok::RParen, 1),
            (b'?', _, _) => (Tok::Question, 1),
            (b':', _, _) => (Tok::Colon, 1),
            _ => (Tok::Bad, 1),
        };
        self.i += len;
        tok
    }
}

fn precedence(op: BinOp) -> u8 {
    match op {
        BinOp::Mul | BinOp::Div | BinOp::Rem => 0,
        BinOp::Add | BinOp::Sub => 1,
        BinOp::Shl | BinOp::Shr => 2,
        BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => 3,
        BinOp::Eq | BinOp::Ne => 4,
        BinOp::BitAnd => 5,
        BinOp::BitXor => 6,
        BinOp::BitOr => 7,
    }
}

struct Parser<'s> {
    lex: Lexer<'s>,
    tok: Tok,
    depth: u32,
    nodes: u32,
}

type PResult = Result<ArithExpr, String>;

const MAX_DEPTH: u32 = 200;
const MAX_NODES: u32 = 2000;

impl Parser<'_> {
    fn bump(&mut self) {
        self.tok = self.lex.next();
    }

    fn enter(&mut self) -> Result<(), String> {
        self.depth += 1;
        self.nodes += 1;
        if self.depth > MAX_DEPTH || self.nodes > MAX_NODES {
            return Err("expression nested too deeply".to_string());
        }
        Ok(())
    }

    fn assignment(&mut self) -> PResult {
        self.enter()?;
        let r = self.assignment_inner();
        self.depth -= 1;
        r
    }

    fn assignment_inner(&mut self) -> PResult {
        if let Tok::Name(name) = &self.tok {
            // Look ahead one token without consuming the name.
            let save = self.lex.i;
            let name = name.clone();
            let next = self.lex.next();
            if let Tok::Assign(op) = next {
                self.bump();
                let rhs = self.assignment()?;
                return Ok(ArithExpr::Assign(op, name, Box::new(rhs)));
            }
            self.lex.i = save;
        }
        self.cond()
    }

    fn cond(&mut self) -> PResult {
        let a = self.or()?;
        if self.tok != Tok::Question {
            return Ok(a);
        }
        self.bump();
        let b = self.assignment()?;
        if self.tok != Tok::Colon {
            return Err("expecting ':'".to_string());
        }
        self.bump();
        self.enter()?;
        let c = self.cond();
        self.depth -= 1;
        Ok(ArithExpr::Cond(Box::new(a), Box::new(b), Box::new(c?)))
    }

    fn or(&mut self) -> PResult {
        let mut a = self.and()?;
        while self.tok == Tok::OrOr {
            self.bump();
            let b = self.and()?;
            a = ArithExpr::Or(Box::new(a), Box::new(b));
        }
        Ok(a)
    }

    fn and(&mut self) -> PResult {
        let mut a = self.binary(7)?;
        while self.tok == Tok::AndAnd {
            self.bump();
            let b = self.binary(7)?;
            a = ArithExpr::And(Box::new(a), Box::new(b));
        }
        Ok(a)
    }

    fn binary(&mut self, level: u8) -> PResult {
        let mut a = if level == 0 { self.primary()? } else { self.binary(level - 1)? };
        loop {
            let op = match &self.tok {
                Tok::Bin(op) if precedence(*op) == level => *op,
                _ => return Ok(a),
            };
            self.bump();
            let b = if level == 0 { self.primary()? } else { self.binary(level - 1)? };
            a = ArithExpr::Bin(op, Box::new(a), Box::new(b));
        }
    }

    fn primary(&mut self) -> PResult {
        self.enter()?;
        let r = self.primary_inner();
        self.depth -= 1;
        r
    }

    fn primary_inner(&mut self) -> PResult {
        match std::mem::replace(&mut self.tok, Tok::Eof) {
            Tok::LParen => {
                self.bump();
                let e = self.assignment()?;
                if self.tok != Tok::RParen {
                    return Err("expecting ')'".to_string());
                }
                self.bump();
                Ok(e)
            }
            Tok::Num(n) => {
                self.bump();
                Ok(ArithExpr::Num(n))
            }
            Tok::Name(name) => {
                self.bump();
                Ok(ArithExpr::Var(name))
            }
            Tok::Bin(BinOp::Add) => {
                self.bump();
                self.primary()
            }
            Tok::Bin(BinOp::Sub) => {
                self.bump();
                Ok(ArithExpr::Neg(Box::new(self.primary()?)))
            }
            Tok::Not => {
                self.bump();
                Ok(ArithExpr::Not(Box::new(self.primary()?)))
            }
            Tok::BitNot => {
                self.bump();
                Ok(ArithExpr::BitNot(Box::new(self.primary()?)))
            }
            other => {
                self.tok = other;
                Err("expecting primary".to_string())
            }
        }
    }
}

/// Parses the text between `$((` and `))`. The error is dash's wording ("expecting primary").
pub(super) fn parse(text: &str) -> Result<ArithExpr, String> {
    let mut p = Parser { lex: Lexer { s: text.as_bytes(), i: 0 }, tok: Tok::Eof, depth: 0, nodes: 0 };
    p.bump();
    let e = p.assignment()?;
    if p.tok != Tok::Eof {
        return Err("expecting EOF".to_string());
    }
    Ok(e)
}

fn var_value(vars: &Vars, name: &str) -> Result<i64, ArithError> {
    match vars.get(name) {
        None => Ok(0),
        Some(v) => atomax(v, true).ok_or_else(|| ArithError::IllegalNumber(v.to_string())),
    }
}

fn apply(op: BinOp, a: i64, b: i64) -> Result<i64, ArithError> {
    Ok(match op {
        BinOp::Mul => a.wrapping_mul(b),
        BinOp::Div | BinOp::Rem if b == 0 => return Err(ArithError::DivisionByZero),
        BinOp::Div => a.wrapping_div(b),
        BinOp::Rem => a.wrapping_rem(b),
        BinOp::Add => a.wrapping_add(b),
        BinOp::Sub => a.wrapping_sub(b),
        BinOp::Shl => a.wrapping_shl(b as u32),
        BinOp::Shr => a.wrapping_shr(b as u32),
        BinOp::Lt => (a < b) as i64,
        BinOp::Le => (a <= b) as i64,
        BinOp::Gt => (a > b) as i64,
        BinOp::Ge => (a >= b) as i64,
        BinOp::Eq => (a == b) as i64,
        BinOp::Ne => (a != b) as i64,
        BinOp::BitAnd => a & b,
        BinOp::BitXor => a ^ b,
        BinOp::BitOr => a | b,
    })
}

/// Evaluates an expression; assignments update `vars`.
pub(super) fn eval(e: &ArithExpr, vars: &mut Vars) -> Result<i64, ArithError> {
    Ok(match e {
        ArithExpr::Num(n) => *n,
        ArithExpr::Var(name) => var_value(vars, name)?,
        ArithExpr::Neg(a) => eval(a, vars)?.wrapping_neg(),
        ArithExpr::Not(a) => (eval(a, vars)? == 0) as i64,
        ArithExpr::BitNot(a) => !eval(a, vars)?,
        ArithExpr::Bin(op, a, b) => {
            let a = eval(a, vars)?;
            let b = eval(b, vars)?;
            apply(*op, a, b)?
        }
        ArithExpr::And(a, b) => (eval(a, vars)? != 0 && eval(b, vars)? != 0) as i64,
        ArithExpr::Or(a, b) => (eval(a, vars)? != 0 || eval(b, vars)? != 0) as i64,
        ArithExpr::Cond(c, a, b) => {
            if eval(c, vars)? != 0 {
                eval(a, vars)?
            } else {
                eval(b, vars)?
            }
        }
        ArithExpr::Assign(op, name, rhs) => {
            let r = eval(rhs, vars)?;
            let v = match op {
                None => r,
                Some(op) => apply(*op, var_value(vars, name)?, r)?,
            };
            let mut buf = itoa_buf();
            vars.set(name, format_i64(v, &mut buf));
            v
        }
    })
}

/// A stack buffer for [`format_i64`].
pub(super) fn itoa_buf() -> [u8; 20] {
    [0u8; 20]
}

/// Formats an integer without allocating.
pub(super) fn format_i64(v: i64, buf: &mut [u8; 20]) -> &str {
    let mut n = v.unsigned_abs();
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if v < 0 {
        i -= 1;
        buf[i] = b'-';
    }
    std::str::from_utf8(&buf[i..]).unwrap_or("0")
}

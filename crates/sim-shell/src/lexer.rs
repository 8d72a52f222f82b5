//! Tokenizer: turns script text into operators and words (with their quoting and expansions
//! already parsed), rejecting syntax outside the subset with its line and column.

use super::Unsupported;
use super::arith;
use super::ast::{Arith, Param, ParamOp, Part, Word};

/// A token and where it starts (1-based line and column, in characters).
#[derive(Debug)]
pub(super) struct Token {
    pub tok: Tok,
    pub line: u32,
    pub col: u32,
}

/// The kinds of tokens.
#[derive(Debug)]
pub(super) enum Tok {
    Word(Word),
    Newline,
    Semi,
    DSemi,
    AndIf,
    OrIf,
    Pipe,
    Amp,
    LParen,
    RParen,
    Redir { fd: Option<u32>, op: RedirOp },
    Eof,
}

/// Redirection operators (only `>&` is supported; the others are recognized to be rejected).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum RedirOp {
    Great,
    DGreat,
    Clobber,
    GreatAnd,
    Less,
    DLess,
    LessAnd,
    LessGreat,
}

const MAX_NESTING: u32 = 64;

struct Lexer {
    chars: Vec<char>,
    i: usize,
    line: u32,
    col: u32,
    depth: u32,
}

/// Accumulates the parts of a word, merging adjacent literal characters.
#[derive(Default)]
struct WordBuf {
    parts: Vec<Part>,
    lit: String,
    lit_quoted: bool,
}

impl WordBuf {
    fn push_char(&mut self, c: char, quoted: bool) {
        if !self.lit.is_empty() && self.lit_quoted != quoted {
            self.flush();
        }
        self.lit_quoted = quoted;
        self.lit.push(c);
    }

    fn push_part(&mut self, p: Part) {
        self.flush();
        self.parts.push(p);
    }

    fn flush(&mut self) {
        if !self.lit.is_empty() {
            self.parts.push(Part::Lit { text: std::mem::take(&mut self.lit), quoted: self.lit_quoted });
        }
    }

    fn len(&self) -> usize {
        self.parts.len() + self.lit.len()
    }

    fn finish(mut self) -> Vec<Part> {
        self.flush();
        self.parts
    }
}

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Splits a script into tokens.
pub(super) fn tokenize(src: &str) -> Result<Vec<Token>, Unsupported> {
    let mut lx = Lexer { chars: src.chars().collect(), i: 0, line: 1, col: 1, depth: 0 };
    lx.run()
}

impl Lexer {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.i).copied()
    }

    fn peek_at(&self, k: usize) -> Option<char> {
        self.chars.get(self.i + k).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.chars.get(self.i).copied()?;
        self.i += 1;
        if c == '\n' {
            self.line += 1;
            self.col = 1;
        } else {
            self.col += 1;
        }
        Some(c)
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn run(&mut self) -> Result<Vec<Token>, Unsupported> {
        let mut out = Vec::new();
        loop {
            loop {
                match self.peek() {
                    Some(' ' | '\t') => {
                        self.bump();
                    }
                    Some('\\') if self.peek_at(1) == Some('\n') => {
                        self.bump();
                        self.bump();
                    }
                    _ => break,
                }
            }
            let (line, col) = (self.line, self.col);
            let Some(c) = self.peek() else {
                out.push(Token { tok: Tok::Eof, line, col });
                return Ok(out);
            };
            let err = |msg: &str| Unsupported::at(line, col, msg);
            let tok = match c {
                '#' => {
                    while let Some(c) = self.peek() {
                        if c == '\n' {
                            break;
                        }
                        self.bump();
                    }
                    continue;
                }
                '\n' => {
                    self.bump();
                    Tok::Newline
                }
                ';' => {
                    self.bump();
                    if self.eat(';') {
                        if self.peek() == Some('&') {
                            return Err(err("';;&' in case is not supported"));
                        }
                        Tok::DSemi
                    } else if self.peek() == Some('&') {
                        return Err(err("case fall-through (';&') is not supported"));
                    } else {
                        Tok::Semi
                    }
                }
                '&' => {
                    self.bump();
                    if self.eat('&') {
                        Tok::AndIf
                    } else if self.peek() == Some('>') {
                        return Err(err("the '&>' redirection is not supported (only >&2, 1>&2 and 2>&1 are)"));
                    } else {
                        Tok::Amp
                    }
                }
                '|' => {
                    self.bump();
                    if self.eat('|') { Tok::OrIf } else { Tok::Pipe }
                }
                '(' => {
                    self.bump();
                    Tok::LParen
                }
                ')' => {
                    self.bump();
                    Tok::RParen
                }
                '<' | '>' => self.redir(None),
                c if c.is_ascii_digit() && self.io_number_len().is_some() => {
                    let n = self.io_number_len().unwrap_or(0);
                    let mut fd: u32 = 0;
                    for _ in 0..n {
                        let d = self.bump().and_then(|c| c.to_digit(10)).unwrap_or(0);
                        fd = fd.saturating_mul(10).saturating_add(d);
                    }
                    self.redir(Some(fd))
                }
                _ => Tok::Word(self.word()?),
            };
            out.push(Token { tok, line, col });
        }
    }

    /// If the input at the cursor is digits directly followed by `<` or `>`, their count.
    fn io_number_len(&self) -> Option<usize> {
        let mut k = 0;
        while self.peek_at(k).is_some_and(|c| c.is_ascii_digit()) {
            k += 1;
        }
        match self.peek_at(k) {
            Some('<' | '>') if k > 0 => Some(k),
            _ => None,
        }
    }

    fn redir(&mut self, fd: Option<u32>) -> Tok {
        let op = match self.bump() {
            Some('>') => {
                if self.eat('>') {
                    RedirOp::DGreat
                } else if self.eat('&') {
                    RedirOp::GreatAnd
                } else if self.eat('|') {
                    RedirOp::Clobber
                } else {
                    RedirOp::Great
                }
            }
            _ => {
                if self.eat('<') {
                    self.eat('-');
                    RedirOp::DLess
                } else if self.eat('&') {
                    RedirOp::LessAnd
                } else if self.eat('>') {
                    RedirOp::LessGreat
                } else {
                    RedirOp::Less
                }
            }
        };
        Tok::Redir { fd, op }
    }

    fn enter(&mut self, line: u32, col: u32) -> Result<(), Unsupported> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(Unsupported::at(line, col, "expansions are nested too deeply"));
        }
        Ok(())
    }

    /// A word at top level: ends at a blank or an operator character.
    fn word(&mut self) -> Result<Word, Unsupported> {
        let mut buf = WordBuf::default();
        if self.peek() == Some('~') {
            return Err(Unsupported::at(
                self.line,
                self.col,
                "tilde expansion ('~') is not supported; write the path or quote the '~'",
            ));
        }
        loop {
            let (line, col) = (self.line, self.col);
            let Some(c) = self.peek() else { break };
            match c {
                ' ' | '\t' | '\n' | ';' | '&' | '|' | '<' | '>' | '(' | ')' => break,
                '\\' => {
                    self.bump();
                    match self.bump() {
                        None => buf.push_char('\\', true),
                        Some('\n') => {}
                        Some(c) => buf.push_char(c, true),
                    }
                }
                '\'' => {
                    self.bump();
                    self.single_quoted(&mut buf, line, col)?;
                }
                '"' => {
                    self.bump();
                    let before = buf.len();
                    self.double_quoted(&mut buf, line, col)?;
                    if buf.len() == before {
                        buf.push_part(Part::Lit { text: String::new(), quoted: true });
                    }
                }
                '$' => {
                    self.bump();
                    self.dollar(&mut buf, false, line, col)?;
                }
                '`' => return Err(backquote(line, col)),
                c => {
                    self.bump();
                    buf.push_char(c, false);
                }
            }
        }
        Ok(Word { parts: buf.finish(), split: true })
    }

    fn single_quoted(&mut self, buf: &mut WordBuf, line: u32, col: u32) -> Result<(), Unsupported> {
        let before = buf.len();
        loop {
            match self.bump() {
                None => {
                    return Err(Unsupported::at(line, col, "syntax error: unterminated quoted string"));
                }
                Some('\'') => break,
                Some(c) => buf.push_char(c, true),
            }
        }
        if buf.len() == before {
            buf.push_part(Part::Lit { text: String::new(), quoted: true });
        }
        Ok(())
    }

    /// The inside of `"..."`, after the opening quote, through the closing one.
    fn double_quoted(&mut self, buf: &mut WordBuf, line: u32, col: u32) -> Result<(), Unsupported> {
        loop {
            let (l, c) = (self.line, self.col);
            match self.bump() {
                None => {
                    return Err(Unsupported::at(line, col, "syntax error: unterminated quoted string"));
                }
                Some('"') => return Ok(()),
                Some('\\') => match self.peek() {
                    Some(e @ ('$' | '`' | '"' | '\\')) => {
                        self.bump();
                        buf.push_char(e, true);
                    }
                    Some('\n') => {
                        self.bump();
                    }
                    _ => buf.push_char('\\', true),
                },
                Some('$') => self.dollar(buf, true, l, c)?,
                Some('`') => return Err(backquote(l, c)),
                Some(ch) => buf.push_char(ch, true),
            }
        }
    }

    /// After a `$`: a parameter, `${...}`, `$((...))`, or a literal dollar sign.
    fn dollar(&mut self, buf: &mut WordBuf, quoted: bool, line: u32, col: u32) -> Result<(), Unsupported> {
        let err = |msg: &str| Unsupported::at(line, col, msg);
        let param = match self.peek() {
            Some('{') => {
                self.bump();
                self.enter(line, col)?;
                let r = self.braced(buf, quoted, line, col);
                self.depth -= 1;
                return r;
            }
            Some('(') => {
                if self.peek_at(1) == Some('(') {
                    self.bump();
                    self.bump();
                    self.enter(line, col)?;
                    let r = self.arith(buf, quoted, line, col);
                    self.depth -= 1;
                    return r;
                }
                return Err(err("command substitution '$(...)' is not supported"));
            }
            Some(c) if is_name_start(c) => {
                let mut name = String::new();
                while let Some(c) = self.peek() {
                    if !is_name_char(c) {
                        break;
                    }
                    name.push(c);
                    self.bump();
                }
                Param::Var(name)
            }
            Some('0') => {
                self.bump();
                Param::Zero
            }
            Some(c @ '1'..='9') => {
                self.bump();
                Param::Positional(c as usize - '0' as usize)
            }
            Some('?') => {
                self.bump();
                Param::Status
            }
            Some('#') => {
                self.bump();
                Param::Count
            }
            Some('@') => {
                self.bump();
                Param::At
            }
            Some('*') => {
                self.bump();
                Param::Star
            }
            Some('$') => {
                return Err(err("the special parameter '$$' (process id) is not supported"));
            }
            Some('!') => {
                return Err(err("the special parameter '$!' (background process id) is not supported"));
            }
            Some('-') => {
                return Err(err("the special parameter '$-' (option flags) is not supported"));
            }
            Some('\'') if !quoted => return Err(err("$'...' strings are not supported")),
            Some('"') if !quoted => return Err(err("$\"...\" strings are not supported")),
            _ => {
                buf.push_char('$', quoted);
                return Ok(());
            }
        };
        buf.push_part(Part::Param { param, op: ParamOp::None, quoted });
        Ok(())
    }

    /// A parameter name inside `${`: a name, digits, or one special character.
    fn param_name(&mut self, line: u32, col: u32) -> Result<Param, Unsupported> {
        let err = |msg: &str| Unsupported::at(line, col, msg);
        match self.peek() {
            Some(c) if is_name_start(c) => {
                let mut name = String::new();
                while let Some(c) = self.peek() {
                    if !is_name_char(c) {
                        break;
                    }
                    name.push(c);
                    self.bump();
                }
                Ok(Param::Var(name))
            }
            Some(c) if c.is_ascii_digit() => {
                let mut n: usize = 0;
                while let Some(d) = self.peek().and_then(|c| c.to_digit(10)) {
                    n = n.saturating_mul(10).saturating_add(d as usize);
                    self.bump();
                }
                Ok(if n == 0 { Param::Zero } else { Param::Positional(n) })
            }
            Some('?') => {
                self.bump();
                Ok(Param::Status)
            }
            Some('#') => {
                self.bump();
                Ok(Param::Count)
            }
            Some('@') => {
                self.bump();
                Ok(Param::At)
            }
            Some('*') => {
                self.bump();
                Ok(Param::Star)
            }
            Some('$' | '!' | '-') => Err(err("the special parameters $$, $! and $- are not supported")),
            None => Err(err("syntax error: missing '}'")),
            _ => Err(err("bad substitution")),
        }
    }

    /// `${...}` after the opening brace.
    fn braced(&mut self, buf: &mut WordBuf, quoted: bool, line: u32, col: u32) -> Result<(), Unsupported> {
        let err = |msg: &str| Unsupported::at(line, col, msg);
        if self.peek() == Some('#') {
            let next = self.peek_at(1);
            if next == Some('}') {
                self.bump();
                self.bump();
                buf.push_part(Part::Param { param: Param::Count, op: ParamOp::None, quoted });
                return Ok(());
            }
            let starts_param =
                next.is_some_and(|c| is_name_start(c) || c.is_ascii_digit() || matches!(c, '?' | '#' | '@' | '*'));
            if !starts_param {
                return Err(err("bad substitution"));
            }
            self.bump();
            let param = self.param_name(line, col)?;
            if !self.eat('}') {
                return Err(err("only ${#NAME} is supported after '${#'"));
            }
            buf.push_part(Part::Param { param, op: ParamOp::Length, quoted });
            return Ok(());
        }
        let param = self.param_name(line, col)?;
        let op = match self.bump() {
            Some('}') => {
                buf.push_part(Part::Param { param, op: ParamOp::None, quoted });
                return Ok(());
            }
            Some(':') => match self.bump() {
                Some(c @ ('-' | '=' | '+' | '?')) => (c, true),
                _ => {
                    return Err(err("substring expansion '${NAME:offset}' is not supported"));
                }
            },
            Some(c @ ('-' | '=' | '+' | '?' | '#' | '%')) => (c, false),
            Some('/') => {
                return Err(err("pattern substitution '${NAME/...}' is not supported"));
            }
            Some('^' | ',') => {
                return Err(err("case modification '${NAME^}' is not supported"));
            }
            None => return Err(err("syntax error: missing '}'")),
            Some(_) => return Err(err("bad substitution")),
        };
        let longest = match op.0 {
            '#' => self.eat('#'),
            '%' => self.eat('%'),
            _ => false,
        };
        if op.0 == '=' && !matches!(param, Param::Var(_)) {
            return Err(err("cannot assign to a positional or special parameter"));
        }
        // The pattern of # ## % %% is never quoted by enclosing double quotes (POSIX, dash).
        let word_quoted = quoted && !matches!(op.0, '#' | '%');
        let word = self.op_word(word_quoted, line, col)?;
        let colon = op.1;
        let op = match op.0 {
            '-' => ParamOp::Default { colon, word },
            '=' => ParamOp::Assign { colon, word },
            '+' => ParamOp::Alternative { colon, word },
            '?' => ParamOp::Error { colon, word },
            '#' => ParamOp::TrimPrefix { longest, pattern: word },
            _ => ParamOp::TrimSuffix { longest, pattern: word },
        };
        buf.push_part(Part::Param { param, op, quoted });
        Ok(())
    }

    /// The word of `${NAME-word}` through the closing brace. Blanks are part of it; unquoted
    /// text in it is subject to field splitting when the expansion is unquoted.
    fn op_word(&mut self, quoted: bool, line: u32, col: u32) -> Result<Word, Unsupported> {
        let mut buf = WordBuf::default();
        loop {
            let (l, c) = (self.line, self.col);
            match self.peek() {
                None => return Err(Unsupported::at(line, col, "syntax error: missing '}'")),
                Some('}') => {
                    self.bump();
                    break;
                }
                Some('\\') => {
                    self.bump();
                    match self.peek() {
                        None => buf.push_char('\\', true),
                        Some('\n') => {
                            self.bump();
                        }
                        Some(e) if !quoted || matches!(e, '$' | '`' | '"' | '\\' | '}') => {
                            self.bump();
                            buf.push_char(e, true);
                        }
                        Some(_) => buf.push_char('\\', true),
                    }
                }
                Some('$') => {
                    self.bump();
                    self.dollar(&mut buf, quoted, l, c)?;
                }
                Some('`') => return Err(backquote(l, c)),
                Some('\'') if !quoted => {
                    self.bump();
                    self.single_quoted(&mut buf, l, c)?;
                }
                Some('"') => {
                    self.bump();
                    let before = buf.len();
                    self.double_quoted(&mut buf, l, c)?;
                    if buf.len() == before {
                        buf.push_part(Part::Lit { text: String::new(), quoted: true });
                    }
                }
                Some(ch) => {
                    self.bump();
                    buf.push_char(ch, quoted);
                }
            }
        }
        Ok(Word { parts: buf.finish(), split: true })
    }

    /// `$(( ... ))` after the opening parentheses.
    fn arith(&mut self, buf: &mut WordBuf, quoted: bool, line: u32, col: u32) -> Result<(), Unsupported> {
        let mut inner = WordBuf::default();
        let mut depth = 0u32;
        loop {
            let (l, c) = (self.line, self.col);
            match self.bump() {
                None => return Err(Unsupported::at(line, col, "syntax error: missing '))'")),
                Some('(') => {
                    depth += 1;
                    inner.push_char('(', false);
                }
                Some(')') => {
                    if depth == 0 {
                        if self.eat(')') {
                            break;
                        }
                        return Err(Unsupported::at(line, col, "syntax error: missing '))'"));
                    }
                    depth -= 1;
                    inner.push_char(')', false);
                }
                Some('$') => self.dollar(&mut inner, true, l, c)?,
                Some('\\') if self.peek() == Some('\n') => {
                    self.bump();
                }
                Some('\\' | '\'' | '"') => {
                    return Err(Unsupported::at(l, c, "quotes and backslashes inside '$(( ))' are not supported"));
                }
                Some('`') => return Err(backquote(l, c)),
                Some(ch) => inner.push_char(ch, false),
            }
        }
        let parts = inner.finish();
        let is_static = parts.iter().all(|p| matches!(p, Part::Lit { .. }));
        let (text, parsed) = if is_static {
            let mut text = String::new();
            for p in &parts {
                if let Part::Lit { text: t, .. } = p {
                    text.push_str(t);
                }
            }
            let parsed = arith::parse(&text);
            (text, Some(parsed))
        } else {
            (String::new(), None)
        };
        buf.push_part(Part::Arith { arith: Box::new(Arith { parts, text, parsed }), quoted });
        Ok(())
    }
}

fn backquote(line: u32, col: u32) -> Unsupported {
    Unsupported::at(line, col, "command substitution (backquotes) is not supported")
}

//! Grammar: builds the syntax tree from tokens, recognizing reserved words only where a command
//! starts, and rejecting constructs outside the subset before anything runs.

use super::Unsupported;
use super::ast::{
    AndOr, Assign, CaseArm, Command, Compound, Connector, List, Part, Pipeline, Redirect, SimpleCommand, Word,
};
use super::lexer::{self, RedirOp, Tok, Token};

const MAX_DEPTH: u32 = 100;

/// Words that end a compound list when they appear where a command would start.
const TERMINATORS: &[&str] = &["then", "else", "elif", "fi", "do", "done", "esac", "}"];

/// Parses a whole script.
pub(super) fn parse(src: &str) -> Result<List, Unsupported> {
    let toks = lexer::tokenize(src)?;
    let mut p = Parser { toks, i: 0, depth: 0 };
    let list = p.list(true)?;
    match p.peek().tok {
        Tok::Eof => Ok(list),
        _ => Err(p.unexpected(None)),
    }
}

struct Parser {
    toks: Vec<Token>,
    i: usize,
    depth: u32,
}

/// dash's check of a `NAME[=value]` operand of `export`/`unset`: the name part (before any
/// `=`), or Err with the text to report as a bad variable name.
pub(super) fn name_part(s: &str) -> Result<&str, &str> {
    let end = s.find('=').unwrap_or(s.len());
    let name = &s[..end];
    if is_name(name) { Ok(name) } else { Err(name) }
}

pub(super) fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl Parser {
    fn peek(&self) -> &Token {
        // The token list always ends with Eof and the cursor never passes it.
        &self.toks[self.i.min(self.toks.len() - 1)]
    }

    fn bump(&mut self) {
        if self.i + 1 < self.toks.len() {
            self.i += 1;
        }
    }

    fn take_word(&mut self) -> Option<Word> {
        let idx = self.i.min(self.toks.len() - 1);
        match &mut self.toks[idx].tok {
            Tok::Word(w) => {
                let w = std::mem::take(w);
                self.bump();
                Some(w)
            }
            _ => None,
        }
    }

    fn is_kw(&self, kw: &str) -> bool {
        matches!(&self.peek().tok, Tok::Word(w) if w.plain() == Some(kw))
    }

    fn skip_newlines(&mut self) {
        while matches!(self.peek().tok, Tok::Newline) {
            self.bump();
        }
    }

    fn err_here(&self, msg: &str) -> Unsupported {
        let t = self.peek();
        Unsupported::at(t.line, t.col, msg)
    }

    /// The error for the current token where it cannot appear: constructs outside the subset
    /// get a message naming them, anything else is a syntax error.
    fn unexpected(&self, expecting: Option<&str>) -> Unsupported {
        let t = self.peek();
        let what = match &t.tok {
            Tok::Pipe => return self.err_here("pipes ('|') are not supported"),
            Tok::Amp => return self.err_here("background jobs ('&') are not supported"),
            Tok::LParen => return self.err_here("subshells '( ... )' are not supported"),
            Tok::Eof => "end of script".to_string(),
            Tok::Newline => "newline".to_string(),
            Tok::Semi => "';'".to_string(),
            Tok::DSemi => "';;'".to_string(),
            Tok::AndIf => "'&&'".to_string(),
            Tok::OrIf => "'||'".to_string(),
            Tok::RParen => "')'".to_string(),
            Tok::Redir { .. } => "redirection".to_string(),
            Tok::Word(w) => match w.plain() {
                Some(s) => format!("'{s}'"),
                None => "word".to_string(),
            },
        };
        let msg = match expecting {
            Some(e) => format!("syntax error: {what} unexpected (expecting '{e}')"),
            None => format!("syntax error: {what} unexpected"),
        };
        self.err_here(&msg)
    }

    fn expect_kw(&mut self, kw: &str) -> Result<(), Unsupported> {
        if self.is_kw(kw) {
            self.bump();
            Ok(())
        } else {
            Err(self.unexpected(Some(kw)))
        }
    }

    fn at_list_end(&self) -> bool {
        match &self.peek().tok {
            Tok::Eof | Tok::RParen | Tok::DSemi => true,
            Tok::Word(w) => w.plain().is_some_and(|s| TERMINATORS.contains(&s)),
            _ => false,
        }
    }

    fn list(&mut self, allow_empty: bool) -> Result<List, Unsupported> {
        let mut items = Vec::new();
        self.skip_newlines();
        loop {
            if self.at_list_end() {
                break;
            }
            items.push(self.and_or()?);
            match self.peek().tok {
                Tok::Semi => {
                    self.bump();
                    self.skip_newlines();
                }
                Tok::Newline => self.skip_newlines(),
                Tok::Amp => {
                    return Err(self.err_here("background jobs ('&') are not supported"));
                }
                _ => break,
            }
        }
        if items.is_empty() && !allow_empty {
            return Err(self.unexpected(None));
        }
        Ok(List(items))
    }

    fn and_or(&mut self) -> Result<AndOr, Unsupported> {
        let first = self.pipeline()?;
        let mut rest = Vec::new();
        loop {
            let c = match self.peek().tok {
                Tok::AndIf => Connector::And,
                Tok::OrIf => Connector::Or,
                _ => break,
            };
            self.bump();
            self.skip_newlines();
            rest.push((c, self.pipeline()?));
        }
        Ok(AndOr { first, rest })
    }

    fn pipeline(&mut self) -> Result<Pipeline, Unsupported> {
        let mut negated = false;
        if self.is_kw("!") {
            self.bump();
            negated = true;
            if self.is_kw("!") {
                return Err(self.unexpected(None));
            }
        }
        let command = self.command()?;
        if matches!(self.peek().tok, Tok::Pipe) {
            return Err(self.err_here("pipes ('|') are not supported"));
        }
        Ok(Pipeline { negated, command })
    }

    fn command(&mut self) -> Result<Command, Unsupported> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err_here("commands are nested too deeply"));
        }
        let r = self.command_inner();
        self.depth -= 1;
        r
    }

    fn command_inner(&mut self) -> Result<Command, Unsupported> {
        let kw = match &self.peek().tok {
            Tok::Word(w) => w.plain().map(str::to_string),
            Tok::Redir { .. } => None,
            _ => return Err(self.unexpected(None)),
        };
        let compound = match kw.as_deref() {
            Some("{") => {
                self.bump();
                let body = self.list(false)?;
                self.expect_kw("}")?;
                Compound::Group(body)
            }
            Some("if") => self.if_clause()?,
            Some("while") | Some("until") => {
                let until = kw.as_deref() == Some("until");
                self.bump();
                let cond = self.list(false)?;
                self.expect_kw("do")?;
                let body = self.list(false)?;
                self.expect_kw("done")?;
                Compound::Loop { until, cond, body }
            }
            Some("for") => self.for_clause()?,
            Some("case") => self.case_clause()?,
            Some("[[") => {
                return Err(self.err_here("'[[ ... ]]' tests are not supported; use '[ ... ]'"));
            }
            Some("function") => {
                return Err(self.err_here("function definitions are not supported"));
            }
            Some(s) if TERMINATORS.contains(&s) || s == "in" => {
                return Err(self.unexpected(None));
            }
            _ => return self.simple().map(Command::Simple),
        };
        let mut redirects = Vec::new();
        while let Tok::Redir { .. } = self.peek().tok {
            redirects.push(self.redirect()?);
        }
        Ok(Command::Compound(Box::new(compound), redirects))
    }

    fn if_clause(&mut self) -> Result<Compound, Unsupported> {
        self.bump();
        let mut branches = Vec::new();
        let cond = self.list(false)?;
        self.expect_kw("then")?;
        let body = self.list(false)?;
        branches.push((cond, body));
        loop {
            if self.is_kw("elif") {
                self.bump();
                let cond = self.list(false)?;
                self.expect_kw("then")?;
                let body = self.list(false)?;
                branches.push((cond, body));
            } else if self.is_kw("else") {
                self.bump();
                let otherwise = self.list(false)?;
                self.expect_kw("fi")?;
                return Ok(Compound::If { branches, otherwise: Some(otherwise) });
            } else {
                self.expect_kw("fi")?;
                return Ok(Compound::If { branches, otherwise: None });
            }
        }
    }

    fn for_clause(&mut self) -> Result<Compound, Unsupported> {
        let line = self.peek().line;
        self.bump();
        let var = match &self.peek().tok {
            Tok::Word(w) => match w.plain() {
                Some(s) if is_name(s) => s.to_string(),
                _ => return Err(self.err_here("syntax error: bad for loop variable")),
            },
            _ => return Err(self.err_here("syntax error: bad for loop variable")),
        };
        self.bump();
        self.skip_newlines();
        let words = if self.is_kw("in") {
            self.bump();
            let mut words = Vec::new();
            while let Some(w) = self.take_word() {
                words.push(w);
            }
            match self.peek().tok {
                Tok::Semi | Tok::Newline => self.bump(),
                _ => return Err(self.unexpected(Some("do"))),
            }
            Some(words)
        } else {
            if matches!(self.peek().tok, Tok::Semi) {
                self.bump();
            }
            None
        };
        self.skip_newlines();
        self.expect_kw("do")?;
        let body = self.list(false)?;
        self.expect_kw("done")?;
        Ok(Compound::For { var, words, body, line })
    }

    fn case_clause(&mut self) -> Result<Compound, Unsupported> {
        let line = self.peek().line;
        self.bump();
        let Some(subject) = self.take_word() else {
            return Err(self.unexpected(None));
        };
        self.skip_newlines();
        self.expect_kw("in")?;
        self.skip_newlines();
        let mut arms = Vec::new();
        loop {
            if self.is_kw("esac") {
                self.bump();
                break;
            }
            if matches!(self.peek().tok, Tok::LParen) {
                self.bump();
            }
            let mut patterns = Vec::new();
            loop {
                match self.take_word() {
                    Some(w) => patterns.push(w),
                    None => return Err(self.unexpected(Some(")"))),
                }
                if matches!(self.peek().tok, Tok::Pipe) {
                    self.bump();
                } else {
                    break;
                }
            }
            if !matches!(self.peek().tok, Tok::RParen) {
                return Err(self.unexpected(Some(")")));
            }
            self.bump();
            let body = self.list(true)?;
            arms.push(CaseArm { patterns, body });
            if matches!(self.peek().tok, Tok::DSemi) {
                self.bump();
                self.skip_newlines();
            } else if self.is_kw("esac") {
                self.bump();
                break;
            } else {
                return Err(self.unexpected(Some("esac")));
            }
        }
        Ok(Compound::Case { subject, arms, line })
    }

    fn redirect(&mut self) -> Result<Redirect, Unsupported> {
        let Tok::Redir { fd, op } = self.peek().tok else {
            return Err(self.unexpected(None));
        };
        match op {
            RedirOp::GreatAnd => {}
            RedirOp::Great | RedirOp::DGreat | RedirOp::Clobber => {
                return Err(
                    self.err_here("file redirections ('>', '>>') are not supported (only >&2, 1>&2 and 2>&1 are)")
                );
            }
            RedirOp::Less | RedirOp::LessGreat => {
                return Err(self.err_here("input redirections ('<') are not supported"));
            }
            RedirOp::DLess => {
                return Err(self.err_here("here-documents ('<<') are not supported"));
            }
            RedirOp::LessAnd => {
                return Err(self.err_here("the '<&' redirection is not supported"));
            }
        }
        let fd = fd.unwrap_or(1);
        if !(1..=2).contains(&fd) {
            return Err(self.err_here("only file descriptors 1 and 2 can be redirected (>&2, 1>&2, 2>&1)"));
        }
        self.bump();
        let target = match &self.peek().tok {
            Tok::Word(w) => match w.plain() {
                Some("1") => 1,
                Some("2") => 2,
                _ => {
                    return Err(self.err_here("only '>&1' and '>&2' duplications are supported (no files, no closing)"));
                }
            },
            _ => return Err(self.unexpected(None)),
        };
        self.bump();
        Ok(Redirect { fd: fd as u8, target })
    }

    fn simple(&mut self) -> Result<SimpleCommand, Unsupported> {
        let line = self.peek().line;
        let mut assigns: Vec<Assign> = Vec::new();
        let mut words: Vec<Word> = Vec::new();
        let mut redirects = Vec::new();
        let mut declaration = false;
        loop {
            match &self.peek().tok {
                Tok::Redir { .. } => redirects.push(self.redirect()?),
                Tok::Word(_) => {
                    let (l, c) = (self.peek().line, self.peek().col);
                    let Some(mut w) = self.take_word() else { break };
                    if words.is_empty() {
                        if let Some(a) = as_assignment(&w, l, c)? {
                            assigns.push(a);
                            continue;
                        }
                        if w.plain() == Some("[[") {
                            return Err(Unsupported::at(l, c, "'[[ ... ]]' tests are not supported; use '[ ... ]'"));
                        }
                        declaration = w.plain() == Some("export");
                    } else if declaration && as_assignment(&w, l, c)?.is_some() {
                        w.split = false;
                    }
                    words.push(w);
                }
                Tok::LParen => {
                    if words.len() == 1 && assigns.is_empty() {
                        return Err(self.err_here("function definitions are not supported"));
                    }
                    if words.is_empty() && assigns.last().is_some_and(|a| a.value.parts.is_empty()) {
                        return Err(self.err_here("arrays are not supported"));
                    }
                    return Err(self.err_here("subshells '( ... )' are not supported"));
                }
                _ => break,
            }
        }
        if assigns.is_empty() && words.is_empty() && redirects.is_empty() {
            return Err(self.unexpected(None));
        }
        Ok(SimpleCommand { assigns, words, redirects, line })
    }
}

/// `NAME=value` when the word starts with an unquoted valid name and `=`.
fn as_assignment(w: &Word, line: u32, col: u32) -> Result<Option<Assign>, Unsupported> {
    let Some(Part::Lit { text, quoted: false }) = w.parts.first() else {
        return Ok(None);
    };
    let Some(eq) = text.find('=') else {
        return Ok(None);
    };
    let name = &text[..eq];
    if !is_name(name) {
        return Ok(None);
    }
    let rest = &text[eq + 1..];
    let mut parts = Vec::with_capacity(w.parts.len());
    if !rest.is_empty() {
        parts.push(Part::Lit { text: rest.to_string(), quoted: false });
    }
    parts.extend(w.parts[1..].iter().cloned());
    let tilde = parts.iter().enumerate().any(|(i, p)| match p {
        Part::Lit { text, quoted: false } => (i == 0 && text.starts_with('~')) || text.contains(":~"),
        _ => false,
    });
    if tilde {
        return Err(Unsupported::at(
            line,
            col,
            "tilde expansion ('~') is not supported; write the path or quote the '~'",
        ));
    }
    Ok(Some(Assign { name: name.to_string(), value: Word { parts, split: false } }))
}

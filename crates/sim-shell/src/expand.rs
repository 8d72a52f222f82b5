//! Word expansion: parameters, arithmetic, field splitting on IFS (dash's algorithm) and quote
//! removal. There is no pathname expansion: `*` in a command word stays literal.

use std::borrow::Cow;

use super::Host;
use super::arith::{self, ArithError, ArithExpr};
use super::ast::{Arith, Param, ParamOp, Part, Word};
use super::exec::{Shell, Unwind};
use super::pattern::{self, Pattern};

/// What an expansion produces.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Command arguments: field splitting and empty-field removal.
    Fields,
    /// One string (assignments, `case` subjects): no splitting.
    Joined,
    /// A pattern: quoted characters are escaped so that they match literally.
    Pattern,
}

const DEFAULT_IFS: &str = " \t\n";

struct Acc {
    mode: Mode,
    cur: String,
    /// Whether the current field exists even if empty (it has text or came from quotes).
    started: bool,
    fields: Vec<String>,
    ifs: Cow<'static, str>,
}

fn is_ifs_white(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n')
}

impl Acc {
    fn new(mode: Mode, ifs: Cow<'static, str>) -> Acc {
        Acc { mode, cur: String::new(), started: false, fields: Vec::new(), ifs }
    }

    /// Adds expanded text. `quoted` text is never split and is literal in patterns;
    /// `splittable` text (unquoted expansion results) undergoes field splitting.
    fn push(&mut self, text: &str, quoted: bool, splittable: bool) {
        match self.mode {
            Mode::Joined => self.cur.push_str(text),
            Mode::Pattern => {
                if quoted {
                    pattern::push_escaped(&mut self.cur, text);
                } else {
                    self.cur.push_str(text);
                }
            }
            Mode::Fields => {
                if splittable {
                    self.split_push(text);
                } else {
                    self.push_fixed(text);
                }
            }
        }
    }

    fn push_fixed(&mut self, text: &str) {
        self.cur.push_str(text);
        self.started = true;
    }

    fn emit(&mut self) {
        self.fields.push(std::mem::take(&mut self.cur));
        self.started = false;
    }

    fn soft_break(&mut self) {
        if self.started {
            self.emit();
        }
    }

    /// Field splitting of one expansion result, as dash's `ifsbreakup` does it.
    fn split_push(&mut self, text: &str) {
        if self.ifs.is_empty() {
            if !text.is_empty() {
                self.push_fixed(text);
            }
            return;
        }
        let ifs = std::mem::take(&mut self.ifs);
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            if !ifs.contains(c) {
                self.cur.push(c);
                self.started = true;
                continue;
            }
            let white = is_ifs_white(c);
            if white && !self.started {
                continue;
            }
            self.emit();
            let mut after_white = white;
            while let Some(&n) = chars.peek() {
                if !ifs.contains(n) {
                    break;
                }
                if is_ifs_white(n) {
                    chars.next();
                } else if after_white {
                    chars.next();
                    after_white = false;
                } else {
                    break;
                }
            }
        }
        self.ifs = ifs;
    }

    fn finish_fields<'w>(mut self, out: &mut Vec<Cow<'w, str>>) {
        if self.started {
            self.emit();
        }
        out.extend(self.fields.into_iter().map(Cow::Owned));
    }
}

fn param_label(p: &Param) -> String {
    match p {
        Param::Var(n) => n.clone(),
        Param::Positional(i) => i.to_string(),
        Param::Zero => "0".to_string(),
        Param::Count => "#".to_string(),
        Param::Status => "?".to_string(),
        Param::At => "@".to_string(),
        Param::Star => "*".to_string(),
    }
}

/// Removes the shortest or longest prefix or suffix matching `pat`.
fn trim<'v>(v: &'v str, pat: &str, prefix: bool, longest: bool) -> &'v str {
    let p = Pattern::new(pat);
    let mut bounds: Vec<usize> = v.char_indices().map(|(i, _)| i).collect();
    bounds.push(v.len());
    // Cut points ascending suit the shortest prefix and the longest suffix.
    if prefix == longest {
        bounds.reverse();
    }
    for i in bounds {
        if prefix {
            if p.matches(&v[..i]) {
                return &v[i..];
            }
        } else if p.matches(&v[i..]) {
            return &v[..i];
        }
    }
    v
}

impl<H: Host> Shell<'_, H> {
    fn ifs(&self) -> Cow<'static, str> {
        match self.vars.get("IFS") {
            None => Cow::Borrowed(DEFAULT_IFS),
            Some(s) if s == DEFAULT_IFS => Cow::Borrowed(DEFAULT_IFS),
            Some(s) => Cow::Owned(s.to_string()),
        }
    }

    /// Expands a command word into zero or more fields.
    pub(super) fn expand_fields<'w>(&mut self, w: &'w Word, out: &mut Vec<Cow<'w, str>>) -> Result<(), Unwind> {
        if let [Part::Lit { text, .. }] = w.parts.as_slice() {
            out.push(Cow::Borrowed(text));
            return Ok(());
        }
        if !w.split {
            let s = self.expand_joined(w)?;
            out.push(s);
            return Ok(());
        }
        let mut acc = Acc::new(Mode::Fields, self.ifs());
        self.expand_parts(&w.parts, &mut acc, false)?;
        acc.finish_fields(out);
        Ok(())
    }

    /// Expands a word into one string, without field splitting.
    pub(super) fn expand_joined<'w>(&mut self, w: &'w Word) -> Result<Cow<'w, str>, Unwind> {
        match w.parts.as_slice() {
            [] => Ok(Cow::Borrowed("")),
            [Part::Lit { text, .. }] => Ok(Cow::Borrowed(text)),
            parts => {
                let mut acc = Acc::new(Mode::Joined, Cow::Borrowed(DEFAULT_IFS));
                self.expand_parts(parts, &mut acc, false)?;
                Ok(Cow::Owned(acc.cur))
            }
        }
    }

    /// Expands a word into pattern text for [`pattern::matches`].
    pub(super) fn expand_pattern(&mut self, w: &Word) -> Result<String, Unwind> {
        let mut acc = Acc::new(Mode::Pattern, Cow::Borrowed(DEFAULT_IFS));
        self.expand_parts(&w.parts, &mut acc, false)?;
        Ok(acc.cur)
    }

    fn expand_parts(&mut self, parts: &[Part], acc: &mut Acc, in_op_word: bool) -> Result<(), Unwind> {
        for part in parts {
            match part {
                Part::Lit { text, quoted } => acc.push(text, *quoted, !*quoted && in_op_word),
                Part::Param { param, op, quoted } => self.expand_param(param, op, *quoted, acc)?,
                Part::Arith { arith, quoted } => {
                    let v = self.eval_arith(arith)?;
                    let mut b = arith::itoa_buf();
                    acc.push(arith::format_i64(v, &mut b), *quoted, !*quoted);
                }
            }
        }
        Ok(())
    }

    fn param_value(&self, p: &Param) -> Option<Cow<'_, str>> {
        match p {
            Param::Var(n) => self.vars.get(n).map(Cow::Borrowed),
            Param::Positional(i) => self.params.get(i.wrapping_sub(1)).map(|s| Cow::Borrowed(s.as_str())),
            Param::Zero => Some(Cow::Borrowed(&self.arg0)),
            Param::Count => Some(Cow::Owned(self.params.len().to_string())),
            Param::Status => Some(Cow::Owned(self.status.to_string())),
            Param::At | Param::Star => Some(Cow::Owned(self.join_star())),
        }
    }

    /// `"$*"`: the positional parameters joined by the first character of IFS.
    fn join_star(&self) -> String {
        let sep: String = match self.vars.get("IFS") {
            None => " ".to_string(),
            Some(s) => s.chars().next().map(String::from).unwrap_or_default(),
        };
        self.params.join(&sep)
    }

    fn param_is_set(&self, p: &Param, colon: bool) -> bool {
        match p {
            // dash: $@ and $* always count as set; "null" means their joined value is empty.
            Param::At | Param::Star => !colon || !self.join_star().is_empty(),
            _ => match self.param_value(p) {
                None => false,
                Some(v) => !colon || !v.is_empty(),
            },
        }
    }

    fn unset_error(&mut self, p: &Param) -> Unwind {
        let msg = format!("{}: parameter not set", param_label(p));
        self.error(&msg);
        Unwind::Exit(2)
    }

    fn push_param(&mut self, p: &Param, quoted: bool, acc: &mut Acc) -> Result<(), Unwind> {
        match p {
            Param::At | Param::Star => {
                self.push_positional(*p == Param::Star, quoted, acc);
                Ok(())
            }
            _ => {
                let found = match self.param_value(p) {
                    Some(v) => {
                        acc.push(&v, quoted, !quoted);
                        true
                    }
                    None => false,
                };
                if !found {
                    if self.opts.nounset {
                        return Err(self.unset_error(p));
                    }
                    acc.push("", quoted, !quoted);
                }
                Ok(())
            }
        }
    }

    fn push_positional(&self, star: bool, quoted: bool, acc: &mut Acc) {
        // Quoted "$@" makes one field per parameter; unquoted $@ and $* split each one.
        match (acc.mode, quoted) {
            (Mode::Fields, true) if !star => {
                for (i, p) in self.params.iter().enumerate() {
                    if i > 0 {
                        acc.emit();
                    }
                    acc.push_fixed(p);
                }
            }
            (Mode::Fields, false) => {
                let n = self.params.len();
                for (i, p) in self.params.iter().enumerate() {
                    acc.split_push(p);
                    if i + 1 < n {
                        acc.soft_break();
                    }
                }
            }
            _ => {
                // Outside field splitting dash joins both $@ and $* with IFS's first character.
                let joined = self.join_star();
                acc.push(&joined, quoted, !quoted);
            }
        }
    }

    fn expand_param(&mut self, p: &Param, op: &ParamOp, quoted: bool, acc: &mut Acc) -> Result<(), Unwind> {
        match op {
            ParamOp::None => self.push_param(p, quoted, acc),
            ParamOp::Length => {
                let n = self.param_value(p).map(|v| v.len());
                let Some(n) = n.or(if self.opts.nounset { None } else { Some(0) }) else {
                    return Err(self.unset_error(p));
                };
                acc.push(&n.to_string(), quoted, !quoted);
                Ok(())
            }
            ParamOp::Default { colon, word } => {
                if self.param_is_set(p, *colon) {
                    self.push_param(p, quoted, acc)
                } else {
                    self.expand_parts(&word.parts, acc, true)
                }
            }
            ParamOp::Alternative { colon, word } => {
                if self.param_is_set(p, *colon) {
                    self.expand_parts(&word.parts, acc, true)
                } else {
                    Ok(())
                }
            }
            ParamOp::Assign { colon, word } => {
                if self.param_is_set(p, *colon) {
                    return self.push_param(p, quoted, acc);
                }
                let v = self.expand_joined(word)?.into_owned();
                if let Param::Var(n) = p {
                    self.vars.set(n, &v);
                }
                acc.push(&v, quoted, !quoted);
                Ok(())
            }
            ParamOp::Error { colon, word } => {
                if self.param_is_set(p, *colon) {
                    return self.push_param(p, quoted, acc);
                }
                let msg = if word.parts.is_empty() {
                    if *colon { "parameter not set or null".to_string() } else { "parameter not set".to_string() }
                } else {
                    self.expand_joined(word)?.into_owned()
                };
                let text = format!("{}: {}", param_label(p), msg);
                self.error(&text);
                Err(Unwind::Exit(2))
            }
            ParamOp::TrimPrefix { longest, pattern } | ParamOp::TrimSuffix { longest, pattern } => {
                let prefix = matches!(op, ParamOp::TrimPrefix { .. });
                let value = match self.param_value(p) {
                    Some(v) => v.into_owned(),
                    None if self.opts.nounset && !matches!(p, Param::At | Param::Star) => {
                        return Err(self.unset_error(p));
                    }
                    None => String::new(),
                };
                let pat = self.expand_pattern(pattern)?;
                let r = trim(&value, &pat, prefix, *longest);
                acc.push(r, quoted, !quoted);
                Ok(())
            }
        }
    }

    /// Evaluates `$(( ))`; errors are reported in dash's words and exit the shell with 2.
    pub(super) fn eval_arith(&mut self, a: &Arith) -> Result<i64, Unwind> {
        let owned_text;
        let owned_expr: ArithExpr;
        let (text, expr): (&str, &ArithExpr) = match &a.parsed {
            Some(Ok(e)) => (&a.text, e),
            Some(Err(msg)) => {
                let m = format!("arithmetic expression: {msg}: \"{}\"", a.text);
                self.error(&m);
                return Err(Unwind::Exit(2));
            }
            None => {
                let mut acc = Acc::new(Mode::Joined, Cow::Borrowed(DEFAULT_IFS));
                self.expand_parts(&a.parts, &mut acc, false)?;
                owned_text = acc.cur;
                match arith::parse(&owned_text) {
                    Ok(e) => {
                        owned_expr = e;
                        (&owned_text, &owned_expr)
                    }
                    Err(msg) => {
                        let m = format!("arithmetic expression: {msg}: \"{owned_text}\"");
                        self.error(&m);
                        return Err(Unwind::Exit(2));
                    }
                }
            }
        };
        match arith::eval(expr, self.vars) {
            Ok(v) => Ok(v),
            Err(ArithError::DivisionByZero) => {
                let m = format!("arithmetic expression: division by zero: \"{text}\"");
                self.error(&m);
                Err(Unwind::Exit(2))
            }
            Err(ArithError::IllegalNumber(v)) => {
                let m = format!("Illegal number: {v}");
                self.error(&m);
                Err(Unwind::Exit(2))
            }
        }
    }
}

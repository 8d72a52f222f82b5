//! The evaluator: walks the syntax tree with dash's semantics for exit statuses, `set -e`,
//! loops and redirections.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;

use super::ast::{Command, Compound, Connector, List, Pipeline, Redirect, SimpleCommand};
use super::builtins::Builtin;
use super::{Host, Options, Vars, pattern};

/// Appended to "not found" errors so that the log explains why a real program did not run.
pub(super) const NOT_FOUND_NOTE: &str =
    " (tlc simulated kubelet interprets only a shell subset; see docs/embedded-cluster.md)";

/// Where a file descriptor currently points.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Stream {
    Out,
    Err,
}

/// Non-local control flow: loop control and leaving the shell.
#[derive(Debug)]
pub(super) enum Unwind {
    Break(u32),
    Continue(u32),
    Exit(i32),
}

/// The status of what ran, or an unwinding.
pub(super) type Flow = Result<i32, Unwind>;

/// What a loop does after its body ran.
enum Next {
    /// Go on with this status (`continue` counts as 0).
    Go(i32),
    /// `break` out of this loop.
    Stop,
}

/// Interprets a loop body's outcome for the innermost loop: `break N` / `continue N` with N above
/// one unwind to the loops outside, anything else propagates.
fn after_body(result: Flow) -> Result<Next, Unwind> {
    match result {
        Ok(s) => Ok(Next::Go(s)),
        Err(Unwind::Break(n)) if n > 1 => Err(Unwind::Break(n - 1)),
        Err(Unwind::Break(_)) => Ok(Next::Stop),
        Err(Unwind::Continue(n)) if n > 1 => Err(Unwind::Continue(n - 1)),
        Err(Unwind::Continue(_)) => Ok(Next::Go(0)),
        Err(e) => Err(e),
    }
}

type BoxFlow<'f> = Pin<Box<dyn Future<Output = Flow> + Send + 'f>>;

/// The state of one run of a program.
pub(super) struct Shell<'a, H: Host> {
    pub vars: &'a mut Vars,
    pub host: &'a mut H,
    pub arg0: String,
    pub params: Vec<String>,
    pub opts: Options,
    pub status: i32,
    pub line: u32,
    /// Targets of fd 1 and fd 2.
    pub fds: [Stream; 2],
    pub loop_depth: u32,
    ticks: u32,
    /// Scratch output buffer reused by builtins.
    pub buf: Vec<u8>,
}

impl<'a, H: Host> Shell<'a, H> {
    pub(super) fn new(vars: &'a mut Vars, host: &'a mut H, arg0: String, params: Vec<String>, opts: Options) -> Self {
        Shell {
            vars,
            host,
            arg0,
            params,
            opts,
            status: 0,
            line: 1,
            fds: [Stream::Out, Stream::Err],
            loop_depth: 0,
            ticks: 0,
            buf: Vec::new(),
        }
    }

    /// Writes text to fd 1 or 2, wherever it points now.
    pub(super) fn emit(&mut self, fd: u8, text: &str) {
        if text.is_empty() {
            return;
        }
        match self.fds[usize::from(fd == 2)] {
            Stream::Out => self.host.stdout(text),
            Stream::Err => self.host.stderr(text),
        }
    }

    /// Writes the scratch buffer to fd 1 or 2 (bytes that are not UTF-8 become U+FFFD).
    pub(super) fn flush_buf(&mut self, fd: u8) {
        let buf = std::mem::take(&mut self.buf);
        match String::from_utf8_lossy(&buf) {
            Cow::Borrowed(s) => self.emit(fd, s),
            Cow::Owned(s) => self.emit(fd, &s),
        }
        self.buf = buf;
        self.buf.clear();
    }

    /// A diagnostic in dash's format: "sh: LINE: MESSAGE".
    pub(super) fn error(&mut self, msg: &str) {
        let text = format!("{}: {}: {}\n", self.arg0, self.line, msg);
        self.emit(2, &text);
    }

    /// Counts a step and yields to the runtime every 256 of them.
    async fn tick(&mut self) {
        self.ticks = self.ticks.wrapping_add(1);
        if self.ticks.is_multiple_of(256) {
            tokio::task::yield_now().await;
        }
    }

    fn apply_redirect(&mut self, r: Redirect) {
        let target = self.fds[usize::from(r.target == 2)];
        self.fds[usize::from(r.fd == 2)] = target;
    }

    pub(super) async fn run_program(&mut self, body: &List) -> i32 {
        match self.run_list(body, false).await {
            Ok(s) => s,
            Err(Unwind::Exit(s)) => s,
            Err(_) => self.status,
        }
    }

    async fn run_list(&mut self, list: &List, tested: bool) -> Flow {
        let mut st = 0;
        for ao in &list.0 {
            let last = ao.rest.len();
            st = self.run_pipeline(&ao.first, tested || last > 0).await?;
            for (i, (c, p)) in ao.rest.iter().enumerate() {
                let go = match c {
                    Connector::And => st == 0,
                    Connector::Or => st != 0,
                };
                if go {
                    st = self.run_pipeline(p, tested || i + 1 < last).await?;
                }
            }
        }
        Ok(st)
    }

    async fn run_pipeline(&mut self, p: &Pipeline, tested: bool) -> Flow {
        if p.negated {
            let s = self.run_command(&p.command, true).await?;
            let s = i32::from(s == 0);
            self.status = s;
            return Ok(s);
        }
        self.run_command(&p.command, tested).await
    }

    async fn run_command(&mut self, c: &Command, tested: bool) -> Flow {
        match c {
            Command::Simple(sc) => self.run_simple(sc, tested).await,
            Command::Compound(c, redirects) => {
                let saved = self.fds;
                for r in redirects {
                    self.apply_redirect(*r);
                }
                let res = self.run_compound(c, tested).await;
                self.fds = saved;
                let st = res?;
                self.status = st;
                Ok(st)
            }
        }
    }

    fn run_compound<'f>(&'f mut self, c: &'f Compound, tested: bool) -> BoxFlow<'f> {
        Box::pin(async move {
            match c {
                Compound::Group(l) => self.run_list(l, tested).await,
                Compound::If { branches, otherwise } => {
                    for (cond, body) in branches {
                        if self.run_list(cond, true).await? == 0 {
                            return self.run_list(body, tested).await;
                        }
                    }
                    match otherwise {
                        Some(l) => self.run_list(l, tested).await,
                        None => Ok(0),
                    }
                }
                Compound::Loop { until, cond, body } => {
                    self.loop_depth += 1;
                    let r = self.run_loop(*until, cond, body, tested).await;
                    self.loop_depth -= 1;
                    r
                }
                Compound::For { var, words, body, line } => {
                    self.line = *line;
                    let items: Vec<String> = match words {
                        Some(ws) => {
                            let mut fields: Vec<Cow<'_, str>> = Vec::new();
                            for w in ws {
                                self.expand_fields(w, &mut fields)?;
                            }
                            fields.into_iter().map(Cow::into_owned).collect()
                        }
                        None => self.params.clone(),
                    };
                    self.loop_depth += 1;
                    let r = self.run_for(var, &items, body, tested).await;
                    self.loop_depth -= 1;
                    r
                }
                Compound::Case { subject, arms, line } => {
                    self.line = *line;
                    let subject = self.expand_joined(subject)?.into_owned();
                    for arm in arms {
                        for p in &arm.patterns {
                            let pat = self.expand_pattern(p)?;
                            if pattern::matches(&pat, &subject) {
                                return self.run_list(&arm.body, tested).await;
                            }
                        }
                    }
                    Ok(0)
                }
            }
        })
    }

    async fn run_loop(&mut self, until: bool, cond: &List, body: &List, tested: bool) -> Flow {
        let mut st = 0;
        loop {
            self.tick().await;
            match self.run_list(cond, true).await {
                Ok(s) => {
                    if (s == 0) == until {
                        break;
                    }
                }
                Err(Unwind::Break(n)) => {
                    if n > 1 {
                        return Err(Unwind::Break(n - 1));
                    }
                    break;
                }
                Err(Unwind::Continue(n)) => {
                    if n > 1 {
                        return Err(Unwind::Continue(n - 1));
                    }
                    continue;
                }
                Err(e) => return Err(e),
            }
            match after_body(self.run_list(body, tested).await)? {
                Next::Go(s) => st = s,
                Next::Stop => {
                    st = 0;
                    break;
                }
            }
        }
        Ok(st)
    }

    async fn run_for(&mut self, var: &str, items: &[String], body: &List, tested: bool) -> Flow {
        let mut st = 0;
        for item in items {
            self.tick().await;
            self.vars.set(var, item);
            match after_body(self.run_list(body, tested).await)? {
                Next::Go(s) => st = s,
                Next::Stop => {
                    st = 0;
                    break;
                }
            }
        }
        Ok(st)
    }

    async fn run_simple(&mut self, sc: &SimpleCommand, tested: bool) -> Flow {
        self.tick().await;
        self.line = sc.line;
        let mut args: Vec<Cow<'_, str>> = Vec::with_capacity(sc.words.len());
        for w in &sc.words {
            self.expand_fields(w, &mut args)?;
        }
        let mut assigned: Vec<(&str, String)> = Vec::new();
        for a in &sc.assigns {
            let v = self.expand_joined(&a.value)?.into_owned();
            assigned.push((a.name.as_str(), v));
        }
        if self.opts.xtrace {
            let mut t = String::from("+ ");
            let mut first = true;
            for (n, v) in &assigned {
                if !first {
                    t.push(' ');
                }
                first = false;
                t.push_str(n);
                t.push('=');
                t.push_str(v);
            }
            for a in &args {
                if !first {
                    t.push(' ');
                }
                first = false;
                t.push_str(a);
            }
            t.push('\n');
            self.emit(2, &t);
        }
        if args.is_empty() {
            for (n, v) in &assigned {
                self.vars.set(n, v);
            }
            self.status = 0;
            return Ok(0);
        }
        let saved = self.fds;
        for r in &sc.redirects {
            self.apply_redirect(*r);
        }
        let res = self.dispatch(&args, &assigned).await;
        self.fds = saved;
        let st = res?;
        self.status = st;
        if st != 0 && self.opts.errexit && !tested {
            return Err(Unwind::Exit(st));
        }
        Ok(st)
    }

    async fn dispatch(&mut self, args: &[Cow<'_, str>], assigned: &[(&str, String)]) -> Flow {
        let name: &str = &args[0];
        if name.is_empty() {
            // What exec reports for an empty program name.
            self.error(": Permission denied");
            return Ok(127);
        }
        let Some(b) = Builtin::lookup(name) else {
            let msg = format!("{name}: not found{NOT_FOUND_NOTE}");
            self.error(&msg);
            return Ok(127);
        };
        if b.is_special() {
            for (n, v) in assigned {
                self.vars.set(n, v);
            }
        }
        if b == Builtin::Sleep {
            return Ok(match super::builtins::parse_sleep(&args[1..]) {
                Ok(secs) => {
                    self.host.sleep(secs).await;
                    0
                }
                Err(msg) => {
                    self.emit(2, &msg);
                    1
                }
            });
        }
        self.run_builtin(b, args)
    }
}

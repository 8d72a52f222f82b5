//! The simulated kubelet's shell: interprets a container's `sh -c SCRIPT` (or a bare builtin
//! argv such as `sleep 3600`) for a documented subset of POSIX shell, so that demo workloads are
//! ordinary manifests that print the same on a real cluster (dash/busybox) as here. Nothing ever
//! runs on the host: files come from [`Host::read_file`], output goes to [`Host::stdout`] /
//! [`Host::stderr`], time passes through [`Host::sleep`].
//!
//! Scripts are parsed once into a syntax tree ([`Program`]); anything outside the subset is
//! rejected at parse time with an [`Unsupported`] naming it and its line and column. Commands
//! that are not part of the subset fail when reached, like a real shell's "not found".

mod arith;
mod ast;
mod builtins;
mod exec;
mod expand;
mod lexer;
mod parser;
mod pattern;
mod printf;
mod testcmd;

#[cfg(test)]
mod difftest;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::future::Future;

/// A parsed container invocation, ready to run any number of times.
#[derive(Clone, Debug)]
pub struct Program {
    body: ast::List,
    arg0: String,
    args: Vec<String>,
    options: Options,
}

/// Why a container's command cannot be interpreted. `Display` is the message the kubelet writes
/// to the container log before failing the container with exit code 127; it names what was wrong
/// and where (line and column for scripts).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Unsupported {
    /// The complete, human-readable message.
    pub message: String,
}

impl Unsupported {
    /// A script problem at a position of the source.
    fn at(line: u32, col: u32, what: &str) -> Unsupported {
        Unsupported { message: format!("tlc simulated shell: line {line}, column {col}: {what}") }
    }

    /// A container invocation that is not interpreted at all.
    fn cannot_run(what: &str, why: &str) -> Unsupported {
        Unsupported { message: format!("tlc simulated kubelet: cannot run {what}: {why}") }
    }
}

/// Shell options (`set -e` and friends) in force at a point of execution.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Options {
    errexit: bool,
    nounset: bool,
    xtrace: bool,
    pipefail: bool,
    noglob: bool,
    verbose: bool,
    noclobber: bool,
}

/// Shell variables: the container's environment plus the script's assignments. Kept by the
/// caller so that it can seed it from the pod spec and look at it after a run.
#[derive(Clone, Debug, Default)]
pub struct Vars {
    map: HashMap<String, Var>,
}

#[derive(Clone, Debug)]
struct Var {
    value: Option<String>,
    exported: bool,
}

impl FromIterator<(String, String)> for Vars {
    /// The container environment: every entry is an exported variable.
    fn from_iter<T: IntoIterator<Item = (String, String)>>(iter: T) -> Self {
        let map = iter.into_iter().map(|(k, v)| (k, Var { value: Some(v), exported: true })).collect();
        Vars { map }
    }
}

impl Vars {
    /// An empty variable set (no environment).
    pub fn new() -> Vars {
        Vars::default()
    }

    /// The value of a set variable.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.map.get(name).and_then(|v| v.value.as_deref())
    }

    /// Sets a variable, keeping its exported flag (new variables are not exported).
    pub fn set(&mut self, name: &str, value: &str) {
        match self.map.get_mut(name) {
            Some(v) => match &mut v.value {
                Some(s) => {
                    s.clear();
                    s.push_str(value);
                }
                None => v.value = Some(value.to_string()),
            },
            None => {
                self.map.insert(name.to_string(), Var { value: Some(value.to_string()), exported: false });
            }
        }
    }

    /// Removes a variable (the `unset` builtin).
    pub fn unset(&mut self, name: &str) {
        self.map.remove(name);
    }

    /// The set variables, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.map.iter().filter_map(|(k, v)| v.value.as_deref().map(|v| (k.as_str(), v)))
    }

    /// Marks a variable exported (`export NAME`), creating it unset if needed.
    fn export(&mut self, name: &str) {
        self.map.entry(name.to_string()).or_insert(Var { value: None, exported: false }).exported = true;
    }

    /// Sorted `(name, value, exported)` triples, for `set` and `export -p` listings.
    fn listing(&self) -> Vec<(&str, Option<&str>, bool)> {
        let mut v: Vec<_> = self.map.iter().map(|(k, v)| (k.as_str(), v.value.as_deref(), v.exported)).collect();
        v.sort_by(|a, b| a.0.cmp(b.0));
        v
    }
}

/// What a running script can touch. Implemented by the kubelet (and by tests).
pub trait Host: Send {
    /// Content of a file the container can see (ConfigMap volumes), or an error text such as
    /// "No such file or directory".
    fn read_file(&self, path: &str) -> Result<String, String>;
    /// Bytes the script wrote to stdout (both streams end up in the container log, in order).
    fn stdout(&mut self, text: &str);
    /// Bytes the script wrote to stderr.
    fn stderr(&mut self, text: &str);
    /// Sleeps `seconds` of script time (the kubelet scales it; tests may make it instant).
    /// `sleep infinity` passes `f64::INFINITY`.
    fn sleep(&mut self, seconds: f64) -> impl Future<Output = ()> + Send;
}

/// Builtins that may be a container's `command[0]` without a shell.
const DIRECT_BUILTINS: &[&str] = &["echo", "printf", "sleep", "cat", "true", "false"];

const SHELLS: &[&str] = &["sh", "bash", "ash", "dash"];

fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

impl Program {
    /// Parses a script as `sh -c SCRIPT` would ($0 is "sh", no positional parameters).
    pub fn parse_script(source: &str) -> Result<Program, Unsupported> {
        Ok(Program {
            body: parser::parse(source)?,
            arg0: "sh".to_string(),
            args: Vec::new(),
            options: Options::default(),
        })
    }

    /// Builds a program from a container's `command` and `args` (Kubernetes semantics:
    /// `command` replaces the image ENTRYPOINT, `args` the CMD; the kubelet has already expanded
    /// `$(VAR)`), given here concatenated. Accepts a shell (`sh`, `bash`, `ash`, `dash`, any
    /// directory, optionally behind `/usr/bin/env` or `busybox`) with `-c SCRIPT [NAME [ARGS...]]`
    /// and options such as `-e`, `-u`, `-x`, `-ec`, `-o pipefail`; or one of the builtins echo,
    /// printf, sleep, cat, true, false run directly. Anything else is [`Unsupported`].
    pub fn from_argv(argv: &[String]) -> Result<Program, Unsupported> {
        const WHY: &str = "only `sh -c SCRIPT` and the builtins echo, printf, sleep, cat, true, \
                           false are interpreted";
        let Some(first) = argv.first() else {
            return Err(Unsupported::cannot_run("the image's default entrypoint (no command or args given)", WHY));
        };
        let mut i = 0;
        if basename(first) == "env" {
            i += 1;
            if let Some(a) = argv.get(i)
                && (a.starts_with('-') || a.contains('='))
            {
                return Err(Unsupported::cannot_run(
                    &format!("'{first} {a}'"),
                    "env options and assignments are not supported",
                ));
            }
        }
        if argv.get(i).is_some_and(|a| basename(a) == "busybox") {
            i += 1;
        }
        let Some(prog) = argv.get(i) else {
            return Err(Unsupported::cannot_run(&format!("'{first}'"), WHY));
        };
        let base = basename(prog);
        if SHELLS.contains(&base) {
            return Self::from_shell_argv(prog, &argv[i + 1..]);
        }
        if DIRECT_BUILTINS.contains(&base) {
            let mut words = vec![ast::Word::literal(base)];
            words.extend(argv[i + 1..].iter().map(|a| ast::Word::literal(a)));
            let cmd = ast::SimpleCommand { assigns: Vec::new(), words, redirects: Vec::new(), line: 1 };
            let body = ast::List(vec![ast::AndOr {
                first: ast::Pipeline { negated: false, command: ast::Command::Simple(cmd) },
                rest: Vec::new(),
            }]);
            return Ok(Program { body, arg0: "sh".to_string(), args: Vec::new(), options: Options::default() });
        }
        Err(Unsupported::cannot_run(&format!("'{prog}'"), WHY))
    }

    fn from_shell_argv(shell: &str, rest: &[String]) -> Result<Program, Unsupported> {
        let mut options = Options::default();
        let mut command_mode = false;
        let mut j = 0;
        while j < rest.len() {
            let a = rest[j].as_str();
            if a == "--" || a == "-" {
                j += 1;
                break;
            }
            let on = a.starts_with('-');
            if !(on || a.starts_with('+')) || a.len() < 2 {
                break;
            }
            j += 1;
            for ch in a[1..].chars() {
                match ch {
                    'c' if on => command_mode = true,
                    'e' => options.errexit = on,
                    'u' => options.nounset = on,
                    'x' => options.xtrace = on,
                    'f' => options.noglob = on,
                    'v' => options.verbose = on,
                    'C' => options.noclobber = on,
                    // A login shell only reads profile files, which do not exist here.
                    'l' => {}
                    'o' => {
                        let Some(name) = rest.get(j) else {
                            return Err(Unsupported::cannot_run(&format!("'{shell} {a}'"), "-o needs an option name"));
                        };
                        j += 1;
                        if !set_named_option(&mut options, name, on) {
                            return Err(Unsupported::cannot_run(
                                &format!("'{shell} -o {name}'"),
                                "unsupported shell option",
                            ));
                        }
                    }
                    _ => {
                        return Err(Unsupported::cannot_run(
                            &format!("'{shell} {a}'"),
                            &format!("the shell option -{ch} is not supported"),
                        ));
                    }
                }
            }
        }
        if !command_mode {
            let what = match rest.get(j) {
                Some(f) => format!("'{shell} {f}'"),
                None => format!("'{shell}'"),
            };
            return Err(Unsupported::cannot_run(
                &what,
                "only `sh -c SCRIPT` is interpreted (no script files, no standard input)",
            ));
        }
        let Some(script) = rest.get(j) else {
            return Err(Unsupported::cannot_run(&format!("'{shell} -c'"), "-c needs a script argument"));
        };
        let body = parser::parse(script)?;
        let arg0 = rest.get(j + 1).cloned().unwrap_or_else(|| shell.to_string());
        let args = rest.get(j + 2..).map(|a| a.to_vec()).unwrap_or_default();
        Ok(Program { body, arg0, args, options })
    }

    /// Runs the program. `vars` starts as the container's environment (the kubelet fills it);
    /// assignments update it. Returns the exit status (0..=255). The future is `Send`, yields
    /// to the runtime every 256 commands, and may be dropped at any await point to stop it.
    pub async fn run<H: Host>(&self, vars: &mut Vars, host: &mut H) -> i32 {
        let mut sh = exec::Shell::new(vars, host, self.arg0.clone(), self.args.clone(), self.options);
        sh.run_program(&self.body).await
    }
}

/// Applies `set -o NAME`; false if the name is not a supported option.
fn set_named_option(o: &mut Options, name: &str, on: bool) -> bool {
    match name {
        "errexit" => o.errexit = on,
        "nounset" => o.nounset = on,
        "xtrace" => o.xtrace = on,
        "pipefail" => o.pipefail = on,
        "noglob" => o.noglob = on,
        "verbose" => o.verbose = on,
        "noclobber" => o.noclobber = on,
        _ => return false,
    }
    true
}

//! TEMPORARY stand-in for the shell subset interpreter (replaced by the real module).
use std::collections::BTreeMap;

/// A parsed invocation.
#[derive(Clone, Debug)]
pub struct Program {
    lines: Vec<String>,
}
/// Unsupported.
#[derive(Clone, Debug)]
pub struct Unsupported {
    pub message: String,
}
impl std::fmt::Display for Unsupported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}
impl std::error::Error for Unsupported {}
/// Vars.
#[derive(Clone, Debug, Default)]
pub struct Vars(BTreeMap<String, String>);
impl FromIterator<(String, String)> for Vars {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(i: I) -> Self {
        Vars(i.into_iter().collect())
    }
}
impl Vars {
    pub fn get(&self, k: &str) -> Option<&str> {
        self.0.get(k).map(String::as_str)
    }
    pub fn set(&mut self, k: &str, v: &str) {
        self.0.insert(k.into(), v.into());
    }
}
/// Host.
pub trait Host: Send {
    fn read_file(&self, path: &str) -> Result<String, String>;
    fn stdout(&mut self, text: &str);
    fn stderr(&mut self, text: &str);
    fn sleep(&mut self, seconds: f64) -> impl std::future::Future<Output = ()> + Send;
}
impl Program {
    pub fn parse_script(source: &str) -> Result<Program, Unsupported> {
        Ok(Program { lines: source.lines().map(str::to_string).collect() })
    }
    pub fn from_argv(argv: &[String]) -> Result<Program, Unsupported> {
        match argv {
            [sh, c, script, ..] if sh.ends_with("sh") && c == "-c" => Self::parse_script(script),
            _ => Err(Unsupported { message: format!("cannot run {argv:?}") }),
        }
    }
    pub async fn run<H: Host>(&self, vars: &mut Vars, host: &mut H) -> i32 {
        for l in &self.lines {
            let l = l.trim();
            if let Some(rest) = l.strip_prefix("echo ") {
                let mut s = rest.trim_matches('"').to_string();
                for (k, v) in &vars.0 {
                    s = s.replace(&format!("${k}"), v);
                }
                host.stdout(&format!("{s}\n"));
            } else if let Some(rest) = l.strip_prefix("sleep ") {
                host.sleep(rest.parse().unwrap_or(0.0)).await;
            } else if let Some(rest) = l.strip_prefix("cat ") {
                let mut p = rest.to_string();
                for (k, v) in &vars.0 {
                    p = p.replace(&format!("${k}"), v);
                }
                match host.read_file(&p) {
                    Ok(t) => host.stdout(&t),
                    Err(e) => {
                        host.stderr(&format!("cat: {p}: {e}\n"));
                    }
                }
            } else if let Some(rest) = l.strip_prefix("exit ") {
                return rest.parse().unwrap_or(1);
            }
        }
        0
    }
}

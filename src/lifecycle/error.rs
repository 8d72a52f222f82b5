//! Errors of the lifecycle engine room, each saying what was being done, where, and what the cluster
//! answered — a 403 names the verb, the resource and the namespace that were refused. The kube-rs
//! error stays attached as the source, so callers decide by its structure (a status code), never by
//! searching the message.

use std::fmt;

/// A request that failed: what was asked of which cluster, and what came back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// Region (kube context).
    pub region: String,
    /// Verb (`create`, `list`, `watch`, …).
    pub verb: String,
    /// Resource (`pods`, `pods/log`, …).
    pub resource: String,
    /// Namespace, when namespaced.
    pub namespace: Option<String>,
    /// What the server said (its Status message), or what happened when there was no answer;
    /// notes added on the way out follow it.
    pub message: String,
}

impl Failure {
    fn what(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{} {} in namespace {ns}", self.verb, self.resource),
            None => format!("{} {}", self.verb, self.resource),
        }
    }
}

/// What went wrong.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// RBAC refused a request (403).
    #[error("{}: forbidden: cannot {} ({})", .failure.region, .failure.what(), .failure.message)]
    Forbidden {
        /// What was refused.
        failure: Box<Failure>,
        /// The API's answer.
        #[source]
        source: kube::Error,
    },
    /// Any other API error.
    #[error("{}: cannot {}: {} ({})", .failure.region, .failure.what(), .failure.message, status(.source))]
    Api {
        /// What failed.
        failure: Box<Failure>,
        /// The API's answer.
        #[source]
        source: kube::Error,
    },
    /// The cluster could not be reached, or a stream broke before an answer.
    #[error("{}: cannot reach the cluster ({}): {}", .failure.region, .failure.what(), .failure.message)]
    Unreachable {
        /// What could not be done.
        failure: Box<Failure>,
        /// The client's error, when there was one (none when tlc gave up on a stream itself).
        #[source]
        source: Option<kube::Error>,
    },
    /// Something asked for does not exist.
    #[error("{0}")]
    NotFound(String),
    /// Bad input from the user (a tenant that does not exist, a malformed changeset, …).
    #[error("{0}")]
    Input(String),
    /// A mutation tlc refuses (read-only mode, no confirmation).
    #[error("{0}")]
    Refused(String),
    /// The kubeconfig or a client could not be set up.
    #[error("{0}")]
    Setup(String),
    /// A local file or the terminal failed.
    #[error("cannot {what}: {source}")]
    Io {
        /// What was being done (`write the kubeconfig /tmp/x`, `take over the terminal`).
        what: String,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
}

/// `CODE Reason` of an API error.
fn status(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) => format!("{} {}", s.code, s.reason),
        other => other.to_string(),
    }
}

impl Error {
    /// The same error with `note` added to what it says (what else went wrong on the way out).
    pub fn with_note(mut self, note: impl fmt::Display) -> Error {
        match &mut self {
            Error::Forbidden { failure, .. } | Error::Api { failure, .. } | Error::Unreachable { failure, .. } => {
                failure.message = format!("{}; {note}", failure.message)
            }
            Error::NotFound(m) | Error::Input(m) | Error::Refused(m) | Error::Setup(m) => *m = format!("{m}; {note}"),
            Error::Io { what, .. } => *what = format!("{what} ({note})"),
        }
        self
    }

    /// The HTTP code of an API error, if it is one.
    pub fn code(&self) -> Option<u16> {
        match self {
            Error::Api { source: kube::Error::Api(s), .. } | Error::Forbidden { source: kube::Error::Api(s), .. } => {
                Some(s.code)
            }
            _ => None,
        }
    }

    /// An I/O error with what was being done.
    pub fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
        let what = what.into();
        move |source| Error::Io { what, source }
    }

    /// tlc gave up on a request itself (no client error to keep): `message` says why.
    pub fn gave_up(
        region: &str,
        verb: &str,
        resource: &str,
        namespace: Option<&str>,
        message: impl Into<String>,
    ) -> Error {
        Error::Unreachable { failure: failure(region, verb, resource, namespace, message), source: None }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.region, self.what(), self.message)
    }
}

/// Result of lifecycle operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Builds the failure record for `verb resource [in namespace]` in `region`.
pub fn failure(
    region: &str,
    verb: &str,
    resource: &str,
    namespace: Option<&str>,
    message: impl Into<String>,
) -> Box<Failure> {
    Box::new(Failure {
        region: region.into(),
        verb: verb.into(),
        resource: resource.into(),
        namespace: namespace.map(str::to_string),
        message: message.into(),
    })
}

/// Maps a kube-rs error for `verb resource [in namespace]` in `region` to an [`Error`], keeping it
/// as the source.
pub fn kube_error<'a>(
    region: &'a str,
    verb: &'a str,
    resource: &'a str,
    namespace: Option<&'a str>,
) -> impl FnOnce(kube::Error) -> Error + 'a {
    move |source| match &source {
        kube::Error::Api(s) => {
            let failure = failure(region, verb, resource, namespace, s.message.clone());
            if s.code == 403 { Error::Forbidden { failure, source } } else { Error::Api { failure, source } }
        }
        other if let Some(said) = credential_plugin_failure(other) => {
            Error::Unreachable { failure: failure(region, verb, resource, namespace, said), source: Some(source) }
        }
        other => {
            let deepest = deepest_cause(other);
            let said = if deepest == other.to_string() { deepest } else { format!("{other}: {deepest}") };
            Error::Unreachable { failure: failure(region, verb, resource, namespace, said), source: Some(source) }
        }
    }
}

/// What a kubeconfig's credential plugin (exec) said when it failed, in the operator's terms (the
/// plugin's own stderr, which usually says how to log in), found anywhere in an error's chain.
pub fn credential_plugin_failure(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    use kube::client::AuthError;
    let mut current = Some(e);
    while let Some(err) = current {
        if let Some(auth) = err.downcast_ref::<AuthError>() {
            return match auth {
                AuthError::AuthExecRun { cmd, out } => {
                    let said = String::from_utf8_lossy(&out.stderr).trim().to_string();
                    let program = cmd.split_whitespace().find(|w| !w.contains('=')).unwrap_or(cmd).trim_matches('"');
                    let code = out.status.code().map_or_else(|| "a signal".to_string(), |c| format!("exit code {c}"));
                    Some(format!(
                        "the kubeconfig's credential plugin {program} failed ({code}){}",
                        if said.is_empty() { String::new() } else { format!(": {said}") }
                    ))
                }
                AuthError::AuthExecStart(io) => {
                    Some(format!("the kubeconfig's credential plugin could not be started: {io}"))
                }
                AuthError::AuthExecParse(parse) => {
                    Some(format!("the kubeconfig's credential plugin printed no ExecCredential: {parse}"))
                }
                _ => None,
            };
        }
        current = err.source();
    }
    None
}

/// The bottom of an error's source chain: what an operator can act on ("Connection refused", a
/// TLS error), where the outer layers say only "client error (Connect)".
pub fn deepest_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut deepest = e;
    while let Some(next) = deepest.source() {
        deepest = next;
    }
    deepest.to_string()
}

/// A watcher's refusal (403) — of its initial list, of starting its watch, or sent in its stream —
/// as an [`Error`] naming the verb the server refused (`list` or `watch`); `None` for any other
/// error, which the watcher's back-off retries. A refusal will not fix itself: whoever waits on the
/// watcher must stop and say so.
pub fn watch_refusal(
    e: &kube::runtime::watcher::Error,
    region: &str,
    resource: &str,
    namespace: Option<&str>,
) -> Option<Error> {
    use kube::runtime::watcher::Error as W;
    let (verb, status) = match e {
        W::InitialListFailed(kube::Error::Api(s)) => ("list", s),
        W::WatchStartFailed(kube::Error::Api(s)) | W::WatchFailed(kube::Error::Api(s)) | W::WatchError(s) => {
            ("watch", s)
        }
        _ => return None,
    };
    (status.code == 403).then(|| kube_error(region, verb, resource, namespace)(kube::Error::Api(status.clone())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(code: u16, reason: &str, message: &str) -> kube::Error {
        kube::Error::Api(kube::core::Status::failure(message, reason).with_code(code).boxed())
    }

    #[test]
    fn messages_name_what_was_refused_and_keep_the_answer_as_the_source() {
        let e = kube_error("eu-west", "create", "pods", Some("identity"))(api(
            403,
            "Forbidden",
            "pods is forbidden: User \"viewer\" cannot create resource",
        ));
        assert!(matches!(e, Error::Forbidden { .. }));
        assert_eq!(e.code(), Some(403));
        assert_eq!(
            e.to_string(),
            "eu-west: forbidden: cannot create pods in namespace identity (pods is forbidden: User \"viewer\" cannot create resource)"
        );
        let source = std::error::Error::source(&e).and_then(|s| s.downcast_ref::<kube::Error>());
        assert!(matches!(source, Some(kube::Error::Api(s)) if s.code == 403 && s.reason == "Forbidden"), "{source:?}");
        let conflict =
            kube_error("eu-west", "create", "pods", None)(api(409, "AlreadyExists", "pods \"p\" already exists"));
        assert_eq!(conflict.code(), Some(409));
        assert_eq!(conflict.to_string(), "eu-west: cannot create pods: pods \"p\" already exists (409 AlreadyExists)");
        assert_eq!(
            Error::gave_up("us-east", "list", "jobs", None, "connection refused").to_string(),
            "us-east: cannot reach the cluster (list jobs): connection refused"
        );
    }

    #[test]
    fn a_note_keeps_the_kind_of_error_and_adds_to_what_it_says() {
        let refused = kube_error("eu-west", "create", "configmaps", Some("billing"))(api(403, "Forbidden", "denied"));
        let noted = refused.with_note("pod billing/p is left behind");
        assert!(matches!(noted, Error::Forbidden { .. }));
        assert_eq!(
            noted.to_string(),
            "eu-west: forbidden: cannot create configmaps in namespace billing (denied; pod billing/p is left behind)"
        );
        assert_eq!(Error::Input("bad".into()).with_note("more").to_string(), "bad; more");
    }

    #[test]
    fn a_watchers_refusal_names_the_refused_verb_whichever_step_was_refused() {
        use kube::runtime::watcher::Error as W;
        let refused = |verb: &str| {
            api(
                403,
                "Forbidden",
                &format!(
                    "pods is forbidden: User \"u\" cannot {verb} resource \"pods\" in API group \"\" in the namespace \"team\""
                ),
            )
        };
        let cases = [
            (W::InitialListFailed(refused("list")), "list"),
            (W::WatchStartFailed(refused("watch")), "watch"),
            (W::WatchFailed(refused("watch")), "watch"),
        ];
        for (e, verb) in cases {
            let mapped = watch_refusal(&e, "eu-west", "pods", Some("team")).expect("a refusal");
            let Error::Forbidden { failure, .. } = &mapped else { panic!("forbidden: {mapped}") };
            assert_eq!((failure.verb.as_str(), failure.namespace.as_deref()), (verb, Some("team")), "{e}");
            assert!(failure.message.contains(&format!("cannot {verb} resource")), "{mapped}");
        }
        let in_stream =
            W::WatchError(kube::core::Status::failure("pods is forbidden", "Forbidden").with_code(403).boxed());
        assert!(matches!(watch_refusal(&in_stream, "eu-west", "pods", None), Some(Error::Forbidden { .. })));
        for retried in [W::WatchStartFailed(api(500, "InternalError", "boom")), W::NoResourceVersion] {
            assert!(watch_refusal(&retried, "eu-west", "pods", None).is_none(), "{retried} is retried");
        }
    }
}

//! Errors of the lifecycle engine room, each saying what was being done, where, and what the cluster
//! answered — a 403 names the verb, the resource and the namespace that were refused.

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
    /// HTTP code (0 when there was no answer).
    pub code: u16,
    /// Status reason (empty when there was no answer).
    pub reason: String,
    /// What the server or the client said.
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
    /// RBAC refused a request.
    #[error("{}: forbidden: cannot {} ({})", .0.region, .0.what(), .0.message)]
    Forbidden(Box<Failure>),
    /// Any other API error.
    #[error("{}: cannot {}: {} ({} {})", .0.region, .0.what(), .0.message, .0.code, .0.reason)]
    Api(Box<Failure>),
    /// The cluster could not be reached (or the connection broke).
    #[error("{}: cannot reach the cluster ({}): {}", .0.region, .0.what(), .0.message)]
    Unreachable(Box<Failure>),
    /// Something asked for does not exist.
    #[error("{0}")]
    NotFound(String),
    /// Bad input from the user (a tenant that does not exist, a malformed changeset, …).
    #[error("{0}")]
    Input(String),
    /// A mutation the console refuses (read-only mode, no confirmation).
    #[error("{0}")]
    Refused(String),
    /// The kubeconfig or a client could not be set up.
    #[error("{0}")]
    Setup(String),
}

impl Error {
    /// The same error with `note` added to what it says (what else went wrong on the way out).
    pub fn with_note(mut self, note: impl fmt::Display) -> Error {
        match &mut self {
            Error::Forbidden(f) | Error::Api(f) | Error::Unreachable(f) => f.message = format!("{}; {note}", f.message),
            Error::NotFound(m) | Error::Input(m) | Error::Refused(m) | Error::Setup(m) => *m = format!("{m}; {note}"),
        }
        self
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
        code: 0,
        reason: String::new(),
        message: message.into(),
    })
}

/// Maps a kube-rs error for `verb resource [in namespace]` in `region` to an [`Error`].
pub fn kube_error<'a>(
    region: &'a str,
    verb: &'a str,
    resource: &'a str,
    namespace: Option<&'a str>,
) -> impl FnOnce(kube::Error) -> Error + 'a {
    move |e| match e {
        kube::Error::Api(s) => {
            let mut f = failure(region, verb, resource, namespace, s.message.clone());
            f.code = s.code;
            f.reason = s.reason.clone();
            if s.code == 403 { Error::Forbidden(f) } else { Error::Api(f) }
        }
        other => Error::Unreachable(failure(region, verb, resource, namespace, other.to_string())),
    }
}

impl Error {
    /// The HTTP code of an API error, if it is one.
    pub fn code(&self) -> Option<u16> {
        match self {
            Error::Api(f) | Error::Forbidden(f) => Some(f.code),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_what_was_refused() {
        let mut f = failure(
            "eu-west",
            "create",
            "pods",
            Some("identity"),
            "pods is forbidden: User \"viewer\" cannot create resource",
        );
        f.code = 403;
        assert_eq!(
            Error::Forbidden(f).to_string(),
            "eu-west: forbidden: cannot create pods in namespace identity (pods is forbidden: User \"viewer\" cannot create resource)"
        );
        assert_eq!(
            Error::Unreachable(failure("us-east", "list", "jobs", None, "connection refused")).to_string(),
            "us-east: cannot reach the cluster (list jobs): connection refused"
        );
    }

    #[test]
    fn a_note_keeps_the_kind_of_error_and_adds_to_what_it_says() {
        let refused = Error::Forbidden(failure("eu-west", "create", "configmaps", Some("billing"), "denied"));
        let noted = refused.with_note("pod billing/p is left behind");
        assert!(matches!(noted, Error::Forbidden(_)));
        assert_eq!(
            noted.to_string(),
            "eu-west: forbidden: cannot create configmaps in namespace billing (denied; pod billing/p is left behind)"
        );
        assert_eq!(Error::Input("bad".into()).with_note("more").to_string(), "bad; more");
    }
}

//! URL paths of the Kubernetes API, parsed into what a request is about.

use crate::store::resource::{Resource, ResourceInfo};

/// What a request path addresses.
#[derive(Debug, PartialEq, Eq)]
pub enum Route {
    /// `/version`.
    Version,
    /// `/healthz`, `/livez`, `/readyz`.
    Health,
    /// `/api`.
    CoreVersions,
    /// `/apis`.
    Groups,
    /// `/apis/{group}`.
    Group(String),
    /// `/api/v1` or `/apis/{group}/{version}`.
    GroupVersion(String, String),
    /// `/openapi/v2`, `/openapi/v3` and below.
    OpenApi(String),
    /// A resource collection, object or subresource.
    Resource(Target),
}

/// A resource request's target.
#[derive(Debug, PartialEq, Eq)]
pub struct Target {
    /// The resource type.
    pub info: &'static ResourceInfo,
    /// The namespace in the path (`None` for cluster-scoped and all-namespaces requests).
    pub namespace: Option<String>,
    /// The object name, if the path names one.
    pub name: Option<String>,
    /// `status`, `log`, … .
    pub subresource: Option<String>,
}

fn target(
    info: &'static ResourceInfo,
    namespace: Option<&str>,
    name: Option<&str>,
    sub: Option<&str>,
) -> Option<Route> {
    if let Some(s) = sub
        && !info.subresources.contains(&s)
    {
        return None;
    }
    // A namespaced path needs a namespaced resource; an object of a namespaced resource needs a namespace.
    if (namespace.is_some() && !info.namespaced) || (info.namespaced && namespace.is_none() && name.is_some()) {
        return None;
    }
    Some(Route::Resource(Target {
        info,
        namespace: namespace.map(str::to_string),
        name: name.map(str::to_string),
        subresource: sub.map(str::to_string),
    }))
}

fn resources(group: &str, version: &str, rest: &[&str]) -> Option<Route> {
    let lookup = |plural: &str| ResourceInfo::lookup(group, version, plural);
    let namespaces = Resource::Namespaces.info();
    match rest {
        [] => Some(Route::GroupVersion(group.to_string(), version.to_string())),
        // `namespaces/{name}` and its subresources are the Namespace object itself.
        ["namespaces", ns] if group.is_empty() => target(namespaces, None, Some(ns), None),
        ["namespaces", ns, sub @ ("status" | "finalize")] if group.is_empty() => {
            target(namespaces, None, Some(ns), Some(sub))
        }
        ["namespaces", ns, plural] => target(lookup(plural)?, Some(ns), None, None),
        ["namespaces", ns, plural, name] => target(lookup(plural)?, Some(ns), Some(name), None),
        ["namespaces", ns, plural, name, sub] => target(lookup(plural)?, Some(ns), Some(name), Some(sub)),
        [plural] => target(lookup(plural)?, None, None, None),
        [plural, name] => target(lookup(plural)?, None, Some(name), None),
        [plural, name, sub] => target(lookup(plural)?, None, Some(name), Some(sub)),
        _ => None,
    }
}

/// Parses a request path; `None` is a 404.
pub fn parse(path: &str) -> Option<Route> {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
    if segments.iter().any(|s| s.is_empty()) && path != "/" {
        return None;
    }
    match segments.as_slice() {
        ["version"] => Some(Route::Version),
        ["healthz" | "livez" | "readyz", ..] => Some(Route::Health),
        ["openapi", ..] => Some(Route::OpenApi(path.to_string())),
        ["api"] => Some(Route::CoreVersions),
        ["api", "v1", rest @ ..] => resources("", "v1", rest),
        ["apis"] => Some(Route::Groups),
        ["apis", group] => crate::store::resource::RESOURCES
            .iter()
            .any(|r| r.group == *group && !group.is_empty())
            .then(|| Route::Group(group.to_string())),
        ["apis", group, version, rest @ ..] => {
            let known = crate::store::resource::RESOURCES
                .iter()
                .any(|r| r.group == *group && r.version == *version && !group.is_empty());
            if known { resources(group, version, rest) } else { None }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(path: &str) -> Target {
        match parse(path) {
            Some(Route::Resource(t)) => t,
            other => panic!("{path}: {other:?}"),
        }
    }

    #[test]
    fn resource_paths() {
        let t = res("/api/v1/namespaces/team-a/pods/p1/log");
        assert_eq!(
            (t.info.plural, t.namespace.as_deref(), t.name.as_deref(), t.subresource.as_deref()),
            ("pods", Some("team-a"), Some("p1"), Some("log"))
        );
        let t = res("/api/v1/pods");
        assert_eq!((t.info.plural, t.namespace, t.name), ("pods", None, None));
        let t = res("/api/v1/namespaces/team-a");
        assert_eq!((t.info.plural, t.namespace, t.name.as_deref()), ("namespaces", None, Some("team-a")));
        let t = res("/apis/batch/v1/namespaces/x/jobs");
        assert_eq!(t.info.kind, "Job");
        let t = res("/apis/argoproj.io/v1alpha1/workflows");
        assert_eq!(t.info.kind, "Workflow");
        let t = res("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews");
        assert_eq!(t.info.kind, "SelfSubjectAccessReview");
    }

    #[test]
    fn unknown_paths_are_none() {
        for p in [
            "/api/v1/secrets",
            "/api/v1/pods/p1",
            "/api/v1/namespaces/a/pods/p/exec",
            "/apis/apps/v1/deployments",
            "/apis/batch/v2/jobs",
            "/api/v1/namespaces/a/namespaces",
            "/nope",
            "/api//v1",
        ] {
            assert!(parse(p).is_none(), "{p}");
        }
        assert_eq!(parse("/apis/batch"), Some(Route::Group("batch".into())));
        assert_eq!(parse("/api/v1"), Some(Route::GroupVersion(String::new(), "v1".into())));
        assert_eq!(parse("/version"), Some(Route::Version));
    }
}

//! RBAC as the API server evaluates it (`plugin/pkg/auth/authorizer/rbac`): Roles and ClusterRoles
//! hold rules; RoleBindings (effective in their namespace) and ClusterRoleBindings grant them to
//! Users, Groups and ServiceAccounts. The store keeps this index up to date in the same write that
//! changes an RBAC object, so a binding takes effect for the very next request. Bindings are indexed
//! by subject (user name, group) and by namespace: authorizing a request looks at the bindings of
//! that user and its groups in that namespace, never at every binding of the cluster.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use k8s_openapi::api::rbac::v1 as rbac;
use serde_json::Value;

use super::resource::Resource;
use crate::auth::{Attributes, SERVICE_ACCOUNT_PREFIX};

/// One rule of a Role or ClusterRole.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PolicyRule {
    /// `verbs` (`*` for all).
    pub verbs: Vec<String>,
    /// `apiGroups` (`*` for all, `""` for core).
    pub api_groups: Vec<String>,
    /// `resources`: `pods`, `pods/log`, `*/log`, `*`.
    pub resources: Vec<String>,
    /// `resourceNames` (empty: any name).
    pub resource_names: Vec<String>,
}

impl PolicyRule {
    /// Whether the rule allows the request (upstream's `RuleAllows` for resource requests).
    pub fn allows(&self, a: &Attributes<'_>) -> bool {
        let verb = self.verbs.iter().any(|v| v == "*" || v == a.verb);
        let group = self.api_groups.iter().any(|g| g == "*" || g == a.group);
        verb && group && self.resource_matches(a) && self.name_matches(a.name.unwrap_or_default())
    }

    fn resource_matches(&self, a: &Attributes<'_>) -> bool {
        self.resources.iter().any(|r| {
            if r == "*" {
                return true;
            }
            match a.subresource {
                None => r == a.resource,
                Some(sub) => {
                    r.strip_suffix(sub).and_then(|p| p.strip_suffix('/')).is_some_and(|p| p == a.resource || p == "*")
                }
            }
        })
    }

    fn name_matches(&self, name: &str) -> bool {
        self.resource_names.is_empty() || self.resource_names.iter().any(|n| n == name)
    }
}

fn rules_of(rules: Option<Vec<rbac::PolicyRule>>) -> Arc<[PolicyRule]> {
    rules
        .unwrap_or_default()
        .into_iter()
        .map(|r| PolicyRule {
            verbs: r.verbs,
            api_groups: r.api_groups.unwrap_or_default(),
            resources: r.resources.unwrap_or_default(),
            resource_names: r.resource_names.unwrap_or_default(),
        })
        .collect()
}

/// A subject of a binding, as it matches requests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subject {
    /// A user, by name.
    User(String),
    /// A group, by name.
    Group(String),
    /// A service account (namespace defaulted to a RoleBinding's own), as its user name
    /// `system:serviceaccount:NS:NAME`; `None` when it can match nobody (no namespace).
    ServiceAccount {
        /// `namespace/name`, for messages.
        display: String,
        /// The user name it matches.
        user: Option<String>,
    },
    /// A kind RBAC does not know: matches nobody.
    Other,
}

impl Subject {
    fn describe(&self) -> String {
        match self {
            Subject::User(n) => format!("User {n:?}"),
            Subject::Group(n) => format!("Group {n:?}"),
            Subject::ServiceAccount { display, .. } => format!("ServiceAccount {display:?}"),
            Subject::Other => String::new(),
        }
    }

    fn applies(&self, user: &str, groups: &[String]) -> bool {
        match self {
            Subject::User(n) => n == user,
            Subject::Group(g) => groups.iter().any(|x| x == g),
            Subject::ServiceAccount { user: Some(u), .. } => u == user,
            Subject::ServiceAccount { user: None, .. } | Subject::Other => false,
        }
    }
}

/// A RoleBinding (with its namespace) or ClusterRoleBinding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding {
    /// Its name.
    pub name: String,
    /// Its namespace; `None` for a ClusterRoleBinding.
    pub namespace: Option<String>,
    /// `roleRef.kind`: `Role` or `ClusterRole`.
    pub role_kind: String,
    /// `roleRef.name`.
    pub role_name: String,
    /// Its subjects, in order.
    pub subjects: Vec<Subject>,
}

impl Binding {
    fn from_parts(
        name: String,
        namespace: Option<String>,
        role_ref: rbac::RoleRef,
        subjects: Vec<rbac::Subject>,
    ) -> Self {
        let subjects = subjects
            .into_iter()
            .map(|s| match s.kind.as_str() {
                "User" => Subject::User(s.name),
                "Group" => Subject::Group(s.name),
                "ServiceAccount" => {
                    let ns = s.namespace.filter(|n| !n.is_empty()).or_else(|| namespace.clone());
                    Subject::ServiceAccount {
                        display: format!("{}/{}", s.name, ns.clone().unwrap_or_default()),
                        user: ns.map(|ns| format!("{SERVICE_ACCOUNT_PREFIX}{ns}:{}", s.name)),
                    }
                }
                _ => Subject::Other,
            })
            .collect();
        Binding { name, namespace, role_kind: role_ref.kind, role_name: role_ref.name, subjects }
    }

    /// The user names and groups whose requests this binding may apply to.
    fn keys(&self) -> impl Iterator<Item = (bool, &str)> {
        self.subjects.iter().filter_map(|s| match s {
            Subject::User(n) => Some((true, n.as_str())),
            Subject::ServiceAccount { user: Some(u), .. } => Some((true, u.as_str())),
            Subject::Group(g) => Some((false, g.as_str())),
            _ => None,
        })
    }

    /// Upstream's description of where a permission came from.
    fn describe(&self, subject: &Subject) -> String {
        match &self.namespace {
            Some(ns) => format!(
                "RoleBinding {:?} of {} {:?} to {}",
                format!("{}/{ns}", self.name),
                self.role_kind,
                self.role_name,
                subject.describe()
            ),
            None => format!(
                "ClusterRoleBinding {:?} of {} {:?} to {}",
                self.name,
                self.role_kind,
                self.role_name,
                subject.describe()
            ),
        }
    }
}

/// The bindings of one subject: ClusterRoleBindings by name, RoleBindings by namespace and name.
#[derive(Debug, Default)]
struct Grants {
    cluster: BTreeSet<String>,
    namespaced: HashMap<String, BTreeSet<String>>,
}

impl Grants {
    fn is_empty(&self) -> bool {
        self.cluster.is_empty() && self.namespaced.is_empty()
    }
}

/// What RBAC decided, and why (upstream's reason strings).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RbacDecision {
    /// Whether a rule allows the request.
    pub allowed: bool,
    /// `RBAC: allowed by …`, or on a denial the errors met resolving roles (`RBAC: role… not
    /// found`), or empty.
    pub reason: String,
}

/// Roles and bindings, indexed for authorization.
#[derive(Debug, Default)]
pub struct RbacIndex {
    roles: HashMap<(String, String), Arc<[PolicyRule]>>,
    cluster_roles: HashMap<String, Arc<[PolicyRule]>>,
    role_bindings: HashMap<(String, String), Arc<Binding>>,
    cluster_role_bindings: HashMap<String, Arc<Binding>>,
    by_user: HashMap<String, Grants>,
    by_group: HashMap<String, Grants>,
}

/// Whether a resource is one of the four RBAC kinds.
pub fn is_rbac(resource: Resource) -> bool {
    matches!(
        resource,
        Resource::Roles | Resource::RoleBindings | Resource::ClusterRoles | Resource::ClusterRoleBindings
    )
}

fn meta(object: &Value, field: &str) -> String {
    object.pointer(&format!("/metadata/{field}")).and_then(Value::as_str).unwrap_or_default().to_string()
}

impl RbacIndex {
    /// Keeps the index in step with one stored change of an RBAC object (`present`: it exists
    /// after the change, as `object`; otherwise it was deleted).
    pub fn apply(&mut self, resource: Resource, object: &Value, present: bool) {
        let (namespace, name) = (meta(object, "namespace"), meta(object, "name"));
        match resource {
            Resource::Roles => {
                let key = (namespace, name);
                match serde_json::from_value::<rbac::Role>(object.clone()).ok().filter(|_| present) {
                    Some(role) => self.roles.insert(key, rules_of(role.rules)),
                    None => self.roles.remove(&key),
                };
            }
            Resource::ClusterRoles => {
                match serde_json::from_value::<rbac::ClusterRole>(object.clone()).ok().filter(|_| present) {
                    Some(role) => self.cluster_roles.insert(name, rules_of(role.rules)),
                    None => self.cluster_roles.remove(&name),
                };
            }
            Resource::RoleBindings => {
                let key = (namespace.clone(), name.clone());
                if let Some(old) = self.role_bindings.remove(&key) {
                    self.unindex(&old);
                }
                if let Some(b) = serde_json::from_value::<rbac::RoleBinding>(object.clone()).ok().filter(|_| present) {
                    let binding = Arc::new(Binding::from_parts(
                        name,
                        Some(namespace),
                        b.role_ref,
                        b.subjects.unwrap_or_default(),
                    ));
                    self.index(&binding);
                    self.role_bindings.insert(key, binding);
                }
            }
            Resource::ClusterRoleBindings => {
                if let Some(old) = self.cluster_role_bindings.remove(&name) {
                    self.unindex(&old);
                }
                if let Some(b) =
                    serde_json::from_value::<rbac::ClusterRoleBinding>(object.clone()).ok().filter(|_| present)
                {
                    let binding =
                        Arc::new(Binding::from_parts(name.clone(), None, b.role_ref, b.subjects.unwrap_or_default()));
                    self.index(&binding);
                    self.cluster_role_bindings.insert(name, binding);
                }
            }
            _ => {}
        }
    }

    fn grants(&mut self, user: bool, key: &str) -> &mut Grants {
        let map = if user { &mut self.by_user } else { &mut self.by_group };
        map.entry(key.to_string()).or_default()
    }

    fn index(&mut self, binding: &Binding) {
        for (user, key) in binding.keys() {
            let grants = self.grants(user, key);
            match &binding.namespace {
                Some(ns) => {
                    grants.namespaced.entry(ns.clone()).or_default().insert(binding.name.clone());
                }
                None => {
                    grants.cluster.insert(binding.name.clone());
                }
            }
        }
    }

    fn unindex(&mut self, binding: &Binding) {
        for (user, key) in binding.keys() {
            let map = if user { &mut self.by_user } else { &mut self.by_group };
            let Some(grants) = map.get_mut(key) else { continue };
            match &binding.namespace {
                Some(ns) => {
                    if let Some(names) = grants.namespaced.get_mut(ns) {
                        names.remove(&binding.name);
                        if names.is_empty() {
                            grants.namespaced.remove(ns);
                        }
                    }
                }
                None => {
                    grants.cluster.remove(&binding.name);
                }
            }
            if grants.is_empty() {
                map.remove(key);
            }
        }
    }

    fn role_rules(&self, binding: &Binding) -> Result<Arc<[PolicyRule]>, String> {
        match (binding.role_kind.as_str(), &binding.namespace) {
            ("Role", Some(ns)) => self
                .roles
                .get(&(ns.clone(), binding.role_name.clone()))
                .cloned()
                .ok_or_else(|| format!("role.rbac.authorization.k8s.io {:?} not found", binding.role_name)),
            ("ClusterRole", _) => self
                .cluster_roles
                .get(&binding.role_name)
                .cloned()
                .ok_or_else(|| format!("clusterrole.rbac.authorization.k8s.io {:?} not found", binding.role_name)),
            (kind, _) => Err(format!("unsupported role reference kind: {kind:?}")),
        }
    }

    /// The bindings that may apply to `user` with `groups`: ClusterRoleBindings, then (for a
    /// namespaced request) the RoleBindings of that namespace, each in name order.
    fn candidates(&self, user: &str, groups: &[String], namespace: Option<&str>) -> Vec<Arc<Binding>> {
        let grants: Vec<&Grants> =
            self.by_user.get(user).into_iter().chain(groups.iter().filter_map(|g| self.by_group.get(g))).collect();
        let cluster: BTreeSet<&String> = grants.iter().flat_map(|g| g.cluster.iter()).collect();
        let mut out: Vec<Arc<Binding>> =
            cluster.into_iter().filter_map(|n| self.cluster_role_bindings.get(n).cloned()).collect();
        if let Some(ns) = namespace.filter(|n| !n.is_empty()) {
            let names: BTreeSet<&String> = grants.iter().filter_map(|g| g.namespaced.get(ns)).flatten().collect();
            out.extend(names.into_iter().filter_map(|n| self.role_bindings.get(&(ns.to_string(), n.clone())).cloned()));
        }
        out
    }

    /// Authorizes a request as upstream's RBAC authorizer does.
    pub fn authorize(&self, user: &str, groups: &[String], a: &Attributes<'_>) -> RbacDecision {
        let mut errors: Vec<String> = Vec::new();
        for binding in self.candidates(user, groups, a.namespace) {
            let Some(subject) = binding.subjects.iter().find(|s| s.applies(user, groups)) else { continue };
            match self.role_rules(&binding) {
                Err(e) => {
                    if !errors.contains(&e) {
                        errors.push(e);
                    }
                }
                Ok(rules) => {
                    if rules.iter().any(|r| r.allows(a)) {
                        return RbacDecision {
                            allowed: true,
                            reason: format!("RBAC: allowed by {}", binding.describe(subject)),
                        };
                    }
                }
            }
        }
        let reason = match errors.as_slice() {
            [] => String::new(),
            [one] => format!("RBAC: {one}"),
            many => format!("RBAC: [{}]", many.join(", ")),
        };
        RbacDecision { allowed: false, reason }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn attrs<'a>(verb: &'a str, resource: &'a str, sub: Option<&'a str>, ns: Option<&'a str>) -> Attributes<'a> {
        Attributes { verb, group: "", resource, subresource: sub, namespace: ns, name: None }
    }

    fn rule(verbs: &[&str], resources: &[&str], names: &[&str]) -> PolicyRule {
        let v = |xs: &[&str]| xs.iter().map(|x| x.to_string()).collect();
        PolicyRule {
            verbs: v(verbs),
            api_groups: vec![String::new()],
            resources: v(resources),
            resource_names: v(names),
        }
    }

    #[test]
    fn rules_match_like_upstream() {
        let pods = rule(&["get"], &["pods"], &[]);
        assert!(pods.allows(&attrs("get", "pods", None, Some("a"))));
        assert!(!pods.allows(&attrs("get", "pods", Some("log"), Some("a"))), "pods does not cover pods/log");
        assert!(!pods.allows(&attrs("list", "pods", None, Some("a"))));
        assert!(rule(&["get"], &["pods/log"], &[]).allows(&attrs("get", "pods", Some("log"), None)));
        assert!(rule(&["get"], &["*/log"], &[]).allows(&attrs("get", "pods", Some("log"), None)));
        assert!(
            !rule(&["get"], &["pods/*"], &[]).allows(&attrs("get", "pods", Some("log"), None)),
            "no pods/* in RBAC"
        );
        assert!(rule(&["*"], &["*"], &[]).allows(&attrs("delete", "jobs", Some("status"), None)));
        let named = rule(&["get", "update"], &["configmaps"], &["settings"]);
        let mut a = attrs("get", "configmaps", None, Some("a"));
        assert!(!named.allows(&a), "no name: resourceNames never match");
        a.name = Some("settings");
        assert!(named.allows(&a));
        a.name = Some("other");
        assert!(!named.allows(&a));
        let mut batch = attrs("create", "jobs", None, None);
        batch.group = "batch";
        assert!(!rule(&["*"], &["*"], &[]).allows(&batch), "apiGroups [\"\"] is the core group only");
    }

    #[test]
    fn bindings_are_found_by_subject_and_namespace_and_kept_in_step() {
        let mut index = RbacIndex::default();
        let role = json!({"metadata": {"name": "pod-maker", "namespace": "billing"},
            "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["create"]}]});
        let binding = json!({"metadata": {"name": "argo-makes-pods", "namespace": "billing"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "pod-maker"},
            "subjects": [{"kind": "User", "name": "alice"}, {"kind": "ServiceAccount", "name": "runner", "namespace": "argo"}]});
        index.apply(Resource::RoleBindings, &binding, true);
        let sa = "system:serviceaccount:argo:runner";
        let create = attrs("create", "pods", None, Some("billing"));
        let missing = index.authorize(sa, &[], &create);
        assert_eq!(
            missing,
            RbacDecision {
                allowed: false,
                reason: "RBAC: role.rbac.authorization.k8s.io \"pod-maker\" not found".into()
            }
        );
        index.apply(Resource::Roles, &role, true);
        let ok = index.authorize(sa, &[], &create);
        assert_eq!(
            ok.reason,
            "RBAC: allowed by RoleBinding \"argo-makes-pods/billing\" of Role \"pod-maker\" to ServiceAccount \"runner/argo\""
        );
        assert!(!index.authorize(sa, &[], &attrs("create", "pods", None, Some("other"))).allowed);
        assert!(!index.authorize(sa, &[], &attrs("create", "pods", None, None)).allowed, "cluster scope");
        assert!(index.authorize("alice", &[], &create).allowed);
        assert!(!index.authorize("bob", &[], &create).allowed);
        index.apply(Resource::RoleBindings, &binding, false);
        assert_eq!(index.authorize(sa, &[], &create), RbacDecision { allowed: false, reason: String::new() });
        assert!(index.by_user.is_empty(), "nothing left indexed");
    }

    #[test]
    fn cluster_role_bindings_and_groups_apply_everywhere() {
        let mut index = RbacIndex::default();
        index.apply(
            Resource::ClusterRoles,
            &json!({"metadata": {"name": "reader"}, "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["get", "list"]}]}),
            true,
        );
        index.apply(
            Resource::ClusterRoleBindings,
            &json!({"metadata": {"name": "everyone-reads"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "reader"},
                "subjects": [{"kind": "Group", "name": "system:serviceaccounts:argo"}, {"kind": "Group", "name": "nobody"}]}),
            true,
        );
        let groups = vec!["system:serviceaccounts".to_string(), "system:serviceaccounts:argo".to_string()];
        let d = index.authorize("system:serviceaccount:argo:x", &groups, &attrs("list", "pods", None, None));
        assert_eq!(
            d.reason,
            "RBAC: allowed by ClusterRoleBinding \"everyone-reads\" of ClusterRole \"reader\" to Group \"system:serviceaccounts:argo\""
        );
        assert!(
            !index.authorize("system:serviceaccount:argo:x", &groups, &attrs("delete", "pods", None, None)).allowed
        );
        assert!(!index.authorize("system:serviceaccount:other:x", &[], &attrs("list", "pods", None, None)).allowed);
    }
}

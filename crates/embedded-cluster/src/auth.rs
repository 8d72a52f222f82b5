//! Who may do what: bearer tokens identify users — the cluster's configured users, each with
//! static RBAC-like rules, and service accounts, whose tokens the cluster issues to pods — and so
//! do client certificates the cluster's CA signed (CN the user, O its groups). A request
//! is allowed by the user's static rules or by RBAC (Roles, ClusterRoles and their bindings, stored
//! like any object; see [`crate::store::rbac`]). The same evaluation answers SelfSubjectAccessReviews
//! and is enforced on every request, so tests see exactly the 403s a real cluster would give.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};

use serde_json::Value;

use crate::store::Store;
use crate::store::resource::Resource;

/// The uid of a service account, empty when it does not exist.
fn service_account_uid(store: &Store, namespace: &str, name: &str) -> String {
    store
        .get(Resource::ServiceAccounts, namespace, name)
        .ok()
        .and_then(|sa| sa.pointer("/metadata/uid").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_default()
}

/// What a request wants to do, in RBAC's terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attributes<'a> {
    /// `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`, `deletecollection`.
    pub verb: &'a str,
    /// API group (empty for core).
    pub group: &'a str,
    /// Resource plural, e.g. `pods`.
    pub resource: &'a str,
    /// Subresource, e.g. `log`.
    pub subresource: Option<&'a str>,
    /// Namespace, for namespaced requests.
    pub namespace: Option<&'a str>,
    /// The object's name, for requests about one object (and list/watch with a
    /// `metadata.name=` field selector, as the API server sets it); RBAC's `resourceNames` match it.
    pub name: Option<&'a str>,
}

/// One permission: verbs × groups × resources, cluster-wide or in some namespaces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// Allowed verbs (`*` for all).
    pub verbs: Vec<String>,
    /// Allowed API groups (`*` for all, `""` for core).
    pub api_groups: Vec<String>,
    /// Allowed resources: `pods`, `pods/log`, `pods/*`, `*`.
    pub resources: Vec<String>,
    /// `None`: cluster-wide (like a ClusterRoleBinding); `Some`: only these namespaces (RoleBindings).
    pub namespaces: Option<Vec<String>>,
}

fn any_or(list: &[String], value: &str) -> bool {
    list.iter().any(|v| v == "*" || v == value)
}

impl Rule {
    /// A rule for `verbs` on every resource of every group, cluster-wide.
    pub fn everything(verbs: &[&str]) -> Self {
        Rule {
            verbs: verbs.iter().map(|v| v.to_string()).collect(),
            api_groups: vec!["*".into()],
            resources: vec!["*".into()],
            namespaces: None,
        }
    }

    /// Whether this rule grants the request.
    pub fn allows(&self, a: &Attributes<'_>) -> bool {
        if !any_or(&self.verbs, a.verb) || !any_or(&self.api_groups, a.group) {
            return false;
        }
        let resource_ok = self.resources.iter().any(|r| match a.subresource {
            None => r == "*" || r == a.resource,
            Some(sub) => {
                r == "*"
                    || r.split_once('/')
                        .is_some_and(|(res, s)| (res == a.resource || res == "*") && (s == sub || s == "*"))
            }
        });
        if !resource_ok {
            return false;
        }
        match (&self.namespaces, a.namespace) {
            (None, _) => true,
            (Some(allowed), Some(ns)) => allowed.iter().any(|n| n == ns),
            (Some(_), None) => false,
        }
    }
}

/// A user of the embedded cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    /// The user name RBAC messages show.
    pub name: String,
    /// The bearer token that identifies the user.
    pub token: String,
    /// What the user may do.
    pub rules: Vec<Rule>,
}

impl User {
    /// Everything, everywhere.
    pub fn admin(name: &str, token: &str) -> Self {
        User { name: name.into(), token: token.into(), rules: vec![Rule::everything(&["*"])] }
    }

    /// get, list and watch on everything (logs included), nothing else.
    pub fn read_only(name: &str, token: &str) -> Self {
        User { name: name.into(), token: token.into(), rules: vec![Rule::everything(&["get", "list", "watch"])] }
    }

    /// Everything, but only in the given namespaces.
    pub fn namespace_admin(name: &str, token: &str, namespaces: &[&str]) -> Self {
        let mut rule = Rule::everything(&["*"]);
        rule.namespaces = Some(namespaces.iter().map(|n| n.to_string()).collect());
        User { name: name.into(), token: token.into(), rules: vec![rule] }
    }

    /// Whether any rule grants the request. Creating a SelfSubjectAccessReview is always allowed
    /// (every authenticated user may ask what it may do).
    pub fn allows(&self, a: &Attributes<'_>) -> bool {
        (a.resource == "selfsubjectaccessreviews" && a.verb == "create") || self.rules.iter().any(|r| r.allows(a))
    }
}

/// The group every authenticated user is in.
pub const AUTHENTICATED: &str = "system:authenticated";
/// The prefix of service account user names: `system:serviceaccount:NAMESPACE:NAME`.
pub const SERVICE_ACCOUNT_PREFIX: &str = "system:serviceaccount:";

/// Who a request comes from, as authentication established it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// The user name RBAC matches and messages show (`viewer`, `system:serviceaccount:argo:default`).
    pub name: String,
    /// Its groups (`system:authenticated`, and for service accounts `system:serviceaccounts`,
    /// `system:serviceaccounts:NAMESPACE`).
    pub groups: Vec<String>,
    /// The configured user with its static rules; `None` for service accounts.
    pub user: Option<User>,
}

impl Identity {
    /// A configured user (group `system:authenticated`).
    pub fn of_user(user: User) -> Self {
        Identity { name: user.name.clone(), groups: vec![AUTHENTICATED.to_string()], user: Some(user) }
    }

    /// A service account, with the user name and groups the token authenticator gives it.
    pub fn service_account(namespace: &str, name: &str) -> Self {
        Identity {
            name: format!("{SERVICE_ACCOUNT_PREFIX}{namespace}:{name}"),
            groups: vec![
                "system:serviceaccounts".to_string(),
                format!("system:serviceaccounts:{namespace}"),
                AUTHENTICATED.to_string(),
            ],
            user: None,
        }
    }

    /// `(namespace, name)` when this is a service account.
    pub fn service_account_of(&self) -> Option<(&str, &str)> {
        self.name.strip_prefix(SERVICE_ACCOUNT_PREFIX)?.split_once(':')
    }
}

/// An authorization decision, with the reasons the API reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    /// Whether the request is allowed.
    pub allowed: bool,
    /// Why, as a SelfSubjectAccessReview reports it (may be empty).
    pub reason: String,
    /// On a denial, what a 403 message adds after `: ` (RBAC's errors resolving roles, e.g.
    /// `RBAC: role.rbac.authorization.k8s.io "x" not found`); usually empty.
    pub denial: String,
}

/// A service account, by namespace, name and uid (a re-created account is another account).
type Account = (String, String, String);

#[derive(Debug, Default)]
struct Tokens {
    by_token: HashMap<String, Account>,
    by_account: HashMap<Account, String>,
}

/// The users and service account tokens of one embedded cluster; changeable at runtime through
/// the cluster handle.
#[derive(Debug, Default)]
pub struct Policy {
    users: RwLock<Vec<User>>,
    tokens: RwLock<Tokens>,
}

impl Policy {
    /// A policy with the given users.
    pub fn new(users: Vec<User>) -> Self {
        Policy { users: RwLock::new(users), tokens: RwLock::default() }
    }

    /// Who a bearer token belongs to: a configured user, or a service account the cluster issued
    /// the token to — as long as that service account (the same object, by uid) still exists.
    pub fn authenticate(&self, store: &Store, token: &str) -> Option<Identity> {
        if token.is_empty() {
            return None;
        }
        let users = self.users.read().unwrap_or_else(PoisonError::into_inner);
        if let Some(u) = users.iter().find(|u| u.token == token) {
            return Some(Identity::of_user(u.clone()));
        }
        drop(users);
        let (ns, name, uid) = self.tokens.read().unwrap_or_else(PoisonError::into_inner).by_token.get(token)?.clone();
        (!uid.is_empty() && service_account_uid(store, &ns, &name) == uid)
            .then(|| Identity::service_account(&ns, &name))
    }

    /// Who a verified client certificate names: user `name` (its CN) in `groups` (its O entries)
    /// and `system:authenticated`, with the static rules of the configured user of that name, if
    /// any (else only what RBAC bindings grant the name or its groups).
    pub fn authenticate_certificate(&self, name: &str, groups: &[String]) -> Identity {
        let users = self.users.read().unwrap_or_else(PoisonError::into_inner);
        let user = users.iter().find(|u| u.name == name).cloned();
        let mut all: Vec<String> = groups.to_vec();
        all.push(AUTHENTICATED.to_string());
        Identity { name: name.to_string(), groups: all, user }
    }

    /// The bearer token of a service account: random like a projected token, issued on first use
    /// and then the same for every pod of the account. It authenticates while the account exists
    /// (a token asked for an account that does not exist authenticates nobody).
    pub fn service_account_token(&self, store: &Store, namespace: &str, name: &str) -> String {
        let key = (namespace.to_string(), name.to_string(), service_account_uid(store, namespace, name));
        if let Some(t) = self.tokens.read().unwrap_or_else(PoisonError::into_inner).by_account.get(&key) {
            return t.clone();
        }
        let mut tokens = self.tokens.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(t) = tokens.by_account.get(&key) {
            return t.clone();
        }
        let token = format!("tlc-sa-{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
        tokens.by_token.insert(token.clone(), key.clone());
        tokens.by_account.insert(key, token.clone());
        token
    }

    /// Whether `who` may do what `a` describes: a configured user's static rules, then RBAC.
    /// Every authenticated user may create SelfSubjectAccessReviews (upstream's
    /// `system:basic-user` binding).
    pub fn authorize(&self, store: &Store, who: &Identity, a: &Attributes<'_>) -> Decision {
        if let Some(user) = who.user.as_ref().filter(|u| u.allows(a)) {
            return Decision {
                allowed: true,
                reason: format!("allowed by the embedded cluster's policy for user \"{}\"", user.name),
                denial: String::new(),
            };
        }
        if a.resource == "selfsubjectaccessreviews" && a.verb == "create" {
            return Decision {
                allowed: true,
                reason: "every authenticated user may create SelfSubjectAccessReviews".into(),
                denial: String::new(),
            };
        }
        let rbac = store.authorize_rbac(&who.name, &who.groups, a);
        if rbac.allowed {
            return Decision { allowed: true, reason: rbac.reason, denial: String::new() };
        }
        let static_reason = who.user.as_ref().map(|u| format!("no rule of user \"{}\" allows it", u.name));
        let reason = [static_reason.unwrap_or_default(), rbac.reason.clone()]
            .into_iter()
            .filter(|r| !r.is_empty())
            .collect::<Vec<_>>()
            .join("\n");
        Decision { allowed: false, reason, denial: rbac.reason }
    }

    /// Adds a user, or replaces the one with the same token.
    pub fn upsert(&self, user: User) {
        let mut users = self.users.write().unwrap_or_else(PoisonError::into_inner);
        users.retain(|u| u.token != user.token);
        users.push(user);
    }

    /// Every user (for writing kubeconfigs).
    pub fn users(&self) -> Vec<User> {
        self.users.read().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs<'a>(verb: &'a str, resource: &'a str, sub: Option<&'a str>, ns: Option<&'a str>) -> Attributes<'a> {
        Attributes { verb, group: "", resource, subresource: sub, namespace: ns, name: None }
    }

    #[test]
    fn read_only_reads_logs_but_cannot_write() {
        let u = User::read_only("viewer", "t");
        assert!(u.allows(&attrs("get", "pods", Some("log"), Some("a"))));
        assert!(u.allows(&attrs("watch", "pods", None, None)));
        assert!(!u.allows(&attrs("create", "pods", None, Some("a"))));
        assert!(!u.allows(&attrs("delete", "pods", None, Some("a"))));
        assert!(u.allows(&attrs("create", "selfsubjectaccessreviews", None, None)));
    }

    #[test]
    fn namespace_admin_is_confined() {
        let u = User::namespace_admin("team", "t", &["team-a"]);
        assert!(u.allows(&attrs("create", "pods", None, Some("team-a"))));
        assert!(!u.allows(&attrs("create", "pods", None, Some("team-b"))));
        assert!(!u.allows(&attrs("list", "pods", None, None)), "all-namespaces list is cluster scope");
        assert!(!u.allows(&attrs("list", "namespaces", None, None)));
    }

    #[test]
    fn subresource_rules() {
        let rule = Rule {
            verbs: vec!["get".into()],
            api_groups: vec!["".into()],
            resources: vec!["pods".into()],
            namespaces: None,
        };
        assert!(rule.allows(&attrs("get", "pods", None, Some("a"))));
        assert!(!rule.allows(&attrs("get", "pods", Some("log"), Some("a"))), "pods does not cover pods/log");
        let logs = Rule { resources: vec!["pods/*".into()], ..rule };
        assert!(logs.allows(&attrs("get", "pods", Some("log"), Some("a"))));
    }

    #[test]
    fn tokens_identify_users() {
        let store = Store::new(100);
        let p = Policy::new(vec![User::admin("admin", "secret")]);
        assert_eq!(p.authenticate(&store, "secret").map(|u| u.name), Some("admin".into()));
        let account = serde_json::json!({"metadata": {"name": "runner", "namespace": "default"}});
        store.create(Resource::ServiceAccounts, account.clone()).expect("service account");
        let sa = p.service_account_token(&store, "default", "runner");
        assert_eq!(p.service_account_token(&store, "default", "runner"), sa, "one token per account");
        let who = p.authenticate(&store, &sa).expect("service account");
        assert_eq!(who.name, "system:serviceaccount:default:runner");
        assert_eq!(
            who.groups,
            vec!["system:serviceaccounts", "system:serviceaccounts:default", "system:authenticated"]
        );
        assert_eq!(who.service_account_of(), Some(("default", "runner")));
        store.delete(Resource::ServiceAccounts, "default", "runner", &Default::default()).expect("deleted");
        assert!(p.authenticate(&store, &sa).is_none(), "the account is gone");
        store.create(Resource::ServiceAccounts, account).expect("re-created");
        assert!(p.authenticate(&store, &sa).is_none(), "a re-created account is another account");
        let fresh = p.service_account_token(&store, "default", "runner");
        assert_ne!(fresh, sa);
        assert!(p.authenticate(&store, &fresh).is_some());
        let nobody = p.service_account_token(&store, "default", "ghost");
        assert!(p.authenticate(&store, &nobody).is_none(), "no such account");
        assert!(p.authenticate(&store, "").is_none());
        assert!(p.authenticate(&store, "guess").is_none());
        p.upsert(User::read_only("viewer", "v"));
        assert_eq!(p.users().len(), 2);
    }
}

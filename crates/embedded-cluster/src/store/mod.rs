//! The embedded cluster's object store: one revision counter, one table per resource type, a bounded
//! change history for watches, and the server-side behaviour that belongs to storage — system
//! metadata, optimistic concurrency, graceful and foreground deletion, namespace termination and
//! ownerReference garbage collection. It is synchronous and never held across an `.await`.

pub mod admission;
pub mod history;
pub mod rbac;
pub mod resource;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};

use base64::Engine as _;
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::api::status::{ApiError, ApiResult};
use history::{Change, ChangeKind, Expired, History};
use kube_grammar::selector::{FieldSelector, LabelSelector};
use kube_grammar::time::{now_rfc3339, rfc3339_in};
use resource::{RESOURCES, Resource, ResourceInfo};

/// `(namespace, name)`; the namespace is empty for cluster-scoped objects.
pub type Key = (String, String);

/// How dependents are treated when their owner is deleted (`propagationPolicy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Propagation {
    /// Dependents lose the owner reference and stay.
    Orphan,
    /// The owner goes at once; dependents are deleted after it.
    Background,
    /// Dependents are deleted first; the owner waits with a `foregroundDeletion` finalizer.
    Foreground,
}

/// Options of a delete request.
#[derive(Clone, Debug, Default)]
pub struct DeleteOptions {
    /// `gracePeriodSeconds`; `Some(0)` removes a pod at once.
    pub grace_period_seconds: Option<i64>,
    /// `propagationPolicy`; `None` is the resource's default.
    pub propagation: Option<Propagation>,
    /// `preconditions.uid`.
    pub precondition_uid: Option<String>,
    /// `preconditions.resourceVersion`.
    pub precondition_resource_version: Option<String>,
}

/// Which part of an object an update replaces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UpdateScope {
    /// The object (its status is kept when the resource has a status subresource).
    Main,
    /// Only `status` (the `status` subresource).
    Status,
}

/// One page of a list.
#[derive(Debug)]
pub struct ListPage {
    /// The matching objects, ordered by namespace then name.
    pub items: Vec<Arc<Value>>,
    /// The list's `resourceVersion`.
    pub revision: u64,
    /// Token for the next page, if any.
    pub continue_token: Option<String>,
    /// Objects after this page (only known when no selector is used).
    pub remaining: Option<u64>,
}

/// A list request's filters and paging.
#[derive(Debug, Default)]
pub struct ListQuery<'a> {
    /// Restrict to one namespace.
    pub namespace: Option<&'a str>,
    /// `labelSelector`.
    pub labels: LabelSelector,
    /// `fieldSelector`.
    pub fields: FieldSelector,
    /// `limit` (0 = no limit).
    pub limit: usize,
    /// `continue`.
    pub continue_token: Option<&'a str>,
}

struct Inner {
    revision: u64,
    tables: Vec<BTreeMap<Key, Arc<Value>>>,
    uids: HashMap<String, (Resource, Key)>,
    dependents: HashMap<String, BTreeSet<(Resource, Key)>>,
    history: History,
}

/// The object store shared by the API server, the simulated kubelet and the test handle.
pub struct Store {
    inner: Mutex<Inner>,
    /// Written only with `inner` locked (in `commit`), read without it by authorization.
    rbac: RwLock<rbac::RbacIndex>,
    revision_tx: watch::Sender<u64>,
}

fn meta_str<'a>(object: &'a Value, field: &str) -> Option<&'a str> {
    object.get("metadata").and_then(|m| m.get(field)).and_then(Value::as_str)
}

fn key_of(object: &Value) -> Key {
    (
        meta_str(object, "namespace").unwrap_or_default().to_string(),
        meta_str(object, "name").unwrap_or_default().to_string(),
    )
}

fn owner_uids(object: &Value) -> Vec<String> {
    object
        .pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .map(|refs| refs.iter().filter_map(|r| r.get("uid").and_then(Value::as_str)).map(str::to_string).collect())
        .unwrap_or_default()
}

fn finalizers(object: &Value) -> Vec<String> {
    object
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .map(|f| f.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default()
}

fn metadata_mut(object: &mut Value) -> &mut serde_json::Map<String, Value> {
    let meta = ensure_object(object).entry("metadata").or_insert_with(|| json!({}));
    ensure_object(meta)
}

fn ensure_object(value: &mut Value) -> &mut serde_json::Map<String, Value> {
    if !value.is_object() {
        *value = json!({});
    }
    match value {
        Value::Object(map) => map,
        _ => unreachable!("the value was just made an object"),
    }
}

fn is_terminal_pod(object: &Value) -> bool {
    matches!(object.pointer("/status/phase").and_then(Value::as_str), Some("Succeeded" | "Failed"))
}

const FOREGROUND: &str = "foregroundDeletion";
const GENERATE_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

fn random_suffix() -> String {
    uuid::Uuid::new_v4().as_bytes()[..5]
        .iter()
        .map(|b| GENERATE_ALPHABET[*b as usize % GENERATE_ALPHABET.len()] as char)
        .collect()
}

/// The ServiceAccount every namespace has, and pods run as unless they name another.
pub const DEFAULT_SERVICE_ACCOUNT: &str = "default";

/// The ServiceAccount admission plugin: a pod's service account (defaulted to `default`) must
/// exist, or the pod is refused with the API server's message.
fn admit_service_account(inner: &Inner, namespace: &str, pod: &Value) -> ApiResult<()> {
    let account = pod
        .pointer("/spec/serviceAccountName")
        .and_then(Value::as_str)
        .filter(|a| !a.is_empty())
        .unwrap_or(DEFAULT_SERVICE_ACCOUNT);
    if inner.tables[Resource::ServiceAccounts as usize].contains_key(&(namespace.to_string(), account.to_string())) {
        return Ok(());
    }
    // Admission runs before a generated name exists: the message names the prefix, as the API server's does.
    let name = [meta_str(pod, "name"), meta_str(pod, "generateName")]
        .into_iter()
        .flatten()
        .find(|n| !n.is_empty())
        .unwrap_or("Unknown");
    Err(ApiError::forbidden_because(
        Resource::Pods.info(),
        name,
        &format!("error looking up service account {namespace}/{account}: serviceaccount \"{account}\" not found"),
    ))
}

/// The namespaces every cluster starts with.
pub const SYSTEM_NAMESPACES: &[&str] = &["default", "kube-system", "kube-public", "kube-node-lease"];

#[derive(serde::Serialize, serde::Deserialize)]
struct ContinueToken {
    rv: u64,
    start: String,
}

impl Store {
    /// An empty store (with the system namespaces) keeping `history_capacity` changes for watches.
    pub fn new(history_capacity: usize) -> Self {
        let (revision_tx, _) = watch::channel(0);
        let store = Store {
            inner: Mutex::new(Inner {
                revision: 0,
                tables: RESOURCES.iter().map(|_| BTreeMap::new()).collect(),
                uids: HashMap::new(),
                dependents: HashMap::new(),
                history: History::new(0, history_capacity),
            }),
            rbac: RwLock::default(),
            revision_tx,
        };
        for ns in SYSTEM_NAMESPACES {
            // Creating a valid namespace in an empty store cannot fail.
            let _ = store.create(
                Resource::Namespaces,
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
            );
        }
        store
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The current cluster revision.
    pub fn revision(&self) -> u64 {
        self.lock().revision
    }

    /// A receiver that is notified with the latest revision after every write.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.revision_tx.subscribe()
    }

    /// Up to `max` changes after `revision`, or `Expired` if the history no longer reaches back.
    pub fn changes_since(&self, revision: u64, max: usize) -> Result<Vec<Arc<Change>>, Expired> {
        self.lock().history.since(revision, max)
    }

    /// The oldest revision a watch may start from.
    pub fn oldest_watchable(&self) -> u64 {
        self.lock().history.oldest_start()
    }

    /// Drops the whole change history (fault injection: forces 410 on the next re-watch).
    pub fn compact_history(&self) {
        self.lock().history.compact_all();
    }

    /// Bounds the change history to `capacity` changes.
    pub fn set_history_capacity(&self, capacity: usize) {
        self.lock().history.set_capacity(capacity);
    }

    /// One object.
    pub fn get(&self, resource: Resource, namespace: &str, name: &str) -> ApiResult<Arc<Value>> {
        let inner = self.lock();
        inner.tables[resource as usize]
            .get(&(namespace.to_string(), name.to_string()))
            .cloned()
            .ok_or_else(|| ApiError::not_found(resource.info(), name))
    }

    /// Whether a namespace exists.
    pub fn namespace_exists(&self, namespace: &str) -> bool {
        self.lock().tables[Resource::Namespaces as usize].contains_key(&(String::new(), namespace.to_string()))
    }

    /// A page of objects matching the query.
    pub fn list(&self, resource: Resource, query: &ListQuery<'_>) -> ApiResult<ListPage> {
        let inner = self.lock();
        let (revision, start) = match query.continue_token {
            Some(token) => {
                let t = decode_continue(token)?;
                if t.rv < inner.history.oldest_start() {
                    return Err(ApiError::expired(
                        "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.",
                    ));
                }
                let (ns, name) = t.start.split_once('/').unwrap_or(("", &t.start));
                (t.rv, Some((ns.to_string(), name.to_string())))
            }
            None => (inner.revision, None),
        };
        let table = &inner.tables[resource as usize];
        let range: Box<dyn Iterator<Item = (&Key, &Arc<Value>)>> = match (&start, query.namespace) {
            (Some(after), _) => {
                Box::new(table.range((std::ops::Bound::Excluded(after.clone()), std::ops::Bound::Unbounded)))
            }
            (None, Some(ns)) => Box::new(table.range((ns.to_string(), String::new())..)),
            (None, None) => Box::new(table.iter()),
        };
        let filtered = query.labels.is_empty() && query.fields.is_empty();
        let mut items = Vec::new();
        let mut last_key: Option<&Key> = None;
        let mut more = false;
        let mut remaining = 0u64;
        for (key, object) in range {
            if let Some(ns) = query.namespace
                && key.0 != ns
            {
                if key.0.as_str() > ns {
                    break;
                }
                continue;
            }
            if !query.labels.matches(object) || !query.fields.matches(object) {
                continue;
            }
            if query.limit > 0 && items.len() == query.limit {
                more = true;
                if !filtered {
                    break;
                }
                remaining += 1;
                continue;
            }
            last_key = Some(key);
            items.push(object.clone());
        }
        let continue_token = match (more, last_key) {
            (true, Some((ns, name))) => Some(encode_continue(revision, &format!("{ns}/{name}"))),
            _ => None,
        };
        Ok(ListPage { items, revision, continue_token, remaining: (more && filtered).then_some(remaining) })
    }

    /// Creates an object (already decoded): assigns system metadata, defaults and validates it.
    pub fn create(&self, resource: Resource, object: Value) -> ApiResult<Arc<Value>> {
        self.create_object(resource, object, false)
    }

    /// Creates an object as it was left elsewhere (seeding an estate): like [`Store::create`], but
    /// the `status` and `metadata.creationTimestamp` it carries are kept, in the one change that
    /// creates it — so a finished pod is never seen pending (the kubelet leaves it alone) and keeps
    /// its age.
    pub fn restore(&self, resource: Resource, object: Value) -> ApiResult<Arc<Value>> {
        self.create_object(resource, object, true)
    }

    fn create_object(&self, resource: Resource, object: Value, restore: bool) -> ApiResult<Arc<Value>> {
        let mut inner = self.lock();
        self.create_locked(&mut inner, resource, object, restore)
    }

    fn create_locked(
        &self,
        inner: &mut Inner,
        resource: Resource,
        mut object: Value,
        restore: bool,
    ) -> ApiResult<Arc<Value>> {
        let info = resource.info();
        let kept_status = if restore { object.get("status").cloned() } else { None };
        let kept_created = if restore {
            meta_str(&object, "creationTimestamp").filter(|t| t.parse::<jiff::Timestamp>().is_ok()).map(str::to_string)
        } else {
            None
        };
        if !object.is_object() || !object.get("metadata").is_none_or(Value::is_object) {
            return Err(ApiError::bad_request(format!(
                "a {} must be a JSON object with an object `metadata`",
                info.kind
            )));
        }
        let namespace = meta_str(&object, "namespace").unwrap_or_default().to_string();
        if info.namespaced {
            let ns_key = (String::new(), namespace.clone());
            match inner.tables[Resource::Namespaces as usize].get(&ns_key) {
                None => return Err(ApiError::not_found(Resource::Namespaces.info(), &namespace)),
                Some(ns) if ns.pointer("/metadata/deletionTimestamp").is_some() => {
                    let name = meta_str(&object, "name").or(meta_str(&object, "generateName")).unwrap_or_default();
                    return Err(ApiError::forbidden_because(
                        info,
                        name,
                        &format!(
                            "unable to create new content in namespace {namespace} because it is being terminated"
                        ),
                    ));
                }
                Some(_) => {}
            }
        } else if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.remove("namespace");
        }
        if meta_str(&object, "resourceVersion").is_some_and(|rv| !rv.is_empty()) {
            return Err(ApiError::invalid(
                info,
                meta_str(&object, "name").unwrap_or_default(),
                vec![crate::api::status::Cause::forbidden(
                    "metadata.resourceVersion",
                    "must not be set on objects to be created",
                )],
            ));
        }
        if resource == Resource::Pods {
            admit_service_account(inner, &namespace, &object)?;
        }
        if meta_str(&object, "name").is_none_or(str::is_empty)
            && let Some(prefix) = meta_str(&object, "generateName").map(str::to_string)
        {
            let table = &inner.tables[resource as usize];
            let name = (0..8)
                .map(|_| format!("{prefix}{}", random_suffix()))
                .find(|n| !table.contains_key(&(namespace.clone(), n.clone())))
                .unwrap_or_else(|| format!("{prefix}{}", random_suffix()));
            metadata_mut(&mut object).insert("name".into(), json!(name));
        }
        let uid = uuid::Uuid::new_v4().to_string();
        {
            let meta = metadata_mut(&mut object);
            for system in [
                "uid",
                "creationTimestamp",
                "deletionTimestamp",
                "deletionGracePeriodSeconds",
                "selfLink",
                "generation",
            ] {
                meta.remove(system);
            }
            meta.insert("uid".into(), json!(uid));
            meta.insert("creationTimestamp".into(), json!(kept_created.unwrap_or_else(now_rfc3339)));
            if matches!(
                resource,
                Resource::Jobs
                    | Resource::Pods
                    | Resource::Workflows
                    | Resource::WorkflowTemplates
                    | Resource::WorkflowTaskResults
            ) {
                meta.insert("generation".into(), json!(1));
            }
        }
        if object.get("apiVersion").is_none() {
            object["apiVersion"] = json!(info.api_version());
        }
        if object.get("kind").is_none() {
            object["kind"] = json!(info.kind);
        }
        admission::default_on_create(info, &mut object);
        if let Some(status) = kept_status {
            object["status"] = status;
        }
        if resource == Resource::Jobs {
            admission::default_job_selector(&mut object, &uid);
        }
        admission::validate(info, &object)?;
        let key = key_of(&object);
        if inner.tables[resource as usize].contains_key(&key) {
            return Err(ApiError::already_exists(info, &key.1));
        }
        let owners = owner_uids(&object);
        let created = self.commit(inner, resource, ChangeKind::Added, object, None);
        // An object created with owners that are all gone is garbage from the start.
        if !owners.is_empty() && owners.iter().all(|u| !inner.uids.contains_key(u)) {
            self.remove(inner, resource, &key, Propagation::Background);
        }
        if resource == Resource::Namespaces {
            self.ensure_default_service_account(inner, &key.1);
        }
        Ok(created)
    }

    /// What kube-controller-manager's serviceaccount controller does: every active namespace has
    /// a `default` ServiceAccount (created with the namespace, re-created if deleted).
    fn ensure_default_service_account(&self, inner: &mut Inner, namespace: &str) {
        let active = inner.tables[Resource::Namespaces as usize]
            .get(&(String::new(), namespace.to_string()))
            .is_some_and(|ns| ns.pointer("/metadata/deletionTimestamp").is_none());
        let key = (namespace.to_string(), DEFAULT_SERVICE_ACCOUNT.to_string());
        if active && !inner.tables[Resource::ServiceAccounts as usize].contains_key(&key) {
            let account = json!({"apiVersion": "v1", "kind": "ServiceAccount",
                "metadata": {"name": DEFAULT_SERVICE_ACCOUNT, "namespace": namespace}});
            // A valid object in an active namespace: this cannot fail.
            let _ = self.create_locked(inner, Resource::ServiceAccounts, account, false);
        }
    }

    /// Replaces an object (`PUT`), honouring `metadata.resourceVersion` as a precondition.
    pub fn update(
        &self,
        resource: Resource,
        namespace: &str,
        name: &str,
        new: Value,
        scope: UpdateScope,
    ) -> ApiResult<Arc<Value>> {
        let mut inner = self.lock();
        self.update_locked(&mut inner, resource, namespace, name, new, scope)
    }

    /// Reads, changes and writes an object atomically (patches, kubelet status updates). The closure
    /// gets the current object and returns the new one; the result is then applied as an update in
    /// `scope`, with the precondition of any `resourceVersion` the closure leaves in it.
    pub fn modify(
        &self,
        resource: Resource,
        namespace: &str,
        name: &str,
        scope: UpdateScope,
        change: impl FnOnce(&Value) -> ApiResult<Value>,
    ) -> ApiResult<Arc<Value>> {
        let mut inner = self.lock();
        let current = inner.tables[resource as usize]
            .get(&(namespace.to_string(), name.to_string()))
            .cloned()
            .ok_or_else(|| ApiError::not_found(resource.info(), name))?;
        let new = change(&current)?;
        self.update_locked(&mut inner, resource, namespace, name, new, scope)
    }

    fn update_locked(
        &self,
        inner: &mut Inner,
        resource: Resource,
        namespace: &str,
        name: &str,
        mut new: Value,
        scope: UpdateScope,
    ) -> ApiResult<Arc<Value>> {
        let info = resource.info();
        let key = (namespace.to_string(), name.to_string());
        let old = inner.tables[resource as usize].get(&key).cloned().ok_or_else(|| ApiError::not_found(info, name))?;
        if !new.is_object() {
            return Err(ApiError::bad_request(format!("{} must be a JSON object", info.kind)));
        }
        if let Some(rv) = meta_str(&new, "resourceVersion").filter(|rv| !rv.is_empty())
            && Some(rv) != meta_str(&old, "resourceVersion")
        {
            return Err(ApiError::stale(info, name));
        }
        if let Some(uid) = meta_str(&new, "uid").filter(|u| !u.is_empty())
            && Some(uid) != meta_str(&old, "uid")
        {
            return Err(ApiError::conflict(
                info,
                name,
                &format!(
                    "Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                    meta_str(&old, "uid").unwrap_or_default()
                ),
            ));
        }
        let mut merged = match scope {
            UpdateScope::Status => {
                let mut m = (*old).clone();
                m["status"] = new.get("status").cloned().unwrap_or(json!({}));
                m
            }
            UpdateScope::Main => {
                if let Some(n) = meta_str(&new, "name")
                    && n != name
                {
                    return Err(ApiError::bad_request(format!(
                        "the name of the object ({n}) does not match the name on the URL ({name})"
                    )));
                }
                if info.has_status_subresource() {
                    match old.get("status") {
                        Some(s) => new["status"] = s.clone(),
                        None => {
                            if let Some(o) = new.as_object_mut() {
                                o.remove("status");
                            }
                        }
                    }
                }
                let old_meta = old.get("metadata").cloned().unwrap_or(json!({}));
                let meta = metadata_mut(&mut new);
                for system in [
                    "uid",
                    "creationTimestamp",
                    "deletionTimestamp",
                    "deletionGracePeriodSeconds",
                    "generation",
                    "name",
                    "namespace",
                ] {
                    match old_meta.get(system) {
                        Some(v) => meta.insert(system.into(), v.clone()),
                        None => meta.remove(system),
                    };
                }
                new["apiVersion"] = json!(info.api_version());
                new["kind"] = json!(info.kind);
                new
            }
        };
        if scope == UpdateScope::Main {
            admission::validate(info, &merged)?;
            admission::validate_update(info, &old, &merged)?;
            if old.get("spec") != merged.get("spec")
                && let Some(g) = old.pointer("/metadata/generation").and_then(Value::as_i64)
            {
                metadata_mut(&mut merged).insert("generation".into(), json!(g + 1));
            }
        }
        if let Some(rv) = old.pointer("/metadata/resourceVersion") {
            metadata_mut(&mut merged).insert("resourceVersion".into(), rv.clone());
        }
        if merged == *old {
            return Ok(old);
        }
        let deleting = merged.pointer("/metadata/deletionTimestamp").is_some();
        let owners_changed = owner_uids(&old) != owner_uids(&merged);
        if owners_changed {
            unindex_owners(inner, resource, &key, &old);
        }
        let updated = self.commit(inner, resource, ChangeKind::Modified, merged, Some(old));
        if owners_changed {
            index_owners(inner, resource, &key, &updated);
        }
        if deleting && finalizers(&updated).is_empty() && !self.awaits_kubelet(resource, &updated) {
            self.remove(inner, resource, &key, Propagation::Background);
        }
        Ok(updated)
    }

    /// A bound, running pod being deleted gracefully waits for its kubelet to finish it.
    fn awaits_kubelet(&self, resource: Resource, object: &Value) -> bool {
        resource == Resource::Pods
            && object.pointer("/spec/nodeName").is_some()
            && !is_terminal_pod(object)
            && object.pointer("/metadata/deletionGracePeriodSeconds").and_then(Value::as_i64).unwrap_or(0) > 0
    }

    /// Deletes an object. Returns the object as it is afterwards: gone (its last state) or, for a
    /// graceful or finalized deletion, marked with `deletionTimestamp`.
    pub fn delete(
        &self,
        resource: Resource,
        namespace: &str,
        name: &str,
        options: &DeleteOptions,
    ) -> ApiResult<Arc<Value>> {
        let info = resource.info();
        let mut inner = self.lock();
        let key = (namespace.to_string(), name.to_string());
        let current =
            inner.tables[resource as usize].get(&key).cloned().ok_or_else(|| ApiError::not_found(info, name))?;
        if let Some(uid) = &options.precondition_uid
            && Some(uid.as_str()) != meta_str(&current, "uid")
        {
            return Err(ApiError::conflict(
                info,
                name,
                &format!(
                    "Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                    meta_str(&current, "uid").unwrap_or_default()
                ),
            ));
        }
        if let Some(rv) = &options.precondition_resource_version
            && Some(rv.as_str()) != meta_str(&current, "resourceVersion")
        {
            return Err(ApiError::conflict(
                info,
                name,
                &format!(
                    "Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {}",
                    meta_str(&current, "resourceVersion").unwrap_or_default()
                ),
            ));
        }
        let propagation = options.propagation.unwrap_or(if resource == Resource::Jobs {
            Propagation::Orphan
        } else {
            Propagation::Background
        });
        let grace = match resource {
            Resource::Pods => options
                .grace_period_seconds
                .or_else(|| current.pointer("/spec/terminationGracePeriodSeconds").and_then(Value::as_i64))
                .unwrap_or(30)
                .max(0),
            _ => 0,
        };
        let uid = meta_str(&current, "uid").unwrap_or_default().to_string();
        let has_dependents = inner.dependents.get(&uid).is_some_and(|d| !d.is_empty());
        if propagation == Propagation::Orphan && has_dependents {
            self.orphan_dependents(&mut inner, &uid);
        }
        if current.pointer("/metadata/deletionTimestamp").is_some() {
            // Already being deleted: a zero grace period forces it through, anything else is a no-op.
            if resource == Resource::Pods && grace == 0 {
                return Ok(self.remove(&mut inner, resource, &key, Propagation::Background).unwrap_or(current));
            }
            return Ok(current);
        }
        let bound_pod =
            resource == Resource::Pods && current.pointer("/spec/nodeName").is_some() && !is_terminal_pod(&current);
        let graceful = bound_pod && grace > 0;
        let foreground = propagation == Propagation::Foreground && has_dependents;
        let namespace_teardown = resource == Resource::Namespaces;
        if graceful || foreground || namespace_teardown || !finalizers(&current).is_empty() {
            let mut marked = (*current).clone();
            {
                let meta = metadata_mut(&mut marked);
                meta.insert("deletionTimestamp".into(), json!(rfc3339_in(grace)));
                meta.insert("deletionGracePeriodSeconds".into(), json!(grace));
                if foreground {
                    let f = meta.entry("finalizers").or_insert_with(|| json!([]));
                    if let Some(list) = f.as_array_mut()
                        && !list.iter().any(|x| x == FOREGROUND)
                    {
                        list.push(json!(FOREGROUND));
                    }
                }
            }
            if namespace_teardown {
                marked["status"] = json!({"phase": "Terminating"});
            }
            let marked = self.commit(&mut inner, resource, ChangeKind::Modified, marked, Some(current));
            if foreground {
                self.delete_dependents(&mut inner, &uid);
                self.finish_foreground(&mut inner, resource, &key);
            }
            if namespace_teardown {
                self.empty_namespace(&mut inner, name);
                return Ok(self.finish_namespace(&mut inner, name).unwrap_or(marked));
            }
            return Ok(inner.tables[resource as usize].get(&key).cloned().unwrap_or(marked));
        }
        Ok(self.remove(&mut inner, resource, &key, propagation).unwrap_or(current))
    }

    fn orphan_dependents(&self, inner: &mut Inner, owner_uid: &str) {
        let dependents: Vec<(Resource, Key)> = inner.dependents.remove(owner_uid).into_iter().flatten().collect();
        for (r, k) in dependents {
            let Some(obj) = inner.tables[r as usize].get(&k).cloned() else { continue };
            let mut orphan = (*obj).clone();
            if let Some(refs) = orphan.pointer_mut("/metadata/ownerReferences").and_then(Value::as_array_mut) {
                refs.retain(|r| r.get("uid").and_then(Value::as_str) != Some(owner_uid));
            }
            self.commit(inner, r, ChangeKind::Modified, orphan, Some(obj));
        }
    }

    fn delete_dependents(&self, inner: &mut Inner, owner_uid: &str) {
        let dependents: Vec<(Resource, Key)> = inner.dependents.get(owner_uid).into_iter().flatten().cloned().collect();
        for (r, k) in dependents {
            self.delete_in(inner, r, &k);
        }
    }

    /// Background deletion of one object from inside the store (GC, namespace teardown).
    fn delete_in(&self, inner: &mut Inner, resource: Resource, key: &Key) {
        let Some(obj) = inner.tables[resource as usize].get(key).cloned() else { return };
        if obj.pointer("/metadata/deletionTimestamp").is_some() {
            return;
        }
        let bound_pod = resource == Resource::Pods && obj.pointer("/spec/nodeName").is_some() && !is_terminal_pod(&obj);
        let grace = obj.pointer("/spec/terminationGracePeriodSeconds").and_then(Value::as_i64).unwrap_or(30);
        if (bound_pod && grace > 0) || !finalizers(&obj).is_empty() {
            let mut marked = (*obj).clone();
            let meta = metadata_mut(&mut marked);
            meta.insert("deletionTimestamp".into(), json!(rfc3339_in(grace)));
            meta.insert("deletionGracePeriodSeconds".into(), json!(grace));
            self.commit(inner, resource, ChangeKind::Modified, marked, Some(obj));
        } else {
            self.remove(inner, resource, key, Propagation::Background);
        }
    }

    fn empty_namespace(&self, inner: &mut Inner, namespace: &str) {
        for r in Resource::stored().filter(|r| r.info().namespaced) {
            let keys: Vec<Key> = inner.tables[r as usize]
                .range((namespace.to_string(), String::new())..)
                .take_while(|(k, _)| k.0 == namespace)
                .map(|(k, _)| k.clone())
                .collect();
            for k in keys {
                self.delete_in(inner, r, &k);
            }
        }
    }

    /// Removes a terminating namespace once nothing is left in it.
    fn finish_namespace(&self, inner: &mut Inner, namespace: &str) -> Option<Arc<Value>> {
        let ns_key = (String::new(), namespace.to_string());
        let terminating = inner.tables[Resource::Namespaces as usize]
            .get(&ns_key)
            .is_some_and(|n| n.pointer("/metadata/deletionTimestamp").is_some());
        if !terminating {
            return None;
        }
        let empty = Resource::stored().filter(|r| r.info().namespaced).all(|r| {
            inner.tables[r as usize]
                .range((namespace.to_string(), String::new())..)
                .next()
                .is_none_or(|(k, _)| k.0 != namespace)
        });
        if empty { self.remove(inner, Resource::Namespaces, &ns_key, Propagation::Background) } else { None }
    }

    /// Drops the `foregroundDeletion` finalizer of an owner whose dependents are all gone.
    fn finish_foreground(&self, inner: &mut Inner, resource: Resource, key: &Key) {
        let Some(obj) = inner.tables[resource as usize].get(key).cloned() else { return };
        let uid = meta_str(&obj, "uid").unwrap_or_default();
        if !finalizers(&obj).iter().any(|f| f == FOREGROUND) || inner.dependents.get(uid).is_some_and(|d| !d.is_empty())
        {
            return;
        }
        let mut done = (*obj).clone();
        if let Some(list) = done.pointer_mut("/metadata/finalizers").and_then(Value::as_array_mut) {
            list.retain(|f| f != FOREGROUND);
        }
        let remaining = finalizers(&done);
        let updated = self.commit(inner, resource, ChangeKind::Modified, done, Some(obj));
        if remaining.is_empty() && !self.awaits_kubelet(resource, &updated) {
            self.remove(inner, resource, key, Propagation::Background);
        }
    }

    /// Removes an object for good, then collects what depended on it.
    fn remove(&self, inner: &mut Inner, resource: Resource, key: &Key, propagation: Propagation) -> Option<Arc<Value>> {
        let obj = inner.tables[resource as usize].get(key).cloned()?;
        let uid = meta_str(&obj, "uid").unwrap_or_default().to_string();
        let gone = self.commit(inner, resource, ChangeKind::Deleted, (*obj).clone(), Some(obj.clone()));
        // Owners waiting in foreground deletion may now be free to go.
        for owner in owner_uids(&gone) {
            if let Some((r, k)) = inner.uids.get(&owner).cloned() {
                self.finish_foreground(inner, r, &k);
            }
        }
        if propagation != Propagation::Orphan {
            let dependents: Vec<(Resource, Key)> = inner.dependents.get(&uid).into_iter().flatten().cloned().collect();
            for (r, k) in dependents {
                let Some(dep) = inner.tables[r as usize].get(&k).cloned() else { continue };
                if owner_uids(&dep).iter().all(|o| !inner.uids.contains_key(o)) {
                    self.delete_in(inner, r, &k);
                }
            }
        }
        inner.dependents.remove(&uid);
        if resource.info().namespaced {
            self.finish_namespace(inner, &key.0);
        }
        if resource == Resource::ServiceAccounts && key.1 == DEFAULT_SERVICE_ACCOUNT {
            self.ensure_default_service_account(inner, &key.0);
        }
        Some(gone)
    }

    /// Applies one write: bumps the revision, stamps it on the object, stores or removes it, keeps
    /// the indexes, appends the change and wakes watchers.
    fn commit(
        &self,
        inner: &mut Inner,
        resource: Resource,
        kind: ChangeKind,
        mut object: Value,
        previous: Option<Arc<Value>>,
    ) -> Arc<Value> {
        inner.revision += 1;
        let revision = inner.revision;
        metadata_mut(&mut object).insert("resourceVersion".into(), json!(revision.to_string()));
        let object = Arc::new(object);
        let key = key_of(&object);
        let uid = meta_str(&object, "uid").unwrap_or_default().to_string();
        match kind {
            ChangeKind::Added => {
                inner.tables[resource as usize].insert(key.clone(), object.clone());
                inner.uids.insert(uid, (resource, key.clone()));
                index_owners(inner, resource, &key, &object);
            }
            ChangeKind::Modified => {
                inner.tables[resource as usize].insert(key, object.clone());
            }
            ChangeKind::Deleted => {
                inner.tables[resource as usize].remove(&key);
                inner.uids.remove(&uid);
                unindex_owners(inner, resource, &key, &object);
            }
        }
        if rbac::is_rbac(resource) {
            let mut index = self.rbac.write().unwrap_or_else(PoisonError::into_inner);
            index.apply(resource, &object, kind != ChangeKind::Deleted);
        }
        if resource.info().stored {
            inner.history.push(Arc::new(Change::new(revision, resource, kind, object.clone(), previous)));
        }
        self.revision_tx.send_replace(revision);
        object
    }

    /// RBAC's decision on a request by `user` (with `groups`), from the Roles and bindings stored
    /// now (see [`rbac::RbacIndex::authorize`]).
    pub fn authorize_rbac(
        &self,
        user: &str,
        groups: &[String],
        attributes: &crate::auth::Attributes<'_>,
    ) -> rbac::RbacDecision {
        self.rbac.read().unwrap_or_else(PoisonError::into_inner).authorize(user, groups, attributes)
    }
}

fn index_owners(inner: &mut Inner, resource: Resource, key: &Key, object: &Value) {
    for owner in owner_uids(object) {
        inner.dependents.entry(owner).or_default().insert((resource, key.clone()));
    }
}

fn unindex_owners(inner: &mut Inner, resource: Resource, key: &Key, object: &Value) {
    for owner in owner_uids(object) {
        if let Some(set) = inner.dependents.get_mut(&owner) {
            set.remove(&(resource, key.clone()));
            if set.is_empty() {
                inner.dependents.remove(&owner);
            }
        }
    }
}

fn encode_continue(rv: u64, start: &str) -> String {
    let json = serde_json::to_vec(&ContinueToken { rv, start: start.to_string() }).unwrap_or_default();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
}

fn decode_continue(token: &str) -> ApiResult<ContinueToken> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| ApiError::bad_request(format!("invalid continue token \"{token}\"")))
}

/// Convenience for the kubelet and seeding: the `(namespace, name)` of an object.
pub fn object_key(object: &Value) -> Key {
    key_of(object)
}

/// Convenience: whether an object is marked for deletion.
pub fn is_deleting(object: &Value) -> bool {
    object.pointer("/metadata/deletionTimestamp").is_some()
}

/// The info of a resource, re-exported for callers that only hold a `Resource`.
pub fn info(resource: Resource) -> &'static ResourceInfo {
    resource.info()
}

#[cfg(test)]
mod tests;

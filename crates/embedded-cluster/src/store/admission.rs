//! What the API server does to an object between the request and storage: decoding against the real
//! schema (a malformed body is a 400), pruning unknown fields (reported for `fieldValidation`),
//! defaulting, and the validation rules clients rely on (a 422 `Invalid` with field causes).

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use super::resource::{RBAC_GROUP, Resource, ResourceInfo};
use crate::api::status::{ApiError, ApiResult, Cause};
use kube_grammar::selector::{is_dns_label, is_dns_subdomain, validate_label_key, validate_label_value};

/// Decodes `object` as the typed Kubernetes schema for its resource and returns the pruned object and
/// the paths of fields the schema does not know. Unstructured resources pass through unchanged.
pub fn decode(info: &ResourceInfo, object: Value) -> ApiResult<(Value, Vec<String>)> {
    use k8s_openapi::api::{batch::v1::Job, core::v1, rbac::v1 as rbac};
    match info.resource {
        Resource::Pods => typed::<v1::Pod>(info, object),
        Resource::ConfigMaps => typed::<v1::ConfigMap>(info, object),
        Resource::Namespaces => typed::<v1::Namespace>(info, object),
        Resource::Events => typed::<v1::Event>(info, object),
        Resource::ServiceAccounts => typed::<v1::ServiceAccount>(info, object),
        Resource::Jobs => typed::<Job>(info, object),
        Resource::SelfSubjectAccessReviews => {
            typed::<k8s_openapi::api::authorization::v1::SelfSubjectAccessReview>(info, object)
        }
        Resource::Roles => typed::<rbac::Role>(info, object),
        Resource::ClusterRoles => typed::<rbac::ClusterRole>(info, object),
        Resource::RoleBindings => typed::<rbac::RoleBinding>(info, object).map(default_binding),
        Resource::ClusterRoleBindings => typed::<rbac::ClusterRoleBinding>(info, object).map(default_binding),
        Resource::Workflows | Resource::WorkflowTemplates | Resource::WorkflowTaskResults => {
            if !object.is_object() {
                return Err(ApiError::bad_request(format!("{} must be a JSON object", info.kind)));
            }
            Ok((object, Vec::new()))
        }
    }
}

/// RBAC's defaults (applied on every write, as decoding does): `roleRef.apiGroup` and the
/// `apiGroup` of User and Group subjects are `rbac.authorization.k8s.io`; a ServiceAccount's is
/// empty, which the API omits (`omitempty`), so `kubectl apply` sees no difference to patch.
fn default_binding((mut object, unknown): (Value, Vec<String>)) -> (Value, Vec<String>) {
    if let Some(role_ref) = object.get_mut("roleRef").and_then(Value::as_object_mut)
        && role_ref.get("apiGroup").and_then(Value::as_str).is_none_or(str::is_empty)
    {
        role_ref.insert("apiGroup".into(), json!(RBAC_GROUP));
    }
    for subject in object.get_mut("subjects").and_then(Value::as_array_mut).into_iter().flatten() {
        let Some(s) = subject.as_object_mut() else { continue };
        if s.get("apiGroup").and_then(Value::as_str).is_none_or(str::is_empty) {
            match s.get("kind").and_then(Value::as_str) {
                Some("User" | "Group") => s.insert("apiGroup".into(), json!(RBAC_GROUP)),
                _ => s.remove("apiGroup"),
            };
        }
    }
    (object, unknown)
}

fn typed<T: DeserializeOwned + Serialize>(info: &ResourceInfo, object: Value) -> ApiResult<(Value, Vec<String>)> {
    let parsed: T = serde_json::from_value(object.clone()).map_err(|e| {
        ApiError::bad_request(format!(
            "{} in version \"{}\" cannot be handled as a {}: {e}",
            info.kind, info.version, info.kind
        ))
    })?;
    let pruned = serde_json::to_value(&parsed)
        .map_err(|e| ApiError::server_error(500, format!("re-encoding {}: {e}", info.kind)))?;
    let mut unknown = Vec::new();
    unknown_fields(&object, &pruned, "", &mut unknown);
    Ok((pruned, unknown))
}

/// Collects paths present (and non-empty) in `original` but absent from `pruned`.
fn unknown_fields(original: &Value, pruned: &Value, path: &str, out: &mut Vec<String>) {
    match (original, pruned) {
        (Value::Object(o), Value::Object(p)) => {
            for (k, v) in o {
                let child = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                match p.get(k) {
                    Some(pv) => unknown_fields(v, pv, &child, out),
                    None if is_empty(v) => {}
                    None => out.push(child),
                }
            }
        }
        (Value::Array(o), Value::Array(p)) => {
            for (i, (ov, pv)) in o.iter().zip(p).enumerate() {
                unknown_fields(ov, pv, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Object(o) => o.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

fn name_of(object: &Value) -> &str {
    object.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default()
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer).and_then(Value::as_str)
}

fn set_default(obj: &mut Map<String, Value>, key: &str, value: Value) {
    obj.entry(key.to_string()).or_insert(value);
}

/// Sets the defaults a real API server fills in on create.
pub fn default_on_create(info: &ResourceInfo, object: &mut Value) {
    match info.resource {
        Resource::Pods => {
            if let Some(spec) = object.get_mut("spec") {
                default_pod_spec(spec);
            }
            object["status"] = json!({"phase": "Pending", "qosClass": "BestEffort"});
        }
        Resource::Jobs => {
            if let Some(spec) = object.get_mut("spec").and_then(Value::as_object_mut) {
                set_default(spec, "parallelism", json!(1));
                set_default(spec, "completions", json!(1));
                set_default(spec, "backoffLimit", json!(6));
                set_default(spec, "completionMode", json!("NonIndexed"));
                set_default(spec, "suspend", json!(false));
                set_default(spec, "manualSelector", json!(false));
                set_default(spec, "podReplacementPolicy", json!("TerminatingOrFailed"));
            }
            if let Some(spec) = object.pointer_mut("/spec/template/spec") {
                default_pod_spec(spec);
            }
            if object.get("status").is_none() {
                object["status"] = json!({});
            }
        }
        Resource::Namespaces => {
            object["status"] = json!({"phase": "Active"});
            if let Some(name) = object.pointer("/metadata/name").cloned()
                && let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut)
            {
                let labels = meta.entry("labels").or_insert_with(|| json!({}));
                if let Some(labels) = labels.as_object_mut() {
                    labels.insert("kubernetes.io/metadata.name".into(), name);
                }
            }
        }
        _ => {}
    }
}

/// The labels and selector the Job API adds once the Job's uid is known.
pub fn default_job_selector(object: &mut Value, uid: &str) {
    let name = name_of(object).to_string();
    let manual = object.pointer("/spec/manualSelector").and_then(Value::as_bool).unwrap_or(false);
    if manual {
        return;
    }
    let labels = json!({
        "batch.kubernetes.io/controller-uid": uid,
        "batch.kubernetes.io/job-name": name,
        "controller-uid": uid,
        "job-name": name,
    });
    if let Some(spec) = object.get_mut("spec").and_then(Value::as_object_mut) {
        spec.insert("selector".into(), json!({"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}));
        let template = spec.entry("template").or_insert_with(|| json!({}));
        if let Some(t) = template.as_object_mut() {
            let meta = t.entry("metadata").or_insert_with(|| json!({}));
            if let Some(m) = meta.as_object_mut() {
                let l = m.entry("labels").or_insert_with(|| json!({}));
                if let (Some(l), Some(add)) = (l.as_object_mut(), labels.as_object()) {
                    for (k, v) in add {
                        l.insert(k.clone(), v.clone());
                    }
                }
            }
        }
    }
}

fn default_pod_spec(spec: &mut Value) {
    let Some(s) = spec.as_object_mut() else { return };
    set_default(s, "restartPolicy", json!("Always"));
    set_default(s, "terminationGracePeriodSeconds", json!(30));
    set_default(s, "dnsPolicy", json!("ClusterFirst"));
    set_default(s, "schedulerName", json!("default-scheduler"));
    set_default(s, "securityContext", json!({}));
    set_default(s, "serviceAccountName", json!("default"));
    set_default(s, "enableServiceLinks", json!(true));
    set_default(s, "priority", json!(0));
    for list in ["initContainers", "containers"] {
        if let Some(cs) = s.get_mut(list).and_then(Value::as_array_mut) {
            for c in cs.iter_mut().filter_map(Value::as_object_mut) {
                let image = c.get("image").and_then(Value::as_str).unwrap_or_default();
                let latest = !image.rsplit('/').next().unwrap_or_default().contains(':') || image.ends_with(":latest");
                let policy = if latest { "Always" } else { "IfNotPresent" };
                set_default(c, "imagePullPolicy", json!(policy));
                set_default(c, "terminationMessagePath", json!("/dev/termination-log"));
                set_default(c, "terminationMessagePolicy", json!("File"));
                set_default(c, "resources", json!({}));
            }
        }
    }
}

/// Validates an object about to be created or replaced; `Err` is a 422 with every cause found.
pub fn validate(info: &ResourceInfo, object: &Value) -> ApiResult<()> {
    let mut causes = Vec::new();
    validate_metadata(info, object, &mut causes);
    match info.resource {
        Resource::Pods => {
            if let Some(spec) = object.get("spec") {
                validate_pod_spec(spec, "spec", &["Always", "OnFailure", "Never"], &mut causes);
            } else {
                causes.push(Cause::required("spec"));
            }
        }
        Resource::Jobs => match object.pointer("/spec/template/spec") {
            Some(spec) => {
                validate_pod_spec(spec, "spec.template.spec", &["OnFailure", "Never"], &mut causes);
                for field in ["parallelism", "completions", "backoffLimit", "activeDeadlineSeconds"] {
                    if let Some(n) = object.pointer(&format!("/spec/{field}")).and_then(Value::as_i64)
                        && (n < 0 || (field == "activeDeadlineSeconds" && n == 0))
                    {
                        causes.push(Cause::invalid(
                            format!("spec.{field}"),
                            &n.to_string(),
                            "must be greater than or equal to 0",
                        ));
                    }
                }
            }
            None => causes.push(Cause::required("spec.template.spec")),
        },
        Resource::ConfigMaps => {
            let mut total = 0usize;
            for section in ["data", "binaryData"] {
                if let Some(map) = object.get(section).and_then(Value::as_object) {
                    for (key, v) in map {
                        if key.is_empty()
                            || key.len() > 253
                            || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b))
                        {
                            causes.push(Cause::invalid(
                                format!("{section}[{key}]"),
                                key,
                                "a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
                            ));
                        }
                        total += key.len() + v.as_str().map_or(0, str::len);
                    }
                }
            }
            if total > 1024 * 1024 {
                causes.push(Cause {
                    reason: "FieldValueTooLong",
                    message: "Too long: must have at most 1048576 bytes".into(),
                    field: "data".into(),
                });
            }
        }
        Resource::Roles | Resource::ClusterRoles => {
            let namespaced = info.resource == Resource::Roles;
            for (i, rule) in object.get("rules").and_then(Value::as_array).into_iter().flatten().enumerate() {
                validate_policy_rule(rule, namespaced, &format!("rules[{i}]"), &mut causes);
            }
            if object.get("aggregationRule").is_some_and(|a| !a.is_null()) {
                causes.push(Cause::forbidden(
                    "aggregationRule",
                    "aggregated ClusterRoles are not supported by the tlc embedded cluster (it runs no clusterrole-aggregation controller): list the rules in `rules` instead",
                ));
            }
        }
        Resource::RoleBindings | Resource::ClusterRoleBindings => {
            validate_binding(object, info.resource == Resource::RoleBindings, &mut causes);
        }
        _ => {}
    }
    if causes.is_empty() { Ok(()) } else { Err(ApiError::invalid(info, name_of(object), causes)) }
}

/// `ValidatePolicyRule` of the RBAC API.
fn validate_policy_rule(rule: &Value, namespaced: bool, at: &str, causes: &mut Vec<Cause>) {
    let list = |key: &str| rule.get(key).and_then(Value::as_array).map_or(0, Vec::len);
    if list("verbs") == 0 {
        causes.push(Cause::required_because(format!("{at}.verbs"), "verbs must contain at least one value"));
    }
    if list("nonResourceURLs") > 0 {
        let urls = rule.get("nonResourceURLs").map(go_strings).unwrap_or_default();
        if namespaced {
            causes.push(Cause::invalid_value(
                format!("{at}.nonResourceURLs"),
                &urls,
                "namespaced rules cannot apply to non-resource URLs",
            ));
        }
        if list("apiGroups") > 0 || list("resources") > 0 || list("resourceNames") > 0 {
            causes.push(Cause::invalid_value(
                format!("{at}.nonResourceURLs"),
                &urls,
                "rules cannot apply to both regular resources and non-resource URLs",
            ));
        }
        return;
    }
    if list("apiGroups") == 0 {
        causes.push(Cause::required_because(
            format!("{at}.apiGroups"),
            "resource rules must supply at least one api group",
        ));
    }
    if list("resources") == 0 {
        causes.push(Cause::required_because(
            format!("{at}.resources"),
            "resource rules must supply at least one resource",
        ));
    }
}

/// A JSON array of strings as field errors print a Go `[]string` (`%#v`): `[]string{"a", "b"}`.
fn go_strings(v: &Value) -> String {
    let items: Vec<String> =
        v.as_array().into_iter().flatten().filter_map(Value::as_str).map(|s| format!("{s:?}")).collect();
    format!("[]string{{{}}}", items.join(", "))
}

/// `ValidateRBACName`: RBAC names are path segments, so `system:controller:x` is fine.
fn path_segment_problem(name: &str) -> Option<&'static str> {
    match name {
        "." => Some("may not be '.'"),
        ".." => Some("may not be '..'"),
        n if n.contains('/') => Some("may not contain '/'"),
        n if n.contains('%') => Some("may not contain '%'"),
        _ => None,
    }
}

/// `ValidateRoleBinding` / `ValidateClusterRoleBinding` and their subjects.
fn validate_binding(object: &Value, namespaced: bool, causes: &mut Vec<Cause>) {
    let group = str_at(object, "/roleRef/apiGroup").unwrap_or_default();
    if group != RBAC_GROUP {
        causes.push(Cause::not_supported("roleRef.apiGroup", group, &[RBAC_GROUP]));
    }
    let kind = str_at(object, "/roleRef/kind").unwrap_or_default();
    let kinds: &[&str] = if namespaced { &["Role", "ClusterRole"] } else { &["ClusterRole"] };
    if !kinds.contains(&kind) {
        causes.push(Cause::not_supported("roleRef.kind", kind, kinds));
    }
    match str_at(object, "/roleRef/name").unwrap_or_default() {
        "" => causes.push(Cause::required("roleRef.name")),
        name => {
            if let Some(problem) = path_segment_problem(name) {
                causes.push(Cause::invalid("roleRef.name", name, problem));
            }
        }
    }
    for (i, subject) in object.get("subjects").and_then(Value::as_array).into_iter().flatten().enumerate() {
        let at = format!("subjects[{i}]");
        let name = str_at(subject, "/name").unwrap_or_default();
        if name.is_empty() {
            causes.push(Cause::required(format!("{at}.name")));
        }
        let api_group = str_at(subject, "/apiGroup").unwrap_or_default();
        match str_at(subject, "/kind").unwrap_or_default() {
            "ServiceAccount" => {
                if !name.is_empty() && !is_dns_subdomain(name) {
                    causes.push(Cause::invalid(format!("{at}.name"), name, DNS_SUBDOMAIN));
                }
                if !api_group.is_empty() {
                    causes.push(Cause::not_supported(format!("{at}.apiGroup"), api_group, &[""]));
                }
                if !namespaced && str_at(subject, "/namespace").is_none_or(str::is_empty) {
                    causes.push(Cause::required(format!("{at}.namespace")));
                }
            }
            "User" | "Group" => {
                if api_group != RBAC_GROUP {
                    causes.push(Cause::not_supported(format!("{at}.apiGroup"), api_group, &[RBAC_GROUP]));
                }
            }
            other => {
                causes.push(Cause::not_supported(format!("{at}.kind"), other, &["ServiceAccount", "User", "Group"]))
            }
        }
    }
}

const DNS_SUBDOMAIN: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";

fn validate_metadata(info: &ResourceInfo, object: &Value, causes: &mut Vec<Cause>) {
    let name = name_of(object);
    if name.is_empty() {
        causes.push(Cause::required("metadata.name"));
    } else if info.resource == Resource::Namespaces && !is_dns_label(name) {
        causes.push(Cause::invalid(
            "metadata.name",
            name,
            "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
        ));
    } else if crate::store::rbac::is_rbac(info.resource) {
        if let Some(problem) = path_segment_problem(name) {
            causes.push(Cause::invalid("metadata.name", name, problem));
        }
    } else if info.resource != Resource::Events && !is_dns_subdomain(name) {
        causes.push(Cause::invalid("metadata.name", name, DNS_SUBDOMAIN));
    }
    if let Some(labels) = object.pointer("/metadata/labels") {
        match labels.as_object() {
            Some(map) => {
                for (k, v) in map {
                    if let Err(e) = validate_label_key(k) {
                        causes.push(Cause::invalid("metadata.labels", k, &e));
                    }
                    match v.as_str() {
                        Some(s) => {
                            if let Err(e) = validate_label_value(s) {
                                causes.push(Cause::invalid(format!("metadata.labels[{k}]"), s, &e));
                            }
                        }
                        None => causes.push(Cause::invalid(
                            format!("metadata.labels[{k}]"),
                            &v.to_string(),
                            "must be a string",
                        )),
                    }
                }
            }
            None if labels.is_null() => {}
            None => causes.push(Cause::invalid("metadata.labels", &labels.to_string(), "must be a map of strings")),
        }
    }
    if let Some(map) = object.pointer("/metadata/annotations").and_then(Value::as_object) {
        let mut total = 0;
        for (k, v) in map {
            if let Err(e) = validate_label_key(k) {
                causes.push(Cause::invalid("metadata.annotations", k, &e));
            }
            total += k.len() + v.as_str().map_or(0, str::len);
        }
        if total > 256 * 1024 {
            causes.push(Cause {
                reason: "FieldValueTooLong",
                message: "Too long: must have at most 262144 bytes".into(),
                field: "metadata.annotations".into(),
            });
        }
    }
}

fn validate_pod_spec(spec: &Value, at: &str, restart_policies: &[&str], causes: &mut Vec<Cause>) {
    match str_at(spec, "/restartPolicy") {
        Some(p) if restart_policies.contains(&p) => {}
        Some(p) => causes.push(Cause {
            reason: "FieldValueNotSupported",
            message: format!(
                "Unsupported value: \"{p}\": supported values: {}",
                restart_policies.iter().map(|p| format!("\"{p}\"")).collect::<Vec<_>>().join(", ")
            ),
            field: format!("{at}.restartPolicy"),
        }),
        None => causes.push(Cause::required(format!("{at}.restartPolicy"))),
    }
    let volumes: Vec<&str> = spec
        .get("volumes")
        .and_then(Value::as_array)
        .map(|vs| vs.iter().filter_map(|v| str_at(v, "/name")).collect())
        .unwrap_or_default();
    for (i, v) in volumes.iter().enumerate() {
        if volumes[..i].contains(v) {
            causes.push(Cause::duplicate(format!("{at}.volumes[{i}].name"), v));
        }
    }
    let containers = spec.get("containers").and_then(Value::as_array);
    if containers.is_none_or(|c| c.is_empty()) {
        causes.push(Cause::required(format!("{at}.containers")));
    }
    let mut seen: Vec<&str> = Vec::new();
    for list in ["initContainers", "containers"] {
        for (i, c) in spec.get(list).and_then(Value::as_array).into_iter().flatten().enumerate() {
            let field = format!("{at}.{list}[{i}]");
            match str_at(c, "/name") {
                None | Some("") => causes.push(Cause::required(format!("{field}.name"))),
                Some(n) if !is_dns_label(n) => causes.push(Cause::invalid(
                    format!("{field}.name"),
                    n,
                    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
                )),
                Some(n) if seen.contains(&n) => causes.push(Cause::duplicate(format!("{field}.name"), n)),
                Some(n) => seen.push(n),
            }
            if str_at(c, "/image").is_none_or(str::is_empty) {
                causes.push(Cause::required(format!("{field}.image")));
            }
            for (j, m) in c.get("volumeMounts").and_then(Value::as_array).into_iter().flatten().enumerate() {
                let vname = str_at(m, "/name").unwrap_or_default();
                if !volumes.contains(&vname) {
                    causes.push(Cause {
                        reason: "FieldValueNotFound",
                        message: format!("Not found: \"{vname}\""),
                        field: format!("{field}.volumeMounts[{j}].name"),
                    });
                }
                if str_at(m, "/mountPath").is_none_or(str::is_empty) {
                    causes.push(Cause::required(format!("{field}.volumeMounts[{j}].mountPath")));
                }
            }
            for (j, e) in c.get("env").and_then(Value::as_array).into_iter().flatten().enumerate() {
                if str_at(e, "/name").is_none_or(str::is_empty) {
                    causes.push(Cause::required(format!("{field}.env[{j}].name")));
                }
            }
        }
    }
    if let Some(n) = spec.get("activeDeadlineSeconds").and_then(Value::as_i64)
        && n <= 0
    {
        causes.push(Cause::invalid(
            format!("{at}.activeDeadlineSeconds"),
            &n.to_string(),
            "must be greater than or equal to 1",
        ));
    }
}

/// Checks what an update may change; `old` and `new` are full objects.
pub fn validate_update(info: &ResourceInfo, old: &Value, new: &Value) -> ApiResult<()> {
    if matches!(info.resource, Resource::RoleBindings | Resource::ClusterRoleBindings) {
        let role_ref = |v: &Value| {
            ["apiGroup", "kind", "name"]
                .map(|k| v.pointer(&format!("/roleRef/{k}")).and_then(Value::as_str).unwrap_or_default().to_string())
        };
        let (before, after) = (role_ref(old), role_ref(new));
        if before != after {
            let [group, kind, name] = after;
            return Err(ApiError::invalid(
                info,
                name_of(new),
                vec![Cause::invalid_value(
                    "roleRef",
                    &format!("rbac.RoleRef{{APIGroup:{group:?}, Kind:{kind:?}, Name:{name:?}}}"),
                    "cannot change roleRef",
                )],
            ));
        }
        return Ok(());
    }
    if info.resource != Resource::Pods {
        return Ok(());
    }
    // activeDeadlineSeconds may be set, or lowered, never raised or removed (upstream's
    // ValidatePodUpdate): lowering it is how a running pod is stopped without deleting it.
    let deadline = |v: &Value| v.pointer("/spec/activeDeadlineSeconds").cloned().filter(|d| !d.is_null());
    let refused = |value: String, message: &str| {
        Err(ApiError::invalid(
            info,
            name_of(new),
            vec![Cause::invalid_value("spec.activeDeadlineSeconds", &value, message)],
        ))
    };
    match (deadline(old), deadline(new)) {
        (_, Some(n)) if n.as_i64().is_none_or(|n| !(0..=i64::from(i32::MAX)).contains(&n)) => {
            return refused(n.to_string(), "must be between 0 and 2147483647, inclusive");
        }
        (Some(o), Some(n)) if o.as_i64() < n.as_i64() => {
            return refused(n.to_string(), "must be less than or equal to previous value");
        }
        (Some(_), None) => return refused("null".into(), "must not update from a positive integer to nil value"),
        _ => {}
    }
    // Pods: only container images, activeDeadlineSeconds and tolerations may change in the spec.
    let strip = |spec: Option<&Value>| -> Value {
        let mut s = spec.cloned().unwrap_or(Value::Null);
        if let Some(obj) = s.as_object_mut() {
            obj.remove("activeDeadlineSeconds");
            obj.remove("tolerations");
            obj.remove("nodeName");
            for list in ["containers", "initContainers"] {
                if let Some(cs) = obj.get_mut(list).and_then(Value::as_array_mut) {
                    for c in cs.iter_mut().filter_map(Value::as_object_mut) {
                        c.remove("image");
                    }
                }
            }
        }
        s
    };
    if strip(old.get("spec")) != strip(new.get("spec")) {
        return Err(ApiError::invalid(
            info,
            name_of(new),
            vec![Cause::forbidden(
                "spec",
                "pod updates may not change fields other than `spec.containers[*].image`, `spec.initContainers[*].image`, `spec.activeDeadlineSeconds`, `spec.tolerations` (only additions to existing tolerations)",
            )],
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(spec: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec})
    }

    #[test]
    fn malformed_body_is_bad_request() {
        let err = decode(Resource::Pods.info(), pod(json!({"containers": "nope"}))).expect_err("bad type");
        assert_eq!(err.code, 400);
        assert!(err.message.starts_with("Pod in version \"v1\" cannot be handled as a Pod"), "{}", err.message);
    }

    #[test]
    fn unknown_fields_are_pruned_and_reported() {
        let (pruned, unknown) = decode(
            Resource::Pods.info(),
            pod(json!({"containers": [{"name": "a", "image": "x", "bogus": 1}], "extra": {"k": 1}})),
        )
        .expect("decodes");
        assert_eq!(unknown, vec!["spec.containers[0].bogus".to_string(), "spec.extra".to_string()]);
        assert!(pruned.pointer("/spec/extra").is_none());
    }

    #[test]
    fn pod_validation_names_every_bad_field() {
        let mut p = pod(json!({"containers": [{"name": "Bad"}, {"name": "Bad", "image": "x",
            "volumeMounts": [{"name": "missing", "mountPath": "/m"}]}]}));
        default_on_create(Resource::Pods.info(), &mut p);
        let err = validate(Resource::Pods.info(), &p).expect_err("invalid");
        assert_eq!(err.code, 422);
        let fields: Vec<String> = err
            .details
            .as_ref()
            .and_then(|d| d["causes"].as_array())
            .expect("causes")
            .iter()
            .map(|c| c["field"].as_str().unwrap_or_default().to_string())
            .collect();
        assert!(fields.contains(&"spec.containers[0].name".to_string()), "{fields:?}");
        assert!(fields.contains(&"spec.containers[0].image".to_string()), "{fields:?}");
        assert!(fields.contains(&"spec.containers[1].volumeMounts[0].name".to_string()), "{fields:?}");
    }

    #[test]
    fn job_template_needs_never_or_onfailure() {
        let mut job = json!({"metadata": {"name": "j"}, "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "i"}]}}}});
        default_on_create(Resource::Jobs.info(), &mut job);
        let err = validate(Resource::Jobs.info(), &job).expect_err("Always is not allowed for jobs");
        assert!(err.message.contains("spec.template.spec.restartPolicy"), "{}", err.message);
        job["spec"]["template"]["spec"]["restartPolicy"] = json!("Never");
        validate(Resource::Jobs.info(), &job).expect("valid");
        default_job_selector(&mut job, "u1");
        assert_eq!(job.pointer("/spec/template/metadata/labels/job-name"), Some(&json!("j")));
    }

    #[test]
    fn pod_spec_is_immutable_except_images() {
        let old = pod(json!({"containers": [{"name": "a", "image": "x"}]}));
        let mut new = old.clone();
        new["spec"]["containers"][0]["image"] = json!("y");
        validate_update(Resource::Pods.info(), &old, &new).expect("image may change");
        new["spec"]["containers"][0]["command"] = json!(["sh"]);
        assert_eq!(validate_update(Resource::Pods.info(), &old, &new).expect_err("command may not").code, 422);
    }
}

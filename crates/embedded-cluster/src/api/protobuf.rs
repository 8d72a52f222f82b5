//! The protobuf request bodies the embedded cluster reads. kubectl's imperative commands send
//! `application/vnd.kubernetes.protobuf`: `auth can-i` (SelfSubjectAccessReview), `create
//! configmap`, `create namespace`, `create serviceaccount`, `create role|clusterrole|rolebinding|
//! clusterrolebinding`. This decodes the envelope (`k8s\0` +
//! `runtime.Unknown`) and those small schemas into the JSON the handler already understands;
//! responses stay JSON, which kubectl also accepts. Other protobuf bodies get a 415 saying how to
//! send JSON instead.

use serde_json::{Map, Value, json};

use super::status::{ApiError, ApiResult};

/// The media type kubectl uses for protobuf bodies.
pub const MEDIA_TYPE: &str = "application/vnd.kubernetes.protobuf";

fn varint(buf: &[u8], pos: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *buf.get(*pos)?;
        *pos += 1;
        value |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// The length-delimited fields of a message, by field number (other wire types are skipped).
fn fields(buf: &[u8]) -> Option<Vec<(u64, &[u8])>> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < buf.len() {
        let key = varint(buf, &mut pos)?;
        match key & 7 {
            0 => {
                varint(buf, &mut pos)?;
            }
            1 => pos = pos.checked_add(8)?,
            2 => {
                let len = usize::try_from(varint(buf, &mut pos)?).ok()?;
                let end = pos.checked_add(len)?;
                out.push((key >> 3, buf.get(pos..end)?));
                pos = end;
            }
            5 => pos = pos.checked_add(4)?,
            _ => return None,
        }
    }
    (pos == buf.len()).then_some(out)
}

fn field<'a>(fs: &[(u64, &'a [u8])], number: u64) -> Option<&'a [u8]> {
    fs.iter().find(|(n, _)| *n == number).map(|(_, b)| *b)
}

fn text(bytes: &[u8]) -> Value {
    json!(String::from_utf8_lossy(bytes))
}

/// Every length-delimited occurrence of a (repeated) field.
fn repeated<'a>(fs: &[(u64, &'a [u8])], number: u64) -> Vec<&'a [u8]> {
    fs.iter().filter(|(n, _)| *n == number).map(|(_, b)| *b).collect()
}

/// A protobuf `map<string, string>` (repeated entries with key = 1, value = 2).
fn string_map(fs: &[(u64, &[u8])], number: u64) -> Option<Value> {
    let mut m = Map::new();
    for entry in repeated(fs, number) {
        let e = fields(entry)?;
        let key = field(&e, 1).unwrap_or_default();
        m.insert(String::from_utf8_lossy(key).into_owned(), text(field(&e, 2).unwrap_or_default()));
    }
    Some(Value::Object(m))
}

/// The scalar varint fields of a message, by field number.
fn varints(buf: &[u8]) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < buf.len() {
        let Some(key) = varint(buf, &mut pos) else { break };
        match key & 7 {
            0 => match varint(buf, &mut pos) {
                Some(v) => out.push((key >> 3, v)),
                None => break,
            },
            2 => match varint(buf, &mut pos).and_then(|l| usize::try_from(l).ok()) {
                Some(len) => pos = pos.saturating_add(len),
                None => break,
            },
            1 => pos += 8,
            5 => pos += 4,
            _ => break,
        }
    }
    out
}

/// `ObjectMeta`: the fields a client sets on create.
fn object_meta(buf: &[u8]) -> Option<Value> {
    let fs = fields(buf)?;
    let mut m = Map::new();
    for (number, name) in [(1, "name"), (2, "generateName"), (3, "namespace")] {
        if let Some(v) = field(&fs, number) {
            m.insert(name.into(), text(v));
        }
    }
    for (number, name) in [(11, "labels"), (12, "annotations")] {
        if fs.iter().any(|(n, _)| *n == number) {
            m.insert(name.into(), string_map(&fs, number)?);
        }
    }
    let owners: Vec<Value> = repeated(&fs, 13)
        .into_iter()
        .map(|o| {
            let o_fields = fields(o)?;
            let s = |n| text(field(&o_fields, n).unwrap_or_default());
            let flags = varints(o);
            let flag = |n| flags.iter().find(|(k, _)| *k == n).map(|(_, v)| *v != 0);
            let mut r = json!({"kind": s(1), "name": s(3), "uid": s(4), "apiVersion": s(5)});
            if let Some(c) = flag(6) {
                r["controller"] = json!(c);
            }
            if let Some(b) = flag(7) {
                r["blockOwnerDeletion"] = json!(b);
            }
            Some(r)
        })
        .collect::<Option<_>>()?;
    if !owners.is_empty() {
        m.insert("ownerReferences".into(), Value::Array(owners));
    }
    let finalizers: Vec<Value> = repeated(&fs, 14).into_iter().map(text).collect();
    if !finalizers.is_empty() {
        m.insert("finalizers".into(), Value::Array(finalizers));
    }
    Some(Value::Object(m))
}

/// The object inside a protobuf envelope, as (kind, raw message).
fn unwrap_envelope(body: &[u8]) -> Option<(String, &[u8])> {
    let envelope = fields(body.strip_prefix(b"k8s\0")?)?;
    let type_meta = fields(field(&envelope, 1).unwrap_or_default())?;
    let kind = String::from_utf8_lossy(field(&type_meta, 2).unwrap_or_default()).into_owned();
    Some((kind, field(&envelope, 2)?))
}

/// Decodes a protobuf ConfigMap, Namespace, ServiceAccount, Role, ClusterRole, RoleBinding or
/// ClusterRoleBinding (what `kubectl create configmap|namespace|serviceaccount|role|…` send).
pub fn decode_object(body: &[u8]) -> ApiResult<Value> {
    let (kind, raw) = unwrap_envelope(body)
        .ok_or_else(|| ApiError::bad_request("the protobuf body is not a valid Kubernetes object"))?;
    let bad = || ApiError::bad_request(format!("the protobuf body is not a valid {kind}"));
    let fs = fields(raw).ok_or_else(bad)?;
    let metadata = object_meta(field(&fs, 1).unwrap_or_default()).ok_or_else(bad)?;
    match kind.as_str() {
        "ConfigMap" => {
            let mut cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata});
            if fs.iter().any(|(n, _)| *n == 2) {
                cm["data"] = string_map(&fs, 2).ok_or_else(bad)?;
            }
            if let Some((_, v)) = varints(raw).into_iter().find(|(n, _)| *n == 4) {
                cm["immutable"] = json!(v != 0);
            }
            if fs.iter().any(|(n, _)| *n == 3) {
                return Err(ApiError::unsupported_media_type(
                    "application/vnd.kubernetes.protobuf (ConfigMap binaryData: send JSON, e.g. `kubectl create configmap ... --dry-run=client -o json | kubectl create -f -`)",
                ));
            }
            Ok(cm)
        }
        "Namespace" => Ok(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": metadata})),
        "ServiceAccount" => {
            let mut sa = json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": metadata});
            if let Some((_, v)) = varints(raw).into_iter().find(|(n, _)| *n == 4) {
                sa["automountServiceAccountToken"] = json!(v != 0);
            }
            Ok(sa)
        }
        "Role" | "ClusterRole" => {
            let rules: Vec<Value> =
                repeated(&fs, 2).into_iter().map(policy_rule).collect::<Option<_>>().ok_or_else(bad)?;
            let mut role = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": metadata, "rules": rules});
            if let Some(aggregation) = field(&fs, 3) {
                let selectors: Vec<Value> = repeated(&fields(aggregation).ok_or_else(bad)?, 1)
                    .into_iter()
                    .map(|selector| Some(json!({"matchLabels": string_map(&fields(selector)?, 1)?})))
                    .collect::<Option<_>>()
                    .ok_or_else(bad)?;
                role["aggregationRule"] = json!({"clusterRoleSelectors": selectors});
            }
            Ok(role)
        }
        "RoleBinding" | "ClusterRoleBinding" => {
            let strings = |raw: &[u8], names: &[(u64, &str)]| -> Option<Value> {
                let fs = fields(raw)?;
                let mut m = Map::new();
                for (number, name) in names {
                    if let Some(v) = field(&fs, *number) {
                        m.insert((*name).into(), text(v));
                    }
                }
                Some(Value::Object(m))
            };
            let subject_fields = [(1, "kind"), (2, "apiGroup"), (3, "name"), (4, "namespace")];
            let subjects: Vec<Value> = repeated(&fs, 2)
                .into_iter()
                .map(|s| strings(s, &subject_fields))
                .collect::<Option<_>>()
                .ok_or_else(bad)?;
            let role_ref = strings(field(&fs, 3).unwrap_or_default(), &[(1, "apiGroup"), (2, "kind"), (3, "name")])
                .ok_or_else(bad)?;
            Ok(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": metadata,
                "subjects": subjects, "roleRef": role_ref}))
        }
        other => Err(unsupported(other)),
    }
}

/// A `PolicyRule` (its five repeated string fields).
fn policy_rule(raw: &[u8]) -> Option<Value> {
    let fs = fields(raw)?;
    let mut rule = Map::new();
    for (number, name) in
        [(1, "verbs"), (2, "apiGroups"), (3, "resources"), (4, "resourceNames"), (5, "nonResourceURLs")]
    {
        let values: Vec<Value> = repeated(&fs, number).into_iter().map(text).collect();
        if !values.is_empty() || number == 1 {
            rule.insert(name.into(), Value::Array(values));
        }
    }
    Some(Value::Object(rule))
}

/// The 415 for a protobuf body the embedded cluster cannot read.
pub fn unsupported(kind: &str) -> ApiError {
    ApiError::unsupported_media_type(&format!(
        "{MEDIA_TYPE} for {kind}: the embedded cluster reads JSON bodies (and protobuf only for ConfigMap, Namespace, ServiceAccount, the four RBAC kinds and SelfSubjectAccessReview); send JSON, e.g. `kubectl create -f manifest.yaml` or `... --dry-run=client -o json | kubectl create -f -`"
    ))
}

/// Decodes a protobuf SelfSubjectAccessReview into its JSON form.
pub fn decode_access_review(body: &[u8]) -> ApiResult<Value> {
    let bad = || ApiError::bad_request("the protobuf body is not a valid SelfSubjectAccessReview");
    let (_, raw) = unwrap_envelope(body).ok_or_else(bad)?;
    let review = fields(raw).ok_or_else(bad)?;
    let spec_bytes = field(&review, 2).unwrap_or_default();
    let spec = fields(spec_bytes).ok_or_else(bad)?;
    let mut out =
        json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview", "metadata": {}, "spec": {}});
    if let Some(attrs) = field(&spec, 1) {
        let attrs = fields(attrs).ok_or_else(bad)?;
        let mut m = Map::new();
        for (number, name) in [
            (1, "namespace"),
            (2, "verb"),
            (3, "group"),
            (4, "version"),
            (5, "resource"),
            (6, "subresource"),
            (7, "name"),
        ] {
            if let Some(v) = field(&attrs, number) {
                m.insert(name.into(), json!(String::from_utf8_lossy(v)));
            }
        }
        out["spec"]["resourceAttributes"] = Value::Object(m);
    } else if let Some(attrs) = field(&spec, 2) {
        let attrs = fields(attrs).ok_or_else(bad)?;
        let s = |n| field(&attrs, n).map(|v| String::from_utf8_lossy(v).into_owned()).unwrap_or_default();
        out["spec"]["nonResourceAttributes"] = json!({"path": s(1), "verb": s(2)});
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ld(number: u64, payload: &[u8]) -> Vec<u8> {
        let mut v = vec![((number << 3) | 2) as u8, payload.len() as u8];
        v.extend_from_slice(payload);
        v
    }

    #[test]
    fn decodes_kubectl_auth_can_i() {
        let attrs = [ld(1, b"team-a"), ld(2, b"create"), ld(5, b"pods")].concat();
        let spec = ld(1, &attrs);
        let review = [ld(1, b""), ld(2, &spec)].concat();
        let unknown =
            [ld(1, &[ld(1, b"authorization.k8s.io/v1"), ld(2, b"SelfSubjectAccessReview")].concat()), ld(2, &review)]
                .concat();
        let body = [b"k8s\0".as_slice(), &unknown].concat();
        let v = decode_access_review(&body).expect("decodes");
        assert_eq!(
            v["spec"]["resourceAttributes"],
            json!({"namespace": "team-a", "verb": "create", "resource": "pods"})
        );
        assert!(decode_access_review(b"k8s\0\xff\xff").is_err());
        assert!(decode_access_review(b"{}").is_err());
    }

    fn entry(k: &[u8], v: &[u8]) -> Vec<u8> {
        [ld(1, k), ld(2, v)].concat()
    }

    #[test]
    fn decodes_kubectl_create_configmap_and_namespace() {
        let meta = [ld(1, b"ctx"), ld(3, b"team-a"), ld(11, &entry(b"app", b"tlc"))].concat();
        let cm = [ld(1, &meta), ld(2, &entry(b"environment.yaml", b"id: 1\n")), ld(2, &entry(b"k", b"v"))].concat();
        let envelope = [ld(1, &[ld(1, b"v1"), ld(2, b"ConfigMap")].concat()), ld(2, &cm)].concat();
        let v = decode_object(&[b"k8s\0".as_slice(), &envelope].concat()).expect("configmap");
        assert_eq!(
            v,
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ctx", "namespace": "team-a", "labels": {"app": "tlc"}},
                   "data": {"environment.yaml": "id: 1\n", "k": "v"}})
        );
        let ns = [ld(1, &[ld(1, b"v1"), ld(2, b"Namespace")].concat()), ld(2, &ld(1, &ld(1, b"team-b")))].concat();
        assert_eq!(
            decode_object(&[b"k8s\0".as_slice(), &ns].concat()).expect("namespace")["metadata"]["name"],
            "team-b"
        );
        let rule = [ld(1, b"get"), ld(1, b"list"), ld(2, b""), ld(3, b"pods")].concat();
        let role = [ld(1, &ld(1, b"reader")), ld(2, &rule)].concat();
        let envelope =
            [ld(1, &[ld(1, b"rbac.authorization.k8s.io/v1"), ld(2, b"Role")].concat()), ld(2, &role)].concat();
        assert_eq!(
            decode_object(&[b"k8s\0".as_slice(), &envelope].concat()).expect("role")["rules"],
            json!([{"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods"]}])
        );
        let subject = [ld(1, b"ServiceAccount"), ld(2, b""), ld(3, b"runner"), ld(4, b"argo")].concat();
        let role_ref = [ld(1, b"rbac.authorization.k8s.io"), ld(2, b"Role"), ld(3, b"reader")].concat();
        let binding = [ld(1, &ld(1, b"b")), ld(2, &subject), ld(3, &role_ref)].concat();
        let envelope =
            [ld(1, &[ld(1, b"rbac.authorization.k8s.io/v1"), ld(2, b"RoleBinding")].concat()), ld(2, &binding)]
                .concat();
        let v = decode_object(&[b"k8s\0".as_slice(), &envelope].concat()).expect("binding");
        assert_eq!(
            v["subjects"],
            json!([{"kind": "ServiceAccount", "apiGroup": "", "name": "runner", "namespace": "argo"}])
        );
        assert_eq!(v["roleRef"], json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"}));
        let pod = [ld(1, &[ld(1, b"v1"), ld(2, b"Pod")].concat()), ld(2, &ld(1, &ld(1, b"p")))].concat();
        assert_eq!(decode_object(&[b"k8s\0".as_slice(), &pod].concat()).expect_err("pods are JSON only").code, 415);
    }
}

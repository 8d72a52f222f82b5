//! What the kubelet resolves before a container can start: its environment (`env`, `envFrom`,
//! `fieldRef`, `configMapKeyRef`), its files (ConfigMap volumes at their mount paths, with `items`
//! and `subPath`), and its argv (`command` + `args` with Kubernetes' `$(VAR)` expansion). A missing
//! ConfigMap is reported the way a real kubelet reports it, and the kubelet retries.

use std::collections::BTreeMap;

use serde_json::Value;

use super::podfs::Mounts;
use crate::store::Store;
use crate::store::resource::Resource;

/// Why a container cannot start yet (the kubelet retries when the store changes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotReady {
    /// The waiting reason (`CreateContainerConfigError`) or event reason (`FailedMount`).
    pub reason: &'static str,
    /// The message, as a real kubelet words it.
    pub message: String,
}

fn s<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn config_map(store: &Store, namespace: &str, name: &str) -> Option<serde_json::Map<String, Value>> {
    store
        .get(Resource::ConfigMaps, namespace, name)
        .ok()
        .map(|cm| cm.get("data").and_then(Value::as_object).cloned().unwrap_or_default())
}

/// The container's environment, in Kubernetes order: `envFrom` sources, then `env` entries (which
/// may refer to earlier variables with `$(VAR)`), plus the variables every container gets.
pub fn environment(store: &Store, pod: &Value, container: &Value) -> Result<BTreeMap<String, String>, NotReady> {
    let namespace = pod.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or_default();
    let pod_name = pod.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default();
    let mut env = BTreeMap::new();
    env.insert("PATH".to_string(), "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".to_string());
    env.insert("HOSTNAME".to_string(), pod_name.to_string());
    env.insert("HOME".to_string(), "/root".to_string());
    let config_error = |message: String| NotReady { reason: "CreateContainerConfigError", message };
    for source in container.get("envFrom").and_then(Value::as_array).into_iter().flatten() {
        let prefix = s(source, "prefix").unwrap_or_default();
        if let Some(r) = source.get("configMapRef") {
            let name = s(r, "name").unwrap_or_default();
            let optional = r.get("optional").and_then(Value::as_bool).unwrap_or(false);
            match config_map(store, namespace, name) {
                Some(data) => {
                    for (k, v) in data {
                        env.insert(format!("{prefix}{k}"), v.as_str().unwrap_or_default().to_string());
                    }
                }
                None if optional => {}
                None => return Err(config_error(format!("configmap \"{name}\" not found"))),
            }
        } else if source.get("secretRef").is_some() {
            return Err(config_error("secrets are not served by the embedded cluster".into()));
        }
    }
    for entry in container.get("env").and_then(Value::as_array).into_iter().flatten() {
        let Some(name) = s(entry, "name") else { continue };
        let value = if let Some(v) = s(entry, "value") {
            expand_references(v, &env)
        } else if let Some(from) = entry.get("valueFrom") {
            if let Some(f) = from.get("fieldRef") {
                field_ref(pod, s(f, "fieldPath").unwrap_or_default())
            } else if let Some(r) = from.get("configMapKeyRef") {
                let cm = s(r, "name").unwrap_or_default();
                let key = s(r, "key").unwrap_or_default();
                let optional = r.get("optional").and_then(Value::as_bool).unwrap_or(false);
                match config_map(store, namespace, cm).map(|d| d.get(key).and_then(Value::as_str).map(str::to_string)) {
                    Some(Some(v)) => v,
                    _ if optional => continue,
                    Some(None) => {
                        return Err(config_error(format!("couldn't find key {key} in ConfigMap {namespace}/{cm}")));
                    }
                    None => return Err(config_error(format!("configmap \"{cm}\" not found"))),
                }
            } else if from.get("secretKeyRef").is_some() {
                return Err(config_error("secrets are not served by the embedded cluster".into()));
            } else {
                String::new()
            }
        } else {
            String::new()
        };
        env.insert(name.to_string(), value);
    }
    Ok(env)
}

fn field_ref(pod: &Value, path: &str) -> String {
    let pointer = |p: &str| pod.pointer(p).and_then(Value::as_str).unwrap_or_default().to_string();
    match path {
        "metadata.name" => pointer("/metadata/name"),
        "metadata.namespace" => pointer("/metadata/namespace"),
        "metadata.uid" => pointer("/metadata/uid"),
        "spec.nodeName" => pointer("/spec/nodeName"),
        "spec.serviceAccountName" => pointer("/spec/serviceAccountName"),
        "status.podIP" => pointer("/status/podIP"),
        "status.hostIP" => pointer("/status/hostIP"),
        p => {
            // metadata.labels['key'] / metadata.annotations['key']
            for (prefix, map) in [("metadata.labels['", "labels"), ("metadata.annotations['", "annotations")] {
                if let Some(key) = p.strip_prefix(prefix).and_then(|r| r.strip_suffix("']")) {
                    return pod
                        .pointer(&format!("/metadata/{map}"))
                        .and_then(|m| m.get(key))
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string();
                }
            }
            String::new()
        }
    }
}

/// Kubernetes' `$(VAR)` expansion in `command`, `args` and `env` values: a defined variable is
/// replaced, an undefined reference stays as written, and `$$` is a literal `$`.
pub fn expand_references(text: &str, env: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(inner) = after.strip_prefix('(') {
            match inner.find(')') {
                Some(end) => {
                    let name = &inner[..end];
                    match env.get(name) {
                        Some(v) => out.push_str(v),
                        None => {
                            out.push_str("$(");
                            out.push_str(name);
                            out.push(')');
                        }
                    }
                    rest = &inner[end + 1..];
                }
                None => {
                    out.push_str("$(");
                    rest = inner;
                }
            }
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// The argv the container runs: `command` ++ `args`, expanded.
pub fn argv(container: &Value, env: &BTreeMap<String, String>) -> Vec<String> {
    ["command", "args"]
        .iter()
        .filter_map(|k| container.get(*k).and_then(Value::as_array))
        .flatten()
        .filter_map(Value::as_str)
        .map(|a| expand_references(a, env))
        .collect()
}

fn join(dir: &str, file: &str) -> String {
    format!("{}/{}", dir.trim_end_matches('/'), file.trim_start_matches('/'))
}

/// Resolves the pod's ConfigMap volumes for one container: its read-only mounts (ConfigMap
/// volumes are always mounted read-only, whatever `readOnly` says). Other volume types (`emptyDir`,
/// …) need no mount: every other path is the pod's shared, writable space.
pub fn files(store: &Store, pod: &Value, container: &Value) -> Result<Mounts, NotReady> {
    let namespace = pod.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or_default();
    let volumes = pod.pointer("/spec/volumes").and_then(Value::as_array).cloned().unwrap_or_default();
    let mut files = Mounts::new();
    for mount in container.get("volumeMounts").and_then(Value::as_array).into_iter().flatten() {
        let vname = s(mount, "name").unwrap_or_default();
        let mount_path = s(mount, "mountPath").unwrap_or_default();
        let sub_path = s(mount, "subPath").filter(|p| !p.is_empty());
        let Some(volume) = volumes.iter().find(|v| s(v, "name") == Some(vname)) else { continue };
        let mount_error = |message: String| NotReady {
            reason: "FailedMount",
            message: format!("MountVolume.SetUp failed for volume \"{vname}\" : {message}"),
        };
        let mut contents = BTreeMap::new();
        if let Some(cm) = volume.get("configMap") {
            let name = s(cm, "name").unwrap_or_default();
            let optional = cm.get("optional").and_then(Value::as_bool).unwrap_or(false);
            match config_map(store, namespace, name) {
                Some(data) => match cm.get("items").and_then(Value::as_array) {
                    Some(items) => {
                        for item in items {
                            let key = s(item, "key").unwrap_or_default();
                            match data.get(key).and_then(Value::as_str) {
                                Some(v) => {
                                    contents.insert(s(item, "path").unwrap_or(key).to_string(), v.to_string());
                                }
                                None if optional => {}
                                None => {
                                    return Err(mount_error(format!(
                                        "configmap references non-existent config key: {key}"
                                    )));
                                }
                            }
                        }
                    }
                    None => {
                        for (k, v) in data {
                            contents.insert(k, v.as_str().unwrap_or_default().to_string());
                        }
                    }
                },
                None if optional => {}
                None => return Err(mount_error(format!("configmap \"{name}\" not found"))),
            }
        } else if volume.get("secret").is_some() || volume.get("projected").is_some() {
            return Err(mount_error("secret and projected volumes are not served by the embedded cluster".into()));
        }
        if volume.get("configMap").is_none() {
            continue;
        }
        files.add_point(mount_path);
        match sub_path {
            Some(sp) => {
                if let Some(v) = contents.get(sp) {
                    files.add_file(mount_path, v.as_bytes());
                }
            }
            None => {
                for (k, v) in contents {
                    files.add_file(&join(mount_path, &k), v.as_bytes());
                }
            }
        }
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn references_expand_like_kubernetes() {
        let env: BTreeMap<String, String> = [("A".to_string(), "1".to_string())].into_iter().collect();
        assert_eq!(expand_references("x$(A)y", &env), "x1y");
        assert_eq!(expand_references("$(B)", &env), "$(B)");
        assert_eq!(expand_references("$$(A)", &env), "$(A)");
        assert_eq!(expand_references("$A $( unterminated", &env), "$A $( unterminated");
    }

    #[test]
    fn environment_and_files_come_from_configmaps() {
        let store = Store::new(100);
        store
            .create(Resource::ConfigMaps, json!({"metadata": {"name": "ctx", "namespace": "default"}, "data": {"environment.yaml": "id: 1\n", "k": "v"}}))
            .expect("cm");
        let pod = json!({"metadata": {"name": "p", "namespace": "default", "labels": {"team": "a"}},
            "spec": {"volumes": [{"name": "ctx", "configMap": {"name": "ctx"}}, {"name": "one", "configMap": {"name": "ctx", "items": [{"key": "k", "path": "renamed"}]}}]}});
        let container = json!({"name": "c",
            "env": [{"name": "X", "value": "$(HOSTNAME)-x"}, {"name": "T", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['team']"}}},
                    {"name": "K", "valueFrom": {"configMapKeyRef": {"name": "ctx", "key": "k"}}}],
            "volumeMounts": [{"name": "ctx", "mountPath": "/mount/point"}, {"name": "one", "mountPath": "/one/"}, {"name": "ctx", "mountPath": "/etc/env.yaml", "subPath": "environment.yaml"}],
            "command": ["sh", "-c"], "args": ["echo $(X)"]});
        let env = environment(&store, &pod, &container).expect("env");
        assert_eq!(env.get("X").map(String::as_str), Some("p-x"));
        assert_eq!(env.get("T").map(String::as_str), Some("a"));
        assert_eq!(env.get("K").map(String::as_str), Some("v"));
        assert_eq!(argv(&container, &env), vec!["sh", "-c", "echo p-x"]);
        let f = files(&store, &pod, &container).expect("files");
        let text = |p: &str| f.get(p).map(|b| String::from_utf8_lossy(b).into_owned());
        assert_eq!(text("/mount/point/environment.yaml").as_deref(), Some("id: 1\n"));
        assert_eq!(text("/one/renamed").as_deref(), Some("v"));
        assert_eq!(text("/etc/env.yaml").as_deref(), Some("id: 1\n"));
        let missing = json!({"name": "c", "volumeMounts": [{"name": "gone", "mountPath": "/m"}]});
        let pod2 = json!({"metadata": {"namespace": "default"}, "spec": {"volumes": [{"name": "gone", "configMap": {"name": "nope"}}]}});
        let err = files(&store, &pod2, &missing).expect_err("missing cm");
        assert_eq!(err.message, "MountVolume.SetUp failed for volume \"gone\" : configmap \"nope\" not found");
        let bad_env = json!({"name": "c", "env": [{"name": "K", "valueFrom": {"configMapKeyRef": {"name": "nope", "key": "k"}}}]});
        assert_eq!(environment(&store, &pod, &bad_env).expect_err("missing").reason, "CreateContainerConfigError");
    }
}

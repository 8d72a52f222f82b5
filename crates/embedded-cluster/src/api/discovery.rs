//! Legacy discovery documents (`/api`, `/api/v1`, `/apis`, `/apis/{g}`, `/apis/{g}/{v}`) and
//! `/version`, generated from the resource table so they can never disagree with what is served.

use serde_json::{Value, json};

use crate::store::resource::RESOURCES;

/// The Kubernetes version the embedded cluster reports.
pub const GIT_VERSION: &str = "v1.33.0-tlc.embedded";

/// `/version`.
pub fn version() -> Value {
    json!({
        "major": "1",
        "minor": "33",
        "gitVersion": GIT_VERSION,
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "go1.24.0",
        "compiler": "gc",
        "platform": "linux/amd64",
        "emulationMajor": "1",
        "emulationMinor": "33",
    })
}

/// `/api`.
pub fn core_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    })
}

fn groups() -> Vec<(&'static str, &'static str)> {
    let mut gs: Vec<(&str, &str)> = Vec::new();
    for r in RESOURCES.iter().filter(|r| !r.group.is_empty()) {
        if !gs.contains(&(r.group, r.version)) {
            gs.push((r.group, r.version));
        }
    }
    gs
}

fn group_doc(group: &str, version: &str) -> Value {
    let gv = json!({"groupVersion": format!("{group}/{version}"), "version": version});
    json!({"name": group, "versions": [gv.clone()], "preferredVersion": gv})
}

/// `/apis`.
pub fn api_groups() -> Value {
    json!({
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": groups().into_iter().map(|(g, v)| group_doc(g, v)).collect::<Vec<_>>(),
    })
}

/// `/apis/{group}`, if the group is served.
pub fn api_group(group: &str) -> Option<Value> {
    groups().into_iter().find(|(g, _)| *g == group).map(|(g, v)| {
        let mut doc = group_doc(g, v);
        doc["kind"] = json!("APIGroup");
        doc["apiVersion"] = json!("v1");
        doc
    })
}

/// `/api/v1` or `/apis/{group}/{version}`.
pub fn resource_list(group: &str, version: &str) -> Option<Value> {
    let served: Vec<_> = RESOURCES.iter().filter(|r| r.group == group && r.version == version).collect();
    if served.is_empty() {
        return None;
    }
    let mut resources = Vec::new();
    for r in served {
        let mut doc = json!({
            "name": r.plural,
            "singularName": r.singular,
            "namespaced": r.namespaced,
            "kind": r.kind,
            "verbs": r.verbs,
        });
        if !r.short_names.is_empty() {
            doc["shortNames"] = json!(r.short_names);
        }
        if !r.categories.is_empty() {
            doc["categories"] = json!(r.categories);
        }
        resources.push(doc);
        for sub in r.subresources {
            let verbs: &[&str] = match *sub {
                "log" => &["get"],
                _ => &["get", "patch", "update"],
            };
            resources.push(json!({
                "name": format!("{}/{sub}", r.plural),
                "singularName": "",
                "namespaced": r.namespaced,
                "kind": if *sub == "log" { "Pod" } else { r.kind },
                "verbs": verbs,
            }));
        }
    }
    let group_version = if group.is_empty() { version.to_string() } else { format!("{group}/{version}") };
    Some(json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": resources}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_list_has_pods_and_their_subresources() {
        let doc = resource_list("", "v1").expect("core");
        let names: Vec<&str> =
            doc["resources"].as_array().expect("array").iter().filter_map(|r| r["name"].as_str()).collect();
        for n in ["namespaces", "configmaps", "pods", "pods/log", "pods/status", "events"] {
            assert!(names.contains(&n), "{n} in {names:?}");
        }
        assert!(resource_list("apps", "v1").is_none());
    }

    #[test]
    fn groups_are_listed_once() {
        let doc = api_groups();
        let names: Vec<&str> =
            doc["groups"].as_array().expect("groups").iter().filter_map(|g| g["name"].as_str()).collect();
        assert_eq!(names, vec!["batch", "authorization.k8s.io", "rbac.authorization.k8s.io", "argoproj.io"]);
        assert_eq!(api_group("argoproj.io").expect("argo")["preferredVersion"]["version"], "v1alpha1");
    }
}

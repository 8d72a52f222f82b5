//! `/openapi/v3`: the index and one document per group-version, generated from the resource table.
//! kubectl reads them before `create -f` to learn that the server validates fields itself (the
//! PATCH operations accept `fieldValidation`); it then sends `fieldValidation=Strict` and the server
//! rejects unknown fields, exactly as a real cluster does. Schemas are deliberately open objects:
//! the server, not the document, is the validator. (`/openapi/v2` is protobuf-only in kubectl and is
//! not served; kubectl only falls back to it when v3 is missing.)

use serde_json::{Map, Value, json};

use crate::store::resource::{RESOURCES, ResourceInfo};

fn group_versions() -> Vec<(&'static str, &'static str)> {
    let mut gvs = Vec::new();
    for r in RESOURCES {
        if !gvs.contains(&(r.group, r.version)) {
            gvs.push((r.group, r.version));
        }
    }
    gvs
}

fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() { format!("api/{version}") } else { format!("apis/{group}/{version}") }
}

fn schema_name(r: &ResourceInfo) -> String {
    match r.group {
        "" => format!("io.k8s.api.core.{}.{}", r.version, r.kind),
        "batch" => format!("io.k8s.api.batch.{}.{}", r.version, r.kind),
        "authorization.k8s.io" => format!("io.k8s.api.authorization.{}.{}", r.version, r.kind),
        "rbac.authorization.k8s.io" => format!("io.k8s.api.rbac.{}.{}", r.version, r.kind),
        g => format!("{}.{}.{}", g.split('.').rev().collect::<Vec<_>>().join("."), r.version, r.kind),
    }
}

fn gvk(r: &ResourceInfo) -> Value {
    json!({"group": r.group, "version": r.version, "kind": r.kind})
}

fn operation(r: &ResourceInfo, action: &str, params: &[&str]) -> Value {
    let parameters: Vec<Value> = params
        .iter()
        .map(|p| json!({"name": p, "in": "query", "schema": {"type": "string", "uniqueItems": true}}))
        .collect();
    json!({
        "operationId": format!("{action}{}", r.kind),
        "parameters": parameters,
        "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{}", schema_name(r))}}}}},
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": gvk(r),
    })
}

fn document_for(group: &str, version: &str) -> Value {
    let mut paths = Map::new();
    let mut schemas = Map::new();
    let prefix = format!("/{}", gv_path(group, version));
    for r in RESOURCES.iter().filter(|r| r.group == group && r.version == version) {
        let collection = if r.namespaced {
            format!("{prefix}/namespaces/{{namespace}}/{}", r.plural)
        } else {
            format!("{prefix}/{}", r.plural)
        };
        let writes = ["dryRun", "fieldManager", "fieldValidation"];
        paths.insert(collection.clone(), json!({"post": operation(r, "post", &writes)}));
        if r.stored {
            paths.insert(
                format!("{collection}/{{name}}"),
                json!({
                    "get": operation(r, "get", &[]),
                    "put": operation(r, "put", &writes),
                    "patch": operation(r, "patch", &["dryRun", "fieldManager", "fieldValidation", "force"]),
                    "delete": operation(r, "delete", &["dryRun", "gracePeriodSeconds", "propagationPolicy"]),
                }),
            );
        }
        schemas.insert(
            schema_name(r),
            json!({
                "type": "object",
                "description": format!("{} (validated by the embedded API server)", r.kind),
                "x-kubernetes-preserve-unknown-fields": true,
                "x-kubernetes-group-version-kind": [gvk(r)],
            }),
        );
    }
    json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes (tlc embedded cluster)", "version": super::discovery::GIT_VERSION},
        "paths": paths,
        "components": {"schemas": schemas},
    })
}

/// The document served at `path`, if any.
pub fn document(path: &str) -> Option<Value> {
    let rest = path.trim_end_matches('/').strip_prefix("/openapi/v3")?;
    if rest.is_empty() {
        let mut paths = Map::new();
        for (g, v) in group_versions() {
            let p = gv_path(g, v);
            paths.insert(
                p.clone(),
                json!({"serverRelativeURL": format!("/openapi/v3/{p}?hash={}", super::discovery::GIT_VERSION)}),
            );
        }
        return Some(json!({"paths": paths}));
    }
    let rest = rest.strip_prefix('/')?;
    group_versions().into_iter().find(|(g, v)| gv_path(g, v) == rest).map(|(g, v)| document_for(g, v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_lists_every_group_version_and_documents_resolve() {
        let index = document("/openapi/v3").expect("index");
        let paths = index["paths"].as_object().expect("paths");
        assert!(
            paths.contains_key("api/v1")
                && paths.contains_key("apis/batch/v1")
                && paths.contains_key("apis/argoproj.io/v1alpha1")
        );
        let core = document("/openapi/v3/api/v1").expect("core");
        let patch = &core["paths"]["/api/v1/namespaces/{namespace}/pods/{name}"]["patch"];
        assert_eq!(patch["x-kubernetes-group-version-kind"]["kind"], "Pod");
        assert!(patch["parameters"].as_array().expect("params").iter().any(|p| p["name"] == "fieldValidation"));
        assert!(document("/openapi/v3/apis/apps/v1").is_none());
        assert!(document("/openapi/v2").is_none());
    }
}

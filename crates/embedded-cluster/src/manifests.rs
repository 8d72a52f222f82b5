//! Seeding from manifests: multi-document YAML (or JSON) applied straight to the store, through the
//! same decoding, defaulting and validation as an API request — so a manifest that seeds the demo
//! would be accepted by a real cluster too.

use serde_json::{Value, json};

use super::error::{Error, Result};
use super::store::resource::{Resource, ResourceInfo};
use super::store::{Store, admission};

/// Parses multi-document YAML into JSON values (empty documents are skipped).
pub fn parse_documents(origin: &str, text: &str) -> Result<Vec<Value>> {
    let docs: Vec<Value> = serde_saphyr::from_multiple(text).map_err(|e| Error::Manifest {
        origin: origin.to_string(),
        document: 0,
        message: format!("not valid YAML: {e}"),
    })?;
    Ok(docs.into_iter().filter(|d| !d.is_null()).collect())
}

/// Creates every object of a manifest text in order; missing namespaces are created first.
/// Returns how many objects were created.
pub fn apply(store: &Store, origin: &str, text: &str) -> Result<usize> {
    let docs = parse_documents(origin, text)?;
    let mut created = 0;
    for (i, mut doc) in docs.into_iter().enumerate() {
        let fail = |message: String| Error::Manifest { origin: origin.to_string(), document: i + 1, message };
        if !doc.is_object() || !doc.get("metadata").is_none_or(Value::is_object) {
            return Err(fail("a manifest must be a mapping with a `metadata` mapping".into()));
        }
        if doc.get("kind").and_then(Value::as_str) == Some("List") {
            return Err(fail("List documents are not supported; write one object per document".into()));
        }
        let api_version = doc.get("apiVersion").and_then(Value::as_str).unwrap_or_default().to_string();
        let kind = doc.get("kind").and_then(Value::as_str).unwrap_or_default().to_string();
        let info: &ResourceInfo = ResourceInfo::for_kind(&api_version, &kind)
            .filter(|r| r.stored)
            .ok_or_else(|| fail(format!("the embedded cluster does not serve {kind} ({api_version})")))?;
        if info.namespaced {
            let ns = doc.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or("default").to_string();
            if !store.namespace_exists(&ns) {
                store
                    .create(
                        Resource::Namespaces,
                        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
                    )
                    .map_err(|e| fail(e.message))?;
            }
            if doc.get("metadata").is_none() {
                doc["metadata"] = json!({});
            }
            doc["metadata"]["namespace"] = json!(ns);
        }
        if info.resource == Resource::Namespaces
            && store.namespace_exists(doc.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default())
        {
            // Like `kubectl apply`: several manifests may declare the same namespace.
            continue;
        }
        let (decoded, unknown) = admission::decode(info, doc).map_err(|e| fail(e.message))?;
        if let Some(field) = unknown.first() {
            return Err(fail(format!("unknown field \"{field}\" in {kind}")));
        }
        store.create(info.resource, decoded).map_err(|e| fail(e.message))?;
        created += 1;
    }
    Ok(created)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applies_documents_and_creates_namespaces() {
        let store = Store::new(100);
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: team-x\ndata:\n  k: v\n---\n---\napiVersion: batch/v1\nkind: Job\nmetadata:\n  name: j\n  namespace: team-x\nspec:\n  suspend: true\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n      - name: c\n        image: busybox\n";
        assert_eq!(apply(&store, "test", text).expect("applies"), 2);
        assert!(store.namespace_exists("team-x"));
        assert_eq!(store.get(Resource::Jobs, "team-x", "j").expect("job")["spec"]["suspend"], json!(true));
    }

    #[test]
    fn errors_name_the_document_and_the_problem() {
        let store = Store::new(100);
        let err = apply(&store, "x.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n").expect_err("secrets");
        assert_eq!(err.to_string(), "x.yaml: document 2: the embedded cluster does not serve Secret (v1)");
        let err = apply(&store, "y.yaml", "kind: [").expect_err("yaml");
        assert!(err.to_string().starts_with("y.yaml: document 0: not valid YAML"), "{err}");
        let err = apply(&store, "z.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Bad_Name\n")
            .expect_err("invalid");
        assert!(err.to_string().contains("metadata.name: Invalid value: \"Bad_Name\""), "{err}");
    }
}

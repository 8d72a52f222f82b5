//! Kubeconfigs for embedded clusters: one context per region (plus one per extra user), written for
//! `kubectl` and loaded back through kube-rs' own kubeconfig code, so in-process clients take the
//! exact path a real cluster's clients take.

use std::path::Path;

use base64::Engine as _;
use serde_json::{Value, json};

use super::error::{Error, Result};

/// One entry of a kubeconfig: a context named `context` for `user` (with `token`) on `server`.
#[derive(Clone, Debug)]
pub struct Entry {
    /// Context name (the region, or `region-user` for extra users).
    pub context: String,
    /// Cluster name (the region).
    pub cluster: String,
    /// `https://127.0.0.1:PORT`.
    pub server: String,
    /// The CA certificate (PEM) the server's certificate chains to.
    pub ca_pem: String,
    /// User entry name.
    pub user: String,
    /// Bearer token.
    pub token: String,
}

/// The kubeconfig document for `entries`, with `current` as the current context.
pub fn document(entries: &[Entry], current: &str) -> Value {
    let mut clusters: Vec<Value> = Vec::new();
    for e in entries {
        if !clusters.iter().any(|c| c["name"] == json!(e.cluster)) {
            let ca = base64::engine::general_purpose::STANDARD.encode(e.ca_pem.as_bytes());
            clusters
                .push(json!({"name": e.cluster, "cluster": {"server": e.server, "certificate-authority-data": ca}}));
        }
    }
    json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": clusters,
        "contexts": entries.iter().map(|e| json!({"name": e.context, "context": {"cluster": e.cluster, "user": e.user, "namespace": "default"}})).collect::<Vec<_>>(),
        "users": entries.iter().map(|e| json!({"name": e.user, "user": {"token": e.token}})).collect::<Vec<_>>(),
        "current-context": current,
        "preferences": {},
    })
}

/// The document as YAML text.
pub fn to_yaml(doc: &Value) -> String {
    serde_saphyr::to_string(doc).unwrap_or_else(|_| doc.to_string())
}

/// Writes a kubeconfig file starting with the comment line `header` (mode 0600 where supported,
/// as kubectl expects for credentials).
pub fn write(path: &Path, entries: &[Entry], current: &str, header: &str) -> Result<()> {
    let text = format!("{header}\n{}", to_yaml(&document(entries, current)));
    let fail = |message: String| Error::Kubeconfig { path: path.to_path_buf(), message };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| fail(format!("cannot create its directory: {e}")))?;
    }
    std::fs::write(path, text).map_err(|e| fail(format!("cannot write it: {e}")))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| fail(format!("cannot restrict its permissions: {e}")))?;
    }
    Ok(())
}

/// A kube-rs client configuration for one entry, built through kube-rs' kubeconfig loader.
pub async fn client_config(entry: &Entry) -> Result<kube::Config> {
    let text = to_yaml(&document(std::slice::from_ref(entry), &entry.context));
    let kubeconfig = kube::config::Kubeconfig::from_yaml(&text).map_err(|e| Error::Client(e.to_string()))?;
    let options = kube::config::KubeConfigOptions { context: Some(entry.context.clone()), ..Default::default() };
    kube::Config::from_custom_kubeconfig(kubeconfig, &options).await.map_err(|e| Error::Client(e.to_string()))
}

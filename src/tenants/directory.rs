//! The GitOps tenant source: a directory of YAML files, one tenant per file, each file being the
//! tenant's `environment.yaml` (with at least `id` and `region`).

use std::path::Path;

use super::{Tenant, check_id, read_environment};
use crate::lifecycle::error::{Error, Result};

/// Reads every `*.yaml` / `*.yml` file of `dir` as a tenant (sorted by file name).
pub fn list(dir: &Path) -> Result<Vec<Tenant>> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| Error::Input(format!("tenant directory {}: {e}", dir.display())))?;
    let mut paths: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    paths.sort();
    let mut tenants = Vec::new();
    for path in paths {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(&path).map_err(|e| Error::Input(format!("{origin}: {e}")))?;
        tenants.push(tenant_from_file(&origin, &path, text));
    }
    Ok(tenants)
}

/// Reads one file as a tenant.
pub fn tenant_from_file(origin: &str, path: &Path, text: String) -> Tenant {
    let mut problems = Vec::new();
    let fields = read_environment(&text).unwrap_or_else(|e| {
        problems.push(e);
        Default::default()
    });
    let id = fields.id.clone().unwrap_or_else(|| {
        problems.push("no `id` in the file".into());
        String::new()
    });
    if !id.is_empty() {
        check_id(&id, &mut problems);
    }
    let region = fields.region.clone().unwrap_or_else(|| {
        problems.push("no `region` in the file".into());
        String::new()
    });
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    Tenant {
        id,
        name: fields.name.clone().unwrap_or(stem),
        display_name: fields.display_name,
        region,
        plan: fields.plan,
        services: fields.services,
        labels: Default::default(),
        environment_yaml: text,
        origin: origin.to_string(),
        problems,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_gitops_directory() {
        let dir = tempfile::tempdir().expect("dir");
        std::fs::write(
            dir.path().join("acme.yaml"),
            "id: 1da11ccf-6654-4f57-8807-6bb944658fe6\nregion: eu-west\nname: acme-prod\n",
        )
        .expect("w");
        std::fs::write(dir.path().join("broken.yml"), "region: [\n").expect("w");
        std::fs::write(dir.path().join("notes.txt"), "ignored").expect("w");
        let tenants = list(dir.path()).expect("lists");
        assert_eq!(tenants.len(), 2);
        assert_eq!((tenants[0].name.as_str(), tenants[0].region.as_str()), ("acme-prod", "eu-west"));
        assert!(tenants[0].is_usable());
        assert_eq!(tenants[1].name, "broken");
        assert!(!tenants[1].is_usable());
        assert!(list(&dir.path().join("missing")).is_err());
    }
}

//! The tenant context every lifecycle container gets: five environment variables and two files.

/// The tenant environment id (a UUID).
pub const ENV_TENANT_ENV_ID: &str = "LIFECYCLE_TENANT_ENV_ID";
/// One id per triggered operation (a UUIDv7).
pub const ENV_BATCH_OPERATION_ID: &str = "LIFECYCLE_BATCH_OPERATION_ID";
/// The operation, e.g. `lifecycle.upsert`.
pub const ENV_OPERATION_NAME: &str = "LIFECYCLE_OPERATION_NAME";
/// Path of the mounted `environment.yaml`.
pub const ENV_TENANT_ENV_FILE: &str = "LIFECYCLE_TENANT_ENV_FILE";
/// Path of the mounted `changeset.yaml`.
pub const ENV_CHANGESET_FILE: &str = "LIFECYCLE_CHANGESET_FILE";
/// All five, in the order they are injected.
pub const ENV_VARS: [&str; 5] =
    [ENV_TENANT_ENV_ID, ENV_BATCH_OPERATION_ID, ENV_OPERATION_NAME, ENV_TENANT_ENV_FILE, ENV_CHANGESET_FILE];

/// File name of the tenant's environment in the mount directory.
pub const ENVIRONMENT_FILE: &str = "environment.yaml";
/// File name of the operation's changeset in the mount directory.
pub const CHANGESET_FILE: &str = "changeset.yaml";

/// The two files a batch's branches get: what a retry reruns with and an incident bundle keeps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchFiles {
    /// The tenant's `environment.yaml`.
    pub environment_yaml: String,
    /// The operation's `changeset.yaml`.
    pub changeset_yaml: String,
}

/// What one branch runs with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TenantContext {
    /// The tenant environment id.
    pub tenant_id: String,
    /// The batch id.
    pub batch_id: String,
    /// The operation.
    pub operation: String,
    /// Where the two files are mounted.
    pub mount_dir: String,
}

impl TenantContext {
    /// Path of the environment file inside the container.
    pub fn environment_path(&self) -> String {
        join(&self.mount_dir, ENVIRONMENT_FILE)
    }

    /// Path of the changeset file inside the container.
    pub fn changeset_path(&self) -> String {
        join(&self.mount_dir, CHANGESET_FILE)
    }

    /// The five variables with their values, in injection order.
    pub fn env(&self) -> [(&'static str, String); 5] {
        [
            (ENV_TENANT_ENV_ID, self.tenant_id.clone()),
            (ENV_BATCH_OPERATION_ID, self.batch_id.clone()),
            (ENV_OPERATION_NAME, self.operation.clone()),
            (ENV_TENANT_ENV_FILE, self.environment_path()),
            (ENV_CHANGESET_FILE, self.changeset_path()),
        ]
    }
}

fn join(dir: &str, file: &str) -> String {
    format!("{}/{file}", dir.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_point_into_the_mount() {
        let c = TenantContext {
            tenant_id: "t".into(),
            batch_id: "b".into(),
            operation: "lifecycle.upsert".into(),
            mount_dir: "/mount/point/".into(),
        };
        let env = c.env();
        assert_eq!(env.clone().map(|(k, _)| k), ENV_VARS);
        assert_eq!(env[3].1, "/mount/point/environment.yaml");
        assert_eq!(env[4].1, "/mount/point/changeset.yaml");
    }
}

//! The demo estate: the manifests under `deploy/examples/`, embedded in the binary. Every region gets
//! the team namespaces and their lifecycle Jobs (teams ship them everywhere through GitOps); each
//! demo region gets its own tenants.

use embedded_cluster::error::Result;
use embedded_cluster::manifests;
use embedded_cluster::store::Store;

/// The team manifests (namespace + Jobs per team), by file name.
pub const TEAMS: &[(&str, &str)] = &[
    ("teams/identity.yaml", include_str!("../../deploy/examples/teams/identity.yaml")),
    ("teams/catalog.yaml", include_str!("../../deploy/examples/teams/catalog.yaml")),
    ("teams/search.yaml", include_str!("../../deploy/examples/teams/search.yaml")),
    ("teams/lineage.yaml", include_str!("../../deploy/examples/teams/lineage.yaml")),
    ("teams/workflows.yaml", include_str!("../../deploy/examples/teams/workflows.yaml")),
    ("teams/storage.yaml", include_str!("../../deploy/examples/teams/storage.yaml")),
    ("teams/notifications.yaml", include_str!("../../deploy/examples/teams/notifications.yaml")),
    ("teams/billing.yaml", include_str!("../../deploy/examples/teams/billing.yaml")),
];

/// The namespace of batch records (every region).
pub const RECORDS: (&str, &str) = ("records.yaml", include_str!("../../deploy/examples/records.yaml"));

/// The tenant manifests, by region.
pub const TENANTS: &[(&str, &str, &str)] = &[
    ("eu-west", "tenants/eu-west.yaml", include_str!("../../deploy/examples/tenants/eu-west.yaml")),
    ("us-east", "tenants/us-east.yaml", include_str!("../../deploy/examples/tenants/us-east.yaml")),
];

/// Seeds `store` with the demo estate for `region` (teams always; tenants when the region is one of
/// the demo's). Returns how many objects were created.
pub fn seed(store: &Store, region: &str) -> Result<usize> {
    let mut created = 0;
    for (origin, text) in TEAMS.iter().chain(std::iter::once(&RECORDS)) {
        created += manifests::apply(store, &format!("deploy/examples/{origin}"), text)?;
    }
    for (tenant_region, origin, text) in TENANTS {
        if *tenant_region == region {
            created += manifests::apply(store, &format!("deploy/examples/{origin}"), text)?;
        }
    }
    Ok(created)
}

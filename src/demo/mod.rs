//! What `tlc demo`, `tlc sim`, the tests and the benchmarks seed embedded clusters with — product
//! knowledge the cluster does not have: the demo estate (the manifests under `deploy/examples/`,
//! embedded in the binary) and generated estates of any size. Both go in through the cluster's
//! public API ([`embedded_cluster::manifests::apply`], [`embedded_cluster::store::Store`]).

pub mod argo;
pub mod examples;
pub mod generated;

pub use generated::GeneratedEstate;

/// Namespace holding the tenant ConfigMaps.
pub const TENANT_NAMESPACE: &str = "tenants";
/// Namespace of batch records (the configuration's default `run.records_namespace`).
pub const RECORDS_NAMESPACE: &str = "tlc-records";
/// Label marking a ConfigMap as a tenant.
pub const TENANT_LABEL: &str = "tlc.dev/tenant";
/// Label carrying the tenant environment id.
pub const TENANT_ID_LABEL: &str = "tlc.dev/tenant-id";
/// Label carrying the tenant's region.
pub const TENANT_REGION_LABEL: &str = "tlc.dev/region";

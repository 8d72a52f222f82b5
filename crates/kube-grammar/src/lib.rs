//! Small Kubernetes grammar that the product and the embedded cluster both speak, so that neither
//! reaches into the other for it: label and field selectors with apimachinery's grammar, label key
//! and value rules, and RFC 3339 timestamps with nanoseconds (pod logs' `timestamps=true`).

pub mod selector;
pub mod time;

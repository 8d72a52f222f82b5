//! Deterministic names: a branch pod's name is a function of (batch id, job, attempt), so re-issuing
//! the same batch can never create a second pod (the API answers 409 AlreadyExists, which the bridge
//! treats as "attach to it"). Batch ids are UUIDv7: unique, and sortable by start time.

/// A new batch id (UUIDv7).
pub fn new_batch_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// The part of a batch id shown in tables, file names and messages: its last 8 characters. Batch
/// ids are UUIDv7, whose leading digits are a timestamp (the same for every batch started within a
/// minute); the trailing ones are random, so they tell batches apart.
pub fn short_id(id: &str) -> &str {
    id.get(id.len().saturating_sub(8)..).unwrap_or(id)
}

/// The part of a tenant id shown in tables and headers: its first 8 characters, as the tenants
/// view's ID column shows them, so a tenant reads the same wherever it appears.
pub fn short_tenant_id(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

/// FNV-1a, 64 bits: stable across platforms and releases (unlike `std`'s hasher).
fn fnv1a(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.bytes().chain(std::iter::once(0)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

/// Ten characters of lowercase base32 (50 bits).
fn base32(mut v: u64) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";
    (0..10)
        .map(|_| {
            let c = ALPHABET[(v & 31) as usize] as char;
            v >>= 5;
            c
        })
        .collect()
}

/// The name of the pod (and of its ConfigMap) for one branch: the job's name, shortened so the
/// whole stays within 63 characters, then a hash of (batch, job namespace, job name, attempt).
/// Always a valid DNS label.
pub fn branch_pod_name(batch_id: &str, job_namespace: &str, job_name: &str, attempt: u32) -> String {
    let hash = base32(fnv1a(&[batch_id, job_namespace, job_name, &attempt.to_string()]));
    let mut prefix: String = job_name
        .chars()
        .map(|c| if c.is_ascii_lowercase() || c.is_ascii_digit() { c } else { '-' })
        .take(63 - 11)
        .collect();
    while prefix.ends_with('-') {
        prefix.pop();
    }
    let prefix = prefix.trim_start_matches('-');
    if prefix.is_empty() { format!("branch-{hash}") } else { format!("{prefix}-{hash}") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube_grammar::selector::is_dns_label;

    #[test]
    fn names_are_deterministic_valid_and_distinct() {
        let a = branch_pod_name("b1", "identity", "identity-realm", 1);
        assert_eq!(a, branch_pod_name("b1", "identity", "identity-realm", 1));
        assert!(a.starts_with("identity-realm-") && is_dns_label(&a), "{a}");
        assert_ne!(a, branch_pod_name("b2", "identity", "identity-realm", 1));
        assert_ne!(a, branch_pod_name("b1", "other", "identity-realm", 1));
        assert_ne!(a, branch_pod_name("b1", "identity", "identity-realm", 2));
        let long = branch_pod_name("b", "ns", &format!("{}.x", "a".repeat(80)), 1);
        assert!(long.len() <= 63 && is_dns_label(&long), "{long}");
        let dotted = branch_pod_name("b", "ns", "my.job-", 1);
        assert!(is_dns_label(&dotted) && dotted.starts_with("my-job-"), "{dotted}");
    }

    #[test]
    fn batch_ids_are_uuid_v7_and_sort_by_time() {
        let a = new_batch_id();
        let b = new_batch_id();
        let parsed = uuid::Uuid::parse_str(&a).expect("uuid");
        assert_eq!(parsed.get_version_num(), 7);
        assert!(a < b, "{a} then {b}");
    }

    #[test]
    fn hash_spread() {
        let names: std::collections::HashSet<String> = (0..10_000)
            .map(|i| branch_pod_name("batch", &format!("team-{}", i % 100), &format!("job-{}", i / 100), 1))
            .collect();
        assert_eq!(names.len(), 10_000);
    }
}

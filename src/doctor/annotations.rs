//! When no Job carries the annotation key in force, the keys on suspended Jobs that look like a
//! lifecycle annotation: the fix is then one flag (`--annotation KEY`).

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::Job;

use crate::contract::annotation;

/// An annotation key found on suspended Jobs that looks like the lifecycle annotation.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Candidate {
    /// The key.
    pub key: String,
    /// How many suspended Jobs carry it.
    pub jobs: usize,
}

/// Whether an annotation looks like a lifecycle annotation: its key says "lifecycle", or its value
/// is a clean list of operation names (`lifecycle.upsert, lifecycle.migrate-in`).
fn looks_like_lifecycle(key: &str, value: &str) -> bool {
    if key.to_ascii_lowercase().contains("lifecycle") {
        return true;
    }
    let parsed = annotation::parse(value);
    parsed.problems.is_empty() && parsed.operations.iter().any(|op| op.as_str().starts_with("lifecycle."))
}

/// The candidate keys on suspended `jobs` (other than `current`), most used first.
pub fn candidates(jobs: &[Job], current: &str) -> Vec<Candidate> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for job in jobs.iter().filter(|j| j.spec.as_ref().and_then(|s| s.suspend).unwrap_or(false)) {
        for (key, value) in job.metadata.annotations.iter().flatten() {
            if key != current && looks_like_lifecycle(key, value) {
                *counts.entry(key).or_default() += 1;
            }
        }
    }
    let mut found: Vec<Candidate> = counts.into_iter().map(|(key, jobs)| Candidate { key: key.into(), jobs }).collect();
    found.sort_by(|a, b| b.jobs.cmp(&a.jobs).then_with(|| a.key.cmp(&b.key)));
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(suspended: bool, annotations: &[(&str, &str)]) -> Job {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "j", "namespace": "n",
                "annotations": annotations.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<BTreeMap<_, _>>()},
            "spec": {"suspend": suspended, "template": {"spec": {"containers": []}}},
        }))
        .expect("job")
    }

    #[test]
    fn keys_that_look_like_the_lifecycle_annotation_are_counted_on_suspended_jobs_only() {
        let jobs = vec![
            job(true, &[("collibra.com/tenant.lifecycle", "lifecycle.upsert"), ("owner", "billing")]),
            job(true, &[("collibra.com/tenant.lifecycle", "lifecycle.upsert,lifecycle.migrate-in")]),
            job(true, &[("ops.example/hooks", "lifecycle.upsert")]),
            job(false, &[("team.example/lifecycle", "lifecycle.upsert")]),
            job(true, &[("tlc.dev/lifecycle", "lifecycle.upsert"), ("note", "not an operation list")]),
        ];
        assert_eq!(
            candidates(&jobs, "tlc.dev/lifecycle"),
            [
                Candidate { key: "collibra.com/tenant.lifecycle".into(), jobs: 2 },
                Candidate { key: "ops.example/hooks".into(), jobs: 1 },
            ]
        );
        assert!(candidates(&[], "tlc.dev/lifecycle").is_empty());
    }
}

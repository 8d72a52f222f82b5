use super::*;
use serde_json::json;

fn identity(job: &str, attempt: u32) -> BranchIdentity {
    BranchIdentity {
        batch_id: "b1".into(),
        tenant_id: "t1".into(),
        tenant_name: "acme".into(),
        operation: "lifecycle.upsert".into(),
        job_namespace: "team".into(),
        job_name: job.into(),
        attempt,
        engine: Some(crate::contract::Engine::Direct),
        region: "eu-west".into(),
        migration: None,
    }
}

fn pod(job: &str, attempt: u32, phase: &str, exit: Option<i32>, deleting: bool) -> Pod {
    let id = identity(job, attempt);
    let state = match (phase, exit) {
        ("Running", _) => json!({"running": {"startedAt": "2026-11-21T10:00:00Z"}}),
        (_, Some(code)) => json!({"terminated": {"exitCode": code, "reason": if code == 0 {"Completed"} else {"Error"},
            "startedAt": "2026-11-21T10:00:00Z", "finishedAt": "2026-11-21T10:00:07Z"}}),
        _ => json!({"waiting": {"reason": "ContainerCreating"}}),
    };
    let mut meta = json!({"name": format!("{job}-{attempt}"), "namespace": "team", "labels": id.labels(), "annotations": id.annotations(),
        "creationTimestamp": "2026-11-21T09:59:59Z"});
    if deleting {
        meta["deletionTimestamp"] = json!("2026-11-21T10:00:05Z");
    }
    serde_json::from_value(json!({"metadata": meta, "spec": {"containers": [{"name": "c"}]},
        "status": {"phase": phase, "containerStatuses": [{"name": "c", "image": "i", "imageID": "", "ready": false, "restartCount": 0, "state": state}]}}))
    .expect("pod")
}

fn snap(p: &Pod) -> PodSnapshot {
    PodSnapshot::from_pod(p).expect("a branch pod")
}

#[test]
fn a_batch_is_built_from_pod_events() {
    let mut s = RunState::default();
    update(&mut s, RunEvent::Planned(identity("a", 1)));
    update(&mut s, RunEvent::Planned(identity("b", 1)));
    let b = &s.batches["b1"];
    assert_eq!(b.counts(), Counts { pending: 2, ..Default::default() });
    assert_eq!(b.phase(), Phase::Pending);
    update(&mut s, RunEvent::Pod(snap(&pod("a", 1, "Running", None, false))));
    update(&mut s, RunEvent::Pod(snap(&pod("b", 1, "Failed", Some(2), false))));
    let b = &s.batches["b1"];
    assert_eq!(b.phase(), Phase::Running);
    assert_eq!(
        (b.tenant_name.as_str(), b.region.as_str(), b.operation.as_str()),
        ("acme", "eu-west", "lifecycle.upsert")
    );
    update(&mut s, RunEvent::Pod(snap(&pod("a", 1, "Succeeded", Some(0), false))));
    let b = &s.batches["b1"];
    assert_eq!(b.counts(), Counts { succeeded: 1, failed: 1, ..Default::default() });
    assert_eq!(b.phase(), Phase::Failed);
    let failed = &b.branches[&JobRef::new("team", "b")];
    assert_eq!(failed.current().map(|a| (a.exit_code, a.reason.clone())), Some((Some(2), Some("Error".into()))));
    let a = failed.current().expect("attempt");
    assert_eq!(a.duration(Timestamp::now()).map(|d| d.as_secs()), Some(7));
    assert_eq!(b.failed_jobs(), vec![JobRef::new("team", "b")]);
    assert_eq!(b.started.map(|t| t.to_string()).as_deref(), Some("2026-11-21T09:59:59Z"));
}

#[test]
fn retries_are_new_attempts_and_the_latest_decides() {
    let mut s = RunState::default();
    update(&mut s, RunEvent::Pod(snap(&pod("a", 1, "Failed", Some(1), false))));
    update(&mut s, RunEvent::Planned(identity("a", 2)));
    assert_eq!(s.batches["b1"].phase(), Phase::Pending);
    update(&mut s, RunEvent::Pod(snap(&pod("a", 2, "Succeeded", Some(0), false))));
    let branch = &s.batches["b1"].branches[&JobRef::new("team", "a")];
    assert_eq!(branch.attempts.len(), 2);
    assert_eq!(branch.phase(), Phase::Succeeded);
    assert_eq!(s.batches["b1"].phase(), Phase::Succeeded);
}

#[test]
fn deleted_before_finishing_is_cancelled_and_finals_stick() {
    let mut s = RunState::default();
    let running = pod("a", 1, "Running", None, true);
    update(&mut s, RunEvent::Pod(snap(&running)));
    assert!(s.batches["b1"].branches[&JobRef::new("team", "a")].current().is_some_and(|a| a.deleting));
    update(&mut s, RunEvent::PodGone(snap(&running)));
    assert_eq!(s.batches["b1"].phase(), Phase::Cancelled);
    // A finished pod that is deleted later keeps its outcome; a stale running event cannot undo it.
    let done = pod("b", 1, "Succeeded", Some(0), false);
    update(&mut s, RunEvent::Pod(snap(&done)));
    update(&mut s, RunEvent::Pod(snap(&pod("b", 1, "Running", None, false))));
    update(&mut s, RunEvent::PodGone(snap(&done)));
    assert_eq!(s.batches["b1"].branches[&JobRef::new("team", "b")].phase(), Phase::Succeeded);
}

#[test]
fn launch_failures_and_log_lines() {
    let mut s = RunState::default();
    update(&mut s, RunEvent::LaunchFailed { identity: identity("a", 1), error: "eu-west: forbidden".into() });
    let branch = &s.batches["b1"].branches[&JobRef::new("team", "a")];
    assert_eq!(
        (branch.phase(), branch.current().and_then(|a| a.reason.clone())),
        (Phase::Failed, Some("eu-west: forbidden".into()))
    );
    update(
        &mut s,
        RunEvent::LogLine { batch_id: "b1".into(), job: JobRef::new("team", "a"), text: "Apply complete!".into() },
    );
    update(&mut s, RunEvent::LogLine { batch_id: "b1".into(), job: JobRef::new("team", "a"), text: "  ".into() });
    assert_eq!(s.batches["b1"].branches[&JobRef::new("team", "a")].last_line.as_deref(), Some("Apply complete!"));
    update(&mut s, RunEvent::LogLine { batch_id: "nope".into(), job: JobRef::new("x", "y"), text: "ignored".into() });
    assert_eq!(s.batches.len(), 1);
}

#[test]
fn pods_without_branch_labels_are_not_branches() {
    let p: Pod = serde_json::from_value(json!({"metadata": {"name": "x", "namespace": "n"}})).expect("pod");
    assert!(PodSnapshot::from_pod(&p).is_none());
}

#[test]
fn attempts_seen_out_of_order_are_kept_by_number_and_the_highest_is_current() {
    let mut s = RunState::default();
    update(&mut s, RunEvent::Pod(snap(&pod("a", 2, "Running", None, false))));
    update(&mut s, RunEvent::Pod(snap(&pod("a", 1, "Failed", Some(1), false))));
    update(&mut s, RunEvent::Pod(snap(&pod("a", 3, "Succeeded", Some(0), false))));
    update(&mut s, RunEvent::Pod(snap(&pod("a", 2, "Failed", Some(1), false))));
    let branch = &s.batches["b1"].branches[&JobRef::new("team", "a")];
    assert_eq!(branch.attempts.values().map(|a| a.number).collect::<Vec<_>>(), vec![1, 2, 3]);
    assert_eq!(branch.attempts.get(&2).map(|a| a.phase), Some(Phase::Failed));
    assert_eq!(branch.current().map(|a| a.number), Some(3));
    assert_eq!(branch.phase(), Phase::Succeeded);
}

#[test]
fn a_record_shows_a_batch_only_where_the_cluster_does_not_and_its_deletion_removes_only_that() {
    let mut s = RunState::default();
    update(&mut s, RunEvent::Pod(snap(&pod("a", 1, "Running", None, false))));
    let from_record = |id: &str, tenant: &str| Batch {
        id: id.into(),
        region: "eu-west".into(),
        tenant_id: "t1".into(),
        tenant_name: tenant.into(),
        operation: "lifecycle.upsert".into(),
        engine: None,
        started: None,
        migration: None,
        branches: BTreeMap::new(),
        workflow: None,
        from_record: true,
    };
    assert!(!s.add_from_record(from_record("b1", "stale")), "the cluster shows b1: its record does not replace it");
    assert_eq!(s.batches["b1"].tenant_name, "acme");
    assert!(s.add_from_record(from_record("old", "first")));
    assert!(s.add_from_record(from_record("old", "rewritten")), "a changed record replaces its batch");
    assert_eq!(s.batches["old"].tenant_name, "rewritten");
    let removed = s.removed();
    s.forget_record("b1");
    assert!(s.batches.contains_key("b1"), "a batch the cluster shows stays when its record goes");
    assert_eq!(s.removed(), removed);
    s.forget_record("old");
    assert!(!s.batches.contains_key("old"));
    assert_eq!(s.removed(), removed + 1, "a removal is counted (indexes of the batches rebuild on it)");
}

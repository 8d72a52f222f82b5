use super::*;

fn store() -> Store {
    let s = Store::new(1000);
    s.create(Resource::Namespaces, json!({"metadata": {"name": "team-a"}})).expect("namespace");
    s
}

fn pod(name: &str) -> Value {
    json!({"metadata": {"name": name, "namespace": "team-a", "labels": {"app": name}},
           "spec": {"restartPolicy": "Never", "containers": [{"name": "main", "image": "busybox:1.36"}]}})
}

fn cm(name: &str, owner: Option<&Value>) -> Value {
    let mut v = json!({"metadata": {"name": name, "namespace": "team-a"}, "data": {"k": "v"}});
    if let Some(o) = owner {
        v["metadata"]["ownerReferences"] = json!([{"apiVersion": "v1", "kind": "Pod",
            "name": o["metadata"]["name"], "uid": o["metadata"]["uid"]}]);
    }
    v
}

fn exists(s: &Store, r: Resource, name: &str) -> bool {
    s.get(r, "team-a", name).is_ok()
}

#[test]
fn create_assigns_system_metadata_and_defaults() {
    let s = store();
    let p = s.create(Resource::Pods, pod("p1")).expect("create");
    assert!(p["metadata"]["uid"].as_str().is_some_and(|u| u.len() == 36));
    assert!(p["metadata"]["creationTimestamp"].as_str().is_some_and(|t| t.ends_with('Z')));
    assert_eq!(p["metadata"]["resourceVersion"], json!(s.revision().to_string()));
    assert_eq!(p["status"]["phase"], "Pending");
    assert_eq!(p["spec"]["containers"][0]["imagePullPolicy"], "IfNotPresent");
    assert_eq!(p["kind"], "Pod");
}

#[test]
fn create_replaces_status_and_creation_time_restore_keeps_them() {
    let s = store();
    let mut finished = pod("done");
    finished["metadata"]["creationTimestamp"] = json!("2025-03-01T10:00:00Z");
    finished["status"] = json!({"phase": "Succeeded", "startTime": "2025-03-01T10:00:01Z"});
    let created = s.create(Resource::Pods, finished.clone()).expect("create");
    assert_eq!(created["status"]["phase"], "Pending", "create starts every pod pending");
    assert_ne!(created["metadata"]["creationTimestamp"], "2025-03-01T10:00:00Z");
    finished["metadata"]["name"] = json!("restored");
    let rev = s.revision();
    let restored = s.restore(Resource::Pods, finished).expect("restore");
    assert_eq!(s.revision(), rev + 1, "one change");
    assert_eq!(restored["status"], json!({"phase": "Succeeded", "startTime": "2025-03-01T10:00:01Z"}));
    assert_eq!(restored["metadata"]["creationTimestamp"], "2025-03-01T10:00:00Z");
    assert!(restored["metadata"]["uid"].as_str().is_some_and(|u| u.len() == 36));
    assert_eq!(restored["spec"]["containers"][0]["imagePullPolicy"], "IfNotPresent", "still defaulted");
    let changes = s.changes_since(rev, 10).expect("history");
    assert_eq!(changes[0].object["status"]["phase"], "Succeeded", "the change that creates it is already finished");
}

#[test]
fn generate_name_and_conflicts() {
    let s = store();
    let mut g = pod("");
    g["metadata"]["generateName"] = json!("run-");
    let a = s.create(Resource::Pods, g.clone()).expect("a");
    let b = s.create(Resource::Pods, g).expect("b");
    let (an, bn) = (a["metadata"]["name"].as_str().unwrap_or(""), b["metadata"]["name"].as_str().unwrap_or(""));
    assert!(an.starts_with("run-") && an.len() == 9, "{an}");
    assert_ne!(an, bn);
    assert_eq!(s.create(Resource::Pods, pod("p")).map(|_| ()), Ok(()));
    assert_eq!(s.create(Resource::Pods, pod("p")).expect_err("dup").code, 409);
    let mut elsewhere = pod("x");
    elsewhere["metadata"]["namespace"] = json!("nope");
    let err = s.create(Resource::Pods, elsewhere).expect_err("no namespace");
    assert_eq!((err.code, err.message.as_str()), (404, "namespaces \"nope\" not found"));
}

#[test]
fn update_honours_resource_version_and_skips_noops() {
    let s = store();
    let c = s.create(Resource::ConfigMaps, cm("c", None)).expect("create");
    let mut stale = (*c).clone();
    stale["metadata"]["resourceVersion"] = json!("1");
    assert_eq!(
        s.update(Resource::ConfigMaps, "team-a", "c", stale, UpdateScope::Main).expect_err("stale").reason,
        "Conflict"
    );
    let rev = s.revision();
    let same = s.update(Resource::ConfigMaps, "team-a", "c", (*c).clone(), UpdateScope::Main).expect("noop");
    assert_eq!(s.revision(), rev, "a no-op update writes nothing");
    assert_eq!(same["metadata"]["resourceVersion"], c["metadata"]["resourceVersion"]);
    let mut changed = (*c).clone();
    changed["data"]["k"] = json!("w");
    let u = s.update(Resource::ConfigMaps, "team-a", "c", changed, UpdateScope::Main).expect("update");
    assert_eq!(u["data"]["k"], "w");
    assert_eq!(u["metadata"]["uid"], c["metadata"]["uid"]);
    assert_eq!(s.revision(), rev + 1);
}

#[test]
fn status_is_a_subresource_for_pods() {
    let s = store();
    let p = s.create(Resource::Pods, pod("p")).expect("create");
    let mut main = (*p).clone();
    main["status"]["phase"] = json!("Running");
    main["metadata"]["labels"]["x"] = json!("y");
    let u = s.update(Resource::Pods, "team-a", "p", main, UpdateScope::Main).expect("main");
    assert_eq!(u["status"]["phase"], "Pending", "main update ignores status");
    assert_eq!(u["metadata"]["labels"]["x"], "y");
    let st = s
        .modify(Resource::Pods, "team-a", "p", UpdateScope::Status, |cur| {
            let mut v = cur.clone();
            v["status"]["phase"] = json!("Running");
            v["metadata"]["labels"]["x"] = json!("ignored");
            Ok(v)
        })
        .expect("status");
    assert_eq!(st["status"]["phase"], "Running");
    assert_eq!(st["metadata"]["labels"]["x"], "y", "status update ignores metadata");
}

#[test]
fn deleting_an_owner_collects_its_dependents() {
    let s = store();
    let p = s.create(Resource::Pods, pod("p")).expect("pod");
    s.create(Resource::ConfigMaps, cm("owned", Some(&p))).expect("owned");
    s.create(Resource::ConfigMaps, cm("free", None)).expect("free");
    s.delete(Resource::Pods, "team-a", "p", &DeleteOptions::default()).expect("delete");
    assert!(!exists(&s, Resource::Pods, "p"), "unbound pod goes at once");
    assert!(!exists(&s, Resource::ConfigMaps, "owned"));
    assert!(exists(&s, Resource::ConfigMaps, "free"));
}

#[test]
fn orphan_propagation_keeps_dependents_without_the_reference() {
    let s = store();
    let p = s.create(Resource::Pods, pod("p")).expect("pod");
    s.create(Resource::ConfigMaps, cm("owned", Some(&p))).expect("owned");
    let opts = DeleteOptions { propagation: Some(Propagation::Orphan), ..Default::default() };
    s.delete(Resource::Pods, "team-a", "p", &opts).expect("delete");
    let c = s.get(Resource::ConfigMaps, "team-a", "owned").expect("kept");
    assert_eq!(c["metadata"]["ownerReferences"], json!([]));
}

#[test]
fn dangling_owner_at_create_is_collected() {
    let s = store();
    let ghost = json!({"metadata": {"name": "ghost", "uid": "00000000-0000-0000-0000-000000000000"}});
    s.create(Resource::ConfigMaps, cm("orphan", Some(&ghost))).expect("created");
    assert!(!exists(&s, Resource::ConfigMaps, "orphan"));
}

fn bind(s: &Store, name: &str) {
    s.modify(Resource::Pods, "team-a", name, UpdateScope::Main, |cur| {
        let mut v = cur.clone();
        v["spec"]["nodeName"] = json!("node");
        Ok(v)
    })
    .expect("bind");
}

#[test]
fn bound_pods_delete_gracefully_and_foreground_waits_for_dependents() {
    let s = store();
    let p = s.create(Resource::Pods, pod("p")).expect("pod");
    bind(&s, "p");
    s.create(Resource::ConfigMaps, cm("owned", Some(&p))).expect("owned");
    let marked = s.delete(Resource::Pods, "team-a", "p", &DeleteOptions::default()).expect("graceful");
    assert!(marked["metadata"]["deletionTimestamp"].is_string());
    assert!(exists(&s, Resource::Pods, "p"), "waits for the kubelet");
    assert!(exists(&s, Resource::ConfigMaps, "owned"));
    // The kubelet finishes it with a zero grace period.
    s.delete(Resource::Pods, "team-a", "p", &DeleteOptions { grace_period_seconds: Some(0), ..Default::default() })
        .expect("force");
    assert!(!exists(&s, Resource::Pods, "p"));
    assert!(!exists(&s, Resource::ConfigMaps, "owned"));

    let owner = s.create(Resource::ConfigMaps, cm("owner", None)).expect("owner");
    let mut dep = pod("dep");
    dep["metadata"]["ownerReferences"] =
        json!([{"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner["metadata"]["uid"]}]);
    s.create(Resource::Pods, dep).expect("dep");
    bind(&s, "dep");
    let fg = DeleteOptions { propagation: Some(Propagation::Foreground), ..Default::default() };
    let o = s.delete(Resource::ConfigMaps, "team-a", "owner", &fg).expect("foreground");
    assert_eq!(o["metadata"]["finalizers"], json!(["foregroundDeletion"]));
    assert!(exists(&s, Resource::ConfigMaps, "owner"), "owner waits for its running dependent");
    s.delete(Resource::Pods, "team-a", "dep", &DeleteOptions { grace_period_seconds: Some(0), ..Default::default() })
        .expect("force");
    assert!(!exists(&s, Resource::ConfigMaps, "owner"), "owner goes once the dependent is gone");
}

#[test]
fn namespace_deletion_removes_contents_then_the_namespace() {
    let s = store();
    s.create(Resource::ConfigMaps, cm("c", None)).expect("cm");
    s.create(Resource::Pods, pod("p")).expect("pod");
    bind(&s, "p");
    let ns = s.delete(Resource::Namespaces, "", "team-a", &DeleteOptions::default()).expect("delete ns");
    assert_eq!(ns["status"]["phase"], "Terminating");
    assert!(!exists(&s, Resource::ConfigMaps, "c"));
    assert_eq!(s.create(Resource::ConfigMaps, cm("late", None)).expect_err("terminating").code, 403);
    s.delete(Resource::Pods, "team-a", "p", &DeleteOptions { grace_period_seconds: Some(0), ..Default::default() })
        .expect("force");
    assert!(!s.namespace_exists("team-a"));
}

#[test]
fn list_pages_with_continue_tokens_and_selectors() {
    let s = store();
    for i in 0..7 {
        s.create(Resource::ConfigMaps, cm(&format!("c{i}"), None)).expect("cm");
    }
    let mut names = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let q =
            ListQuery { namespace: Some("team-a"), limit: 3, continue_token: token.as_deref(), ..Default::default() };
        let page = s.list(Resource::ConfigMaps, &q).expect("page");
        pages += 1;
        names.extend(page.items.iter().map(|o| o["metadata"]["name"].as_str().unwrap_or("").to_string()));
        match page.continue_token {
            Some(t) => {
                assert!(page.remaining.is_some());
                token = Some(t)
            }
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(names, (0..7).map(|i| format!("c{i}")).collect::<Vec<_>>());
    let q = ListQuery { fields: FieldSelector::parse("metadata.name=c3", |_| true).expect("fs"), ..Default::default() };
    assert_eq!(s.list(Resource::ConfigMaps, &q).expect("list").items.len(), 1);
    s.compact_history();
    let q = ListQuery { limit: 2, ..Default::default() };
    let t = s.list(Resource::ConfigMaps, &q).expect("first").continue_token.expect("more");
    s.create(Resource::ConfigMaps, cm("bump", None)).expect("write");
    s.compact_history();
    let q = ListQuery { limit: 2, continue_token: Some(&t), ..Default::default() };
    assert_eq!(s.list(Resource::ConfigMaps, &q).expect_err("expired token").code, 410);
}

#[test]
fn every_write_is_one_change_in_order() {
    let s = store();
    let start = s.revision();
    s.create(Resource::ConfigMaps, cm("c", None)).expect("create");
    s.modify(Resource::ConfigMaps, "team-a", "c", UpdateScope::Main, |c| {
        let mut v = c.clone();
        v["data"]["k"] = json!("2");
        Ok(v)
    })
    .expect("modify");
    s.delete(Resource::ConfigMaps, "team-a", "c", &DeleteOptions::default()).expect("delete");
    let changes = s.changes_since(start, 100).expect("history");
    let kinds: Vec<_> = changes.iter().map(|c| c.kind).collect();
    assert_eq!(kinds, vec![ChangeKind::Added, ChangeKind::Modified, ChangeKind::Deleted]);
    let revs: Vec<_> = changes.iter().map(|c| c.revision).collect();
    assert_eq!(revs, vec![start + 1, start + 2, start + 3]);
    assert_eq!(changes[2].object["metadata"]["resourceVersion"], json!((start + 3).to_string()));
}

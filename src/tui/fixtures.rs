//! A small, fixed estate for the console's unit and snapshot tests: two regions, five tenants,
//! lifecycle Jobs (one with a problem), and one finished batch with logs.

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use serde_json::json;

use super::app::{App, Msg, update};
use super::data::{Connection, DataEvent};
use crate::contract::{BranchIdentity, JobRef, LifecycleJob};
use crate::lifecycle::run::{PodSnapshot, RunEvent};
use crate::logs::mux::{MuxEvent, StreamKey};
use crate::logs::sanitize::{Style, sanitize_line};
use crate::tenants::Tenant;

/// The annotation the fixtures use.
pub const KEY: &str = "tlc.dev/lifecycle";
/// The fixed clock.
pub const NOW: &str = "2026-11-21T12:00:00Z";
/// The finished batch's id.
pub const BATCH: &str = "019a0000-0000-7000-8000-000000000001";

/// A lifecycle Job.
pub fn job(ns: &str, name: &str, ops: &str, suspend: bool) -> LifecycleJob {
    let j: Job = serde_json::from_value(json!({
        "metadata": {"name": name, "namespace": ns, "annotations": {KEY: ops}},
        "spec": {"suspend": suspend, "activeDeadlineSeconds": 600, "template": {"spec": {"restartPolicy": "Never",
            "containers": [{"name": "main", "image": format!("registry.example/{ns}/{name}:1.4"), "command": ["sh", "-c", "echo hi"]}]}}}
    }))
    .unwrap_or_default();
    LifecycleJob::from_job(&j, KEY, "/var/run/tlc/lifecycle").unwrap_or_else(|| panic!("fixture job {ns}/{name}"))
}

/// A tenant.
pub fn tenant(n: u8, name: &str, region: &str, plan: &str) -> Tenant {
    let id = format!("{n:08x}-6654-4f57-8807-6bb944658fe6");
    Tenant {
        id: id.clone(),
        name: name.into(),
        display_name: None,
        region: region.into(),
        plan: Some(plan.into()),
        services: vec!["identity".into(), "catalog".into()],
        labels: Default::default(),
        environment_yaml: format!("id: {id}\nname: {name}\nregion: {region}\nplan: {plan}\n"),
        origin: format!("tenants/tenant-{name}"),
        problems: vec![],
    }
}

/// A branch pod of the fixture batch.
pub fn branch_pod(ns: &str, name: &str, phase: &str, exit: Option<i32>) -> PodSnapshot {
    let id = identity(ns, name, 1);
    let state = match exit {
        Some(code) => {
            json!({"terminated": {"exitCode": code, "startedAt": "2026-11-21T11:58:00Z", "finishedAt": "2026-11-21T11:58:42Z"}})
        }
        None => json!({"running": {"startedAt": "2026-11-21T11:59:30Z"}}),
    };
    let pod: Pod = serde_json::from_value(json!({
        "metadata": {"name": format!("{name}-x"), "namespace": ns, "labels": id.labels(), "annotations": id.annotations(),
            "creationTimestamp": "2026-11-21T11:57:59Z"},
        "spec": {"containers": [{"name": "main"}]},
        "status": {"phase": phase, "containerStatuses": [{"name": "main", "image": "i", "imageID": "", "ready": false, "restartCount": 0, "state": state}]}
    }))
    .unwrap_or_default();
    PodSnapshot::from_pod(&pod).unwrap_or_else(|| panic!("fixture pod {ns}/{name}"))
}

/// The identity of a fixture branch.
pub fn identity(ns: &str, name: &str, attempt: u32) -> BranchIdentity {
    BranchIdentity {
        batch_id: BATCH.into(),
        tenant_id: tenant(1, "acme-prod", "eu-west", "enterprise").id,
        tenant_name: "acme-prod".into(),
        operation: "lifecycle.upsert".into(),
        job_namespace: ns.into(),
        job_name: name.into(),
        attempt,
        engine: Some(crate::contract::Engine::Direct),
        region: "eu-west".into(),
        migration: None,
    }
}

/// Log lines for a fixture branch.
pub fn lines(ns: &str, name: &str, texts: &[&str]) -> Msg {
    let key = StreamKey { batch_id: BATCH.into(), job: JobRef::new(ns, name), attempt: 1, container: "main".into() };
    let base = 1_795_262_400_000_000_000i64;
    let lines = texts
        .iter()
        .enumerate()
        .map(|(i, t)| (Some(base + i as i64 * 1_000_000_000), sanitize_line(t.as_bytes(), &mut Style::default())))
        .collect();
    Msg::Data(DataEvent::Logs(MuxEvent::Lines { key, lines }))
}

/// The fixture console on a `width`×`height` terminal.
pub fn app(width: u16, height: u16) -> App {
    let regions = vec![("eu-west".to_string(), "eu-west".to_string()), ("us-east".to_string(), "us-east".to_string())];
    let mut app = App::new(&regions, crate::contract::Engine::Direct, false, "/var/run/tlc/lifecycle");
    app.size = ratatui::layout::Size::new(width, height);
    app.now = NOW.parse().unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    app.themes = vec!["dark".into(), "light".into()];
    for r in ["eu-west", "us-east"] {
        update(&mut app, Msg::Data(DataEvent::Connection { region: r.into(), state: Connection::Connected }));
    }
    let eu = vec![
        tenant(1, "acme-prod", "eu-west", "enterprise"),
        tenant(2, "globex-prod", "eu-west", "enterprise"),
        tenant(3, "hooli-trial", "eu-west", "trial"),
    ];
    let us = vec![tenant(4, "stark-prod", "us-east", "enterprise"), tenant(5, "wayne-prod", "us-east", "business")];
    update(&mut app, Msg::Data(DataEvent::Tenants { region: "eu-west".into(), tenants: eu }));
    update(&mut app, Msg::Data(DataEvent::Tenants { region: "us-east".into(), tenants: us }));
    let jobs = |_: &str| {
        vec![
            job("catalog", "catalog-schema", "lifecycle.upsert,lifecycle.migrate-in", true),
            job("identity", "identity-realm", "lifecycle.upsert,lifecycle.migrate-out,lifecycle.migrate-in", true),
            job("lineage", "lineage-graph", "lifecycle.upsert", true),
            job("notifications", "notifications-webhooks", "lifecycle.upsert", false),
            job("search", "search-reindex", "team.operation", true),
            job("workflows", "workflows-drain", "lifecycle.migrate-out", true),
        ]
    };
    update(&mut app, Msg::Data(DataEvent::Jobs { region: "eu-west".into(), jobs: jobs("eu-west") }));
    update(&mut app, Msg::Data(DataEvent::Jobs { region: "us-east".into(), jobs: jobs("us-east") }));
    for (ns, name, phase, exit) in [
        ("catalog", "catalog-schema", "Succeeded", Some(0)),
        ("identity", "identity-realm", "Running", None),
        ("lineage", "lineage-graph", "Failed", Some(2)),
    ] {
        update(&mut app, Msg::Data(DataEvent::Run(RunEvent::Pod(branch_pod(ns, name, phase, exit)))));
    }
    update(
        &mut app,
        lines(
            "catalog",
            "catalog-schema",
            &["TASK [flyway : migrate schema]", "changed: [acme-prod]", "PLAY RECAP ok=4 changed=1"],
        ),
    );
    update(
        &mut app,
        lines(
            "lineage",
            "lineage-graph",
            &[
                "Pre-flight: counting lineage nodes...",
                "\u{1b}[31mError: lineage graph over quota\u{1b}[0m",
                "\u{1b}]0;pwned\u{7}title attack\u{1b}[2J",
            ],
        ),
    );
    update(
        &mut app,
        lines(
            "identity",
            "identity-realm",
            &["keycloak_realm.tenant: Modifying...", "keycloak_realm.tenant: Still modifying... [10s elapsed]"],
        ),
    );
    app
}

//! End to end: the console (`tlc`, no subcommand) as an operator meets real clusters — `tlc sim`
//! run as a child process (its kubeconfig and tlc configuration, copied and edited where a test
//! needs other settings), or an embedded cluster started in-process where a test needs a user or a
//! fault `tlc sim` cannot be told about. The console runs in a pseudo-terminal and is read back
//! through a terminal emulator; what it did is checked in the cluster with a kube-rs client as the
//! admin user.
//!
//! It proves that: both regions of a kubeconfig connect and list their tenants; an unreachable
//! region is shown down with its reason while the others keep working; read-only by RBAC
//! (SelfSubjectAccessReview) and by configuration refuse actions with the reason and create
//! nothing; a 403 on the request itself is reported and leaves nothing half-done; a trigger is
//! audited as a Kubernetes Event, in `:history` and in the history file; and a batch started in one
//! console is re-attached, and can be cancelled, from another.
//!
//! Every wait polls the screen or the cluster until a condition holds or a deadline passes.

use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::pty::{COLS, Console, DEADLINE, ROWS};
use embedded_cluster::auth::{Rule, User};
use embedded_cluster::{ClusterConfig, EmbeddedCluster};
use k8s_openapi::api::core::v1::{ConfigMap, Event, Pod};
use kube::api::{Api, ListParams};
use serde_json::{Value, json};

/// The label every branch pod (and its ConfigMap, and the audit Event) carries.
const BATCH_LABEL: &str = "tlc.dev/batch-id";
/// `globex-prod`'s tenant id in the demo estate.
const GLOBEX_ID: &str = "740faf5f-42fd-4e28-9f5a-65f900eda1c0";
/// The annotation the demo estate's Jobs use.
const DEMO_ANNOTATION: &str = "collibra.com/tenant.lifecycle";
/// The read-only refusal, as the console words it.
const READ_ONLY_REASON: &str = "read-only mode: triggering, cancelling and retrying are disabled";

/// `tlc sim` as a child process, serving until dropped.
struct SimProcess {
    child: Child,
    /// Kept open so the child never writes into a closed pipe.
    _stdout: BufReader<ChildStdout>,
    /// Holds the kubeconfig, the tlc configuration and any edited copies.
    dir: tempfile::TempDir,
    /// The kubeconfig it wrote.
    kubeconfig: PathBuf,
    /// The tlc configuration it wrote.
    tlc_config: PathBuf,
}

impl SimProcess {
    /// Starts `tlc sim --speed SPEED` and waits for its banner.
    fn start(speed: &str) -> SimProcess {
        let dir = tempfile::tempdir().expect("tempdir for the sim");
        let kubeconfig = dir.path().join("kubeconfig");
        let mut child = Command::new(env!("CARGO_BIN_EXE_tlc"))
            .args(["sim", "--speed", speed, "--kubeconfig"])
            .arg(&kubeconfig)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("tlc sim starts");
        let mut stdout = BufReader::new(child.stdout.take().expect("sim stdout"));
        let banner = crate::common::read_sim_banner(&mut stdout);
        let tlc_config = dir.path().join("tlc.toml");
        assert!(banner.contains(&format!("export TLC_CONFIG={}", tlc_config.display())), "{banner}");
        SimProcess { child, _stdout: stdout, dir, kubeconfig, tlc_config }
    }

    /// The console on the sim's own configuration.
    fn console(&self) -> Console {
        self.console_with(&self.tlc_config, &[])
    }

    /// The console with the configuration `config` and extra environment.
    fn console_with(&self, config: &Path, envs: &[(&str, &str)]) -> Console {
        let kubeconfig = self.kubeconfig.display().to_string();
        let config = config.display().to_string();
        let mut all = vec![("KUBECONFIG", kubeconfig.as_str()), ("TLC_CONFIG", config.as_str())];
        all.extend_from_slice(envs);
        Console::start_with(&[], &all, (ROWS, COLS))
    }

    /// A copy of the sim's tlc configuration named `name`, with whole lines replaced (each must be
    /// there) and `extra` appended.
    fn edited_config(&self, name: &str, replace: &[(&str, String)], extra: &str) -> PathBuf {
        let mut text = std::fs::read_to_string(&self.tlc_config).expect("read the sim's tlc.toml");
        for (prefix, line) in replace {
            let old = text
                .lines()
                .find(|l| l.starts_with(prefix))
                .unwrap_or_else(|| panic!("no line starting with {prefix:?} in:\n{text}"))
                .to_string();
            text = text.replace(&old, line);
        }
        text.push_str(extra);
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).expect("write the edited tlc configuration");
        path
    }

    /// Runs `tlc run --tenant TENANT --operation lifecycle.upsert --yes` as the admin to its end
    /// (for globex-prod one branch fails: exit code 3).
    fn run_upsert_headless(&self, tenant: &str) {
        let mut run = Command::new(env!("CARGO_BIN_EXE_tlc"))
            .args(["run", "--tenant", tenant, "--operation", "lifecycle.upsert", "--yes"])
            .env("KUBECONFIG", &self.kubeconfig)
            .env("TLC_CONFIG", &self.tlc_config)
            .env("TLC_DATA_DIR", self.dir.path().join("data"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("tlc run starts");
        let start = Instant::now();
        let status = loop {
            if let Some(status) = run.try_wait().expect("wait for tlc run") {
                break status;
            }
            assert!(start.elapsed() < DEADLINE, "tlc run did not finish");
            std::thread::sleep(Duration::from_millis(50));
        };
        let expected = if tenant == "globex-prod" { 3 } else { 0 };
        assert_eq!(status.code(), Some(expected), "tlc run --tenant {tenant}");
    }
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A runtime for the test's own kube-rs clients (and in-process clusters, which keep serving on
/// its worker threads while the test drives the console).
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio runtime")
}

/// A kube-rs client for `context` of the kubeconfig at `path`.
fn client_for(rt: &tokio::runtime::Runtime, path: &Path, context: &str) -> kube::Client {
    rt.block_on(async {
        let kubeconfig = kube::config::Kubeconfig::read_from(path).expect("read the kubeconfig");
        let options = kube::config::KubeConfigOptions { context: Some(context.into()), ..Default::default() };
        let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options).await.expect("kube config");
        kube::Client::try_from(config).expect("kube client")
    })
}

/// Every branch pod (any batch) in a region.
fn branch_pods(rt: &tokio::runtime::Runtime, client: &kube::Client) -> Vec<Pod> {
    let pods: Api<Pod> = Api::all(client.clone());
    rt.block_on(pods.list(&ListParams::default().labels(BATCH_LABEL))).expect("list branch pods").items
}

/// Every branch ConfigMap (any batch) in a region.
fn branch_configmaps(rt: &tokio::runtime::Runtime, client: &kube::Client) -> Vec<ConfigMap> {
    let cms: Api<ConfigMap> = Api::all(client.clone());
    let branches = format!("{BATCH_LABEL},!tlc.dev/record");
    rt.block_on(cms.list(&ListParams::default().labels(&branches))).expect("list branch configmaps").items
}

/// Every Event labelled with a batch id in a region.
fn batch_events(rt: &tokio::runtime::Runtime, client: &kube::Client) -> Vec<Event> {
    let events: Api<Event> = Api::all(client.clone());
    rt.block_on(events.list(&ListParams::default().labels(BATCH_LABEL))).expect("list audit events").items
}

/// The names of some objects, sorted.
fn names<K: kube::Resource>(objects: &[K]) -> Vec<String> {
    let mut names: Vec<String> = objects.iter().filter_map(|o| o.meta().name.clone()).collect();
    names.sort();
    names
}

fn label<'a>(meta: &'a kube::api::ObjectMeta, key: &str) -> Option<&'a str> {
    meta.labels.as_ref().and_then(|l| l.get(key)).map(String::as_str)
}

fn annotation<'a>(meta: &'a kube::api::ObjectMeta, key: &str) -> Option<&'a str> {
    meta.annotations.as_ref().and_then(|a| a.get(key)).map(String::as_str)
}

/// The short batch id in the header (`… │ Batch 01a1ffd6`), once the console shows a batch.
fn shown_batch(c: &Console) -> String {
    let s = c.wait("a batch view", |s| s.lines().next().is_some_and(|h| h.contains("Batch ")));
    let header = s.lines().next().expect("header line");
    let at = header.find("Batch ").expect("Batch in header") + "Batch ".len();
    header[at..].chars().take(8).collect()
}

/// Presses `key` until the status line shows `refusal`. Until a region's SelfSubjectAccessReview
/// has been answered the console does not know it must refuse, so a preview opening first is
/// closed again (Esc) and the key pressed once more.
fn press_until_refused(c: &mut Console, key: &str, refusal: &str) -> String {
    let start = Instant::now();
    loop {
        c.keys(key);
        let s = c.wait(&format!("{refusal:?} or a preview"), |s| s.contains(refusal) || s.contains("Preview — "));
        if s.contains(refusal) {
            return s;
        }
        assert!(start.elapsed() < DEADLINE, "never refused with {refusal:?}; screen:\n{s}");
        c.keys("\u{1b}");
        c.wait("the preview to close", |s| !s.contains("Preview — "));
    }
}

/// Quits with `q` and checks the console exits cleanly and hands the terminal back.
fn quit(c: &mut Console) {
    c.keys("q");
    let status = c.wait_exit();
    assert!(status.success(), "{status:?}");
    // The process may be gone before the reader thread has fed its last bytes to the emulator.
    let start = Instant::now();
    while !c.restored() {
        assert!(start.elapsed() < DEADLINE, "the terminal was not restored");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn both_regions_of_a_real_kubeconfig_connect_and_list_the_twelve_demo_tenants() {
    let sim = SimProcess::start("1");
    let mut c = sim.console();
    let tenants = [
        ("acme-prod", "eu-west"),
        ("acme-staging", "eu-west"),
        ("globex-prod", "eu-west"),
        ("initech-prod", "eu-west"),
        ("umbrella-prod", "eu-west"),
        ("hooli-trial", "eu-west"),
        ("stark-prod", "us-east"),
        ("stark-staging", "us-east"),
        ("wayne-prod", "us-east"),
        ("wonka-prod", "us-east"),
        ("tyrell-staging", "us-east"),
        ("cyberdyne-trial", "us-east"),
    ];
    let s = c.wait("twelve tenants, both regions connected", |s| {
        let header = s.lines().next().unwrap_or_default();
        s.contains("Tenants (12)") && header.contains("eu-west ●") && header.contains("us-east ●")
    });
    for (name, region) in tenants {
        let row = s.lines().find(|l| l.contains(&format!(" {name} "))).unwrap_or_default();
        assert!(row.contains(region), "{name} listed in {region}: {row:?}\n{s}");
    }
    quit(&mut c);
}

/// A copy of the sim's kubeconfig and tlc configuration with a third region, `ap-south`, whose
/// cluster is a port on loopback that nothing listens on (same CA and user as eu-west).
fn with_unreachable_region(sim: &SimProcess) -> PathBuf {
    let closed_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
        listener.local_addr().expect("local addr").port()
    };
    let text = std::fs::read_to_string(&sim.kubeconfig).expect("read the sim kubeconfig");
    let mut doc: Value = serde_saphyr::from_str(&text).expect("the sim kubeconfig is YAML");
    let eu_west_cluster = doc["clusters"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["name"] == "eu-west"))
        .expect("cluster eu-west")
        .clone();
    let eu_west_user = doc["contexts"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["name"] == "eu-west"))
        .map(|c| c["context"]["user"].clone())
        .expect("context eu-west");
    let mut dead = eu_west_cluster;
    dead["name"] = json!("ap-south");
    dead["cluster"]["server"] = json!(format!("https://127.0.0.1:{closed_port}"));
    doc["clusters"].as_array_mut().expect("clusters").push(dead);
    doc["contexts"]
        .as_array_mut()
        .expect("contexts")
        .push(json!({"name": "ap-south", "context": {"cluster": "ap-south", "user": eu_west_user}}));
    let kubeconfig = sim.dir.path().join("kubeconfig-with-ap-south");
    std::fs::write(&kubeconfig, serde_json::to_string_pretty(&doc).expect("json")).expect("write kubeconfig");
    sim.edited_config(
        "tlc-ap-south.toml",
        &[
            ("kubeconfig = ", format!("kubeconfig = {:?}", kubeconfig.display().to_string())),
            ("contexts = ", r#"contexts = ["eu-west", "us-east", "ap-south"]"#.into()),
        ],
        "",
    )
}

#[test]
fn an_unreachable_region_is_shown_down_with_its_reason_and_the_others_keep_working() {
    let sim = SimProcess::start("1");
    let config = with_unreachable_region(&sim);

    let mut c = sim.console_with(&config, &[]);
    let s = c.wait("ap-south down, the other regions' tenants listed", |s| {
        let header = s.lines().next().unwrap_or_default();
        header.contains("ap-south ✗ down")
            && header.contains("eu-west ●")
            && header.contains("us-east ●")
            && s.contains("Tenants (12)")
    });
    // The reason is on the status line (nothing else has been said yet).
    let reason = s.lines().find(|l| l.starts_with("ap-south: ")).unwrap_or_default();
    assert!(reason.to_lowercase().contains("connect"), "a reason an operator can act on: {reason:?}\n{s}");

    // The console still answers: the Jobs of the live regions…
    c.keys(":jobs\r");
    let s = c.wait("the live regions' Jobs", |s| {
        s.lines().any(|l| l.contains("workflows/workflows-dr") && l.contains("eu-west"))
            && s.lines().any(|l| l.contains("workflows/workflows-dr") && l.contains("us-east"))
    });
    assert!(!s.lines().any(|l| l.contains("busybox") && l.contains("ap-south")), "no Jobs from the dead region:\n{s}");
    // …and an upsert on a reachable tenant can be previewed (and called off).
    c.keys(":tenants\r");
    c.wait_for("Tenants (12)");
    filter_tenants(&mut c, "globex-prod");
    c.keys("u");
    let s = c.wait_for("Preview — lifecycle.upsert");
    assert!(
        s.contains("globex-prod") && s.contains("in eu-west") && s.contains("▸ run  catalog/catalog-schema"),
        "{s}"
    );
    c.keys("\u{1b}");
    c.wait_for("cancelled: nothing was run");
    let header = c.contents().lines().next().unwrap_or_default().to_string();
    assert!(header.contains("ap-south ✗ down"), "still down: {header}");
    quit(&mut c);
}

#[test]
fn a_down_region_says_the_connection_was_refused_as_the_operator_guide_shows() {
    let sim = SimProcess::start("1");
    let config = with_unreachable_region(&sim);
    let mut c = sim.console_with(&config, &[]);
    let s = c.wait("ap-south down", |s| {
        s.lines().next().is_some_and(|h| h.contains("ap-south ✗ down")) && s.contains("Tenants (12)")
    });
    let reason = s.lines().find(|l| l.starts_with("ap-south: ")).unwrap_or_default();
    assert!(reason.to_lowercase().contains("connection refused"), "{reason:?}");
    quit(&mut c);
}

#[test]
fn a_down_region_keeps_its_reason_visible_after_other_messages() {
    let sim = SimProcess::start("1");
    let config = with_unreachable_region(&sim);
    let mut c = sim.console_with(&config, &[]);
    c.wait("ap-south down, with its reason", |s| {
        s.lines().next().is_some_and(|h| h.contains("ap-south ✗ down"))
            && s.lines().any(|l| l.starts_with("ap-south: "))
    });
    // Any message — here, calling off a preview — takes the status line.
    filter_tenants(&mut c, "globex-prod");
    c.keys("u");
    c.wait_for("Preview — lifecycle.upsert");
    c.keys("\u{1b}");
    c.wait_for("cancelled: nothing was run");
    c.keys("j");
    c.wait("the down region's reason somewhere on the screen", |s| {
        s.lines().next().is_some_and(|h| h.contains("ap-south ✗ down")) && s.lines().any(|l| l.contains("ap-south: "))
    });
    quit(&mut c);
}

#[test]
fn rbac_read_only_contexts_refuse_every_action_with_the_reason_and_create_nothing() {
    let sim = SimProcess::start("5");
    // A finished eu-west batch (started by the admin) for cancel and retry to act on.
    sim.run_upsert_headless("globex-prod");
    let rt = runtime();
    let eu_west = client_for(&rt, &sim.kubeconfig, "eu-west");
    let us_east = client_for(&rt, &sim.kubeconfig, "us-east");
    let pods_before = names(&branch_pods(&rt, &eu_west));
    assert_eq!(pods_before.len(), 8, "{pods_before:?}");
    let events_before = names(&batch_events(&rt, &eu_west));

    let config = sim.edited_config(
        "tlc-viewer.toml",
        &[("contexts = ", r#"contexts = ["eu-west=eu-west-viewer", "us-east=us-east-viewer"]"#.into())],
        "",
    );
    let mut c = sim.console_with(&config, &[]);
    c.wait("the viewer sees every tenant", |s| {
        let header = s.lines().next().unwrap_or_default();
        s.contains("Tenants (12)") && header.contains("eu-west ●") && header.contains("us-east ●")
    });

    filter_tenants(&mut c, "globex-prod");
    let s = press_until_refused(&mut c, "u", "cannot upsert: RBAC does not allow you to create pods in eu-west");
    assert!(!s.contains("Preview — "), "no preview opens:\n{s}");
    filter_tenants(&mut c, "wonka-prod");
    press_until_refused(&mut c, "o", "cannot migrate-out: RBAC does not allow you to create pods in us-east");

    // The viewer sees the admin's batch, and may neither cancel nor retry it.
    c.keys(":runs\r");
    c.wait("the finished globex-prod batch", |s| {
        s.lines().any(|l| l.contains("globex-prod") && l.contains("upsert") && l.contains("8/8"))
    });
    c.keys("x");
    c.wait_for("cannot cancel: RBAC does not allow you to delete pods in eu-west");
    c.keys("r");
    c.wait_for("cannot retry: RBAC does not allow you to create pods in eu-west");
    quit(&mut c);

    // Nothing reached either cluster: no branch pod, ConfigMap or audit Event was added.
    assert_eq!(names(&branch_pods(&rt, &eu_west)), pods_before, "eu-west's branch pods are unchanged");
    assert_eq!(names(&batch_events(&rt, &eu_west)), events_before, "no audit Event in eu-west");
    assert!(branch_pods(&rt, &us_east).is_empty(), "no branch pods in us-east");
    assert!(branch_configmaps(&rt, &us_east).is_empty(), "no branch ConfigMaps in us-east");
    assert!(batch_events(&rt, &us_east).is_empty(), "no audit Events in us-east");
}

#[test]
fn read_only_configuration_shows_the_badge_and_refuses_trigger_cancel_and_retry() {
    let sim = SimProcess::start("5");
    // A finished batch with a failed branch (globex-prod's lineage Job fails), started headless,
    // so that cancel and retry have something to act on.
    sim.run_upsert_headless("globex-prod");
    let rt = runtime();
    let admin = client_for(&rt, &sim.kubeconfig, "eu-west");
    let pods_before = names(&branch_pods(&rt, &admin));
    assert_eq!(pods_before.len(), 8, "{pods_before:?}");

    let config = sim.edited_config("tlc-read-only.toml", &[], "\n[run]\nread_only = true\n");
    let mut c = sim.console_with(&config, &[]);
    c.wait("the READ-ONLY badge and the tenants", |s| {
        s.lines().next().is_some_and(|h| h.contains("READ-ONLY")) && s.contains("Tenants (12)")
    });
    filter_tenants(&mut c, "globex-prod");
    c.keys("u");
    let s = c.wait_for(&format!("cannot upsert: {READ_ONLY_REASON}"));
    assert!(!s.contains("Preview — "), "no preview opens:\n{s}");
    c.keys("o");
    c.wait_for(&format!("cannot migrate-out: {READ_ONLY_REASON}"));

    // The batch started elsewhere is there, re-attached; cancel and retry are refused too.
    c.keys(":runs\r");
    c.wait("the finished globex-prod batch", |s| {
        s.lines().any(|l| l.contains("globex-prod") && l.contains("upsert") && l.contains("8/8"))
    });
    c.keys("x");
    c.wait_for(&format!("cannot cancel: {READ_ONLY_REASON}"));
    c.keys("r");
    c.wait_for(&format!("cannot retry: {READ_ONLY_REASON}"));
    quit(&mut c);

    assert_eq!(names(&branch_pods(&rt, &admin)), pods_before, "no branch was added (no new batch, no retry attempt)");
    assert!(branch_pods(&rt, &client_for(&rt, &sim.kubeconfig, "us-east")).is_empty(), "nothing in us-east");
}

/// An embedded cluster started in this process: one region, `eu-west`, seeded with its half of
/// the demo estate, with a kubeconfig and a tlc configuration for the console.
struct InProcessRegion {
    rt: tokio::runtime::Runtime,
    cluster: EmbeddedCluster,
    /// Holds the kubeconfig and the tlc configuration.
    _dir: tempfile::TempDir,
    kubeconfig: PathBuf,
    tlc_config: PathBuf,
}

impl InProcessRegion {
    /// Starts it with `users` besides the admin; the console will use `context`.
    fn start(users: Vec<User>, context: &str) -> InProcessRegion {
        let rt = runtime();
        let mut config = ClusterConfig::new("eu-west").with_time_scale(0.02);
        config.users = users;
        let cluster = rt.block_on(EmbeddedCluster::start(config)).expect("embedded cluster starts");
        tlc::demo::examples::seed(cluster.store(), "eu-west").expect("seed the demo estate");
        let dir = tempfile::tempdir().expect("tempdir");
        let kubeconfig = dir.path().join("kubeconfig");
        embedded_cluster::kubeconfig::write(&kubeconfig, &cluster.kubeconfig_entries(), "eu-west", "# console_cluster")
            .expect("write the kubeconfig");
        let tlc_config = dir.path().join("tlc.toml");
        std::fs::write(
            &tlc_config,
            format!(
                "[cluster]\nkubeconfig = {:?}\ncontexts = [\"eu-west={context}\"]\n\n[lifecycle]\nannotation = {DEMO_ANNOTATION:?}\n",
                kubeconfig.display().to_string()
            ),
        )
        .expect("write the tlc configuration");
        InProcessRegion { rt, cluster, _dir: dir, kubeconfig, tlc_config }
    }

    fn console(&self) -> Console {
        let kubeconfig = self.kubeconfig.display().to_string();
        let config = self.tlc_config.display().to_string();
        Console::start_with(&[], &[("KUBECONFIG", &kubeconfig), ("TLC_CONFIG", &config)], (ROWS, COLS))
    }

    fn admin(&self) -> kube::Client {
        self.rt.block_on(self.cluster.client()).expect("admin client")
    }

    /// Waits until the console holds `n` watches open on the cluster (tenants, Jobs, branch pods):
    /// its initial lists are done and it makes no new list requests of its own for minutes.
    fn wait_for_watches(&self, n: usize) {
        let start = Instant::now();
        while self.cluster.metrics().watches.current() < n {
            assert!(start.elapsed() < DEADLINE, "the console never opened {n} watches");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// The tenants list's title line (`┌ Tenants (12) /filter ─…`).
fn tenants_title(screen: &str) -> String {
    screen.lines().find(|l| l.contains("┌ Tenants (")).unwrap_or_default().to_string()
}

/// Filters the tenants view down to the one tenant `name` (clearing any filter first).
fn filter_tenants(c: &mut Console, name: &str) {
    let s = c.wait("the tenants view", |s| s.contains("┌ Tenants ("));
    if tenants_title(&s).contains(" /") {
        c.keys("\u{1b}");
        c.wait("the filter cleared", |s| !tenants_title(s).contains(" /"));
    }
    c.keys(&format!("/{name}\r"));
    c.wait(&format!("only {name}"), |s| {
        tenants_title(s).contains("Tenants (1)") && s.lines().any(|l| l.contains(&format!(" {name} ")))
    });
}

/// Opens the upsert preview for `tenant` and confirms it.
fn upsert(c: &mut Console, tenant: &str) {
    filter_tenants(c, tenant);
    c.keys("u");
    c.wait_for("Preview — lifecycle.upsert");
    c.keys("\r");
    c.wait_for("y yes  n/Esc no");
    c.keys("y");
}

#[test]
fn a_403_on_pod_creation_itself_is_reported_leaves_nothing_behind_and_the_console_keeps_working() {
    // The operator's own user may do everything, so the SelfSubjectAccessReview says yes; the
    // refusal comes from the request itself, as an admission webhook or PodSecurity would give it.
    let region = InProcessRegion::start(vec![User::admin("operator", "operator-token")], "eu-west-operator");
    let mut c = region.console();
    c.wait("eu-west's tenants", |s| s.contains("Tenants (6)") && s.contains("globex-prod"));
    region.wait_for_watches(3);
    region.cluster.faults().fail_for(403, DEADLINE * 2, Some("/pods"));

    upsert(&mut c, "globex-prod");
    let s = c.wait("the refusal on the status line", |s| s.contains("could not run"));
    let status = s.lines().find(|l| l.contains("could not run")).unwrap_or_default();
    assert!(status.contains("forbidden") && status.contains("cannot create pods in namespace"), "{status}\n{s}");
    let s = c.wait("every branch failed to launch", |s| s.contains("8 branch(es) could not run"));
    assert!(!s.lines().any(|l| l.contains("● running") || l.contains("pending")), "nothing looks alive:\n{s}");

    // Nothing half-done in the cluster: no branch pod, no ConfigMap. (The fault is lifted first:
    // it would refuse this test's own pod list too. Every branch has reported, so nothing is
    // still trying to create pods.)
    region.cluster.faults().clear();
    let admin = region.admin();
    assert!(branch_pods(&region.rt, &admin).is_empty(), "no branch pod was created");
    assert!(branch_configmaps(&region.rt, &admin).is_empty(), "no branch ConfigMap was created");
    // The history does not say the trigger went through: a second line says nothing started.
    let history = c.home.path().join("data").join("history.jsonl");
    let text = std::fs::read_to_string(&history).expect("the history file");
    let outcomes: Vec<String> = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("a JSON line"))
        .map(|v| v["outcome"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(outcomes.len(), 2, "{text}");
    assert!(outcomes[1].starts_with("8 of 8 branch(es) could not start — "), "{text}");
    // The batch's record in the cluster says the same, for every console opened later.
    let records = region.rt.block_on(tlc::audit::record::list(&admin, "eu-west", "tlc-records")).expect("records");
    assert_eq!(records.len(), 1, "{records:?}");
    let said: Vec<&str> = records[0].actions.iter().map(|a| a.outcome.as_str()).collect();
    assert_eq!(said.len(), 2, "{said:?}");
    assert_eq!(said[0], "ok");
    assert!(said[1].starts_with("8 of 8 branch(es) could not start — "), "{said:?}");

    // The cluster accepts pods again: the same console runs the upsert.
    c.keys(":tenants\r");
    c.wait_for("Tenants (");
    upsert(&mut c, "globex-prod");
    c.wait("the second batch to finish", |s| s.contains("8/8") && s.contains("✗ failed") && s.contains("✓ succeeded"));
    let batches: std::collections::BTreeSet<String> = branch_pods(&region.rt, &admin)
        .iter()
        .filter_map(|p| label(&p.metadata, BATCH_LABEL).map(str::to_string))
        .collect();
    assert_eq!(batches.len(), 1, "only the second batch has pods: {batches:?}");
    quit(&mut c);
}

#[test]
fn a_403_on_the_branch_configmap_leaves_no_pod_behind() {
    // May do everything except create ConfigMaps: the SelfSubjectAccessReview (create pods) says
    // yes, and the refusal comes on the second request of each branch.
    let no_configmaps = User {
        name: "operator".into(),
        token: "operator-token".into(),
        rules: vec![
            Rule::everything(&["get", "list", "watch"]),
            Rule {
                verbs: vec!["*".into()],
                api_groups: vec!["*".into()],
                resources: ["pods", "pods/*", "events", "jobs"].map(String::from).to_vec(),
                namespaces: None,
            },
            // Its batch records it may write (else that notice would cover the one this is about).
            Rule {
                verbs: vec!["*".into()],
                api_groups: vec!["".into()],
                resources: vec!["configmaps".into()],
                namespaces: Some(vec!["tlc-records".into()]),
            },
        ],
    };
    let region = InProcessRegion::start(vec![no_configmaps], "eu-west-operator");
    let mut c = region.console();
    c.wait("eu-west's tenants", |s| s.contains("Tenants (6)") && s.contains("globex-prod"));
    upsert(&mut c, "globex-prod");
    let s = c.wait("the refusal on the status line", |s| s.contains("could not run"));
    let status = s.lines().find(|l| l.contains("could not run")).unwrap_or_default();
    assert!(status.contains("forbidden") && status.contains("cannot create configmaps"), "{status}\n{s}");

    let admin = region.admin();
    let pods = branch_pods(&region.rt, &admin);
    let names: Vec<_> = pods.iter().filter_map(|p| p.metadata.name.clone()).collect();
    assert!(names.is_empty(), "branch pods left behind without their ConfigMap: {names:?}");
    quit(&mut c);
}

#[test]
fn batches_started_a_moment_apart_are_told_apart_by_their_shown_ids() {
    let region = InProcessRegion::start(Vec::new(), "eu-west");
    let mut c = region.console();
    c.wait("eu-west's tenants", |s| s.contains("Tenants (6)"));
    upsert(&mut c, "hooli-trial");
    let first = shown_batch(&c);
    c.keys(":tenants\r");
    upsert(&mut c, "acme-staging");
    c.wait("the second batch", |s| s.contains("upsert for acme-staging"));
    let second = shown_batch(&c);
    // (With the leading, timestamp digits of the UUIDv7 both batches showed the same id.)
    assert_ne!(first, second, "two batches, one id on screen (header, :runs, :history, messages)");
    quit(&mut c);
}

#[test]
fn a_trigger_is_audited_as_an_event_in_the_cluster_in_history_and_in_the_history_file() {
    let sim = SimProcess::start("5");
    let mut c = sim.console_with(&sim.tlc_config, &[("USER", "auditor")]);
    c.wait_for("Tenants (12)");
    upsert(&mut c, "globex-prod");
    let short = shown_batch(&c);
    c.wait("the batch to finish", |s| s.contains("8/8"));

    let rt = runtime();
    let admin = client_for(&rt, &sim.kubeconfig, "eu-west");
    let pods = branch_pods(&rt, &admin);
    let batch_ids: std::collections::BTreeSet<&str> =
        pods.iter().filter_map(|p| label(&p.metadata, BATCH_LABEL)).collect();
    assert_eq!(batch_ids.len(), 1, "{batch_ids:?}");
    let batch_id = batch_ids.into_iter().next().expect("one batch").to_string();
    assert!(batch_id.ends_with(&short), "the console shows batch {short}, the cluster holds {batch_id}");

    let events = batch_events(&rt, &admin);
    let ours: Vec<&Event> = events.iter().filter(|e| label(&e.metadata, BATCH_LABEL) == Some(&batch_id)).collect();
    assert_eq!(ours.len(), 1, "one audit Event for the batch: {events:#?}");
    let event = ours[0];
    let meta = &event.metadata;
    assert_eq!(label(meta, "tlc.dev/tenant-id"), Some(GLOBEX_ID));
    assert_eq!(label(meta, "tlc.dev/operation"), Some("lifecycle.upsert"));
    assert_eq!(annotation(meta, "tlc.dev/actor"), Some("auditor via eu-west"));
    // The changeset every branch got was the preview's default, `{}`.
    let empty_changeset = {
        use sha2::Digest as _;
        let digest = sha2::Sha256::digest(b"{}\n");
        format!("sha256:{}", digest.iter().map(|b| format!("{b:02x}")).collect::<String>())
    };
    assert_eq!(annotation(meta, "tlc.dev/changeset-digest"), Some(empty_changeset.as_str()));
    let involved = &event.involved_object;
    assert_eq!(involved.kind.as_deref(), Some("Pod"));
    let pod_of_batch = pods.iter().any(|p| {
        p.metadata.name == involved.name
            && p.metadata.namespace == involved.namespace
            && label(&p.metadata, BATCH_LABEL) == Some(&batch_id)
    });
    assert!(pod_of_batch, "the Event is about a pod of the batch: {involved:?}");
    assert_eq!(meta.namespace, involved.namespace, "the Event lives next to its pod");

    // The console's history shows the record…
    c.keys(":history\r");
    let s = c.wait("the audit record", |s| s.contains("History (1)"));
    let row = s.lines().find(|l| l.contains("globex-prod")).unwrap_or_default();
    assert!(row.contains("trigger") && row.contains(&short) && row.contains("auditor"), "{row:?}\n{s}");
    quit(&mut c);

    // …read from the JSONL file in $TLC_DATA_DIR.
    let history = std::fs::read_to_string(c.home.path().join("data").join("history.jsonl")).expect("history file");
    let lines: Vec<Value> = history.lines().map(|l| serde_json::from_str(l).expect("a JSON object per line")).collect();
    assert_eq!(lines.len(), 1, "{history}");
    let record = &lines[0];
    assert_eq!(record["batch_id"], json!(batch_id));
    assert_eq!(record["action"], json!("trigger"));
    assert_eq!(record["who"], json!("auditor via eu-west"));
    assert_eq!(record["tenant_id"], json!(GLOBEX_ID));
    assert_eq!(record["region"], json!("eu-west"));
    assert_eq!(record["changeset_digest"], json!(empty_changeset));
}

#[test]
fn a_batch_started_in_one_console_is_reattached_and_cancelled_from_another() {
    let sim = SimProcess::start("1");
    let mut first = sim.console_with(&sim.tlc_config, &[("USER", "alice")]);
    first.wait_for("Tenants (12)");
    filter_tenants(&mut first, "acme-prod");
    first.keys("o");
    first.wait_for("Preview — lifecycle.migrate-out");
    first.keys("\r");
    first.wait("the typed confirmation", |s| s.contains("\"acme-prod\" to confirm"));
    first.keys("acme-prod\r");
    let short = shown_batch(&first);
    first.wait("the slow branch to run", |s| {
        s.lines().any(|l| l.contains("workflows/workflows-drain") && l.contains("● running"))
    });

    // A second operator, another console on the same kubeconfig.
    let mut second = sim.console_with(&sim.tlc_config, &[("USER", "bob")]);
    second.wait_for("Tenants (12)");
    second.keys(&format!(":runs\r/{short}\r"));
    let s = second.wait("the same batch, re-attached from its pods' labels", |s| {
        s.contains("Runs (1") && s.lines().any(|l| l.contains("acme-prod") && l.contains("migrate-out"))
    });
    let row = s.lines().find(|l| l.contains("acme-prod")).unwrap_or_default();
    assert!(row.contains("running"), "{row:?}\n{s}");
    second.keys("x");
    second.wait_for("y yes  n/Esc no");
    second.keys("y");
    second.wait("the cancel to be done", |s| s.contains("cancelled ") && s.contains("branch(es) of acme-prod"));

    // The first console sees it.
    first.wait("the cancelled branch in the first console", |s| {
        s.lines().any(|l| l.contains("workflows/workflows-drain") && l.contains("⊘ cancelled"))
    });
    quit(&mut second);
    quit(&mut first);

    // The cluster holds the batch's story: alice triggered it, bob cancelled it.
    let rt = runtime();
    let admin = client_for(&rt, &sim.kubeconfig, "eu-west");
    let pods = branch_pods(&rt, &admin);
    let drain_alive = pods.iter().any(|p| {
        p.metadata.name.as_deref().is_some_and(|n| n.starts_with("workflows-drain"))
            && p.metadata.deletion_timestamp.is_none()
            && p.status.as_ref().and_then(|s| s.phase.as_deref()).is_some_and(|ph| ph == "Pending" || ph == "Running")
    });
    assert!(!drain_alive, "the drain pod was stopped");
    let events = batch_events(&rt, &admin);
    let batch_ids: std::collections::BTreeSet<&str> =
        events.iter().filter_map(|e| label(&e.metadata, BATCH_LABEL)).collect();
    assert_eq!(batch_ids.len(), 1, "audit Events of one batch: {batch_ids:?}");
    let batch_id = batch_ids.into_iter().next().expect("one batch");
    assert!(batch_id.ends_with(&short), "the consoles showed batch {short}, the Events are about {batch_id}");
    let mut story: Vec<(String, String)> = events
        .iter()
        .filter(|e| label(&e.metadata, BATCH_LABEL) == Some(batch_id))
        .map(|e| {
            let actor = annotation(&e.metadata, "tlc.dev/actor").unwrap_or_default().to_string();
            (e.reason.clone().unwrap_or_default(), actor)
        })
        .collect();
    story.sort();
    assert_eq!(
        story,
        vec![
            ("LifecycleCancelled".to_string(), "bob via eu-west".to_string()),
            ("LifecycleTriggered".to_string(), "alice via eu-west".to_string()),
        ]
    );
}

#[test]
fn doctor_in_the_console_examines_every_region_and_names_the_one_that_is_down() {
    let sim = SimProcess::start("1");
    let config = with_unreachable_region(&sim);
    let mut c = sim.console_with(&config, &[]);
    c.wait_for("Tenants (12)");
    c.keys(":doctor\r");
    let s = c.wait("the doctor's report", |s| s.contains("Doctor: NOT ready to trigger"));
    assert!(s.contains("eu-west (context eu-west): ready to trigger"), "{s}");
    assert!(s.contains("ok    cluster         answers: Kubernetes v1.33.0-tlc.embedded"), "{s}");
    // The down region is at the end of the report: go there.
    c.keys("G");
    let s =
        c.wait("the end of the report", |s| s.contains("not ready to trigger in ap-south: fix what says FAIL above"));
    assert!(s.contains("ap-south (context ap-south): NOT ready to trigger"), "{s}");
    assert!(s.contains("FAIL  cluster  cannot reach https://127.0.0.1:"), "{s}");
    quit(&mut c);
}

#[test]
fn a_batch_whose_pods_were_deleted_shows_from_its_record_in_a_console_opened_later() {
    let region = InProcessRegion::start(vec![], "eu-west");
    let admin = region.admin();
    let mut c = region.console();
    c.wait("eu-west's tenants", |s| s.contains("Tenants (6)") && s.contains("globex-prod"));
    upsert(&mut c, "globex-prod");
    // The console saw it end: it writes the outcome into the batch's record.
    let record = {
        let start = Instant::now();
        loop {
            let records =
                region.rt.block_on(tlc::audit::record::list(&admin, "eu-west", "tlc-records")).expect("records");
            if let Some(r) = records.into_iter().find(|r| r.outcome.is_some()) {
                break r;
            }
            assert!(start.elapsed() < DEADLINE, "no outcome recorded");
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    quit(&mut c);
    let outcome = record.outcome.clone().expect("outcome");
    assert_eq!(outcome.branches.len(), 8, "{outcome:#?}");
    let lineage = outcome.branches.iter().find(|b| b.job == "lineage/lineage-graph").expect("lineage");
    assert_eq!((lineage.phase, lineage.exit_code), (tlc::lifecycle::run::Phase::Failed, Some(2)), "{lineage:#?}");

    // Its pods deleted by hand.
    let pods: Api<Pod> = Api::all(admin.clone());
    let selector = format!("{BATCH_LABEL}={}", record.batch_id);
    for p in region.rt.block_on(pods.list(&ListParams::default().labels(&selector))).expect("pods").items {
        let api: Api<Pod> = Api::namespaced(admin.clone(), &p.metadata.namespace.clone().expect("namespaced"));
        let params = kube::api::DeleteParams::default().grace_period(0);
        region.rt.block_on(api.delete(&p.metadata.name.clone().expect("named"), &params)).expect("deleted");
    }

    // A console opened afterwards shows the batch from its record, and its branches as they ended.
    let mut c = region.console();
    c.wait_for("Tenants (6)");
    c.keys(":runs\r");
    let s = c
        .wait("the batch from its record", |s| s.lines().any(|l| l.contains("globex-prod") && l.contains("✗ failed*")));
    assert!(s.contains("Runs (1, 0 live, 1 from records*: pods gone)"), "{s}");
    c.keys("\r");
    let s = c.wait("its branches", |s| s.contains("from its record") && s.contains("lineage-graph"));
    let lineage = s.lines().find(|l| l.contains("lineage-graph")).unwrap_or_default();
    assert!(lineage.contains("failed") && lineage.contains('2'), "{lineage}\n{s}");
    quit(&mut c);
}

#[test]
fn gc_from_the_console_previews_asks_removes_the_ended_pods_and_the_batch_stays_from_its_record() {
    let sim = SimProcess::start("1");
    sim.run_upsert_headless("globex-prod");
    let rt = runtime();
    let admin = client_for(&rt, &sim.kubeconfig, "eu-west");
    assert_eq!(branch_pods(&rt, &admin).len(), 8, "globex-prod's upsert left its 8 branch pods");
    let config = sim.edited_config("gc.toml", &[], "\n[retention]\nolder_than = \"0s\"\n");

    let mut c = sim.console_with(&config, &[]);
    c.wait("both regions' tenants", |s| s.contains("Tenants (12)"));
    c.keys(":gc\r");
    let s = c.wait("the confirmation", |s| s.contains("y yes  n/Esc no"));
    assert!(s.contains("Remove 8 branch pods and 0 records?"), "{s}");
    c.keys("y");
    let s = c.wait("the removal's report", |s| s.contains("gc: removed 8 branch pods of 1 batch and 0 records in "));
    let report = s.lines().find(|l| l.contains("gc: removed")).unwrap_or_default();
    assert!(report.contains("deletecollection pods ×"), "the requests it made are said: {report}");
    assert!(branch_pods(&rt, &admin).is_empty(), "the ended branch pods are gone");
    assert!(branch_configmaps(&rt, &admin).is_empty(), "their ConfigMaps went with them");

    // The batch is still there, from its record.
    c.keys(":runs\r");
    c.wait("globex-prod's upsert", |s| s.lines().any(|l| l.contains("globex-prod") && l.contains("upsert")));
    quit(&mut c);
    let records = rt.block_on(tlc::audit::record::list(&admin, "eu-west", "tlc-records")).expect("records");
    assert_eq!(records.len(), 1, "its record stays");
    assert!(records[0].outcome.is_some(), "with its outcome");
}

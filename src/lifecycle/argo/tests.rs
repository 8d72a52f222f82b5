//! Status decoding, mapping and actions on real Argo objects (`tests/fixtures/argo/`, copied from
//! argo-workflows' own tests) and on Workflows of tlc's template built here node by node.

use std::io::{Read, Write};

use base64::Engine as _;
use jiff::Timestamp;
use serde_json::{Map, Value, json};

use super::actions::{self, ActionError};
use super::mapping::{BatchIdSource, Item, Shutdown, Stage, State, WorkflowPhase, WorkflowRun, parse_jobs};
use super::status::{
    self, NodePhase, NodeType, NodesEncoding, PodNameFormat, StatusProblem, decode_nodes, fnv32a, node_id, pod_name,
};
use crate::contract::JobRef;

const SEMAPHORE: &str = include_str!("../../../tests/fixtures/argo/semaphore-tmpl-withparam-running.yaml");
const MANY_ITEMS: &str = include_str!("../../../tests/fixtures/argo/many-items-withitems-succeeded.yaml");
const ARTIFACT: &str = include_str!("../../../tests/fixtures/argo/artifact-passing-withparam-running.yaml");
const DAG: &str = include_str!("../../../tests/fixtures/argo/fails-with-param-dag.yaml");

fn fixture(text: &str) -> Value {
    serde_saphyr::from_str(text).expect("fixture is YAML")
}

fn ts(s: &str) -> Option<Timestamp> {
    Some(s.parse().expect("timestamp"))
}

fn map(workflow: &Value) -> WorkflowRun {
    WorkflowRun::from_value(workflow).expect("maps")
}

/// A branch in a few words: key, state, exit code, attempt count, message.
type Brief = (String, State, Option<i32>, usize, Option<String>);

fn brief(run: &WorkflowRun) -> Vec<Brief> {
    run.branches
        .iter()
        .map(|b| {
            let message = b.unit.as_ref().and_then(|u| u.message.clone());
            (b.key(), b.state(), b.exit_code(), b.attempts().len(), message)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Hashes, ids, pod names

#[test]
fn fnv32a_matches_the_reference_vectors_and_argo() {
    // FNV-1a 32-bit reference values (offset basis for "", and "a").
    assert_eq!(fnv32a(""), 0x811c_9dc5);
    assert_eq!(fnv32a("a"), 0xe40c_292c);
    assert_eq!(fnv32a("foobar"), 0xbf9c_f968);
    // Argo: the semaphore fixture's `generate` node.
    assert_eq!(fnv32a("semaphore-tmpl-level-xjvln[0].generate"), 5_807_216);
}

#[test]
fn every_fixture_node_id_is_the_hash_of_its_name() {
    for text in [SEMAPHORE, MANY_ITEMS, ARTIFACT, DAG] {
        let wf = fixture(text);
        let name = wf["metadata"]["name"].as_str().unwrap().to_string();
        let nodes = decode_nodes(&wf).unwrap().nodes;
        assert!(nodes.len() >= 6, "{name}: {} nodes", nodes.len());
        for (id, node) in &nodes {
            assert_eq!(&node_id(&name, &node.name), id, "{name}: node {}", node.name);
        }
    }
}

#[test]
fn pod_names_v1_v2_and_the_242_character_cut() {
    let wf = "tenant-lifecycle-7xk2p";
    let node = "tenant-lifecycle-7xk2p[1].bridge(0:name:billing-account,namespace:billing)(0)";
    let id = node_id(wf, node);
    assert_eq!(id, format!("{wf}-{}", fnv32a(node)));
    assert_eq!(pod_name(wf, node, "bridge", &id, PodNameFormat::V1), id);
    assert_eq!(pod_name(wf, node, "bridge", &id, PodNameFormat::V2), format!("{wf}-bridge-{}", fnv32a(node)));
    // No template name: the workflow's name alone before the hash.
    assert_eq!(pod_name(wf, node, "", &id, PodNameFormat::V2), format!("{wf}-{}", fnv32a(node)));
    // The root node's pod is the workflow's name.
    assert_eq!(pod_name(wf, wf, "lifecycle", wf, PodNameFormat::V2), wf);

    // 240 + "-" + 10 = 251 characters of prefix: cut to 242, then "-" and the hash.
    let long_wf = "w".repeat(240);
    let long_node = format!("{long_wf}[0].x");
    let name = pod_name(&long_wf, &long_node, "template-x", "unused", PodNameFormat::V2);
    let prefix = format!("{long_wf}-t");
    assert_eq!(prefix.len(), 242);
    assert_eq!(name, format!("{prefix}-{}", fnv32a(&long_node)));
    assert!(name.len() <= 253, "{}", name.len());
    // Exactly 242: not cut.
    let wf241 = "w".repeat(241);
    assert_eq!(pod_name(&wf241, "n", "", "x", PodNameFormat::V2), format!("{wf241}-{}", fnv32a("n")));
    let wf243 = "w".repeat(243);
    assert_eq!(pod_name(&wf243, "n", "", "x", PodNameFormat::V2), format!("{}-{}", "w".repeat(242), fnv32a("n")));

    assert_eq!(PodNameFormat::from_annotation(Some("v1")), PodNameFormat::V1);
    assert_eq!(PodNameFormat::from_annotation(Some("v2")), PodNameFormat::V2);
    assert_eq!(PodNameFormat::from_annotation(None), PodNameFormat::V2);
}

#[test]
fn go_timestamps_read_directly_agree_with_jiff() {
    for text in [
        "2020-06-04T19:55:11Z",
        "1970-01-01T00:00:00Z",
        "2000-02-29T23:59:59Z",
        "2024-02-29T12:00:00Z",
        "2100-12-31T00:00:01Z",
        "1969-12-31T23:59:59Z",
    ] {
        assert_eq!(status::utc_seconds(text), Some(text.parse::<Timestamp>().unwrap()), "{text}");
    }
    for text in [
        "2023-02-29T00:00:00Z",
        "2020-13-01T00:00:00Z",
        "2020-06-04T24:00:00Z",
        "2020-06-04 19:55:11Z",
        "2020-06-04T19:55:11.5Z",
    ] {
        assert_eq!(status::utc_seconds(text), None, "{text}");
    }
    // Other RFC 3339 forms still read (through jiff); impossible dates are errors naming the node.
    let node = |t: &str| json!({"n": {"id": "n", "startedAt": t}});
    let nodes = status::decode_status_nodes(&json!({"nodes": node("2020-06-04T21:55:11.25+02:00")})).unwrap().nodes;
    assert_eq!(nodes["n"].started_at, ts("2020-06-04T19:55:11.25Z"));
    let e = status::decode_status_nodes(&json!({"nodes": node("2023-02-29T00:00:00Z")})).unwrap_err();
    assert!(matches!(&e, StatusProblem::BadNode { id, .. } if id == "n"), "{e:?}");
}

#[test]
fn item_names_parse_and_attempt_names_do_not() {
    let item = Item::parse("bridge(0:name:billing-account,namespace:billing)").unwrap();
    assert_eq!(item.step, "bridge");
    assert_eq!(item.index, 0);
    assert_eq!(item.description, "name:billing-account,namespace:billing");
    assert_eq!(item.job(), Some(JobRef::new("billing", "billing-account")));
    assert_eq!(item.to_string(), "bridge(0:name:billing-account,namespace:billing)");
    assert_eq!(Item::job_description(&JobRef::new("billing", "billing-account")), item.description);

    let item = Item::parse("process-artifact(1:script.py)").unwrap();
    assert_eq!(
        (item.step.as_str(), item.index, item.description.as_str(), item.job()),
        ("process-artifact", 1, "script.py", None)
    );
    assert_eq!(Item::parse("process-tasks(3:3)(1)"), None, "an attempt is not an item");
    assert_eq!(Item::parse("bridge"), None);
    assert_eq!(Item::parse("[1]"), None);
    assert_eq!(Item::parse("bridge(x:y)"), None, "the index is a number");
}

#[test]
fn discovery_jobs_output_parses_or_says_why_not() {
    assert_eq!(
        parse_jobs(r#"[{"name":"a","namespace":"n1"},{"namespace":"n2","name":"b"}]"#).unwrap(),
        vec![JobRef::new("n1", "a"), JobRef::new("n2", "b")]
    );
    assert_eq!(parse_jobs("[]").unwrap(), vec![]);
    let err = parse_jobs(r#"{"name":"a"}"#).unwrap_err();
    assert!(err.starts_with("discovery's jobs output is not a list of {name, namespace}: "), "{err}");
    let err = parse_jobs(r#"[{"name":"","namespace":"n"}]"#).unwrap_err();
    assert_eq!(err, r#"discovery's jobs output lists a Job without a name or namespace: "n"/"""#);
}

// ---------------------------------------------------------------------------------------------
// The fixtures

#[test]
fn semaphore_fixture_maps_to_two_pending_branches_after_generate() {
    let run = map(&fixture(SEMAPHORE));
    assert_eq!(
        (run.namespace.as_str(), run.name.as_str(), run.uid.as_str()),
        ("default", "semaphore-tmpl-level-xjvln", "")
    );
    assert_eq!(run.phase, WorkflowPhase::Running);
    assert_eq!(run.template, None);
    assert_eq!((run.shutdown, run.suspended, run.message.as_deref()), (None, false, None));
    assert_eq!((run.started, run.finished), (ts("2020-06-04T19:55:11Z"), None));
    assert_eq!(run.stage, Stage::FannedOut);
    assert_eq!(run.discovery, None);
    assert_eq!(run.batch_id, None);
    assert_eq!(run.pod_name_format, PodNameFormat::V2);
    assert_eq!(run.nodes_encoding, NodesEncoding::Plain);
    assert_eq!(
        brief(&run),
        vec![
            ("sleep(0:1)".into(), State::Pending, None, 1, Some("ContainerCreating".into())),
            ("sleep(1:2)".into(), State::Pending, None, 1, Some("ContainerCreating".into())),
        ]
    );
    let b0 = run.branches[0].unit.as_ref().unwrap();
    assert_eq!(b0.node_id, "semaphore-tmpl-level-xjvln-3448864205");
    assert_eq!((b0.node_type, b0.argo_phase, b0.template.as_str()), (NodeType::Pod, NodePhase::Pending, "sleep-n-sec"));
    assert_eq!(b0.started, ts("2020-06-04T19:55:56Z"));
    let a = &b0.attempts[0];
    assert_eq!((a.number, a.node_id.as_str()), (1, "semaphore-tmpl-level-xjvln-3448864205"));
    assert_eq!(a.pod_name.as_deref(), Some("semaphore-tmpl-level-xjvln-sleep-n-sec-3448864205"));
    assert_eq!(a.host_node.as_deref(), Some("k3d-k3s-default-server"));
    assert_eq!(
        run.branches[1].attempts()[0].pod_name.as_deref(),
        Some("semaphore-tmpl-level-xjvln-sleep-n-sec-1607747183")
    );

    assert_eq!(run.steps.len(), 1);
    let generate = &run.steps[0];
    assert_eq!((generate.name.as_str(), generate.state, generate.exit_code), ("generate", State::Succeeded, Some(0)));
    assert_eq!((generate.started, generate.finished), (ts("2020-06-04T19:55:11Z"), ts("2020-06-04T19:55:25Z")));
    assert_eq!(generate.attempts[0].pod_name.as_deref(), Some("semaphore-tmpl-level-xjvln-gen-number-list-5807216"));
}

#[test]
fn many_items_fixture_maps_to_thirteen_succeeded_branches_in_item_order() {
    let run = map(&fixture(MANY_ITEMS));
    assert_eq!((run.namespace.as_str(), run.uid.as_str()), ("argo", "d21f092a-f659-4300-bd69-983a9912a379"));
    assert_eq!(run.phase, WorkflowPhase::Succeeded);
    assert_eq!(run.finished, ts("2020-06-02T16:05:01Z"));
    assert_eq!(run.stage, Stage::FannedOut);
    let words =
        ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"];
    let expected: Vec<_> =
        words.iter().enumerate().map(|(i, w)| (format!("sleep({i}:{w})"), State::Succeeded, None, 1, None)).collect();
    assert_eq!(brief(&run), expected);
    assert!(run.steps.is_empty(), "{:?}", run.steps);
    // Node ids are not in item order; the attempts still name the right pods.
    assert_eq!(run.branches[8].attempts()[0].node_id, "many-items-z26lj-753834747");
    assert_eq!(run.branches[8].attempts()[0].pod_name.as_deref(), Some("many-items-z26lj-sleep-753834747"));
    assert_eq!(run.counts().get(&State::Succeeded), Some(&13));
}

#[test]
fn artifact_fixture_maps_to_two_branches_and_its_generate_step() {
    let run = map(&fixture(ARTIFACT));
    assert_eq!(run.phase, WorkflowPhase::Running);
    assert_eq!(run.stage, Stage::FannedOut);
    assert_eq!(
        brief(&run),
        vec![
            ("process-artifact(0:foo/script.py)".into(), State::Succeeded, None, 1, None),
            ("process-artifact(1:script.py)".into(), State::Succeeded, None, 1, None),
        ]
    );
    assert_eq!(run.branches[0].item.description, "foo/script.py");
    assert_eq!(run.branches[0].job, None);
    // The step groups are structure; the missing node the root points to is ignored.
    assert_eq!(run.steps.len(), 1);
    let g = &run.steps[0];
    assert_eq!(
        (g.name.as_str(), g.state, g.exit_code, g.template.as_str()),
        ("generate-artifact", State::Succeeded, None, "generate-artifacts")
    );
    assert_eq!(g.attempts[0].pod_name.as_deref(), Some("artifact-passing-z9j6n-generate-artifacts-2656044291"));
}

#[test]
fn dag_fixture_maps_retries_their_attempts_and_the_omitted_finish() {
    let run = map(&fixture(DAG));
    assert_eq!(run.phase, WorkflowPhase::Running, "as stored, before the controller's next pass");
    assert_eq!((run.started, run.finished), (ts("2020-08-14T03:47:23Z"), None));
    assert_eq!(run.stage, Stage::FannedOut);
    let mut expected: Vec<_> =
        (0..10).map(|i| (format!("process-tasks({i}:{i})"), State::Succeeded, Some(0), 1, None)).collect();
    expected[3] = ("process-tasks(3:3)".into(), State::Failed, Some(1), 3, Some("No more retries left".into()));
    assert_eq!(brief(&run), expected);

    let failed = run.branches[3].unit.as_ref().unwrap();
    assert_eq!((failed.node_type, failed.argo_phase), (NodeType::Retry, NodePhase::Failed));
    assert_eq!((failed.started, failed.finished), (ts("2020-08-14T03:47:29Z"), ts("2020-08-14T03:49:42Z")));
    let attempts: Vec<_> = failed
        .attempts
        .iter()
        .map(|a| (a.number, a.node_id.as_str(), a.state, a.exit_code, a.message.as_deref(), a.pod_name.as_deref()))
        .collect();
    assert_eq!(
        attempts,
        vec![
            (
                1,
                "reproduce-bug-9tpfr-2008331609",
                State::Failed,
                Some(1),
                Some("failed with exit code 1"),
                Some("reproduce-bug-9tpfr-process-tasks-2008331609")
            ),
            (
                2,
                "reproduce-bug-9tpfr-2612472988",
                State::Failed,
                Some(1),
                Some("failed with exit code 1"),
                Some("reproduce-bug-9tpfr-process-tasks-2612472988")
            ),
            (
                3,
                "reproduce-bug-9tpfr-4222579959",
                State::Failed,
                Some(1),
                Some("failed with exit code 1"),
                Some("reproduce-bug-9tpfr-process-tasks-4222579959")
            ),
        ]
    );
    assert_eq!(failed.attempts[2].started, ts("2020-08-14T03:48:37Z"));

    let steps: Vec<_> = run
        .steps
        .iter()
        .map(|s| (s.name.as_str(), s.node_type, s.state, s.exit_code, s.attempts.len(), s.message.as_deref()))
        .collect();
    assert_eq!(
        steps,
        vec![
            ("gen-tasks", NodeType::Retry, State::Succeeded, Some(0), 1, None),
            ("finish", NodeType::Skipped, State::Omitted, None, 0, Some("omitted: depends condition not met")),
        ]
    );
    assert_eq!(State::Omitted.run_phase(), None);
    assert_eq!(State::Failed.run_phase(), Some(crate::lifecycle::run::Phase::Failed));
}

// ---------------------------------------------------------------------------------------------
// Compressed and offloaded status

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn zstd(bytes: &[u8]) -> Vec<u8> {
    ruzstd::encoding::compress_to_vec(bytes, ruzstd::encoding::CompressionLevel::Fastest)
}

fn brotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut input = bytes;
    brotli::BrotliCompress(&mut input, &mut out, &brotli::enc::BrotliEncoderParams::default()).unwrap();
    out
}

/// The workflow with its nodes moved into `compressedNodes` as Argo's packer does.
fn compressed(workflow: &Value, compress: fn(&[u8]) -> Vec<u8>) -> Value {
    let mut wf = workflow.clone();
    let nodes = wf["status"].as_object_mut().unwrap().remove("nodes").unwrap();
    let json = serde_json::to_vec(&nodes).unwrap();
    wf["status"]["compressedNodes"] = Value::String(base64::engine::general_purpose::STANDARD.encode(compress(&json)));
    wf
}

#[test]
fn compressed_fixtures_map_exactly_like_plain_ones_with_every_codec() {
    for text in [SEMAPHORE, MANY_ITEMS, ARTIFACT, DAG] {
        let plain = fixture(text);
        let expected = map(&plain);
        for (codec, compress, magic) in [
            (NodesEncoding::Gzip, gzip as fn(&[u8]) -> Vec<u8>, &[0x1f, 0x8b][..]),
            (NodesEncoding::Zstd, zstd, &[0x28, 0xb5, 0x2f, 0xfd][..]),
            (NodesEncoding::Brotli, brotli, &[][..]),
        ] {
            let wf = compressed(&plain, compress);
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(wf["status"]["compressedNodes"].as_str().unwrap())
                .unwrap();
            assert!(bytes.starts_with(magic));
            assert_eq!(status::sniff_codec(&bytes), codec);
            let mut run = map(&wf);
            assert_eq!(run.nodes_encoding, codec, "{}", expected.name);
            run.nodes_encoding = NodesEncoding::Plain;
            assert_eq!(run, expected, "{} with {codec}", expected.name);
        }
    }
}

#[test]
fn concatenated_zstd_frames_and_gzip_members_read_whole() {
    let json = serde_json::to_vec(&fixture(DAG)["status"]["nodes"]).unwrap();
    let (a, b) = json.split_at(json.len() / 3);
    for (codec, bytes) in
        [(NodesEncoding::Zstd, [zstd(a), zstd(b)].concat()), (NodesEncoding::Gzip, [gzip(a), gzip(b)].concat())]
    {
        let text = base64::engine::general_purpose::STANDARD.encode(&bytes);
        let (out, found) = status::decompress_nodes(&text).unwrap();
        assert_eq!((found, out.len()), (codec, json.len()));
        assert!(out == json, "{codec}");
    }
}

#[test]
fn plain_nodes_win_over_compressed_ones() {
    let mut wf = fixture(SEMAPHORE);
    wf["status"]["compressedNodes"] = json!("not even base64 !!!");
    assert_eq!(decode_nodes(&wf).unwrap().encoding, NodesEncoding::Plain);
}

#[test]
fn an_offloaded_status_is_a_clear_error() {
    let mut wf = fixture(MANY_ITEMS);
    wf["status"].as_object_mut().unwrap().remove("nodes");
    wf["status"]["offloadNodeStatusVersion"] = json!("fnv:1234567890");
    let expected = "workflow argo/many-items-z26lj: its node status is offloaded to the Argo server's database \
         (status.offloadNodeStatusVersion \"fnv:1234567890\", status.nodes and status.compressedNodes empty); \
         tlc reads Workflows from Kubernetes and cannot read offloaded nodes without the Argo server \
         (nor can the argo CLI in Kubernetes mode: argoproj/argo-workflows#11165)";
    assert_eq!(WorkflowRun::from_value(&wf).unwrap_err().to_string(), expected);
    assert_eq!(decode_nodes(&wf).unwrap_err().to_string(), expected);
    let e = WorkflowRun::from_value(&wf).unwrap_err();
    assert_eq!(e.problem, StatusProblem::Offloaded { version: "fnv:1234567890".into() });

    wf["status"]["phase"] = json!("Failed");
    assert_eq!(actions::retry(&wf, now()).unwrap_err().to_string(), format!("cannot retry: {expected}"));
}

fn with_compressed_bytes(bytes: &[u8]) -> Value {
    let mut wf = fixture(SEMAPHORE);
    wf["status"].as_object_mut().unwrap().remove("nodes");
    wf["status"]["compressedNodes"] = json!(base64::engine::general_purpose::STANDARD.encode(bytes));
    wf
}

fn problem(wf: &Value) -> (StatusProblem, String) {
    let e = WorkflowRun::from_value(wf).unwrap_err();
    assert_eq!(e.workflow, "default/semaphore-tmpl-level-xjvln");
    (e.problem.clone(), e.to_string())
}

#[test]
fn malformed_statuses_give_named_errors() {
    // Not base64.
    let mut wf = fixture(SEMAPHORE);
    wf["status"].as_object_mut().unwrap().remove("nodes");
    wf["status"]["compressedNodes"] = json!("%%%");
    let (p, text) = problem(&wf);
    assert!(matches!(p, StatusProblem::Base64(_)), "{p:?}");
    assert!(
        text.starts_with("workflow default/semaphore-tmpl-level-xjvln: status.compressedNodes is not valid base64: "),
        "{text}"
    );

    // Magic bytes, then garbage: each codec says it could not decompress.
    for (bytes, codec) in [
        (vec![0x1f, 0x8b, 0x08, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9], NodesEncoding::Gzip),
        (vec![0x28, 0xb5, 0x2f, 0xfd, 0xff, 0xff, 0xff, 0xff, 1, 2, 3], NodesEncoding::Zstd),
        (b"plain text is not brotli".to_vec(), NodesEncoding::Brotli),
    ] {
        let (p, text) = problem(&with_compressed_bytes(&bytes));
        assert!(matches!(p, StatusProblem::Decompress { codec: c, .. } if c == codec), "{p:?}");
        assert!(
            text.starts_with(&format!(
                "workflow default/semaphore-tmpl-level-xjvln: status.compressedNodes ({codec}, told by its first bytes) does not decompress: "
            )),
            "{text}"
        );
    }
    // Truncated gzip.
    let whole = gzip(br#"{"a":{"id":"a"}}"#);
    let (p, _) = problem(&with_compressed_bytes(&whole[..whole.len() - 6]));
    assert!(matches!(p, StatusProblem::Decompress { codec: NodesEncoding::Gzip, .. }), "{p:?}");

    // Decompresses, but not to a node map.
    let (p, text) = problem(&with_compressed_bytes(&gzip(b"[1, 2, 3]")));
    assert!(matches!(p, StatusProblem::NotANodeMap { .. }), "{p:?}");
    assert!(
        text.starts_with(
            "workflow default/semaphore-tmpl-level-xjvln: status.compressedNodes (gzip) is not a JSON map of nodes: "
        ),
        "{text}"
    );
    let (p, _) = problem(&with_compressed_bytes(&zstd(b"{not json")));
    assert!(
        matches!(&p, StatusProblem::NotANodeMap { field, .. } if field == "status.compressedNodes (zstd)"),
        "{p:?}"
    );

    // One bad node among good ones: named by its id.
    let (p, text) = problem(&with_compressed_bytes(&brotli(
        br#"{"good": {"id": "good", "phase": "Running"}, "bad": {"id": "bad", "startedAt": "yesterday"}}"#,
    )));
    assert!(matches!(&p, StatusProblem::BadNode { id, .. } if id == "bad"), "{p:?}");
    assert!(
        text.starts_with(
            r#"workflow default/semaphore-tmpl-level-xjvln: status.compressedNodes (brotli)["bad"] is not a node: "#
        ),
        "{text}"
    );

    // Plain nodes of the wrong shape.
    let mut wf = fixture(SEMAPHORE);
    wf["status"]["nodes"]["semaphore-tmpl-level-xjvln-5807216"]["children"] = json!("not a list");
    let (p, text) = problem(&wf);
    assert!(
        matches!(&p, StatusProblem::BadNode { field, id, .. } if field == "status.nodes" && id == "semaphore-tmpl-level-xjvln-5807216"),
        "{p:?}"
    );
    assert!(text.contains(r#"status.nodes["semaphore-tmpl-level-xjvln-5807216"] is not a node: "#), "{text}");
    let mut wf = fixture(SEMAPHORE);
    wf["status"]["nodes"] = json!([1]);
    assert_eq!(
        problem(&wf).1,
        "workflow default/semaphore-tmpl-level-xjvln: status.nodes is not a JSON map of nodes: not a JSON object"
    );
    let mut wf = fixture(SEMAPHORE);
    wf["status"] = json!("Running");
    assert_eq!(problem(&wf).1, "workflow default/semaphore-tmpl-level-xjvln: status is not an object");
    let mut wf = fixture(SEMAPHORE);
    wf["status"]["compressedNodes"] = json!(7);
    wf["status"].as_object_mut().unwrap().remove("nodes");
    assert_eq!(problem(&wf).1, "workflow default/semaphore-tmpl-level-xjvln: status.compressedNodes is not a string");
}

#[test]
fn unknown_fields_are_ignored_and_missing_or_null_ones_default() {
    let mut wf = fixture(SEMAPHORE);
    let node = &mut wf["status"]["nodes"]["semaphore-tmpl-level-xjvln-3448864205"];
    node["someFutureField"] = json!({"nested": [1, 2]});
    node["message"] = Value::Null;
    node["type"] = json!("Teleport");
    node.as_object_mut().unwrap().remove("hostNodeName");
    let nodes = decode_nodes(&wf).unwrap().nodes;
    let n = &nodes["semaphore-tmpl-level-xjvln-3448864205"];
    assert_eq!((&*n.message, n.node_type, &*n.host_node_name), ("", NodeType::Unknown, ""));
    assert_eq!(n.input("seconds"), Some("1"));
    // Numbers where Argo has AnyString read as text.
    let value = json!({"outputs": {"exitCode": 3, "parameters": [{"name": "n", "value": 5}]}});
    let n: status::Node<'_> = serde::Deserialize::deserialize(&value).unwrap();
    assert_eq!((n.exit_code(), n.output("n")), (Some(3), Some("5")));
}

#[test]
fn a_workflow_without_status_has_not_started() {
    let wf = json!({"metadata": {"name": "w", "namespace": "argo"}, "spec": {"workflowTemplateRef": {"name": "tenant-lifecycle"}}});
    let run = map(&wf);
    assert_eq!(
        (run.stage, run.phase, run.template.as_deref()),
        (Stage::NotStarted, WorkflowPhase::Unknown, Some("tenant-lifecycle"))
    );
    assert!(run.branches.is_empty() && run.steps.is_empty());
}

// ---------------------------------------------------------------------------------------------
// Workflows of tlc's template

const WF: &str = "tenant-lifecycle-7xk2p";
const BATCH: &str = "019a0000-0000-7000-8000-0000000000b1";
const JOBS: &str = r#"[{"name":"billing-account","namespace":"billing"},{"name":"crm-sync","namespace":"crm"},{"name":"search-index","namespace":"search"}]"#;

fn now() -> Timestamp {
    "2026-11-21T12:00:00Z".parse().unwrap()
}

/// Builds a status node by node, with Argo's ids and names.
struct Status {
    nodes: Map<String, Value>,
}

impl Status {
    fn new(root_phase: &str) -> Self {
        let mut s = Status { nodes: Map::new() };
        s.add(WF, WF, "Steps", root_phase, "lifecycle", None, json!({"startedAt": "2026-11-21T10:00:00Z"}));
        s
    }

    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        name: &str,
        display: &str,
        kind: &str,
        phase: &str,
        template: &str,
        parent: Option<&str>,
        extra: Value,
    ) -> String {
        let id = node_id(WF, name);
        let mut node = json!({"id": id, "name": name, "displayName": display, "type": kind, "phase": phase,
            "templateName": template, "templateScope": format!("local/{WF}")});
        if name != WF {
            node["boundaryID"] = json!(WF);
        }
        for (k, v) in extra.as_object().unwrap() {
            node[k] = v.clone();
        }
        self.nodes.insert(id.clone(), node);
        if let Some(parent) = parent {
            let children = self.nodes[parent].as_object_mut().unwrap().entry("children").or_insert(json!([]));
            children.as_array_mut().unwrap().push(json!(id));
        }
        id
    }

    /// `[0]` and the discovery Retry node with its one attempt; returns the attempt's id.
    fn discovery(&mut self, phase: &str, exit: &str, jobs: Option<&str>, message: Option<&str>) -> String {
        let sg = self.add(&format!("{WF}[0]"), "[0]", "StepGroup", phase, "lifecycle", Some(WF), json!({}));
        let mut outputs = json!({"exitCode": exit});
        if let Some(jobs) = jobs {
            outputs["parameters"] =
                json!([{"name": "jobs", "value": jobs}, {"name": "batch", "value": format!("{BATCH}\n")}]);
        }
        let mut extra =
            json!({"outputs": outputs, "startedAt": "2026-11-21T10:00:00Z", "finishedAt": "2026-11-21T10:00:09Z"});
        if let Some(m) = message {
            extra["message"] = json!(m);
        }
        let retry =
            self.add(&format!("{WF}[0].discovery"), "discovery", "Retry", phase, "discover", Some(&sg), extra.clone());
        extra["nodeFlag"] = json!({"retried": true});
        extra["hostNodeName"] = json!("node-a");
        self.add(&format!("{WF}[0].discovery(0)"), "discovery(0)", "Pod", phase, "discover", Some(&retry), extra)
    }

    /// One bridge item (a Retry node) under `sg`, with attempts `(phase, exit code, message)`.
    fn bridge(
        &mut self,
        sg: &str,
        index: usize,
        job: &JobRef,
        phase: &str,
        attempts: &[(&str, Option<&str>, Option<&str>)],
    ) -> String {
        let display = format!("bridge({index}:{})", Item::job_description(job));
        let name = format!("{WF}[1].{display}");
        let mut extra = json!({"inputs": {"parameters": [{"name": "job", "value": job.to_string()}, {"name": "batch", "value": BATCH}]},
            "startedAt": "2026-11-21T10:00:10Z"});
        if let Some((last_phase, exit, message)) = attempts.last().copied()
            && matches!(last_phase, "Succeeded" | "Failed" | "Error")
        {
            extra["finishedAt"] = json!("2026-11-21T10:05:00Z");
            if let Some(exit) = exit {
                extra["outputs"] = json!({"exitCode": exit});
            }
            if let (Some(m), "Failed" | "Error") = (message, phase) {
                extra["message"] = json!(m);
            }
        }
        let retry = self.add(&name, &display, "Retry", phase, "bridge", Some(sg), extra);
        for (k, (phase, exit, message)) in attempts.iter().enumerate() {
            let mut extra = json!({"nodeFlag": {"retried": true}, "hostNodeName": "node-b",
                "startedAt": format!("2026-11-21T10:0{}:10Z", k + 1)});
            if let Some(exit) = exit {
                extra["outputs"] = json!({"exitCode": exit});
            }
            if let Some(m) = message {
                extra["message"] = json!(m);
            }
            if matches!(*phase, "Succeeded" | "Failed" | "Error") {
                extra["finishedAt"] = json!(format!("2026-11-21T10:0{}:50Z", k + 1));
            }
            self.add(&format!("{name}({k})"), &format!("{display}({k})"), "Pod", phase, "bridge", Some(&retry), extra);
        }
        retry
    }

    fn workflow(self, phase: &str) -> Value {
        json!({
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Workflow",
            "metadata": {
                "name": WF, "namespace": "argo", "uid": "5f0c1c5e-0000-4000-8000-000000000001", "resourceVersion": "4242",
                "labels": {"app.kubernetes.io/managed-by": "tlc", "tlc.dev/engine": "argo", "tlc.dev/template": "tenant-lifecycle",
                    "tlc.dev/operation": "lifecycle.upsert", "tlc.dev/batch-id": "", "workflows.argoproj.io/phase": phase},
                "annotations": {"tlc.dev/tenant": "globex-prod", "workflows.argoproj.io/pod-name-format": "v2"}
            },
            "spec": {
                "workflowTemplateRef": {"name": "tenant-lifecycle"},
                "arguments": {"parameters": [{"name": "tenant", "value": "globex-prod"}, {"name": "operation", "value": "lifecycle.upsert"}]}
            },
            "status": {
                "phase": phase,
                "startedAt": "2026-11-21T10:00:00Z",
                "progress": "1/4",
                "nodes": Value::Object(self.nodes),
                "storedWorkflowTemplateSpec": {"arguments": {"parameters": [
                    {"name": "tenant"}, {"name": "operation"}, {"name": "batch", "value": ""}, {"name": "changeset", "value": ""},
                    {"name": "jobs", "value": ""}, {"name": "migration", "value": "019a0000-0000-7000-8000-00000000000a"},
                    {"name": "migration-target", "value": "us-east"}]}}
            }
        })
    }
}

fn jobs() -> [JobRef; 3] {
    [JobRef::new("billing", "billing-account"), JobRef::new("crm", "crm-sync"), JobRef::new("search", "search-index")]
}

/// Discovery found three Jobs; billing succeeded, crm failed with exit 3, search's first attempt
/// hit an infrastructure error and its second is running.
fn fanned_out() -> Value {
    let [billing, crm, search] = jobs();
    let mut s = Status::new("Running");
    let disc0 = s.discovery("Succeeded", "0", Some(JOBS), None);
    let sg = s.add(&format!("{WF}[1]"), "[1]", "StepGroup", "Running", "lifecycle", Some(&disc0), json!({}));
    s.bridge(&sg, 0, &billing, "Succeeded", &[("Succeeded", Some("0"), None)]);
    s.bridge(&sg, 1, &crm, "Failed", &[("Failed", Some("3"), Some("main: Error (exit code 3)"))]);
    s.bridge(&sg, 2, &search, "Running", &[("Error", None, Some("pod deleted")), ("Running", None, None)]);
    s.workflow("Running")
}

#[test]
fn tlc_workflow_maps_discovery_branches_and_attempts() {
    let run = map(&fanned_out());
    assert_eq!(run.template.as_deref(), Some("tenant-lifecycle"));
    assert_eq!(run.phase, WorkflowPhase::Running);
    assert_eq!(run.stage, Stage::FannedOut);
    assert_eq!(run.progress, Some(super::mapping::Progress { done: 1, total: 4 }));
    assert_eq!(run.parameters.tenant.as_deref(), Some("globex-prod"));
    assert_eq!(run.parameters.operation.as_deref(), Some("lifecycle.upsert"));
    assert_eq!(run.parameters.batch, None, "empty reads as none");
    assert_eq!(
        run.parameters.migration.as_deref(),
        Some("019a0000-0000-7000-8000-00000000000a"),
        "from the stored template"
    );
    assert_eq!(run.parameters.migration_target.as_deref(), Some("us-east"));
    let batch = run.batch_id.as_ref().unwrap();
    assert_eq!((batch.id.as_str(), batch.source), (BATCH, BatchIdSource::Discovery), "the label is empty");

    let d = run.discovery.as_ref().unwrap();
    assert_eq!((d.unit.state, d.unit.exit_code, d.unit.attempts.len()), (State::Succeeded, Some(0), 1));
    assert_eq!(d.jobs.as_deref(), Some(&jobs()[..]));
    assert_eq!((d.jobs_problem.as_deref(), d.batch.as_deref()), (None, Some(BATCH)));
    assert!(run.steps.is_empty(), "{:?}", run.steps);

    assert_eq!(
        brief(&run),
        vec![
            ("billing/billing-account".into(), State::Succeeded, Some(0), 1, None),
            ("crm/crm-sync".into(), State::Failed, Some(3), 1, Some("main: Error (exit code 3)".into())),
            ("search/search-index".into(), State::Running, None, 2, None),
        ]
    );
    let search = run.branch(&jobs()[2]).unwrap();
    let attempts: Vec<_> = search
        .attempts()
        .iter()
        .map(|a| (a.number, a.state, a.argo_phase, a.message.as_deref(), a.pod_name.clone()))
        .collect();
    let attempt_name = |k: usize| format!("{WF}[1].bridge(2:name:search-index,namespace:search)({k})");
    assert_eq!(
        attempts,
        vec![
            (
                1,
                State::Failed,
                NodePhase::Error,
                Some("pod deleted"),
                Some(format!("{WF}-bridge-{}", fnv32a(&attempt_name(0))))
            ),
            (2, State::Running, NodePhase::Running, None, Some(format!("{WF}-bridge-{}", fnv32a(&attempt_name(1))))),
        ]
    );
    assert_eq!(search.attempts()[1].finished, None);
    assert_eq!(run.counts().get(&State::Failed), Some(&1));

    // With pod names v1 the pods are the attempts' node ids.
    let mut wf = fanned_out();
    wf["metadata"]["annotations"]["workflows.argoproj.io/pod-name-format"] = json!("v1");
    let run = map(&wf);
    let a = &run.branch(&jobs()[2]).unwrap().attempts()[0];
    assert_eq!(a.pod_name.as_deref(), Some(node_id(WF, &attempt_name(0)).as_str()));

    // The label wins once set.
    let mut wf = fanned_out();
    wf["metadata"]["labels"]["tlc.dev/batch-id"] = json!("019a0000-0000-7000-8000-0000000000ff");
    assert_eq!(map(&wf).batch_id.unwrap().source, BatchIdSource::Label);
}

#[test]
fn a_dynamic_object_maps_like_its_json() {
    let wf = fanned_out();
    let object: kube::api::DynamicObject = serde_json::from_value(wf.clone()).unwrap();
    assert_eq!(WorkflowRun::from_dynamic(&object).unwrap(), map(&wf));
}

#[test]
fn jobs_discovery_listed_without_nodes_yet_are_pending_branches() {
    let [billing, ..] = jobs();
    let mut s = Status::new("Running");
    let disc0 = s.discovery("Succeeded", "0", Some(JOBS), None);
    let sg = s.add(&format!("{WF}[1]"), "[1]", "StepGroup", "Running", "lifecycle", Some(&disc0), json!({}));
    s.bridge(&sg, 0, &billing, "Running", &[("Running", None, None)]);
    let run = map(&s.workflow("Running"));
    assert_eq!(
        brief(&run),
        vec![
            ("billing/billing-account".into(), State::Running, None, 1, None),
            ("crm/crm-sync".into(), State::Pending, None, 0, None),
            ("search/search-index".into(), State::Pending, None, 0, None),
        ]
    );
    assert!(run.branches[1].unit.is_none());
    assert_eq!(run.branches[2].item.to_string(), "bridge(2:name:search-index,namespace:search)");
}

#[test]
fn a_failed_discovery_says_so() {
    let mut s = Status::new("Failed");
    s.discovery("Failed", "2", None, Some("main: Error (exit code 2)"));
    let mut wf = s.workflow("Failed");
    wf["status"]["message"] = json!("child 'tenant-lifecycle-7xk2p-1' failed");
    let run = map(&wf);
    assert_eq!(run.stage, Stage::DiscoveryFailed);
    assert_eq!(run.message.as_deref(), Some("child 'tenant-lifecycle-7xk2p-1' failed"));
    let d = run.discovery.unwrap();
    assert_eq!(
        (d.unit.state, d.unit.exit_code, d.unit.message.as_deref()),
        (State::Failed, Some(2), Some("main: Error (exit code 2)"))
    );
    assert_eq!((d.jobs, d.batch), (None, None));
    assert!(run.branches.is_empty());
    assert_eq!(run.batch_id, None);
}

#[test]
fn a_running_discovery_is_discovering() {
    let mut s = Status::new("Running");
    s.discovery("Running", "", None, None);
    assert_eq!(map(&s.workflow("Running")).stage, Stage::Discovering);
}

#[test]
fn discovery_that_found_nothing_is_nothing_to_run() {
    let mut s = Status::new("Succeeded");
    let disc0 = s.discovery("Succeeded", "0", Some("[]"), None);
    let sg = s.add(&format!("{WF}[1]"), "[1]", "StepGroup", "Succeeded", "lifecycle", Some(&disc0), json!({}));
    s.add(
        &format!("{WF}[1].bridge"),
        "bridge",
        "Skipped",
        "Skipped",
        "bridge",
        Some(&sg),
        json!({"message": "Skipped, empty params"}),
    );
    let run = map(&s.workflow("Succeeded"));
    assert_eq!(run.stage, Stage::NothingToRun { message: "Skipped, empty params".into() });
    assert_eq!(run.discovery.as_ref().unwrap().jobs.as_deref(), Some(&[][..]));
    assert!(run.branches.is_empty());
    assert!(run.steps.is_empty(), "the skipped fan-out is the stage, not a step: {:?}", run.steps);

    // Without the skipped node (yet), the empty list says it.
    let mut s = Status::new("Running");
    s.discovery("Succeeded", "0", Some("[]"), None);
    assert_eq!(
        map(&s.workflow("Running")).stage,
        Stage::NothingToRun { message: "discovery found no lifecycle Job to run".into() }
    );

    // An unreadable list is said too.
    let mut s = Status::new("Running");
    s.discovery("Succeeded", "0", Some("jobs: a, b"), None);
    let run = map(&s.workflow("Running"));
    assert_eq!(run.stage, Stage::AwaitingFanOut);
    assert!(run.discovery.unwrap().jobs_problem.unwrap().starts_with("discovery's jobs output is not a list"));
}

// ---------------------------------------------------------------------------------------------
// Stop, terminate, suspend, resume

#[test]
fn stop_and_terminate_are_merge_patches_refused_on_completed_workflows() {
    let running = fixture(SEMAPHORE);
    assert_eq!(actions::stop_patch(&running).unwrap(), json!({"spec": {"shutdown": "Stop"}}));
    assert_eq!(actions::terminate_patch(&running).unwrap(), json!({"spec": {"shutdown": "Terminate"}}));
    let done = fixture(MANY_ITEMS);
    let expected = r#"cannot shutdown a completed workflow: workflow: "many-items-z26lj", namespace: "argo""#;
    assert_eq!(actions::stop_patch(&done).unwrap_err().to_string(), expected);
    assert_eq!(actions::terminate_patch(&done).unwrap_err().to_string(), expected);
    assert_eq!(
        actions::shutdown_patch(&done, Shutdown::Stop).unwrap_err(),
        ActionError::CompletedShutdown { name: "many-items-z26lj".into(), namespace: "argo".into() }
    );
    // A stop already asked for shows.
    let mut wf = fanned_out();
    wf["spec"]["shutdown"] = json!("Stop");
    assert_eq!(map(&wf).shutdown, Some(Shutdown::Stop));
}

#[test]
fn suspend_and_resume() {
    assert_eq!(actions::suspend_patch(&fixture(SEMAPHORE)).unwrap(), json!({"spec": {"suspend": true}}));
    assert_eq!(
        actions::suspend_patch(&fixture(MANY_ITEMS)).unwrap_err().to_string(),
        "cannot suspend completed workflows"
    );
    assert_eq!(actions::resume_patch(), json!({"spec": {"suspend": null}}));
    let mut wf = fanned_out();
    wf["spec"]["suspend"] = json!(true);
    assert!(map(&wf).suspended);
}

// ---------------------------------------------------------------------------------------------
// Retry

#[test]
fn retry_is_refused_unless_failed_or_error() {
    assert_eq!(
        actions::retry(&fixture(SEMAPHORE), now()).unwrap_err().to_string(),
        "Cannot retry a workflow in phase Running"
    );
    assert_eq!(
        actions::retry(&fanned_out(), now()).unwrap_err().to_string(),
        "Cannot retry a workflow in phase Running"
    );
    assert_eq!(
        actions::retry(&fixture(MANY_ITEMS), now()).unwrap_err().to_string(),
        "To retry a succeeded workflow, set the options restartSuccessful and nodeFieldSelector"
    );
    let mut wf = fanned_out();
    wf["status"]["phase"] = json!("Pending");
    assert_eq!(actions::retry(&wf, now()).unwrap_err().to_string(), "Cannot retry a workflow in phase Pending");
}

#[test]
fn retry_of_the_dag_fixture_deletes_the_failed_attempts_and_resets_their_way_up() {
    // Stored as Running; upstream's TestFailsWithParamDAG shows one reconcile makes it Failed.
    let mut wf = fixture(DAG);
    wf["status"]["phase"] = json!("Failed");
    let plan = actions::retry(&wf, now()).unwrap();
    // The last failed attempt lists the omitted `finish` as its child: it goes too, and runs again.
    assert_eq!(
        plan.deleted_nodes,
        [
            "reproduce-bug-9tpfr-2008331609",
            "reproduce-bug-9tpfr-247809182",
            "reproduce-bug-9tpfr-2612472988",
            "reproduce-bug-9tpfr-4222579959"
        ]
    );
    assert_eq!(
        plan.reset_nodes,
        ["reproduce-bug-9tpfr", "reproduce-bug-9tpfr-1670762753", "reproduce-bug-9tpfr-3505932898"]
    );
    assert_eq!(
        plan.pods_to_delete,
        [
            "reproduce-bug-9tpfr-process-tasks-2008331609",
            "reproduce-bug-9tpfr-process-tasks-2612472988",
            "reproduce-bug-9tpfr-process-tasks-4222579959"
        ]
    );
    assert_eq!(plan.rerun.len(), 1);
    assert_eq!((plan.rerun[0].item.to_string(), plan.rerun[0].job.clone()), ("process-tasks(3:3)".to_string(), None));
    assert!(!plan.discovery_reruns);

    let nodes = plan.workflow["status"]["nodes"].as_object().unwrap();
    assert_eq!(nodes.len(), wf["status"]["nodes"].as_object().unwrap().len() - 4);
    let retry = &nodes["reproduce-bug-9tpfr-3505932898"];
    assert_eq!(retry["phase"], "Running");
    assert_eq!((retry.get("message"), retry.get("children")), (None, None));
    assert_eq!((&retry["startedAt"], &retry["finishedAt"]), (&json!("2026-11-21T12:00:00Z"), &Value::Null));
    assert_eq!(nodes["reproduce-bug-9tpfr-1670762753"]["phase"], "Running");
    assert_eq!(nodes["reproduce-bug-9tpfr"]["phase"], "Running");
    // Everything else is as it was, but for children that were deleted.
    for id in ["reproduce-bug-9tpfr-2788826366", "reproduce-bug-9tpfr-1525049382", "reproduce-bug-9tpfr-3595395365"] {
        assert_eq!(nodes[id], wf["status"]["nodes"][id], "{id}");
    }
    let status = &plan.workflow["status"];
    assert_eq!(
        (&status["phase"], &status["startedAt"], &status["finishedAt"]),
        (&json!("Running"), &json!("2026-11-21T12:00:00Z"), &Value::Null)
    );
    assert_eq!(status["conditions"], json!([{"type": "Completed", "status": "False"}]));
    assert_eq!(plan.workflow["metadata"]["labels"], json!({"workflows.argoproj.io/phase": "Running"}));
    // Succeeded attempts no longer point at the deleted `finish`.
    assert_eq!(nodes["reproduce-bug-9tpfr-3662458541"].get("children"), None);
    assert_eq!(
        wf["status"]["nodes"]["reproduce-bug-9tpfr-3662458541"]["children"],
        json!(["reproduce-bug-9tpfr-247809182"])
    );
    // The retried workflow maps to the branch running again, and `finish` to come.
    let run = map(&plan.workflow);
    assert_eq!(run.branches[3].state(), State::Running);
    assert!(run.branches[3].attempts().is_empty());
    assert_eq!(run.steps.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["gen-tasks"]);
}

/// Failed: billing succeeded, crm failed with exit 3, search's first attempt errored and its
/// second succeeded.
fn failed_batch() -> Value {
    let [billing, crm, search] = jobs();
    let mut s = Status::new("Failed");
    let disc0 = s.discovery("Succeeded", "0", Some(JOBS), None);
    let sg = s.add(
        &format!("{WF}[1]"),
        "[1]",
        "StepGroup",
        "Failed",
        "lifecycle",
        Some(&disc0),
        json!({"message": "child failed"}),
    );
    s.bridge(&sg, 0, &billing, "Succeeded", &[("Succeeded", Some("0"), None)]);
    s.bridge(&sg, 1, &crm, "Failed", &[("Failed", Some("3"), Some("main: Error (exit code 3)"))]);
    s.bridge(&sg, 2, &search, "Succeeded", &[("Error", None, Some("pod deleted")), ("Succeeded", Some("0"), None)]);
    let mut wf = s.workflow("Failed");
    wf["metadata"]["labels"]["workflows.argoproj.io/completed"] = json!("true");
    wf["status"]["finishedAt"] = json!("2026-11-21T10:06:00Z");
    wf["status"]["message"] = json!("child 'x' failed");
    wf["status"]["conditions"] =
        json!([{"type": "PodRunning", "status": "False"}, {"type": "Completed", "status": "True"}]);
    wf["spec"]["shutdown"] = json!("Stop");
    wf
}

#[test]
fn retry_of_a_tlc_batch_reruns_the_failed_branch_only() {
    let wf = failed_batch();
    let plan = actions::retry(&wf, now()).unwrap();
    let crm_retry = format!("{WF}[1].bridge(1:name:crm-sync,namespace:crm)");
    let crm_attempt = format!("{crm_retry}(0)");
    assert_eq!(plan.deleted_nodes, [node_id(WF, &crm_attempt)]);
    let mut reset = vec![WF.to_string(), node_id(WF, &format!("{WF}[1]")), node_id(WF, &crm_retry)];
    reset.sort();
    assert_eq!(plan.reset_nodes, reset);
    assert_eq!(plan.pods_to_delete, [format!("{WF}-bridge-{}", fnv32a(&crm_attempt))]);
    let rerun: Vec<_> = plan.rerun.iter().map(|r| r.job.clone().unwrap()).collect();
    assert_eq!(rerun, [JobRef::new("crm", "crm-sync")]);
    assert!(!plan.discovery_reruns);

    let new = &plan.workflow;
    assert_eq!(new["metadata"]["labels"].get("workflows.argoproj.io/completed"), None);
    assert_eq!(new["metadata"]["labels"]["workflows.argoproj.io/phase"], "Running");
    assert_eq!(new["metadata"]["labels"]["tlc.dev/template"], "tenant-lifecycle", "other labels stay");
    assert_eq!(new["metadata"]["resourceVersion"], "4242", "a plain update, with optimistic concurrency");
    assert_eq!(new["spec"].get("shutdown"), None);
    assert_eq!(new["status"]["phase"], "Running");
    assert_eq!(new["status"].get("message"), None);
    assert_eq!(new["status"]["finishedAt"], Value::Null);
    assert_eq!(
        new["status"]["conditions"],
        json!([{"type": "PodRunning", "status": "False"}, {"type": "Completed", "status": "False"}])
    );
    let nodes = new["status"]["nodes"].as_object().unwrap();
    let crm = &nodes[&node_id(WF, &crm_retry)];
    assert_eq!((crm["phase"].as_str(), crm.get("message"), crm.get("children")), (Some("Running"), None, None));
    let sg = &nodes[&node_id(WF, &format!("{WF}[1]"))];
    assert_eq!((sg["phase"].as_str(), sg.get("message")), (Some("Running"), None));
    // search's errored first attempt stays: its Retry node succeeded after it.
    let search0 = node_id(WF, &format!("{WF}[1].bridge(2:name:search-index,namespace:search)(0)"));
    assert_eq!(nodes[&search0], wf["status"]["nodes"][&search0]);

    let run = map(new);
    assert_eq!(run.phase, WorkflowPhase::Running);
    assert_eq!(
        brief(&run),
        vec![
            ("billing/billing-account".into(), State::Succeeded, Some(0), 1, None),
            ("crm/crm-sync".into(), State::Running, Some(3), 0, None),
            ("search/search-index".into(), State::Succeeded, Some(0), 2, None),
        ]
    );
}

#[test]
fn retry_lists_jobs_that_never_started_as_running_too() {
    // Discovery listed three Jobs; the workflow failed with only two item nodes made.
    let [billing, crm, _] = jobs();
    let mut s = Status::new("Failed");
    let disc0 = s.discovery("Succeeded", "0", Some(JOBS), None);
    let sg = s.add(&format!("{WF}[1]"), "[1]", "StepGroup", "Failed", "lifecycle", Some(&disc0), json!({}));
    s.bridge(&sg, 0, &billing, "Succeeded", &[("Succeeded", Some("0"), None)]);
    let crm_retry = s.bridge(&sg, 1, &crm, "Failed", &[("Failed", Some("3"), None)]);
    let plan = actions::retry(&s.workflow("Failed"), now()).unwrap();
    let rerun: Vec<_> = plan.rerun.iter().map(|r| (r.job.clone().unwrap().to_string(), r.node_id.clone())).collect();
    assert_eq!(rerun, [("crm/crm-sync".to_string(), Some(crm_retry)), ("search/search-index".to_string(), None)]);
}

#[test]
fn retry_after_a_failed_discovery_reruns_discovery() {
    let mut s = Status::new("Failed");
    s.discovery("Failed", "2", None, Some("main: Error (exit code 2)"));
    let plan = actions::retry(&s.workflow("Failed"), now()).unwrap();
    let attempt = format!("{WF}[0].discovery(0)");
    assert_eq!(plan.deleted_nodes, [node_id(WF, &attempt)]);
    let mut reset = vec![WF.to_string(), node_id(WF, &format!("{WF}[0]")), node_id(WF, &format!("{WF}[0].discovery"))];
    reset.sort();
    assert_eq!(plan.reset_nodes, reset);
    assert_eq!(plan.pods_to_delete, [format!("{WF}-discover-{}", fnv32a(&attempt))]);
    assert!(plan.discovery_reruns);
    assert!(plan.rerun.is_empty());
}

#[test]
fn retry_writes_compressed_nodes_back_with_the_same_codec() {
    let plain = failed_batch();
    let expected = actions::retry(&plain, now()).unwrap();
    for (codec, compress) in [
        (NodesEncoding::Gzip, gzip as fn(&[u8]) -> Vec<u8>),
        (NodesEncoding::Zstd, zstd),
        (NodesEncoding::Brotli, brotli),
    ] {
        let plan = actions::retry(&compressed(&plain, compress), now()).unwrap();
        assert_eq!(plan.pods_to_delete, expected.pods_to_delete, "{codec}");
        assert_eq!(plan.deleted_nodes, expected.deleted_nodes, "{codec}");
        assert_eq!(plan.rerun, expected.rerun, "{codec}");
        let status = &plan.workflow["status"];
        assert_eq!(status.get("nodes"), None, "{codec}");
        let text = status["compressedNodes"].as_str().unwrap();
        let bytes = base64::engine::general_purpose::STANDARD.decode(text).unwrap();
        assert_eq!(status::sniff_codec(&bytes), codec);
        // Decode with the codec's own reader, independently of the product's.
        let mut json = Vec::new();
        match codec {
            NodesEncoding::Gzip => {
                flate2::read::GzDecoder::new(&bytes[..]).read_to_end(&mut json).unwrap();
            }
            NodesEncoding::Zstd => {
                ruzstd::decoding::StreamingDecoder::new(&bytes[..]).unwrap().read_to_end(&mut json).unwrap();
            }
            _ => {
                brotli::Decompressor::new(&bytes[..], 4096).read_to_end(&mut json).unwrap();
            }
        }
        let nodes: Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(nodes, expected.workflow["status"]["nodes"], "{codec}");
        assert_eq!(map(&plan.workflow).nodes_encoding, codec);
    }
}

#[test]
fn retry_refuses_a_node_graph_argo_would_not_write() {
    let mut wf = failed_batch();
    let sg = node_id(WF, &format!("{WF}[1]"));
    wf["status"]["nodes"][&sg]["children"].as_array_mut().unwrap().push(json!("tenant-lifecycle-7xk2p-404"));
    assert_eq!(
        actions::retry(&wf, now()).unwrap_err().to_string(),
        format!(
            r#"cannot retry workflow argo/{WF}: node "{sg}" lists a child "tenant-lifecycle-7xk2p-404" that is not in the status"#
        )
    );
    let mut wf = failed_batch();
    wf["status"]["nodes"]["stray"] = json!({"id": "stray", "name": "stray", "phase": "Failed", "type": "Pod"});
    assert_eq!(
        actions::retry(&wf, now()).unwrap_err().to_string(),
        format!(r#"cannot retry workflow argo/{WF}: node "stray" (stray) has no parent and is not the root"#)
    );
}

#[test]
fn retry_drops_the_exit_handler_and_its_pods() {
    let mut wf = failed_batch();
    let on_exit = format!("{WF}.onExit");
    let id = node_id(WF, &on_exit);
    wf["status"]["nodes"][&id] = json!({"id": id, "name": on_exit, "displayName": on_exit, "type": "Pod", "phase": "Succeeded", "templateName": "notify"});
    let plan = actions::retry(&wf, now()).unwrap();
    assert!(plan.deleted_nodes.contains(&id));
    assert!(plan.pods_to_delete.contains(&format!("{WF}-notify-{}", fnv32a(&on_exit))));
    assert_eq!(plan.workflow["status"]["nodes"].get(&id), None);
}

// ---- The run model: a Workflow's batch and branches, beside the branch pods. ----

mod run_model {
    use super::*;
    use crate::lifecycle::run::{self, Phase, PodSnapshot, RunEvent, RunState, WorkflowSeen};

    fn seen(workflow: &Value) -> RunEvent {
        let object: kube::api::DynamicObject = serde_json::from_value(workflow.clone()).expect("a Workflow");
        RunEvent::Workflow(Box::new(WorkflowSeen::read("eu-west", &object)))
    }

    fn identity(job: &JobRef) -> crate::contract::BranchIdentity {
        crate::contract::BranchIdentity {
            batch_id: BATCH.into(),
            tenant_id: "740faf5f-42fd-4e28-9f5a-65f900eda1c0".into(),
            tenant_name: "globex-prod".into(),
            operation: "lifecycle.upsert".into(),
            job_namespace: job.namespace.clone(),
            job_name: job.name.clone(),
            attempt: 1,
            engine: Some(crate::contract::Engine::Argo),
            region: "eu-west".into(),
            migration: None,
        }
    }

    fn branch_pod(job: &JobRef, phase: &str, exit: i32) -> RunEvent {
        let id = identity(job);
        let pod: k8s_openapi::api::core::v1::Pod = serde_json::from_value(json!({
            "metadata": {"name": format!("{}-1", job.name), "namespace": job.namespace, "labels": id.labels(),
                "annotations": id.annotations(), "creationTimestamp": "2026-11-21T10:00:11Z"},
            "spec": {"containers": [{"name": "c"}]},
            "status": {"phase": phase, "containerStatuses": [{"name": "c", "image": "i", "imageID": "", "ready": false,
                "restartCount": 0, "state": {"terminated": {"exitCode": exit, "reason": "Error",
                "startedAt": "2026-11-21T10:00:12Z", "finishedAt": "2026-11-21T10:00:20Z"}}}]}
        }))
        .expect("pod");
        RunEvent::Pod(PodSnapshot::from_pod(&pod).expect("a branch pod"))
    }

    #[test]
    fn a_workflow_is_a_batch_whose_branches_its_nodes_show_until_their_pods_do() {
        let [billing, crm, search] = jobs();
        let mut state = RunState::default();
        run::update(&mut state, seen(&fanned_out()));
        let batch = &state.batches[BATCH];
        assert_eq!((batch.engine, batch.tenant_name.as_str()), (Some(crate::contract::Engine::Argo), "globex-prod"));
        assert_eq!(batch.operation, "lifecycle.upsert");
        let w = batch.workflow.as_ref().expect("its workflow");
        assert_eq!((w.name.as_str(), w.phase, w.is_final()), (WF, WorkflowPhase::Running, false));
        let phases: Vec<(String, Phase, Option<i32>)> =
            batch.branches.values().map(|b| (b.job.to_string(), b.phase(), b.exit_code())).collect();
        assert_eq!(
            phases,
            vec![
                (billing.to_string(), Phase::Succeeded, Some(0)),
                (crm.to_string(), Phase::Failed, Some(3)),
                (search.to_string(), Phase::Running, None),
            ]
        );
        assert_eq!(batch.branches[&search].node.as_ref().map(|n| n.attempts.len()), Some(2), "Argo's attempts");
        assert_eq!(batch.phase(), Phase::Running);

        // The branch pod says what the team's container did: it wins over the bridge's node.
        run::update(&mut state, branch_pod(&crm, "Failed", 7));
        let crm_branch = &state.batches[BATCH].branches[&crm];
        assert_eq!((crm_branch.phase(), crm_branch.exit_code()), (Phase::Failed, Some(7)));

        // The Workflow goes (TTL): what only it showed goes with it; what a pod shows stays.
        run::update(&mut state, RunEvent::WorkflowGone { uid: "5f0c1c5e-0000-4000-8000-000000000001".into() });
        let batch = &state.batches[BATCH];
        assert!(batch.workflow.is_none());
        assert_eq!(batch.branches.keys().cloned().collect::<Vec<_>>(), vec![crm.clone()]);
    }

    #[test]
    fn a_planned_branch_without_a_pod_ends_as_its_node_says() {
        // The Argo engine announces each planned branch (an attempt with no pod yet); a bridge
        // that fails before making the branch pod leaves only its node to say how it ended.
        let [billing, crm, search] = jobs();
        let mut state = RunState::default();
        for job in [&billing, &crm, &search] {
            run::update(&mut state, RunEvent::Planned(identity(job)));
        }
        assert_eq!(state.batches[BATCH].branches[&crm].phase(), Phase::Pending, "planned, nothing seen yet");
        run::update(&mut state, seen(&fanned_out()));
        let phases: Vec<(Phase, Option<i32>)> =
            state.batches[BATCH].branches.values().map(|b| (b.phase(), b.exit_code())).collect();
        assert_eq!(
            phases,
            vec![(Phase::Succeeded, Some(0)), (Phase::Failed, Some(3)), (Phase::Running, None)],
            "the nodes decide while no branch pod is known"
        );
        // Once its pod is seen, the pod decides.
        run::update(&mut state, branch_pod(&crm, "Failed", 7));
        assert_eq!(state.batches[BATCH].branches[&crm].exit_code(), Some(7));
    }

    #[test]
    fn each_status_replaces_the_nodes_and_keeps_what_the_pods_said() {
        let [billing, crm, search] = jobs();
        let mut state = RunState::default();
        run::update(&mut state, seen(&fanned_out()));
        run::update(&mut state, branch_pod(&crm, "Failed", 7));
        // The next status: the running branch ended, the Workflow with it.
        let mut s = Status::new("Failed");
        let disc0 = s.discovery("Succeeded", "0", Some(JOBS), None);
        let sg = s.add(&format!("{WF}[1]"), "[1]", "StepGroup", "Failed", "lifecycle", Some(&disc0), json!({}));
        s.bridge(&sg, 0, &billing, "Succeeded", &[("Succeeded", Some("0"), None)]);
        s.bridge(&sg, 1, &crm, "Failed", &[("Failed", Some("3"), Some("main: Error (exit code 3)"))]);
        s.bridge(&sg, 2, &search, "Succeeded", &[("Error", None, Some("pod deleted")), ("Succeeded", Some("0"), None)]);
        run::update(&mut state, seen(&s.workflow("Failed")));
        assert_eq!(state.batches.len(), 1);
        let batch = &state.batches[BATCH];
        assert_eq!(batch.workflow.as_ref().map(|w| w.phase), Some(WorkflowPhase::Failed));
        assert_eq!(batch.branches.len(), 3);
        let search_node = batch.branches[&search].node.as_ref().expect("its node");
        assert_eq!(
            (search_node.state, search_node.exit_code, search_node.attempts.len()),
            (State::Succeeded, Some(0), 2)
        );
        assert_eq!(search_node.attempts[1].state, State::Succeeded, "the attempts are the new status's");
        let crm_branch = &batch.branches[&crm];
        assert_eq!((crm_branch.phase(), crm_branch.exit_code()), (Phase::Failed, Some(7)), "its pod still wins");
        assert_eq!(crm_branch.attempts.len(), 1, "the pod's attempt is kept");
        assert_eq!(batch.phase(), Phase::Failed);
        assert!(batch.is_finished());
    }

    #[test]
    fn a_workflow_without_a_batch_id_yet_is_a_stand_in_that_becomes_the_batch() {
        let mut s = Status::new("Running");
        let retry = s.add(&format!("{WF}[0]"), "[0]", "StepGroup", "Running", "lifecycle", Some(WF), json!({}));
        s.add(&format!("{WF}[0].discovery"), "discovery", "Pod", "Running", "discover", Some(&retry), json!({}));
        let discovering = s.workflow("Running");
        let mut state = RunState::default();
        run::update(&mut state, seen(&discovering));
        let stand_in = format!("workflow:argo/{WF}");
        assert_eq!(state.batches.keys().cloned().collect::<Vec<_>>(), vec![stand_in.clone()]);
        let w = state.batches[&stand_in].workflow.as_ref().expect("workflow");
        assert_eq!(w.summary(), "discovering the lifecycle Jobs", "a batch with something to say");
        run::update(&mut state, seen(&fanned_out()));
        assert_eq!(state.batches.keys().cloned().collect::<Vec<_>>(), vec![BATCH.to_string()], "moved, not doubled");
        assert_eq!(state.resolve(&stand_in), BATCH, "what showed the stand-in follows it");
        assert_eq!(state.batches[BATCH].branches.len(), 3);
    }

    #[test]
    fn failed_or_empty_discovery_and_a_stop_say_what_happened() {
        let mut s = Status::new("Failed");
        s.discovery("Failed", "1", None, Some("main: Error (exit code 1)"));
        let mut failed = s.workflow("Failed");
        failed["metadata"]["labels"]["tlc.dev/batch-id"] = json!(BATCH);
        let mut state = RunState::default();
        run::update(&mut state, seen(&failed));
        let batch = &state.batches[BATCH];
        assert!(batch.branches.is_empty());
        assert_eq!(batch.phase(), Phase::Failed);
        assert!(batch.is_finished());
        let summary = batch.workflow.as_ref().map(run::WorkflowInfo::summary).unwrap_or_default();
        assert_eq!(summary, "discovery failed: main: Error (exit code 1)");

        let mut stopped = fanned_out();
        stopped["spec"]["shutdown"] = json!("Stop");
        stopped["status"]["phase"] = json!("Failed");
        let mut state = RunState::default();
        run::update(&mut state, seen(&stopped));
        let batch = &state.batches[BATCH];
        assert!(batch.branches.values().all(|b| b.node.as_ref().is_some_and(|n| n.stopped)));
        assert_eq!(batch.branches[&jobs()[1]].phase(), Phase::Failed, "it failed on its own (exit 3) before the stop");
        let node = |state: State, exit_code: Option<i32>| run::BranchNode {
            state,
            exit_code,
            message: None,
            started: None,
            finished: None,
            attempts: Vec::new(),
            stopped: true,
        };
        assert_eq!(node(State::Failed, Some(run::SIGTERM_EXIT)).phase(), Phase::Cancelled, "its bridge got SIGTERM");
        assert_eq!(node(State::Pending, None).phase(), Phase::Cancelled, "it will never run");
        assert_eq!(node(State::Skipped, None).phase(), Phase::Cancelled);
        assert_eq!(node(State::Succeeded, Some(0)).phase(), Phase::Succeeded);
    }
}

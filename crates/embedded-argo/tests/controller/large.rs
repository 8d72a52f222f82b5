//! A status above the size limit is written as `compressedNodes`, as Argo's packer does.

use embedded_argo::ControllerConfig;
use embedded_argo::status::NodePhase;

use crate::common::{nodes, start};

#[tokio::test]
async fn nodes_above_the_limit_are_compressed() {
    let env = start(0.0, ControllerConfig::default().with_max_workflow_size(20_000), Some(&|_| {})).await;
    let jobs: Vec<(String, String)> = (0..60).map(|i| ("team-a".to_string(), format!("job-{i}"))).collect();
    env.jobs(&jobs.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect::<Vec<_>>());
    env.submit("tl-big").await;
    let wf = env.wait_phase("tl-big", "Succeeded").await;
    assert!(wf["status"].get("nodes").is_none(), "nodes moved out");
    let packed = wf["status"]["compressedNodes"].as_str().expect("compressedNodes");
    assert!(!packed.is_empty());
    let all = nodes(&wf);
    assert_eq!(all.len(), 5 + 2 * 60);
    assert!(all.values().all(|n| n.phase == NodePhase::Succeeded));
    let plain = serde_json::to_vec(&all).expect("json").len();
    assert!(plain > 20_000, "uncompressed ({plain} bytes) the nodes alone are above the limit");
    assert!(serde_json::to_vec(&wf).expect("json").len() <= 20_000);
    assert!(env.controller.stats().last_compressed);
}

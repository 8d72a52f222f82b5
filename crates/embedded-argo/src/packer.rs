//! Large workflows, as `workflow/packer` handles them: when the workflow's JSON is above the size
//! limit, `status.nodes` moves into `status.compressedNodes` (base64 of gzip of the JSON map
//! id → node) and `nodes` is emptied. Readers tell the compression apart by its magic bytes; this
//! writes gzip only. A workflow still too large compressed would be offloaded to the Argo server's
//! database by a real Argo — not emulated: that is an error.

use std::collections::BTreeMap;
use std::io::{Read, Write};

use base64::Engine as _;

use crate::status::NodeStatus;

/// Argo's default `MAX_WORKFLOW_SIZE`.
pub const DEFAULT_MAX_WORKFLOW_SIZE: usize = 1024 * 1024;

/// Nodes by id, the shape of `status.nodes`.
pub type Nodes = BTreeMap<String, NodeStatus>;

/// Why nodes could not be packed or unpacked.
#[derive(Debug, thiserror::Error)]
pub enum PackError {
    /// Even compressed, the workflow is above the limit (Argo's words, then why nothing else happens).
    #[error(
        "workflow is longer than maximum allowed size. compressed size {size} > maxSize {max}Tried to offload but encountered error: offload node status is not supported (a real Argo would offload the nodes to the Argo server's database, with nodeStatusOffLoad persistence configured; the embedded Argo controller does not)"
    )]
    TooLarge {
        /// The compressed workflow's size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// The compressed text is not base64 of gzip of a node map.
    #[error("cannot decompress status.compressedNodes: {0}")]
    Corrupt(String),
    /// The nodes could not be encoded (does not happen with well-formed nodes).
    #[error("cannot encode nodes: {0}")]
    Encode(String),
}

/// base64(gzip(text)), as `file.CompressEncodeString`.
pub fn compress_encode(text: &[u8]) -> Result<String, PackError> {
    // Gzip at its fast level: the format readers see is the same (magic bytes 1f 8b).
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(text).map_err(|e| PackError::Encode(e.to_string()))?;
    let bytes = gz.finish().map_err(|e| PackError::Encode(e.to_string()))?;
    Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// The inverse of [`compress_encode`]; refuses zstd and brotli (which Argo v4.1 may write) by name.
pub fn decode_decompress(text: &str) -> Result<Vec<u8>, PackError> {
    let bytes =
        base64::engine::general_purpose::STANDARD.decode(text.trim()).map_err(|e| PackError::Corrupt(e.to_string()))?;
    match bytes.get(..4) {
        Some([0x1f, 0x8b, ..]) => {}
        Some([0x28, 0xb5, 0x2f, 0xfd]) => {
            return Err(PackError::Corrupt("zstd-compressed nodes are not supported here (gzip only)".into()));
        }
        _ => return Err(PackError::Corrupt("not gzip (brotli-compressed nodes are not supported here)".into())),
    }
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(&bytes[..]).read_to_end(&mut out).map_err(|e| PackError::Corrupt(e.to_string()))?;
    Ok(out)
}

/// Reads the nodes of a status: `nodes`, or `compressedNodes` when `nodes` is empty.
pub fn hydrate(status: &serde_json::Value) -> Result<Nodes, PackError> {
    if let Some(nodes) = status.get("nodes").and_then(serde_json::Value::as_object)
        && !nodes.is_empty()
    {
        let mut out = Nodes::new();
        for (id, node) in nodes {
            let node: NodeStatus =
                serde_json::from_value(node.clone()).map_err(|e| PackError::Corrupt(format!("node {id}: {e}")))?;
            out.insert(id.clone(), node);
        }
        return Ok(out);
    }
    match status.get("compressedNodes").and_then(serde_json::Value::as_str) {
        Some(text) if !text.is_empty() => {
            let json = decode_decompress(text)?;
            serde_json::from_slice(&json).map_err(|e| PackError::Corrupt(e.to_string()))
        }
        _ => Ok(Nodes::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::{NodePhase, NodeType};
    use serde_json::json;

    #[test]
    fn compression_round_trips() {
        let mut nodes = Nodes::new();
        for i in 0..50 {
            let mut n = NodeStatus::new(format!("wf-{i}"), format!("wf[0].x({i}:{i})"), NodeType::Pod);
            n.phase = NodePhase::Succeeded;
            n.message = "line one\nline two".into();
            nodes.insert(n.id.clone(), n);
        }
        let json = serde_json::to_vec(&nodes).expect("json");
        let packed = compress_encode(&json).expect("packed");
        assert!(packed.len() < json.len(), "compresses");
        let raw = base64::engine::general_purpose::STANDARD.decode(&packed).expect("base64");
        assert_eq!(&raw[..2], &[0x1f, 0x8b], "gzip magic");
        let status = json!({"nodes": {}, "compressedNodes": packed});
        assert_eq!(hydrate(&status).expect("hydrated"), nodes);
        let plain = json!({"nodes": serde_json::to_value(&nodes).expect("v")});
        assert_eq!(hydrate(&plain).expect("plain"), nodes);
    }

    #[test]
    fn other_compressions_are_refused_by_name() {
        let zstd = base64::engine::general_purpose::STANDARD.encode([0x28, 0xb5, 0x2f, 0xfd, 0, 0]);
        let err = decode_decompress(&zstd).expect_err("zstd");
        assert!(err.to_string().contains("zstd"), "{err}");
        let err = PackError::TooLarge { size: 2, max: 1 }.to_string();
        assert!(err.starts_with("workflow is longer than maximum allowed size. compressed size 2 > maxSize 1"));
        assert!(err.contains("Argo server's database"));
    }
}

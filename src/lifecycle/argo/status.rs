//! Reading a Workflow's node status in all three forms Argo stores it in:
//!
//! - `status.nodes`: the map node id → node;
//! - `status.compressedNodes`: when the object grows past the controller's size limit (1 MiB of
//!   JSON by default) the map is serialised to JSON, compressed, base64-encoded (standard alphabet)
//!   and `nodes` is emptied (`workflow/packer`). Gzip is the default; Argo v4.1 can be configured
//!   for zstd or brotli, and readers tell them apart by their first bytes exactly as
//!   `util/file/fileutil.go` does: `28 b5 2f fd` is zstd, `1f 8b` is gzip, anything else is brotli.
//!   `nodes` wins when both are set, as in `packer.DecompressWorkflow`;
//! - offloaded: still too big, the nodes go to the Argo server's database,
//!   `status.offloadNodeStatusVersion` is set and both fields are empty. Only the Argo server can
//!   read them back (the `argo` CLI in Kubernetes mode cannot either: argo-workflows#11165), so this
//!   is an error that says so.
//!
//! The typed [`Node`] keeps only what tlc shows or needs to act; unknown fields are ignored and
//! missing (or `null`) ones take their defaults, so Argo versions that add fields read the same.
//! Nothing here panics on any input: every malformed value is a [`StatusError`] naming the
//! workflow and the field.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;

use base64::Engine as _;
use jiff::Timestamp;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// Upper bound on decompressed node JSON. Argo's own limit is 1 MiB for the whole stored object
/// (compressed); a node map that inflates past this is not a workflow's status but a decompression
/// bomb, and reading it would take the console down.
pub const MAX_DECOMPRESSED_BYTES: u64 = 512 * 1024 * 1024;

/// A node's type (`NodeType` in `workflow_types.go`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
pub enum NodeType {
    /// A pod: one execution of a container template (or script, resource, data).
    Pod,
    /// A container of a container set.
    Container,
    /// A steps template: its children are step groups.
    Steps,
    /// One group of parallel steps (`[i]`).
    StepGroup,
    /// A DAG template.
    #[serde(rename = "DAG")]
    Dag,
    /// The expansion of a DAG task with items.
    TaskGroup,
    /// A unit with a retry strategy: its children are the attempts.
    Retry,
    /// A step that did not run (`when` false, empty items, omitted DAG task).
    Skipped,
    /// A suspend template.
    Suspend,
    /// An HTTP template (runs in the agent, no pod of its own).
    #[serde(rename = "HTTP")]
    Http,
    /// An executor plugin template.
    Plugin,
    /// A type this version does not know (or none).
    #[default]
    #[serde(other)]
    Unknown,
}

impl NodeType {
    /// Whether the node is one execution of work (what Argo's retry calls an execution node).
    pub fn is_execution(self) -> bool {
        matches!(self, NodeType::Pod | NodeType::Container | NodeType::Http | NodeType::Plugin)
    }

    /// Whether the node only groups others (steps, step groups, DAGs, task groups).
    pub fn is_group(self) -> bool {
        matches!(self, NodeType::Steps | NodeType::StepGroup | NodeType::Dag | NodeType::TaskGroup)
    }
}

/// A node's phase (`NodePhase` in `workflow_types.go`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
pub enum NodePhase {
    /// Created, not running yet (pods: scheduling, pulling, `ContainerCreating`).
    Pending,
    /// Running.
    Running,
    /// Finished successfully.
    Succeeded,
    /// Did not run (`when` false, empty items).
    Skipped,
    /// Finished unsuccessfully (non-zero exit, deadline, shutdown).
    Failed,
    /// An infrastructure error (what `retryPolicy: OnError` retries).
    Error,
    /// A DAG task whose `depends` condition was not met.
    Omitted,
    /// Empty or a phase this version does not know.
    #[default]
    #[serde(other)]
    Unknown,
}

impl NodePhase {
    /// Whether the node is over (Argo's `Fulfilled`).
    pub fn is_final(self) -> bool {
        matches!(
            self,
            NodePhase::Succeeded | NodePhase::Skipped | NodePhase::Failed | NodePhase::Error | NodePhase::Omitted
        )
    }

    /// Argo's `FailedOrError`.
    pub fn failed_or_error(self) -> bool {
        matches!(self, NodePhase::Failed | NodePhase::Error)
    }

    /// Argo's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            NodePhase::Pending => "Pending",
            NodePhase::Running => "Running",
            NodePhase::Succeeded => "Succeeded",
            NodePhase::Skipped => "Skipped",
            NodePhase::Failed => "Failed",
            NodePhase::Error => "Error",
            NodePhase::Omitted => "Omitted",
            NodePhase::Unknown => "",
        }
    }
}

/// A named parameter of a node's inputs or outputs (or of the workflow's arguments).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, bound(deserialize = "'de: 'a"))]
pub struct Parameter<'a> {
    /// Its name.
    #[serde(deserialize_with = "text")]
    pub name: Cow<'a, str>,
    /// Its value (Argo's `AnyString`: numbers and booleans read as their text).
    #[serde(deserialize_with = "any_text")]
    pub value: Option<Cow<'a, str>>,
    /// Its default, for parameters declared without a value.
    #[serde(deserialize_with = "any_text")]
    pub default: Option<Cow<'a, str>>,
}

impl Parameter<'_> {
    /// The same, owning its text.
    pub fn into_owned(self) -> Parameter<'static> {
        Parameter { name: owned(self.name), value: self.value.map(owned), default: self.default.map(owned) }
    }
}

/// Finds a parameter's value (or default) by name.
pub fn parameter<'p>(parameters: &'p [Parameter<'_>], name: &str) -> Option<&'p str> {
    parameters.iter().find(|p| p.name == name).and_then(|p| p.value.as_deref().or(p.default.as_deref()))
}

/// A node's inputs: its parameters (an item's `job` in tlc's template).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, bound(deserialize = "'de: 'a"))]
pub struct Inputs<'a> {
    /// Input parameters.
    #[serde(deserialize_with = "null_default")]
    pub parameters: Vec<Parameter<'a>>,
}

/// A node's outputs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "camelCase", bound(deserialize = "'de: 'a"))]
pub struct Outputs<'a> {
    /// Output parameters (discovery's `jobs` and `batch`).
    #[serde(deserialize_with = "null_default")]
    pub parameters: Vec<Parameter<'a>>,
    /// The `main` container's exit code, as Argo stores it: a string. Read it with
    /// [`Node::exit_code`], never from the message (messages differ across Argo versions).
    #[serde(deserialize_with = "any_text")]
    pub exit_code: Option<Cow<'a, str>>,
    /// A script's standard output (`outputs.result`).
    #[serde(deserialize_with = "any_text")]
    pub result: Option<Cow<'a, str>>,
}

/// Flags the controller sets on nodes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct NodeFlag {
    /// The node is an attempt of a Retry node.
    #[serde(deserialize_with = "null_default")]
    pub retried: bool,
    /// The node is a lifecycle hook.
    #[serde(deserialize_with = "null_default")]
    pub hooked: bool,
}

/// A reference to a template in a WorkflowTemplate (pod names use its template name).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, bound(deserialize = "'de: 'a"))]
pub struct TemplateRef<'a> {
    /// The WorkflowTemplate.
    #[serde(deserialize_with = "text")]
    pub name: Cow<'a, str>,
    /// The template in it.
    #[serde(deserialize_with = "text")]
    pub template: Cow<'a, str>,
}

/// One node of a Workflow's status. Its text borrows from the JSON it was read from where it can
/// (a large status is thousands of nodes: copying every string would cost more than reading it).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "camelCase", bound(deserialize = "'de: 'a"))]
pub struct Node<'a> {
    /// Its id (`<workflow>-<fnv32a(name)>`, or the workflow's name for the root).
    #[serde(deserialize_with = "text")]
    pub id: Cow<'a, str>,
    /// Its full name (`<wf>[1].bridge(0:…)`).
    #[serde(deserialize_with = "text")]
    pub name: Cow<'a, str>,
    /// Its name relative to its boundary (`bridge(0:…)`, `[1]`).
    #[serde(deserialize_with = "text")]
    pub display_name: Cow<'a, str>,
    /// Its type.
    #[serde(rename = "type", deserialize_with = "null_default")]
    pub node_type: NodeType,
    /// The template it ran.
    #[serde(deserialize_with = "text")]
    pub template_name: Cow<'a, str>,
    /// The template it ran, when referenced from a WorkflowTemplate.
    #[serde(deserialize_with = "null_default")]
    pub template_ref: Option<TemplateRef<'a>>,
    /// Its phase.
    #[serde(deserialize_with = "null_default")]
    pub phase: NodePhase,
    /// The node of the template invocation it belongs to.
    #[serde(rename = "boundaryID", deserialize_with = "text")]
    pub boundary_id: Cow<'a, str>,
    /// Ids of the nodes that follow it (attempts of a Retry, the next step group, dependents).
    #[serde(deserialize_with = "texts")]
    pub children: Vec<Cow<'a, str>>,
    /// Why it is where it is (wording differs across Argo versions: show it, never parse it).
    #[serde(deserialize_with = "text")]
    pub message: Cow<'a, str>,
    /// When it started.
    #[serde(deserialize_with = "timestamp")]
    pub started_at: Option<Timestamp>,
    /// When it finished (null while running).
    #[serde(deserialize_with = "timestamp")]
    pub finished_at: Option<Timestamp>,
    /// `N/M` pods done.
    #[serde(deserialize_with = "text")]
    pub progress: Cow<'a, str>,
    /// Its inputs.
    #[serde(deserialize_with = "null_default")]
    pub inputs: Option<Inputs<'a>>,
    /// Its outputs.
    #[serde(deserialize_with = "null_default")]
    pub outputs: Option<Outputs<'a>>,
    /// Its flags.
    #[serde(deserialize_with = "null_default")]
    pub node_flag: Option<NodeFlag>,
    /// The Kubernetes node its pod ran on.
    #[serde(deserialize_with = "text")]
    pub host_node_name: Cow<'a, str>,
}

impl Node<'_> {
    /// The `main` container's exit code, when Argo recorded one that is a number.
    pub fn exit_code(&self) -> Option<i32> {
        self.outputs.as_ref()?.exit_code.as_deref()?.trim().parse().ok()
    }

    /// An input parameter's value.
    pub fn input(&self, name: &str) -> Option<&str> {
        parameter(&self.inputs.as_ref()?.parameters, name)
    }

    /// An output parameter's value.
    pub fn output(&self, name: &str) -> Option<&str> {
        parameter(&self.outputs.as_ref()?.parameters, name)
    }

    /// Whether it is an attempt of a Retry node.
    pub fn is_retried_attempt(&self) -> bool {
        self.node_flag.as_ref().is_some_and(|f| f.retried)
    }

    /// Whether it is a lifecycle hook.
    pub fn is_hook(&self) -> bool {
        self.node_flag.as_ref().is_some_and(|f| f.hooked)
    }

    /// The template name pod names are made from (Argo's `GetTemplateFromNode`).
    pub fn pod_template_name(&self) -> &str {
        match &self.template_ref {
            Some(r) => &r.template,
            None => &self.template_name,
        }
    }

    /// The same node, owning its text.
    pub fn into_owned(self) -> Node<'static> {
        let params = |ps: Vec<Parameter<'_>>| ps.into_iter().map(Parameter::into_owned).collect();
        Node {
            id: owned(self.id),
            name: owned(self.name),
            display_name: owned(self.display_name),
            node_type: self.node_type,
            template_name: owned(self.template_name),
            template_ref: self.template_ref.map(|r| TemplateRef { name: owned(r.name), template: owned(r.template) }),
            phase: self.phase,
            boundary_id: owned(self.boundary_id),
            children: self.children.into_iter().map(owned).collect(),
            message: owned(self.message),
            started_at: self.started_at,
            finished_at: self.finished_at,
            progress: owned(self.progress),
            inputs: self.inputs.map(|i| Inputs { parameters: params(i.parameters) }),
            outputs: self.outputs.map(|o| Outputs {
                parameters: params(o.parameters),
                exit_code: o.exit_code.map(owned),
                result: o.result.map(owned),
            }),
            node_flag: self.node_flag,
            host_node_name: owned(self.host_node_name),
        }
    }
}

fn owned(text: Cow<'_, str>) -> Cow<'static, str> {
    Cow::Owned(text.into_owned())
}

/// Nodes by id.
pub type Nodes<'a> = BTreeMap<Cow<'a, str>, Node<'a>>;

/// How the node map was stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NodesEncoding {
    /// In `status.nodes`.
    Plain,
    /// In `status.compressedNodes`, gzip.
    Gzip,
    /// In `status.compressedNodes`, zstd.
    Zstd,
    /// In `status.compressedNodes`, brotli.
    Brotli,
}

impl fmt::Display for NodesEncoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NodesEncoding::Plain => "plain",
            NodesEncoding::Gzip => "gzip",
            NodesEncoding::Zstd => "zstd",
            NodesEncoding::Brotli => "brotli",
        })
    }
}

/// A Workflow's nodes, and how they were stored (a retry writes them back the same way).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodedNodes<'a> {
    /// The nodes.
    pub nodes: Nodes<'a>,
    /// Where and how they were stored.
    pub encoding: NodesEncoding,
}

/// Why a Workflow's status cannot be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("workflow {workflow}: {problem}")]
pub struct StatusError {
    /// `namespace/name` of the Workflow.
    pub workflow: String,
    /// What is wrong.
    pub problem: StatusProblem,
}

/// What is wrong with a Workflow's status.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StatusProblem {
    /// The nodes live in the Argo server's database.
    #[error(
        "its node status is offloaded to the Argo server's database (status.offloadNodeStatusVersion {version:?}, \
         status.nodes and status.compressedNodes empty); tlc reads Workflows from Kubernetes and cannot read \
         offloaded nodes without the Argo server (nor can the argo CLI in Kubernetes mode: argoproj/argo-workflows#11165)"
    )]
    Offloaded {
        /// The offload version Argo recorded.
        version: String,
    },
    /// `status.compressedNodes` is not base64.
    #[error("status.compressedNodes is not valid base64: {0}")]
    Base64(String),
    /// `status.compressedNodes` does not decompress.
    #[error("status.compressedNodes ({codec}, told by its first bytes) does not decompress: {detail}")]
    Decompress {
        /// The algorithm its magic bytes named.
        codec: NodesEncoding,
        /// The decoder's word.
        detail: String,
    },
    /// `status.compressedNodes` inflates past [`MAX_DECOMPRESSED_BYTES`].
    #[error("status.compressedNodes ({codec}) decompresses to more than {limit} bytes")]
    TooLarge {
        /// The algorithm.
        codec: NodesEncoding,
        /// The limit.
        limit: u64,
    },
    /// The node map is not a JSON object of nodes.
    #[error("{field} is not a JSON map of nodes: {detail}")]
    NotANodeMap {
        /// `status.nodes`, or `status.compressedNodes (gzip)`, ….
        field: String,
        /// What the JSON reader said.
        detail: String,
    },
    /// One node cannot be read.
    #[error("{field}[{id:?}] is not a node: {detail}")]
    BadNode {
        /// Where the map was.
        field: String,
        /// The node's id (its key).
        id: String,
        /// What the JSON reader said.
        detail: String,
    },
    /// A field has the wrong shape.
    #[error("{field} is not {expected}")]
    Shape {
        /// The field.
        field: String,
        /// What it should be.
        expected: &'static str,
    },
}

/// `namespace/name` of a Workflow object, for messages.
pub fn workflow_ref(workflow: &Value) -> String {
    let meta = workflow.get("metadata");
    let field = |k: &str| meta.and_then(|m| m.get(k)).and_then(Value::as_str).unwrap_or("");
    format!("{}/{}", field("namespace"), field("name"))
}

/// The node status of a Workflow object, in whichever form it was stored (owned: for the hot
/// path, [`with_status_nodes`] lends them without copying).
pub fn decode_nodes(workflow: &Value) -> Result<DecodedNodes<'static>, StatusError> {
    let err = |problem| StatusError { workflow: workflow_ref(workflow), problem };
    let Some(status) = workflow.get("status").filter(|s| !s.is_null()) else {
        return Ok(DecodedNodes { nodes: Nodes::new(), encoding: NodesEncoding::Plain });
    };
    if !status.is_object() {
        return Err(err(StatusProblem::Shape { field: "status".into(), expected: "an object" }));
    }
    decode_status_nodes(status).map_err(err)
}

/// Where a status keeps its nodes.
enum Source<'a> {
    /// `status.nodes` (absent or empty: no nodes yet).
    Plain(Option<&'a Value>),
    /// `status.compressedNodes`.
    Compressed(&'a str),
}

fn locate(status: &Value) -> Result<Source<'_>, StatusProblem> {
    let string_field = |name: &str| -> Result<&str, StatusProblem> {
        match status.get(name) {
            None | Some(Value::Null) => Ok(""),
            Some(Value::String(s)) => Ok(s),
            Some(_) => Err(StatusProblem::Shape { field: format!("status.{name}"), expected: "a string" }),
        }
    };
    let offload = string_field("offloadNodeStatusVersion")?;
    if !offload.is_empty() {
        return Err(StatusProblem::Offloaded { version: offload.to_string() });
    }
    let plain = status.get("nodes").filter(|n| !n.is_null());
    let has_plain = match plain {
        None => false,
        Some(Value::Object(map)) => !map.is_empty(),
        Some(_) => {
            return Err(StatusProblem::NotANodeMap {
                field: "status.nodes".into(),
                detail: "not a JSON object".into(),
            });
        }
    };
    let compressed = string_field("compressedNodes")?;
    // `nodes` wins when both are set (packer.DecompressWorkflow only inflates into empty nodes).
    Ok(if has_plain || compressed.is_empty() { Source::Plain(plain) } else { Source::Compressed(compressed) })
}

/// Lends a status's nodes to `f`: borrowed from the status itself, or from the decompressed JSON
/// (which lives only as long as the call).
pub fn with_status_nodes<R>(status: &Value, f: impl FnOnce(DecodedNodes<'_>) -> R) -> Result<R, StatusProblem> {
    match locate(status)? {
        Source::Plain(plain) => {
            let nodes = match plain {
                Some(v) => nodes_from_value(v, "status.nodes")?,
                None => Nodes::new(),
            };
            Ok(f(DecodedNodes { nodes, encoding: NodesEncoding::Plain }))
        }
        Source::Compressed(compressed) => {
            let (json, codec) = decompress_nodes(compressed)?;
            let nodes = nodes_from_slice(&json, &format!("status.compressedNodes ({codec})"))?;
            Ok(f(DecodedNodes { nodes, encoding: codec }))
        }
    }
}

/// [`decode_nodes`] on the `status` object alone (for callers that hold a `DynamicObject`).
pub fn decode_status_nodes(status: &Value) -> Result<DecodedNodes<'static>, StatusProblem> {
    with_status_nodes(status, |d| DecodedNodes {
        nodes: d.nodes.into_iter().map(|(k, v)| (owned(k), v.into_owned())).collect(),
        encoding: d.encoding,
    })
}

/// The node map as raw JSON objects, for rewriting a status without losing the fields tlc does
/// not model (a retry keeps every node it does not touch as it was). Read typed nodes from it with
/// [`nodes_from_map`].
pub fn decode_status_raw(status: &Value) -> Result<(serde_json::Map<String, Value>, NodesEncoding), StatusProblem> {
    Ok(match locate(status)? {
        Source::Plain(Some(Value::Object(map))) => (map.clone(), NodesEncoding::Plain),
        Source::Plain(_) => (serde_json::Map::new(), NodesEncoding::Plain),
        Source::Compressed(compressed) => {
            let (json, codec) = decompress_nodes(compressed)?;
            let raw = serde_json::from_slice(&json).map_err(|e| StatusProblem::NotANodeMap {
                field: format!("status.compressedNodes ({codec})"),
                detail: e.to_string(),
            })?;
            (raw, codec)
        }
    })
}

/// Typed nodes borrowed from a raw node map; `field` names the map in errors.
pub fn nodes_from_map<'a>(raw: &'a serde_json::Map<String, Value>, field: &str) -> Result<Nodes<'a>, StatusProblem> {
    let mut nodes = Nodes::new();
    for (id, value) in raw {
        let node = Node::deserialize(value).map_err(|e| StatusProblem::BadNode {
            field: field.into(),
            id: id.clone(),
            detail: e.to_string(),
        })?;
        nodes.insert(Cow::Borrowed(id.as_str()), node);
    }
    Ok(nodes)
}

/// Which algorithm compressed these bytes, by their magic bytes (`util/file/fileutil.go`).
pub fn sniff_codec(bytes: &[u8]) -> NodesEncoding {
    if bytes.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        NodesEncoding::Zstd
    } else if bytes.starts_with(&[0x1f, 0x8b]) {
        NodesEncoding::Gzip
    } else {
        NodesEncoding::Brotli
    }
}

/// base64 → bytes → decompressed JSON, with the algorithm told by the magic bytes.
pub fn decompress_nodes(compressed: &str) -> Result<(Vec<u8>, NodesEncoding), StatusProblem> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(compressed.trim())
        .map_err(|e| StatusProblem::Base64(e.to_string()))?;
    let codec = sniff_codec(&bytes);
    let json = decompress(&bytes, codec)?;
    Ok((json, codec))
}

fn decompress(bytes: &[u8], codec: NodesEncoding) -> Result<Vec<u8>, StatusProblem> {
    let limit = MAX_DECOMPRESSED_BYTES;
    let fail = |e: std::io::Error| StatusProblem::Decompress { codec, detail: e.to_string() };
    // Gzip's trailer says the (last member's) size mod 2^32: room for it saves the regrowth copies.
    let hint = match codec {
        NodesEncoding::Gzip if bytes.len() >= 18 => {
            let t = &bytes[bytes.len() - 4..];
            u64::from(u32::from_le_bytes([t[0], t[1], t[2], t[3]]))
        }
        _ => bytes.len() as u64 * 8,
    };
    // Never trust it past a plausible ratio: a forged trailer must not reserve half a gigabyte.
    let hint = hint.min(bytes.len() as u64 * 64).min(64 * 1024 * 1024);
    let mut out = Vec::with_capacity(usize::try_from(hint).unwrap_or(0) + 1);
    match codec {
        NodesEncoding::Gzip => {
            // Go's gzip reader reads concatenated members too.
            flate2::read::MultiGzDecoder::new(bytes).take(limit + 1).read_to_end(&mut out).map_err(fail)?;
        }
        NodesEncoding::Zstd => {
            // One frame after another until the input is used up (a stream may hold several).
            let mut rest = bytes;
            while !rest.is_empty() && out.len() as u64 <= limit {
                let before = rest.len();
                let mut decoder = ruzstd::decoding::StreamingDecoder::new(&mut rest)
                    .map_err(|e| StatusProblem::Decompress { codec, detail: e.to_string() })?;
                let room = (limit + 1).saturating_sub(out.len() as u64);
                (&mut decoder).take(room).read_to_end(&mut out).map_err(fail)?;
                if rest.len() == before {
                    return Err(StatusProblem::Decompress { codec, detail: "a frame that reads no input".into() });
                }
            }
        }
        NodesEncoding::Brotli => {
            brotli::Decompressor::new(bytes, 64 * 1024).take(limit + 1).read_to_end(&mut out).map_err(fail)?;
        }
        NodesEncoding::Plain => return Ok(bytes.to_vec()),
    }
    if out.len() as u64 > limit {
        return Err(StatusProblem::TooLarge { codec, limit });
    }
    Ok(out)
}

/// Compresses a node map's JSON with `codec` and base64-encodes it, as Argo's packer does.
pub fn compress_nodes(json: &[u8], codec: NodesEncoding) -> Result<String, String> {
    use std::io::Write as _;
    let bytes = match codec {
        NodesEncoding::Plain => json.to_vec(),
        NodesEncoding::Gzip => {
            // Level 6: Go's gzip.DefaultCompression.
            let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
            encoder.write_all(json).map_err(|e| format!("gzip: {e}"))?;
            encoder.finish().map_err(|e| format!("gzip: {e}"))?
        }
        NodesEncoding::Zstd => ruzstd::encoding::compress_to_vec(json, ruzstd::encoding::CompressionLevel::Fastest),
        NodesEncoding::Brotli => {
            let mut out = Vec::new();
            {
                // Quality 6, window 2^22: brotli's and Go's usual defaults for this size of text.
                let mut writer = brotli::CompressorWriter::new(&mut out, 64 * 1024, 6, 22);
                writer.write_all(json).map_err(|e| format!("brotli: {e}"))?;
                writer.flush().map_err(|e| format!("brotli: {e}"))?;
            }
            out
        }
    };
    Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
}

fn nodes_from_value<'a>(value: &'a Value, field: &str) -> Result<Nodes<'a>, StatusProblem> {
    deserialize_nodes(value).map_err(|e| explain(value, field, e.to_string()))
}

fn nodes_from_slice<'a>(json: &'a [u8], field: &str) -> Result<Nodes<'a>, StatusProblem> {
    // One UTF-8 check of the whole text is cheaper than one per string.
    let text = std::str::from_utf8(json)
        .map_err(|e| StatusProblem::NotANodeMap { field: field.into(), detail: format!("not UTF-8: {e}") })?;
    let mut de = serde_json::Deserializer::from_str(text);
    match deserialize_nodes(&mut de).and_then(|nodes| de.end().map(|()| nodes)) {
        Ok(nodes) => Ok(nodes),
        Err(e) => match serde_json::from_slice::<Value>(json) {
            Ok(value) => Err(explain(&value, field, e.to_string())),
            Err(_) => Err(StatusProblem::NotANodeMap { field: field.into(), detail: e.to_string() }),
        },
    }
}

/// Finds which node made the map unreadable (the slow path, taken only on error).
fn explain(value: &Value, field: &str, detail: String) -> StatusProblem {
    let Value::Object(map) = value else {
        return StatusProblem::NotANodeMap { field: field.into(), detail: "not a JSON object".into() };
    };
    for (id, node) in map {
        if let Err(e) = Node::deserialize(node) {
            return StatusProblem::BadNode { field: field.into(), id: id.clone(), detail: e.to_string() };
        }
    }
    StatusProblem::NotANodeMap { field: field.into(), detail }
}

/// A node map, its keys borrowed like the nodes' text.
fn deserialize_nodes<'de, D: Deserializer<'de>>(d: D) -> Result<Nodes<'de>, D::Error> {
    struct NodesVisitor;
    impl<'de> serde::de::Visitor<'de> for NodesVisitor {
        type Value = Nodes<'de>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a map of node id to node")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut nodes = Nodes::new();
            while let Some((Key(id), node)) = map.next_entry::<Key<'de>, Node<'de>>()? {
                nodes.insert(id, node);
            }
            Ok(nodes)
        }
    }
    d.deserialize_map(NodesVisitor)
}

/// Text that borrows from the input when it can.
struct Key<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Key<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(TextVisitor { any: false }).map(|t| Key(t.unwrap_or_default()))
    }
}

/// Reads text (and with `any`, numbers and booleans as their text), borrowed when it can be.
struct TextVisitor {
    any: bool,
}

impl<'de> serde::de::Visitor<'de> for TextVisitor {
    type Value = Option<Cow<'de, str>>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.any { "a string, number or boolean" } else { "a string" })
    }
    fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Some(Cow::Borrowed(v)))
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(v.to_string())))
    }
    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(v)))
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Self::Value, E> {
        if self.any {
            Ok(Some(Cow::Owned(v.to_string())))
        } else {
            Err(E::invalid_type(serde::de::Unexpected::Signed(v), &self))
        }
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
        if self.any {
            Ok(Some(Cow::Owned(v.to_string())))
        } else {
            Err(E::invalid_type(serde::de::Unexpected::Unsigned(v), &self))
        }
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Self::Value, E> {
        if self.any {
            Ok(Some(Cow::Owned(v.to_string())))
        } else {
            Err(E::invalid_type(serde::de::Unexpected::Float(v), &self))
        }
    }
    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Self::Value, E> {
        if self.any {
            Ok(Some(Cow::Owned(v.to_string())))
        } else {
            Err(E::invalid_type(serde::de::Unexpected::Bool(v), &self))
        }
    }
    fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        if self.any { d.deserialize_any(self) } else { d.deserialize_str(self) }
    }
}

/// A string field: `null` or absent is empty.
fn text<'de: 'a, 'a, D: Deserializer<'de>>(d: D) -> Result<Cow<'a, str>, D::Error> {
    Ok(d.deserialize_option(TextVisitor { any: false })?.unwrap_or_default())
}

/// Argo's `AnyString`: a string, or a number or boolean read as its text.
fn any_text<'de: 'a, 'a, D: Deserializer<'de>>(d: D) -> Result<Option<Cow<'a, str>>, D::Error> {
    d.deserialize_option(TextVisitor { any: true })
}

/// A list of strings: `null` or absent is empty.
fn texts<'de: 'a, 'a, D: Deserializer<'de>>(d: D) -> Result<Vec<Cow<'a, str>>, D::Error> {
    Ok(Option::<Vec<Key<'a>>>::deserialize(d)?.map(|v| v.into_iter().map(|Key(t)| t).collect()).unwrap_or_default())
}

/// A `metav1.Time`: RFC 3339, `null` when unset. Go writes whole seconds in UTC
/// (`2026-11-21T10:00:00Z`), which is read here directly; any other form goes to jiff's parser.
fn timestamp<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
    struct TimeVisitor;
    impl<'de> serde::de::Visitor<'de> for TimeVisitor {
        type Value = Option<Timestamp>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an RFC 3339 timestamp")
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
            match utc_seconds(v) {
                Some(t) => Ok(Some(t)),
                None => v.parse::<Timestamp>().map(Some).map_err(|e| E::custom(format!("{v:?}: {e}"))),
            }
        }
        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_str(self)
        }
    }
    d.deserialize_option(TimeVisitor)
}

/// `YYYY-MM-DDTHH:MM:SSZ` → a timestamp; `None` for anything else (or an impossible date).
pub fn utc_seconds(text: &str) -> Option<Timestamp> {
    let b = text.as_bytes();
    if b.len() != 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' || b[19] != b'Z'
    {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        b[range].iter().try_fold(0_i64, |n, c| c.is_ascii_digit().then(|| n * 10 + i64::from(c - b'0')))
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if day < 1 || day > days_in_month || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    // Days since 1970-01-01 (the proleptic Gregorian calendar, civil-from-days inverted).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Timestamp::from_second(days * 86_400 + hour * 3_600 + minute * 60 + second).ok()
}

/// `null` or absent → the default; anything else as `T` reads it.
fn null_default<'de, D: Deserializer<'de>, T: Deserialize<'de> + Default>(d: D) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// FNV-1a, 32 bits: Argo's hash for node ids and pod names.
pub fn fnv32a(text: &str) -> u32 {
    text.bytes().fold(0x811c_9dc5_u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193))
}

/// A node's id from its name (`Workflow.NodeID`): the workflow's name for the root node, else
/// `<workflow>-<fnv32a(name)>` in decimal.
pub fn node_id(workflow_name: &str, node_name: &str) -> String {
    if node_name == workflow_name {
        workflow_name.to_string()
    } else {
        format!("{workflow_name}-{}", fnv32a(node_name))
    }
}

/// The two pod name formats (`workflow/util/pod_name.go`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PodNameFormat {
    /// The node id.
    V1,
    /// `<workflow>-<template>-<fnv32a(node name)>` (the default since Argo 3.4).
    V2,
}

/// The annotation that says which format a Workflow's pods are named in.
pub const POD_NAME_FORMAT_ANNOTATION: &str = "workflows.argoproj.io/pod-name-format";

impl PodNameFormat {
    /// The format from the annotation's value: `v1` is v1; anything else, or none, is v2 (the
    /// controller's default; its `POD_NAMES` setting cannot be seen from a client).
    pub fn from_annotation(value: Option<&str>) -> Self {
        match value {
            Some("v1") => PodNameFormat::V1,
            _ => PodNameFormat::V2,
        }
    }
}

/// Kubernetes names are at most 253 characters; v2 pod names keep 10 for `-<hash>`, and Argo cuts
/// the prefix to one less than that (`ensurePodNamePrefixLength`).
const MAX_POD_NAME_PREFIX: usize = 253 - 10 - 1;

/// The pod of a node (`GeneratePodName`).
pub fn pod_name(
    workflow_name: &str,
    node_name: &str,
    template_name: &str,
    node_id: &str,
    format: PodNameFormat,
) -> String {
    if format == PodNameFormat::V1 {
        return node_id.to_string();
    }
    if workflow_name == node_name {
        return workflow_name.to_string();
    }
    let mut name = String::with_capacity(workflow_name.len() + template_name.len() + 12);
    name.push_str(workflow_name);
    if !template_name.is_empty() {
        name.push('-');
        name.push_str(template_name);
    }
    if name.len() > MAX_POD_NAME_PREFIX {
        // Go cuts bytes; names are ASCII, but never split a character whatever comes in.
        let mut cut = MAX_POD_NAME_PREFIX;
        while !name.is_char_boundary(cut) {
            cut -= 1;
        }
        name.truncate(cut);
    }
    use std::fmt::Write as _;
    let _ = write!(name, "-{}", fnv32a(node_name));
    name
}

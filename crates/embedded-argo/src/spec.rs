//! The supported subset of a Workflow's spec and templates, typed. Templates stay JSON until they
//! are used: substitution runs on the JSON (as Argo's does on the marshalled template), and the
//! result is read into these types. Anything outside the subset has been refused before by
//! [`crate::subset`], so reading ignores nothing that matters.

use serde::Deserialize;
use serde_json::Value;

use crate::status::Parameter;

/// `arguments`: parameters (artifacts are outside the subset).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Arguments {
    /// Named values.
    #[serde(default)]
    pub parameters: Vec<Parameter>,
}

impl Arguments {
    /// The parameter called `name`.
    pub fn get(&self, name: &str) -> Option<&Parameter> {
        self.parameters.iter().find(|p| p.name == name)
    }
}

/// A template's `inputs`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct TemplateInputs {
    /// Declared input parameters (with defaults, or values once processed).
    #[serde(default)]
    pub parameters: Vec<Parameter>,
}

/// A template's `outputs`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct TemplateOutputs {
    /// Declared output parameters (`valueFrom.path`, `valueFrom.default`).
    #[serde(default)]
    pub parameters: Vec<Parameter>,
}

/// `retryStrategy`: `limit` and `retryPolicy`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RetryStrategy {
    /// Retries after the first attempt (int or string).
    #[serde(default)]
    pub limit: Option<Value>,
    /// Always, OnFailure (default), OnError, OnTransientError.
    #[serde(default)]
    pub retry_policy: Option<String>,
}

impl RetryStrategy {
    /// The policy in effect (`RetryPolicyActual`).
    pub fn policy(&self) -> &str {
        match self.retry_policy.as_deref() {
            Some(p) if !p.is_empty() => p,
            _ => "OnFailure",
        }
    }

    /// The limit, when set and numeric.
    pub fn limit(&self) -> Option<i64> {
        match &self.limit {
            Some(Value::Number(n)) => n.as_i64(),
            Some(Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        }
    }
}

/// One step of a `steps` template.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    /// The step's name.
    #[serde(default)]
    pub name: String,
    /// The template it runs.
    #[serde(default)]
    pub template: String,
    /// Arguments to the template.
    #[serde(default)]
    pub arguments: Arguments,
    /// A literal list to fan out over.
    #[serde(default)]
    pub with_items: Option<Vec<Value>>,
    /// A JSON list (after substitution) to fan out over.
    #[serde(default)]
    pub with_param: Option<String>,
}

impl Step {
    /// `withItems` or `withParam` is set.
    pub fn should_expand(&self) -> bool {
        self.with_items.as_ref().is_some_and(|i| !i.is_empty())
            || self.with_param.as_ref().is_some_and(|p| !p.is_empty())
    }
}

/// Labels and annotations for the template's pod.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Metadata {
    /// Pod labels.
    #[serde(default)]
    pub labels: std::collections::BTreeMap<String, String>,
    /// Pod annotations.
    #[serde(default)]
    pub annotations: std::collections::BTreeMap<String, String>,
}

/// A template of the supported subset: `steps` or `container`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Template {
    /// Its name.
    #[serde(default)]
    pub name: String,
    /// Input parameters.
    #[serde(default)]
    pub inputs: TemplateInputs,
    /// Output parameters.
    #[serde(default)]
    pub outputs: TemplateOutputs,
    /// Groups of parallel steps.
    #[serde(default)]
    pub steps: Option<Vec<Vec<Step>>>,
    /// The container (passed into the pod as written).
    #[serde(default)]
    pub container: Option<Value>,
    /// How to retry it.
    #[serde(default)]
    pub retry_strategy: Option<RetryStrategy>,
    /// Most children running at once (steps templates).
    #[serde(default)]
    pub parallelism: Option<i64>,
    /// Pod labels and annotations.
    #[serde(default)]
    pub metadata: Metadata,
    /// The pod's service account (overrides the workflow's).
    #[serde(default)]
    pub service_account_name: Option<String>,
    /// Template-local volumes.
    #[serde(default)]
    pub volumes: Vec<Value>,
    /// The pod's deadline.
    #[serde(default)]
    pub active_deadline_seconds: Option<Value>,
    /// Node selector for the pod.
    #[serde(default)]
    pub node_selector: Option<Value>,
    /// Tolerations for the pod.
    #[serde(default)]
    pub tolerations: Option<Value>,
    /// Affinity for the pod.
    #[serde(default)]
    pub affinity: Option<Value>,
}

impl Template {
    /// A pod-producing template (here: `container`).
    pub fn is_pod_type(&self) -> bool {
        self.container.is_some()
    }

    /// The template's deadline in seconds, if any.
    pub fn active_deadline_seconds(&self) -> Option<i64> {
        match &self.active_deadline_seconds {
            Some(Value::Number(n)) => n.as_i64(),
            Some(Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        }
    }
}

/// `podGC`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodGc {
    /// OnPodCompletion, OnPodSuccess, OnWorkflowCompletion, OnWorkflowSuccess (empty: none).
    #[serde(default)]
    pub strategy: String,
    /// How long to wait before deleting (a Go duration).
    #[serde(default)]
    pub delete_delay_duration: Option<String>,
}

/// `ttlStrategy`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TtlStrategy {
    /// Seconds after any completion.
    #[serde(default)]
    pub seconds_after_completion: Option<i64>,
    /// Seconds after success.
    #[serde(default)]
    pub seconds_after_success: Option<i64>,
    /// Seconds after failure.
    #[serde(default)]
    pub seconds_after_failure: Option<i64>,
}

/// `workflowMetadata`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct WorkflowMetadata {
    /// Labels for the Workflow (parameters expanded).
    #[serde(default)]
    pub labels: std::collections::BTreeMap<String, String>,
    /// Annotations for the Workflow (parameters expanded).
    #[serde(default)]
    pub annotations: std::collections::BTreeMap<String, String>,
}

/// The executed spec's fields of the subset (templates stay JSON).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkflowSpec {
    /// The template to start with.
    #[serde(default)]
    pub entrypoint: String,
    /// Workflow parameters.
    #[serde(default)]
    pub arguments: Arguments,
    /// Templates, as JSON.
    #[serde(default)]
    pub templates: Vec<Value>,
    /// Pods run as this service account.
    #[serde(default)]
    pub service_account_name: String,
    /// Volumes pods may mount.
    #[serde(default)]
    pub volumes: Vec<Value>,
    /// Most pods running at once.
    #[serde(default)]
    pub parallelism: Option<i64>,
    /// The workflow's deadline in seconds after it started.
    #[serde(default)]
    pub active_deadline_seconds: Option<i64>,
    /// Pod garbage collection.
    #[serde(rename = "podGC", default)]
    pub pod_gc: Option<PodGc>,
    /// Deleting the workflow after it finished.
    #[serde(default)]
    pub ttl_strategy: Option<TtlStrategy>,
    /// Labels and annotations for the Workflow.
    #[serde(default)]
    pub workflow_metadata: Option<WorkflowMetadata>,
    /// Stop / Terminate.
    #[serde(default)]
    pub shutdown: String,
    /// No new nodes while true.
    #[serde(default)]
    pub suspend: Option<bool>,
    /// Default retry strategy of every template.
    #[serde(default)]
    pub retry_strategy: Option<RetryStrategy>,
    /// Labels and annotations for every pod.
    #[serde(default)]
    pub pod_metadata: Option<Metadata>,
    /// Node selector for every pod.
    #[serde(default)]
    pub node_selector: Option<Value>,
    /// Tolerations for every pod.
    #[serde(default)]
    pub tolerations: Option<Value>,
    /// Affinity for every pod.
    #[serde(default)]
    pub affinity: Option<Value>,
}

impl WorkflowSpec {
    /// The raw template called `name`.
    pub fn template(&self, name: &str) -> Option<&Value> {
        self.templates.iter().find(|t| t.get("name").and_then(Value::as_str) == Some(name))
    }
}

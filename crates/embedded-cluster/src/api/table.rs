//! Server-side printing: `meta.k8s.io/v1` Tables with the columns `kubectl get` shows for each
//! resource, so `kubectl get pods` against the embedded cluster reads like a real cluster.

use std::sync::Arc;

use jiff::Timestamp;
use serde_json::{Value, json};

use super::handler::IncludeObject;
use crate::store::resource::{Resource, ResourceInfo};

struct Column {
    name: &'static str,
    kind: &'static str,
    format: &'static str,
    priority: u8,
    description: &'static str,
}

const fn col(
    name: &'static str,
    kind: &'static str,
    format: &'static str,
    priority: u8,
    description: &'static str,
) -> Column {
    Column { name, kind, format, priority, description }
}

fn columns(resource: Resource) -> Vec<Column> {
    let name = col("Name", "string", "name", 0, "Name must be unique within a namespace.");
    let age = col(
        "Age",
        "string",
        "",
        0,
        "CreationTimestamp is a timestamp representing the server time when this object was created.",
    );
    match resource {
        Resource::Pods => vec![
            name,
            col("Ready", "string", "", 0, "The aggregate readiness state of this pod for accepting traffic."),
            col("Status", "string", "", 0, "The aggregate status of the containers in this pod."),
            col(
                "Restarts",
                "string",
                "",
                0,
                "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
            ),
            age,
            col(
                "IP",
                "string",
                "",
                1,
                "IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.",
            ),
            col("Node", "string", "", 1, "Name of the Node this pod is assigned to."),
            col(
                "Nominated Node",
                "string",
                "",
                1,
                "nominatedNodeName is set when this pod preempts other pods on the node.",
            ),
            col(
                "Readiness Gates",
                "string",
                "",
                1,
                "If specified, all readiness gates will be evaluated for pod readiness.",
            ),
        ],
        Resource::Jobs => vec![
            name,
            col("Status", "string", "", 0, "Status of the job."),
            col(
                "Completions",
                "string",
                "",
                0,
                "The desired number of successfully finished pods the job should be run with.",
            ),
            col("Duration", "string", "", 0, "Time required to complete the job."),
            age,
            col("Containers", "string", "", 1, "Names of each container in the template."),
            col("Images", "string", "", 1, "Images referenced by each container in the template."),
            col("Selector", "string", "", 1, "A label query over pods that should match the pod count."),
        ],
        Resource::Namespaces => vec![name, col("Status", "string", "", 0, "The status of the namespace"), age],
        Resource::ConfigMaps => vec![name, col("Data", "string", "", 0, "Data contains the configuration data."), age],
        Resource::ServiceAccounts => vec![
            name,
            col(
                "Secrets",
                "string",
                "",
                0,
                "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.",
            ),
            age,
        ],
        Resource::Events => vec![
            col("Last Seen", "string", "", 0, "Time when last event occurred."),
            col("Type", "string", "", 0, "Type of this event (Normal, Warning)."),
            col(
                "Reason",
                "string",
                "",
                0,
                "Short, machine understandable string that gives the reason for the transition into the object's current status.",
            ),
            col("Object", "string", "", 0, "The object that this event is about."),
            col("Message", "string", "", 0, "A human-readable description of the status of this operation."),
        ],
        Resource::Workflows => vec![
            name,
            col("Status", "string", "", 0, "Status of the workflow"),
            col("Age", "date", "", 0, "When the workflow was started"),
            col(
                "Message",
                "string",
                "",
                1,
                "Human readable message indicating details about why the workflow is in this condition.",
            ),
        ],
        Resource::WorkflowTemplates | Resource::WorkflowTaskResults | Resource::SelfSubjectAccessReviews => {
            vec![name, age]
        }
        // Roles have no printer upstream: the API server's default table (name, creation time).
        Resource::Roles | Resource::ClusterRoles => vec![
            name,
            col(
                "Created At",
                "date",
                "",
                0,
                "CreationTimestamp is a timestamp representing the server time when this object was created.",
            ),
        ],
        Resource::RoleBindings | Resource::ClusterRoleBindings => {
            let (role, of) = if resource == Resource::RoleBindings {
                (
                    "RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error.",
                    "roleBinding",
                )
            } else {
                (
                    "RoleRef can only reference a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error.",
                    "clusterRoleBinding",
                )
            };
            let (users, groups, accounts) = match of {
                "roleBinding" => {
                    ("Users in the roleBinding", "Groups in the roleBinding", "ServiceAccounts in the roleBinding")
                }
                _ => (
                    "Users in the clusterRoleBinding",
                    "Groups in the clusterRoleBinding",
                    "ServiceAccounts in the clusterRoleBinding",
                ),
            };
            vec![
                name,
                col("Role", "string", "", 0, role),
                age,
                col("Users", "string", "", 1, users),
                col("Groups", "string", "", 1, groups),
                col("ServiceAccounts", "string", "", 1, accounts),
            ]
        }
    }
}

fn s<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer).and_then(Value::as_str).unwrap_or_default()
}

/// Go's `duration.HumanDuration`, which `kubectl get` shows as AGE.
pub fn human_duration(seconds: i64) -> String {
    if seconds < -1 {
        return "<invalid>".into();
    }
    let seconds = seconds.max(0);
    let minutes = seconds / 60;
    let hours = minutes / 60;
    let days = hours / 24;
    let years = days / 365;
    if seconds < 120 {
        format!("{seconds}s")
    } else if minutes < 10 {
        if seconds % 60 == 0 { format!("{minutes}m") } else { format!("{minutes}m{}s", seconds % 60) }
    } else if minutes < 180 {
        format!("{minutes}m")
    } else if hours < 8 {
        if minutes % 60 == 0 { format!("{hours}h") } else { format!("{hours}h{}m", minutes % 60) }
    } else if hours < 48 {
        format!("{hours}h")
    } else if hours < 192 {
        if hours % 24 == 0 { format!("{days}d") } else { format!("{days}d{}h", hours % 24) }
    } else if days < 730 {
        format!("{days}d")
    } else if years < 8 {
        let rem = days % 365;
        if rem == 0 { format!("{years}y") } else { format!("{years}y{rem}d") }
    } else {
        format!("{years}y")
    }
}

fn since(timestamp: &str) -> String {
    match timestamp.parse::<Timestamp>() {
        Ok(t) => human_duration(Timestamp::now().as_second() - t.as_second()),
        Err(_) => "<unknown>".into(),
    }
}

fn between(start: &str, end: &str) -> String {
    match (start.parse::<Timestamp>(), end.parse::<Timestamp>()) {
        (Ok(a), Ok(b)) => human_duration(b.as_second() - a.as_second()),
        (Ok(a), Err(_)) => human_duration(Timestamp::now().as_second() - a.as_second()),
        _ => String::new(),
    }
}

/// The STATUS column of a pod, following `kubectl`'s printer.
pub fn pod_status(pod: &Value) -> String {
    let mut reason = s(pod, "/status/reason").to_string();
    if reason.is_empty() {
        reason = s(pod, "/status/phase").to_string();
    }
    for cs in pod.pointer("/status/containerStatuses").and_then(Value::as_array).into_iter().flatten() {
        if let Some(w) = cs.pointer("/state/waiting") {
            let r = s(w, "/reason");
            if !r.is_empty() {
                reason = r.to_string();
            }
        } else if let Some(t) = cs.pointer("/state/terminated") {
            let r = s(t, "/reason");
            reason = if !r.is_empty() {
                r.to_string()
            } else if let Some(sig) = t.get("signal").and_then(Value::as_i64).filter(|s| *s != 0) {
                format!("Signal:{sig}")
            } else {
                format!("ExitCode:{}", t.get("exitCode").and_then(Value::as_i64).unwrap_or_default())
            };
        }
    }
    if pod.pointer("/metadata/deletionTimestamp").is_some() && reason != "Completed" && reason != "Error" {
        return "Terminating".into();
    }
    reason
}

fn cells(resource: Resource, o: &Value) -> Vec<Value> {
    let name = json!(s(o, "/metadata/name"));
    let age = json!(since(s(o, "/metadata/creationTimestamp")));
    match resource {
        Resource::Pods => {
            let statuses = o.pointer("/status/containerStatuses").and_then(Value::as_array);
            let total = o.pointer("/spec/containers").and_then(Value::as_array).map_or(0, Vec::len);
            let ready = statuses.map_or(0, |cs| cs.iter().filter(|c| c["ready"] == json!(true)).count());
            let restarts: i64 = statuses.map_or(0, |cs| cs.iter().filter_map(|c| c["restartCount"].as_i64()).sum());
            let ip = s(o, "/status/podIP");
            let node = s(o, "/spec/nodeName");
            vec![
                name,
                json!(format!("{ready}/{total}")),
                json!(pod_status(o)),
                json!(restarts.to_string()),
                age,
                json!(if ip.is_empty() { "<none>" } else { ip }),
                json!(if node.is_empty() { "<none>" } else { node }),
                json!("<none>"),
                json!("<none>"),
            ]
        }
        Resource::Jobs => {
            let conditions: Vec<&str> = o
                .pointer("/status/conditions")
                .and_then(Value::as_array)
                .map(|cs| cs.iter().filter(|c| c["status"] == "True").map(|c| s(c, "/type")).collect())
                .unwrap_or_default();
            let status = if conditions.contains(&"Complete") {
                "Complete"
            } else if conditions.contains(&"Failed") {
                "Failed"
            } else if o.pointer("/spec/suspend") == Some(&json!(true)) || conditions.contains(&"Suspended") {
                "Suspended"
            } else {
                "Running"
            };
            let succeeded = o.pointer("/status/succeeded").and_then(Value::as_i64).unwrap_or(0);
            let completions = o.pointer("/spec/completions").and_then(Value::as_i64).unwrap_or(1);
            let containers = o.pointer("/spec/template/spec/containers").and_then(Value::as_array);
            let join = |field: &str| {
                containers.map(|cs| cs.iter().map(|c| s(c, field)).collect::<Vec<_>>().join(",")).unwrap_or_default()
            };
            let selector = o
                .pointer("/spec/selector/matchLabels")
                .and_then(Value::as_object)
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .unwrap_or_default();
            vec![
                name,
                json!(status),
                json!(format!("{succeeded}/{completions}")),
                json!(between(s(o, "/status/startTime"), s(o, "/status/completionTime"))),
                age,
                json!(join("/name")),
                json!(join("/image")),
                json!(selector),
            ]
        }
        Resource::Namespaces => vec![name, json!(s(o, "/status/phase")), age],
        Resource::ConfigMaps => {
            let n = ["data", "binaryData"]
                .iter()
                .filter_map(|k| o.get(*k).and_then(Value::as_object))
                .map(|m| m.len())
                .sum::<usize>();
            vec![name, json!(n), age]
        }
        Resource::ServiceAccounts => {
            vec![name, json!(o.get("secrets").and_then(Value::as_array).map_or(0, Vec::len)), age]
        }
        Resource::Events => {
            let last = [s(o, "/lastTimestamp"), s(o, "/eventTime"), s(o, "/metadata/creationTimestamp")]
                .into_iter()
                .find(|t| !t.is_empty())
                .map(since)
                .unwrap_or_default();
            vec![
                json!(last),
                json!(s(o, "/type")),
                json!(s(o, "/reason")),
                json!(format!("{}/{}", s(o, "/involvedObject/kind").to_lowercase(), s(o, "/involvedObject/name"))),
                json!(s(o, "/message")),
            ]
        }
        Resource::Workflows => {
            let started = s(o, "/status/startedAt");
            vec![
                name,
                json!(s(o, "/status/phase")),
                json!(if started.is_empty() { String::new() } else { since(started) }),
                json!(s(o, "/status/message")),
            ]
        }
        Resource::WorkflowTemplates | Resource::WorkflowTaskResults | Resource::SelfSubjectAccessReviews => {
            vec![name, age]
        }
        Resource::Roles | Resource::ClusterRoles => vec![name, json!(s(o, "/metadata/creationTimestamp"))],
        Resource::RoleBindings | Resource::ClusterRoleBindings => {
            // rbac.SubjectsStrings: users, groups, and service accounts as namespace/name.
            let (mut users, mut groups, mut accounts) = (Vec::new(), Vec::new(), Vec::new());
            for subject in o.get("subjects").and_then(Value::as_array).into_iter().flatten() {
                let n = s(subject, "/name");
                match s(subject, "/kind") {
                    "User" => users.push(n.to_string()),
                    "Group" => groups.push(n.to_string()),
                    "ServiceAccount" => accounts.push(format!("{}/{n}", s(subject, "/namespace"))),
                    _ => {}
                }
            }
            vec![
                name,
                json!(format!("{}/{}", s(o, "/roleRef/kind"), s(o, "/roleRef/name"))),
                age,
                json!(users.join(", ")),
                json!(groups.join(", ")),
                json!(accounts.join(", ")),
            ]
        }
    }
}

/// A Table of `objects`; `headers` false omits the column definitions (watch events after the first).
pub fn table(
    info: &ResourceInfo,
    objects: &[Arc<Value>],
    include: IncludeObject,
    revision: Option<u64>,
    continue_token: Option<&str>,
    headers: bool,
) -> Value {
    let rows: Vec<Value> = objects
        .iter()
        .map(|o| {
            let mut row = json!({"cells": cells(info.resource, o)});
            match include {
                IncludeObject::None => {}
                IncludeObject::Object => row["object"] = (**o).clone(),
                IncludeObject::Metadata => {
                    row["object"] = json!({
                        "kind": "PartialObjectMetadata",
                        "apiVersion": "meta.k8s.io/v1",
                        "metadata": o.get("metadata").cloned().unwrap_or(json!({})),
                    })
                }
            }
            row
        })
        .collect();
    let mut metadata = json!({});
    if let Some(rv) = revision {
        metadata["resourceVersion"] = json!(rv.to_string());
    }
    if let Some(c) = continue_token {
        metadata["continue"] = json!(c);
    }
    let mut t = json!({"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": metadata, "rows": rows});
    if headers {
        t["columnDefinitions"] = Value::Array(
            columns(info.resource)
                .iter()
                .map(|c| json!({"name": c.name, "type": c.kind, "format": c.format, "description": c.description, "priority": c.priority}))
                .collect(),
        );
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_durations_match_go() {
        let cases = [
            (5, "5s"),
            (119, "119s"),
            (150, "2m30s"),
            (600, "10m"),
            (7200, "120m"),
            (3 * 3600 + 60, "3h1m"),
            (30 * 3600, "30h"),
            (50 * 3600, "2d2h"),
            (10 * 86400, "10d"),
            (800 * 86400, "2y70d"),
        ];
        for (secs, want) in cases {
            assert_eq!(human_duration(secs), want, "{secs}");
        }
    }

    #[test]
    fn pod_status_follows_the_printer() {
        let pod = json!({"status": {"phase": "Pending", "containerStatuses": [{"state": {"waiting": {"reason": "ContainerCreating"}}}]}});
        assert_eq!(pod_status(&pod), "ContainerCreating");
        let done = json!({"status": {"phase": "Failed", "containerStatuses": [{"state": {"terminated": {"exitCode": 3, "reason": "Error"}}}]}});
        assert_eq!(pod_status(&done), "Error");
        let mut gone = json!({"metadata": {"deletionTimestamp": "x"}, "status": {"phase": "Running"}});
        assert_eq!(pod_status(&gone), "Terminating");
        gone["status"]["containerStatuses"] =
            json!([{"state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]);
        assert_eq!(pod_status(&gone), "Completed");
    }

    #[test]
    fn tables_have_one_cell_per_column() {
        for info in crate::store::resource::RESOURCES {
            let o = Arc::new(json!({"metadata": {"name": "x", "creationTimestamp": "2026-01-01T00:00:00Z"}}));
            let t = table(info, &[o], IncludeObject::Metadata, Some(1), None, true);
            assert_eq!(
                t["rows"][0]["cells"].as_array().map(Vec::len),
                t["columnDefinitions"].as_array().map(Vec::len),
                "{}",
                info.plural
            );
            assert_eq!(t["rows"][0]["object"]["kind"], "PartialObjectMetadata");
        }
    }
}

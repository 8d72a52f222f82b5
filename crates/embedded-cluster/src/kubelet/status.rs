//! The kubelet's view of one pod's status, written back to the API as a whole `status` each time it
//! changes: phase, conditions, IPs and the per-container waiting/running/terminated states.

use serde_json::{Value, json};

use kube_grammar::time::now_rfc3339;

/// How a container instance ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Terminated {
    /// The process's exit code.
    pub exit_code: i32,
    /// `Completed`, `Error`, `DeadlineExceeded`, … .
    pub reason: String,
    /// Extra text (the interpreter's complaint, for example).
    pub message: Option<String>,
    /// When it started.
    pub started_at: String,
    /// When it ended.
    pub finished_at: String,
    /// The runtime's id for it.
    pub container_id: String,
}

/// The state of a container.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum State {
    /// Not running yet (or between restarts).
    Waiting {
        /// `ContainerCreating`, `PodInitializing`, `CrashLoopBackOff`, `CreateContainerConfigError`.
        reason: String,
        /// Why, when there is more to say.
        message: Option<String>,
    },
    /// Running since `started_at`.
    Running {
        /// When it started.
        started_at: String,
        /// The runtime's id for it.
        container_id: String,
    },
    /// Finished.
    Terminated(Terminated),
}

/// One container's status.
#[derive(Clone, Debug)]
pub struct ContainerStatus {
    /// Container name.
    pub name: String,
    /// Its image.
    pub image: String,
    /// Current state.
    pub state: State,
    /// The previous instance's end, after a restart.
    pub last: Option<Terminated>,
    /// Restarts so far (instances started minus one, as the kubelet counts them).
    pub restart_count: u32,
    /// Instances started so far.
    pub instances: u32,
}

impl ContainerStatus {
    /// A container about to be created.
    pub fn new(name: &str, image: &str, waiting_reason: &str) -> Self {
        ContainerStatus {
            name: name.into(),
            image: image.into(),
            state: State::Waiting { reason: waiting_reason.into(), message: None },
            last: None,
            restart_count: 0,
            instances: 0,
        }
    }

    /// Records that a new instance of the container started.
    pub fn started(&mut self, started_at: String, container_id: String) {
        self.instances += 1;
        self.restart_count = self.instances.saturating_sub(1);
        self.state = State::Running { started_at, container_id };
    }

    fn is_running(&self) -> bool {
        matches!(self.state, State::Running { .. })
    }

    fn to_json(&self) -> Value {
        let terminated = |t: &Terminated| {
            let mut v = json!({
                "exitCode": t.exit_code,
                "reason": t.reason,
                "startedAt": t.started_at,
                "finishedAt": t.finished_at,
                "containerID": t.container_id,
            });
            if let Some(m) = &t.message {
                v["message"] = json!(m);
            }
            v
        };
        let (state, id) = match &self.state {
            State::Waiting { reason, message } => {
                let mut w = json!({"reason": reason});
                if let Some(m) = message {
                    w["message"] = json!(m);
                }
                (json!({"waiting": w}), None)
            }
            State::Running { started_at, container_id } => {
                (json!({"running": {"startedAt": started_at}}), Some(container_id.clone()))
            }
            State::Terminated(t) => (json!({"terminated": terminated(t)}), Some(t.container_id.clone())),
        };
        let mut v = json!({
            "name": self.name,
            "image": self.image,
            "imageID": format!("docker.io/library/{}@sha256:{:064x}", self.image.split(':').next().unwrap_or_default(), 0),
            "state": state,
            "lastState": self.last.as_ref().map(|t| json!({"terminated": terminated(t)})).unwrap_or(json!({})),
            "ready": self.is_running(),
            "restartCount": self.restart_count,
            "started": self.is_running(),
        });
        if let Some(id) = id {
            v["containerID"] = json!(id);
        }
        v
    }
}

/// The pod's phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Accepted, not all containers running yet.
    Pending,
    /// Bound and containers started.
    Running,
    /// All containers exited 0 and will not restart.
    Succeeded,
    /// A container failed and will not restart (or the pod hit its deadline).
    Failed,
}

impl Phase {
    /// The API's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Pending => "Pending",
            Phase::Running => "Running",
            Phase::Succeeded => "Succeeded",
            Phase::Failed => "Failed",
        }
    }
}

/// Everything the kubelet reports about a pod.
#[derive(Clone, Debug)]
pub struct PodStatus {
    /// Phase.
    pub phase: Phase,
    /// Pod-level reason (`DeadlineExceeded`).
    pub reason: Option<String>,
    /// Pod-level message.
    pub message: Option<String>,
    /// The node's IP.
    pub host_ip: String,
    /// The pod's IP.
    pub pod_ip: String,
    /// When the kubelet accepted the pod.
    pub start_time: String,
    /// When it was scheduled.
    pub scheduled_at: String,
    /// When init containers finished (`None` while they run).
    pub initialized_at: Option<String>,
    /// Init containers, in order.
    pub init: Vec<ContainerStatus>,
    /// App containers, in order.
    pub containers: Vec<ContainerStatus>,
}

impl PodStatus {
    /// Whether every app container is running.
    pub fn all_running(&self) -> bool {
        self.containers.iter().all(ContainerStatus::is_running)
    }

    /// The status object.
    pub fn to_json(&self) -> Value {
        let now = now_rfc3339();
        let ready = self.phase == Phase::Running && self.all_running();
        let not_ready_reason = match self.phase {
            Phase::Succeeded | Phase::Failed => "PodCompleted",
            _ => "ContainersNotReady",
        };
        let cond = |kind: &str, ok: bool, at: &str, reason: Option<&str>| {
            let mut c = json!({"type": kind, "status": if ok { "True" } else { "False" }, "lastProbeTime": null, "lastTransitionTime": at});
            if let (false, Some(r)) = (ok, reason) {
                c["reason"] = json!(r);
            }
            c
        };
        let initialized = self.initialized_at.is_some();
        let mut status = json!({
            "phase": self.phase.as_str(),
            "conditions": [
                cond("PodReadyToStartContainers", true, &self.scheduled_at, None),
                cond("Initialized", initialized, self.initialized_at.as_deref().unwrap_or(&self.scheduled_at), Some("ContainersNotInitialized")),
                cond("Ready", ready, &now, Some(not_ready_reason)),
                cond("ContainersReady", ready, &now, Some(not_ready_reason)),
                cond("PodScheduled", true, &self.scheduled_at, None),
            ],
            "hostIP": self.host_ip,
            "hostIPs": [{"ip": self.host_ip}],
            "podIP": self.pod_ip,
            "podIPs": [{"ip": self.pod_ip}],
            "startTime": self.start_time,
            "containerStatuses": self.containers.iter().map(ContainerStatus::to_json).collect::<Vec<_>>(),
            "qosClass": "BestEffort",
        });
        if !self.init.is_empty() {
            status["initContainerStatuses"] = Value::Array(self.init.iter().map(ContainerStatus::to_json).collect());
        }
        if let Some(r) = &self.reason {
            status["reason"] = json!(r);
        }
        if let Some(m) = &self.message {
            status["message"] = json!(m);
        }
        status
    }
}

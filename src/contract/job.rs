//! Lifecycle Jobs: suspended `batch/v1` Jobs that carry the lifecycle annotation. A team's Job is
//! only a template; this reads one and says what it handles and what is wrong with it. A Job with
//! any problem is listed with its problems and never run.

use std::fmt;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::PodTemplateSpec;

use super::annotation::{self, AnnotationProblem};
use super::context::ENV_VARS;
use super::operation::Operation;

/// The name of the volume the bridge adds for the two files.
pub const LIFECYCLE_VOLUME: &str = "tlc-lifecycle";

/// `namespace/name` of a Job.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub struct JobRef {
    /// The Job's (and its branch pods') namespace.
    pub namespace: String,
    /// The Job's name.
    pub name: String,
}

impl JobRef {
    /// A reference.
    pub fn new(namespace: &str, name: &str) -> Self {
        JobRef { namespace: namespace.into(), name: name.into() }
    }

    /// Parses `namespace/name`.
    pub fn parse(s: &str) -> Option<Self> {
        let (ns, name) = s.split_once('/')?;
        (!ns.is_empty() && !name.is_empty() && !name.contains('/')).then(|| JobRef::new(ns, name))
    }
}

impl fmt::Display for JobRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// Why a lifecycle Job cannot run.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum JobProblem {
    /// The annotation cannot be read.
    #[error("bad annotation: {0}")]
    Annotation(AnnotationProblem),
    /// `spec.suspend` is not true: the Job runs by itself, outside any tenant context.
    #[error("not suspended: the Job runs by itself (set spec.suspend: true)")]
    NotSuspended,
    /// The pod template has no containers.
    #[error("no containers in the pod template")]
    NoContainers,
    /// The template cannot become a branch pod as it is.
    #[error("template cannot become a pod: {0}")]
    Template(String),
}

/// A discovered lifecycle Job.
#[derive(Clone, Debug, PartialEq)]
pub struct LifecycleJob {
    /// Where it is.
    pub job: JobRef,
    /// The raw annotation value.
    pub annotation: String,
    /// The operations it handles (empty when the annotation is unreadable).
    pub operations: Vec<Operation>,
    /// Everything wrong with it; empty means runnable.
    pub problems: Vec<JobProblem>,
    /// Container images of the template, in order.
    pub images: Vec<String>,
    /// The Job's `activeDeadlineSeconds`, which branch pods inherit.
    pub active_deadline_seconds: Option<i64>,
    /// The `tlc.dev/description` annotation, if the team wrote one.
    pub description: Option<String>,
    /// The pod template branch pods are made from.
    pub template: PodTemplateSpec,
}

/// The annotation a team may add to say what its Job does.
pub const DESCRIPTION_ANNOTATION: &str = "tlc.dev/description";

impl LifecycleJob {
    /// Reads a Job; `None` when it does not carry `annotation_key` (not a lifecycle Job).
    /// `mount_dir` is where the bridge will mount the two files (a template that already uses it is a problem).
    pub fn from_job(job: &Job, annotation_key: &str, mount_dir: &str) -> Option<Self> {
        let annotations = job.metadata.annotations.as_ref()?;
        let value = annotations.get(annotation_key)?.clone();
        let parsed = annotation::parse(&value);
        let mut problems: Vec<JobProblem> = parsed.problems.into_iter().map(JobProblem::Annotation).collect();
        let spec = job.spec.clone().unwrap_or_default();
        if spec.suspend != Some(true) {
            problems.push(JobProblem::NotSuspended);
        }
        let template = spec.template;
        let pod = template.spec.clone().unwrap_or_default();
        if pod.containers.is_empty() {
            problems.push(JobProblem::NoContainers);
        }
        for c in pod.containers.iter().chain(pod.init_containers.iter().flatten()) {
            for e in c.env.iter().flatten() {
                if ENV_VARS.contains(&e.name.as_str()) {
                    problems.push(JobProblem::Template(format!(
                        "container \"{}\" sets {} itself; the bridge injects it",
                        c.name, e.name
                    )));
                }
            }
            for m in c.volume_mounts.iter().flatten() {
                if m.mount_path.trim_end_matches('/') == mount_dir.trim_end_matches('/') {
                    problems.push(JobProblem::Template(format!(
                        "container \"{}\" already mounts something at {mount_dir}, where the bridge mounts the tenant files",
                        c.name
                    )));
                }
            }
        }
        if pod.volumes.iter().flatten().any(|v| v.name == LIFECYCLE_VOLUME) {
            problems.push(JobProblem::Template(format!("it already has a volume named \"{LIFECYCLE_VOLUME}\"")));
        }
        Some(LifecycleJob {
            job: JobRef::new(
                job.metadata.namespace.as_deref().unwrap_or_default(),
                job.metadata.name.as_deref().unwrap_or_default(),
            ),
            annotation: value,
            operations: parsed.operations,
            problems,
            images: pod.containers.iter().map(|c| c.image.clone().unwrap_or_default()).collect(),
            active_deadline_seconds: spec.active_deadline_seconds,
            description: annotations.get(DESCRIPTION_ANNOTATION).cloned(),
            template,
        })
    }

    /// Whether it may run at all.
    pub fn is_runnable(&self) -> bool {
        self.problems.is_empty()
    }

    /// Whether it handles `operation` (listed in its annotation; problems aside).
    pub fn handles(&self, operation: &str) -> bool {
        self.operations.iter().any(|o| o.as_str() == operation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const KEY: &str = "collibra.com/tenant.lifecycle";

    fn job(annotation: Option<&str>, suspend: bool, spec: serde_json::Value) -> Job {
        let mut meta = json!({"name": "j", "namespace": "team"});
        if let Some(a) = annotation {
            meta["annotations"] = json!({ KEY: a, DESCRIPTION_ANNOTATION: "does things" });
        }
        serde_json::from_value(json!({"metadata": meta, "spec": {"suspend": suspend, "template": {"spec": spec}}}))
            .expect("job")
    }

    fn plain() -> serde_json::Value {
        json!({"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox:1.36"}]})
    }

    #[test]
    fn runnable_job() {
        let lj = LifecycleJob::from_job(
            &job(Some("lifecycle.upsert,lifecycle.migrate-in"), true, plain()),
            KEY,
            "/var/run/tlc",
        )
        .expect("lifecycle job");
        assert!(lj.is_runnable(), "{:?}", lj.problems);
        assert!(lj.handles("lifecycle.migrate-in") && !lj.handles("lifecycle.migrate-out"));
        assert_eq!(lj.job.to_string(), "team/j");
        assert_eq!(lj.images, vec!["busybox:1.36"]);
        assert_eq!(lj.description.as_deref(), Some("does things"));
    }

    #[test]
    fn not_a_lifecycle_job_without_the_annotation() {
        assert!(LifecycleJob::from_job(&job(None, true, plain()), KEY, "/m").is_none());
        assert!(LifecycleJob::from_job(&job(Some("lifecycle.upsert"), true, plain()), "other/key", "/m").is_none());
    }

    #[test]
    fn every_problem_is_listed() {
        let spec = json!({"restartPolicy": "Never", "volumes": [{"name": LIFECYCLE_VOLUME, "emptyDir": {}}],
            "containers": [{"name": "c", "image": "i", "env": [{"name": "LIFECYCLE_OPERATION_NAME", "value": "x"}],
                "volumeMounts": [{"name": "v", "mountPath": "/m/"}]}]});
        let lj = LifecycleJob::from_job(&job(Some("a; b"), false, spec), KEY, "/m").expect("lifecycle job");
        let text: Vec<String> = lj.problems.iter().map(ToString::to_string).collect();
        assert_eq!(text.len(), 5, "{text:?}");
        assert!(text[0].starts_with("bad annotation: entry 1"), "{text:?}");
        assert_eq!(text[1], "not suspended: the Job runs by itself (set spec.suspend: true)");
        assert_eq!(
            text[2],
            "template cannot become a pod: container \"c\" sets LIFECYCLE_OPERATION_NAME itself; the bridge injects it"
        );
        assert!(text[3].contains("already mounts something at /m"), "{text:?}");
        assert!(text[4].contains("already has a volume named"), "{text:?}");
        let empty = LifecycleJob::from_job(&job(Some("team.operation"), true, json!({"containers": []})), KEY, "/m")
            .expect("job");
        assert_eq!(empty.problems, vec![JobProblem::NoContainers]);
    }

    #[test]
    fn refs() {
        assert_eq!(JobRef::parse("a/b"), Some(JobRef::new("a", "b")));
        assert_eq!(JobRef::parse("a"), None);
        assert_eq!(JobRef::parse("/b"), None);
        assert_eq!(JobRef::parse("a/b/c"), None);
    }
}

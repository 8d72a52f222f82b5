//! Every request tlc makes, as RBAC sees it (verb, resource, namespace), with what it is needed for;
//! each asked of the API server with a SelfSubjectAccessReview, so an operator learns what they lack
//! before the 403 arrives at 3 a.m.

use k8s_openapi::api::authorization::v1::{ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec};
use kube::api::{Api, PostParams};

use crate::config::{Config, Engine, TenantSource};

/// One permission tlc needs, and the answer for the caller.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Permission {
    /// The verb (`list`, `create`, …).
    pub verb: &'static str,
    /// The resource as RBAC names it: `pods`, `pods/log`, `jobs.batch`, `workflows.argoproj.io`.
    pub resource: String,
    /// The namespace asked about; `None` is every namespace (a cluster-wide grant).
    pub namespace: Option<String>,
    /// What tlc does with it.
    pub needed_for: &'static str,
    /// Whether triggering with the configured engine needs it.
    pub required: bool,
    /// The answer: `Some(true)` allowed, `Some(false)` denied, `None` when it could not be asked.
    pub allowed: Option<bool>,
    /// The server's reason, or why it could not be asked.
    pub reason: String,
}

/// A request tlc makes, before it is asked.
#[derive(Clone)]
struct Need {
    verb: &'static str,
    group: &'static str,
    resource: &'static str,
    subresource: Option<&'static str>,
    namespaces: Vec<Option<String>>,
    needed_for: &'static str,
    required: bool,
}

/// The requests tlc makes under `config`: discovery, tenants, the configured engine's trigger, the
/// runs and logs, cancel and retry, the audit, and the Argo engine's Workflows (required only when
/// Argo is the engine).
fn needs(config: &Config) -> Vec<Need> {
    let teams: Vec<Option<String>> = if config.lifecycle.namespaces.is_empty() {
        vec![None]
    } else {
        config.lifecycle.namespaces.iter().cloned().map(Some).collect()
    };
    let argo = vec![Some(config.run.argo_namespace.clone())];
    let records = vec![Some(config.run.records_namespace.clone())];
    let direct = config.run.engine == Engine::Direct;
    let need = |verb, group, resource, subresource, namespaces: &Vec<Option<String>>, needed_for, required| Need {
        verb,
        group,
        resource,
        subresource,
        namespaces: namespaces.clone(),
        needed_for,
        required,
    };
    let mut all = vec![
        need("list", "batch", "jobs", None, &teams, "discovering lifecycle Jobs", true),
        need("watch", "batch", "jobs", None, &teams, "the console's Jobs view, live", false),
    ];
    if let TenantSource::ConfigMaps { namespace, .. } = &config.tenants.source {
        let ns = vec![Some(namespace.clone())];
        all.push(need("list", "", "configmaps", None, &ns, "reading tenants", true));
        all.push(need("watch", "", "configmaps", None, &ns, "the console's tenants view, live", false));
    }
    all.extend([
        need("create", "", "pods", None, &teams, "starting branch pods (direct engine)", direct),
        need("create", "", "configmaps", None, &teams, "each branch's mounted files (direct engine)", direct),
        need("list", "", "pods", None, &vec![None], "runs and their branches", false),
        need("watch", "", "pods", None, &vec![None], "following branches live", false),
        need("get", "", "pods", Some("log"), &teams, "branch logs", false),
        need("patch", "", "pods", None, &teams, "cancelling a batch (stops its pods, keeps them)", false),
        need("create", "", "events", None, &teams, "the audit trail (Events)", true),
        need("create", "", "configmaps", None, &records, "batch records (else only the local history)", false),
        need("update", "", "configmaps", None, &records, "batch records: cancels, retries, outcomes", false),
        need("list", "", "configmaps", None, &records, "runs whose pods are gone, tlc history", false),
        need("watch", "", "configmaps", None, &records, "the console's runs from records, live", false),
        need("get", "argoproj.io", "workflowtemplates", None, &argo, "checking the Argo template", !direct),
        need("create", "argoproj.io", "workflows", None, &argo, "submitting Workflows (argo engine)", !direct),
        need("list", "argoproj.io", "workflows", None, &argo, "runs on the Argo engine", false),
        need("watch", "argoproj.io", "workflows", None, &argo, "following Workflows live", false),
        need("patch", "argoproj.io", "workflows", None, &argo, "cancel: Argo's Stop and Terminate", false),
        need("update", "argoproj.io", "workflows", None, &argo, "retrying a Workflow", false),
        need("delete", "", "pods", None, &argo, "retrying a Workflow (its failed pods)", false),
    ]);
    all
}

/// Asks the API server about every permission tlc needs under `config`, in one region.
pub async fn check(client: &kube::Client, config: &Config) -> Vec<Permission> {
    use futures::StreamExt;
    let mut asks: Vec<(Need, Option<String>)> = Vec::new();
    for need in needs(config) {
        for ns in &need.namespaces {
            asks.push((Need { namespaces: Vec::new(), ..need }, ns.clone()));
        }
    }
    // Buffered: a namespace list of hundreds must not open hundreds of requests at once.
    futures::stream::iter(asks).map(|(need, ns)| ask(client.clone(), need, ns)).buffered(8).collect().await
}

async fn ask(client: kube::Client, need: Need, namespace: Option<String>) -> Permission {
    let api: Api<SelfSubjectAccessReview> = Api::all(client);
    let review = SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                verb: Some(need.verb.into()),
                group: Some(need.group.into()),
                resource: Some(need.resource.into()),
                subresource: need.subresource.map(str::to_string),
                namespace: namespace.clone(),
                ..Default::default()
            }),
            ..Default::default()
        },
        ..Default::default()
    };
    let (allowed, reason) = match api.create(&PostParams::default(), &review).await {
        Ok(answer) => {
            let status = answer.status.unwrap_or_default();
            let reason = status.reason.or(status.evaluation_error).unwrap_or_default();
            (Some(status.allowed), reason)
        }
        Err(e) => (None, format!("could not ask: {e}")),
    };
    let mut resource = need.resource.to_string();
    if !need.group.is_empty() {
        resource = format!("{resource}.{}", need.group);
    }
    if let Some(sub) = need.subresource {
        resource = format!("{}/{sub}", need.resource);
    }
    Permission {
        verb: need.verb,
        resource,
        namespace,
        needed_for: need.needed_for,
        required: need.required,
        allowed,
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(toml: &str) -> Config {
        Config::from_toml_str(toml, std::path::Path::new("/t/config.toml"), &Default::default()).expect("config")
    }

    #[test]
    fn the_engine_in_force_decides_which_permissions_triggering_needs() {
        let direct = needs(&config(""));
        let required = |ns: &[Need]| -> Vec<String> {
            ns.iter().filter(|n| n.required).map(|n| format!("{} {}", n.verb, n.resource)).collect()
        };
        assert_eq!(
            required(&direct),
            ["list jobs", "list configmaps", "create pods", "create configmaps", "create events"]
        );
        let argo = needs(&config("[run]\nengine = \"argo\"\n"));
        assert_eq!(
            required(&argo),
            ["list jobs", "list configmaps", "create events", "get workflowtemplates", "create workflows"]
        );
    }

    #[test]
    fn team_namespaces_are_asked_one_by_one_and_argo_in_its_namespace() {
        let n = needs(&config("[lifecycle]\nnamespaces = [\"billing\", \"search\"]\n[run]\nargo_namespace = \"wf\"\n"));
        let create_pods = n.iter().find(|n| n.verb == "create" && n.resource == "pods").expect("create pods");
        assert_eq!(create_pods.namespaces, [Some("billing".to_string()), Some("search".to_string())]);
        let list_pods = n.iter().find(|n| n.verb == "list" && n.resource == "pods").expect("list pods");
        assert_eq!(list_pods.namespaces, [None], "runs are found across every namespace");
        let wf = n.iter().find(|n| n.resource == "workflows").expect("workflows");
        assert_eq!(wf.namespaces, [Some("wf".to_string())]);
        let dir = needs(&config("[tenants]\nsource = \"directory\"\ndirectory = \"/srv/tenants\"\n"));
        let listed: Vec<&Vec<Option<String>>> =
            dir.iter().filter(|n| n.resource == "configmaps" && n.verb == "list").map(|n| &n.namespaces).collect();
        assert_eq!(listed, [&vec![Some("tlc-records".to_string())]], "no tenant ConfigMaps to read; the records only");
    }
}

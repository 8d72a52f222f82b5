//! The supported subset, enforced: every field of a Workflow's spec, its templates, steps,
//! parameters and retry strategies is either understood here or refused by name, so a Workflow is
//! never run wrongly — it fails with `unsupported by the embedded Argo controller: <feature>
//! (<where>)`.

use serde_json::Value;

/// The message a Workflow fails with when it uses something outside the subset.
pub fn unsupported(feature: &str, path: &str) -> String {
    format!("unsupported by the embedded Argo controller: {feature} ({path})")
}

fn feature_name(key: &str) -> Option<&'static str> {
    Some(match key {
        "dag" => "DAG templates",
        "script" => "script templates",
        "resource" => "resource templates",
        "suspend" => "suspend templates",
        "data" => "data templates",
        "http" => "HTTP templates",
        "plugin" => "plugin templates",
        "containerSet" => "container sets",
        "daemon" => "daemoned steps",
        "sidecars" => "sidecars",
        "initContainers" => "init containers",
        "memoize" => "memoization",
        "synchronization" => "synchronization",
        "timeout" => "template timeouts",
        "podSpecPatch" => "podSpecPatch",
        "failFast" => "failFast",
        "archiveLocation" | "artifacts" | "artifactRepositoryRef" | "archiveLogs" | "artifactGC" => "artifacts",
        "hooks" => "lifecycle hooks",
        "onExit" => "exit handlers",
        "metrics" => "Prometheus metrics",
        "volumeClaimTemplates" => "volumeClaimTemplates",
        "volumeClaimGC" => "volumeClaimGC",
        "templateDefaults" => "templateDefaults",
        "executor" => "executor settings",
        "when" => "conditional steps (when)",
        "continueOn" => "continueOn",
        "templateRef" => "templateRef",
        "inline" => "inline templates",
        "withSequence" => "withSequence",
        "backoff" => "retry backoff",
        "expression" => "expressions",
        "affinity" => "retry affinity",
        "valueFrom" => "parameter valueFrom",
        "globalName" => "global output parameters (globalName)",
        "podDisruptionBudget" => "podDisruptionBudget",
        "result" => "outputs.result",
        "exitCode" => "outputs.exitCode",
        _ => return None,
    })
}

fn check_keys(object: &Value, path: &str, allowed: &[&str]) -> Result<(), String> {
    let Some(map) = object.as_object() else { return Ok(()) };
    for (key, value) in map {
        if allowed.contains(&key.as_str()) {
            continue;
        }
        // An empty value (`inputs: {}`, `metadata: {}`) says nothing.
        if value.is_null()
            || value.as_object().is_some_and(|m| m.is_empty())
            || value.as_array().is_some_and(Vec::is_empty)
        {
            continue;
        }
        let feature = feature_name(key).map(str::to_string).unwrap_or_else(|| format!("field {key}"));
        return Err(unsupported(&feature, &format!("{path}.{key}")));
    }
    Ok(())
}

const SPEC_KEYS: &[&str] = &[
    "entrypoint",
    "arguments",
    "templates",
    "workflowTemplateRef",
    "serviceAccountName",
    "volumes",
    "parallelism",
    "activeDeadlineSeconds",
    "podGC",
    "ttlStrategy",
    "workflowMetadata",
    "shutdown",
    "suspend",
    "retryStrategy",
    "podMetadata",
    "nodeSelector",
    "tolerations",
    "affinity",
    "priority",
];

const TEMPLATE_KEYS: &[&str] = &[
    "name",
    "inputs",
    "outputs",
    "steps",
    "container",
    "retryStrategy",
    "parallelism",
    "metadata",
    "serviceAccountName",
    "volumes",
    "activeDeadlineSeconds",
    "nodeSelector",
    "tolerations",
    "affinity",
];

fn check_parameters(list: Option<&Value>, path: &str, allowed: &[&str]) -> Result<(), String> {
    for (i, p) in list.and_then(Value::as_array).into_iter().flatten().enumerate() {
        let name = p.get("name").and_then(Value::as_str).map(str::to_string).unwrap_or_else(|| i.to_string());
        check_keys(p, &format!("{path}.{name}"), allowed)?;
    }
    Ok(())
}

fn check_retry(retry: Option<&Value>, path: &str) -> Result<(), String> {
    if let Some(r) = retry {
        check_keys(r, path, &["limit", "retryPolicy"])?;
    }
    Ok(())
}

/// Checks one template.
pub fn check_template(t: &Value) -> Result<(), String> {
    let name = t.get("name").and_then(Value::as_str).unwrap_or_default();
    let path = format!("templates.{name}");
    check_keys(t, &path, TEMPLATE_KEYS)?;
    if let Some(inputs) = t.get("inputs") {
        check_keys(inputs, &format!("{path}.inputs"), &["parameters"])?;
        check_parameters(
            inputs.get("parameters"),
            &format!("{path}.inputs.parameters"),
            &["name", "value", "default", "enum", "description"],
        )?;
    }
    if let Some(outputs) = t.get("outputs") {
        check_keys(outputs, &format!("{path}.outputs"), &["parameters"])?;
        check_parameters(
            outputs.get("parameters"),
            &format!("{path}.outputs.parameters"),
            &["name", "valueFrom", "description"],
        )?;
        for p in outputs.get("parameters").and_then(Value::as_array).into_iter().flatten() {
            let pname = p.get("name").and_then(Value::as_str).unwrap_or_default();
            if let Some(from) = p.get("valueFrom") {
                check_keys(from, &format!("{path}.outputs.parameters.{pname}.valueFrom"), &["path", "default"])?;
            }
        }
    }
    check_retry(t.get("retryStrategy"), &format!("{path}.retryStrategy"))?;
    if t.get("steps").is_some() && t.get("container").is_some() {
        return Err(format!(
            "templates.{name} multiple template types specified. choose one of: container, containerSet, steps, script, resource, dag, suspend, template, template ref"
        ));
    }
    if let Some(container) = t.get("container") {
        let has_command = container.get("command").and_then(Value::as_array).is_some_and(|c| !c.is_empty());
        if !has_command {
            return Err(unsupported(
                "a container without command (a real Argo looks the image's entrypoint up in its registry)",
                &format!("{path}.container.command"),
            ));
        }
    }
    if let Some(groups) = t.get("steps") {
        for (i, group) in groups.as_array().into_iter().flatten().enumerate() {
            let steps: &[Value] = match group {
                Value::Array(steps) => steps,
                Value::Object(o) => o.get("steps").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default(),
                _ => &[],
            };
            for step in steps {
                let sname = step.get("name").and_then(Value::as_str).unwrap_or_default();
                let spath = format!("{path}.steps[{i}].{sname}");
                check_keys(step, &spath, &["name", "template", "arguments", "withItems", "withParam"])?;
                if let Some(args) = step.get("arguments") {
                    check_keys(args, &format!("{spath}.arguments"), &["parameters"])?;
                    check_parameters(
                        args.get("parameters"),
                        &format!("{spath}.arguments.parameters"),
                        &["name", "value", "description"],
                    )?;
                }
            }
        }
    }
    Ok(())
}

/// Checks a Workflow's executed spec (the merged spec for a `workflowTemplateRef`).
pub fn check_spec(spec: &Value) -> Result<(), String> {
    check_keys(spec, "spec", SPEC_KEYS)?;
    if let Some(r) = spec.get("workflowTemplateRef") {
        check_keys(r, "spec.workflowTemplateRef", &["name"])?;
    }
    if let Some(args) = spec.get("arguments") {
        check_keys(args, "spec.arguments", &["parameters"])?;
        check_parameters(
            args.get("parameters"),
            "spec.arguments.parameters",
            &["name", "value", "default", "enum", "description"],
        )?;
    }
    if let Some(md) = spec.get("workflowMetadata") {
        check_keys(md, "spec.workflowMetadata", &["labels", "annotations"])?;
    }
    if let Some(gc) = spec.get("podGC") {
        check_keys(gc, "spec.podGC", &["strategy", "deleteDelayDuration"])?;
    }
    if let Some(ttl) = spec.get("ttlStrategy") {
        check_keys(ttl, "spec.ttlStrategy", &["secondsAfterCompletion", "secondsAfterSuccess", "secondsAfterFailure"])?;
    }
    check_retry(spec.get("retryStrategy"), "spec.retryStrategy")?;
    for t in spec.get("templates").and_then(Value::as_array).into_iter().flatten() {
        check_template(t)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_shipped_template_is_inside_the_subset() {
        let wft: Value =
            serde_saphyr::from_str(include_str!("../../../deploy/argo/workflow-template.yaml")).expect("template");
        assert_eq!(check_spec(&wft["spec"]), Ok(()));
    }

    #[test]
    fn features_outside_are_named() {
        let dag = json!({"entrypoint": "m", "templates": [{"name": "m", "dag": {"tasks": [{"name": "a"}]}}]});
        assert_eq!(
            check_spec(&dag),
            Err("unsupported by the embedded Argo controller: DAG templates (templates.m.dag)".into())
        );
        let exit = json!({"entrypoint": "m", "onExit": "cleanup"});
        assert_eq!(
            check_spec(&exit),
            Err("unsupported by the embedded Argo controller: exit handlers (spec.onExit)".into())
        );
        let when =
            json!({"templates": [{"name": "m", "steps": [[{"name": "a", "template": "b", "when": "{{x}} == 1"}]]}]});
        assert_eq!(
            check_spec(&when),
            Err("unsupported by the embedded Argo controller: conditional steps (when) (templates.m.steps[0].a.when)"
                .into())
        );
        let backoff = json!({"templates": [{"name": "m", "container": {"command": ["x"]}, "retryStrategy": {"limit": 1, "backoff": {"duration": "1s"}}}]});
        assert_eq!(
            check_spec(&backoff),
            Err("unsupported by the embedded Argo controller: retry backoff (templates.m.retryStrategy.backoff)".into())
        );
        let no_command = json!({"templates": [{"name": "m", "container": {"image": "busybox"}}]});
        assert!(check_spec(&no_command).expect_err("refused").contains("a container without command"));
        let empty = json!({"templates": [{"name": "m", "inputs": {}, "metadata": {}, "outputs": {}, "container": {"command": ["x"]}}]});
        assert_eq!(check_spec(&empty), Ok(()));
    }
}

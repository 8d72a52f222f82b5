//! The one-time validation Argo runs when a Workflow starts (`workflow/validate`), for the
//! supported subset: every template reachable from the entrypoint and every template of the spec is
//! checked with placeholder arguments, each step's arguments against its template's inputs, and
//! every `{{…}}` of a known root (`item.`, `steps.`, `inputs.`, `outputs.`, `pod.`, `workflow.`,
//! `tasks.`) must resolve in its scope. The messages are Argo's; the workflow fails with
//! `invalid spec: <message>`.

use std::collections::HashSet;

use serde_json::Value;

use crate::spec::{Arguments, Step, Template, WorkflowSpec};
use crate::status::Parameter;
use crate::template::{self, Params, Scope};

const VALID_PREFIXES: &[&str] = &["item.", "steps.", "inputs.", "outputs.", "pod.", "workflow.", "tasks."];

/// What validation knows of the Workflow besides its spec.
pub struct Context<'a> {
    /// The workflow's name.
    pub name: &'a str,
    /// Label keys of the workflow and its `workflowMetadata`.
    pub label_keys: Vec<String>,
    /// Annotation keys of the workflow and its `workflowMetadata`.
    pub annotation_keys: Vec<String>,
}

struct Validator<'a> {
    spec: &'a WorkflowSpec,
    globals: Params,
    done: HashSet<String>,
}

/// Arguments for a template: the real ones, or a placeholder for every input (`FakeArguments`).
enum Args<'a> {
    Real(&'a Arguments),
    Fake,
}

fn placeholder(name: &str) -> String {
    format!("placeholder-{name}")
}

fn args_values(prefix: &str, args: &Arguments) -> Result<(), String> {
    for p in &args.parameters {
        if p.name.is_empty() {
            return Err(format!("{prefix}parameters[0].name is required"));
        }
        if p.value.is_none() && p.value_from.is_none() {
            return Err(format!("{prefix}{0}.value or {prefix}{0}.valueFrom is required", p.name));
        }
        if let (Some(list), Some(value)) = (&p.r#enum, &p.value) {
            if list.is_empty() {
                return Err(format!("{prefix}{}.enum should contain at least one value", p.name));
            }
            let present =
                list.iter().any(|e| e.as_str().map(str::to_string).unwrap_or_else(|| e.to_string()) == *value);
            if !present {
                return Err(format!("{prefix}{0}.value should be present in {prefix}{0}.enum list", p.name));
            }
        }
    }
    Ok(())
}

fn is_valid_field_name(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() <= 128
        && chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-')
}

fn resolve_all(scope: &HashSet<String>, globals: &Params, value: &Value) -> Result<(), String> {
    let any_item = scope.contains("item.*");
    for tag in template::tags(value) {
        let trimmed = tag.trim();
        if !VALID_PREFIXES.iter().any(|p| trimmed.starts_with(p)) {
            continue;
        }
        if scope.contains(trimmed) || globals.contains_key(trimmed) {
            continue;
        }
        let allowed = ((trimmed == "item" || trimmed.starts_with("item.")) && any_item)
            || trimmed.starts_with("outputs.")
            || trimmed.starts_with("workflow.creationTimestamp")
            || trimmed.starts_with("workflow.scheduledTime")
            || trimmed.starts_with("workflow.duration")
            || trimmed.starts_with("tasks.name")
            || trimmed.starts_with("steps.name")
            || trimmed.starts_with("node.name");
        if !allowed {
            return Err(format!("failed to resolve {{{{{tag}}}}}"));
        }
    }
    Ok(())
}

impl Validator<'_> {
    fn template(&self, name: &str) -> Result<&Value, String> {
        self.spec.template(name).ok_or_else(|| format!("template name '{name}' undefined"))
    }

    /// `validateTemplateHolder` + `validateTemplate` for a template called by name.
    fn holder(&mut self, name: &str, args: Args<'_>) -> Result<Template, String> {
        let raw = self.template(name)?.clone();
        let tmpl: Template = serde_json::from_value(raw.clone()).map_err(|e| format!("templates.{name} {e}"))?;
        if let Some(r) = &tmpl.retry_strategy {
            match r.retry_policy.as_deref().unwrap_or_default() {
                "" | "Always" | "OnError" | "OnFailure" | "OnTransientError" => {}
                other => return Err(format!("{other} is not a valid RetryPolicy")),
            }
        }
        let kinds = usize::from(tmpl.steps.is_some()) + usize::from(tmpl.container.is_some());
        if kinds == 0 {
            return Err(format!(
                "templates.{name} template type unspecified. choose one of: container, containerSet, steps, script, resource, dag, suspend, template, template ref"
            ));
        }
        // validateInputs
        let mut scope: HashSet<String> = HashSet::new();
        for p in &tmpl.inputs.parameters {
            scope.insert(format!("inputs.parameters.{}", p.name));
        }
        if !tmpl.inputs.parameters.is_empty() {
            scope.insert("inputs.parameters".into());
        }
        let mut locals = Params::new();
        if tmpl.is_pod_type() {
            locals.insert("pod.name".into(), placeholder("pod.name"));
            scope.insert("pod.name".into());
        }
        if tmpl.retry_strategy.is_some() {
            for key in
                ["retries", "retries.lastExitCode", "retries.lastStatus", "retries.lastDuration", "retries.lastMessage"]
            {
                locals.insert(key.into(), placeholder(key));
                scope.insert(key.into());
            }
        }
        if tmpl.is_pod_type() {
            for p in &tmpl.outputs.parameters {
                if p.value_from
                    .as_ref()
                    .and_then(|f| f.get("path"))
                    .and_then(Value::as_str)
                    .is_some_and(|s| !s.is_empty())
                {
                    scope.insert(format!("outputs.parameters.{}.path", p.name));
                }
            }
        }
        // ProcessArgs
        let fake;
        let args = match args {
            Args::Real(a) => a,
            Args::Fake => {
                fake = Arguments {
                    parameters: tmpl
                        .inputs
                        .parameters
                        .iter()
                        .map(|p| Parameter {
                            name: p.name.clone(),
                            value: Some(placeholder(&p.name)),
                            ..Parameter::default()
                        })
                        .collect(),
                };
                &fake
            }
        };
        let processed =
            process_args(&raw, &tmpl, args, &self.globals, &locals).map_err(|e| format!("templates.{name} {e}"))?;
        if !self.done.insert(name.to_string()) {
            return Ok(tmpl);
        }
        for (k, _) in self.globals.iter() {
            scope.insert(k.clone());
        }
        let processed_tmpl: Template =
            serde_json::from_value(processed.clone()).map_err(|e| format!("templates.{name} {e}"))?;
        if processed_tmpl.steps.is_some() {
            if tmpl.active_deadline_seconds.is_some() {
                return Err(format!("templates.{name}.activeDeadlineSeconds is only valid for leaf templates"));
            }
            self.steps(&mut scope, &processed_tmpl, &processed)?;
        } else {
            resolve_all(&scope, &self.globals, &processed).map_err(|e| format!("templates.{name}: {e}"))?;
            if processed_tmpl.parallelism.is_some() {
                return Err(format!("templates.{name}.parallelism is only valid for steps and dag templates"));
            }
        }
        // validateOutputs
        if let Some(outputs) = processed.get("outputs") {
            resolve_all(&scope, &self.globals, outputs).map_err(|e| format!("templates.{name}.outputs {e}"))?;
        }
        for p in &processed_tmpl.outputs.parameters {
            let param_ref = format!("templates.{name}.outputs.parameters.{}", p.name);
            let Some(from) = &p.value_from else {
                if p.value.is_none() {
                    return Err(format!("{param_ref} does not have valueFrom or value specified"));
                }
                continue;
            };
            if processed_tmpl.is_pod_type() {
                if from.get("path").and_then(Value::as_str).is_none_or(str::is_empty) {
                    return Err(format!("{param_ref}.path must be specified for Container templates"));
                }
            } else {
                return Err(format!("{param_ref}.parameter or expression must be specified for Steps templates"));
            }
        }
        Ok(tmpl)
    }

    fn steps(&mut self, scope: &mut HashSet<String>, tmpl: &Template, raw: &Value) -> Result<(), String> {
        let name = &tmpl.name;
        let mut names = HashSet::new();
        let raw_groups = raw.get("steps").and_then(Value::as_array).cloned().unwrap_or_default();
        for (i, group) in tmpl.steps.iter().flatten().enumerate() {
            let raw_group = raw_groups.get(i).and_then(Value::as_array).cloned().unwrap_or_default();
            for (j, step) in group.iter().enumerate() {
                if step.name.is_empty() {
                    return Err(format!("templates.{name}.steps[{i}].name is required"));
                }
                if !names.insert(step.name.clone()) {
                    return Err(format!("templates.{name}.steps[{i}].name '{}' is not unique", step.name));
                }
                if !is_valid_field_name(&step.name) {
                    return Err(format!(
                        "templates.{name}.steps[{i}].name '{}' is invalid: a lowercase RFC 1123 label must consist of alphanumeric characters or '-', and must start and end with an alphanumeric character",
                        step.name
                    ));
                }
                let prefix = format!("steps.{}", step.name);
                scope.insert(format!("{prefix}.status"));
                let mut step_scope = scope.clone();
                add_items(step, &mut step_scope)
                    .map_err(|e| format!("templates.{name}.steps[{i}].{} {e}", step.name))?;
                args_values(&format!("templates.{name}.steps[{i}].{}.arguments.", step.name), &step.arguments)?;
                let resolved = self
                    .holder(&step.template, Args::Fake)
                    .map_err(|e| format!("templates.{name}.steps[{i}].{} {e}", step.name))?;
                let step_raw = raw_group.get(j).cloned().unwrap_or(Value::Null);
                resolve_all(&step_scope, &self.globals, &step_raw)
                    .map_err(|e| format!("templates.{name}.steps {e}"))?;
                let aggregate = step.should_expand();
                add_outputs(&resolved, &prefix, scope, aggregate);
                self.holder(&step.template, Args::Real(&step.arguments))
                    .map_err(|e| format!("templates.{name}.steps[{i}].{} {e}", step.name))?;
            }
        }
        Ok(())
    }
}

fn add_items(step: &Step, scope: &mut HashSet<String>) -> Result<(), String> {
    let items = step.with_items.as_ref().is_some_and(|i| !i.is_empty());
    let param = step.with_param.as_ref().is_some_and(|p| !p.is_empty());
    if items && param {
        return Err("only one of withItems, withParam, withSequence can be specified".into());
    }
    if items {
        for item in step.with_items.iter().flatten() {
            match item {
                Value::Object(map) => {
                    for k in map.keys() {
                        scope.insert(format!("item.{k}"));
                    }
                }
                Value::Array(list) => {
                    for i in 0..list.len() {
                        scope.insert(format!("item.[{i}]"));
                    }
                }
                Value::Null => return Err(format!("unsupported withItems type: {item}")),
                _ => {
                    scope.insert("item".into());
                }
            }
        }
    } else if param {
        scope.insert("item".into());
        scope.insert("item.*".into());
    }
    Ok(())
}

fn add_outputs(tmpl: &Template, prefix: &str, scope: &mut HashSet<String>, aggregate: bool) {
    for key in ["id", "startedAt", "finishedAt", "hostNodeName"] {
        scope.insert(format!("{prefix}.{key}"));
    }
    if tmpl.is_pod_type() {
        scope.insert(format!("{prefix}.outputs.result"));
        scope.insert(format!("{prefix}.exitCode"));
    }
    for p in &tmpl.outputs.parameters {
        scope.insert(format!("{prefix}.outputs.parameters.{}", p.name));
    }
    if aggregate {
        scope.insert(format!("{prefix}.outputs.parameters"));
    }
}

/// `common.ProcessArgs`: each input takes its default, then the argument of the same name; an input
/// without a value is `inputs.parameters.X was not supplied`. Globals and locals are substituted,
/// then the inputs, unresolved tags left as written.
pub fn process_args(
    raw: &Value,
    tmpl: &Template,
    args: &Arguments,
    globals: &Params,
    locals: &Params,
) -> Result<Value, String> {
    let mut inputs = Vec::with_capacity(tmpl.inputs.parameters.len());
    for p in &tmpl.inputs.parameters {
        let mut p = p.clone();
        if p.value.is_none() && p.default.is_some() {
            p.value = p.default.clone();
        }
        if let Some(arg) = args.get(&p.name) {
            if arg.value.is_some() {
                p.value = arg.value.clone();
                p.value_from = None;
            } else {
                p.value_from = arg.value_from.clone();
                p.value = None;
            }
        }
        if p.value.is_none() {
            return Err(format!("inputs.parameters.{} was not supplied", p.name));
        }
        inputs.push(p);
    }
    let mut with_inputs = raw.clone();
    if let Some(list) = with_inputs.pointer_mut("/inputs/parameters") {
        *list = serde_json::to_value(&inputs).map_err(|e| e.to_string())?;
    }
    let replaced =
        template::replace_value(&with_inputs, &Scope::new(&[globals, locals]), true).map_err(|e| e.to_string())?;
    let mut input_params = Params::new();
    let after: Template = serde_json::from_value(replaced.clone()).map_err(|e| e.to_string())?;
    for p in &after.inputs.parameters {
        if let Some(v) = &p.value {
            input_params.insert(format!("inputs.parameters.{}", p.name), v.clone());
        }
    }
    input_params.insert(
        "inputs.parameters".into(),
        crate::gojson::marshal(&serde_json::to_value(&after.inputs.parameters).map_err(|e| e.to_string())?, true),
    );
    for p in &after.outputs.parameters {
        if let Some(path) = p.value_from.as_ref().and_then(|f| f.get("path")).and_then(Value::as_str)
            && !path.is_empty()
        {
            input_params.insert(format!("outputs.parameters.{}.path", p.name), path.to_string());
        }
    }
    template::replace_value(&replaced, &Scope::new(&[&input_params]), true).map_err(|e| e.to_string())
}

/// The global parameters validation may assume (`newTemplateValidationCtx`): workflow parameters
/// with their values (placeholders where none), labels, annotations, and the `workflow.*` variables.
fn validation_globals(spec: &WorkflowSpec, ctx: &Context<'_>) -> Params {
    let mut g = Params::new();
    for key in [
        "workflow.name",
        "workflow.namespace",
        "workflow.mainEntrypoint",
        "workflow.serviceAccountName",
        "workflow.uid",
        "workflow.annotations",
        "workflow.annotations.json",
        "workflow.labels",
        "workflow.labels.json",
        "workflow.status",
    ] {
        g.insert(key.into(), placeholder(key));
    }
    if !spec.arguments.parameters.is_empty() {
        g.insert("workflow.parameters".into(), placeholder("workflow.parameters"));
        g.insert("workflow.parameters.json".into(), placeholder("workflow.parameters.json"));
    }
    for p in &spec.arguments.parameters {
        let value = p.value.clone().unwrap_or_else(|| placeholder(&p.name));
        g.insert(format!("workflow.parameters.{}", p.name), value);
    }
    for k in &ctx.label_keys {
        g.insert(format!("workflow.labels.{k}"), placeholder(k));
    }
    for k in &ctx.annotation_keys {
        g.insert(format!("workflow.annotations.{k}"), placeholder(k));
    }
    g
}

/// Validates a Workflow's executed spec; the error is Argo's message (without `invalid spec: `).
pub fn validate(spec: &WorkflowSpec, ctx: &Context<'_>) -> Result<(), String> {
    if ctx.name.len() > 63 {
        return Err(format!(
            "workflow name {:?} must not be more than 63 characters long (currently {})",
            ctx.name,
            ctx.name.len()
        ));
    }
    args_values("spec.arguments.", &spec.arguments)?;
    if spec.entrypoint.is_empty() {
        return Err("spec.entrypoint is required".into());
    }
    let mut v = Validator { spec, globals: validation_globals(spec, ctx), done: HashSet::new() };
    v.holder(&spec.entrypoint, Args::Real(&spec.arguments))?;
    if let Some(gc) = &spec.pod_gc {
        match gc.strategy.as_str() {
            "" | "OnPodCompletion" | "OnPodSuccess" | "OnWorkflowCompletion" | "OnWorkflowSuccess" => {}
            other => return Err(format!("podGC.strategy unknown strategy '{other}'")),
        }
    }
    let names: Vec<String> =
        spec.templates.iter().filter_map(|t| t.get("name").and_then(Value::as_str).map(str::to_string)).collect();
    for name in names {
        v.holder(&name, Args::Fake).map_err(|e| format!("templates.{name} {e}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec_of(mut raw: Value, args: Value) -> WorkflowSpec {
        raw["arguments"] = args;
        serde_json::from_value(raw).expect("spec")
    }

    fn shipped() -> Value {
        let wft: Value =
            serde_saphyr::from_str(include_str!("../../../deploy/argo/workflow-template.yaml")).expect("template");
        wft["spec"].clone()
    }

    fn ctx() -> Context<'static> {
        Context { name: "wf", label_keys: vec![], annotation_keys: vec![] }
    }

    fn full_args() -> Value {
        json!({"parameters": [
            {"name": "tenant", "value": "acme"}, {"name": "operation", "value": "lifecycle.upsert"},
            {"name": "batch", "value": ""}, {"name": "changeset", "value": ""}, {"name": "jobs", "value": ""},
            {"name": "migration", "value": ""}, {"name": "migration-target", "value": ""}]})
    }

    #[test]
    fn the_shipped_template_validates_with_its_parameters() {
        assert_eq!(validate(&spec_of(shipped(), full_args()), &ctx()), Ok(()));
    }

    #[test]
    fn a_missing_workflow_parameter_is_argos_message() {
        let mut args = full_args();
        args["parameters"][0] = json!({"name": "tenant"});
        assert_eq!(
            validate(&spec_of(shipped(), args), &ctx()),
            Err("spec.arguments.tenant.value or spec.arguments.tenant.valueFrom is required".into())
        );
    }

    #[test]
    fn unresolved_references_are_found_before_anything_runs() {
        let mut raw = shipped();
        raw["templates"][2]["container"]["args"][0] = json!("bridge --x={{inputs.parameters.nope}}");
        assert_eq!(
            validate(&spec_of(raw, full_args()), &ctx()),
            Err("templates.lifecycle.steps[1].bridge templates.bridge: failed to resolve {{inputs.parameters.nope}}"
                .into())
        );
        let mut raw = shipped();
        raw["templates"][0]["steps"][1][0]["withParam"] = json!("{{steps.discovery.outputs.parameters.nope}}");
        assert_eq!(
            validate(&spec_of(raw, full_args()), &ctx()),
            Err("templates.lifecycle.steps failed to resolve {{steps.discovery.outputs.parameters.nope}}".into())
        );
        let mut raw = shipped();
        raw["templates"][0]["steps"][1][0]["arguments"]["parameters"] = json!([{"name": "batch", "value": "x"}]);
        assert_eq!(
            validate(&spec_of(raw, full_args()), &ctx()),
            Err("templates.lifecycle.steps[1].bridge templates.bridge inputs.parameters.job was not supplied".into())
        );
    }

    #[test]
    fn process_args_fills_inputs_and_substitutes() {
        let raw = json!({"name": "t", "inputs": {"parameters": [{"name": "a"}, {"name": "b", "default": "dflt"}]},
            "container": {"command": ["echo"], "args": ["{{inputs.parameters.a}}-{{inputs.parameters.b}}-{{workflow.name}}-{{item}}"]}});
        let tmpl: Template = serde_json::from_value(raw.clone()).expect("t");
        let args = Arguments {
            parameters: vec![Parameter { name: "a".into(), value: Some("x\ny".into()), ..Default::default() }],
        };
        let globals: Params = [("workflow.name".to_string(), "wf".to_string())].into();
        let out = process_args(&raw, &tmpl, &args, &globals, &Params::new()).expect("processed");
        assert_eq!(out["container"]["args"][0], "x\ny-dflt-wf-{{item}}");
        assert_eq!(out["inputs"]["parameters"][1], json!({"name": "b", "default": "dflt", "value": "dflt"}));
        let err = process_args(&raw, &tmpl, &Arguments::default(), &globals, &Params::new()).expect_err("missing");
        assert_eq!(err, "inputs.parameters.a was not supplied");
    }
}

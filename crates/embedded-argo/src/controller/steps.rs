//! `steps` templates (`workflow/controller/steps.go`): a Steps node, one StepGroup node per group
//! (`<node>[i]`), each group's steps resolved against the outputs of earlier groups, `withItems` /
//! `withParam` expanded into `<step>(<index>:<description>)` nodes, the next group linked from the
//! outbound nodes of the previous one.

use serde_json::Value;

use super::operate::{ExecError, Op};
use crate::gojson;
use crate::naming;
use crate::spec::{Step, Template};
use crate::status::{NodeFlag, NodePhase, NodeStatus, NodeType};
use crate::template::{self, Params, Scope};

impl Op<'_> {
    /// `executeSteps`.
    pub(crate) fn execute_steps(
        &mut self,
        node_name: &str,
        tmpl: &Template,
        step_template: &str,
        boundary_id: &str,
        flag: Option<NodeFlag>,
    ) -> Result<(), ExecError> {
        let node_id = match self.node_by_name(node_name) {
            Some(n) => n.id.clone(),
            None => self.initialize_executable_node(
                node_name,
                NodeType::Steps,
                tmpl,
                step_template,
                boundary_id,
                NodePhase::Running,
                flag,
            ),
        };
        let mut scope = Params::new();
        let groups = tmpl.steps.clone().unwrap_or_default();
        for (i, group) in groups.iter().enumerate() {
            let sg_name = format!("{node_name}[{i}]");
            match self.node_by_name(&sg_name).map(NodeStatus::fulfilled) {
                None => {
                    self.initialize_node(
                        &sg_name,
                        NodeType::StepGroup,
                        "",
                        &node_id,
                        NodePhase::Running,
                        Some(NodeFlag::default()),
                        None,
                    );
                }
                Some(false) => {
                    self.mark_node_phase(&sg_name, NodePhase::Running, None);
                }
                Some(true) => {}
            }
            if i == 0 {
                self.add_child(node_name, &sg_name);
            } else {
                let prev = format!("{node_name}[{}]", i - 1);
                let prev_children = self.node_by_name(&prev).map(|n| n.children.clone()).unwrap_or_default();
                if prev_children.is_empty() {
                    self.add_child(&prev, &sg_name);
                } else {
                    for child in prev_children {
                        for out in self.outbound_nodes(&child) {
                            if let Some(out_name) = self.nodes.get(&out).map(|n| n.name.clone()) {
                                self.add_child(&out_name, &sg_name);
                            }
                        }
                    }
                }
            }
            let sg = self.execute_step_group(group, &sg_name, &node_id, &mut scope)?;
            let Some(sg) = sg else { return Ok(()) };
            if !sg.fulfilled() {
                return Ok(());
            }
            if sg.phase.failed_or_error() {
                self.update_outbound_nodes(node_name, groups.len());
                self.mark_node_phase(node_name, NodePhase::Failed, Some(&sg.message));
                return Ok(());
            }
            for step in group {
                let child_name = format!("{sg_name}.{}", step.name);
                let prefix = format!("steps.{}", step.name);
                match self.node_by_name(&child_name).cloned() {
                    Some(child) => self.build_local_scope(&mut scope, &prefix, &child),
                    None => {
                        let children: Vec<NodeStatus> = self
                            .nodes
                            .values()
                            .filter(|n| {
                                n.boundary_id == node_id
                                    && n.name.starts_with(&format!("{child_name}("))
                                    && n.node_type != NodeType::Skipped
                            })
                            .cloned()
                            .collect();
                        if !children.is_empty() {
                            aggregate_outputs(&mut scope, &prefix, children);
                        }
                    }
                }
            }
        }
        self.update_outbound_nodes(node_name, groups.len());
        self.mark_node_phase(node_name, NodePhase::Succeeded, None);
        Ok(())
    }

    /// `updateOutboundNodes`: the outbound nodes of the last initialised step group.
    fn update_outbound_nodes(&mut self, node_name: &str, groups: usize) {
        let last = (0..groups).rev().find_map(|i| self.node_by_name(&format!("{node_name}[{i}]")).cloned());
        let Some(last) = last else { return };
        let mut outbound = Vec::new();
        for child in &last.children {
            outbound.extend(self.outbound_nodes(child));
        }
        let id = self.id_of(node_name);
        if let Some(node) = self.nodes.get_mut(&id)
            && node.outbound_nodes != outbound
        {
            node.outbound_nodes = outbound;
            self.updated = true;
        }
    }

    /// `getOutboundNodes`.
    pub(crate) fn outbound_nodes(&self, id: &str) -> Vec<String> {
        let Some(node) = self.nodes.get(id) else { return vec![id.to_string()] };
        match node.node_type {
            NodeType::Skipped | NodeType::Suspend | NodeType::Http | NodeType::Plugin | NodeType::Pod => {
                vec![node.id.clone()]
            }
            NodeType::Container | NodeType::TaskGroup => {
                if node.children.is_empty() {
                    return vec![node.id.clone()];
                }
                node.children.iter().flat_map(|c| self.outbound_nodes(c)).collect()
            }
            NodeType::Retry => match node.children.last() {
                Some(last) => vec![last.clone()],
                None => node.outbound_nodes.iter().flat_map(|o| self.outbound_nodes(o)).collect(),
            },
            NodeType::Steps | NodeType::Dag | NodeType::StepGroup => {
                node.outbound_nodes.iter().flat_map(|o| self.outbound_nodes(o)).collect()
            }
        }
    }

    /// `executeStepGroup`. `Ok(None)` when the group node is missing (never after initialisation).
    fn execute_step_group(
        &mut self,
        group: &[Step],
        sg_name: &str,
        boundary_id: &str,
        scope: &mut Params,
    ) -> Result<Option<NodeStatus>, ExecError> {
        let Some(node) = self.node_by_name(sg_name).cloned() else { return Ok(None) };
        if node.fulfilled() && self.children_fulfilled(&node.id) {
            return Ok(Some(node));
        }
        let steps = match self.resolve_references(group, scope) {
            Ok(s) => s,
            Err(m) => {
                self.mark_node_error(sg_name, &m);
                return Ok(self.node_by_name(sg_name).cloned());
            }
        };
        let steps = match self.expand_step_group(sg_name, steps, boundary_id) {
            Ok(s) => s,
            Err(m) => {
                self.mark_node_error(sg_name, &m);
                return Ok(self.node_by_name(sg_name).cloned());
            }
        };
        for (step, _raw) in &steps {
            let child_name = format!("{sg_name}.{}", step.name);
            let (child, err) = self.execute_template(
                &child_name,
                &step.template,
                Some(&step.name),
                &step.arguments,
                boundary_id,
                None,
            );
            if let Some(err) = err {
                match err {
                    ExecError::Parallelism => {}
                    ExecError::Other(m) => {
                        self.add_child(sg_name, &child_name);
                        let message = format!("step group deemed errored due to child {child_name} error: {m}");
                        self.mark_node_error(sg_name, &message);
                        return Ok(self.node_by_name(sg_name).cloned());
                    }
                }
            }
            if child.is_some() {
                self.add_child(sg_name, &child_name);
            }
        }
        let Some(node) = self.node_by_name(sg_name).cloned() else { return Ok(None) };
        let mut completed = true;
        for child_id in &node.children {
            let Some(child) = self.nodes.get(child_id) else {
                return Err(ExecError::Other(format!("was unable to obtain childNode for {child_id}")));
            };
            scope.insert(format!("steps.{}.status", child.display_name), child.phase.as_str().to_string());
            if !child.fulfilled() {
                completed = false;
            }
        }
        if !completed {
            if node.fulfilled() {
                self.mark_node_phase(sg_name, NodePhase::Running, None);
            }
            return Ok(self.node_by_name(sg_name).cloned());
        }
        for child_id in &node.children {
            if let Some(child) = self.nodes.get(child_id)
                && child.phase.failed_or_error()
            {
                let message = format!("child '{child_id}' failed");
                self.mark_node_phase(sg_name, NodePhase::Failed, Some(&message));
                return Ok(self.node_by_name(sg_name).cloned());
            }
        }
        self.mark_node_phase(sg_name, NodePhase::Succeeded, None);
        Ok(self.node_by_name(sg_name).cloned())
    }

    /// `resolveReferences`: each step's JSON with globals and the steps' scope substituted
    /// (unresolved tags stay), parsed back.
    fn resolve_references(&self, group: &[Step], scope: &Params) -> Result<Vec<(Step, Value)>, String> {
        let mut out = Vec::with_capacity(group.len());
        for step in group {
            let raw = step_json(step);
            let replaced = template::replace_value(&raw, &Scope::new(&[&self.globals, scope]), true)
                .map_err(|e| format!("Failed to resolve references: {e}"))?;
            let parsed: Step = serde_json::from_value(replaced.clone()).map_err(|e| e.to_string())?;
            out.push((parsed, replaced));
        }
        Ok(out)
    }

    /// `expandStepGroup`: `withItems`/`withParam` steps become one step per item; an empty list is
    /// a Skipped node `Skipped, empty params`.
    fn expand_step_group(
        &mut self,
        sg_name: &str,
        steps: Vec<(Step, Value)>,
        boundary_id: &str,
    ) -> Result<Vec<(Step, Value)>, String> {
        let mut out = Vec::new();
        for (step, raw) in steps {
            if !step.should_expand() {
                out.push((step, raw));
                continue;
            }
            let items: Vec<Value> = match (&step.with_items, &step.with_param) {
                (Some(items), _) if !items.is_empty() => items.clone(),
                (_, Some(param)) => gojson::parse_item_list(param).map_err(|e| {
                    format!("withParam value could not be parsed as a JSON list: {}: {e}", param.trim())
                })?,
                _ => Vec::new(),
            };
            if items.is_empty() {
                let child_name = format!("{sg_name}.{}", step.name);
                if self.node_by_name(&child_name).is_none() {
                    self.initialize_node(
                        &child_name,
                        NodeType::Skipped,
                        &step.template,
                        boundary_id,
                        NodePhase::Skipped,
                        Some(NodeFlag::default()),
                        Some("Skipped, empty params"),
                    );
                    self.add_child(sg_name, &child_name);
                }
                continue;
            }
            let mut base = raw.clone();
            if let Some(o) = base.as_object_mut() {
                o.remove("withItems");
                o.remove("withParam");
            }
            for (i, item) in items.iter().enumerate() {
                let mut item_params = Params::new();
                match item {
                    Value::Object(map) => {
                        for (k, v) in map {
                            item_params.insert(format!("item.{k}"), gojson::item_string(v));
                        }
                        item_params.insert("item".into(), gojson::map_item_json(item));
                    }
                    Value::Array(_) => {
                        item_params.insert("item".into(), gojson::marshal(item, true));
                    }
                    Value::String(_) | Value::Number(_) | Value::Bool(_) => {
                        item_params.insert("item".into(), gojson::item_string(item));
                    }
                    Value::Null => {
                        return Err(format!("withItems[{i}] expected string, number, list, or map. received: null"));
                    }
                }
                let expanded = template::replace_value(&base, &Scope::new(&[&self.globals, &item_params]), false)
                    .map_err(|e| e.to_string())?;
                let mut new_step: Step = serde_json::from_value(expanded.clone()).map_err(|e| e.to_string())?;
                new_step.name = naming::item_node_name(&step.name, i, &naming::item_description(item));
                new_step.template = step.template.clone();
                out.push((new_step, expanded));
            }
        }
        Ok(out)
    }

    /// `buildLocalScope`: a step's results under `steps.<name>`.
    fn build_local_scope(&self, scope: &mut Params, prefix: &str, node: &NodeStatus) {
        let node = match node.node_type {
            NodeType::Retry => node.children.last().and_then(|c| self.nodes.get(c)).unwrap_or(node),
            _ => node,
        };
        scope.insert(format!("{prefix}.id"), node.id.clone());
        if let Some(t) = &node.started_at {
            scope.insert(format!("{prefix}.startedAt"), t.clone());
        }
        if let Some(t) = &node.finished_at {
            scope.insert(format!("{prefix}.finishedAt"), t.clone());
        }
        if node.phase != NodePhase::Unknown {
            scope.insert(format!("{prefix}.status"), node.phase.as_str().to_string());
        }
        if !node.host_node_name.is_empty() {
            scope.insert(format!("{prefix}.hostNodeName"), node.host_node_name.clone());
        }
        if let Some(outputs) = &node.outputs {
            if let Some(r) = &outputs.result {
                scope.insert(format!("{prefix}.outputs.result"), r.clone());
            }
            if let Some(c) = &outputs.exit_code {
                scope.insert(format!("{prefix}.exitCode"), c.clone());
            }
            for p in &outputs.parameters {
                if let Some(v) = &p.value {
                    scope.insert(format!("{prefix}.outputs.parameters.{}", p.name), v.clone());
                }
            }
        }
    }
}

/// A step as Argo marshals it before substitution (empty fields omitted).
fn step_json(step: &Step) -> Value {
    let mut map = serde_json::Map::new();
    map.insert("name".into(), Value::String(step.name.clone()));
    map.insert("template".into(), Value::String(step.template.clone()));
    if !step.arguments.parameters.is_empty() {
        map.insert(
            "arguments".into(),
            serde_json::json!({"parameters": serde_json::to_value(&step.arguments.parameters).unwrap_or(Value::Null)}),
        );
    }
    if let Some(items) = &step.with_items
        && !items.is_empty()
    {
        map.insert("withItems".into(), Value::Array(items.clone()));
    }
    if let Some(p) = &step.with_param
        && !p.is_empty()
    {
        map.insert("withParam".into(), Value::String(p.clone()));
    }
    Value::Object(map)
}

fn loop_index(name: &str) -> i64 {
    let last = name.rsplit('(').next().unwrap_or_default();
    last.split(':').next().and_then(|n| n.parse().ok()).unwrap_or(0)
}

/// `processAggregateNodeOutputs`: the outputs of expanded steps as JSON lists, in item order.
fn aggregate_outputs(scope: &mut Params, prefix: &str, mut children: Vec<NodeStatus>) {
    children.retain(|n| n.node_flag.as_ref().is_none_or(|f| !f.hooked && !f.retried));
    children.sort_by_key(|n| loop_index(&n.name));
    let mut param_list: Vec<Value> = Vec::new();
    let mut per_output: std::collections::BTreeMap<String, Vec<String>> = std::collections::BTreeMap::new();
    for node in &children {
        let Some(outputs) = &node.outputs else { continue };
        if node.phase != NodePhase::Succeeded {
            continue;
        }
        if !outputs.parameters.is_empty() {
            let mut map = serde_json::Map::new();
            for p in &outputs.parameters {
                let v = p.value.clone().unwrap_or_default();
                map.insert(p.name.clone(), Value::String(v.clone()));
                per_output.entry(p.name.clone()).or_default().push(v);
            }
            param_list.push(Value::Object(map));
        }
    }
    scope.insert(format!("{prefix}.outputs.result"), "[]".into());
    scope.insert(format!("{prefix}.outputs.parameters"), gojson::marshal(&Value::Array(param_list), true));
    for (name, values) in per_output {
        let parsed: Option<Vec<Value>> = values
            .iter()
            .map(|v| serde_json::from_str::<Value>(v).ok().filter(|x| x.is_array() || x.is_object()))
            .collect();
        let list = match parsed {
            Some(items) => Value::Array(items),
            None => Value::Array(values.into_iter().map(Value::String).collect()),
        };
        scope.insert(format!("{prefix}.outputs.parameters.{name}"), gojson::marshal(&list, true));
    }
}

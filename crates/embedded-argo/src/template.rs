//! Argo's `{{…}}` substitution (`util/template`): every string of a template (keys included) has
//! its tags replaced by the values in scope, a tag looked up with surrounding spaces trimmed. Argo
//! does this on the template's JSON text with each value `strconv.Quote`d; doing it on the decoded
//! strings gives the same result, so multi-line values arrive intact. An unresolved tag either
//! stays as written (where Argo allows that) or is the error `failed to resolve {{tag}}`.
//! Expression tags (`{{=…}}`) are outside the supported subset and are refused by name.

use std::collections::HashMap;

use serde_json::{Map, Value};

/// Values in scope, by tag.
pub type Params = HashMap<String, String>;

/// Why a substitution failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReplaceError {
    /// A tag with no value, where every tag must resolve (Argo's message).
    #[error("failed to resolve {{{{{0}}}}}")]
    Unresolved(String),
    /// A construct the embedded controller does not evaluate.
    #[error("{0}")]
    Unsupported(String),
}

/// Where values are looked up: layers searched last first (a later layer overrides).
pub struct Scope<'a> {
    layers: Vec<&'a Params>,
}

impl<'a> Scope<'a> {
    /// A scope of the given layers, the last one winning.
    pub fn new(layers: &[&'a Params]) -> Self {
        Scope { layers: layers.to_vec() }
    }

    /// The value of a (trimmed) tag.
    pub fn get(&self, key: &str) -> Option<&'a str> {
        self.layers.iter().rev().find_map(|l| l.get(key)).map(String::as_str)
    }
}

/// Replaces the tags of one string.
pub fn replace_str(text: &str, scope: &Scope<'_>, allow_unresolved: bool) -> Result<String, ReplaceError> {
    if !text.contains("{{") {
        return Ok(text.to_string());
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            return Err(ReplaceError::Unsupported(format!(
                "Cannot find end tag=\"}}}}\" in the template={text:?} starting from {after:?}"
            )));
        };
        let tag = &after[..end];
        let key = tag.trim();
        if key.starts_with('=') {
            return Err(ReplaceError::Unsupported(format!(
                "expression tags are not supported by the embedded Argo controller: {{{{{tag}}}}}"
            )));
        }
        match scope.get(key) {
            Some(value) => out.push_str(value),
            None if allow_unresolved => {
                out.push_str("{{");
                out.push_str(tag);
                out.push_str("}}");
            }
            None => return Err(ReplaceError::Unresolved(tag.to_string())),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Replaces the tags in every string (and object key) of a JSON value.
pub fn replace_value(value: &Value, scope: &Scope<'_>, allow_unresolved: bool) -> Result<Value, ReplaceError> {
    Ok(match value {
        Value::String(s) => Value::String(replace_str(s, scope, allow_unresolved)?),
        Value::Array(items) => {
            Value::Array(items.iter().map(|v| replace_value(v, scope, allow_unresolved)).collect::<Result<_, _>>()?)
        }
        Value::Object(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                out.insert(replace_str(k, scope, allow_unresolved)?, replace_value(v, scope, allow_unresolved)?);
            }
            Value::Object(out)
        }
        other => other.clone(),
    })
}

/// Every tag (untrimmed, as written) in the strings and keys of a value, in order.
pub fn tags(value: &Value) -> Vec<String> {
    let mut out = Vec::new();
    collect_tags(value, &mut out);
    out
}

fn collect_str_tags(text: &str, out: &mut Vec<String>) {
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { return };
        out.push(after[..end].to_string());
        rest = &after[end + 2..];
    }
}

fn collect_tags(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => collect_str_tags(s, out),
        Value::Array(items) => items.iter().for_each(|v| collect_tags(v, out)),
        Value::Object(map) => {
            for (k, v) in map {
                collect_str_tags(k, out);
                collect_tags(v, out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn params(pairs: &[(&str, &str)]) -> Params {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn tags_are_replaced_in_every_string_and_key() {
        let p = params(&[("workflow.name", "wf-1"), ("inputs.parameters.job", "ns/j")]);
        let scope = Scope::new(&[&p]);
        let v = json!({"args": ["--job={{inputs.parameters.job}}", "{{ workflow.name }}"], "{{workflow.name}}": 1});
        let out = replace_value(&v, &scope, false).expect("replaced");
        assert_eq!(out, json!({"args": ["--job=ns/j", "wf-1"], "wf-1": 1}));
    }

    #[test]
    fn multi_line_values_survive() {
        let p = params(&[("workflow.parameters.changeset", "a: 1\nb: \"two\"\n")]);
        let scope = Scope::new(&[&p]);
        let out = replace_str("--changeset-yaml={{workflow.parameters.changeset}}", &scope, false).expect("ok");
        assert_eq!(out, "--changeset-yaml=a: 1\nb: \"two\"\n");
    }

    #[test]
    fn unresolved_tags_stay_or_fail_with_argos_message() {
        let p = Params::new();
        let scope = Scope::new(&[&p]);
        assert_eq!(replace_str("x {{item.name}}", &scope, true).expect("kept"), "x {{item.name}}");
        let err = replace_str("x {{ item.name}}", &scope, false).expect_err("fails");
        assert_eq!(err.to_string(), "failed to resolve {{ item.name}}");
        let err = replace_str("{{=sprig.upper('a')}}", &scope, true).expect_err("expression");
        assert!(err.to_string().contains("expression tags are not supported"), "{err}");
    }

    #[test]
    fn later_layers_override() {
        let a = params(&[("k", "global")]);
        let b = params(&[("k", "local")]);
        assert_eq!(Scope::new(&[&a, &b]).get("k"), Some("local"));
        assert_eq!(tags(&json!(["{{a}} {{ b }}", {"{{c}}": "d"}])), vec!["a", " b ", "c"]);
    }
}

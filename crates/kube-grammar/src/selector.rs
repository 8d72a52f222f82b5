//! Label and field selectors, parsed from the `labelSelector` / `fieldSelector` query parameters with
//! the grammar of `k8s.io/apimachinery` (`=`, `==`, `!=`, `in`, `notin`, exists, `!`, `<`, `>`), and
//! matched against stored objects.

use serde_json::Value;

/// One label requirement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LabelRequirement {
    /// `key=value` or `key==value`.
    Equals(String, String),
    /// `key!=value` (also matches objects without the key).
    NotEquals(String, String),
    /// `key in (a,b)`.
    In(String, Vec<String>),
    /// `key notin (a,b)` (also matches objects without the key).
    NotIn(String, Vec<String>),
    /// `key`.
    Exists(String),
    /// `!key`.
    DoesNotExist(String),
    /// `key>N` (integer comparison).
    GreaterThan(String, i64),
    /// `key<N` (integer comparison).
    LessThan(String, i64),
}

/// A parsed label selector: all requirements must hold. The empty selector matches everything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LabelSelector {
    /// The requirements, in the order given.
    pub requirements: Vec<LabelRequirement>,
}

/// Why a selector string could not be parsed (the API answers 400 with this text).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SelectorError(pub String);

fn label_error(detail: impl std::fmt::Display) -> SelectorError {
    SelectorError(format!("unable to parse requirement: {detail}"))
}

/// Checks a label key: optional DNS-subdomain prefix and `/`, then a name of ≤ 63 characters.
pub fn validate_label_key(key: &str) -> Result<(), String> {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    if let Some(p) = prefix
        && (p.is_empty() || p.len() > 253 || !is_dns_subdomain(p))
    {
        return Err(format!("prefix part of \"{key}\" must be a DNS-1123 subdomain"));
    }
    if name.is_empty() {
        return Err(format!("name part of \"{key}\" must be non-empty"));
    }
    if name.len() > 63 {
        return Err(format!("name part of \"{key}\" must be no more than 63 characters"));
    }
    if !is_qualified_name_part(name) {
        return Err(format!(
            "name part of \"{key}\" must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
        ));
    }
    Ok(())
}

/// Checks a label value: ≤ 63 characters, empty or alphanumeric at both ends with `-_.` inside.
pub fn validate_label_value(value: &str) -> Result<(), String> {
    if value.len() > 63 {
        return Err(format!("label value \"{value}\" must be no more than 63 characters"));
    }
    if !value.is_empty() && !is_qualified_name_part(value) {
        return Err(format!(
            "label value \"{value}\" must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
        ));
    }
    Ok(())
}

fn is_qualified_name_part(s: &str) -> bool {
    let bytes = s.as_bytes();
    let alnum = |b: u8| b.is_ascii_alphanumeric();
    !bytes.is_empty()
        && alnum(bytes[0])
        && alnum(bytes[bytes.len() - 1])
        && bytes.iter().all(|&b| alnum(b) || b == b'-' || b == b'_' || b == b'.')
}

/// Whether `s` is a DNS-1123 subdomain (lowercase alphanumerics, `-` and `.`, ≤ 253 characters).
pub fn is_dns_subdomain(s: &str) -> bool {
    !s.is_empty() && s.len() <= 253 && s.split('.').all(is_dns_label_unbounded)
}

/// Whether `s` is a DNS-1123 label (lowercase alphanumerics and `-`, ≤ 63 characters).
pub fn is_dns_label(s: &str) -> bool {
    s.len() <= 63 && is_dns_label_unbounded(s)
}

fn is_dns_label_unbounded(s: &str) -> bool {
    let b = s.as_bytes();
    let ok = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    !b.is_empty() && ok(b[0]) && ok(b[b.len() - 1]) && b.iter().all(|&c| ok(c) || c == b'-')
}

/// Splits on commas that are not inside parentheses.
fn split_top_level(s: &str) -> Result<Vec<&str>, SelectorError> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth < 0 {
                    return Err(label_error(format!("unexpected ')' in \"{s}\"")));
                }
            }
            ',' if depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if depth != 0 {
        return Err(label_error(format!("unclosed '(' in \"{s}\"")));
    }
    parts.push(&s[start..]);
    Ok(parts)
}

fn parse_set(rest: &str, whole: &str) -> Result<Vec<String>, SelectorError> {
    let rest = rest.trim();
    let inner = rest
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .ok_or_else(|| label_error(format!("found '{rest}', expected: '(' values ')' in \"{whole}\"")))?;
    let mut values = Vec::new();
    for v in inner.split(',') {
        let v = v.trim();
        validate_label_value(v).map_err(label_error)?;
        values.push(v.to_string());
    }
    Ok(values)
}

fn checked_key(key: &str) -> Result<String, SelectorError> {
    let key = key.trim();
    if key.is_empty() {
        return Err(label_error("found '', expected: identifier"));
    }
    validate_label_key(key).map_err(label_error)?;
    Ok(key.to_string())
}

fn checked_value(value: &str) -> Result<String, SelectorError> {
    let value = value.trim();
    validate_label_value(value).map_err(label_error)?;
    Ok(value.to_string())
}

fn parse_requirement(part: &str) -> Result<LabelRequirement, SelectorError> {
    let p = part.trim();
    if p.is_empty() {
        return Err(label_error("found '', expected: !, identifier, or 'end of string'"));
    }
    if let Some(key) = p.strip_prefix('!') {
        return Ok(LabelRequirement::DoesNotExist(checked_key(key)?));
    }
    if let Some((k, v)) = p.split_once("!=") {
        return Ok(LabelRequirement::NotEquals(checked_key(k)?, checked_value(v)?));
    }
    if let Some((k, v)) = p.split_once("==") {
        return Ok(LabelRequirement::Equals(checked_key(k)?, checked_value(v)?));
    }
    if let Some((k, v)) = p.split_once('=') {
        return Ok(LabelRequirement::Equals(checked_key(k)?, checked_value(v)?));
    }
    for (op, greater) in [('>', true), ('<', false)] {
        if let Some((k, v)) = p.split_once(op) {
            let n: i64 = v.trim().parse().map_err(|_| {
                label_error(format!("for '{op}' operator, the value must be an integer, got \"{}\"", v.trim()))
            })?;
            let key = checked_key(k)?;
            return Ok(if greater {
                LabelRequirement::GreaterThan(key, n)
            } else {
                LabelRequirement::LessThan(key, n)
            });
        }
    }
    // `key in (...)`, `key notin (...)`, or a bare `key`.
    let mut words = p.splitn(2, char::is_whitespace);
    let key = words.next().unwrap_or_default();
    match words.next().map(str::trim_start) {
        None => Ok(LabelRequirement::Exists(checked_key(key)?)),
        Some(rest) => {
            if let Some(set) = rest.strip_prefix("notin") {
                Ok(LabelRequirement::NotIn(checked_key(key)?, parse_set(set, p)?))
            } else if let Some(set) = rest.strip_prefix("in") {
                Ok(LabelRequirement::In(checked_key(key)?, parse_set(set, p)?))
            } else {
                Err(label_error(format!("found '{rest}', expected: in, notin, =, ==, !=, gt, lt in \"{p}\"")))
            }
        }
    }
}

impl LabelSelector {
    /// Parses a `labelSelector` string; the empty string is the match-everything selector.
    pub fn parse(s: &str) -> Result<Self, SelectorError> {
        if s.trim().is_empty() {
            return Ok(LabelSelector::default());
        }
        let requirements = split_top_level(s)?.into_iter().map(parse_requirement).collect::<Result<_, _>>()?;
        Ok(LabelSelector { requirements })
    }

    /// Whether the selector matches everything.
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// Whether an object's `metadata.labels` satisfy every requirement.
    pub fn matches(&self, object: &Value) -> bool {
        let labels = object.pointer("/metadata/labels");
        let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
        self.requirements.iter().all(|r| match r {
            LabelRequirement::Equals(k, v) => get(k) == Some(v.as_str()),
            LabelRequirement::NotEquals(k, v) => get(k) != Some(v.as_str()),
            LabelRequirement::In(k, vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            LabelRequirement::NotIn(k, vs) => get(k).is_none_or(|x| vs.iter().all(|v| v != x)),
            LabelRequirement::Exists(k) => get(k).is_some(),
            LabelRequirement::DoesNotExist(k) => get(k).is_none(),
            LabelRequirement::GreaterThan(k, n) => get(k).and_then(|x| x.parse::<i64>().ok()).is_some_and(|x| x > *n),
            LabelRequirement::LessThan(k, n) => get(k).and_then(|x| x.parse::<i64>().ok()).is_some_and(|x| x < *n),
        })
    }
}

/// One field requirement: `path=value` or `path!=value`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldRequirement {
    /// Dotted field path, e.g. `status.phase`.
    pub field: String,
    /// The value compared against (the field's string form).
    pub value: String,
    /// `!=` instead of `=`.
    pub negated: bool,
}

/// A parsed field selector: all requirements must hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldSelector {
    /// The requirements, in the order given.
    pub requirements: Vec<FieldRequirement>,
}

/// Splits on unescaped commas and unescapes `\,`, `\=`, `\\`.
fn split_escaped(s: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next()
                    && let Some(last) = parts.last_mut()
                {
                    if n != ',' && n != '=' && n != '\\' && n != '!' {
                        last.push('\\');
                    }
                    last.push(n);
                }
            }
            ',' => parts.push(String::new()),
            _ => {
                if let Some(last) = parts.last_mut() {
                    last.push(c);
                }
            }
        }
    }
    parts
}

impl FieldSelector {
    /// Parses a `fieldSelector` string, allowing only the keys in `allowed`.
    pub fn parse(s: &str, allowed: impl Fn(&str) -> bool) -> Result<Self, SelectorError> {
        if s.trim().is_empty() {
            return Ok(FieldSelector::default());
        }
        let mut requirements = Vec::new();
        for part in split_escaped(s) {
            let (field, value, negated) = if let Some((f, v)) = part.split_once("!=") {
                (f, v, true)
            } else if let Some((f, v)) = part.split_once("==") {
                (f, v, false)
            } else if let Some((f, v)) = part.split_once('=') {
                (f, v, false)
            } else {
                return Err(SelectorError(format!("invalid selector: '{s}'; can't understand '{part}'")));
            };
            let field = field.trim();
            if !allowed(field) {
                return Err(SelectorError(format!("field label not supported: {field}")));
            }
            requirements.push(FieldRequirement { field: field.to_string(), value: value.trim().to_string(), negated });
        }
        Ok(FieldSelector { requirements })
    }

    /// Whether the selector matches everything.
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// Whether an object satisfies every requirement.
    pub fn matches(&self, object: &Value) -> bool {
        self.requirements.iter().all(|r| (field_value(object, &r.field) == r.value) != r.negated)
    }
}

/// The string form of the field at a dotted path (`""` when absent), as field selectors compare it.
pub fn field_value(object: &Value, path: &str) -> String {
    let mut cur = object;
    for seg in path.split('.') {
        match cur.get(seg) {
            Some(v) => cur = v,
            None => return String::new(),
        }
    }
    match cur {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Object(o) if path == "source" => {
            o.get("component").and_then(Value::as_str).unwrap_or_default().to_string()
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(labels: Value) -> Value {
        json!({"metadata": {"name": "a", "namespace": "ns", "labels": labels}, "status": {"phase": "Running", "succeeded": 3}})
    }

    #[test]
    fn every_operator() {
        let o = obj(json!({"app": "web", "tier": "front", "n": "5"}));
        let m = |s: &str| LabelSelector::parse(s).expect(s).matches(&o);
        assert!(m(""));
        assert!(m("app=web"));
        assert!(m("app==web"));
        assert!(!m("app!=web"));
        assert!(m("missing!=x"));
        assert!(m("app in (web, api)"));
        assert!(!m("app notin (web,api)"));
        assert!(m("missing notin (a)"));
        assert!(!m("missing in (a)"));
        assert!(m("tier"));
        assert!(!m("!tier"));
        assert!(m("!missing"));
        assert!(m("app=web,tier in (front),!missing"));
        assert!(!m("app=web,tier=back"));
        assert!(m("n>4"));
        assert!(!m("n<5"));
        assert!(m(" app = web , tier "));
    }

    #[test]
    fn bad_selectors_say_what_is_wrong() {
        for bad in ["app in web", "=x", "app in (a", "a b c", "-bad=x", "app=has space", "a,,b", "n>x"] {
            let err = LabelSelector::parse(bad).expect_err(bad);
            assert!(err.0.starts_with("unable to parse requirement"), "{bad}: {err}");
        }
    }

    #[test]
    fn prefixed_keys() {
        let o = obj(json!({"tlc.dev/batch-id": "b1"}));
        assert!(LabelSelector::parse("tlc.dev/batch-id=b1").expect("parse").matches(&o));
        assert!(LabelSelector::parse("Bad_Prefix/x=1").is_err());
    }

    #[test]
    fn field_selectors() {
        let o = obj(json!({}));
        let allowed =
            |k: &str| ["metadata.name", "metadata.namespace", "status.phase", "status.succeeded"].contains(&k);
        let m = |s: &str| FieldSelector::parse(s, allowed).expect(s).matches(&o);
        assert!(m("metadata.name=a"));
        assert!(m("metadata.name==a,metadata.namespace=ns"));
        assert!(!m("status.phase!=Running"));
        assert!(m("status.phase=Running"));
        assert!(m("status.succeeded=3"));
        let err = FieldSelector::parse("spec.foo=1", allowed).expect_err("unknown key");
        assert_eq!(err.0, "field label not supported: spec.foo");
        assert!(FieldSelector::parse("nonsense", allowed).is_err());
    }

    #[test]
    fn escaped_commas_in_field_values() {
        let sel = FieldSelector::parse(r"metadata.name=a\,b", |_| true).expect("parse");
        assert_eq!(sel.requirements[0].value, "a,b");
    }

    #[test]
    fn dns_names() {
        assert!(is_dns_label("team-a1"));
        assert!(!is_dns_label("Team"));
        assert!(!is_dns_label("-a"));
        assert!(!is_dns_label(&"a".repeat(64)));
        assert!(is_dns_subdomain("a.b-c.d"));
        assert!(!is_dns_subdomain("a..b"));
    }
}

//! Names Argo derives deterministically: node ids (`Workflow.NodeID`), pod names
//! (`workflow/util/pod_name.go`, format v2), the names of expanded `withItems`/`withParam` steps
//! (`generateNodeName`), display names, and Go's spellings of durations and times where Argo prints
//! them into messages and annotations.

use serde_json::Value;

use crate::gojson;

/// FNV-1a, 32 bits: the hash Argo uses for node ids and pod names.
pub fn fnv32a(text: &str) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in text.bytes() {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash
}

/// A node's id: the workflow name for the root node, else `<workflow>-<fnv32a(node name)>`.
pub fn node_id(workflow: &str, node_name: &str) -> String {
    if workflow == node_name { workflow.to_string() } else { format!("{workflow}-{}", fnv32a(node_name)) }
}

/// Pod name format v2: `<workflow>-<template>-<fnv32a(node name)>`, the prefix cut to leave room
/// for the hash within Kubernetes' 253 characters; the workflow name itself for the root node.
pub fn pod_name(workflow: &str, node_name: &str, template: &str) -> String {
    if workflow == node_name {
        return workflow.to_string();
    }
    const MAX_PREFIX: usize = 253 - 10;
    let mut prefix = if template.is_empty() { workflow.to_string() } else { format!("{workflow}-{template}") };
    if prefix.len() > MAX_PREFIX - 1 {
        let mut cut = MAX_PREFIX - 1;
        while !prefix.is_char_boundary(cut) {
            cut -= 1;
        }
        prefix.truncate(cut);
    }
    format!("{prefix}-{}", fnv32a(node_name))
}

/// The name of one expanded item: `<step>(<index>:<description>)`, parentheses removed from the
/// description (`generateNodeName`).
pub fn item_node_name(step: &str, index: usize, description: &str) -> String {
    let clean: String = description.chars().filter(|c| *c != '(' && *c != ')').collect();
    format!("{step}({index}:{clean})")
}

/// The description of an item as Argo prints it into the node name: a string without its quotes,
/// a number or boolean as written, a map as its `key:value` pairs sorted and joined by commas, a
/// list as its compact JSON.
pub fn item_description(item: &Value) -> String {
    match item {
        Value::Object(map) => {
            let mut pairs: Vec<String> = map.iter().map(|(k, v)| format!("{k}:{}", gojson::item_string(v))).collect();
            pairs.sort();
            pairs.join(",")
        }
        other => gojson::item_string(other),
    }
}

/// A node's display name: its name relative to its boundary node, without the `[i].`/`.` that
/// joins steps (`initializeNode`); the whole name when there is no boundary.
pub fn display_name(node_name: &str, boundary_name: Option<&str>) -> String {
    let Some(boundary) = boundary_name else { return node_name.to_string() };
    let rest = node_name.strip_prefix(boundary).unwrap_or(node_name);
    // `^(\[\d+\])?\.`
    let bytes = rest.as_bytes();
    let mut i = 0;
    if bytes.first() == Some(&b'[') {
        let digits = bytes[1..].iter().take_while(|b| b.is_ascii_digit()).count();
        if digits > 0 && bytes.get(1 + digits) == Some(&b']') {
            i = 2 + digits;
        }
    }
    if bytes.get(i) == Some(&b'.') { rest[i + 1..].to_string() } else { rest.to_string() }
}

/// A duration as Go's `time.Duration.String` prints it (`10m0s`, `1h0m0s`, `1.5s`, `0s`).
pub fn go_duration(nanos: i128) -> String {
    if nanos == 0 {
        return "0s".to_string();
    }
    let negative = nanos < 0;
    let mut u = nanos.unsigned_abs();
    let mut out = String::new();
    if u < 1_000_000_000 {
        // Sub-second: ns, µs or ms with a fraction.
        let (unit, div) = if u < 1_000 {
            ("ns", 1u128)
        } else if u < 1_000_000 {
            ("µs", 1_000)
        } else {
            ("ms", 1_000_000)
        };
        out.push_str(&fraction(u, div));
        out.push_str(unit);
    } else {
        let hours = u / 3_600_000_000_000;
        u %= 3_600_000_000_000;
        let minutes = u / 60_000_000_000;
        u %= 60_000_000_000;
        if hours > 0 {
            out.push_str(&format!("{hours}h{minutes}m"));
        } else if minutes > 0 {
            out.push_str(&format!("{minutes}m"));
        }
        out.push_str(&fraction(u, 1_000_000_000));
        out.push('s');
    }
    if negative { format!("-{out}") } else { out }
}

fn fraction(value: u128, div: u128) -> String {
    let whole = value / div;
    let rest = value % div;
    if rest == 0 {
        return whole.to_string();
    }
    let width = div.to_string().len() - 1;
    let digits = format!("{rest:0width$}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

/// A time as Go's `time.Time.String` prints a UTC time (`2025-01-02 03:04:05 +0000 UTC`), which
/// is how Argo formats a deadline into a message.
pub fn go_time_string(t: jiff::Timestamp) -> String {
    let z = t.to_zoned(jiff::tz::TimeZone::UTC);
    let mut s = z.strftime("%Y-%m-%d %H:%M:%S").to_string();
    let nanos = z.subsec_nanosecond();
    if nanos != 0 {
        let digits = format!("{nanos:09}");
        s.push('.');
        s.push_str(digits.trim_end_matches('0'));
    }
    s.push_str(" +0000 UTC");
    s
}

/// A timestamp the way `metav1.Time` marshals it: RFC 3339, whole seconds, `Z`.
pub fn rfc3339(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Parses a `metav1.Time` (or any RFC 3339 time).
pub fn parse_time(text: &str) -> Option<jiff::Timestamp> {
    text.parse::<jiff::Timestamp>().ok()
}

/// Parses a Go/Argo duration string (`600s`, `10m`, `1h30m`, `1.5h`, a bare number of seconds).
pub fn parse_go_duration(text: &str) -> Option<std::time::Duration> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if let Ok(seconds) = text.parse::<f64>() {
        return (seconds >= 0.0 && seconds.is_finite()).then(|| std::time::Duration::from_secs_f64(seconds));
    }
    let mut total = 0f64;
    let mut rest = text;
    while !rest.is_empty() {
        let number_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        if number_len == 0 {
            return None;
        }
        let number: f64 = rest[..number_len].parse().ok()?;
        rest = &rest[number_len..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let scale = match unit {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        total += number * scale;
    }
    Some(std::time::Duration::from_secs_f64(total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn node_ids_match_the_fixtures() {
        // tests/fixtures/argo/semaphore-tmpl-withparam-running.yaml
        let wf = "semaphore-tmpl-level-xjvln";
        assert_eq!(node_id(wf, wf), wf);
        assert_eq!(node_id(wf, "semaphore-tmpl-level-xjvln[0].generate"), "semaphore-tmpl-level-xjvln-5807216");
        assert_eq!(node_id(wf, "semaphore-tmpl-level-xjvln[0]"), "semaphore-tmpl-level-xjvln-2790796867");
        assert_eq!(node_id(wf, "semaphore-tmpl-level-xjvln[1]"), "semaphore-tmpl-level-xjvln-2858054438");
        assert_eq!(node_id(wf, "semaphore-tmpl-level-xjvln[1].sleep(0:1)"), "semaphore-tmpl-level-xjvln-3448864205");
        assert_eq!(node_id(wf, "semaphore-tmpl-level-xjvln[1].sleep(1:2)"), "semaphore-tmpl-level-xjvln-1607747183");
        // many-items: withItems strings
        assert_eq!(node_id("many-items-z26lj", "many-items-z26lj[0].sleep(8:eight)"), "many-items-z26lj-753834747");
        assert_eq!(node_id("many-items-z26lj", "many-items-z26lj[0]"), "many-items-z26lj-1414877240");
        // fails-with-param-dag: retry attempts
        assert_eq!(
            node_id("reproduce-bug-9tpfr", "reproduce-bug-9tpfr.process-tasks(7:7)(0)"),
            "reproduce-bug-9tpfr-585646929"
        );
        assert_eq!(
            node_id("reproduce-bug-9tpfr", "reproduce-bug-9tpfr.process-tasks(6:6)"),
            "reproduce-bug-9tpfr-546685502"
        );
    }

    #[test]
    fn fnv32a_reference_values() {
        assert_eq!(fnv32a(""), 0x811c_9dc5);
        assert_eq!(fnv32a("a"), 0xe40c_292c);
        assert_eq!(fnv32a("foobar"), 0xbf9c_f968);
    }

    #[test]
    fn pod_names_v2() {
        assert_eq!(pod_name("wf", "wf", "main"), "wf");
        assert_eq!(pod_name("wf", "wf[0].discovery", "discover"), format!("wf-discover-{}", fnv32a("wf[0].discovery")));
        let long = "t".repeat(300);
        let name = pod_name("wf", "wf[0].x", &long);
        assert_eq!(name.len(), 242 + 1 + fnv32a("wf[0].x").to_string().len());
        assert!(name.starts_with("wf-ttt"));
    }

    #[test]
    fn item_descriptions_follow_generate_node_name() {
        assert_eq!(item_description(&json!("zero")), "zero");
        assert_eq!(item_description(&json!(2)), "2");
        assert_eq!(item_description(&json!(true)), "true");
        let job = json!({"namespace": "billing", "name": "billing-account"});
        assert_eq!(item_description(&job), "name:billing-account,namespace:billing");
        assert_eq!(
            item_node_name("bridge", 0, &item_description(&job)),
            "bridge(0:name:billing-account,namespace:billing)"
        );
        // Parentheses inside values are stripped, the index keeps names unique.
        let odd = json!({"name": "job (v2)", "namespace": "a"});
        assert_eq!(item_node_name("bridge", 3, &item_description(&odd)), "bridge(3:name:job v2,namespace:a)");
        assert_eq!(item_description(&json!(["a", 1])), r#"["a",1]"#);
        // A map value that is itself a map is printed as compact JSON.
        assert_eq!(item_description(&json!({"a": {"b": 1}})), r#"a:{"b":1}"#);
    }

    #[test]
    fn display_names_are_relative_to_the_boundary() {
        assert_eq!(display_name("wf", None), "wf");
        assert_eq!(display_name("wf[0]", Some("wf")), "[0]");
        assert_eq!(display_name("wf[1].bridge(0:a)", Some("wf")), "bridge(0:a)");
        assert_eq!(display_name("wf[1].bridge(0:a)(1)", Some("wf")), "bridge(0:a)(1)");
        assert_eq!(display_name("wf.onExit", Some("wf")), "onExit");
    }

    #[test]
    fn go_durations() {
        assert_eq!(go_duration(600_000_000_000), "10m0s");
        assert_eq!(go_duration(0), "0s");
        assert_eq!(go_duration(3_600_000_000_000), "1h0m0s");
        assert_eq!(go_duration(1_500_000_000), "1.5s");
        assert_eq!(go_duration(30_000_000_000), "30s");
        assert_eq!(go_duration(5_000_000), "5ms");
        assert_eq!(parse_go_duration("600s"), Some(std::time::Duration::from_secs(600)));
        assert_eq!(parse_go_duration("1h30m"), Some(std::time::Duration::from_secs(5400)));
        assert_eq!(parse_go_duration("20"), Some(std::time::Duration::from_secs(20)));
        assert_eq!(parse_go_duration("soon"), None);
    }

    #[test]
    fn go_time_strings() {
        let t: jiff::Timestamp = "2025-01-02T03:04:05Z".parse().expect("time");
        assert_eq!(go_time_string(t), "2025-01-02 03:04:05 +0000 UTC");
        assert_eq!(rfc3339(t), "2025-01-02T03:04:05Z");
    }
}

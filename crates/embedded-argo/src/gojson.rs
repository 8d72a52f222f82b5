//! JSON the way Go's `encoding/json` writes and rejects it, where Argo puts its output into names,
//! parameters and messages: an item's string form (`Item.String`), a map item's JSON, and the
//! error text of unmarshalling a `withParam` value into `[]v1alpha1.Item`.

use std::fmt::Write as _;

use serde_json::Value;

/// Writes a JSON string literal as Go does: `\"`, `\\`, `\n`, `\r`, `\t`, other control characters
/// and the HTML-sensitive `<`, `>`, `&` and U+2028/U+2029 as `\u00XX`.
fn write_go_string(out: &mut String, s: &str, escape_html: bool) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' if escape_html => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Compact JSON with Go's string escaping; object keys in the order they are stored (sorted).
pub fn marshal(value: &Value, escape_html: bool) -> String {
    let mut out = String::new();
    write_value(&mut out, value, escape_html);
    out
}

fn write_value(out: &mut String, value: &Value, escape_html: bool) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_go_string(out, s, escape_html),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item, escape_html);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_go_string(out, k, escape_html);
                out.push(':');
                write_value(out, v, escape_html);
            }
            out.push('}');
        }
    }
}

/// `Item.String()`: the item's normalised JSON with HTML escapes undone (`jsonutil.Fix`), a string
/// without its surrounding quotes (its inner escapes stay, as upstream's do).
pub fn item_string(item: &Value) -> String {
    let json = marshal(item, false);
    match item {
        Value::String(_) => json[1..json.len() - 1].to_string(),
        _ => json,
    }
}

/// The `{{item}}` value of a map item: `json.Marshal(map[string]Item)` (HTML-escaped, keys sorted).
pub fn map_item_json(item: &Value) -> String {
    marshal(item, true)
}

/// The error `json.Unmarshal` gives for `text` decoded into `[]v1alpha1.Item`, or the list.
pub fn parse_item_list(text: &str) -> Result<Vec<Value>, String> {
    check_syntax(text)?;
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Array(items)) => Ok(items),
        Ok(Value::Null) => Ok(Vec::new()),
        Ok(other) => {
            let kind = match other {
                Value::Bool(_) => "bool",
                Value::Number(_) => "number",
                Value::String(_) => "string",
                _ => "object",
            };
            Err(format!("json: cannot unmarshal {kind} into Go value of type []v1alpha1.Item"))
        }
        Err(e) => Err(e.to_string()),
    }
}

fn quote_char(c: char) -> String {
    match c {
        '\'' => "'\\''".to_string(),
        '"' => "'\"'".to_string(),
        c => {
            let debug = format!("{:?}", c.to_string());
            format!("'{}'", &debug[1..debug.len() - 1])
        }
    }
}

struct Scanner<'a> {
    chars: std::iter::Peekable<std::str::CharIndices<'a>>,
}

impl Scanner<'_> {
    fn skip_space(&mut self) {
        while let Some((_, c)) = self.chars.peek() {
            if matches!(c, ' ' | '\t' | '\n' | '\r') {
                self.chars.next();
            } else {
                break;
            }
        }
    }

    fn next(&mut self) -> Result<char, String> {
        self.chars.next().map(|(_, c)| c).ok_or_else(|| "unexpected end of JSON input".to_string())
    }

    fn peek(&mut self) -> Option<char> {
        self.chars.peek().map(|(_, c)| *c)
    }

    fn value(&mut self) -> Result<(), String> {
        self.skip_space();
        let c = self.next()?;
        match c {
            '{' => self.object(),
            '[' => self.array(),
            '"' => self.string(),
            '-' | '0'..='9' => self.number(c),
            't' => self.literal("rue", "true"),
            'f' => self.literal("alse", "false"),
            'n' => self.literal("ull", "null"),
            c => Err(format!("invalid character {} looking for beginning of value", quote_char(c))),
        }
    }

    fn literal(&mut self, rest: &str, word: &str) -> Result<(), String> {
        for expected in rest.chars() {
            let c = self.next()?;
            if c != expected {
                return Err(format!("invalid character {} in literal {word} (expecting '{expected}')", quote_char(c)));
            }
        }
        Ok(())
    }

    fn string(&mut self) -> Result<(), String> {
        loop {
            let c = self.next()?;
            match c {
                '"' => return Ok(()),
                '\\' => {
                    let e = self.next()?;
                    match e {
                        '"' | '\\' | '/' | 'b' | 'f' | 'n' | 'r' | 't' => {}
                        'u' => {
                            for _ in 0..4 {
                                let h = self.next()?;
                                if !h.is_ascii_hexdigit() {
                                    return Err(format!(
                                        "invalid character {} in \\u hexadecimal character escape",
                                        quote_char(h)
                                    ));
                                }
                            }
                        }
                        e => return Err(format!("invalid character {} in string escape code", quote_char(e))),
                    }
                }
                c if (c as u32) < 0x20 => return Err(format!("invalid character {} in string literal", quote_char(c))),
                _ => {}
            }
        }
    }

    fn digits(&mut self) -> usize {
        let mut n = 0;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.chars.next();
            n += 1;
        }
        n
    }

    fn number(&mut self, first: char) -> Result<(), String> {
        let first_digit = if first == '-' {
            let c = self.next()?;
            if !c.is_ascii_digit() {
                return Err(format!("invalid character {} in numeric literal", quote_char(c)));
            }
            c
        } else {
            first
        };
        if first_digit != '0' {
            self.digits();
        }
        if self.peek() == Some('.') {
            self.chars.next();
            if self.digits() == 0 {
                let c = self.next()?;
                return Err(format!("invalid character {} after decimal point in numeric literal", quote_char(c)));
            }
        }
        if matches!(self.peek(), Some('e' | 'E')) {
            self.chars.next();
            if matches!(self.peek(), Some('+' | '-')) {
                self.chars.next();
            }
            if self.digits() == 0 {
                let c = self.next()?;
                return Err(format!("invalid character {} in exponent of numeric literal", quote_char(c)));
            }
        }
        Ok(())
    }

    fn array(&mut self) -> Result<(), String> {
        self.skip_space();
        if self.peek() == Some(']') {
            self.chars.next();
            return Ok(());
        }
        loop {
            self.value()?;
            self.skip_space();
            match self.next()? {
                ',' => continue,
                ']' => return Ok(()),
                c => return Err(format!("invalid character {} after array element", quote_char(c))),
            }
        }
    }

    fn object(&mut self) -> Result<(), String> {
        self.skip_space();
        if self.peek() == Some('}') {
            self.chars.next();
            return Ok(());
        }
        loop {
            self.skip_space();
            let c = self.next()?;
            if c != '"' {
                return Err(format!("invalid character {} looking for beginning of object key string", quote_char(c)));
            }
            self.string()?;
            self.skip_space();
            let c = self.next()?;
            if c != ':' {
                return Err(format!("invalid character {} after object key", quote_char(c)));
            }
            self.value()?;
            self.skip_space();
            match self.next()? {
                ',' => continue,
                '}' => return Ok(()),
                c => return Err(format!("invalid character {} after object key:value pair", quote_char(c))),
            }
        }
    }
}

/// Go's syntax check of a JSON document, with its error messages.
pub fn check_syntax(text: &str) -> Result<(), String> {
    let mut s = Scanner { chars: text.char_indices().peekable() };
    s.value()?;
    s.skip_space();
    match s.chars.next() {
        None => Ok(()),
        Some((_, c)) => Err(format!("invalid character {} after top-level value", quote_char(c))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn item_strings_keep_inner_escapes() {
        assert_eq!(item_string(&json!("plain")), "plain");
        assert_eq!(item_string(&json!("a\"b")), "a\\\"b");
        assert_eq!(item_string(&json!("line\nnext")), "line\\nnext");
        assert_eq!(item_string(&json!("<b>&")), "<b>&");
        assert_eq!(item_string(&json!(12)), "12");
        assert_eq!(item_string(&json!({"b": 1, "a": "x"})), r#"{"a":"x","b":1}"#);
        assert_eq!(map_item_json(&json!({"a": "<x>"})), r#"{"a":"\u003cx\u003e"}"#);
    }

    #[test]
    fn with_param_errors_read_like_go() {
        assert_eq!(parse_item_list("[1, \"a\"]").expect("list").len(), 2);
        assert_eq!(parse_item_list("null").expect("null").len(), 0);
        assert_eq!(
            parse_item_list(r#"{"a": 1}"#).expect_err("object"),
            "json: cannot unmarshal object into Go value of type []v1alpha1.Item"
        );
        assert_eq!(
            parse_item_list(r#""x""#).expect_err("string"),
            "json: cannot unmarshal string into Go value of type []v1alpha1.Item"
        );
        assert_eq!(
            parse_item_list("not json").expect_err("syntax"),
            "invalid character 'o' in literal null (expecting 'u')"
        );
        assert_eq!(
            parse_item_list("hello").expect_err("syntax"),
            "invalid character 'h' looking for beginning of value"
        );
        assert_eq!(parse_item_list("[1,").expect_err("eof"), "unexpected end of JSON input");
        assert_eq!(parse_item_list("[1 2]").expect_err("array"), "invalid character '2' after array element");
        assert_eq!(parse_item_list("[1] x").expect_err("top"), "invalid character 'x' after top-level value");
        assert_eq!(
            parse_item_list("{{steps.a.outputs.parameters.b}}").expect_err("tag"),
            "invalid character '{' looking for beginning of object key string"
        );
        assert_eq!(parse_item_list("").expect_err("empty"), "unexpected end of JSON input");
    }
}

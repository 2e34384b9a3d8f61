//! YAML text for imported entities, written from their JSON form: block style, short
//! lists and small maps of plain values inline, strings quoted only when YAML would
//! read them as something else. Keys come in a fixed reading order (what an entity
//! is before how it behaves), then alphabetically: JSON maps here are sorted.

use serde_json::Value;

/// Keys whose `false` is the model's default: left out, as an admin would.
const FALSE_BY_DEFAULT: [&str; 4] = [
    "announce_holdtime",
    "recording",
    "delete_after_email",
    "in_directory",
];

/// The value without what the model fills in anyway: empty lists, default `false`s.
fn trimmed(v: &Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, v)| {
                    !(v.as_array().is_some_and(Vec::is_empty)
                        || (FALSE_BY_DEFAULT.contains(&k.as_str()) && **v == Value::Bool(false)))
                })
                .map(|(k, v)| (k.clone(), trimmed(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(trimmed).collect()),
        other => other.clone(),
    }
}

/// One document: a top-level key holding a list, with a header comment.
pub fn document(header: &str, key: &str, items: &[Value]) -> String {
    let items: Vec<Value> = items.iter().map(trimmed).collect();
    let mut out = String::new();
    for line in header.lines() {
        out.push_str(&format!("# {line}\n").replace("# \n", "#\n"));
    }
    out.push_str(&format!("{key}:\n"));
    for item in &items {
        list_item(&mut out, item, 1);
    }
    out
}

/// Keys that lead, in this order.
const LEADING: [&str; 8] = [
    "name", "number", "server", "type", "host", "did", "callerid", "exten",
];

fn ordered(map: &serde_json::Map<String, Value>) -> Vec<(&String, &Value)> {
    let mut keys: Vec<(&String, &Value)> = map.iter().collect();
    keys.sort_by_key(|(k, _)| {
        (
            LEADING.iter().position(|l| l == k).unwrap_or(LEADING.len()),
            k.as_str(),
        )
    });
    keys
}

fn list_item(out: &mut String, item: &Value, depth: usize) {
    let pad = "  ".repeat(depth);
    match item {
        Value::Object(map) if !map.is_empty() && inline(item).is_none() => {
            let mut first = true;
            for (k, v) in ordered(map) {
                let lead = if first {
                    format!("{pad}- ")
                } else {
                    format!("{pad}  ")
                };
                first = false;
                entry(out, &lead, k, v, depth + 1);
            }
        }
        _ => out.push_str(&format!(
            "{pad}- {}\n",
            inline(item).unwrap_or_else(|| block_scalar(item))
        )),
    }
}

fn entry(out: &mut String, lead: &str, key: &str, value: &Value, depth: usize) {
    let key = scalar(key);
    if let Some(text) = inline(value) {
        out.push_str(&format!("{lead}{key}: {text}\n"));
        return;
    }
    out.push_str(&format!("{lead}{key}:\n"));
    match value {
        Value::Object(map) => {
            let pad = "  ".repeat(depth + 1);
            for (k, v) in ordered(map) {
                entry(out, &pad, k, v, depth + 1);
            }
        }
        Value::Array(items) => {
            for item in items {
                list_item(out, item, depth + 1);
            }
        }
        _ => unreachable!("scalars are inline"),
    }
}

fn block_scalar(v: &Value) -> String {
    inline(v).unwrap_or_default()
}

/// The value on one line, when it is short enough to read that way.
fn inline(v: &Value) -> Option<String> {
    let text = match v {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => scalar(s),
        Value::Array(items) => {
            let parts: Option<Vec<String>> = items
                .iter()
                .map(|i| {
                    if i.is_object() || i.is_array() {
                        None
                    } else {
                        inline(i)
                    }
                })
                .collect();
            format!("[{}]", parts?.join(", "))
        }
        Value::Object(map) => {
            let parts: Option<Vec<String>> = ordered(map)
                .into_iter()
                .map(|(k, i)| {
                    if i.is_object() || i.is_array() {
                        None
                    } else {
                        Some(format!("{}: {}", scalar(k), inline(i)?))
                    }
                })
                .collect();
            format!("{{{}}}", parts?.join(", "))
        }
    };
    (text.len() <= 72 || !(v.is_array() || v.is_object())).then_some(text)
}

/// A string as a YAML scalar: plain when YAML reads it back as the same string,
/// else double-quoted with JSON escapes (valid YAML).
pub fn scalar(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '/' || c == '_')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || " _./@+-()".contains(c))
        && !s.ends_with(' ')
        && !matches!(
            s.to_ascii_lowercase().as_str(),
            "yes" | "no" | "true" | "false" | "on" | "off" | "null" | "y" | "n" | "~"
        );
    if plain {
        s.to_owned()
    } else {
        serde_json::to_string(s).expect("a string serializes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn entities_come_out_as_block_yaml_with_short_values_inline() {
        let items = [
            json!({"number": "101", "name": "Anna", "secret": {"env": "X_101"}, "codecs": ["ulaw", "alaw"], "forward": {"no_answer": "hangup", "busy": {"voicemail": "101"}}}),
        ];
        assert_eq!(
            document("Imported.", "extensions", &items),
            "# Imported.\nextensions:\n  - name: Anna\n    number: \"101\"\n    codecs: [ulaw, alaw]\n    forward:\n      busy: {voicemail: \"101\"}\n      no_answer: hangup\n    secret: {env: X_101}\n"
        );
    }

    #[test]
    fn strings_yaml_would_misread_are_quoted() {
        assert_eq!(scalar("yes"), "\"yes\"");
        assert_eq!(scalar("101"), "\"101\"");
        assert_eq!(scalar("a: b"), "\"a: b\"");
        assert_eq!(scalar("${EXTEN}"), "\"${EXTEN}\"");
        assert_eq!(scalar("Anna Petrova"), "Anna Petrova");
    }
}

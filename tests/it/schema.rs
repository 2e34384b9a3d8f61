//! The JSON Schema is the contract: committed, complete, and what validate enforces.

use serde_json::Value;

use astbase::validate::schema::{schema, schema_text};

#[test]
fn committed_schema_matches_the_types() {
    let committed = std::fs::read_to_string("schema/astbase.schema.json")
        .expect("schema/astbase.schema.json exists");
    assert!(
        committed == schema_text(),
        "schema/astbase.schema.json is stale: run `cargo run -- schema > schema/astbase.schema.json` and commit it"
    );
}

/// Every property of every object schema carries a description (on itself or its $ref).
#[test]
fn every_field_has_a_description() {
    let root = schema();
    let mut missing = Vec::new();
    let mut stack: Vec<(String, &Value)> = vec![("#".into(), root)];
    while let Some((path, node)) = stack.pop() {
        match node {
            Value::Object(map) => {
                if let Some(Value::Object(props)) = map.get("properties") {
                    for (name, prop) in props {
                        let has = prop.get("description").is_some()
                            || prop
                                .get("$ref")
                                .and_then(Value::as_str)
                                .and_then(|r| root.pointer(r.trim_start_matches('#')))
                                .is_some_and(|d| d.get("description").is_some());
                        if !has {
                            missing.push(format!("{path}/properties/{name}"));
                        }
                    }
                }
                for (k, v) in map {
                    stack.push((format!("{path}/{k}"), v));
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    stack.push((format!("{path}/{i}"), v));
                }
            }
            _ => {}
        }
    }
    assert!(
        missing.is_empty(),
        "fields without description: {missing:#?}"
    );
}

/// What an editor sees: the committed schema accepts every file of the good examples.
#[test]
fn examples_satisfy_the_committed_schema() {
    let committed: Value =
        serde_json::from_str(&std::fs::read_to_string("schema/astbase.schema.json").unwrap())
            .unwrap();
    let validator = jsonschema::validator_for(&committed).unwrap();
    let mut checked = 0;
    for example in ["examples/company", "examples/production"] {
        for entry in walk(example) {
            let text = std::fs::read_to_string(&entry).unwrap();
            let tree = astbase::source::yaml::parse(&text).unwrap();
            let value = tree.map(|t| t.to_json()).unwrap_or(Value::Null);
            if value.is_null() {
                continue;
            }
            let errors: Vec<String> = validator
                .iter_errors(&value)
                .map(|e| e.to_string())
                .collect();
            assert!(errors.is_empty(), "{entry}: {errors:?}");
            checked += 1;
        }
    }
    assert!(checked >= 10, "only {checked} files checked");
}

fn walk(dir: &str) -> Vec<String> {
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.unwrap();
        let path = entry.path().to_string_lossy().into_owned();
        if (path.ends_with(".yaml") || path.ends_with(".yml")) && !path.contains("/hosts/") {
            out.push(path);
        }
    }
    out
}

/// Every pattern of the schema, with where it is.
fn patterns(node: &Value, path: &str, out: &mut Vec<(String, String)>) {
    match node {
        Value::Object(map) => {
            if let Some(Value::String(p)) = map.get("pattern") {
                out.push((path.to_owned(), p.clone()));
            }
            for (k, v) in map {
                patterns(v, &format!("{path}/{k}"), out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                patterns(v, &format!("{path}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// A bounded repeat such as `{1,4095}` compiles to an automaton with a copy of its class
/// per repetition (tens of megabytes and ~60 ms for the schema's few, built by every
/// command that validates); lengths are `maxLength` instead.
#[test]
fn no_schema_pattern_repeats_anything_more_than_80_times() {
    let mut found = Vec::new();
    patterns(schema(), "#", &mut found);
    assert!(
        found.len() > 40,
        "the schema has its patterns: {}",
        found.len()
    );
    let mut large = Vec::new();
    for (path, pattern) in &found {
        let mut rest = pattern.as_str();
        while let Some(open) = rest.find('{') {
            rest = &rest[open + 1..];
            let Some(close) = rest.find('}') else { break };
            let bound = rest[..close].rsplit(',').next().unwrap_or("");
            if bound.parse::<u32>().is_ok_and(|n| n > 80) {
                large.push(format!("{path}: {pattern}"));
            }
        }
    }
    assert_eq!(large, Vec::<String>::new());
}

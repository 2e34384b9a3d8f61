//! The JSON Schema contract: generated from the model types, checked against every file.
//!
//! jsonschema's own messages talk about schemas; ours talk about the user's YAML: each
//! error is mapped back to the node (or key) it concerns, with a hint drawn from the
//! field's description in the schema.

use std::sync::OnceLock;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::{ValidationError, Validator};
use serde_json::Value as Json;

use crate::diagnostics::{Diagnostic, Location, MAX_KEPT_PER_FILE, quote};
use crate::model::Document;
use crate::source::{FileId, Node, Pointer, Segment};

use super::suggest::did_you_mean;

/// The schema of a fleet file, as committed at `schema/astbase.schema.json`.
pub fn schema() -> &'static Json {
    static SCHEMA: OnceLock<Json> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let generator = schemars::generate::SchemaSettings::draft2020_12()
            .with_transform(strip_null)
            .into_generator();
        let mut schema = generator.into_root_schema_for::<Document>();
        schema.insert(
            "$id".into(),
            "https://astbase.dev/schema/astbase.schema.json".into(),
        );
        schema.insert(
            "description".into(),
            "A file of an astbase config repository: the root astbase.yaml or any other \
             *.yaml below it."
                .into(),
        );
        schema.to_value()
    })
}

/// Optional fields are written by leaving them out, never as `null`: dropping the null
/// alternatives keeps the schema (and its error messages) about real values only.
fn strip_null(schema: &mut schemars::Schema) {
    if let Some(obj) = schema.as_object_mut() {
        if let Some(Json::Array(types)) = obj.get_mut("type") {
            types.retain(|t| t != "null");
            if types.len() == 1 {
                let only = types.remove(0);
                obj.insert("type".into(), only);
            }
        }
        let null = serde_json::json!({"type": "null"});
        if let Some(Json::Array(alts)) = obj.get("anyOf")
            && alts.contains(&null)
        {
            let mut rest: Vec<Json> = alts.iter().filter(|a| **a != null).cloned().collect();
            obj.remove("anyOf");
            if rest.len() == 1 {
                if let Json::Object(inner) = rest.remove(0) {
                    for (k, v) in inner {
                        obj.entry(k).or_insert(v);
                    }
                }
            } else {
                obj.insert("anyOf".into(), Json::Array(rest));
            }
        }
    }
    schemars::transform::transform_subschemas(&mut strip_null, schema);
}

/// The schema as pretty JSON with a final newline (what `astbase schema` prints).
pub fn schema_text() -> String {
    let mut text = serde_json::to_string_pretty(schema()).expect("schema serializes");
    text.push('\n');
    text
}

fn validator() -> &'static Validator {
    static VALIDATOR: OnceLock<Validator> = OnceLock::new();
    VALIDATOR
        .get_or_init(|| jsonschema::validator_for(schema()).expect("generated schema compiles"))
}

/// Whether a file's value satisfies the schema (the fast check: no error is built).
pub fn is_valid(value: &Json) -> bool {
    validator().is_valid(value)
}

/// Checks one file's value; returns its diagnostics and the paths that failed.
pub fn check(file: FileId, tree: &Node, value: &Json) -> SchemaCheck {
    let mut result = SchemaCheck::default();
    if validator().is_valid(value) {
        return result;
    }
    for error in validator().iter_errors(value) {
        if result.diagnostics.len() < MAX_KEPT_PER_FILE {
            explain(
                file,
                tree,
                &error,
                &mut result.diagnostics,
                &mut result.failed,
            );
        } else {
            // Past the cap only what failed is kept (so no invalid entity reaches the
            // model), not a message: a million broken items must not cost a million.
            result.omitted += 1;
            let path = pointer_of(error.instance_path());
            if let ValidationErrorKind::AdditionalProperties { unexpected } = error.kind() {
                result
                    .failed
                    .extend(unexpected.iter().map(|key| path.clone().key(key)));
            }
            result.failed.push(path);
        }
    }
    result
}

/// What the schema check of one file found.
#[derive(Default)]
pub struct SchemaCheck {
    pub diagnostics: Vec<Diagnostic>,
    /// Paths that failed: the items under them are left out of the model.
    pub failed: Vec<Pointer>,
    /// Errors past [`MAX_KEPT_PER_FILE`], counted only.
    pub omitted: usize,
}

fn pointer_of(location: &jsonschema::paths::Location) -> Pointer {
    location
        .segments()
        .map(|s| match s {
            jsonschema::paths::LocationSegment::Property(p) => Segment::Key(p.into_owned().into()),
            jsonschema::paths::LocationSegment::Index(i) => Segment::Index(i),
        })
        .collect()
}

/// The schema node an error's keyword belongs to (the keyword's parent object).
fn schema_node(error: &ValidationError) -> Option<&'static Json> {
    let uri = error.absolute_keyword_location()?;
    let fragment = uri.fragment()?.as_str();
    let decoded = percent_decode(fragment);
    let pointer = decoded.rsplit_once('/').map(|(parent, _)| parent)?;
    schema().pointer(pointer)
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(b) = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Follows a `$ref` to its definition.
fn resolve(node: &'static Json) -> &'static Json {
    match node.get("$ref").and_then(Json::as_str) {
        Some(r) => r
            .strip_prefix('#')
            .and_then(|p| schema().pointer(p))
            .map_or(node, resolve),
        None => node,
    }
}

fn description(node: Option<&'static Json>) -> Option<String> {
    let node = node?;
    node.get("description")
        .or_else(|| resolve(node).get("description"))
        .and_then(Json::as_str)
        .map(str::to_owned)
}

fn type_name(value: &Json) -> &'static str {
    match value {
        Json::Null => "nothing",
        Json::Bool(_) => "true/false",
        Json::Number(_) => "a number",
        Json::String(_) => "text",
        Json::Array(_) => "a list",
        Json::Object(_) => "a mapping",
    }
}

fn expected_types(kind: &TypeKind) -> String {
    let name = |t: &jsonschema::JsonType| match t.to_string().as_str() {
        "boolean" => "true or false".to_owned(),
        "integer" => "a whole number".to_owned(),
        "number" => "a number".to_owned(),
        "string" => "text".to_owned(),
        "array" => "a list".to_owned(),
        "object" => "a mapping".to_owned(),
        "null" => "nothing".to_owned(),
        other => other.to_owned(),
    };
    match kind {
        TypeKind::Single(t) => name(t),
        TypeKind::Multiple(set) => set
            .iter()
            .map(|t| name(&t))
            .collect::<Vec<_>>()
            .join(" or "),
    }
}

/// A short form of one alternative of an `anyOf`/`oneOf`, for "expected one of".
fn describe_alternative(node: &'static Json) -> String {
    let node = resolve(node);
    if let Some(c) = node.get("const") {
        return c.as_str().map_or_else(|| c.to_string(), str::to_owned);
    }
    if let Some(values) = node.get("enum").and_then(Json::as_array) {
        return values
            .iter()
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
            .collect::<Vec<_>>()
            .join(", ");
    }
    if let Some(required) = node.get("required").and_then(Json::as_array)
        && let Some(key) = required.first().and_then(Json::as_str)
    {
        return format!("{{{key}: ...}}");
    }
    match node.get("type").and_then(Json::as_str) {
        Some("string") => "text".into(),
        Some("integer") => "a whole number".into(),
        Some(other) => other.into(),
        None => "a value".into(),
    }
}

fn alternatives(node: Option<&'static Json>) -> Vec<String> {
    let Some(node) = node else { return Vec::new() };
    let node = resolve(node);
    node.get("oneOf")
        .or_else(|| node.get("anyOf"))
        .and_then(Json::as_array)
        .map(|alts| alts.iter().map(describe_alternative).collect())
        .unwrap_or_default()
}

/// Whether every alternative is a single constant (a documented enum).
fn all_constants(node: Option<&'static Json>) -> bool {
    let Some(node) = node else { return false };
    let node = resolve(node);
    node.get("oneOf")
        .or_else(|| node.get("anyOf"))
        .and_then(Json::as_array)
        .is_some_and(|alts| alts.iter().all(|a| resolve(a).get("const").is_some()))
}

fn allowed_properties(node: Option<&'static Json>) -> Vec<String> {
    node.map(resolve)
        .and_then(|n| n.get("properties"))
        .and_then(Json::as_object)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

/// Does this error say "the value has the wrong shape for this alternative" (as opposed
/// to "right shape, wrong detail")?
fn is_shape_error(error: &ValidationError, root: &Pointer) -> bool {
    pointer_of(error.instance_path()) == *root
        && matches!(
            error.kind(),
            ValidationErrorKind::Type { .. }
                | ValidationErrorKind::Required { .. }
                | ValidationErrorKind::AdditionalProperties { .. }
                | ValidationErrorKind::Constant { .. }
                | ValidationErrorKind::Enum { .. }
                | ValidationErrorKind::OneOfNotValid { .. }
                | ValidationErrorKind::AnyOf { .. }
        )
}

fn explain(
    file: FileId,
    tree: &Node,
    error: &ValidationError,
    out: &mut Vec<Diagnostic>,
    failed: &mut Vec<Pointer>,
) {
    let path = pointer_of(error.instance_path());
    let instance = error.instance();
    let node = schema_node(error);
    let (value_node, key_node) = tree.lookup(path.segments());
    let at = |span| Location {
        file,
        span,
        path: Some(path.clone()),
        pending: None,
    };
    failed.push(path.clone());
    let d = match error.kind() {
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            let allowed = allowed_properties(node);
            for key in unexpected {
                let key_path = path.clone().key(key);
                let (_, key_span) = tree.lookup(key_path.segments());
                let span = key_span.map_or(value_node.span, |k| k.span);
                let message = if path.is_root() {
                    format!("unknown top-level key {}", quote(key))
                } else {
                    format!("unknown field {}", quote(key))
                };
                let hint = match did_you_mean(key, allowed.iter().map(String::as_str)) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("expected one of: {}", allowed.join(", ")),
                };
                failed.push(key_path.clone());
                out.push(
                    Diagnostic::error("unknown-field", message)
                        .at(Location {
                            file,
                            span,
                            path: Some(key_path),
                            pending: None,
                        })
                        .hint(hint),
                );
            }
            return;
        }
        ValidationErrorKind::Required { property } => {
            let name = property.as_str().unwrap_or_default();
            let field_node = node
                .map(resolve)
                .and_then(|n| n.get("properties"))
                .and_then(|p| p.get(name));
            let hint = description(field_node)
                .map(|d| format!("add `{name}:` ({})", first_sentence(&d)))
                .unwrap_or_else(|| format!("add `{name}:`"));
            Diagnostic::error("missing-field", format!("missing required field `{name}`"))
                .at(at(value_node.span))
                .hint(hint)
        }
        ValidationErrorKind::Type { kind } => {
            let expected = expected_types(kind);
            let mut d = Diagnostic::error(
                "wrong-type",
                format!("expected {expected}, found {}", type_name(instance)),
            )
            .at(at(value_node.span));
            let yes_no = ["yes", "no", "on", "off", "y", "n"];
            if expected.starts_with("true or false")
                && instance
                    .as_str()
                    .is_some_and(|s| yes_no.contains(&s.to_ascii_lowercase().as_str()))
            {
                d = d.hint("write `true` or `false` (YAML 1.2 reads yes/no/on/off as text)");
            } else if let Some(desc) = description(node) {
                d = d.hint(desc);
            }
            d
        }
        ValidationErrorKind::Enum { options } => {
            let options: Vec<String> = options
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            let shown = instance
                .as_str()
                .map_or_else(|| instance.to_string(), str::to_owned);
            let hint = match did_you_mean(&shown, options.iter().map(String::as_str)) {
                Some(s) => format!(
                    "did you mean `{s}`? expected one of: {}",
                    options.join(", ")
                ),
                None => format!("expected one of: {}", options.join(", ")),
            };
            Diagnostic::error(
                "invalid-value",
                format!("{} is not a valid value here", quote(&shown)),
            )
            .at(at(value_node.span))
            .hint(hint)
        }
        ValidationErrorKind::Constant { expected_value } => Diagnostic::error(
            "invalid-value",
            format!("expected {expected_value}, found {}", value_text(instance)),
        )
        .at(at(value_node.span)),
        ValidationErrorKind::Pattern { .. } => {
            let mut d = Diagnostic::error(
                "invalid-format",
                format!("{} does not have the expected format", value_text(instance)),
            )
            .at(at(value_node.span));
            if let Some(desc) = description(node) {
                d = d.hint(desc);
            }
            d
        }
        ValidationErrorKind::MaxLength { limit } => Diagnostic::error(
            "too-long",
            format!("text is longer than {limit} characters"),
        )
        .at(at(value_node.span))
        .hint("shorten it"),
        ValidationErrorKind::MinLength { limit } => Diagnostic::error(
            "too-short",
            format!("text is shorter than {limit} character(s)"),
        )
        .at(at(value_node.span)),
        ValidationErrorKind::Minimum { limit }
        | ValidationErrorKind::ExclusiveMinimum { limit } => Diagnostic::error(
            "out-of-range",
            format!("{} is below the minimum {limit}", value_text(instance)),
        )
        .at(at(value_node.span))
        .hint(description(node).unwrap_or_default()),
        ValidationErrorKind::Maximum { limit }
        | ValidationErrorKind::ExclusiveMaximum { limit } => Diagnostic::error(
            "out-of-range",
            format!("{} is above the maximum {limit}", value_text(instance)),
        )
        .at(at(value_node.span))
        .hint(description(node).unwrap_or_default()),
        ValidationErrorKind::MinItems { limit } => Diagnostic::error(
            "too-few-items",
            format!("the list needs at least {limit} item(s)"),
        )
        .at(at(value_node.span))
        .hint(description(node).unwrap_or_default()),
        ValidationErrorKind::MaxItems { limit } => Diagnostic::error(
            "too-many-items",
            format!("the list has more than {limit} items"),
        )
        .at(at(value_node.span)),
        ValidationErrorKind::OneOfNotValid { context } | ValidationErrorKind::AnyOf { context } => {
            // When exactly one alternative has the right shape, its errors are the real ones.
            let fitting: Vec<&Vec<ValidationError>> = context
                .iter()
                .filter(|errs| !errs.is_empty() && !errs.iter().any(|e| is_shape_error(e, &path)))
                .collect();
            if let [errors] = fitting.as_slice() {
                for e in errors.iter() {
                    explain(file, tree, e, out, failed);
                }
                return;
            }
            let alts = alternatives(node);
            if let Some(text) = instance.as_str()
                && !alts.is_empty()
                && all_constants(node)
            {
                let hint = match did_you_mean(text, alts.iter().map(String::as_str)) {
                    Some(s) => format!("did you mean `{s}`? expected one of: {}", alts.join(", ")),
                    None => format!("expected one of: {}", alts.join(", ")),
                };
                out.push(
                    Diagnostic::error(
                        "invalid-value",
                        format!("{} is not a valid value here", quote(text)),
                    )
                    .at(at(value_node.span))
                    .hint(hint),
                );
                return;
            }
            let mut d = Diagnostic::error(
                "invalid-value",
                format!("{} is not any of the accepted forms", value_text(instance)),
            )
            .at(at(value_node.span));
            if !alts.is_empty() {
                d = d.hint(format!("expected one of: {}", alts.join(" | ")));
            }
            d
        }
        _ => Diagnostic::error("schema", error.to_string()).at(at(value_node.span)),
    };
    let _ = key_node;
    out.push(d);
}

fn value_text(v: &Json) -> String {
    match v {
        Json::String(s) => quote(s),
        Json::Object(_) => "this mapping".into(),
        Json::Array(_) => "this list".into(),
        other => quote(&other.to_string()),
    }
}

fn first_sentence(text: &str) -> &str {
    text.split_once(". ")
        .map_or(text.trim_end_matches('.'), |(s, _)| s)
}

//! Plain scalars as YAML 1.2's core schema reads them, with astbase's exception for
//! phone numbers (a leading `0` or `+`, hex and octal forms stay text).

use serde_json::{Number, Value as Json};

use super::Scalar;

pub(super) fn resolve_scalar(s: &Scalar) -> Json {
    resolve_plain(s).unwrap_or_else(|| Json::String(s.text.clone()))
}

/// The same, taking the text rather than copying it when it has no spare room: the
/// parser reads plain scalars into 32-byte buffers, and a value may end up in the model,
/// held for the whole run.
pub(super) fn resolve_owned_scalar(s: Scalar) -> Json {
    resolve_plain(&s).unwrap_or_else(|| {
        Json::String(if s.text.capacity() == s.text.len() {
            s.text
        } else {
            s.text.as_str().to_owned()
        })
    })
}

/// The value of a scalar that is not text (null, a boolean, a number); `None` for text.
fn resolve_plain(s: &Scalar) -> Option<Json> {
    if !s.plain || s.forced_str {
        return None;
    }
    let t = s.text.as_str();
    match t {
        "" | "~" | "null" | "Null" | "NULL" => return Some(Json::Null),
        "true" | "True" | "TRUE" => return Some(Json::Bool(true)),
        "false" | "False" | "FALSE" => return Some(Json::Bool(false)),
        _ => {}
    }
    if let Some(n) = resolve_int(t) {
        return Some(Json::Number(n.into()));
    }
    if looks_like_float(t)
        && let Ok(f) = t.parse::<f64>()
        && let Some(n) = Number::from_f64(f)
    {
        return Some(Json::Number(n));
    }
    None
}

fn resolve_int(t: &str) -> Option<i64> {
    // `0x65` and `0o17` stay text like `0101`: a phone number is never written in hex,
    // and reading one as 101 would dial someone else.
    let digits = t.strip_prefix('-').unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if digits.len() > 1 && digits.starts_with('0') {
        return None;
    }
    t.parse().ok()
}

fn looks_like_float(t: &str) -> bool {
    let body = t.strip_prefix('-').unwrap_or(t);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let mut parts = mantissa.splitn(2, '.');
    let int = parts.next().unwrap_or("");
    let frac = parts.next();
    let digits_ok = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match frac {
        Some(f) => digits_ok(int) && digits_ok(f) && !(int.is_empty() && f.is_empty()),
        None => !int.is_empty() && digits_ok(int) && exponent.is_some(),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && digits_ok(e)
    });
    mantissa_ok && exponent_ok && !(int.len() > 1 && int.starts_with('0'))
}

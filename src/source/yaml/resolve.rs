//! Plain scalars as YAML 1.2's core schema reads them, with astbase's exception for
//! phone numbers (a leading `0` or `+`, hex and octal forms stay text).

use serde_json::{Number, Value as Json};

use super::Scalar;

pub(super) fn resolve_scalar(s: &Scalar) -> Json {
    if !s.plain || s.forced_str {
        return Json::String(s.text.clone());
    }
    let t = s.text.as_str();
    match t {
        "" | "~" | "null" | "Null" | "NULL" => return Json::Null,
        "true" | "True" | "TRUE" => return Json::Bool(true),
        "false" | "False" | "FALSE" => return Json::Bool(false),
        _ => {}
    }
    if let Some(n) = resolve_int(t) {
        return Json::Number(n.into());
    }
    if looks_like_float(t)
        && let Ok(f) = t.parse::<f64>()
        && let Some(n) = Number::from_f64(f)
    {
        return Json::Number(n);
    }
    Json::String(s.text.clone())
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

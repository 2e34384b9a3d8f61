//! Rules for text that ends up in Asterisk config lines.
//!
//! Asterisk reads configs line by line: CR, LF or NUL inside a value would start a new line
//! (a new `[section]`, an `#include`, an `#exec`), and lines over 8192 bytes are silently
//! skipped. These rules hold for every string of every file, whatever field it is in.

use crate::diagnostics::{Diagnostic, Location, quote};
use crate::model::names::NAME_PATTERN;
use crate::source::{FileId, Node};

/// Longest string accepted anywhere; generated lines must stay well under Asterisk's
/// 8192-byte line buffer.
pub const MAX_VALUE_BYTES: usize = 4000;

pub use crate::model::names::breaks_a_line;

/// Checks every scalar (keys included) of a file for control characters and length.
pub fn check_tree(file: FileId, tree: &Node, out: &mut Vec<Diagnostic>) {
    tree.walk_scalars(&mut |path, node, is_key| {
        let Some(scalar) = node.as_scalar() else {
            return;
        };
        let text = &scalar.text;
        let at = || Location {
            file,
            span: node.span,
            path: Some(crate::source::yaml::to_pointer(path)),
            pending: None,
        };
        if let Some(c) = text.chars().find(|c| breaks_a_line(*c)) {
            let what = match c {
                '\n' => "a line break (LF)".to_owned(),
                '\r' => "a carriage return (CR)".to_owned(),
                '\0' => "a NUL byte".to_owned(),
                '\t' => "a tab".to_owned(),
                '\u{2028}' => "a line separator (U+2028)".to_owned(),
                '\u{2029}' => "a paragraph separator (U+2029)".to_owned(),
                c => format!("the control character U+{:04X}", u32::from(c)),
            };
            let place = if is_key { "key" } else { "value" };
            out.push(
                Diagnostic::error(
                    "control-character",
                    format!("{place} {} contains {what}", quote(text)),
                )
                .at(at())
                .hint(
                    "Asterisk reads configs line by line, so a line break inside a value could \
                         inject sections or #include lines; keep the value on one line \
                         (in YAML, use a plain or quoted scalar instead of a `|` block)",
                ),
            );
        } else if text.trim() != text {
            // As render's escapers judge it: Unicode white space (U+00A0 too, which
            // YAML keeps even in a plain scalar).
            out.push(
                Diagnostic::error(
                    "surrounding-space",
                    format!("value {} starts or ends with white space", quote(text)),
                )
                .at(at())
                .hint("Asterisk strips white space at the ends of a value; remove it"),
            );
        } else if text.len() > MAX_VALUE_BYTES {
            out.push(
                Diagnostic::error(
                    "value-too-long",
                    format!(
                        "value is {} bytes long, more than {MAX_VALUE_BYTES}",
                        text.len()
                    ),
                )
                .at(at())
                .hint("Asterisk skips config lines over 8192 bytes; shorten the value"),
            );
        }
    });
}

/// Checks a name against the whitelist of characters allowed in section and context ids.
pub fn check_name(name: &str) -> Result<(), String> {
    let ok = name.len() <= 40
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(format!("a name must match {NAME_PATTERN}"))
    }
}

/// Checks user text that reaches dialplan arguments (caller-id names, display names).
///
/// `${...}` and `$[...]` are evaluated by Asterisk wherever they appear in an argument and
/// cannot be escaped; quotes and angle brackets break a caller id; a backslash escapes the
/// next character. None of these belong in a person's name.
pub fn check_dialplan_text(text: &str) -> Result<(), String> {
    if text.contains("${") || text.contains("$[") {
        return Err("contains `${` or `$[`, which Asterisk would evaluate as an expression".into());
    }
    if let Some(c) = text
        .chars()
        .find(|c| matches!(c, '"' | '<' | '>' | '\\') || c.is_control())
    {
        return Err(format!(
            "contains {}, which would break a caller id",
            quote(&c.to_string())
        ));
    }
    if text.trim() != text {
        return Err("starts or ends with spaces, which Asterisk strips".into());
    }
    Ok(())
}

/// Checks an e-mail address written into voicemail.conf, where `,` and `|` separate fields.
pub fn check_email(text: &str) -> Result<(), String> {
    let Some((local, domain)) = text.split_once('@') else {
        return Err("is not an e-mail address (no `@`)".into());
    };
    let bad = |s: &str| {
        s.is_empty()
            || s.chars().any(|c| {
                c.is_whitespace()
                    || c.is_control()
                    || matches!(c, ',' | '|' | ';' | '@' | '<' | '>' | '"')
            })
    };
    if bad(local) || bad(domain) || !domain.contains('.') {
        return Err(
            "is not a plain e-mail address (no spaces, `,`, `|`, `;`, quotes or brackets)".into(),
        );
    }
    Ok(())
}

/// Checks that `()`, `[]` and double quotes balance in a raw dialplan argument, the way
/// Asterisk's argument splitter (`__ast_app_separate_args`) counts them: parentheses and
/// brackets count even inside quotes, and a backslash escapes the next character.
pub fn check_balanced(text: &str) -> Result<(), String> {
    let mut stack = Vec::new();
    let mut quoted = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.next().is_none() => {
                return Err(
                    "ends with a lone backslash, which would escape the next separator".into(),
                );
            }
            '\\' => {}
            '"' => quoted = !quoted,
            '(' | '[' => stack.push(c),
            ')' | ']' => {
                let open = if c == ')' { '(' } else { '[' };
                if stack.pop() != Some(open) {
                    return Err(format!("has a `{c}` without its opening `{open}`"));
                }
            }
            _ => {}
        }
    }
    if quoted {
        return Err("has an unclosed `\"`".into());
    }
    if let Some(open) = stack.pop() {
        return Err(format!("has a `{open}` that is never closed"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_whitelisted() {
        assert!(check_name("sales-1_b").is_ok());
        for bad in [
            "",
            "-x",
            "a b",
            "a;b",
            "a[b]",
            "ключ",
            "a.b",
            &"x".repeat(41),
        ] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn dialplan_text_refuses_expressions_and_quotes() {
        assert!(check_dialplan_text("Anna Petrova").is_ok());
        assert!(check_dialplan_text("Анна; O'Brien, Jr.").is_ok());
        for bad in [
            "${SHELL(rm -rf /)}",
            "$[1+1]",
            "\"Boss\"",
            "a<b>",
            "back\\slash",
            " pad",
            "x\ty",
        ] {
            assert!(check_dialplan_text(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn balanced_arguments() {
        for ok in ["${CUT(a,-,1)}", "x=\"a\\(b\"", "$[${X} + 1]", "a\\(b", ""] {
            assert!(check_balanced(ok).is_ok(), "{ok}");
        }
        for bad in ["${CUT(a,-,1}", "a)b", "\"open", "[x", "(a]", "\"(\""] {
            assert!(check_balanced(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn emails_are_plain() {
        assert!(check_email("anna@example.com").is_ok());
        for bad in [
            "anna",
            "a@b",
            "a,b@example.com",
            "a@exa mple.com",
            "a|b@x.com",
            "a@b@c.com",
        ] {
            assert!(check_email(bad).is_err(), "{bad:?}");
        }
    }
}

//! Contexts kept verbatim: their lines as custom dialplan lines, with the names of
//! contexts and mailbox contexts that move rewritten, and nothing else changed.

use std::collections::{HashMap, HashSet};

use super::{Context, Exten};
use crate::model::dialplan::{DialplanArg, DialplanLine};
use crate::model::names::Name;

/// Whether `data` names the context `name` where a context goes: first of three
/// comma-separated words, or after `@`.
pub(super) fn mentions(data: &str, name: &str) -> bool {
    let bytes = data.as_bytes();
    let mut start = 0;
    while let Some(pos) = data[start..].find(name) {
        let at = start + pos;
        let end = at + name.len();
        let before = if at == 0 { None } else { Some(bytes[at - 1]) };
        let after = bytes.get(end).copied();
        let boundary_before = matches!(before, None | Some(b'@' | b'?' | b':' | b'(' | b','));
        let boundary_after = matches!(after, None | Some(b',' | b')' | b'/' | b'&'));
        if boundary_before && boundary_after {
            return true;
        }
        start = at + 1;
    }
    false
}

/// The names a context's lines must use after the import.
#[derive(Debug, Clone, Default)]
pub(super) struct Renames {
    /// Old context → new context.
    pub(super) contexts: HashMap<String, String>,
    /// The voicemail.conf contexts of the imported mailboxes...
    pub(super) voicemail_contexts: HashSet<String>,
    /// ... and the one astbase keeps them in.
    pub(super) mailbox_context: String,
}

impl Renames {
    /// An application's data with context names, and for the voicemail applications
    /// the mailbox context (`201@default` → `201@odoo`), rewritten.
    fn data(&self, app: &str, data: &str) -> String {
        let data = rewrite(data, &self.contexts);
        if !(app.eq_ignore_ascii_case("voicemail") || app.eq_ignore_ascii_case("voicemailmain")) {
            return data;
        }
        let mut args = split_args(&data);
        if let Some((mailbox, context)) = args[0].split_once('@')
            && self.voicemail_contexts.contains(context.trim())
        {
            args[0] = format!("{mailbox}@{}", self.mailbox_context);
        }
        args.join(",")
    }
}

/// Rewrites context names in `data` that `renamed` maps.
pub(super) fn rewrite(data: &str, renamed: &HashMap<String, String>) -> String {
    let mut out = data.to_owned();
    // Longest names first, so `ivr` does not rewrite inside `ivr-main`.
    let mut names: Vec<(&String, &String)> = renamed.iter().collect();
    names.sort_by_key(|(n, _)| std::cmp::Reverse(n.len()));
    for (old, new) in names {
        if !mentions(&out, old) {
            continue;
        }
        let mut result = String::new();
        let mut rest = out.as_str();
        while let Some(pos) = rest.find(old.as_str()) {
            let candidate = format!("{}{}", &result, &rest[..pos]);
            let whole = format!("{candidate}{}", &rest[pos..]);
            let at = candidate.len();
            let bytes = whole.as_bytes();
            let before = if at == 0 { None } else { Some(bytes[at - 1]) };
            let after = bytes.get(at + old.len()).copied();
            let ok = matches!(before, None | Some(b'@' | b'?' | b':' | b'(' | b','))
                && matches!(after, None | Some(b',' | b')' | b'/' | b'&'));
            result = candidate;
            result.push_str(if ok { new } else { old });
            rest = &rest[pos + old.len()..];
        }
        result.push_str(rest);
        out = result;
    }
    out
}

pub(super) fn raw_name(name: &str) -> Result<Name, String> {
    crate::import::pjsip::name(name).and_then(|n| {
        if n.as_str().len() > 28 {
            Err(format!(
                "`{name}` is too long for a custom dialplan name (28 characters at most)"
            ))
        } else {
            Ok(n)
        }
    })
}

/// The context's lines as custom dialplan lines, context names rewritten.
pub(super) fn raw_lines(c: &Context, renamed: &Renames) -> Result<Vec<DialplanLine>, String> {
    let mut lines = Vec::new();
    for e in &c.extens {
        lines.extend(exten_lines(e, renamed)?);
    }
    if lines.is_empty() {
        return Err("no dialplan lines".into());
    }
    Ok(lines)
}

pub(super) fn exten_lines(e: &Exten, renamed: &Renames) -> Result<Vec<DialplanLine>, String> {
    let mut lines = Vec::new();
    for (i, s) in e.steps.iter().enumerate() {
        let sequential = if i == 0 {
            s.priority == "1"
        } else {
            s.priority == "n" || s.priority == (i + 1).to_string()
        };
        if !sequential {
            return Err(format!(
                "{}: priority `{}` out of sequence (astbase numbers lines 1, n, n, ...)",
                e.name, s.priority
            ));
        }
        let app_ok = s.app.len() <= 40
            && s.app
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic())
            && s.app.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !app_ok {
            return Err(format!(
                "{}: `{}` is not an application name",
                e.name, s.app
            ));
        }
        let args: Vec<DialplanArg> = if s.data.is_empty() {
            Vec::new()
        } else {
            split_args(&renamed.data(&s.app, &s.data))
                .into_iter()
                .map(|a| DialplanArg::Text(a.trim().to_owned()))
                .collect()
        };
        if args.len() > 32 {
            return Err(format!("{}: more than 32 arguments", e.name));
        }
        lines.push(DialplanLine {
            exten: (i == 0).then(|| e.name.clone()),
            label: s.label.clone(),
            app: s.app.clone(),
            args,
        });
    }
    Ok(lines)
}

/// Splits application data at the commas Asterisk splits at (outside parentheses,
/// brackets and quotes, not escaped), keeping every character.
pub(super) fn split_args(data: &str) -> Vec<String> {
    let mut args = Vec::new();
    let mut start = 0;
    for at in crate::conf::argument_commas(data).offsets {
        args.push(data[start..at].to_owned());
        start = at + 1;
    }
    args.push(data[start..].to_owned());
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_split_where_asterisk_splits_and_keep_every_character() {
        assert_eq!(
            split_args("a,${IF($[1=1]?x:y)},\"b,c\",d\\,e"),
            vec!["a", "${IF($[1=1]?x:y)}", "\"b,c\"", "d\\,e"]
        );
    }

    #[test]
    fn context_names_are_rewritten_only_where_a_context_goes() {
        let renamed: HashMap<String, String> =
            [("ivr".to_owned(), "odoo-custom-ivr".to_owned())].into();
        assert_eq!(rewrite("ivr,s,1", &renamed), "odoo-custom-ivr,s,1");
        assert_eq!(
            rewrite("Local/100@ivr", &renamed),
            "Local/100@odoo-custom-ivr"
        );
        assert_eq!(rewrite("ivr-main,s,1", &renamed), "ivr-main,s,1");
        assert_eq!(
            rewrite("$[${X}=1]?ivr,s,1:other,s,1", &renamed),
            "$[${X}=1]?odoo-custom-ivr,s,1:other,s,1"
        );
    }
}

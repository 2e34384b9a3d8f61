//! The contexts phones dial in: extension dialling, queue numbers, outbound patterns,
//! and other numbers as dialable custom dialplans.

use std::collections::{HashMap, HashSet};

use super::raw::{Renames, exten_lines, raw_name, split_args};
use super::{Context, DialplanImport, Exten, Known, Step};
use crate::import::gather::ConfSet;
use crate::import::report::{Outcome, Report};
use crate::model::dialing::matches;
use crate::model::dialplan::Dialplan;
use crate::model::names::{DialNumber, DialPattern, Name};
use crate::model::route::{OutboundPattern, OutboundRoute};

/// A pattern as the model writes it: Asterisk reads `x`, `z` and `n` as `X`, `Z` and
/// `N` (outside a character class); the model takes only the capitals.
pub(super) fn canonical_pattern(pattern: &str) -> String {
    if !pattern.starts_with('_') {
        return pattern.to_owned();
    }
    let mut class = false;
    pattern
        .chars()
        .map(|c| match c {
            '[' => {
                class = true;
                c
            }
            ']' => {
                class = false;
                c
            }
            'x' | 'z' | 'n' if !class => c.to_ascii_uppercase(),
            c => c,
        })
        .collect()
}

/// `Dial(PJSIP/101,20,tT)` → (device, timeout).
pub(super) fn dial_parts(s: &Step) -> Option<(String, Option<u32>, String)> {
    if !s.app.eq_ignore_ascii_case("dial") {
        return None;
    }
    let args = split_args(&s.data);
    let timeout = match args.get(1).map(|t| t.trim()) {
        None | Some("") => None,
        Some(t) => Some(t.parse().ok()?),
    };
    Some((
        args[0].trim().to_owned(),
        timeout,
        args.get(2).map_or(String::new(), |o| o.trim().to_owned()),
    ))
}

pub(super) fn is_app(s: &Step, app: &str) -> bool {
    s.app.eq_ignore_ascii_case(app)
}

#[allow(clippy::too_many_arguments)]
pub(super) fn phone_context(
    set: &ConfSet,
    c: &Context,
    known: &Known,
    renamed: &Renames,
    out: &mut DialplanImport,
    raw_numbers: &mut HashMap<String, String>,
    report: &mut Report,
    stays: bool,
) {
    let ctx = &c.object.name;
    let own: HashSet<&str> = c.extens.iter().map(|e| e.name.as_str()).collect();
    for e in &c.extens {
        let section = format!("{ctx}/{}", e.name);
        let steps = e.working();
        let is_pattern = e.name.starts_with('_');
        // Dialling an extension: Dial of its own device, maybe its mailbox, hang up.
        let numbers: Vec<&String> = known
            .phone_numbers
            .iter()
            .filter(|n| {
                if is_pattern {
                    matches(&canonical_pattern(&e.name), n) && !own.contains(n.as_str())
                } else {
                    **n == e.name
                }
            })
            .collect();
        let dial = steps.first().and_then(|s| dial_parts(s));
        if let Some((device, timeout, _)) = &dial
            && !numbers.is_empty()
            && (device == "PJSIP/${EXTEN}"
                || (!is_pattern && *device == format!("PJSIP/{}", e.name)))
        {
            let rest = &steps[1..];
            let voicemail = rest.first().filter(|s| is_app(s, "voicemail"));
            let after = &rest[usize::from(voicemail.is_some())..];
            if after.iter().all(|s| is_app(s, "hangup")) && after.len() <= 1 {
                for n in &numbers {
                    if let Some(t) = timeout {
                        out.ring_timeouts.insert((*n).clone(), *t);
                    }
                    if voicemail.is_none() && known.mailboxes.contains(*n) {
                        out.no_voicemail.insert((*n).clone());
                    }
                }
                let list: Vec<&str> = numbers.iter().map(|n| n.as_str()).collect();
                let entry = report.push_all(
                    set,
                    e.origins(),
                    section,
                    Outcome::Imported,
                    format!("dialling extension {}", list.join(", ")),
                );
                keep_if(stays, entry);
                continue;
            }
        }
        // A queue's number.
        let queue = steps.iter().find(|s| is_app(s, "queue"));
        if let Some(q) = queue
            && !is_pattern
            && e.name.bytes().all(|b| b.is_ascii_digit())
            && steps
                .iter()
                .all(|s| is_app(s, "answer") || is_app(s, "queue") || is_app(s, "hangup"))
        {
            let name = split_args(&q.data)[0].trim().to_owned();
            if known.queues.contains(&name) {
                out.queue_numbers.insert(name.clone(), e.name.clone());
                let entry = report.push_all(
                    set,
                    e.origins(),
                    section,
                    Outcome::Imported,
                    format!("number of queue {name}"),
                );
                keep_if(stays, entry);
                continue;
            }
        }
        // An outbound pattern: Dial through imported trunks.
        if is_pattern && let Some((pattern, trunks, timeout)) = outbound(e, &steps, known) {
            let name = format!(
                "out-{}",
                trunks
                    .iter()
                    .map(Name::as_str)
                    .collect::<Vec<_>>()
                    .join("-")
            );
            let name: String = name.chars().take(40).collect();
            match out.outbound.iter_mut().find(|r| r.name.as_str() == name) {
                Some(r) => r.patterns.push(pattern),
                None => out.outbound.push(OutboundRoute {
                    name: Name(name.clone()),
                    server: Name(known.server.to_owned()),
                    patterns: vec![pattern],
                    trunks,
                    allow: None,
                    dial_timeout: timeout,
                }),
            }
            let entry = report.push_all(
                set,
                e.origins(),
                section,
                Outcome::Imported,
                format!("outbound route {name}"),
            );
            keep_if(stays, entry);
            continue;
        }
        // Any other number phones dial: a custom dialplan of its own, dialable.
        if !is_pattern && e.name.bytes().all(|b| b.is_ascii_digit()) && e.name.len() <= 15 {
            let name = format!("{ctx}-{}", e.name);
            if let (Ok(name), Ok(lines)) = (raw_name(&name), exten_lines(e, renamed)) {
                raw_numbers.insert(e.name.clone(), name.as_str().to_owned());
                let entry = report.push_all(
                    set,
                    e.origins(),
                    section,
                    Outcome::Raw,
                    format!("dialplan {name}, number {}", e.name),
                );
                keep_if(stays, entry);
                out.dialplans.push(Dialplan {
                    name,
                    server: Name(known.server.to_owned()),
                    number: Some(DialNumber(e.name.clone())),
                    includes: Vec::new(),
                    lines,
                });
                continue;
            }
        }
        report.push(set, e.origin(), section, Outcome::Left,
            "no astbase equivalent: phones will not reach it after the migration (they dial in the generated context)");
    }
    for (inc, origin) in &c.includes {
        let section = format!("{ctx}/include {inc}");
        // Only an include of another phone context is what the generated context does.
        let phones = renamed
            .contexts
            .get(inc)
            .is_some_and(|n| n.ends_with("-phones"));
        if !(phones || stays) {
            let why = if inc.contains(',') {
                "a time-restricted include has no astbase equivalent: phones will not reach it after the migration".to_owned()
            } else {
                format!(
                    "`{inc}` is no context of extensions.conf astbase reads (a module's own?): \
                     phones will not reach it after the migration"
                )
            };
            report.push(set, *origin, section, Outcome::Left, why);
            continue;
        }
        let entry = report.push(
            set,
            *origin,
            section,
            Outcome::Imported,
            "the contexts phones dial in are generated",
        );
        keep_if(stays, entry);
    }
    if !c.other.is_empty() {
        report.push(
            set,
            c.object.origin(),
            format!("[{ctx}]"),
            Outcome::Left,
            format!("`{}` has no astbase equivalent", c.other[0]),
        );
    }
}

/// A context that endpoints left in the base files still use keeps its lines: the
/// entry is imported, but the migration must not remove it.
pub(super) fn keep_if(stays: bool, entry: &mut crate::import::report::Entry) {
    if stays {
        entry.origins.clear();
        entry
            .notes
            .push("the context stays in the base file too: endpoints left there use it".into());
    }
}

/// `_9X.` → `Dial(PJSIP/${EXTEN:1}@carrier,60)` [then other trunks] [then Hangup or
/// Congestion]: the pattern, its trunks and the timeout.
pub(super) fn outbound(
    e: &Exten,
    steps: &[&Step],
    known: &Known,
) -> Option<(OutboundPattern, Vec<Name>, Option<u32>)> {
    let mut trunks = Vec::new();
    let mut number: Option<(u32, Option<String>)> = None;
    let mut timeout = None;
    for s in steps {
        if let Some((device, t, _)) = dial_parts(s) {
            let rest = device.strip_prefix("PJSIP/")?;
            let (dialled, trunk) = rest.rsplit_once('@')?;
            if !known.trunk_contexts.contains_key(trunk) {
                return None;
            }
            let at = dialled.find("${EXTEN")?;
            let prefix = &dialled[..at];
            let var = &dialled[at..];
            let strip: u32 = match var {
                "${EXTEN}" => 0,
                _ => var
                    .strip_prefix("${EXTEN:")?
                    .strip_suffix('}')?
                    .parse()
                    .ok()?,
            };
            let this = (strip, (!prefix.is_empty()).then(|| prefix.to_owned()));
            if number.as_ref().is_some_and(|n| *n != this) || timeout.is_some_and(|x| Some(x) != t)
            {
                return None;
            }
            number = Some(this);
            timeout = t;
            trunks.push(Name(trunk.to_owned()));
        } else if !(is_app(s, "hangup") || is_app(s, "congestion")) || trunks.is_empty() {
            return None;
        }
    }
    let (strip, prefix) = number?;
    Some((
        OutboundPattern {
            pattern: DialPattern(canonical_pattern(&e.name)),
            strip,
            prefix,
        },
        trunks,
        timeout,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lower_case_pattern_letters_are_read_as_asterisk_reads_them() {
        assert_eq!(canonical_pattern("_1xx"), "_1XX");
        assert_eq!(canonical_pattern("_[n-z]zN."), "_[n-z]ZN.");
        assert_eq!(canonical_pattern("nx"), "nx");
        assert!(matches(&canonical_pattern("_1xx"), "101"));
    }
}

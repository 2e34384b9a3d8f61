//! The contexts trunks deliver calls to: each DID (or the catch-all) to one
//! destination, as an inbound route.

use std::collections::HashMap;

use super::phones::is_app;
use super::raw::{Renames, split_args};
use super::{Context, DialplanImport, Known, Step};
use crate::import::gather::ConfSet;
use crate::import::report::{Outcome, Report};
use crate::model::names::{DialNumber, DialPattern, Name};
use crate::model::route::InboundRoute;
use crate::model::target::Target;

#[allow(clippy::too_many_arguments)]
pub(super) fn inbound_context(
    set: &ConfSet,
    c: &Context,
    known: &Known,
    renamed: &Renames,
    raw_numbers: &HashMap<String, String>,
    trunks: Vec<Name>,
    out: &mut DialplanImport,
    report: &mut Report,
) {
    let ctx = &c.object.name;
    let queue_numbers: HashMap<String, String> = out
        .queue_numbers
        .iter()
        .map(|(q, n)| (n.clone(), q.clone()))
        .collect();
    for e in &c.extens {
        let section = format!("{ctx}/{}", e.name);
        let steps = e.working();
        let steps: Vec<&Step> = steps.into_iter().filter(|s| !is_app(s, "answer")).collect();
        let target = match steps.as_slice() {
            [one] | [one, _] if steps.len() == 1 || is_app(steps[1], "hangup") => {
                inbound_target(one, known, renamed, raw_numbers, &queue_numbers)
            }
            _ => None,
        };
        let did = match e.name.as_str() {
            "s" | "_X." | "_." | "_+X." | "_X!" | "_!" => None,
            d if d
                .trim_start_matches('+')
                .bytes()
                .all(|b| b.is_ascii_digit())
                || d.starts_with('_') =>
            {
                Some(DialPattern(d.to_owned()))
            }
            _ => {
                report.push(
                    set,
                    e.origin(),
                    section,
                    Outcome::Left,
                    "not a number astbase routes",
                );
                continue;
            }
        };
        let Some(target) = target else {
            report.push(
                set,
                e.origin(),
                section,
                Outcome::Left,
                "the steps have no astbase equivalent (a route sends a call to one destination)",
            );
            continue;
        };
        let label: String = e.name.chars().filter(char::is_ascii_alphanumeric).collect();
        let label = if label.is_empty() {
            "any".to_owned()
        } else {
            label
        };
        let name: String = format!("{ctx}-{label}").chars().take(40).collect();
        let entry = report.push(
            set,
            e.origin(),
            section,
            Outcome::Imported,
            format!("inbound route {name}"),
        );
        entry.origins = e.origins();
        out.inbound.push(InboundRoute {
            name: Name(name),
            server: Name(known.server.to_owned()),
            did,
            callerid: None,
            trunks: trunks.clone(),
            target,
        });
    }
    for (inc, origin) in &c.includes {
        report.push(
            set,
            *origin,
            format!("{ctx}/include {inc}"),
            Outcome::Left,
            "an include in a trunk's context has no astbase equivalent",
        );
    }
}

pub(super) fn inbound_target(
    s: &Step,
    known: &Known,
    renamed: &Renames,
    raw_numbers: &HashMap<String, String>,
    queue_numbers: &HashMap<String, String>,
) -> Option<Target> {
    let args: Vec<String> = split_args(&s.data)
        .into_iter()
        .map(|a| a.trim().to_owned())
        .collect();
    let number_target = |n: &str| -> Option<Target> {
        if known.phone_numbers.iter().any(|x| x == n) {
            Some(Target::Extension(DialNumber(n.to_owned())))
        } else if let Some(q) = queue_numbers.get(n) {
            Some(Target::Queue(Name(q.clone())))
        } else {
            raw_numbers
                .get(n)
                .map(|d| Target::Dialplan(Name(d.clone())))
        }
    };
    match s.app.to_ascii_lowercase().as_str() {
        "goto" if args.len() == 3 && args[2] == "1" => {
            if known.phone_contexts.values().any(|p| *p == args[0]) {
                number_target(&args[1])
            } else if renamed
                .contexts
                .get(&args[0])
                .is_some_and(|n| n.contains("-custom-"))
                && args[1] == "s"
            {
                Some(Target::Dialplan(Name(args[0].clone())))
            } else {
                None
            }
        }
        "dial" if args.len() <= 2 => args[0]
            .strip_prefix("PJSIP/")
            .and_then(number_target)
            .filter(|t| matches!(t, Target::Extension(_))),
        "queue" if args.len() == 1 && known.queues.contains(&args[0]) => {
            Some(Target::Queue(Name(args[0].clone())))
        }
        "voicemail" => {
            let (number, _) = args[0].split_once('@').unwrap_or((&args[0], ""));
            known
                .mailboxes
                .contains(number)
                .then(|| Target::Voicemail(DialNumber(number.to_owned())))
        }
        "hangup" => Some(Target::Hangup),
        _ => None,
    }
}

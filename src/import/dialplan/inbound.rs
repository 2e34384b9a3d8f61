//! The contexts trunks deliver calls to: each DID (or the catch-all) to one
//! destination, as an inbound route.

use super::phones::is_app;
use super::targets::Targets;
use super::{Context, DialplanImport, Step};
use crate::import::gather::ConfSet;
use crate::import::report::{Outcome, Report};
use crate::model::names::{DialPattern, Name};
use crate::model::route::InboundRoute;

/// The routes of the context of `trunks` (empty: every trunk).
pub(super) fn inbound_context(
    set: &ConfSet,
    c: &Context,
    targets: &Targets,
    trunks: Vec<Name>,
    out: &mut DialplanImport,
    report: &mut Report,
) {
    let ctx = &c.object.name;
    for e in &c.extens {
        let section = format!("{ctx}/{}", e.name);
        let steps = e.working();
        let steps: Vec<&Step> = steps.into_iter().filter(|s| !is_app(s, "answer")).collect();
        let target = match steps.as_slice() {
            [one] | [one, _] if steps.len() == 1 || is_app(steps[1], "hangup") => targets.of(one),
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
        report.push_all(
            set,
            e.origins(),
            section,
            Outcome::Imported,
            format!("inbound route {name}"),
        );
        out.inbound.push(InboundRoute {
            name: Name(name),
            server: Name(targets.known.server.to_owned()),
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

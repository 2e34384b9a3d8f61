//! Which extension of a generated context takes a number: the lists the renderer writes
//! (`model::layout`), and Asterisk's choice among them (exact before pattern, the most
//! specific pattern first, a caller-id match before none for one extension name).

use std::cmp::Ordering;

use crate::model::dialing::{matches, specificity};
use crate::model::layout::{InboundEntry, outbound_context};
use crate::model::route::OutboundPattern;
use crate::model::{Extension, OutboundRoute, Sourced};

/// The entry Asterisk runs for a call to `number` from `callerid`.
pub fn pick_inbound<'e, 'a>(
    entries: &'e [InboundEntry<'a>],
    number: &str,
    callerid: Option<&str>,
) -> Option<&'e InboundEntry<'a>> {
    entries
        .iter()
        .filter(|e| matches(e.exten, number))
        .filter(|e| match e.callerid {
            None => true,
            Some(pattern) => callerid.is_some_and(|c| matches(pattern, c)),
        })
        .min_by(|a, b| {
            specificity(a.exten, b.exten).then_with(|| match (a.callerid, b.callerid) {
                (Some(x), Some(y)) => specificity(x, y),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => Ordering::Equal,
            })
        })
}

/// An outbound pattern and the route that owns it.
#[derive(Debug, Clone, Copy)]
pub struct RoutePattern<'a> {
    pub pattern: &'a OutboundPattern,
    pub route: &'a Sourced<OutboundRoute>,
}

/// The routes an extension's phone may use, as its phones' context includes them.
pub fn allowed_routes<'a>(
    routes: &[&'a Sourced<OutboundRoute>],
    e: &Extension,
) -> Vec<&'a Sourced<OutboundRoute>> {
    routes.iter().copied().filter(|r| r.allows(e)).collect()
}

/// The pattern that takes `number` among the routes' patterns in one context.
pub fn pick_outbound<'a>(
    routes: &[&'a Sourced<OutboundRoute>],
    number: &str,
) -> Option<RoutePattern<'a>> {
    outbound_context(routes.iter().copied())
        .into_iter()
        .filter(|(p, _)| matches(p.pattern.as_str(), number))
        .min_by(|(a, _), (b, _)| specificity(a.pattern.as_str(), b.pattern.as_str()))
        .map(|(pattern, route)| RoutePattern { pattern, route })
}

/// The number a route sends to its trunks: its prefix, then the number without the
/// first `strip` characters.
pub fn sent_number(pattern: &OutboundPattern, number: &str) -> String {
    let rest: String = number.chars().skip(pattern.strip as usize).collect();
    format!("{}{rest}", pattern.prefix.as_deref().unwrap_or(""))
}

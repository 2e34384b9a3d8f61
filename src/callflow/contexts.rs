//! Which extension of a generated context takes a number: the same lists the renderer
//! writes (`render::view::dialplan`), and Asterisk's choice among them (exact before
//! pattern, the most specific pattern first, a caller-id match before none for one
//! extension name).

use std::cmp::Ordering;
use std::collections::HashSet;

use crate::model::dialing::{matches, specificity};
use crate::model::route::OutboundPattern;
use crate::model::{Extension, InboundRoute, OutboundRoute, Sourced};

/// An extension of an inbound context: a DID (or catch-all) with an optional caller-id
/// pattern, and the route it runs.
#[derive(Debug, Clone)]
pub struct InboundEntry<'a> {
    pub exten: String,
    pub callerid: Option<&'a str>,
    pub route: &'a Sourced<InboundRoute>,
}

fn dids(r: &InboundRoute) -> Vec<String> {
    match &r.did {
        Some(d) => vec![d.as_str().to_owned()],
        None => vec!["_X.".into(), "_+X.".into(), "s".into()],
    }
}

fn home(r: &InboundRoute, trunk: Option<&str>) -> bool {
    match trunk {
        None => r.trunks.is_empty(),
        Some(t) => r.trunks.iter().any(|x| x.as_str() == t),
    }
}

/// The extensions of the inbound context of `trunk` (`None`: `<prefix>-inbound`, the
/// routes of every trunk), as `render::view::dialplan::routes::lines` writes them.
pub fn inbound_entries<'a>(
    routes: &[&'a Sourced<InboundRoute>],
    trunk: Option<&str>,
) -> Vec<InboundEntry<'a>> {
    let mut sorted: Vec<&Sourced<InboundRoute>> = routes.to_vec();
    sorted.sort_by_key(|r| r.callerid.is_none());
    let own: Vec<&Sourced<InboundRoute>> =
        sorted.iter().copied().filter(|r| home(r, trunk)).collect();
    let routed: Vec<String> = own
        .iter()
        .filter(|r| r.callerid.is_none())
        .flat_map(|r| dids(r))
        .collect();
    let inherited = sorted
        .iter()
        .copied()
        .filter(|r| trunk.is_some() && r.callerid.is_some() && home(r, None));
    let mut seen = HashSet::new();
    let mut entries = Vec::new();
    for (r, is_own) in own
        .iter()
        .copied()
        .map(|r| (r, true))
        .chain(inherited.map(|r| (r, false)))
    {
        let mut names: Vec<String> = Vec::new();
        if is_own {
            names.extend(dids(r));
        }
        if r.callerid.is_some() {
            match &r.did {
                None => names.extend(routed.iter().cloned()),
                Some(_) if !is_own => {
                    names.extend(dids(r).into_iter().filter(|d| routed.contains(d)))
                }
                Some(_) => {}
            }
        }
        let callerid = r.callerid.as_ref().map(|c| c.as_str());
        for exten in names {
            if seen.insert((exten.clone(), callerid)) {
                entries.push(InboundEntry {
                    exten,
                    callerid,
                    route: r,
                });
            }
        }
    }
    entries
}

/// The entry Asterisk runs for a call to `number` from `callerid`.
pub fn pick_inbound<'e, 'a>(
    entries: &'e [InboundEntry<'a>],
    number: &str,
    callerid: Option<&str>,
) -> Option<&'e InboundEntry<'a>> {
    entries
        .iter()
        .filter(|e| matches(&e.exten, number))
        .filter(|e| match e.callerid {
            None => true,
            Some(pattern) => callerid.is_some_and(|c| matches(pattern, c)),
        })
        .min_by(|a, b| {
            specificity(&a.exten, &b.exten).then_with(|| match (a.callerid, b.callerid) {
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
    routes
        .iter()
        .copied()
        .filter(|r| match &r.allow {
            None => true,
            Some(a) => {
                a.extensions.contains(&e.number) || a.tags.iter().any(|t| e.tags.contains(t))
            }
        })
        .collect()
}

/// The pattern that takes `number` among the routes' patterns in one context (a
/// pattern two routes share belongs to the first, as rendered).
pub fn pick_outbound<'a>(
    routes: &[&'a Sourced<OutboundRoute>],
    number: &str,
) -> Option<RoutePattern<'a>> {
    let mut seen = HashSet::new();
    routes
        .iter()
        .flat_map(|r| {
            r.patterns.iter().map(move |p| RoutePattern {
                pattern: p,
                route: r,
            })
        })
        .filter(|rp| seen.insert(rp.pattern.pattern.as_str()))
        .filter(|rp| matches(rp.pattern.pattern.as_str(), number))
        .min_by(|a, b| specificity(a.pattern.pattern.as_str(), b.pattern.pattern.as_str()))
}

/// The number a route sends to its trunks: its prefix, then the number without the
/// first `strip` characters.
pub fn sent_number(pattern: &OutboundPattern, number: &str) -> String {
    let rest: String = number.chars().skip(pattern.strip as usize).collect();
    format!("{}{rest}", pattern.prefix.as_deref().unwrap_or(""))
}

//! Which routes go into which generated context, in which order: the renderer writes
//! these lists into `extensions_odoo.conf`, and the call-flow simulator walks the same
//! lists, so the two cannot disagree on where a call enters.

use std::collections::HashSet;

use super::route::OutboundPattern;
use super::{Extension, InboundRoute, OutboundRoute, Sourced};

/// One extension of an inbound context: a DID (or a catch-all) with an optional
/// caller-id pattern, and the route it runs.
#[derive(Debug, Clone)]
pub struct InboundEntry<'a> {
    pub exten: &'a str,
    pub callerid: Option<&'a str>,
    pub route: &'a Sourced<InboundRoute>,
}

/// The catch-all numbers of a route without a DID.
const ANY_NUMBER: [&str; 3] = ["_X.", "_+X.", "s"];

/// The numbers a route takes: its DID, or the catch-all patterns.
fn dids(r: &InboundRoute) -> Vec<&str> {
    match &r.did {
        Some(d) => vec![d.as_str()],
        None => ANY_NUMBER.to_vec(),
    }
}

/// Whether a route belongs to the context of `trunk` (`None`: the context of every
/// trunk).
fn home(r: &InboundRoute, trunk: Option<&str>) -> bool {
    match trunk {
        None => r.trunks.is_empty(),
        Some(t) => r.trunks.iter().any(|x| x.as_str() == t),
    }
}

/// The extensions of the inbound context of `trunk` (`None`: `<prefix>-inbound`, the
/// routes of every trunk), route by route, caller-id rules first.
///
/// Asterisk takes an exact number (`+74951234500`) before a pattern (`_X.`) whatever
/// the caller, and a context's own extensions before those of what it includes; only
/// for one extension name does a caller-id match win over none. So a caller-id rule
/// (a block list) is written once per number it must beat: its own DID or the catch-all
/// patterns, and every DID that the context (or, for a rule of every trunk, each trunk's
/// context) routes without a caller id.
pub fn inbound_context<'a>(
    routes: &[&'a Sourced<InboundRoute>],
    trunk: Option<&str>,
) -> Vec<InboundEntry<'a>> {
    // Caller-id rules first: they are what an admin reads first.
    let mut sorted: Vec<&Sourced<InboundRoute>> = routes.to_vec();
    sorted.sort_by_key(|r| r.callerid.is_none());
    let own: Vec<&Sourced<InboundRoute>> =
        sorted.iter().copied().filter(|r| home(r, trunk)).collect();
    // The numbers this context itself routes without a caller id: these shadow a
    // caller-id rule written only as a pattern, or only in the included context.
    let routed: Vec<&str> = own
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
        let mut names: Vec<&str> = Vec::new();
        if is_own {
            names.extend(dids(r));
        }
        if r.callerid.is_some() {
            match &r.did {
                // A rule for any number must beat every number routed here.
                None => names.extend(routed.iter().copied()),
                // A rule for one number, inherited: only where this context routes it.
                Some(_) if !is_own => {
                    names.extend(dids(r).into_iter().filter(|d| routed.contains(d)))
                }
                Some(_) => {}
            }
        }
        let callerid = r.callerid.as_ref().map(|c| c.as_str());
        for exten in names {
            // One extension name and caller match once per context: Asterisk drops a
            // duplicate with a warning, and the first (the more specific) wins.
            if seen.insert((exten, callerid)) {
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

impl OutboundRoute {
    /// Whether an extension's phone may use this route.
    pub fn allows(&self, e: &Extension) -> bool {
        match &self.allow {
            None => true,
            Some(a) => {
                a.extensions.contains(&e.number) || a.tags.iter().any(|t| e.tags.contains(t))
            }
        }
    }
}

/// The patterns of these routes in one context, in route order: a pattern a route
/// earlier in the list already has is left out (Asterisk would refuse the duplicate
/// extension, and the earlier route takes those numbers; validate warns).
pub fn outbound_context<'a>(
    routes: impl IntoIterator<Item = &'a Sourced<OutboundRoute>>,
) -> Vec<(&'a OutboundPattern, &'a Sourced<OutboundRoute>)> {
    let mut seen = HashSet::new();
    routes
        .into_iter()
        .flat_map(|r| r.patterns.iter().map(move |p| (p, r)))
        .filter(|(p, _)| seen.insert(p.pattern.as_str()))
        .collect()
}

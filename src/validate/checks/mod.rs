//! Meaning checks: uniqueness, references, Asterisk grammar, safety of text.
//!
//! They run on the merged fleet, so they see across files. Entities that failed the
//! schema check are absent from the fleet but remembered by name (`Fleet::broken`), so a
//! reference to them is not reported on top of the schema error.
//!
//! This module holds the [`Checker`] (the fleet, its lookup indexes and where problems
//! go) and the order the checks run in; each concern's checks are a submodule with its
//! own `impl Checker` block.

use std::collections::HashMap;

use crate::diagnostics::{Diagnostic, Location};
use crate::model::{Extension, Fleet, Origin, Sourced};
use crate::source::Sources;

use super::Locator;

mod agents;
mod announcements;
mod blocklists;
mod callflow;
mod calltests;
mod conferences;
mod contacts;
mod dialplans;
mod extensions;
mod features;
mod loops;
mod paging;
mod parking;
mod refs;
mod ringgroups;
mod routes;
mod secrets;
mod servers;
mod timeframes;
mod trunks;
mod unique;
mod values;

pub(crate) use secrets::leaves_repo;

pub(super) fn run(sources: &Sources, fleet: &Fleet, out: &mut Vec<Diagnostic>) {
    let mut c = Checker::new(sources, fleet, out);
    c.unique_names();
    c.unique_numbers();
    c.unique_pjsip_ids();
    c.project();
    c.servers();
    c.extensions();
    c.queues();
    c.menus();
    c.ring_groups();
    c.follow_me();
    c.conferences();
    c.announcements();
    c.parking_lots();
    c.paging_groups();
    c.timeframes();
    c.feature_codes();
    c.dialplans();
    c.trunks();
    c.inbound_routes();
    c.outbound_routes();
    c.address_lists();
    c.block_lists();
    c.contacts();
    c.call_loops();
    c.plaintext_secrets();
    c.secret_files();
    // Last: it only runs on a fleet without errors.
    c.call_tests();
}

/// Lookup key of a server-scoped entity: (server, name).
type Key<'a> = (&'a str, &'a str);

struct Checker<'a> {
    sources: &'a Sources,
    fleet: &'a Fleet,
    loc: Locator,
    out: &'a mut Vec<Diagnostic>,
    /// A file could not be read: what it defines is unknown, so "unknown X" would be noise.
    incomplete: bool,
    extensions: HashMap<Key<'a>, &'a Sourced<Extension>>,
    queues: HashMap<Key<'a>, Origin>,
    menus: HashMap<Key<'a>, Origin>,
    ring_groups: HashMap<Key<'a>, Origin>,
    conferences: HashMap<Key<'a>, Origin>,
    announcements: HashMap<Key<'a>, Origin>,
    parking_lots: HashMap<Key<'a>, Origin>,
    dialplans: HashMap<Key<'a>, Origin>,
    trunks: HashMap<Key<'a>, Origin>,
    servers: HashMap<&'a str, &'a Sourced<crate::model::Server>>,
}

impl<'a> Checker<'a> {
    fn new(sources: &'a Sources, fleet: &'a Fleet, out: &'a mut Vec<Diagnostic>) -> Self {
        fn index<'a, T>(
            list: &'a [Box<Sourced<T>>],
            key: impl Fn(&'a T) -> Key<'a>,
        ) -> HashMap<Key<'a>, Origin> {
            let mut map = HashMap::with_capacity(list.len());
            for e in list {
                map.entry(key(&e.item)).or_insert_with(|| e.origin.clone());
            }
            map
        }
        let mut extensions = HashMap::with_capacity(fleet.extensions.len());
        for e in &fleet.extensions {
            extensions
                .entry((e.server.as_str(), e.number.as_str()))
                .or_insert(&**e);
        }
        Checker {
            sources,
            fleet,
            loc: Locator,
            out,
            incomplete: fleet.unreadable_files > 0,
            extensions,
            queues: index(&fleet.queues, |q| (q.server.as_str(), q.name.as_str())),
            menus: index(&fleet.menus, |m| (m.server.as_str(), m.name.as_str())),
            ring_groups: index(&fleet.ring_groups, |g| (g.server.as_str(), g.name.as_str())),
            conferences: index(&fleet.conferences, |c| (c.server.as_str(), c.name.as_str())),
            announcements: index(&fleet.announcements, |a| {
                (a.server.as_str(), a.name.as_str())
            }),
            parking_lots: index(&fleet.parking_lots, |l| {
                (l.server.as_str(), l.name.as_str())
            }),
            dialplans: index(&fleet.dialplans, |d| (d.server.as_str(), d.name.as_str())),
            trunks: index(&fleet.trunks, |t| (t.server.as_str(), t.name.as_str())),
            servers: fleet
                .servers
                .iter()
                .map(|s| (s.name.as_str(), &**s))
                .collect(),
        }
    }

    fn error(
        &mut self,
        code: &'static str,
        at: Location,
        message: String,
        hint: impl Into<String>,
    ) {
        if self.incomplete && code == "unknown-reference" {
            return;
        }
        let hint = hint.into();
        let mut d = Diagnostic::error(code, message).at(at);
        if !hint.is_empty() {
            d = d.hint(hint);
        }
        self.out.push(d);
    }

    fn warning(
        &mut self,
        code: &'static str,
        at: Location,
        message: String,
        hint: impl Into<String>,
    ) {
        if self.incomplete && code == "unrouted-number" {
            return;
        }
        let hint = hint.into();
        let mut d = Diagnostic::warning(code, message).at(at);
        if !hint.is_empty() {
            d = d.hint(hint);
        }
        self.out.push(d);
    }
}

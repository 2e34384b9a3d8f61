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
    // Two halves on two threads, each in the order it always had; their findings are
    // joined first half first, so the output is what one thread would have produced.
    // The halves take about as long on a large fleet (~100 ms each at 100k extensions).
    let idx = Indexes::new(fleet);
    let mut first = Checker::new(sources, fleet, &idx);
    let mut second = Checker::new(sources, fleet, &idx);
    let found_first = std::thread::scope(|scope| {
        let worker = scope.spawn(move || {
            first.unique_names();
            first.unique_numbers();
            first.unique_pjsip_ids();
            first.project();
            first.servers();
            first.extensions();
            first.queues();
            first.menus();
            first.ring_groups();
            first.follow_me();
            first.conferences();
            first.announcements();
            first.parking_lots();
            first.paging_groups();
            first.timeframes();
            first.out
        });
        second.feature_codes();
        second.dialplans();
        second.trunks();
        second.inbound_routes();
        second.outbound_routes();
        second.address_lists();
        second.block_lists();
        second.contacts();
        second.call_loops();
        second.plaintext_secrets();
        second.secret_files();
        match worker.join() {
            Ok(found) => found,
            // A panic in a check is a bug; surface it on the caller's thread.
            Err(panic) => std::panic::resume_unwind(panic),
        }
    });
    let found_second = std::mem::replace(&mut second.out, std::mem::take(out));
    second.out.extend(found_first);
    second.out.extend(found_second);
    // Last, and alone: it only runs on a fleet without errors, so it reads them all.
    second.call_tests();
    *out = second.out;
}

/// Lookup key of a server-scoped entity: (server, name).
type Key<'a> = (&'a str, &'a str);

struct Checker<'a> {
    sources: &'a Sources,
    fleet: &'a Fleet,
    loc: Locator,
    out: Vec<Diagnostic>,
    /// A file could not be read: what it defines is unknown, so "unknown X" would be noise.
    incomplete: bool,
    /// Built once, read by both halves.
    idx: &'a Indexes<'a>,
}

/// The fleet's entities by server and name, for references.
struct Indexes<'a> {
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

impl<'a> Indexes<'a> {
    fn new(fleet: &'a Fleet) -> Self {
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
        Indexes {
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
}

impl<'a> Checker<'a> {
    fn new(sources: &'a Sources, fleet: &'a Fleet, idx: &'a Indexes<'a>) -> Self {
        Checker {
            sources,
            fleet,
            loc: Locator,
            out: Vec::new(),
            incomplete: fleet.unreadable_files > 0,
            idx,
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

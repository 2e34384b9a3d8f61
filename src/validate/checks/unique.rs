//! Uniqueness: names, dial numbers and PJSIP ids that must not repeat.

use std::collections::HashMap;

use crate::diagnostics::{Diagnostic, Location};
use crate::model::{Kind, Name, Origin};
use crate::source::Segment;

use super::Checker;

impl<'a> Checker<'a> {
    pub(super) fn unique_names(&mut self) {
        let f = self.fleet;
        self.unique(
            Kind::Server,
            f.servers.iter().map(|e| (None, &e.name, &e.origin)),
        );
        self.unique(
            Kind::Timeframe,
            f.timeframes.iter().map(|e| (None, &e.name, &e.origin)),
        );
        self.unique(
            Kind::MusicOnHold,
            f.music_on_hold.iter().map(|e| (None, &e.name, &e.origin)),
        );
        self.unique(
            Kind::AddressList,
            f.address_lists.iter().map(|e| (None, &e.name, &e.origin)),
        );
        self.unique(
            Kind::Queue,
            f.queues
                .iter()
                .map(|e| (Some(&e.server), &e.name, &e.origin)),
        );
        self.unique(
            Kind::Menu,
            f.menus
                .iter()
                .map(|e| (Some(&e.server), &e.name, &e.origin)),
        );
        self.unique(
            Kind::Dialplan,
            f.dialplans
                .iter()
                .map(|e| (Some(&e.server), &e.name, &e.origin)),
        );
        self.unique(
            Kind::Trunk,
            f.trunks
                .iter()
                .map(|e| (Some(&e.server), &e.name, &e.origin)),
        );
        self.unique(
            Kind::InboundRoute,
            f.inbound_routes
                .iter()
                .map(|e| (Some(&e.server), &e.name, &e.origin)),
        );
        self.unique(
            Kind::OutboundRoute,
            f.outbound_routes
                .iter()
                .map(|e| (Some(&e.server), &e.name, &e.origin)),
        );
    }

    /// Names are compared ignoring case: Asterisk looks sections up case-insensitively.
    fn unique<'b>(
        &mut self,
        kind: Kind,
        items: impl Iterator<Item = (Option<&'b Name>, &'b Name, &'b Origin)>,
    ) {
        let mut seen: HashMap<(String, String), (&Name, &Origin)> = HashMap::new();
        for (server, name, origin) in items {
            let key = (
                server
                    .map(|s| s.as_str().to_ascii_lowercase())
                    .unwrap_or_default(),
                name.as_str().to_ascii_lowercase(),
            );
            match seen.get(&key) {
                None => {
                    seen.insert(key, (name, origin));
                }
                Some((first_name, first)) => {
                    let scope = server
                        .map(|s| format!(" on server `{s}`"))
                        .unwrap_or_default();
                    let case = if first_name.as_str() == name.as_str() {
                        String::new()
                    } else {
                        format!(" (as `{first_name}`; names are compared ignoring case)")
                    };
                    let d = Diagnostic::error(
                        "duplicate-name",
                        format!("{} `{name}` is defined twice{scope}{case}", kind.noun()),
                    )
                    .at(self.loc.value(&origin.field("name")))
                    .related(self.loc.value(&first.field("name")), "first defined here")
                    .hint("rename or remove one of them");
                    self.out.push(d);
                }
            }
        }
    }

    /// Extensions, queues and menus share one dial space per server.
    pub(super) fn unique_numbers(&mut self) {
        let f = self.fleet;
        let mut seen: HashMap<(&str, &str), (&'static str, String, &Origin)> = HashMap::new();
        let numbered = f
            .extensions
            .iter()
            .map(|e| {
                (
                    "extension",
                    e.number.to_string(),
                    &e.server,
                    &e.number,
                    &e.origin,
                )
            })
            .chain(f.queues.iter().filter_map(|q| {
                q.number
                    .as_ref()
                    .map(|n| ("queue", q.name.to_string(), &q.server, n, &q.origin))
            }))
            .chain(f.menus.iter().filter_map(|m| {
                m.number
                    .as_ref()
                    .map(|n| ("menu", m.name.to_string(), &m.server, n, &m.origin))
            }));
        for (kind, name, server, number, origin) in numbered {
            match seen.get(&(server.as_str(), number.as_str())) {
                None => {
                    seen.insert((server.as_str(), number.as_str()), (kind, name, origin));
                }
                Some((first_kind, first_name, first)) => {
                    let d = Diagnostic::error(
                        "duplicate-number",
                        format!("number {number} on server `{server}` is already taken by {first_kind} `{first_name}`"),
                    )
                    .at(self.loc.value(&origin.field("number")))
                    .related(self.loc.value(&first.field("number")), "first taken here")
                    .hint("extensions, queues and menus of a server share one dial space; pick a free number");
                    self.out.push(d);
                }
            }
        }
    }

    /// PJSIP rejects a whole pjsip_odoo.conf when two objects of one type share an id:
    /// transports, extension endpoints (their number) and trunk endpoints share one space.
    pub(super) fn unique_pjsip_ids(&mut self) {
        let f = self.fleet;
        let mut seen: HashMap<(String, String), (String, Location)> = HashMap::new();
        let ids = f
            .servers
            .iter()
            .flat_map(|s| {
                s.transports.iter().enumerate().map(move |(i, t)| {
                    let o = s.origin.at(&[
                        Segment::Key("transports".into()),
                        Segment::Index(i),
                        Segment::Key("name".into()),
                    ]);
                    (s.name.as_str(), t.name.as_str(), "transport", o)
                })
            })
            .chain(f.extensions.iter().map(|e| {
                (
                    e.server.as_str(),
                    e.number.as_str(),
                    "extension",
                    e.origin.field("number"),
                )
            }))
            .chain(f.trunks.iter().map(|t| {
                (
                    t.server.as_str(),
                    t.name.as_str(),
                    "trunk",
                    t.origin.field("name"),
                )
            }));
        for (server, id, what, origin) in ids {
            let key = (server.to_owned(), id.to_ascii_lowercase());
            let here = self.loc.value(&origin);
            match seen.get(&key) {
                // Same-kind clashes are reported as duplicate numbers or names already.
                Some((first_what, first)) if what != first_what => {
                    let d = Diagnostic::error(
                        "duplicate-pjsip-id",
                        format!("{what} `{id}` has the same PJSIP id as {first_what} `{id}` on server `{server}`"),
                    )
                    .at(here)
                    .related(first.clone(), "the other object")
                    .hint("Asterisk rejects the whole pjsip file when two endpoints share an id; rename one");
                    self.out.push(d);
                }
                Some(_) => {} // duplicate transports are reported with the server
                None => {
                    seen.insert(key, (what.to_owned(), here));
                }
            }
        }
    }
}

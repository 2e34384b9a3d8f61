//! Uniqueness: names, dial numbers and PJSIP ids that must not repeat.

use std::borrow::Cow;
use std::collections::HashMap;
use std::collections::hash_map::Entry;

use crate::diagnostics::Diagnostic;
use crate::model::{DialNumber, Extension, Kind, Name, Origin, Server, Sourced, Trunk};
use crate::source::Segment;

use super::Checker;

/// One number of a server's dial space: what takes it (a kind and a name), on which
/// server, and the field that says so.
pub(super) struct Numbered<'f> {
    pub kind: &'static str,
    pub name: &'f str,
    pub server: &'f Name,
    pub number: &'f DialNumber,
    /// The entity's origin and the field: the field's own origin is only built for a
    /// number worth reporting, since this list holds every extension of the fleet.
    owner: &'f Origin,
    field: &'static str,
}

impl Numbered<'_> {
    /// Where the number is written.
    pub fn origin(&self) -> Origin {
        self.owner.field(self.field)
    }

    /// Whether this is `field` of the entity at `owner`.
    pub fn is(&self, owner: &Origin, field: &str) -> bool {
        std::ptr::eq(self.owner, owner) && self.field == field
    }
}

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
            Kind::BlockList,
            f.block_lists.iter().map(|e| (None, &e.name, &e.origin)),
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
            Kind::RingGroup,
            f.ring_groups
                .iter()
                .map(|e| (Some(&e.server), &e.name, &e.origin)),
        );
        self.unique(
            Kind::PagingGroup,
            f.paging_groups
                .iter()
                .map(|e| (Some(&e.server), &e.name, &e.origin)),
        );
        self.unique(
            Kind::ParkingLot,
            f.parking_lots
                .iter()
                .map(|e| (Some(&e.server), &e.name, &e.origin)),
        );
        self.unique(
            Kind::Announcement,
            f.announcements
                .iter()
                .map(|e| (Some(&e.server), &e.name, &e.origin)),
        );
        self.unique(
            Kind::Conference,
            f.conferences
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
        // Keyed by (server, name), both lower case.
        type Scoped<'n> = (Cow<'n, str>, Cow<'n, str>);
        let mut seen: HashMap<Scoped, (&Name, &Origin)> = HashMap::new();
        for (server, name, origin) in items {
            let key = (
                server.map_or(Cow::Borrowed(""), |s| lowercase(s.as_str())),
                lowercase(name.as_str()),
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

    /// Every number of every server's dial space, in definition order: extensions,
    /// queues, menus, ring groups, conferences (and their organiser numbers), paging
    /// groups, park numbers, announcements and numbered dialplans.
    pub(super) fn dial_numbers(&self) -> Vec<Numbered<'a>> {
        let f = self.fleet;
        let taken = |kind, name: &'a str, server, number, owner, field| Numbered {
            kind,
            name,
            server,
            number,
            owner,
            field,
        };
        let optional =
            |kind, name: &'a Name, server, number: &'a Option<DialNumber>, o: &'a Origin, field| {
                number
                    .as_ref()
                    .map(|n| taken(kind, name.as_str(), server, n, o, field))
            };
        let mut numbered: Vec<Numbered> = Vec::with_capacity(f.extensions.len());
        for e in &f.extensions {
            numbered.push(taken(
                "extension",
                e.number.as_str(),
                &e.server,
                &e.number,
                &e.origin,
                "number",
            ));
        }
        for q in &f.queues {
            numbered.extend(optional(
                "queue", &q.name, &q.server, &q.number, &q.origin, "number",
            ));
        }
        for m in &f.menus {
            numbered.extend(optional(
                "menu", &m.name, &m.server, &m.number, &m.origin, "number",
            ));
        }
        for g in &f.ring_groups {
            let n = &g.number;
            numbered.extend(optional(
                "ring group",
                &g.name,
                &g.server,
                n,
                &g.origin,
                "number",
            ));
        }
        for c in &f.conferences {
            numbered.push(taken(
                "conference",
                c.name.as_str(),
                &c.server,
                &c.number,
                &c.origin,
                "number",
            ));
            let n = &c.admin_number;
            numbered.extend(optional(
                "conference",
                &c.name,
                &c.server,
                n,
                &c.origin,
                "admin_number",
            ));
        }
        for g in &f.paging_groups {
            numbered.push(taken(
                "paging group",
                g.name.as_str(),
                &g.server,
                &g.number,
                &g.origin,
                "number",
            ));
        }
        for l in &f.parking_lots {
            numbered.push(taken(
                "parking lot",
                l.name.as_str(),
                &l.server,
                &l.park_number,
                &l.origin,
                "park_number",
            ));
        }
        for a in &f.announcements {
            let n = &a.number;
            numbered.extend(optional(
                "announcement",
                &a.name,
                &a.server,
                n,
                &a.origin,
                "number",
            ));
        }
        for d in &f.dialplans {
            numbered.extend(optional(
                "dialplan", &d.name, &d.server, &d.number, &d.origin, "number",
            ));
        }
        numbered
    }

    /// The numbers of a server's dial space are unique on it.
    pub(super) fn unique_numbers(&mut self) {
        let numbered = self.dial_numbers();
        let mut seen: HashMap<(&str, &str), &Numbered> = HashMap::with_capacity(numbered.len());
        for taken in &numbered {
            let (server, number) = (taken.server, taken.number);
            match seen.get(&(server.as_str(), number.as_str())) {
                None => {
                    seen.insert((server.as_str(), number.as_str()), taken);
                }
                Some(first) => {
                    let d = Diagnostic::error(
                        "duplicate-number",
                        format!(
                            "number {number} on server `{server}` is already taken by {} `{}`",
                            first.kind, first.name
                        ),
                    )
                    .at(self.loc.value(&taken.origin()))
                    .related(self.loc.value(&first.origin()), "first taken here")
                    .hint("extensions, queues, menus, ring groups, conferences, announcements and numbered dialplans of a server share one dial space; pick a free number");
                    self.out.push(d);
                }
            }
        }
    }

    /// PJSIP rejects a whole pjsip_odoo.conf when two objects of one type share an id:
    /// transports, extension endpoints (their number) and trunk endpoints share one space.
    pub(super) fn unique_pjsip_ids(&mut self) {
        let f = self.fleet;
        // Borrowed keys and a pointer-sized owner per id: this map holds every
        // extension of the fleet, and a location is only worth building for a clash.
        let count = f.extensions.len() + f.trunks.len();
        let mut seen: HashMap<(&str, Cow<str>), PjsipOwner> = HashMap::with_capacity(count);
        let ids = f
            .servers
            .iter()
            .flat_map(|s| {
                s.transports.iter().enumerate().map(move |(i, t)| {
                    (
                        s.name.as_str(),
                        t.name.as_str(),
                        PjsipOwner::Transport(s, i),
                    )
                })
            })
            .chain(f.extensions.iter().map(|e| {
                (
                    e.server.as_str(),
                    e.number.as_str(),
                    PjsipOwner::Extension(e),
                )
            }))
            .chain(
                f.trunks
                    .iter()
                    .map(|t| (t.server.as_str(), t.name.as_str(), PjsipOwner::Trunk(t))),
            );
        for (server, id, owner) in ids {
            match seen.entry((server, lowercase(id))) {
                // Same-kind clashes are reported as duplicate numbers or names already.
                Entry::Occupied(first) if owner.what() != first.get().what() => {
                    let first = first.get();
                    let d = Diagnostic::error(
                        "duplicate-pjsip-id",
                        format!(
                            "{} `{id}` has the same PJSIP id as {} `{id}` on server `{server}`",
                            owner.what(),
                            first.what()
                        ),
                    )
                    .at(self.loc.value(&owner.origin()))
                    .related(self.loc.value(&first.origin()), "the other object")
                    .hint("Asterisk rejects the whole pjsip file when two endpoints share an id; rename one");
                    self.out.push(d);
                }
                Entry::Occupied(_) => {} // duplicate transports are reported with the server
                Entry::Vacant(slot) => {
                    slot.insert(owner);
                }
            }
        }
    }
}

/// What holds a PJSIP id.
#[derive(Clone, Copy)]
enum PjsipOwner<'a> {
    /// A server's transport, by its index.
    Transport(&'a Sourced<Server>, usize),
    Extension(&'a Sourced<Extension>),
    Trunk(&'a Sourced<Trunk>),
}

impl PjsipOwner<'_> {
    fn what(self) -> &'static str {
        match self {
            PjsipOwner::Transport(..) => "transport",
            PjsipOwner::Extension(_) => "extension",
            PjsipOwner::Trunk(_) => "trunk",
        }
    }

    /// Where the id is written.
    fn origin(self) -> Origin {
        match self {
            PjsipOwner::Transport(s, i) => s.origin.at(&[
                Segment::Key("transports".into()),
                Segment::Index(i),
                Segment::Key("name".into()),
            ]),
            PjsipOwner::Extension(e) => e.origin.field("number"),
            PjsipOwner::Trunk(t) => t.origin.field("name"),
        }
    }
}

/// Lower case, allocating only when there is something to lower.
fn lowercase(text: &str) -> Cow<'_, str> {
    if text.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(text.to_ascii_lowercase())
    } else {
        Cow::Borrowed(text)
    }
}

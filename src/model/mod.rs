//! The typed fleet model: what the YAML files say, merged into one `Fleet`.
//!
//! Each entity type lives in its own module and derives both serde and schemars, so the
//! JSON Schema (`astbase schema`) is generated from exactly these types.

pub mod announcement;
pub mod blocklist;
pub mod calltest;
pub mod conference;
pub mod contact;
pub mod defaults;
pub mod dialing;
pub mod dialplan;
pub mod extension;
pub mod features;
pub mod firewall;
pub mod follow_me;
pub mod index;
pub mod layout;
pub mod menu;
pub mod moh;
pub mod names;
pub mod paging;
pub mod parking;
pub mod project;
pub mod queue;
pub mod ring_group;
pub mod rollout;
pub mod route;
pub mod secret;
pub mod server;
pub mod target;
pub mod timeframe;
pub mod trunk;

use std::ops::Deref;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::source::{FileId, Pointer};

pub use calltest::CallTest;
pub use contact::Contact;
pub use dialplan::Dialplan;
pub use extension::Extension;
pub use firewall::AddressList;
pub use menu::Menu;
pub use moh::MusicOnHold;
pub use names::{DialNumber, DialPattern, Name};
pub use project::Project;
pub use queue::Queue;
pub use ring_group::RingGroup;
pub use route::{InboundRoute, OutboundRoute};
pub use server::Server;
pub use target::Target;
pub use timeframe::Timeframe;
pub use trunk::Trunk;

/// One fleet file. Every list may appear in any file below the repo root; all files
/// merge into one fleet. `project` is only allowed in the root `astbase.yaml`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "astbase fleet file")]
pub struct Document {
    /// Settings of the whole repository (root `astbase.yaml` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<Project>,
    /// Asterisk servers.
    #[serde(default)]
    pub servers: Vec<Server>,
    /// Phone users (PJSIP endpoints).
    #[serde(default)]
    pub extensions: Vec<Extension>,
    /// Call queues.
    #[serde(default)]
    pub queues: Vec<Queue>,
    /// IVR menus.
    #[serde(default)]
    pub menus: Vec<Menu>,
    /// Ring groups: phones and outside numbers rung for one call.
    #[serde(default)]
    pub ring_groups: Vec<RingGroup>,
    /// Conference rooms (ConfBridge).
    #[serde(default)]
    pub conferences: Vec<conference::Conference>,
    /// Recordings played before a destination.
    #[serde(default)]
    pub announcements: Vec<announcement::Announcement>,
    /// Call parking lots.
    #[serde(default)]
    pub parking_lots: Vec<parking::ParkingLot>,
    /// Paging groups (Page(): phones answer on their speaker).
    #[serde(default)]
    pub paging_groups: Vec<paging::PagingGroup>,
    /// Business hours and holidays.
    #[serde(default)]
    pub timeframes: Vec<Timeframe>,
    /// Custom dialplan contexts.
    #[serde(default)]
    pub dialplans: Vec<Dialplan>,
    /// SIP trunks.
    #[serde(default)]
    pub trunks: Vec<Trunk>,
    /// Inbound routes (DID / caller id to a destination, block rules).
    #[serde(default)]
    pub inbound_routes: Vec<InboundRoute>,
    /// Outbound routes (dial patterns to trunks).
    #[serde(default)]
    pub outbound_routes: Vec<OutboundRoute>,
    /// Music-on-hold classes.
    #[serde(default)]
    pub music_on_hold: Vec<MusicOnHold>,
    /// Named address lists for the firewall.
    #[serde(default)]
    pub address_lists: Vec<AddressList>,
    /// Callers refused on every inbound route (fleet-wide, or on some servers).
    #[serde(default)]
    pub block_lists: Vec<blocklist::BlockList>,
    /// Call-path tests: calls and where they must end (run by `validate`).
    #[serde(default)]
    pub tests: Vec<CallTest>,
    /// The phonebook: callers' names by number.
    #[serde(default)]
    pub contacts: Vec<Contact>,
}

/// Where an entity was defined: a file and the JSON pointer of its node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub file: FileId,
    pub pointer: Pointer,
}

impl Origin {
    /// The origin of a field or element below this one.
    pub fn at(&self, segments: &[crate::source::Segment]) -> Origin {
        let mut pointer = self.pointer.clone();
        for s in segments {
            pointer.push(s.clone());
        }
        Origin {
            file: self.file,
            pointer,
        }
    }

    /// The origin of a named field (names are the model's own, so nothing is copied).
    pub fn field(&self, key: &'static str) -> Origin {
        self.at(&[crate::source::Segment::Key(std::borrow::Cow::Borrowed(key))])
    }
}

/// An entity with the place it came from.
#[derive(Debug, Clone)]
pub struct Sourced<T> {
    pub origin: Origin,
    pub item: T,
}

impl<T> Deref for Sourced<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.item
    }
}

/// The top-level lists, by their YAML key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Server,
    Extension,
    Queue,
    Menu,
    RingGroup,
    Conference,
    Announcement,
    ParkingLot,
    PagingGroup,
    Timeframe,
    Dialplan,
    Trunk,
    InboundRoute,
    OutboundRoute,
    MusicOnHold,
    AddressList,
    BlockList,
    CallTest,
    Contact,
}

impl Kind {
    pub const ALL: [Kind; 19] = [
        Kind::Server,
        Kind::Extension,
        Kind::Queue,
        Kind::Menu,
        Kind::RingGroup,
        Kind::Conference,
        Kind::Announcement,
        Kind::ParkingLot,
        Kind::PagingGroup,
        Kind::Timeframe,
        Kind::Dialplan,
        Kind::Trunk,
        Kind::InboundRoute,
        Kind::OutboundRoute,
        Kind::MusicOnHold,
        Kind::AddressList,
        Kind::BlockList,
        Kind::CallTest,
        Kind::Contact,
    ];

    /// The top-level YAML key holding this kind.
    pub fn key(self) -> &'static str {
        match self {
            Kind::Server => "servers",
            Kind::Extension => "extensions",
            Kind::Queue => "queues",
            Kind::Menu => "menus",
            Kind::RingGroup => "ring_groups",
            Kind::Conference => "conferences",
            Kind::Announcement => "announcements",
            Kind::ParkingLot => "parking_lots",
            Kind::PagingGroup => "paging_groups",
            Kind::Timeframe => "timeframes",
            Kind::Dialplan => "dialplans",
            Kind::Trunk => "trunks",
            Kind::InboundRoute => "inbound_routes",
            Kind::OutboundRoute => "outbound_routes",
            Kind::MusicOnHold => "music_on_hold",
            Kind::AddressList => "address_lists",
            Kind::BlockList => "block_lists",
            Kind::CallTest => "tests",
            Kind::Contact => "contacts",
        }
    }

    /// Singular noun for messages.
    pub fn noun(self) -> &'static str {
        match self {
            Kind::Server => "server",
            Kind::Extension => "extension",
            Kind::Queue => "queue",
            Kind::Menu => "menu",
            Kind::RingGroup => "ring group",
            Kind::Conference => "conference",
            Kind::Announcement => "announcement",
            Kind::ParkingLot => "parking lot",
            Kind::PagingGroup => "paging group",
            Kind::Timeframe => "time frame",
            Kind::Dialplan => "dialplan",
            Kind::Trunk => "trunk",
            Kind::InboundRoute => "inbound route",
            Kind::OutboundRoute => "outbound route",
            Kind::MusicOnHold => "music-on-hold class",
            Kind::AddressList => "address list",
            Kind::BlockList => "block list",
            Kind::CallTest => "call test",
            Kind::Contact => "contact",
        }
    }

    pub fn from_key(key: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.key() == key)
    }
}

/// An entity that failed the schema check. Its name (when readable) is kept so that
/// references to it are not reported as unresolved on top of the real error.
#[derive(Debug, Clone)]
pub struct BrokenEntity {
    pub kind: Kind,
    pub server: Option<String>,
    pub name: Option<String>,
}

/// One list of the fleet. Each entity is boxed: the fleet is merged from one part per
/// file, and moving pointers keeps that merge from holding two copies of a large fleet
/// at once (a 640,000-extension fleet peaked at 1.2 GB before).
pub type Entities<T> = Vec<Box<Sourced<T>>>;

/// The whole fleet, merged from every file of the repo.
#[derive(Debug, Clone, Default)]
pub struct Fleet {
    pub project: Project,
    pub project_origin: Option<Origin>,
    pub servers: Entities<Server>,
    pub extensions: Entities<Extension>,
    pub queues: Entities<Queue>,
    pub menus: Entities<Menu>,
    pub ring_groups: Entities<RingGroup>,
    pub conferences: Entities<conference::Conference>,
    pub announcements: Entities<announcement::Announcement>,
    pub parking_lots: Entities<parking::ParkingLot>,
    pub paging_groups: Entities<paging::PagingGroup>,
    pub timeframes: Entities<Timeframe>,
    pub dialplans: Entities<Dialplan>,
    pub trunks: Entities<Trunk>,
    pub inbound_routes: Entities<InboundRoute>,
    pub outbound_routes: Entities<OutboundRoute>,
    pub music_on_hold: Entities<MusicOnHold>,
    pub address_lists: Entities<AddressList>,
    pub block_lists: Entities<blocklist::BlockList>,
    pub tests: Entities<CallTest>,
    pub contacts: Entities<Contact>,
    pub broken: Vec<BrokenEntity>,
    /// Files that could not be read or parsed: what they define is unknown.
    pub unreadable_files: usize,
}

impl Fleet {
    /// Adds one list item, deserialized from a value that passed the schema check.
    pub fn add(
        &mut self,
        kind: Kind,
        origin: Origin,
        value: serde_json::Value,
    ) -> Result<(), serde_json::Error> {
        fn push<T: serde::de::DeserializeOwned>(
            list: &mut Entities<T>,
            origin: Origin,
            value: serde_json::Value,
        ) -> Result<(), serde_json::Error> {
            list.push(Box::new(Sourced {
                origin,
                item: serde_json::from_value(value)?,
            }));
            Ok(())
        }
        match kind {
            Kind::Server => push(&mut self.servers, origin, value),
            Kind::Extension => push(&mut self.extensions, origin, value),
            Kind::Queue => push(&mut self.queues, origin, value),
            Kind::Menu => push(&mut self.menus, origin, value),
            Kind::RingGroup => push(&mut self.ring_groups, origin, value),
            Kind::Conference => push(&mut self.conferences, origin, value),
            Kind::Announcement => push(&mut self.announcements, origin, value),
            Kind::ParkingLot => push(&mut self.parking_lots, origin, value),
            Kind::PagingGroup => push(&mut self.paging_groups, origin, value),
            Kind::Timeframe => push(&mut self.timeframes, origin, value),
            Kind::Dialplan => push(&mut self.dialplans, origin, value),
            Kind::Trunk => push(&mut self.trunks, origin, value),
            Kind::InboundRoute => push(&mut self.inbound_routes, origin, value),
            Kind::OutboundRoute => push(&mut self.outbound_routes, origin, value),
            Kind::MusicOnHold => push(&mut self.music_on_hold, origin, value),
            Kind::AddressList => push(&mut self.address_lists, origin, value),
            Kind::BlockList => push(&mut self.block_lists, origin, value),
            Kind::CallTest => push(&mut self.tests, origin, value),
            Kind::Contact => push(&mut self.contacts, origin, value),
        }
    }

    /// Joins partial fleets (one per file) into one. Each list is allocated once at its
    /// final size: growing by doubling while appending would hold up to twice the
    /// fleet's largest list at once.
    pub fn merge_all(parts: Vec<Fleet>) -> Fleet {
        let mut fleet = Fleet::default();
        macro_rules! reserve {
            ($($list:ident),*) => {
                $(fleet.$list.reserve_exact(parts.iter().map(|p| p.$list.len()).sum());)*
            };
        }
        reserve!(
            servers,
            extensions,
            queues,
            menus,
            ring_groups,
            conferences,
            announcements,
            parking_lots,
            paging_groups,
            timeframes,
            dialplans,
            trunks,
            inbound_routes,
            outbound_routes,
            music_on_hold,
            address_lists,
            block_lists,
            tests,
            contacts,
            broken
        );
        for part in parts {
            fleet.merge(part);
        }
        fleet
    }

    /// Appends another (partial) fleet, e.g. the entities of the next file.
    pub fn merge(&mut self, other: Fleet) {
        if other.project_origin.is_some() {
            self.project = other.project;
            self.project_origin = other.project_origin;
        }
        self.servers.extend(other.servers);
        self.extensions.extend(other.extensions);
        self.queues.extend(other.queues);
        self.menus.extend(other.menus);
        self.ring_groups.extend(other.ring_groups);
        self.conferences.extend(other.conferences);
        self.announcements.extend(other.announcements);
        self.parking_lots.extend(other.parking_lots);
        self.paging_groups.extend(other.paging_groups);
        self.timeframes.extend(other.timeframes);
        self.dialplans.extend(other.dialplans);
        self.trunks.extend(other.trunks);
        self.inbound_routes.extend(other.inbound_routes);
        self.outbound_routes.extend(other.outbound_routes);
        self.music_on_hold.extend(other.music_on_hold);
        self.address_lists.extend(other.address_lists);
        self.block_lists.extend(other.block_lists);
        self.tests.extend(other.tests);
        self.contacts.extend(other.contacts);
        self.broken.extend(other.broken);
        self.unreadable_files += other.unreadable_files;
    }

    pub fn server(&self, name: &str) -> Option<&Sourced<Server>> {
        self.servers
            .iter()
            .map(|s| &**s)
            .find(|s| s.name.as_str() == name)
    }

    /// Whether anything the server runs is defined yet (extensions, trunks, queues,
    /// menus, ring groups, conferences, parking, paging, dialplans, routes): a server
    /// without any is one `import --all` reads.
    pub fn has_entities(&self, server: &str) -> bool {
        let on = |s: &Name| s.as_str() == server;
        self.extensions.iter().any(|e| on(&e.server))
            || self.trunks.iter().any(|e| on(&e.server))
            || self.queues.iter().any(|e| on(&e.server))
            || self.menus.iter().any(|e| on(&e.server))
            || self.ring_groups.iter().any(|e| on(&e.server))
            || self.conferences.iter().any(|e| on(&e.server))
            || self.parking_lots.iter().any(|e| on(&e.server))
            || self.paging_groups.iter().any(|e| on(&e.server))
            || self.dialplans.iter().any(|e| on(&e.server))
            || self.inbound_routes.iter().any(|e| on(&e.server))
            || self.outbound_routes.iter().any(|e| on(&e.server))
    }

    /// Whether an entity of this kind with this name (and server, for server-scoped kinds)
    /// exists but failed the schema check.
    pub fn is_broken(&self, kind: Kind, server: Option<&str>, name: &str) -> bool {
        self.broken.iter().any(|b| {
            b.kind == kind
                && b.name.as_deref() == Some(name)
                && (server.is_none() || b.server.is_none() || b.server.as_deref() == server)
        })
    }
}

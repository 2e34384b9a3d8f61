//! Where a call goes, from the model alone: no host, no Asterisk.
//!
//! [`trace`] walks one call (a [`Probe`]) through what the renderer writes into
//! `extensions_odoo.conf`: the inbound context of the trunk it came from (caller-id rules,
//! exact numbers before patterns), the phones' context of an extension (internal numbers,
//! then the outbound routes it may use, the most specific pattern first), time frames at
//! the probe's time, menu keys and retries, queue overflow, forwards by phone status and
//! mailboxes. It mirrors the generated dialplan step by step; the real-Asterisk tests
//! place the same calls and compare where they land.

mod changes;
mod clock;
mod contexts;
pub mod expect;
mod probes;
mod walk;

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::model::calltest::Reach;
use crate::model::index::{self, ServerEntities};
use crate::model::{Fleet, Kind, Origin};

pub use changes::{BehaviourChange, ServerBehaviour, compare};
pub use clock::{When, WhenError};
pub use probes::MAX_INTERNAL_NUMBERS;

/// One call to simulate.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Probe {
    pub server: String,
    /// The number dialled (a DID for outside callers).
    pub number: String,
    pub from: Caller,
    pub at: When,
    /// Keys pressed, one entry per menu prompt: a key (`1`, `*`, `#`) or, in a menu
    /// that allows it, an extension number.
    pub keys: Vec<String>,
    /// How each phone behaves; one not named answers.
    pub status: BTreeMap<String, PhoneStatus>,
    /// Time frames overridden on the server (by their override code); the others
    /// follow the clock.
    pub overrides: BTreeMap<String, Override>,
}

/// Who places the call.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Caller {
    /// From outside, through a trunk (none: the server's only trunk, else the routes of
    /// every trunk), with a caller id number or none.
    Outside {
        callerid: Option<String>,
        trunk: Option<String>,
    },
    /// A phone of the server.
    Extension(String),
}

pub use crate::model::calltest::PhoneStatus;
pub use crate::model::timeframe::Override;

impl PhoneStatus {
    /// The status as written on the command line (`busy`, `no-answer`, ...).
    pub fn parse(text: &str) -> Option<PhoneStatus> {
        match text {
            "answers" | "available" | "answer" => Some(PhoneStatus::Answers),
            "busy" => Some(PhoneStatus::Busy),
            "no-answer" | "no_answer" | "noanswer" => Some(PhoneStatus::NoAnswer),
            "unavailable" | "offline" => Some(PhoneStatus::Unavailable),
            _ => None,
        }
    }
}

/// A YAML entity a step passed through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EntityRef {
    #[serde(serialize_with = "kind_noun")]
    pub kind: Kind,
    pub name: String,
    #[serde(skip)]
    pub origin: Origin,
}

fn kind_noun<S: serde::Serializer>(kind: &Kind, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(kind.noun())
}

/// One step of a call, in words, with the entity that decided it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entity: Option<EntityRef>,
}

/// Where a call ends.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case", tag = "reaches")]
pub enum Outcome {
    /// A phone rings and answers.
    Extension { number: String },
    /// The caller waits in a queue for one of its members.
    Queue { name: String, members: Vec<String> },
    /// A ring group's members ring together and one of them answers.
    RingGroup { name: String, members: Vec<String> },
    /// An extension's follow-me numbers ring and one of them answers.
    FollowMe {
        extension: String,
        members: Vec<String>,
    },
    /// The caller joins a conference room.
    Conference { name: String },
    /// The call is parked in a lot's next free slot.
    Parked { lot: String },
    /// The caller leaves a message.
    Voicemail { mailbox: String },
    /// The call goes out: the number as dialled, as sent to the trunks, by which route.
    External {
        number: String,
        sent: String,
        route: String,
        trunks: Vec<String>,
    },
    /// A custom dialplan takes over (not simulated further).
    Dialplan { name: String },
    /// A busy tone.
    Busy,
    /// The PBX hangs up.
    Hangup,
    /// Nothing in the dialplan takes the number: Asterisk refuses the call.
    NoRoute { number: String, context: String },
    /// The call never ends: the steps repeat from here.
    Loop { cycle: Vec<String> },
    /// The caller dialled a feature code (its key in `feature_codes:`).
    Feature { code: String, feature: String },
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Extension { number } => write!(f, "extension {number}"),
            Outcome::Queue { name, .. } => write!(f, "queue {name}"),
            Outcome::RingGroup { name, members } => {
                write!(
                    f,
                    "ring group {name} (answered by {})",
                    members.join(" or ")
                )
            }
            Outcome::FollowMe { extension, members } => {
                write!(
                    f,
                    "follow-me of {extension} (answered by {})",
                    members.join(" or ")
                )
            }
            Outcome::Voicemail { mailbox } => write!(f, "voicemail {mailbox}"),
            Outcome::Conference { name } => write!(f, "conference {name}"),
            Outcome::Parked { lot } => write!(f, "parked in lot {lot}"),
            Outcome::External {
                number,
                sent,
                route,
                trunks,
            } => {
                write!(f, "external {number} via route {route}")?;
                if sent != number {
                    write!(f, " (sent as {sent})")?;
                }
                write!(f, " on trunk {}", trunks.join(", then "))
            }
            Outcome::Dialplan { name } => write!(f, "dialplan {name}"),
            Outcome::Busy => write!(f, "busy tone"),
            Outcome::Hangup => write!(f, "hangup"),
            Outcome::NoRoute { number, context } => {
                write!(f, "no route for {number} (nothing in {context} matches)")
            }
            Outcome::Loop { cycle } => write!(f, "loops: {}", cycle.join(" -> ")),
            Outcome::Feature { code, feature } => write!(f, "feature code {code} ({feature})"),
        }
    }
}

/// A place where the call waits on a dialplan application, in the order it reaches
/// them: what a real Asterisk shows running for the same call (`Background`, `Queue`,
/// `Dial`, `VoiceMail`, `Busy`, `Hangup`), so the two can be compared.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case", tag = "app")]
pub enum Stop {
    /// A menu plays its prompts.
    Menu {
        name: String,
    },
    /// The caller joins a queue (even one it leaves at once).
    Queue {
        name: String,
    },
    /// A phone is dialled.
    Ring {
        extension: String,
    },
    /// A ring group dials members together (one step of its strategy), by number.
    RingGroup {
        name: String,
        members: Vec<String>,
    },
    /// An extension's follow-me dials numbers together (one step of its strategy; the
    /// desk phone among them for `with_desk`).
    FollowMe {
        extension: String,
        members: Vec<String>,
    },
    /// The caller joins a conference room (ConfBridge).
    Conference {
        name: String,
    },
    /// The call is parked (Park).
    Parked {
        lot: String,
    },
    /// A mailbox records a message.
    Voicemail {
        mailbox: String,
    },
    /// The number goes out on a trunk (the first the route tries).
    Dial {
        number: String,
        trunk: String,
    },
    /// A custom dialplan context is entered.
    Dialplan {
        name: String,
    },
    Busy,
    Hangup,
}

/// A simulated call: its steps, the applications it stops at, and where it ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Trace {
    pub steps: Vec<Step>,
    pub stops: Vec<Stop>,
    /// The routes, menus, queues, phones and mailboxes the call passed, in order (what
    /// a call-path test's `via` names).
    pub passed: Vec<Reach>,
    pub outcome: Outcome,
}

impl Trace {
    /// The first time frame the call met, if any: then where it ends depends on when
    /// it is placed.
    pub fn timeframe(&self) -> Option<&str> {
        self.steps.iter().find_map(|s| {
            s.entity
                .as_ref()
                .filter(|e| e.kind == Kind::Timeframe)
                .map(|e| e.name.as_str())
        })
    }
}

/// Why a call cannot be simulated at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TraceError {
    #[error("there is no server `{0}` in the repository")]
    UnknownServer(String),
    #[error("server `{server}` has no enabled extension {number} to call from")]
    UnknownCaller { server: String, number: String },
    #[error("server `{server}` has no trunk `{trunk}`")]
    UnknownTrunk { server: String, trunk: String },
    #[error("time frame `{timeframe}`: {source}")]
    Time {
        timeframe: String,
        #[source]
        source: WhenError,
    },
}

/// One server's dialplan, indexed once, for any number of calls.
pub struct Simulator<'a> {
    fleet: &'a Fleet,
    server: &'a crate::model::Sourced<crate::model::Server>,
    entities: ServerEntities<'a>,
    /// The feature codes its phones dial, resolved once.
    codes: crate::model::features::ServerCodes,
}

impl<'a> Simulator<'a> {
    /// A simulator for every server of a fleet, the fleet indexed once.
    pub fn all(fleet: &'a Fleet) -> BTreeMap<String, Simulator<'a>> {
        let mut by_server = index::by_server(fleet);
        fleet
            .servers
            .iter()
            .map(|s| {
                let entities = by_server.remove(s.name.as_str()).unwrap_or_default();
                (
                    s.name.to_string(),
                    Simulator {
                        fleet,
                        server: s,
                        entities,
                        codes: s.codes(&fleet.project),
                    },
                )
            })
            .collect()
    }

    pub fn new(fleet: &'a Fleet, server: &str) -> Result<Simulator<'a>, TraceError> {
        Simulator::all(fleet)
            .remove(server)
            .ok_or_else(|| TraceError::UnknownServer(server.to_owned()))
    }

    /// Walks one call (its `server` is this simulator's) through the dialplan.
    pub fn trace(&self, probe: &Probe) -> Result<Trace, TraceError> {
        walk::Walk::new(self, probe).run()
    }
}

/// Walks one call through its server's dialplan as the model renders it.
pub fn trace(fleet: &Fleet, probe: &Probe) -> Result<Trace, TraceError> {
    Simulator::new(fleet, &probe.server)?.trace(probe)
}

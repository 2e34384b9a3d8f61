//! Ring groups: several phones (and outside numbers) rung for one call, the caller
//! hearing ringback until one answers. Unlike a queue, nothing answers the caller first.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::names::{DialNumber, Name, PhoneNumber, SoundFile};
use super::target::Target;

/// Seconds a ring group rings (all at once, or each step of a hunt) when the YAML does
/// not say.
pub const DEFAULT_RING_TIME: u32 = 20;

/// What an outside member hears when it answers, before it presses 1 to take the call.
pub const DEFAULT_CONFIRM_PROMPT: &str = "beep";

/// A ring group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RingGroup {
    /// Ring group name, unique on its server.
    pub name: Name,
    /// Number that dials the group (shares the server's dial space).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<DialNumber>,
    /// The server this group lives on.
    pub server: Name,
    /// In which order members ring (default `ring_all`).
    #[serde(default)]
    pub strategy: RingStrategy,
    /// Who rings: extension numbers on the same server (`"101"`, or `{extension: "101",
    /// delay: 5}`) and outside numbers (`{external: "+74951234567"}`), in order.
    #[schemars(length(min = 1, max = 50))]
    pub members: Vec<RingMember>,
    /// Seconds to ring: the whole group for `ring_all`, each step of a hunt (default 20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 600))]
    pub ring_time: Option<u32>,
    /// Shown before the caller's name on the members' phones (with a space between),
    /// e.g. `"Support:"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = "^[A-Za-z0-9 _:.#/+-]{1,20}$"))]
    pub callerid_prefix: Option<String>,
    /// Played to an outside member that answers; it must press 1 to take the call
    /// (default: a beep; record your own, e.g. `custom/press-1-to-accept`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirm_prompt: Option<SoundFile>,
    /// Where the caller goes when nobody answers (default: hang up).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_answer: Option<Target>,
}

/// The order a ring group rings its members in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RingStrategy {
    /// Every member at once (each after its `delay`).
    #[default]
    RingAll,
    /// One member at a time, in the order listed.
    Hunt,
    /// In the order listed, adding one member each round: the first, then the first two, ...
    MemoryHunt,
}

impl RingStrategy {
    /// The members rung together at each step, in order: all of them once for
    /// `ring_all`, one per step for `hunt`, the first N at step N for `memory_hunt`.
    pub fn steps(self, m: &[RingMember]) -> Vec<&[RingMember]> {
        match self {
            RingStrategy::RingAll => vec![m],
            RingStrategy::Hunt => m.chunks(1).collect(),
            RingStrategy::MemoryHunt => (1..=m.len()).map(|n| &m[..n]).collect(),
        }
    }

    /// The strategy as written in YAML, for messages.
    pub fn keyword(self) -> &'static str {
        match self {
            RingStrategy::RingAll => "ring_all",
            RingStrategy::Hunt => "hunt",
            RingStrategy::MemoryHunt => "memory_hunt",
        }
    }
}

/// A member of a ring group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum RingMember {
    /// An extension number, rung at once.
    Extension(DialNumber),
    /// An extension with options.
    Phone(PhoneMember),
    /// An outside number, dialled through the server's outbound routes.
    Outside(OutsideMember),
}

/// An extension member with options.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PhoneMember {
    /// The member's extension number (on the group's server).
    pub extension: DialNumber,
    /// Seconds after the others before this phone starts ringing (default 0).
    #[serde(default)]
    #[schemars(range(min = 0, max = 300))]
    pub delay: u32,
}

/// An outside member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OutsideMember {
    /// The outside number.
    pub external: PhoneNumber,
    /// Seconds after the others before this number is called (default 0).
    #[serde(default)]
    #[schemars(range(min = 0, max = 300))]
    pub delay: u32,
    /// The answering party must press 1 before it is bridged (default true): a mobile's
    /// voicemail answering must not take the call from the other members.
    #[serde(default = "yes")]
    pub confirm: bool,
}

fn yes() -> bool {
    true
}

impl RingMember {
    /// The number rung: the extension's, or the outside number.
    pub fn number(&self) -> &str {
        match self {
            RingMember::Extension(n) => n.as_str(),
            RingMember::Phone(p) => p.extension.as_str(),
            RingMember::Outside(o) => &o.external.0,
        }
    }

    /// The extension number, for extension members.
    pub fn extension(&self) -> Option<&DialNumber> {
        match self {
            RingMember::Extension(n) => Some(n),
            RingMember::Phone(p) => Some(&p.extension),
            RingMember::Outside(_) => None,
        }
    }

    pub fn delay(&self) -> u32 {
        match self {
            RingMember::Extension(_) => 0,
            RingMember::Phone(p) => p.delay,
            RingMember::Outside(o) => o.delay,
        }
    }

    /// Whether the member must press 1 before the call is bridged.
    pub fn confirms(&self) -> bool {
        matches!(self, RingMember::Outside(o) if o.confirm)
    }
}

impl RingGroup {
    pub fn ring_time(&self) -> u32 {
        self.ring_time.unwrap_or(DEFAULT_RING_TIME)
    }

    /// The members rung together at each step of the group's strategy.
    pub fn steps(&self) -> Vec<&[RingMember]> {
        self.strategy.steps(&self.members)
    }
}

//! Call queues (app_queue).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::names::{DialNumber, Name, SoundFile};
use super::target::Target;

/// A call queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Queue {
    /// Queue name, unique on its server.
    pub name: Name,
    /// Number that dials the queue (shares the server's dial space).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<DialNumber>,
    /// The server this queue lives on.
    pub server: Name,
    /// How calls are distributed to members (default ringall).
    #[serde(default)]
    pub strategy: Strategy,
    /// Agents: extensions on the same server, as `"101"` or `{extension: "101", penalty: 1}`.
    #[serde(default)]
    pub members: Vec<Member>,
    /// Agents who log in and out from their phone (`agent_login` code + the queue's
    /// number), with their penalty: dynamic members, kept by Asterisk across restarts.
    /// An extension is either a static member or an agent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub agents: Vec<Member>,
    /// Seconds to ring a member (`timeout`, default 15).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 600))]
    pub ring_timeout: Option<u32>,
    /// Seconds before trying the members again (`retry`, default 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 600))]
    pub retry: Option<u32>,
    /// Seconds a member rests after a call (`wrapuptime`, default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 3600))]
    pub wrapup: Option<u32>,
    /// Most callers waiting at once (`maxlen`; 0 or absent = unlimited).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 10000))]
    pub max_length: Option<u32>,
    /// Longest wait in seconds before `on_timeout` (absent = wait forever).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 86400))]
    pub max_wait: Option<u32>,
    /// Music-on-hold class (a `music_on_hold` name, or `default`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub music_class: Option<Name>,
    /// Let callers join when no member is available (`joinempty`, default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub join_when_empty: Option<bool>,
    /// Make waiting callers leave when no member is available (`leavewhenempty`,
    /// default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leave_when_empty: Option<bool>,
    /// Seconds between position/hold-time announcements (0 or absent = never).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 3600))]
    pub announce_frequency: Option<u32>,
    /// Announce the estimated hold time with the position.
    #[serde(default)]
    pub announce_holdtime: bool,
    /// Seconds within which a call counts as answered in time (`servicelevel`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 3600))]
    pub service_level: Option<u32>,
    /// Played to the caller before queueing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub greeting: Option<SoundFile>,
    /// Record answered calls (MixMonitor).
    #[serde(default)]
    pub recording: bool,
    /// Where the caller goes after `max_wait`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_timeout: Option<Target>,
    /// Where the caller goes when the queue is full.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_full: Option<Target>,
    /// Where the caller goes when no member is available.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_empty: Option<Target>,
}

/// How a queue distributes calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    /// Ring all available members until one answers.
    #[default]
    Ringall,
    /// Ring the member least recently called.
    Leastrecent,
    /// Ring the member with fewest completed calls.
    Fewestcalls,
    /// Ring a random member.
    Random,
    /// Round robin with memory.
    Rrmemory,
    /// Round robin in the order of the member list.
    Rrordered,
    /// Ring members in list order, always from the first.
    Linear,
    /// Random, weighted by penalty.
    Wrandom,
}

/// A queue member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Member {
    /// Just the extension number, penalty 0.
    Number(DialNumber),
    /// Extension with options.
    Detailed(MemberDetail),
}

/// A queue member with options.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberDetail {
    /// The member's extension number (on the queue's server).
    pub extension: DialNumber,
    /// Lower penalties are rung first (default 0).
    #[serde(default)]
    #[schemars(range(min = 0, max = 1000))]
    pub penalty: u32,
}

impl Member {
    pub fn extension(&self) -> &DialNumber {
        match self {
            Member::Number(n) => n,
            Member::Detailed(d) => &d.extension,
        }
    }
    pub fn penalty(&self) -> u32 {
        match self {
            Member::Number(_) => 0,
            Member::Detailed(d) => d.penalty,
        }
    }
}

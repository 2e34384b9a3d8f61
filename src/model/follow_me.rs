//! Follow-me: an extension's calls also ring other numbers (a mobile, a second desk),
//! after its desk phone or together with it, before the usual no-answer handling.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::names::SoundFile;
use super::ring_group::{DEFAULT_RING_TIME, RingMember, RingStrategy};

/// Follow-me of an extension.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FollowMe {
    /// Turn follow-me off without deleting it (default true).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// When the numbers ring: `after_desk` (default: once the desk phone has rung its
    /// `ring_timeout` unanswered, or at once when it is not registered) or `with_desk`
    /// (the desk phone rings along with every step).
    #[serde(default)]
    pub order: FollowOrder,
    /// What rings: extension numbers on the same server (`"102"`, or `{extension: "102",
    /// delay: 5}`) and outside numbers (`{external: "+79161234567"}`), in order.
    #[schemars(length(min = 1, max = 10))]
    pub numbers: Vec<RingMember>,
    /// In which order the numbers ring (default `ring_all`).
    #[serde(default)]
    pub strategy: RingStrategy,
    /// Seconds the numbers ring: all of them for `ring_all`, each step of a hunt
    /// (default 20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 600))]
    pub ring_time: Option<u32>,
    /// Played to an outside number that answers; it must press 1 to take the call
    /// (default: a beep).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirm_prompt: Option<SoundFile>,
}

/// When follow-me numbers ring, relative to the desk phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FollowOrder {
    /// The desk phone first, for its ring timeout; then the numbers.
    #[default]
    AfterDesk,
    /// The desk phone and the numbers together.
    WithDesk,
}

impl FollowOrder {
    /// The order as written in YAML, for comments and messages.
    pub fn keyword(self) -> &'static str {
        match self {
            FollowOrder::AfterDesk => "after_desk",
            FollowOrder::WithDesk => "with_desk",
        }
    }
}

impl FollowMe {
    pub fn ring_time(&self) -> u32 {
        self.ring_time.unwrap_or(DEFAULT_RING_TIME)
    }

    /// The numbers rung together at each step of the strategy (the desk not included).
    pub fn steps(&self) -> Vec<&[RingMember]> {
        self.strategy.steps(&self.numbers)
    }
}

fn yes() -> bool {
    true
}

//! Rollout safety: how much one plan may change (blast-radius limits) and how `apply`
//! rolls a change out (waves, failures allowed, the health gate).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Limits on what one plan may do; each `0` disables its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Safety {
    /// Largest share (percent) of a server's configuration objects (endpoints, auths,
    /// AORs, queues, contexts, mailboxes: sections of the generated files) one plan may
    /// change or remove (default 0: no limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(max = 100))]
    pub max_change_percent: Option<u32>,
    /// Largest share (percent) of a server's configuration objects one plan may remove
    /// (default 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(max = 100))]
    pub max_remove_percent: Option<u32>,
    /// Most servers one apply may change (default 0: no limit; project only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_servers: Option<u32>,
}

/// The limits in force for one server: its own, else the project's, else the defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_change_percent: u32,
    pub max_remove_percent: u32,
}

/// Below this many objects a server's percentages are not limited: one change to a
/// five-extension office is 20%.
pub const MIN_OBJECTS_LIMITED: usize = 10;
pub const DEFAULT_MAX_REMOVE_PERCENT: u32 = 50;

impl Limits {
    pub fn of(server: Option<&Safety>, project: &Safety) -> Limits {
        let pick = |f: fn(&Safety) -> Option<u32>, default: u32| {
            server.and_then(f).or(f(project)).unwrap_or(default)
        };
        Limits {
            max_change_percent: pick(|s| s.max_change_percent, 0),
            max_remove_percent: pick(|s| s.max_remove_percent, DEFAULT_MAX_REMOVE_PERCENT),
        }
    }
}

/// How `apply` rolls a change out over the fleet.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rollout {
    /// Waves of servers, applied one after the other: a count (`1`), a share of the
    /// servers (`10%`), or `rest` (default: one wave of every server).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub waves: Vec<WaveSize>,
    /// Failed servers (a count, or `N%` of the servers) after which the rollout stops
    /// before its next wave (default 0: the first failure stops it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_failures: Option<WaveSize>,
    /// Check each server's phones and trunks after its reload, and roll it back when
    /// they did not come back (see `apply --gate`).
    #[serde(default)]
    pub gate: Gate,
}

/// `1`, `10%` or `rest`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct WaveSize(#[schemars(regex(pattern = "^([0-9]{1,6}%?|rest)$"))] pub String);

impl WaveSize {
    /// How many of `total` servers this is (at least one, unless `total` is 0).
    pub fn count(&self, total: usize) -> usize {
        let text = self.0.as_str();
        let n = if text == "rest" {
            total
        } else if let Some(p) = text.strip_suffix('%') {
            let p: usize = p.parse().unwrap_or(100);
            (total * p).div_ceil(100)
        } else {
            text.parse().unwrap_or(total)
        };
        n.min(total)
            .max(usize::from(total > 0 && text != "0" && text != "0%"))
    }
}

/// The health gate: phones and trunks before and after a server's reload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Gate {
    /// Run the gate on every apply (default false; `apply --gate` runs it once).
    #[serde(default)]
    pub enabled: bool,
    /// Seconds to wait after the reload for phones and trunks to register again
    /// (default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(max = 600))]
    pub settle: Option<u32>,
    /// Largest drop (percent) of registered phones the gate accepts (default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(max = 100))]
    pub max_phone_drop_percent: Option<u32>,
    /// Skip a server's test call when more channels than this are up (default 20): a
    /// busy PBX is not disturbed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_channels_for_test_call: Option<u32>,
}

pub const DEFAULT_SETTLE: u32 = 10;
pub const DEFAULT_MAX_PHONE_DROP_PERCENT: u32 = 10;
pub const DEFAULT_MAX_CHANNELS_FOR_TEST_CALL: u32 = 20;

//! Block lists: callers no inbound route lets through, fleet-wide or per server.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::names::{DialPattern, Name, SoundFile};

/// Callers refused on every inbound route of the servers it applies to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BlockList {
    /// List name, unique in the fleet.
    pub name: Name,
    /// The servers it applies to (default: every server).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub servers: Vec<Name>,
    /// Caller numbers as the trunk sends them: literal numbers (`"+74951112233"`) or
    /// patterns (`_8800XXXXXXX`).
    #[schemars(length(min = 1, max = 10000))]
    pub callers: Vec<DialPattern>,
    /// What a blocked caller gets (default: hang up).
    #[serde(default)]
    pub action: BlockAction,
}

impl BlockList {
    /// Whether the list applies to this server.
    pub fn on(&self, server: &str) -> bool {
        self.servers.is_empty() || self.servers.iter().any(|s| s.as_str() == server)
    }
}

/// The callers blocked on `server`, each pattern once with the list that blocks it (the
/// first list naming a pattern wins), in list order: what both the dialplan and the
/// call-flow simulator use.
pub fn blocked_on<'f>(
    lists: &'f [Box<super::Sourced<BlockList>>],
    server: &str,
) -> Vec<(&'f DialPattern, &'f super::Sourced<BlockList>)> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for list in lists.iter().filter(|l| l.on(server)) {
        for caller in &list.callers {
            if seen.insert(caller.0.as_str()) {
                out.push((caller, &**list));
            }
        }
    }
    out
}

/// What a blocked caller gets.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum BlockAction {
    /// The call is hung up at once.
    #[default]
    Hangup,
    /// A busy tone for a few seconds, then hang up.
    Busy,
    /// A recording is played (answered), then hang up: `{message: custom/not-accepted}`.
    Message(SoundFile),
}

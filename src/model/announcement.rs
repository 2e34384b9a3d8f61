//! Announcements: a recording played to the caller, then a destination (a holiday
//! notice before the menu, "calls are recorded" before a queue).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::names::{DialNumber, Name, SoundFile};
use super::target::Target;

/// An announcement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Announcement {
    /// Announcement name, unique on its server.
    pub name: Name,
    /// Number that plays it (shares the server's dial space).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<DialNumber>,
    /// The server this announcement lives on.
    pub server: Name,
    /// Prompts played in order (the call is answered first).
    #[schemars(length(min = 1, max = 20))]
    pub prompts: Vec<SoundFile>,
    /// Times the prompts are played (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 10))]
    pub repeat: Option<u32>,
    /// Where the call goes afterwards (default: hang up).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub then: Option<Target>,
}

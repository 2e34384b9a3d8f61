//! Conference rooms (ConfBridge): a number participants dial, optional PINs, and an
//! organiser's number that joins as admin.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::names::{DialNumber, Name};
use super::secret::Secret;

/// A conference room.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Conference {
    /// Room name, unique on its server.
    pub name: Name,
    /// The server this room lives on.
    pub server: Name,
    /// Number participants dial (shares the server's dial space).
    pub number: DialNumber,
    /// PIN participants must enter (digits; ConfBridge asks for it, three tries).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pin: Option<Secret>,
    /// Number the organiser dials to join as admin (may kick and mute, and is the
    /// marked user `wait_for_admin` waits for).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_number: Option<DialNumber>,
    /// PIN the organiser must enter (required with `admin_number`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_pin: Option<Secret>,
    /// Most people in the room at once (default: no limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 2, max = 1000))]
    pub max_members: Option<u32>,
    /// Music-on-hold class a participant hears while alone in the room (default: none,
    /// silence).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub music_when_alone: Option<Name>,
    /// Record the conference (ConfBridge's own recording, in Asterisk's monitor dir).
    #[serde(default)]
    pub record: bool,
    /// Participants wait (with the music) until the organiser joins, and the call ends
    /// for everyone when the organiser leaves. Needs `admin_number`.
    #[serde(default)]
    pub wait_for_admin: bool,
}

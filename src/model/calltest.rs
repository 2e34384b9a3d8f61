//! Call-path tests: a call, and where it must end. `astbase validate` simulates each one
//! (see `callflow`) and reports a failing case like any other error, at the case.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::names::{DialNumber, Name};
use super::timeframe::Override;

/// One call and what it must do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CallTest {
    /// What the case checks, shown when it fails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 200))]
    pub name: Option<String>,
    /// The server the call reaches.
    pub server: Name,
    /// The number dialled: a DID for an outside caller, any number for a phone.
    #[schemars(regex(pattern = "^[0-9A-Za-z+*#]{1,40}$"))]
    pub number: String,
    /// Caller id number of an outside caller (absent: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = "^\\+?[0-9]{1,20}$"))]
    pub from: Option<String>,
    /// The call is placed by this extension's phone (its outbound permissions apply).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_extension: Option<DialNumber>,
    /// The trunk an outside call arrives on (default: the server's only trunk, else the
    /// routes of every trunk).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trunk: Option<Name>,
    /// Wall-clock time at the PBX, `YYYY-MM-DD HH:MM`. Required when the call meets a
    /// time frame, so a case gives the same answer on any day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}(:[0-9]{2})?$"))]
    pub at: Option<String>,
    /// Keys pressed, one per menu prompt (a key, or an extension number where a menu
    /// allows dialling one).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<MenuInput>,
    /// How phones and outside numbers behave, by number (`"101"`, `"+79161234567"`;
    /// default: they answer).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub status: BTreeMap<DialNumber, PhoneStatus>,
    /// Time frames overridden on the server by their override code, e.g.
    /// `{business-hours: closed}` (default: the clock decides).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub overrides: BTreeMap<Name, Override>,
    /// Where the call must end, and what it must pass on the way.
    pub expect: Expectation,
}

/// A key (`1`, `*`, `#`) or a number dialled at a menu prompt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct MenuInput(#[schemars(regex(pattern = "^[0-9*#]{1,20}$"))] pub String);

/// What a phone does when it rings.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum PhoneStatus {
    /// It rings and is answered.
    Answers,
    /// It is on another call.
    Busy,
    /// It rings out.
    NoAnswer,
    /// It is not registered.
    Unavailable,
}

/// Where a case's call must end and what it must pass.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Expectation {
    /// The end of the call.
    pub reaches: Reach,
    /// Places the call must pass, in this order (others may come between).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub via: Vec<Reach>,
}

/// A place in a call: an end (`hangup`, `{queue: sales}`, `{external: "+7...", trunk:
/// provider}`) or, in `via`, a place on the way (`{menu: main}`, `{inbound_route: r}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged, deny_unknown_fields)]
pub enum Reach {
    /// `hangup`, `busy` or `no_route`.
    End(EndWord),
    Extension {
        extension: DialNumber,
    },
    Queue {
        queue: Name,
    },
    Voicemail {
        voicemail: DialNumber,
    },
    Menu {
        menu: Name,
    },
    RingGroup {
        ring_group: Name,
    },
    /// The follow-me numbers of an extension (one of them answers).
    FollowMe {
        follow_me: DialNumber,
    },
    Conference {
        conference: Name,
    },
    Parking {
        parking: Name,
    },
    Dialplan {
        dialplan: Name,
    },
    /// An outside number (as dialled), optionally the first trunk and the route.
    External {
        /// The outside number, as dialled (before a route's strip and prefix).
        #[schemars(regex(pattern = "^[0-9A-Za-z+*#]{1,40}$"))]
        external: String,
        /// The trunk the route tries first.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        trunk: Option<Name>,
        /// The outbound route that takes the number.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        route: Option<Name>,
    },
    InboundRoute {
        inbound_route: Name,
    },
    OutboundRoute {
        outbound_route: Name,
    },
}

/// Ends without a destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EndWord {
    Hangup,
    Busy,
    NoRoute,
}

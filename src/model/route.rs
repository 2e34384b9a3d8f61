//! Inbound and outbound call routing.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::names::{DialNumber, DialPattern, Name};
use super::target::Target;

/// An inbound route: calls from trunks matching a DID and/or caller id go to a target.
/// Routes with a caller-id pattern are checked before those without, so block rules win.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InboundRoute {
    /// Route name, unique on its server.
    pub name: Name,
    /// The server this route lives on.
    pub server: Name,
    /// Dialled number (DID) or pattern; absent = any number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub did: Option<DialPattern>,
    /// Caller number or pattern; absent = any caller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callerid: Option<DialPattern>,
    /// Only calls arriving on these trunks (absent = any trunk of the server).
    #[serde(default)]
    pub trunks: Vec<Name>,
    /// Where matching calls go. `hangup` makes this a block rule.
    pub target: Target,
}

/// An outbound route: numbers matching a pattern go out through trunks in failover order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OutboundRoute {
    /// Route name, unique on its server (becomes `odoo-outbound-<name>`).
    pub name: Name,
    /// The server this route lives on.
    pub server: Name,
    /// Dial patterns this route takes.
    #[schemars(length(min = 1, max = 100))]
    pub patterns: Vec<OutboundPattern>,
    /// Trunks to try in order; the next one is tried when a trunk is busy or fails.
    #[schemars(length(min = 1, max = 10))]
    pub trunks: Vec<Name>,
    /// Who may use this route (absent = every extension of the server).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow: Option<RouteAllow>,
    /// Seconds to wait for an answer on each trunk (default 60).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 600))]
    pub dial_timeout: Option<u32>,
}

/// One outbound pattern with its number rewriting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OutboundPattern {
    /// Pattern of the dialled number, e.g. `_9XXXXXXX`.
    #[serde(rename = "match")]
    pub pattern: DialPattern,
    /// Digits removed from the front before sending (default 0).
    #[serde(default)]
    #[schemars(range(min = 0, max = 20))]
    pub strip: u32,
    /// Digits added to the front after stripping, e.g. `+7495` or just `+`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = "^(\\+[0-9*#]{0,20}|[0-9*#]{1,20})$"))]
    pub prefix: Option<String>,
}

/// Who may use an outbound route: listed extensions and extensions with any listed tag.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RouteAllow {
    /// Extension numbers on the route's server.
    #[serde(default)]
    pub extensions: Vec<DialNumber>,
    /// Extension tags.
    #[serde(default)]
    pub tags: Vec<Name>,
}

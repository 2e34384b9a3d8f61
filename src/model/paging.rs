//! Paging and intercom: phones answered on their speaker at once (Page()), one-way
//! announcements or two-way.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::names::{DialNumber, Name};

/// A paging group: dialling its number pages every member's phone at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PagingGroup {
    /// Group name, unique on its server.
    pub name: Name,
    /// The server this group lives on.
    pub server: Name,
    /// Number that pages the group (shares the server's dial space).
    pub number: DialNumber,
    /// Extensions paged, on the same server.
    #[schemars(length(min = 1, max = 100))]
    pub members: Vec<DialNumber>,
    /// Members can talk back (default: one-way, the members only listen).
    #[serde(default)]
    pub duplex: bool,
    /// How the phones are told to answer on their own (default `call_info`).
    #[serde(default)]
    pub auto_answer: AutoAnswer,
}

/// The header that makes a phone answer a page on its own: phone vendors read
/// different ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AutoAnswer {
    /// `Call-Info: <uri>;answer-after=0` (Yealink, Grandstream, Fanvil, Cisco SPA, most
    /// soft phones).
    #[default]
    CallInfo,
    /// `Alert-Info: info=alert-autoanswer;delay=0` (Polycom, Snom, older Yealink).
    AlertInfo,
    /// Both headers, for a mixed fleet of phones.
    Both,
}

impl AutoAnswer {
    /// The extension of `<prefix>-autoanswer` that adds its headers.
    pub fn exten(self) -> &'static str {
        match self {
            AutoAnswer::CallInfo => "call_info",
            AutoAnswer::AlertInfo => "alert_info",
            AutoAnswer::Both => "both",
        }
    }
}

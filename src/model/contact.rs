//! The phonebook: people and companies that call in. An inbound call from one of their
//! numbers gets their name as its caller ID name (rendered into the dialplan, so plan
//! shows every change and apply keeps Asterisk in step); unknown callers keep what the
//! trunk sent.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Name;

/// E.164: `+`, a country code and the national number, 8 to 16 characters in all.
pub const E164_PATTERN: &str = "^\\+[1-9][0-9]{6,14}$";
/// What a name on a phone's display may hold: letters of any script, digits, spaces and
/// `. & ' / @ + _ -`; never `;`, `,`, quotes, brackets, `$`, backslashes or control
/// characters, which the dialplan or a SIP header would read as syntax.
pub const DISPLAY_NAME_PATTERN: &str = "^[\\p{L}\\p{N} .&'/@+_-]{1,60}$";

/// One contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    /// The name shown on phones, e.g. `Ivan Petrov`.
    #[schemars(regex(pattern = DISPLAY_NAME_PATTERN))]
    pub name: String,
    /// Shown after the name: `Ivan Petrov (Acme)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = DISPLAY_NAME_PATTERN))]
    pub company: Option<String>,
    /// Their numbers in E.164 (`+74951234567`), as trunks deliver caller IDs.
    #[schemars(length(min = 1, max = 20), inner(regex(pattern = E164_PATTERN)))]
    pub numbers: Vec<String>,
    /// Only on these servers (default: every server).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub servers: Vec<Name>,
}

impl Contact {
    /// What phones show: the name, and the company in brackets, at most 60 characters.
    pub fn display(&self) -> String {
        let full = match &self.company {
            Some(c) => format!("{} ({c})", self.name),
            None => self.name.clone(),
        };
        full.chars().take(60).collect()
    }

    pub fn on(&self, server: &str) -> bool {
        self.servers.is_empty() || self.servers.iter().any(|s| s.as_str() == server)
    }
}

/// How callers' numbers are written on this server's trunks, to find them in the
/// phonebook: `00`/`810` + country code + number for international calls, the trunk
/// prefix (`8`, `0`) + national number for national ones. Set under `project.numbering`
/// and per server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Numbering {
    /// The country's calling code, e.g. `7` (Russia), `44`, `1`.
    #[schemars(regex(pattern = "^[1-9][0-9]{0,2}$"))]
    pub country_code: String,
    /// What national numbers start with instead of the country code, e.g. `8` or `0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = "^[0-9]{1,2}$"))]
    pub trunk_prefix: Option<String>,
    /// What international numbers start with instead of `+`, e.g. `00` or `810`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = "^[0-9]{2,4}$"))]
    pub international_prefix: Option<String>,
}

//! Trunks: connections to providers or other PBXes.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::extension::{CallerId, Codec, DtmfMode};
use super::firewall::Cidr;
use super::names::Name;
use super::secret::Secret;

/// A SIP trunk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Trunk {
    /// Trunk name, unique on its server.
    pub name: Name,
    /// The server this trunk lives on.
    pub server: Name,
    /// `registration`: we register to the provider with a username and secret.
    /// `ip`: the provider is recognised by its addresses (`match`).
    #[serde(rename = "type")]
    pub kind: TrunkKind,
    /// Provider host name or IP address.
    #[schemars(
        regex(pattern = "^[A-Za-z0-9][A-Za-z0-9.-]*$|^[0-9A-Fa-f:.]{2,45}$"),
        length(max = 253)
    )]
    pub host: String,
    /// Provider SIP port (default 5060).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 65535))]
    pub port: Option<u16>,
    /// Account user name (required for `registration`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = "^[A-Za-z0-9_.+-]{1,64}$"))]
    pub username: Option<String>,
    /// Account password (required for `registration`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<Secret>,
    /// Addresses the provider sends calls from (`identify` match; required for `ip`).
    #[serde(default, rename = "match")]
    pub match_addresses: Vec<Cidr>,
    /// Codecs in order of preference (default ulaw, alaw).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codecs: Option<Vec<Codec>>,
    /// DTMF mode (default rfc4733).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dtmf_mode: Option<DtmfMode>,
    /// PJSIP transport name (one of the server's transports).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transport: Option<Name>,
    /// Caller id sent on outgoing calls through this trunk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callerid: Option<CallerId>,
    /// Most simultaneous calls through this trunk (absent = unlimited).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 10000))]
    pub max_channels: Option<u32>,
    /// Registration expiry in seconds (default 3600).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 60, max = 86400))]
    pub expiration: Option<u32>,
    /// Seconds between registration retries (default 60).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 5, max = 3600))]
    pub retry_interval: Option<u32>,
}

/// Trunk type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TrunkKind {
    /// We register to the provider.
    Registration,
    /// The provider is recognised by IP address.
    Ip,
}

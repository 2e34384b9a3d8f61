//! Firewall access lists and policy (applied by the firewall stage of `apply`).

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

use super::names::Name;

/// An IPv4 or IPv6 address or network in CIDR form, e.g. `203.0.113.0/24`,
/// `198.51.100.7`, `2001:db8::/32`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Cidr(pub String);

impl JsonSchema for Cidr {
    fn schema_name() -> Cow<'static, str> {
        "Cidr".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": "^[0-9A-Fa-f:.]{2,45}(/[0-9]{1,3})?$",
            "description": "An IPv4 or IPv6 address or network in CIDR form, e.g. \
                `203.0.113.0/24`, `198.51.100.7`, `2001:db8::/32`."
        })
    }
}

/// A named list of addresses (offices, providers, VPN, management).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressList {
    /// List name, unique in the fleet.
    pub name: Name,
    /// What the list is, for people reading the repo.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 200))]
    pub description: Option<String>,
    /// Addresses and networks.
    #[schemars(length(max = 10000))]
    pub addresses: Vec<Cidr>,
}

/// Firewall policy; set fleet-wide under `project.firewall` and per server under
/// `servers[].firewall`. Unset fields fall back to the project, then to built-in defaults.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FirewallPolicy {
    /// Manage the firewall of this server (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Ports astbase protects (default: 5060/udp, 5060/tcp, 5061/tcp, 10000-20000/udp).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protected_ports: Option<Vec<PortRule>>,
    /// Address lists always accepted on the protected ports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow: Option<Vec<Name>>,
    /// Address lists always dropped on the protected ports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deny: Option<Vec<Name>>,
    /// What happens to everyone else on the protected ports (default accept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<PortPolicy>,
    /// Seconds an attacker stays in the ban set (default 3600).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 60, max = 2_592_000))]
    pub ban_time: Option<u32>,
    /// Address lists that must always reach SSH (the anti-lockout guard).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub management: Option<Vec<Name>>,
}

/// A protected port or port range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PortRule {
    /// Protocol.
    pub protocol: PortProtocol,
    /// A port (`5060`) or an inclusive range (`"10000-20000"`).
    pub port: PortSpec,
}

/// A port number or an inclusive range `"FROM-TO"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum PortSpec {
    /// One port.
    Single(#[schemars(range(min = 1, max = 65535))] u16),
    /// A range, e.g. `"10000-20000"`.
    Range(#[schemars(regex(pattern = "^[0-9]{1,5}-[0-9]{1,5}$"))] String),
}

/// Transport protocol of a port rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PortProtocol {
    /// UDP.
    Udp,
    /// TCP.
    Tcp,
}

/// Verdict for addresses on no list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PortPolicy {
    /// Let them in (the ban and deny sets still drop).
    Accept,
    /// Drop them: only allow-listed addresses reach the protected ports.
    Drop,
}

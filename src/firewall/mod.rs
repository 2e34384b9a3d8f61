//! Firewall sets beside the config files: what a server's packet filter should say
//! ([`desired`]), what it says now ([`read_current`]), the difference ([`plan`]) and the
//! script that makes it so ([`Desired::script`]).
//!
//! astbase owns six ipsets and one chain, never anything else:
//! - `astbase-allow`/`astbase-allow6` (`hash:net`): the allow lists, the management
//!   addresses and the trunks' addresses; `astbase-deny`/`astbase-deny6`;
//! - `astbase-ban`/`astbase-ban6` (`hash:ip` with a timeout): the agent's bans, created
//!   if absent and never flushed;
//! - the `ASTBASE` chain (IPv4 and IPv6), jumped to once from `INPUT`. On each protected
//!   port: allow-set accept, deny-set and ban-set drop, established/related accept, then
//!   the repo's policy; AMI (5038/tcp) only from loopback. Traffic to other ports falls
//!   through to the rest of `INPUT` untouched.
//!
//! Sets are replaced atomically (restore into a temporary set, `ipset swap`), the chain
//! in one `iptables-restore --noflush` transaction of only its own lines.
//!
//! The work is split by job: `desired` builds the desired state from the model,
//! `current` reads the host, `planning` compares them, `script` writes the apply script.
//! This module holds the types they share.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::model::firewall::{PortPolicy, PortProtocol};
use crate::netaddr::Network;

mod current;
mod desired;
mod planning;
mod script;

pub use current::{in_network_namespace, read_current};
pub use desired::{default_ports, desired, effective, member};
pub use planning::{plan, skipped};

pub const CHAIN: &str = "ASTBASE";
/// The AMI port, reachable only from loopback.
pub const AMI_PORT: u16 = 5038;

/// One managed set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetSpec {
    pub name: &'static str,
    pub family: Family,
    /// Normalised members, as `ipset save` prints them.
    pub members: BTreeSet<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    Ipv4,
    Ipv6,
}

impl Family {
    fn inet(self) -> &'static str {
        match self {
            Family::Ipv4 => "inet",
            Family::Ipv6 => "inet6",
        }
    }
    fn iptables(self) -> &'static str {
        match self {
            Family::Ipv4 => "iptables",
            Family::Ipv6 => "ip6tables",
        }
    }
    fn suffix(self) -> &'static str {
        match self {
            Family::Ipv4 => "",
            Family::Ipv6 => "6",
        }
    }
}

/// What a server's firewall should be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desired {
    pub sets: Vec<SetSpec>,
    pub ban_time: u32,
    /// `-A ASTBASE ...` lines, as `iptables -S ASTBASE` prints them.
    pub rules_v4: Vec<String>,
    pub rules_v6: Vec<String>,
    /// Protected ports (protocol, first port, last port).
    pub ports: Vec<(PortProtocol, u16, u16)>,
    pub policy: PortPolicy,
    /// Everything the allow sets hold, for the lockout check.
    pub allowed: Vec<Network>,
    /// Everything the deny sets hold, for the lockout check.
    pub denied: Vec<Network>,
}

/// What a host's firewall says now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Current {
    /// Set name -> members (absent: no such set). Ban sets: no members listed.
    pub sets: BTreeMap<String, BTreeSet<String>>,
    pub ban_entries: BTreeMap<String, u64>,
    pub rules_v4: Option<Vec<String>>,
    pub rules_v6: Option<Vec<String>>,
    pub jump_v4: bool,
    pub jump_v6: bool,
    /// The address astbase connects from, as the host sees it (`$SSH_CONNECTION`).
    pub client: Option<IpAddr>,
    /// The SSH port the host sees the connection on (differs from the configured one
    /// behind a port forward).
    pub ssh_port: Option<u16>,
    pub tools: bool,
}

/// Members added to and removed from one set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetPlan {
    pub name: String,
    /// The set does not exist yet.
    pub create: bool,
    pub add: Vec<String>,
    pub remove: Vec<String>,
}

/// The chain of one family: a diff of its rules, and whether the jump is missing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainPlan {
    pub family: Family,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub diff: String,
    pub add_jump: bool,
}

/// What would change in a server's firewall.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirewallPlan {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sets: Vec<SetPlan>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chains: Vec<ChainPlan>,
    /// Why the kernel part is not managed here (a local target outside a namespace).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    /// The change would cut astbase off SSH (refused unless forced).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lockout: Option<String>,
    /// The firewall cannot be managed on this host (tools missing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Members or rules were changed on the host since astbase applied them.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub drift: bool,
    /// Entries the agent has in the ban sets (kept across applies).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub banned: BTreeMap<String, u64>,
    /// sha256 of the desired firewall (recorded in the state after apply).
    pub hash: String,
    /// The apply script (never serialized: a saved plan is re-planned anyway).
    #[serde(skip)]
    pub script: Option<String>,
}

impl FirewallPlan {
    pub fn changes(&self) -> usize {
        self.sets
            .iter()
            .filter(|s| s.create || !s.add.is_empty() || !s.remove.is_empty())
            .count()
            + self
                .chains
                .iter()
                .filter(|c| !c.diff.is_empty() || c.add_jump)
                .count()
    }
}

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

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::model::firewall::{FirewallPolicy, PortPolicy, PortProtocol, PortRule, PortSpec};
use crate::model::{Fleet, Server};
use crate::netaddr::Network;
use crate::transport::{Host, TransportError};

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

/// The effective policy: the server's fields over the project's, over the defaults.
pub fn effective(project: &FirewallPolicy, server: Option<&FirewallPolicy>) -> FirewallPolicy {
    let lists = |f: fn(&FirewallPolicy) -> &Option<Vec<crate::model::names::Name>>| {
        server
            .and_then(|s| f(s).clone())
            .or_else(|| f(project).clone())
    };
    FirewallPolicy {
        enabled: server.and_then(|s| s.enabled).or(project.enabled),
        protected_ports: server
            .and_then(|s| s.protected_ports.clone())
            .or_else(|| project.protected_ports.clone()),
        allow: lists(|p| &p.allow),
        deny: lists(|p| &p.deny),
        policy: server.and_then(|s| s.policy).or(project.policy),
        ban_time: server.and_then(|s| s.ban_time).or(project.ban_time),
        management: lists(|p| &p.management),
    }
}

/// Ports protected when the repo names none: SIP over UDP/TCP/TLS and RTP.
pub fn default_ports() -> Vec<PortRule> {
    vec![
        PortRule {
            protocol: PortProtocol::Udp,
            port: PortSpec::Single(5060),
        },
        PortRule {
            protocol: PortProtocol::Tcp,
            port: PortSpec::Single(5060),
        },
        PortRule {
            protocol: PortProtocol::Tcp,
            port: PortSpec::Single(5061),
        },
        PortRule {
            protocol: PortProtocol::Udp,
            port: PortSpec::Range("10000-20000".into()),
        },
    ]
}

/// `ipset save`'s spelling of a network: a host without `/32` (`/128`), host bits cleared.
pub fn member(n: &Network) -> String {
    let max = if n.addr.is_ipv4() { 32 } else { 128 };
    let addr = match n.addr {
        IpAddr::V4(v4) => {
            let mask = u32::MAX.checked_shl(32 - n.bits).unwrap_or(0);
            IpAddr::from((u32::from(v4) & mask).to_be_bytes())
        }
        IpAddr::V6(v6) => {
            let mask = u128::MAX.checked_shl(128 - n.bits).unwrap_or(0);
            IpAddr::from((u128::from(v6) & mask).to_be_bytes())
        }
    };
    if n.bits == max {
        addr.to_string()
    } else {
        format!("{addr}/{}", n.bits)
    }
}

fn ports_of(rule: &PortRule) -> Option<(u16, u16)> {
    match &rule.port {
        PortSpec::Single(p) => Some((*p, *p)),
        PortSpec::Range(r) => {
            let (a, b) = r.split_once('-')?;
            Some((a.parse().ok()?, b.parse().ok()?))
        }
    }
}

/// The desired firewall of `server`, or `None` when astbase does not manage it.
pub fn desired(fleet: &Fleet, server: &Server) -> Option<Desired> {
    let policy = effective(&fleet.project.firewall, server.firewall.as_ref());
    if policy.enabled != Some(true) {
        return None;
    }
    let lists: BTreeMap<&str, &[crate::model::firewall::Cidr]> = fleet
        .address_lists
        .iter()
        .map(|l| (l.name.as_str(), l.addresses.as_slice()))
        .collect();
    let networks = |names: &Option<Vec<crate::model::names::Name>>| -> Vec<Network> {
        names
            .iter()
            .flatten()
            .filter_map(|n| lists.get(n.as_str()))
            .flat_map(|a| a.iter())
            .filter_map(|c| c.0.parse().ok())
            .collect()
    };
    let management = networks(&policy.management);
    let mut allowed = networks(&policy.allow);
    allowed.extend(management.iter().copied());
    // Trunks of this server: their providers must always get through.
    for trunk in fleet
        .trunks
        .iter()
        .filter(|t| t.server.as_str() == server.name.as_str())
    {
        allowed.extend(
            trunk
                .match_addresses
                .iter()
                .filter_map(|c| c.0.parse::<Network>().ok()),
        );
        if let Ok(ip) = trunk.host.parse::<IpAddr>() {
            allowed.push(Network {
                addr: ip,
                bits: if ip.is_ipv4() { 32 } else { 128 },
            });
        }
    }
    let denied = networks(&policy.deny);
    let split = |nets: &[Network], family: Family| -> BTreeSet<String> {
        nets.iter()
            .filter(|n| n.addr.is_ipv4() == (family == Family::Ipv4))
            .flat_map(|n| halves(*n))
            .map(|n| member(&n))
            .collect()
    };
    let sets = vec![
        SetSpec {
            name: "astbase-allow",
            family: Family::Ipv4,
            members: split(&allowed, Family::Ipv4),
        },
        SetSpec {
            name: "astbase-allow6",
            family: Family::Ipv6,
            members: split(&allowed, Family::Ipv6),
        },
        SetSpec {
            name: "astbase-deny",
            family: Family::Ipv4,
            members: split(&denied, Family::Ipv4),
        },
        SetSpec {
            name: "astbase-deny6",
            family: Family::Ipv6,
            members: split(&denied, Family::Ipv6),
        },
    ];
    let ports: Vec<(PortProtocol, u16, u16)> = policy
        .protected_ports
        .clone()
        .unwrap_or_else(default_ports)
        .iter()
        .filter_map(|r| ports_of(r).map(|(a, b)| (r.protocol, a, b)))
        .collect();
    let verdict = policy.policy.unwrap_or(PortPolicy::Accept);
    let rules = |family: Family| -> Vec<String> {
        let s = family.suffix();
        let loopback = match family {
            Family::Ipv4 => "127.0.0.0/8",
            Family::Ipv6 => "::1/128",
        };
        let mut out = vec![format!(
            "-A {CHAIN} ! -s {loopback} -p tcp -m tcp --dport {AMI_PORT} -j DROP"
        )];
        for (protocol, from, to) in &ports {
            let p = match protocol {
                PortProtocol::Udp => "udp",
                PortProtocol::Tcp => "tcp",
            };
            let port = if from == to {
                from.to_string()
            } else {
                format!("{from}:{to}")
            };
            let base = format!("-A {CHAIN} -p {p} -m {p} --dport {port}");
            out.push(format!(
                "{base} -m set --match-set astbase-allow{s} src -j ACCEPT"
            ));
            out.push(format!(
                "{base} -m set --match-set astbase-deny{s} src -j DROP"
            ));
            out.push(format!(
                "{base} -m set --match-set astbase-ban{s} src -j DROP"
            ));
            out.push(format!(
                "{base} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"
            ));
            out.push(format!(
                "{base} -j {}",
                match verdict {
                    PortPolicy::Accept => "ACCEPT",
                    PortPolicy::Drop => "DROP",
                }
            ));
        }
        out
    };
    Some(Desired {
        sets,
        ban_time: policy.ban_time.unwrap_or(3600),
        rules_v4: rules(Family::Ipv4),
        rules_v6: rules(Family::Ipv6),
        ports,
        policy: verdict,
        allowed,
        denied,
    })
}

/// `hash:net` sets cannot hold a `/0`: "everything" is stored as its two halves.
fn halves(n: Network) -> Vec<Network> {
    if n.bits > 0 {
        return vec![n];
    }
    let upper = match n.addr {
        IpAddr::V4(_) => IpAddr::from(0x8000_0000u32.to_be_bytes()),
        IpAddr::V6(_) => IpAddr::from((1u128 << 127).to_be_bytes()),
    };
    let lower = match n.addr {
        IpAddr::V4(_) => IpAddr::from([0u8; 4]),
        IpAddr::V6(_) => IpAddr::from([0u8; 16]),
    };
    vec![
        Network {
            addr: lower,
            bits: 1,
        },
        Network {
            addr: upper,
            bits: 1,
        },
    ]
}

impl Desired {
    /// A digest of everything astbase sets (the state file records it).
    pub fn hash(&self) -> String {
        let mut text = format!("ban_time {}\n", self.ban_time);
        for s in &self.sets {
            text.push_str(&format!("set {}\n", s.name));
            for m in &s.members {
                text.push_str(&format!("{m}\n"));
            }
        }
        for r in self.rules_v4.iter().chain(&self.rules_v6) {
            text.push_str(r);
            text.push('\n');
        }
        crate::plan::hash(text.as_bytes())
    }

    /// Whether traffic from `ip` to `port`/tcp would be dropped by the chain, following
    /// its order: allow set accepts, deny set drops, then the policy (the ban set aside:
    /// its members are the agent's, and it never bans an allowed address).
    pub fn drops_tcp(&self, ip: IpAddr, port: u16) -> bool {
        let protected = self
            .ports
            .iter()
            .any(|(p, a, b)| *p == PortProtocol::Tcp && (*a..=*b).contains(&port));
        if !protected || self.allowed.iter().any(|n| n.contains(ip)) {
            return false;
        }
        self.denied.iter().any(|n| n.contains(ip)) || self.policy == PortPolicy::Drop
    }

    /// The POSIX shell script that makes a host's firewall match.
    pub fn script(&self) -> String {
        let mut s = String::from(
            "set -e\n\
             for tool in ipset iptables-restore ip6tables-restore iptables ip6tables; do\n\
             \x20 command -v \"$tool\" >/dev/null || { echo \"$tool is missing on the host: install ipset and iptables\" >&2; exit 127; }\n\
             done\n",
        );
        // The agent's ban sets: created once, never flushed or recreated.
        for (name, family) in [
            ("astbase-ban", Family::Ipv4),
            ("astbase-ban6", Family::Ipv6),
        ] {
            s.push_str(&format!(
                "ipset -q list -n {name} >/dev/null 2>&1 || ipset create {name} hash:ip family {} timeout {}\n",
                family.inet(),
                self.ban_time
            ));
        }
        for set in &self.sets {
            let max = (set.members.len() * 2).max(65_536);
            let temp = format!("{}-new", set.name);
            s.push_str(&format!(
                "ipset -q list -n {name} >/dev/null 2>&1 || ipset create {name} hash:net family {f} maxelem {max}\n\
                 ipset -q destroy {temp} || true\n\
                 ipset restore <<'ASTBASE_SET'\ncreate {temp} hash:net family {f} maxelem {max}\n",
                name = set.name,
                f = set.family.inet(),
            ));
            for m in &set.members {
                s.push_str(&format!("add {temp} {m}\n"));
            }
            s.push_str(&format!(
                "ASTBASE_SET\nipset swap {temp} {name}\nipset destroy {temp}\n",
                name = set.name
            ));
        }
        for (family, rules) in [
            (Family::Ipv4, &self.rules_v4),
            (Family::Ipv6, &self.rules_v6),
        ] {
            let tool = family.iptables();
            s.push_str(&format!(
                "{tool}-restore --noflush <<'ASTBASE_RULES'\n*filter\n:{CHAIN} - [0:0]\n"
            ));
            for r in rules {
                s.push_str(r);
                s.push('\n');
            }
            s.push_str(&format!(
                "COMMIT\nASTBASE_RULES\n{tool} -C INPUT -j {CHAIN} 2>/dev/null || {tool} -I INPUT 1 -j {CHAIN}\n"
            ));
        }
        s
    }
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

/// Reads the managed sets and chains in one round trip.
pub fn read_current(host: &mut Host) -> Result<Current, TransportError> {
    let mut script = String::from(
        "set -- ${SSH_CONNECTION:-}\necho \"client ${1:-} ${4:-}\"\n\
         command -v ipset >/dev/null && command -v iptables >/dev/null && command -v ip6tables >/dev/null && echo tools\n\
         command -v ipset >/dev/null || exit 0\n",
    );
    for name in [
        "astbase-allow",
        "astbase-allow6",
        "astbase-deny",
        "astbase-deny6",
    ] {
        script.push_str(&format!(
            "if ipset -q list -n {name} >/dev/null 2>&1; then echo 'set {name}'; ipset save {name} | sed -n 's/^add [^ ]* /member /p'; fi\n"
        ));
    }
    for name in ["astbase-ban", "astbase-ban6"] {
        script.push_str(&format!(
            "if ipset -q list -n {name} >/dev/null 2>&1; then echo \"ban {name} $(ipset -t list {name} | sed -n 's/^Number of entries: //p')\"; fi\n"
        ));
    }
    for (tag, tool) in [("4", "iptables"), ("6", "ip6tables")] {
        script.push_str(&format!(
            "if {tool} -S {CHAIN} >/dev/null 2>&1; then echo 'chain {tag}'; {tool} -S {CHAIN} | sed -n 's/^-A /rule -A /p'; fi\n\
             {tool} -C INPUT -j {CHAIN} 2>/dev/null && echo 'jump {tag}'\n"
        ));
    }
    script.push_str("exit 0\n");
    let out = host.script(&script)?;
    let mut current = Current::default();
    let mut set: Option<String> = None;
    let mut chain: Option<&str> = None;
    for line in out.stdout_text().lines() {
        let (word, rest) = line.split_once(' ').unwrap_or((line, ""));
        match word {
            "client" => {
                let mut parts = rest.split_whitespace();
                current.client = parts.next().and_then(|c| c.parse().ok());
                current.ssh_port = parts.next().and_then(|p| p.parse().ok());
            }
            "tools" => current.tools = true,
            "set" => {
                current.sets.insert(rest.to_owned(), BTreeSet::new());
                set = Some(rest.to_owned());
            }
            "member" => {
                if let Some(s) = &set {
                    current
                        .sets
                        .entry(s.clone())
                        .or_default()
                        .insert(rest.trim().to_owned());
                }
            }
            "ban" => {
                let (name, n) = rest.split_once(' ').unwrap_or((rest, "0"));
                current
                    .ban_entries
                    .insert(name.to_owned(), n.trim().parse().unwrap_or(0));
            }
            "chain" => {
                chain = Some(if rest == "4" { "4" } else { "6" });
                let rules = Some(Vec::new());
                if rest == "4" {
                    current.rules_v4 = rules;
                } else {
                    current.rules_v6 = rules;
                }
            }
            "rule" => {
                let rules = match chain {
                    Some("4") => current.rules_v4.as_mut(),
                    Some(_) => current.rules_v6.as_mut(),
                    None => None,
                };
                if let Some(r) = rules {
                    r.push(rest.to_owned());
                }
            }
            "jump" => {
                if rest == "4" {
                    current.jump_v4 = true;
                } else {
                    current.jump_v6 = true;
                }
            }
            _ => {}
        }
    }
    Ok(current)
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

/// Compares `desired` with `current`. `recorded` is the hash the state file holds from
/// the last apply (drift: it matches what we want, yet the host differs).
pub fn plan(
    desired: &Desired,
    current: &Current,
    recorded: Option<&str>,
    ssh_port: Option<u16>,
) -> FirewallPlan {
    let mut plan = FirewallPlan {
        hash: desired.hash(),
        banned: current.ban_entries.clone(),
        ..FirewallPlan::default()
    };
    if !current.tools {
        plan.error = Some(
            "ipset, iptables or ip6tables is missing on the host: install the ipset and iptables packages"
                .into(),
        );
    }
    for set in &desired.sets {
        let now = current.sets.get(set.name);
        let empty = BTreeSet::new();
        let have = now.unwrap_or(&empty);
        let add: Vec<String> = set.members.difference(have).cloned().collect();
        let remove: Vec<String> = have.difference(&set.members).cloned().collect();
        if now.is_none() || !add.is_empty() || !remove.is_empty() {
            plan.sets.push(SetPlan {
                name: set.name.to_owned(),
                create: now.is_none(),
                add,
                remove,
            });
        }
    }
    for (family, want, have, jump) in [
        (
            Family::Ipv4,
            &desired.rules_v4,
            &current.rules_v4,
            current.jump_v4,
        ),
        (
            Family::Ipv6,
            &desired.rules_v6,
            &current.rules_v6,
            current.jump_v6,
        ),
    ] {
        let have_text: String = have.iter().flatten().map(|r| format!("{r}\n")).collect();
        let want_text: String = want.iter().map(|r| format!("{r}\n")).collect();
        let diff = crate::plan::diff::unified(
            &format!("{} {CHAIN}", family.iptables()),
            &have_text,
            &want_text,
        );
        if !diff.is_empty() || !jump {
            plan.chains.push(ChainPlan {
                family,
                diff,
                add_jump: !jump,
            });
        }
    }
    plan.drift = plan.changes() > 0 && recorded == Some(plan.hash.as_str());
    if let (Some(client), Some(port)) = (current.client, current.ssh_port.or(ssh_port))
        && desired.drops_tcp(client, port)
    {
        plan.lockout = Some(format!(
            "the new rules would drop SSH (port {port}/tcp) from {client}, the address astbase connects from: \
             add it to an `allow` or `management` list (or plan with --force if you really mean it)"
        ));
    }
    if plan.changes() > 0 {
        plan.script = Some(desired.script());
    }
    plan
}

/// The plan for a local target that is not inside a network namespace: the machine
/// running astbase is not a PBX to firewall.
pub fn skipped(desired: &Desired) -> FirewallPlan {
    FirewallPlan {
        hash: desired.hash(),
        skipped: Some(
            "local target outside a network namespace: the kernel part is skipped \
             (run astbase inside one, e.g. `ip netns exec NAME astbase apply`)"
                .into(),
        ),
        ..FirewallPlan::default()
    }
}

/// Whether the host side runs inside a network namespace made with `ip netns add`
/// (`ip netns identify` names it), or provably in one other than init's. When it cannot
/// tell (no iproute2, `/proc/1` unreadable in a container), the answer is no: a local
/// target must never have the firewall of the machine running astbase rewritten by
/// accident.
pub fn in_network_namespace(host: &mut Host) -> bool {
    host.script(
        "[ -n \"$(ip netns identify 2>/dev/null)\" ] && exit 0\n\
         mine=$(readlink /proc/self/ns/net 2>/dev/null) && init=$(readlink /proc/1/ns/net 2>/dev/null) \
         && [ -n \"$mine\" ] && [ -n \"$init\" ] && [ \"$mine\" != \"$init\" ]\n",
    )
    .is_ok_and(|o| o.status == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desired_with(policy: PortPolicy, allowed: &[&str], denied: &[&str]) -> Desired {
        Desired {
            sets: Vec::new(),
            ban_time: 3600,
            rules_v4: Vec::new(),
            rules_v6: Vec::new(),
            ports: vec![(PortProtocol::Tcp, 22, 22)],
            policy,
            allowed: allowed.iter().map(|a| a.parse().unwrap()).collect(),
            denied: denied.iter().map(|a| a.parse().unwrap()).collect(),
        }
    }

    #[test]
    fn the_lockout_check_follows_the_chain_order() {
        let me: IpAddr = "198.51.100.7".parse().unwrap();
        // Policy accept, but in a deny list: dropped (deny comes before established).
        assert!(desired_with(PortPolicy::Accept, &[], &["198.51.100.0/24"]).drops_tcp(me, 22));
        // Allowed wins over denied.
        assert!(
            !desired_with(PortPolicy::Drop, &["198.51.100.7"], &["198.51.100.0/24"])
                .drops_tcp(me, 22)
        );
        // Policy drop, not allowed: dropped; an unprotected port is never dropped.
        assert!(desired_with(PortPolicy::Drop, &[], &[]).drops_tcp(me, 22));
        assert!(!desired_with(PortPolicy::Drop, &[], &[]).drops_tcp(me, 2222));
        assert!(!desired_with(PortPolicy::Accept, &[], &[]).drops_tcp(me, 22));
    }

    #[test]
    fn members_are_spelled_as_ipset_saves_them() {
        let m = |s: &str| member(&s.parse().unwrap());
        assert_eq!(m("203.0.113.5"), "203.0.113.5");
        assert_eq!(m("203.0.113.5/32"), "203.0.113.5");
        assert_eq!(m("203.0.113.77/24"), "203.0.113.0/24");
        assert_eq!(m("2001:DB8:0:0::1/128"), "2001:db8::1");
        assert_eq!(m("2001:db8::ff/64"), "2001:db8::/64");
        let all: Vec<String> = halves("0.0.0.0/0".parse().unwrap())
            .iter()
            .map(member)
            .collect();
        assert_eq!(all, ["0.0.0.0/1", "128.0.0.0/1"]);
        let all6: Vec<String> = halves("::/0".parse().unwrap()).iter().map(member).collect();
        assert_eq!(all6, ["::/1", "8000::/1"]);
    }
}

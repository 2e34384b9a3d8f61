//! The desired state: what a server's packet filter should say, from the model (the
//! effective policy, the address lists, the server's trunks), and its digest.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use crate::model::firewall::{FirewallPolicy, PortPolicy, PortProtocol, PortRule, PortSpec};
use crate::model::{Fleet, Server};
use crate::netaddr::Network;

use super::{AMI_PORT, CHAIN, Desired, Family, SetSpec};

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
        crate::textdiff::hash(text.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

//! Planning: the difference between desired and current sets and chains, drift since
//! the last apply, and the anti-lockout check on the SSH connection.

use std::collections::BTreeSet;
use std::net::IpAddr;

use crate::model::firewall::{PortPolicy, PortProtocol};

use super::{CHAIN, ChainPlan, Current, Desired, Family, FirewallPlan, SetPlan};

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
        // Rules hold no secret: shown as they are.
        let diff = crate::textdiff::unified(
            &format!("{} {CHAIN}", family.iptables()),
            &have_text,
            &want_text,
            str::to_owned,
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

impl Desired {
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
}

//! Security bans: counts AMI security events per source address and, past a threshold
//! within a window, adds the address to the `astbase-ban` ipset (fail2ban's pattern:
//! `ipset -exist create NAME hash:ip timeout N`, `ipset -exist add NAME IP timeout N`;
//! the firewall's `ASTBASE` chain drops members on the protected ports).
//!
//! Never banned: loopback, unspecified addresses, the configured allow list, and members
//! of the `astbase-allow` set the firewall pushes (checked with `ipset test`).

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use super::ami::Message;
use super::cdr::store::BanRow;
use crate::netaddr::Network;

/// Events that mean someone is guessing (main/security_events.c). `ChallengeSent` and
/// `SuccessfulAuth` are normal traffic.
pub const BAN_EVENTS: &[&str] = &[
    "InvalidAccountID",
    "ChallengeResponseFailed",
    "FailedACL",
    "InvalidPassword",
    "RequestBadFormat",
];

pub const BAN_SET: &str = "astbase-ban";
pub const BAN_SET6: &str = "astbase-ban6";
pub const ALLOW_SET: &str = "astbase-allow";
pub const ALLOW_SET6: &str = "astbase-allow6";

#[derive(Debug, Clone)]
pub struct BanConfig {
    /// Events from one address within `window` that trigger a ban.
    pub threshold: u32,
    pub window: Duration,
    /// How long a ban lasts (the ipset entry's timeout).
    pub ban_time: Duration,
    pub allow: Vec<Network>,
    /// Log and record, but do not touch the ipset.
    pub dry_run: bool,
    /// The command words that run ipset (`[ipset]`, `[sudo, -n, ipset]`).
    pub ipset: Vec<String>,
}

impl Default for BanConfig {
    fn default() -> BanConfig {
        BanConfig {
            threshold: 5,
            window: Duration::from_secs(60),
            ban_time: Duration::from_secs(3600),
            allow: Vec::new(),
            dry_run: false,
            ipset: vec!["ipset".into()],
        }
    }
}

/// A ban to carry out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub address: IpAddr,
    pub events: u32,
    pub last_event: String,
    /// Service and account of the last event, for the log.
    pub detail: String,
}

#[derive(Debug)]
pub struct BanTracker {
    config: BanConfig,
    seen: HashMap<IpAddr, VecDeque<Instant>>,
    banned_until: HashMap<IpAddr, Instant>,
}

/// The address of `RemoteAddress: IPV4/UDP/203.0.113.5/5060`. IPv6 addresses come
/// without brackets, so take the first two `/` fields and the last one; what lies
/// between is the address.
pub fn remote_address(value: &str) -> Option<IpAddr> {
    let mut parts = value.splitn(3, '/');
    let _family = parts.next()?;
    let _transport = parts.next()?;
    let rest = parts.next()?;
    let (addr, _port) = rest.rsplit_once('/')?;
    addr.trim_matches(['[', ']']).parse().ok()
}

impl BanTracker {
    pub fn new(config: BanConfig) -> BanTracker {
        BanTracker {
            config,
            seen: HashMap::new(),
            banned_until: HashMap::new(),
        }
    }

    pub fn config(&self) -> &BanConfig {
        &self.config
    }

    /// Whether an address may never be banned by configuration.
    pub fn is_protected(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        ip.is_loopback() || ip.is_unspecified() || self.config.allow.iter().any(|n| n.contains(ip))
    }

    /// Counts a security event; returns a ban when the address crosses the threshold.
    pub fn observe(&mut self, m: &Message, event: &str, now: Instant) -> Option<Decision> {
        if !BAN_EVENTS.contains(&event) {
            return None;
        }
        let address = remote_address(m.get("RemoteAddress")?)?;
        if self.is_protected(address) {
            return None;
        }
        if self.banned_until.get(&address).is_some_and(|t| *t > now) {
            return None;
        }
        let window = self.config.window;
        let times = self.seen.entry(address).or_default();
        times.push_back(now);
        while times
            .front()
            .is_some_and(|t| now.duration_since(*t) > window)
        {
            times.pop_front();
        }
        let events = times.len() as u32;
        if events < self.config.threshold {
            // Keep memory bounded under a flood of distinct addresses.
            if self.seen.len() > 100_000 {
                self.seen
                    .retain(|_, t| t.back().is_some_and(|b| now.duration_since(*b) <= window));
            }
            return None;
        }
        self.seen.remove(&address);
        self.banned_until
            .insert(address, now + self.config.ban_time);
        Some(Decision {
            address,
            events,
            last_event: event.to_owned(),
            detail: format!(
                "{} {} account {}",
                m.get("Service").unwrap_or("?"),
                event,
                m.get("AccountID").unwrap_or("?")
            ),
        })
    }
}

/// Carries out a ban with ipset (blocking: run it off the reader task). The ban set is
/// created if absent and never flushed; the firewall's allow set is checked first.
pub fn execute(config: &BanConfig, decision: &Decision) -> BanRow {
    let (set, allow, family) = match decision.address {
        IpAddr::V4(_) => (BAN_SET, ALLOW_SET, "inet"),
        IpAddr::V6(_) => (BAN_SET6, ALLOW_SET6, "inet6"),
    };
    let ip = decision.address.to_string();
    let timeout = config.ban_time.as_secs().to_string();
    let mut row = BanRow {
        address: ip.clone(),
        events: decision.events,
        last_event: decision.last_event.clone(),
        timeout_secs: config.ban_time.as_secs(),
        applied: false,
        detail: decision.detail.clone(),
    };
    if config.dry_run {
        row.detail = format!("dry run: {}", row.detail);
        return row;
    }
    let ipset = |args: &[&str]| -> Result<std::process::Output, String> {
        let (program, prefix) = config
            .ipset
            .split_first()
            .ok_or_else(|| "no ipset command configured".to_owned())?;
        std::process::Command::new(program)
            .args(prefix)
            .args(args)
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {program}: {e}"))
    };
    // In the firewall's allow set: an office or trunk that mistyped a password.
    if let Ok(out) = ipset(&["test", allow, &ip])
        && out.status.success()
    {
        row.detail = format!("not banned: in {allow}; {}", row.detail);
        return row;
    }
    // Create the set only if absent: `-exist create` fails when an existing set was
    // made with other options (another ban time), and the set's members must survive.
    let exists = ipset(&["-t", "list", set]).is_ok_and(|out| out.status.success());
    let created = if exists {
        Ok(None)
    } else {
        ipset(&[
            "-exist", "create", set, "hash:ip", "family", family, "timeout", &timeout,
        ])
        .map(|out| (!out.status.success()).then_some(out))
    };
    let added = created.and_then(|failed| match failed {
        Some(out) => Ok(out),
        None => ipset(&["-exist", "add", set, &ip, "timeout", &timeout]),
    });
    match added {
        Ok(out) if out.status.success() => row.applied = true,
        Ok(out) => {
            row.detail = format!(
                "ipset failed: {}; {}",
                String::from_utf8_lossy(&out.stderr).trim(),
                row.detail
            )
        }
        Err(e) => row.detail = format!("{e}; {}", row.detail),
    }
    row
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_addresses() {
        assert_eq!(
            remote_address("IPV4/UDP/203.0.113.5/5060"),
            Some("203.0.113.5".parse().unwrap())
        );
        assert_eq!(
            remote_address("IPV6/UDP/2001:db8::1/5060"),
            Some("2001:db8::1".parse().unwrap())
        );
        assert_eq!(remote_address("IPV4/UDP/garbage"), None);
        assert_eq!(remote_address(""), None);
    }

    fn event(name: &str, addr: &str) -> Message {
        Message::new([
            ("Event", name),
            ("Service", "PJSIP"),
            ("AccountID", "999"),
            ("RemoteAddress", addr),
        ])
    }

    #[test]
    fn bans_at_the_threshold_within_the_window_only() {
        let mut t = BanTracker::new(BanConfig {
            allow: vec!["198.51.100.0/24".parse().unwrap()],
            ..BanConfig::default()
        });
        let start = Instant::now();
        let attacker = event("InvalidAccountID", "IPV4/UDP/203.0.113.5/5060");
        for i in 0..4 {
            assert_eq!(
                t.observe(
                    &attacker,
                    "InvalidAccountID",
                    start + Duration::from_secs(i)
                ),
                None
            );
        }
        let ban = t
            .observe(
                &attacker,
                "InvalidAccountID",
                start + Duration::from_secs(4),
            )
            .unwrap();
        assert_eq!(ban.events, 5);
        // Already banned: no second ban while it lasts.
        assert_eq!(
            t.observe(
                &attacker,
                "InvalidAccountID",
                start + Duration::from_secs(5)
            ),
            None
        );
        // Slow guessing never reaches the threshold inside the window.
        let slow = event("ChallengeResponseFailed", "IPV6/UDP/2001:db8::7/5060");
        for i in 0..10 {
            assert_eq!(
                t.observe(
                    &slow,
                    "ChallengeResponseFailed",
                    start + Duration::from_secs(i * 20)
                ),
                None
            );
        }
        // Allowed, loopback and harmless events never count.
        for (name, addr) in [
            ("InvalidAccountID", "IPV4/UDP/198.51.100.9/5060"),
            ("InvalidPassword", "IPV4/TCP/127.0.0.1/5038"),
            ("ChallengeSent", "IPV4/UDP/203.0.113.77/5060"),
        ] {
            for i in 0..10 {
                assert_eq!(
                    t.observe(&event(name, addr), name, start + Duration::from_millis(i)),
                    None
                );
            }
        }
    }
}

//! Reading the host: the managed sets and chains as they are now, and whether the
//! host side runs inside a network namespace.

use std::collections::BTreeSet;

use crate::transport::{Host, TransportError};

use super::{CHAIN, Current};

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

//! The apply script: the POSIX shell that makes a host's sets and chains match.

use super::{CHAIN, Desired, Family};

impl Desired {
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

//! The firewall against the real kernel: network namespaces made by the test (a PBX
//! "host", an office and an attacker, joined by veth pairs, test-only addresses), real
//! ipset and iptables, real traffic. A TCP connection to a protected port with nothing
//! listening is *refused* quickly when the packet reaches the host's stack, and *times
//! out* when the firewall drops it: that is how each test sees what got through.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::needs::{self, require};
use crate::netns::Netns;
use crate::sshd::keygen;
use crate::support::text;

const STANDIN: &str = include_str!("../fixtures/asterisk-standin.sh");

/// Three namespaces: `host` (the PBX), `office` (10.201.0.2, fd01::2) and `attacker`
/// (10.202.0.2, fd02::2), each linked to the host by a veth pair.
struct Lab {
    host: Netns,
    office: Netns,
    attacker: Netns,
}

impl Lab {
    fn new() -> Lab {
        let lab = Lab {
            host: Netns::new(),
            office: Netns::new(),
            attacker: Netns::new(),
        };
        for (peer, net) in [(&lab.office, 1), (&lab.attacker, 2)] {
            let (h_if, p_if) = (format!("to{net}"), "up0".to_owned());
            lab.host.ip(&[
                "link",
                "add",
                &h_if,
                "type",
                "veth",
                "peer",
                "name",
                &p_if,
                "netns",
                peer.name(),
            ]);
            for (ns, ifname, last) in [(&lab.host, &h_if, 1), (peer, &p_if, 2)] {
                ns.ip(&[
                    "addr",
                    "add",
                    &format!("10.20{net}.0.{last}/24"),
                    "dev",
                    ifname,
                ]);
                ns.ip(&[
                    "-6",
                    "addr",
                    "add",
                    &format!("fd0{net}::{last}/64"),
                    "dev",
                    ifname,
                    "nodad",
                ]);
                ns.ip(&["link", "set", ifname, "up"]);
            }
        }
        lab
    }

    /// Whether a TCP SYN from `ns` to `addr:port` reaches the host (refused or accepted)
    /// rather than being dropped (timeout).
    fn reaches(&self, ns: &Netns, addr: &str, port: u16) -> bool {
        let out = ns.run(&[
            "timeout",
            "2",
            "bash",
            "-c",
            &format!("exec 3<>/dev/tcp/{addr}/{port}"),
        ]);
        out.status.code() != Some(124)
    }

    fn ipset(&self, args: &[&str]) -> Output {
        self.host.ipset(args)
    }
}

/// A config repo with one local server whose firewall astbase manages.
fn repo(dir: &Path, firewall: &str) -> PathBuf {
    let root = empty_repo(dir);
    write_fleet(&root, firewall);
    root
}

/// `astbase.yaml`, and the PBX's conf dir and Asterisk stand-in under `pbx/`.
fn empty_repo(dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let root = dir.join("repo");
    std::fs::create_dir_all(root.join("pbx/etc/asterisk")).unwrap();
    std::fs::write(root.join("pbx/asterisk"), STANDIN).unwrap();
    std::fs::set_permissions(
        root.join("pbx/asterisk"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    std::fs::write(
        root.join("astbase.yaml"),
        "project:\n  exclude: [\"pbx/**\"]\n",
    )
    .unwrap();
    root
}

fn write_fleet(root: &Path, firewall: &str) {
    std::fs::write(
        root.join("fleet.yaml"),
        format!(
            "address_lists:\n  - {{name: offices, addresses: [10.201.0.2, \"fd01::2\"]}}\n  \
             - {{name: attackers, addresses: [10.202.0.0/24, \"fd02::/64\"]}}\n\
             servers:\n  - name: pbx\n    host: local\n    asterisk: {{conf_dir: pbx/etc/asterisk, binary: pbx/asterisk}}\n    \
             firewall: {firewall}\n\
             extensions:\n  - {{number: \"101\", server: pbx, name: Anna, secret: {{env: PW}}}}\n"
        ),
    )
    .unwrap();
}

fn astbase_in(ns: &Netns, root: &Path, args: &[&str]) -> Output {
    ns.command(env!("CARGO_BIN_EXE_astbase"))
        .args(args)
        .arg("--repo")
        .arg(root)
        .env("PW", "Secret-Pass-1")
        .env("NO_COLOR", "1")
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", ns.name()))
}

#[test]
fn allowed_gets_through_denied_and_banned_are_dropped_and_reapply_is_a_no_op() {
    require!(
        needs::ROOT_FOR_NETNS,
        needs::IP,
        needs::IPSET,
        needs::IPTABLES
    );
    let lab = Lab::new();
    let dir = tempfile::tempdir().unwrap();
    let root = repo(
        dir.path(),
        "{enabled: true, allow: [offices], deny: [attackers]}",
    );
    // Before: nothing filters.
    assert!(lab.reaches(&lab.attacker, "10.202.0.1", 5060));

    let apply = astbase_in(&lab.host, &root, &["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}", text(&apply));
    assert!(
        text(&apply).contains("firewall updated"),
        "{}",
        text(&apply)
    );

    assert!(
        lab.reaches(&lab.office, "10.201.0.1", 5060),
        "the office is allowed"
    );
    assert!(
        lab.reaches(&lab.office, "fd01::1", 5061),
        "the office is allowed (IPv6)"
    );
    assert!(
        !lab.reaches(&lab.attacker, "10.202.0.1", 5060),
        "the attacker is denied"
    );
    assert!(
        !lab.reaches(&lab.attacker, "fd02::1", 5061),
        "the attacker is denied (IPv6)"
    );
    assert!(
        lab.reaches(&lab.attacker, "10.202.0.1", 22),
        "unprotected ports are not touched"
    );
    assert!(
        !lab.reaches(&lab.office, "10.201.0.1", 5038),
        "AMI only from loopback"
    );

    // Re-applying the same repo changes nothing.
    let plan = astbase_in(&lab.host, &root, &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan));

    // The attacker leaves the deny list, then the agent bans it: dropped again.
    write_fleet(&root, "{enabled: true, allow: [offices]}");
    let plan = astbase_in(&lab.host, &root, &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(2), "{}", text(&plan));
    assert!(
        text(&plan).contains("~ ipset astbase-deny: 0 to add, 1 to remove"),
        "{}",
        text(&plan)
    );
    assert!(
        text(&plan).contains("      - 10.202.0.0/24"),
        "{}",
        text(&plan)
    );
    let apply = astbase_in(&lab.host, &root, &["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}", text(&apply));
    assert!(lab.reaches(&lab.attacker, "10.202.0.1", 5060));
    let ban = lab.ipset(&["add", "astbase-ban", "10.202.0.2", "timeout", "600"]);
    assert!(ban.status.success(), "{}", text(&ban));
    assert!(!lab.reaches(&lab.attacker, "10.202.0.1", 5060), "banned");
    // An allow-listed address is never dropped, even if banned.
    assert!(
        lab.ipset(&["add", "astbase-ban", "10.201.0.2", "timeout", "600"])
            .status
            .success()
    );
    assert!(lab.reaches(&lab.office, "10.201.0.1", 5060));

    // Apply never flushes the ban set.
    let plan = astbase_in(&lab.host, &root, &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan));
    assert!(
        text(&plan).contains("astbase-ban: 2 address(es) banned by the agent (kept)"),
        "{}",
        text(&plan)
    );

    // A member added by hand is drift: reported, then put back.
    assert!(
        lab.ipset(&["add", "astbase-allow", "10.202.0.2"])
            .status
            .success()
    );
    let plan = astbase_in(&lab.host, &root, &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(2), "{}", text(&plan));
    assert!(
        text(&plan).contains("! drift: firewall sets or rules were changed"),
        "{}",
        text(&plan)
    );
    let apply = astbase_in(&lab.host, &root, &["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}", text(&apply));
    assert!(
        !lab.reaches(&lab.attacker, "10.202.0.1", 5060),
        "back to banned"
    );
    let members = String::from_utf8_lossy(&lab.ipset(&["list", "astbase-ban"]).stdout).into_owned();
    assert!(members.contains("10.202.0.2 timeout"), "{members}");
}

#[test]
fn outside_a_namespace_a_local_target_keeps_the_machines_firewall() {
    require!(needs::IPSET);
    let dir = tempfile::tempdir().unwrap();
    let root = repo(
        dir.path(),
        "{enabled: true, allow: [offices], policy: drop}",
    );
    let before = Command::new("ipset")
        .args(["-q", "list", "-n", "astbase-allow"])
        .output()
        .unwrap();
    let plan = Command::new(env!("CARGO_BIN_EXE_astbase"))
        .args(["apply", "--auto-approve", "--repo"])
        .arg(&root)
        .env("PW", "x")
        .output()
        .unwrap();
    assert!(plan.status.success(), "{}", text(&plan));
    assert!(
        text(&plan).contains("local target outside a network namespace"),
        "{}",
        text(&plan)
    );
    let after = Command::new("ipset")
        .args(["-q", "list", "-n", "astbase-allow"])
        .output()
        .unwrap();
    assert_eq!(
        before.status.success(),
        after.status.success(),
        "the machine's sets changed"
    );
}

#[test]
fn over_ssh_in_a_namespace_a_change_that_would_lock_astbase_out_is_refused() {
    require!(
        needs::ROOT_FOR_NETNS,
        needs::IP,
        needs::IPSET,
        needs::IPTABLES,
        needs::SSHD,
        needs::SSH_KEYGEN
    );
    let lab = Lab::new();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    keygen(&d.join("host_key"));
    keygen(&d.join("client_key"));
    std::fs::copy(d.join("client_key.pub"), d.join("authorized_keys")).unwrap();
    let port = 2222;
    std::fs::create_dir_all("/run/sshd").unwrap();
    std::fs::write(
        d.join("sshd_config"),
        format!(
            "Port {port}\nListenAddress 10.201.0.1\nHostKey {d}/host_key\nPidFile {d}/sshd.pid\n\
             AuthorizedKeysFile {d}/authorized_keys\nPasswordAuthentication no\n\
             KbdInteractiveAuthentication no\nPubkeyAuthentication yes\nPermitRootLogin yes\n\
             StrictModes no\nUsePAM no\nLogLevel ERROR\n",
            d = d.display()
        ),
    )
    .unwrap();
    let mut sshd = lab
        .host
        .command(crate::sshd::SSHD)
        .args(["-D", "-E"])
        .arg(d.join("sshd.log"))
        .arg("-f")
        .arg(d.join("sshd_config"))
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while !lab.reaches(&lab.office, "10.201.0.1", port) {
        assert!(started.elapsed().as_secs() < 10, "sshd did not start");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let key = std::fs::read_to_string(d.join("host_key.pub")).unwrap();
    let mut parts = key.split_whitespace();
    std::fs::write(
        d.join("known_hosts"),
        format!(
            "[10.201.0.1]:{port} {} {}\n",
            parts.next().unwrap(),
            parts.next().unwrap()
        ),
    )
    .unwrap();

    // The PBX is reached over SSH from the office namespace; its firewall protects the
    // SSH port itself and drops everyone not allowed.
    let root = empty_repo(d);
    let fleet = |management: &str| {
        format!(
            "address_lists:\n  - {{name: admins, addresses: [10.201.0.2]}}\n  - {{name: nobody, addresses: [192.0.2.1]}}\n\
             servers:\n  - name: pbx\n    host: 10.201.0.1\n    ssh: {{port: {port}, user: root, identity_file: {key}}}\n    \
             asterisk: {{conf_dir: {conf}, binary: {bin}}}\n    \
             firewall: {{enabled: true, policy: drop, management: [{management}], protected_ports: [{{protocol: tcp, port: {port}}}, {{protocol: udp, port: 5060}}]}}\n\
             extensions:\n  - {{number: \"101\", server: pbx, name: Anna, secret: {{env: PW}}}}\n",
            key = d.join("client_key").display(),
            conf = root.join("pbx/etc/asterisk").display(),
            bin = root.join("pbx/asterisk").display(),
        )
    };
    std::fs::write(root.join("fleet.yaml"), fleet("nobody")).unwrap();
    let known = d.join("known_hosts");
    let run = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--known-hosts", known.to_str().unwrap()]);
        astbase_in(&lab.office, &root, &all)
    };
    let refused = run(&["apply", "--auto-approve"]);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    assert!(
        text(&refused).contains(&format!("would drop SSH (port {port}/tcp) from 10.201.0.2")),
        "{}",
        text(&refused)
    );
    assert!(
        lab.reaches(&lab.office, "10.201.0.1", port),
        "nothing was applied"
    );

    // With the office as a management address, the same policy is safe.
    std::fs::write(root.join("fleet.yaml"), fleet("admins")).unwrap();
    let applied = run(&["apply", "--auto-approve"]);
    assert!(applied.status.success(), "{}", text(&applied));
    assert!(
        text(&applied).contains("firewall updated"),
        "{}",
        text(&applied)
    );
    assert!(
        !lab.reaches(&lab.attacker, "10.202.0.1", port),
        "others lose SSH"
    );
    let again = run(&["plan", "--detailed-exitcode"]);
    assert_eq!(
        again.status.code(),
        Some(0),
        "astbase still reaches the host: {}",
        text(&again)
    );
    let _ = sshd.kill();
    let _ = sshd.wait();
}

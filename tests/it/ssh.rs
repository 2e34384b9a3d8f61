//! Plan and apply over SSH against a real OpenSSH `sshd` on 127.0.0.1, with generated
//! host and client keys; host key checking is strict.

use std::path::PathBuf;
use std::process::{Command, Output};

use crate::sshd::{Sshd, keygen};

const STANDIN: &str = include_str!("../fixtures/asterisk-standin.sh");

trait TestRepo {
    fn repo(&self) -> PathBuf;
    fn astbase(&self, args: &[&str]) -> Output;
}

impl TestRepo for Sshd {
    /// A config repo with one server reached through this sshd.
    fn repo(&self) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let root = self.path("repo");
        let host = self.path("pbx");
        std::fs::create_dir_all(host.join("etc/asterisk")).unwrap();
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(host.join("asterisk"), STANDIN).unwrap();
        std::fs::set_permissions(
            host.join("asterisk"),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap();
        std::fs::write(root.join("astbase.yaml"), "").unwrap();
        std::fs::write(
            root.join("fleet.yaml"),
            format!(
                "servers:\n  - name: pbx\n    host: 127.0.0.1\n    ssh: {{port: {}, user: root, identity_file: {}}}\n    \
                 asterisk: {{conf_dir: {}, binary: {}}}\nextensions:\n  - {{number: \"101\", server: pbx, name: Anna, secret: {{env: PW}}}}\n",
                self.port,
                self.path("client_key").display(),
                host.join("etc/asterisk").display(),
                host.join("asterisk").display(),
            ),
        )
        .unwrap();
        root
    }

    fn astbase(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_astbase"))
            .args(args)
            .arg("--repo")
            .arg(self.path("repo"))
            .arg("--known-hosts")
            .arg(self.path("known_hosts"))
            .env("PW", "Secret-Pass-1")
            .output()
            .unwrap()
    }
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn apply_over_ssh_then_nothing_to_do() {
    let sshd = Sshd::start(None);
    sshd.repo();
    std::fs::write(
        sshd.path("known_hosts"),
        sshd.known_hosts_line("host_key.pub"),
    )
    .unwrap();
    let apply = sshd.astbase(&["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}", text(&apply));
    assert!(
        text(&apply).contains(&format!("== pbx (root@127.0.0.1:{}:", sshd.port)),
        "{}",
        text(&apply)
    );
    assert!(
        text(&apply)
            .contains("pbx: applied (module reload res_pjsip.so, module reload pbx_config.so)"),
        "{}",
        text(&apply)
    );
    let conf = sshd.path("pbx/etc/asterisk");
    assert!(
        std::fs::read_to_string(conf.join("pjsip_odoo.conf"))
            .unwrap()
            .contains("password=Secret-Pass-1")
    );
    assert!(
        std::fs::read_to_string(conf.join("pjsip.conf"))
            .unwrap()
            .contains("#tryinclude pjsip_odoo.conf")
    );
    let plan = sshd.astbase(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan));
}

#[test]
fn an_unknown_host_key_is_refused_until_accepted() {
    let sshd = Sshd::start(None);
    sshd.repo();
    let plan = sshd.astbase(&["plan"]);
    assert_eq!(plan.status.code(), Some(1));
    assert!(
        text(&plan).contains("unknown host key SHA256:"),
        "{}",
        text(&plan)
    );
    assert!(!sshd.path("known_hosts").exists());
    let plan = sshd.astbase(&["plan", "--accept-new-host-keys"]);
    assert!(plan.status.success(), "{}", text(&plan));
    let recorded = std::fs::read_to_string(sshd.path("known_hosts")).unwrap();
    assert!(
        recorded.contains(&format!("[127.0.0.1]:{}", sshd.port)),
        "{recorded}"
    );
    let plan = sshd.astbase(&["plan"]);
    assert!(plan.status.success(), "{}", text(&plan));
}

#[test]
fn a_changed_host_key_is_always_refused() {
    let sshd = Sshd::start(None);
    sshd.repo();
    // known_hosts holds another key of the same type for this host and port.
    keygen(&sshd.path("other_key"));
    std::fs::write(
        sshd.path("known_hosts"),
        sshd.known_hosts_line("other_key.pub"),
    )
    .unwrap();
    for flags in [&["plan"][..], &["plan", "--accept-new-host-keys"][..]] {
        let plan = sshd.astbase(flags);
        assert_eq!(plan.status.code(), Some(1));
        assert!(text(&plan).contains("HOST KEY CHANGED"), "{}", text(&plan));
        assert!(text(&plan).contains("line 1 of"), "{}", text(&plan));
    }
    assert!(!sshd.path("pbx/etc/asterisk/pjsip_odoo.conf").exists());
}

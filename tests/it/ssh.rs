//! Plan and apply over SSH against a real OpenSSH `sshd` on 127.0.0.1, with generated
//! host and client keys; host key checking is strict.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

const SSHD: &str = "/usr/sbin/sshd";
const STANDIN: &str = include_str!("../fixtures/asterisk-standin.sh");

struct Sshd {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn keygen(path: &Path) {
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "astbase-test", "-f"])
        .arg(path)
        .output()
        .expect("ssh-keygen runs (apt-get install openssh-client)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Sshd {
    fn start() -> Sshd {
        assert!(
            Path::new(SSHD).exists(),
            "these tests need OpenSSH's sshd: apt-get install openssh-server"
        );
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        keygen(&d.join("host_key"));
        keygen(&d.join("client_key"));
        std::fs::copy(d.join("client_key.pub"), d.join("authorized_keys")).unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        std::fs::create_dir_all("/run/sshd").unwrap();
        let config = format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host_key\nPidFile {d}/sshd.pid\n\
             AuthorizedKeysFile {d}/authorized_keys\nPasswordAuthentication no\n\
             KbdInteractiveAuthentication no\nPubkeyAuthentication yes\nPermitRootLogin yes\n\
             StrictModes no\nUsePAM no\nLogLevel ERROR\n",
            d = d.display()
        );
        std::fs::write(d.join("sshd_config"), config).unwrap();
        let child = Command::new(SSHD)
            .args(["-D", "-e", "-f"])
            .arg(d.join("sshd_config"))
            .spawn()
            .unwrap();
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "sshd did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Sshd { child, port, dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A known_hosts line for this server with the given public key file.
    fn known_hosts_line(&self, pub_file: &str) -> String {
        let key = std::fs::read_to_string(self.path(pub_file)).unwrap();
        let mut parts = key.split_whitespace();
        format!(
            "[127.0.0.1]:{} {} {}\n",
            self.port,
            parts.next().unwrap(),
            parts.next().unwrap()
        )
    }

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
    let sshd = Sshd::start();
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
    let sshd = Sshd::start();
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
    let sshd = Sshd::start();
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

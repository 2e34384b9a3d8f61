//! A real OpenSSH `sshd` on 127.0.0.1 for tests and benchmarks: generated host and client
//! keys, key authentication only, stopped when dropped.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

pub const SSHD: &str = "/usr/sbin/sshd";

pub struct Sshd {
    child: Child,
    pub port: u16,
    pub dir: tempfile::TempDir,
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn keygen(path: &Path) {
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
    /// Starts sshd accepting `client_pub` (a public key file), or a key of its own.
    pub fn start(client_pub: Option<&Path>) -> Sshd {
        assert!(
            Path::new(SSHD).exists(),
            "these tests need OpenSSH's sshd: apt-get install openssh-server"
        );
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        keygen(&d.join("host_key"));
        match client_pub {
            Some(key) => {
                std::fs::copy(key, d.join("authorized_keys")).unwrap();
            }
            None => {
                keygen(&d.join("client_key"));
                std::fs::copy(d.join("client_key.pub"), d.join("authorized_keys")).unwrap();
            }
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        std::fs::create_dir_all("/run/sshd").unwrap();
        // SHLVL=1: bash, root's login shell here, sources ~/.bashrc for every command
        // sshd runs when it thinks it is a top-level shell, and this machine's root
        // ~/.bashrc starts pyenv: ~106 ms of processes per command, more than all the
        // work astbase sends (measured: `SSH_CLIENT=x bash -c true` 106 ms, with SHLVL=1
        // 2 ms). A PBX's root shell is plain; so are these hosts'.
        let config = format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host_key\nPidFile {d}/sshd.pid\n\
             AuthorizedKeysFile {d}/authorized_keys\nPasswordAuthentication no\n\
             KbdInteractiveAuthentication no\nPubkeyAuthentication yes\nPermitRootLogin yes\n\
             StrictModes no\nUsePAM no\nLogLevel VERBOSE\nMaxStartups 100\nSetEnv SHLVL=1\n",
            d = d.display()
        );
        std::fs::write(d.join("sshd_config"), config).unwrap();
        // Its log goes to a file: the readiness probe below makes it complain otherwise.
        // VERBOSE: it logs every command it starts, which is how a bench counts round trips.
        let child = Command::new(SSHD)
            .arg("-D")
            .arg("-E")
            .arg(d.join("sshd.log"))
            .arg("-f")
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

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A PBX this server reaches: the directory `name` with a conf dir `etc/asterisk`
    /// and an `asterisk -rx` stand-in beside it (tests/fixtures/asterisk-standin.sh).
    pub fn standin_pbx(&self, name: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let host = self.path(name);
        std::fs::create_dir_all(host.join("etc/asterisk")).unwrap();
        let binary = host.join("asterisk");
        std::fs::write(&binary, include_str!("../fixtures/asterisk-standin.sh")).unwrap();
        std::fs::set_permissions(&binary, std::fs::Permissions::from_mode(0o755)).unwrap();
        host
    }

    /// How many commands sshd has started so far (each `exec` channel, one round trip of
    /// astbase's transport), from its own log: `Starting session: command for root ...`.
    pub fn commands_started(&self) -> usize {
        std::fs::read_to_string(self.path("sshd.log"))
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains("Starting session: command"))
            .count()
    }

    /// A known_hosts line for this server with the given public key file.
    pub fn known_hosts_line(&self, pub_file: &str) -> String {
        let key = std::fs::read_to_string(self.path(pub_file)).unwrap();
        let mut parts = key.split_whitespace();
        format!(
            "[127.0.0.1]:{} {} {}\n",
            self.port,
            parts.next().unwrap(),
            parts.next().unwrap()
        )
    }
}

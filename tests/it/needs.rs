//! What a test needs from the machine beyond cargo (root, OpenSSH's sshd, ipset...), and
//! what happens when it is missing: the test is skipped with one line on stderr naming
//! it, so a newcomer's `cargo test --all-targets` as a normal user passes and says what
//! it did not run. A skip is never silent: each is also appended to the file named by
//! `ASTBASE_SKIP_LOG`, and with `ASTBASE_REQUIRE_ALL` set it fails the test instead. CI
//! (as root, with everything installed) sets both, so there nothing is ever skipped.
//!
//! Only std (and sshd.rs for where sshd lives): benches/reconcile.rs shares both files
//! through `#[path]`.

use std::io::Write as _;
use std::path::Path;

/// One thing a test needs.
#[derive(Clone, Copy, Debug)]
pub enum Need {
    /// An effective uid of 0; says what for.
    Root(&'static str),
    /// Programs, all of them: names looked up on PATH, or absolute paths.
    Programs {
        names: &'static [&'static str],
        /// How to install them: `apt-get install ipset`.
        package: &'static str,
    },
    /// Debian's PostgreSQL server binaries (`/usr/lib/postgresql/<version>/bin/initdb`).
    PostgresServer,
}

/// Creating and entering network namespaces (`ip netns add`, `ip netns exec`).
pub const ROOT_FOR_NETNS: Need = Need::Root("network namespaces");
/// The test sshd logs in as root (`user: root`), which only a root sshd can do.
pub const ROOT_FOR_SSHD: Need = Need::Root("sshd logging in as root");
pub const IP: Need = Need::Programs {
    names: &["ip"],
    package: "apt-get install iproute2",
};
pub const IPSET: Need = Need::Programs {
    names: &["ipset"],
    package: "apt-get install ipset",
};
/// What the firewall's host script checks for before it changes anything.
pub const IPTABLES: Need = Need::Programs {
    names: &[
        "iptables",
        "ip6tables",
        "iptables-restore",
        "ip6tables-restore",
    ],
    package: "apt-get install iptables",
};
pub const SSHD: Need = Need::Programs {
    names: &[crate::sshd::SSHD],
    package: "apt-get install openssh-server",
};
pub const SSH_KEYGEN: Need = Need::Programs {
    names: &["ssh-keygen"],
    package: "apt-get install openssh-client",
};
pub const SSH_AGENT: Need = Need::Programs {
    names: &["ssh-agent", "ssh-add"],
    package: "apt-get install openssh-client",
};
/// A real Asterisk 22, as `../shared/asterisk/install.sh` installs it.
pub const ASTERISK: Need = Need::Programs {
    names: &[
        "asterisk",
        "/opt/asterisk/lib/asterisk/modules/chan_pjsip.so",
    ],
    package: "run ../shared/asterisk/install.sh as root",
};
/// A real browser for the web console's tests: Debian's chromium and its driver.
pub const CHROMIUM: Need = Need::Programs {
    names: &["/usr/bin/chromium", "chromedriver"],
    package: "apt-get install chromium chromium-driver",
};
/// sipp, for real SIP user agents (installed with Asterisk by its install.sh).
pub const SIPP: Need = Need::Programs {
    names: &["sipp"],
    package: "apt-get install sip-tester",
};
/// For the test certificate authority of the TLS tests.
pub const OPENSSL: Need = Need::Programs {
    names: &["openssl"],
    package: "apt-get install openssl",
};
pub const FLOCK: Need = Need::Programs {
    names: &["flock"],
    package: "apt-get install util-linux",
};

impl Need {
    /// What is missing of this need, if anything, as the words after "needs".
    fn missing(self) -> Option<String> {
        match self {
            Need::PostgresServer => {
                let found = std::fs::read_dir("/usr/lib/postgresql").is_ok_and(|versions| {
                    versions
                        .filter_map(Result::ok)
                        .any(|v| v.path().join("bin/initdb").exists())
                });
                (!found)
                    .then(|| "PostgreSQL's initdb and pg_ctl (apt-get install postgresql)".into())
            }
            Need::Root(why) => (!is_root()).then(|| format!("root ({why})")),
            Need::Programs { names, package } => {
                let (mut off_path, mut dirs, mut absent) = (Vec::new(), Vec::new(), Vec::new());
                for name in names {
                    match find(name) {
                        Found::Runnable => {}
                        Found::OffPath(dir) => {
                            off_path.push(*name);
                            if !dirs.contains(&dir) {
                                dirs.push(dir);
                            }
                        }
                        Found::Absent => absent.push(*name),
                    }
                }
                let mut words = Vec::new();
                if !off_path.is_empty() {
                    words.push(format!(
                        "{} on PATH (found in {}, which PATH lacks)",
                        off_path.join(", "),
                        dirs.join(" and ")
                    ));
                }
                if !absent.is_empty() {
                    words.push(format!("{} ({package})", absent.join(", ")));
                }
                (!words.is_empty()).then(|| words.join("; needs "))
            }
        }
    }
}

/// Whether everything `test` needs is here. If not: one line on stderr (and in
/// `ASTBASE_SKIP_LOG`), and the caller returns early; under `ASTBASE_REQUIRE_ALL`, a panic
/// with that line instead.
pub fn met(test: &str, needs: &[Need]) -> bool {
    let missing: Vec<String> = needs.iter().filter_map(|n| n.missing()).collect();
    if missing.is_empty() {
        return true;
    }
    let line = format!("{test}: needs {}", missing.join("; needs "));
    if std::env::var_os("ASTBASE_REQUIRE_ALL").is_some_and(|v| !v.is_empty()) {
        panic!("{line} (not skipped: ASTBASE_REQUIRE_ALL is set)");
    }
    let line = format!("skipped: {line}\n");
    // Straight to stderr: libtest captures eprintln! of a passing test, and a skip must
    // be seen.
    let _ = std::io::stderr().write_all(line.as_bytes());
    if let Some(log) = std::env::var_os("ASTBASE_SKIP_LOG").filter(|v| !v.is_empty()) {
        // One write of a short line to an O_APPEND file: tests running in parallel
        // cannot interleave their lines.
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .and_then(|mut file| file.write_all(line.as_bytes()))
            .unwrap_or_else(|e| panic!("ASTBASE_SKIP_LOG {}: {e}", Path::new(&log).display()));
    }
    false
}

/// Returns from the calling test unless everything it needs is here (see [`met`]); the
/// test is named by its module path, e.g. `ssh::apply_over_ssh_then_nothing_to_do`.
macro_rules! require {
    ($($need:expr),+ $(,)?) => {{
        fn here() {}
        let path = std::any::type_name_of_val(&here);
        let path = path.strip_suffix("::here").unwrap_or(path);
        // Without the test crate's own name in front.
        let test = path.split_once("::").map_or(path, |(_, rest)| rest);
        if !$crate::needs::met(test, &[$($need),+]) {
            return;
        }
    }};
}
pub(crate) use require;

/// Whether this process runs as root, from the effective uid in /proc (no libc needed).
fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|status| {
        status
            .lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().nth(1))
            == Some("0")
    })
}

/// Where a program is, as far as a test can run it.
enum Found {
    /// An absolute path that exists, or a name on PATH.
    Runnable,
    /// Not on PATH but in this sbin directory (a normal user's PATH often lacks them).
    OffPath(&'static str),
    Absent,
}

fn find(program: &str) -> Found {
    use std::os::unix::fs::PermissionsExt;
    let executable = |path: &Path| {
        path.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if program.contains('/') {
        return if executable(Path::new(program)) {
            Found::Runnable
        } else {
            Found::Absent
        };
    }
    let on_path = std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| executable(&dir.join(program))));
    if on_path {
        return Found::Runnable;
    }
    ["/usr/sbin", "/sbin"]
        .into_iter()
        .find(|dir| executable(&Path::new(dir).join(program)))
        .map_or(Found::Absent, Found::OffPath)
}

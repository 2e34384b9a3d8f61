//! Plan and apply over SSH against a real OpenSSH `sshd` on 127.0.0.1, with generated
//! host and client keys; host key checking is strict.

use std::path::PathBuf;
use std::process::{Command, Output};

use crate::needs::{self, require};
use crate::sshd::{Sshd, keygen};
use crate::support::text;

trait TestRepo {
    fn repo(&self) -> PathBuf;
    fn astbase(&self, args: &[&str]) -> Output;
}

impl TestRepo for Sshd {
    /// A config repo with one server reached through this sshd.
    fn repo(&self) -> PathBuf {
        let root = self.path("repo");
        let host = self.standin_pbx("pbx");
        std::fs::create_dir_all(&root).unwrap();
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

#[test]
fn apply_over_ssh_runs_four_commands_then_a_plan_runs_one_and_finds_nothing_to_do() {
    require!(needs::ROOT_FOR_SSHD, needs::SSHD, needs::SSH_KEYGEN);
    let sshd = Sshd::start(None);
    sshd.repo();
    std::fs::write(
        sshd.path("known_hosts"),
        sshd.known_hosts_line("host_key.pub"),
    )
    .unwrap();
    let apply = sshd.astbase(&["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}", text(&apply));
    // The plan's read; the lock (whose holder reads what the plan saw once it holds
    // it, and writes the state as it lets go), stage and switch, the reloads with
    // their checks.
    assert_eq!(sshd.commands_started(), 1 + 3);
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
    assert_eq!(sshd.commands_started(), 1 + 3 + 1);
}

#[test]
fn an_unknown_host_key_is_refused_until_accepted() {
    require!(needs::ROOT_FOR_SSHD, needs::SSHD, needs::SSH_KEYGEN);
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
    require!(needs::ROOT_FOR_SSHD, needs::SSHD, needs::SSH_KEYGEN);
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

/// A TCP relay in front of sshd that cuts each connection after the client has sent a
/// given number of bytes: a network failure at an exact point of an apply.
struct CuttingProxy {
    port: u16,
    limit: std::sync::Arc<std::sync::atomic::AtomicU64>,
    sent: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl CuttingProxy {
    fn start(target: u16) -> CuttingProxy {
        use std::io::{Read, Write};
        use std::net::{Shutdown, TcpListener, TcpStream};
        use std::sync::Arc;
        use std::sync::atomic::{AtomicU64, Ordering};
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let limit = Arc::new(AtomicU64::new(u64::MAX));
        let sent = Arc::new(AtomicU64::new(0));
        let (limit2, sent2) = (limit.clone(), sent.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(mut client) = client else { return };
                let Ok(mut server) = TcpStream::connect(("127.0.0.1", target)) else {
                    return;
                };
                let limit = limit2.load(Ordering::SeqCst);
                let sent = sent2.clone();
                sent.store(0, Ordering::SeqCst);
                let (mut client_r, mut server_w) =
                    (client.try_clone().unwrap(), server.try_clone().unwrap());
                std::thread::spawn(move || {
                    let mut buf = [0u8; 4096];
                    let mut total = 0u64;
                    loop {
                        let n = match client_r.read(&mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n as u64,
                        };
                        let allowed = n.min(limit - total);
                        if server_w.write_all(&buf[..allowed as usize]).is_err() {
                            break;
                        }
                        total += allowed;
                        sent.store(total, Ordering::SeqCst);
                        if total >= limit {
                            break;
                        }
                    }
                    let _ = server_w.shutdown(Shutdown::Both);
                    let _ = client_r.shutdown(Shutdown::Both);
                });
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut server, &mut client);
                    let _ = client.shutdown(Shutdown::Both);
                });
            }
        });
        CuttingProxy { port, limit, sent }
    }
}

/// The generated files a host has (regular, visible files of the conf dir).
fn generated(conf: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(conf)
        .unwrap()
        .flatten()
        .filter(|e| e.file_type().unwrap().is_file())
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e))
        .filter(|(name, _)| !name.starts_with('.'))
        .map(|(name, e)| (name, std::fs::read(e.path()).unwrap()))
        .collect();
    files.sort();
    files
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    // The host's side of a cut connection may still be ending (its last command after
    // the lock holder's) and add an entry while the directory is removed: try again,
    // or `cp` would copy into what is left instead of replacing it.
    for _ in 0..100 {
        match std::fs::remove_dir_all(to) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            _ => break,
        }
    }
    assert!(!to.exists(), "{} could not be removed", to.display());
    let status = Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn a_connection_cut_anywhere_leaves_the_host_all_old_or_all_new() {
    require!(
        needs::ROOT_FOR_SSHD,
        needs::SSHD,
        needs::SSH_KEYGEN,
        needs::FLOCK
    );
    use std::sync::atomic::Ordering;
    let sshd = Sshd::start(None);
    let root = sshd.repo();
    let proxy = CuttingProxy::start(sshd.port);
    let mut known = sshd.known_hosts_line("host_key.pub");
    known.push_str(&known.replace(&format!(":{} ", sshd.port), &format!(":{} ", proxy.port)));
    std::fs::write(sshd.path("known_hosts"), known).unwrap();
    let first = sshd.astbase(&["apply", "--auto-approve"]);
    assert!(first.status.success(), "{}", text(&first));

    // The old state: one extension applied. The new one: 400 more, through the relay,
    // so the upload (the pjsip file alone is several hundred KiB) spans many packets.
    let pbx = sshd.path("pbx");
    let conf = pbx.join("etc/asterisk");
    let saved = sshd.path("pbx.old");
    copy_dir(&pbx, &saved);
    let old = generated(&conf);
    let fleet = std::fs::read_to_string(root.join("fleet.yaml")).unwrap();
    let mut fleet = fleet.replace(
        &format!("port: {}", sshd.port),
        &format!("port: {}", proxy.port),
    );
    for n in 1000..1400 {
        fleet.push_str(&format!(
            "  - {{number: \"{n}\", server: pbx, name: User {n}, secret: {{env: PW}}}}\n"
        ));
    }
    std::fs::write(root.join("fleet.yaml"), fleet).unwrap();
    let full = sshd.astbase(&["apply", "--auto-approve"]);
    assert!(full.status.success(), "{}", text(&full));
    let total = proxy.sent.load(Ordering::SeqCst);
    let new = generated(&conf);
    assert_ne!(old, new);

    let lock = conf.join(".astbase/apply.lock");
    let (mut saw_old, mut saw_new, mut saw_short_upload) = (0, 0, false);
    // Cuts through the upload, which is nearly all of what the client sends, and in the
    // last few KiB: the switch, the reload with its checks and the state write.
    let cuts = [10, 25, 40, 50, 60, 70, 80, 90, 97]
        .map(|percent| total * percent / 100)
        .into_iter()
        .chain([6000, 3000, 1500, 800, 400].map(|before_end| total - before_end));
    for limit in cuts {
        copy_dir(&saved, &pbx);
        proxy.limit.store(limit, Ordering::SeqCst);
        let cut = sshd.astbase(&["apply", "--auto-approve"]);
        assert_eq!(
            cut.status.code(),
            Some(1),
            "cut after {limit} of {total} bytes: {}",
            text(&cut)
        );
        // The host side notices the cut: its lock holder ends, and with it the lock.
        let freed = Command::new("flock")
            .args(["-w", "10"])
            .arg(&lock)
            .arg("true")
            .status()
            .unwrap();
        assert!(freed.success(), "the lock outlived the connection");
        let now = generated(&conf);
        assert!(
            now == old || now == new,
            "cut after {limit} of {total} bytes left a mix: {:?}",
            now.iter().map(|f| &f.0).collect::<Vec<_>>()
        );
        if now == old {
            saw_old += 1;
        } else {
            saw_new += 1;
        }
        let temp = conf.join(".pjsip_odoo.conf.astbase-new");
        let full_size = new
            .iter()
            .find(|f| f.0 == "pjsip_odoo.conf")
            .unwrap()
            .1
            .len() as u64;
        if std::fs::metadata(&temp).is_ok_and(|m| m.len() < full_size) {
            saw_short_upload = true;
        }
    }
    assert!(saw_short_upload, "no cut landed inside the upload");
    assert!(saw_old > 0 && saw_new > 0, "old {saw_old}, new {saw_new}");

    // After the last cut, a plain apply finishes the job and then there is nothing to do.
    proxy.limit.store(u64::MAX, Ordering::SeqCst);
    let again = sshd.astbase(&["apply", "--auto-approve"]);
    assert!(again.status.success(), "{}", text(&again));
    assert_eq!(generated(&conf), new);
    let plan = sshd.astbase(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan));
}

#[test]
fn keys_held_by_ssh_agent_are_used() {
    require!(
        needs::ROOT_FOR_SSHD,
        needs::SSHD,
        needs::SSH_KEYGEN,
        needs::SSH_AGENT
    );
    let sshd = Sshd::start(None);
    let root = sshd.repo();
    std::fs::write(
        sshd.path("known_hosts"),
        sshd.known_hosts_line("host_key.pub"),
    )
    .unwrap();
    // No identity file in the repo, and a HOME without keys: only the agent has one.
    let fleet = std::fs::read_to_string(root.join("fleet.yaml")).unwrap();
    let fleet = fleet.replace(
        &format!(", identity_file: {}", sshd.path("client_key").display()),
        "",
    );
    std::fs::write(root.join("fleet.yaml"), fleet).unwrap();
    let home = sshd.path("home");
    std::fs::create_dir_all(&home).unwrap();
    let socket = sshd.path("agent.sock");
    let mut agent = Command::new("ssh-agent")
        .arg("-D")
        .arg("-a")
        .arg(&socket)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("ssh-agent (apt-get install openssh-client)");
    let started = std::time::Instant::now();
    while !socket.exists() {
        assert!(started.elapsed().as_secs() < 10, "ssh-agent did not start");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let run = |with_agent: bool| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_astbase"));
        command
            .args(["plan", "--repo"])
            .arg(&root)
            .arg("--known-hosts")
            .arg(sshd.path("known_hosts"))
            .env("PW", "Secret-Pass-1")
            .env("HOME", &home)
            .env_remove("SSH_AUTH_SOCK");
        if with_agent {
            command.env("SSH_AUTH_SOCK", &socket);
        }
        command.output().unwrap()
    };
    let without = run(false);
    let with_empty_agent = run(true);
    let added = Command::new("ssh-add")
        .arg(sshd.path("client_key"))
        .env("SSH_AUTH_SOCK", &socket)
        .output()
        .unwrap();
    let with_agent = run(true);
    agent.kill().unwrap();
    agent.wait().unwrap();
    assert!(added.status.success(), "{}", text(&added));
    assert_eq!(without.status.code(), Some(1));
    assert!(
        text(&without).contains("authentication failed: no usable private key"),
        "{}",
        text(&without)
    );
    assert_eq!(with_empty_agent.status.code(), Some(1));
    assert!(with_agent.status.success(), "{}", text(&with_agent));
    assert!(
        text(&with_agent).contains("Plan: 2 to add"),
        "{}",
        text(&with_agent)
    );
}

#[test]
fn a_rollout_over_ssh_stops_after_its_failing_canary_and_the_next_wave_is_not_touched() {
    require!(needs::ROOT_FOR_SSHD, needs::SSHD, needs::SSH_KEYGEN);
    let sshd = Sshd::start(None);
    std::fs::write(
        sshd.path("known_hosts"),
        sshd.known_hosts_line("host_key.pub"),
    )
    .unwrap();
    // Three PBXs behind one sshd, each its own conf dir and Asterisk stand-in.
    let root = sshd.path("repo");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("astbase.yaml"), "").unwrap();
    let mut fleet = String::from("servers:\n");
    let mut extensions = String::from("extensions:\n");
    for name in ["canary", "second", "third"] {
        let host = sshd.standin_pbx(name);
        fleet.push_str(&format!(
            "  - name: {name}\n    host: 127.0.0.1\n    tags: [moscow]\n    ssh: {{port: {}, user: root, identity_file: {}}}\n    \
             asterisk: {{conf_dir: {}, binary: {}}}\n",
            sshd.port,
            sshd.path("client_key").display(),
            host.join("etc/asterisk").display(),
            host.join("asterisk").display(),
        ));
        extensions.push_str(&format!(
            "  - {{number: \"101\", server: {name}, name: Anna, secret: {{env: PW}}}}\n"
        ));
    }
    std::fs::write(root.join("fleet.yaml"), format!("{fleet}{extensions}")).unwrap();
    let first = sshd.astbase(&["apply", "--auto-approve", "--server", "tag:moscow"]);
    assert!(first.status.success(), "{}", text(&first));

    std::fs::write(
        root.join("fleet.yaml"),
        format!("{fleet}{}", extensions.replace("Anna", "Anna P")),
    )
    .unwrap();
    let untouched = |name: &str| {
        std::fs::read_to_string(sshd.path(name).join("etc/asterisk/extensions_odoo.conf")).unwrap()
    };
    let (second, third) = (untouched("second"), untouched("third"));
    std::fs::create_dir_all(sshd.path("canary/.standin")).unwrap();
    std::fs::write(sshd.path("canary/.standin/fail-pbx_config"), "").unwrap();
    let apply = sshd.astbase(&["apply", "--auto-approve", "--waves", "1,rest"]);
    let out = text(&apply);
    assert_eq!(apply.status.code(), Some(3), "{out}");
    assert!(
        out.contains("canary: rolled back: `module reload pbx_config.so` failed"),
        "{out}"
    );
    assert!(
        out.contains("second: not started (the rollout stopped)\n"),
        "{out}"
    );
    assert!(
        out.contains("third: not started (the rollout stopped)\n"),
        "{out}"
    );
    assert_eq!(untouched("second"), second);
    assert_eq!(untouched("third"), third);
    // The next run, with the canary healthy, rolls the change out everywhere.
    let apply = sshd.astbase(&["apply", "--auto-approve", "--waves", "1,rest"]);
    assert!(apply.status.success(), "{}", text(&apply));
    assert!(untouched("third").contains("Anna P"));
}

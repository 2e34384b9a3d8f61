//! Plan and apply across 20 real sshd hosts on 127.0.0.1 (`cargo bench --bench reconcile`):
//! times the CLI end to end — first plan, first apply, then the no-op plan — with 50
//! extensions per host and the default parallelism (10 hosts at once). Under `cargo test`
//! it runs a 2-host smoke version.

// The tests' own list of what they need; this uses only a few of its entries.
#[allow(dead_code, unused_imports, unused_macros)]
#[path = "../tests/it/needs.rs"]
mod needs;
#[path = "../tests/it/sshd.rs"]
mod sshd;

use std::fmt::Write as _;
use std::process::Command;
use std::time::Instant;

fn main() {
    // The hosts are reached as root (no `user:` in the fleet), which only a root sshd allows.
    let needs = [needs::ROOT_FOR_SSHD, needs::SSHD, needs::SSH_KEYGEN];
    if !needs::met("benches/reconcile", &needs) {
        return;
    }
    let hosts = if std::env::args().any(|a| a == "--bench") {
        20
    } else {
        2
    };
    let work = tempfile::tempdir().unwrap();
    let key = work.path().join("client_key");
    sshd::keygen(&key);
    let servers: Vec<sshd::Sshd> = (0..hosts)
        .map(|_| sshd::Sshd::start(Some(&key.with_extension("pub"))))
        .collect();
    let repo = work.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    std::fs::write(repo.join("astbase.yaml"), "").unwrap();
    let mut known_hosts = String::new();
    let mut fleet = String::from("servers:\n");
    let mut extensions = String::from("extensions:\n");
    for (i, s) in servers.iter().enumerate() {
        known_hosts.push_str(&s.known_hosts_line("host_key.pub"));
        let host = s.standin_pbx("pbx");
        writeln!(
            fleet,
            "  - {{name: h{i}, host: 127.0.0.1, systemname: h{i}, ssh: {{port: {}, identity_file: {}}}, \
             asterisk: {{conf_dir: {}, binary: {}}}}}",
            s.port,
            key.display(),
            host.join("etc/asterisk").display(),
            host.join("asterisk").display()
        )
        .unwrap();
        for e in 0..50 {
            writeln!(
                extensions,
                "  - {{number: \"{}\", server: h{i}, name: User {e}, secret: {{env: PW}}}}",
                100 + e
            )
            .unwrap();
        }
    }
    std::fs::write(repo.join("fleet.yaml"), fleet + &extensions).unwrap();
    std::fs::write(work.path().join("known_hosts"), known_hosts).unwrap();
    // ASTBASE_BENCH_BIN compares another build (A/B) on the same hosts in the same run.
    let binary = std::env::var_os("ASTBASE_BENCH_BIN")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_astbase").into());
    let run = |args: &[&str]| {
        let started = Instant::now();
        let out = Command::new(&binary)
            .args(args)
            .arg("--repo")
            .arg(&repo)
            .arg("--known-hosts")
            .arg(work.path().join("known_hosts"))
            .env("PW", "Secret-Pass-1")
            .output()
            .unwrap();
        let elapsed = started.elapsed();
        let code = out.status.code();
        assert!(
            matches!(code, Some(0) | Some(2)),
            "{args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (elapsed, code)
    };
    let floor = ssh_floor(&servers, &key, &work.path().join("known_hosts"), 10);
    // Round trips per host: the commands sshd started for the step, from its own log.
    let started = || -> usize { servers.iter().map(sshd::Sshd::commands_started).sum() };
    let per_host = |before: usize| (started() - before) as f64 / hosts as f64;
    let before = started();
    let (plan, code) = run(&["plan", "--detailed-exitcode"]);
    assert_eq!(code, Some(2));
    let plan_trips = per_host(before);
    let before = started();
    let (apply, _) = run(&["apply", "--auto-approve"]);
    let apply_trips = per_host(before);
    let (noop, code) = run(&["plan", "--detailed-exitcode"]);
    assert_eq!(code, Some(0), "a plan after apply must be empty");
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
    println!(
        "{hosts} hosts over SSH, 50 extensions each: SSH floor {:.0} ms; first plan {:.0} ms (floor + {:.0} ms, {plan_trips:.0} round trips per host), apply {:.0} ms ({:.1}x the floor, {apply_trips:.0} round trips per host), no-op plan {:.0} ms",
        ms(floor),
        ms(plan),
        ms(plan) - ms(floor),
        ms(apply),
        apply.as_secs_f64() / floor.as_secs_f64(),
        ms(noop)
    );
    drop(servers);
}

/// The SSH floor: connecting to (handshake, host key check, authentication) and leaving
/// every host, `parallelism` at a time, with astbase's own transport and nothing else.
fn ssh_floor(
    servers: &[sshd::Sshd],
    key: &std::path::Path,
    known_hosts: &std::path::Path,
    parallelism: usize,
) -> std::time::Duration {
    use astbase::transport::ssh::{Ssh, SshOptions};
    let started = Instant::now();
    for round in servers.chunks(parallelism) {
        std::thread::scope(|scope| {
            for server in round {
                scope.spawn(move || {
                    Ssh::connect(SshOptions {
                        host: "127.0.0.1".into(),
                        port: server.port,
                        user: "root".into(),
                        identities: vec![key.to_path_buf()],
                        explicit_identity: true,
                        known_hosts: known_hosts.to_path_buf(),
                        accept_new_host_keys: false,
                        timeout: std::time::Duration::from_secs(30),
                    })
                    .map(drop)
                    .unwrap();
                });
            }
        });
    }
    started.elapsed()
}

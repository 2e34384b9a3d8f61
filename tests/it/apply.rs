//! Plan and apply against local targets, with an Asterisk stand-in that behaves like the
//! real `asterisk -rx` (tests/fixtures/asterisk-standin.sh): every command exits 0, a
//! rejected PJSIP file still "reloads successfully", a failed dialplan reload says so.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::needs::{self, require};
use crate::support::text;

pub(crate) struct Repo {
    _dir: tempfile::TempDir,
    pub root: PathBuf,
}

const STANDIN: &str = include_str!("../fixtures/asterisk-standin.sh");

fn server_yaml(name: &str) -> String {
    format!(
        "  - name: {name}\n    host: local\n    asterisk: {{conf_dir: hosts/{name}/etc/asterisk, binary: hosts/{name}/asterisk}}\n"
    )
}

pub(crate) fn repo(extensions: &str) -> Repo {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    std::fs::write(root.join("astbase.yaml"), "").unwrap();
    for name in ["a", "b"] {
        let conf = root.join(format!("hosts/{name}/etc/asterisk"));
        std::fs::create_dir_all(&conf).unwrap();
        std::fs::write(conf.join("pjsip.conf"), "[global]\ntype=global\n").unwrap();
        std::fs::write(conf.join("extensions.conf"), "[general]\nstatic=yes\n").unwrap();
        let bin = root.join(format!("hosts/{name}/asterisk"));
        std::fs::write(&bin, STANDIN).unwrap();
        std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    std::fs::write(
        root.join("servers.yaml"),
        format!("servers:\n{}{}", server_yaml("a"), server_yaml("b")),
    )
    .unwrap();
    std::fs::write(root.join("extensions.yaml"), extensions).unwrap();
    Repo { _dir: dir, root }
}

const TWO: &str = "extensions:\n  - {number: \"101\", server: a, name: Anna, secret: {env: PW}}\n  - {number: \"201\", server: b, name: Boris, secret: {env: PW}}\n";
const THREE: &str = "extensions:\n  - {number: \"101\", server: a, name: Anna, secret: {env: PW}}\n  - {number: \"102\", server: a, name: Vera, secret: {env: PW}}\n  - {number: \"201\", server: b, name: Boris, secret: {env: PW}}\n";

impl Repo {
    fn command(&self, args: &[&str]) -> std::process::Command {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_astbase"));
        command
            .args(args)
            .arg("--repo")
            .arg(&self.root)
            .env("PW", "Secret-Pass-1")
            .env("NO_COLOR", "1")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        command
    }
    pub(crate) fn astbase(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }
    fn conf(&self, server: &str, file: &str) -> PathBuf {
        self.root
            .join(format!("hosts/{server}/etc/asterisk/{file}"))
    }
    pub(crate) fn read(&self, server: &str, file: &str) -> String {
        std::fs::read_to_string(self.conf(server, file)).unwrap_or_default()
    }
    pub(crate) fn standin(&self, server: &str, flag: &str) -> PathBuf {
        let dir = self.root.join(format!("hosts/{server}/.standin"));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join(flag)
    }
    fn commands(&self, server: &str) -> String {
        std::fs::read_to_string(self.standin(server, "commands.log")).unwrap_or_default()
    }
    pub(crate) fn set_extensions(&self, text: &str) {
        std::fs::write(self.root.join("extensions.yaml"), text).unwrap();
    }
}

fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_type().unwrap().is_file())
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

#[test]
fn first_apply_then_nothing_to_do() {
    let repo = repo(TWO);
    let plan = repo.astbase(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(2), "{}", text(&plan));
    assert!(
        text(&plan).contains("Plan: 4 to add, 4 to change, 0 to remove."),
        "{}",
        text(&plan)
    );
    assert!(
        !text(&plan).contains("Secret-Pass-1"),
        "secret leaked into the plan"
    );

    let apply = repo.astbase(&["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}", text(&apply));
    // Once, on stdout: not again on stderr (a CI log takes both).
    assert_eq!(
        text(&apply)
            .matches("a: applied (module reload res_pjsip.so, module reload pbx_config.so)")
            .count(),
        1,
        "{}",
        text(&apply)
    );
    assert!(repo.read("a", "pjsip_odoo.conf").contains("[101]"));
    assert_eq!(
        repo.read("a", "pjsip.conf")
            .matches("#tryinclude pjsip_odoo.conf")
            .count(),
        1
    );
    assert!(
        repo.read("a", "pjsip.conf")
            .starts_with("[global]\ntype=global\n"),
        "base file kept"
    );
    assert!(repo.conf("a", ".astbase/state.json").exists());
    assert!(
        repo.commands("a").contains("pjsip show endpoints"),
        "verified: {}",
        repo.commands("a")
    );

    let again = repo.astbase(&["plan", "--detailed-exitcode"]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    let apply = repo.astbase(&["apply", "--auto-approve"]);
    assert!(text(&apply).contains("No changes."), "{}", text(&apply));
    assert_eq!(
        repo.read("a", "pjsip.conf")
            .matches("#tryinclude pjsip_odoo.conf")
            .count(),
        1
    );
}

/// Runs astbase with a `sh` first on PATH that counts the scripts astbase itself starts
/// on a local host (each one round trip over SSH), and returns (output, count).
fn counting_round_trips(repo: &Repo, args: &[&str]) -> (Output, usize) {
    use std::os::unix::fs::PermissionsExt;
    let bin = tempfile::tempdir().unwrap();
    let log = bin.path().join("log");
    let sh = bin.path().join("sh");
    std::fs::write(
        &sh,
        format!(
            "#!/bin/bash\n[ \"$(cat /proc/$PPID/comm)\" = astbase ] && echo x >> {}\nexec /bin/sh \"$@\"\n",
            log.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&sh, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap()
    );
    let out = repo.command(args).env("PATH", path).output().unwrap();
    let count = std::fs::read_to_string(&log)
        .unwrap_or_default()
        .lines()
        .count();
    (out, count)
}

#[test]
fn a_plan_reads_each_server_in_one_round_trip_and_an_apply_takes_three_more() {
    let repo = repo(TWO);
    let (plan, trips) = counting_round_trips(&repo, &["plan"]);
    assert!(plan.status.success(), "{}", text(&plan));
    assert_eq!(trips, 2, "one per server");
    // Per server: the plan's read, then the lock (whose holder reads what the freshness
    // check compares once it holds it, and writes the state and prunes backups as it
    // lets go), stage and switch (files and backups), reloads with their verification
    // and the transports' check.
    let (apply, trips) = counting_round_trips(&repo, &["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}", text(&apply));
    assert_eq!(trips, 2 * 4);
    let (again, trips) = counting_round_trips(&repo, &["apply", "--auto-approve"]);
    assert!(text(&again).contains("No changes."), "{}", text(&again));
    assert_eq!(trips, 2);
}

#[test]
fn a_state_file_the_lock_holder_cannot_write_fails_the_apply_by_name_and_the_next_apply_finishes() {
    let repo = repo(TWO);
    // A directory where the state's temporary file goes: it cannot be removed nor written.
    let blocker = repo.conf("a", ".astbase/state.json.new");
    std::fs::create_dir_all(&blocker).unwrap();
    let apply = repo.astbase(&["apply", "--auto-approve"]);
    assert_eq!(apply.status.code(), Some(1), "{}", text(&apply));
    assert!(
        text(&apply).contains("a: failed: applied, but the state file could not be written: local: `write the state and release the lock` failed (exit 1): rm: cannot remove"),
        "{}",
        text(&apply)
    );
    assert!(
        text(&apply).contains("state.json.new': Is a directory"),
        "{}",
        text(&apply)
    );
    assert!(text(&apply).contains("b: applied"), "{}", text(&apply));
    assert!(!repo.conf("a", ".astbase/state.json").exists());
    // The files are in; without a record the plan takes them as written by hand, and
    // the apply after the fix records them.
    std::fs::remove_dir(&blocker).unwrap();
    let again = repo.astbase(&["apply", "--auto-approve"]);
    assert!(again.status.success(), "{}", text(&again));
    assert!(repo.conf("a", ".astbase/state.json").exists());
    let plan = repo.astbase(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan));
}

#[test]
fn a_hand_edit_is_reported_as_drift() {
    let repo = repo(TWO);
    assert!(repo.astbase(&["apply", "--auto-approve"]).status.success());
    let path = repo.conf("a", "extensions_odoo.conf");
    let edited = std::fs::read_to_string(&path).unwrap() + "; hand edit\n";
    std::fs::write(&path, edited).unwrap();
    let plan = repo.astbase(&["plan", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    let a = &json["servers"][0];
    let file = a["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "extensions_odoo.conf")
        .unwrap();
    assert_eq!(file["drift"], true);
    assert_eq!(file["action"], "change");
    assert_eq!(json["summary"]["change"], 1);
}

#[test]
fn a_failed_reload_rolls_back_to_the_previous_files() {
    let repo = repo(TWO);
    assert!(repo.astbase(&["apply", "--auto-approve"]).status.success());
    let before = snapshot(&repo.conf("a", ""));
    repo.set_extensions(THREE);
    std::fs::write(repo.standin("a", "fail-pbx_config"), "").unwrap();
    let apply = repo.astbase(&["apply", "--auto-approve"]);
    assert_eq!(apply.status.code(), Some(1), "{}", text(&apply));
    assert!(
        text(&apply).contains("a: rolled back: `module reload pbx_config.so` failed"),
        "{}",
        text(&apply)
    );
    assert_eq!(
        snapshot(&repo.conf("a", "")),
        before,
        "files are exactly as before"
    );
    // Server b had nothing to change and was not touched.
    assert!(text(&apply).contains("b: unchanged"), "{}", text(&apply));
}

#[test]
fn a_rejected_pjsip_file_is_caught_by_verification() {
    let repo = repo(TWO);
    assert!(repo.astbase(&["apply", "--auto-approve"]).status.success());
    let before = snapshot(&repo.conf("a", ""));
    repo.set_extensions(THREE);
    // res_pjsip says "reloaded successfully" but keeps the old objects.
    std::fs::write(repo.standin("a", "reject-pjsip"), "").unwrap();
    let apply = repo.astbase(&["apply", "--auto-approve"]);
    assert_eq!(apply.status.code(), Some(1), "{}", text(&apply));
    assert!(
        text(&apply).contains("`pjsip show endpoints` says nothing of endpoint 102"),
        "{}",
        text(&apply)
    );
    assert!(text(&apply).contains("rolled back"), "{}", text(&apply));
    assert_eq!(snapshot(&repo.conf("a", "")), before);
}

#[test]
fn a_reload_in_progress_is_retried() {
    let repo = repo(TWO);
    std::fs::write(repo.standin("a", "busy-once"), "").unwrap();
    let apply = repo.astbase(&["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}", text(&apply));
    assert_eq!(
        repo.commands("a")
            .matches("module reload res_pjsip.so")
            .count(),
        2
    );
}

#[test]
fn a_saved_plan_is_refused_once_stale() {
    let repo = repo(TWO);
    let plan_file = repo.root.join("plan.json");
    let plan = repo.astbase(&["plan", "--out", plan_file.to_str().unwrap()]);
    assert!(plan.status.success(), "{}", text(&plan));
    let saved = std::fs::read_to_string(&plan_file).unwrap();
    assert!(
        !saved.contains("Secret-Pass-1"),
        "secret leaked into the saved plan"
    );
    // The host changes after the plan: refused.
    std::fs::write(repo.conf("a", "extensions_odoo.conf"), "[x]\n").unwrap();
    let apply = repo.astbase(&["apply", plan_file.to_str().unwrap()]);
    assert_eq!(apply.status.code(), Some(1), "{}", text(&apply));
    assert!(
        text(&apply).contains("the saved plan is stale: files on `a` changed"),
        "{}",
        text(&apply)
    );
    // Back as planned: applies.
    std::fs::remove_file(repo.conf("a", "extensions_odoo.conf")).unwrap();
    let apply = repo.astbase(&["apply", plan_file.to_str().unwrap()]);
    assert!(apply.status.success(), "{}", text(&apply));
    // The repo renders differently now: refused.
    let plan = repo.astbase(&["plan", "--out", plan_file.to_str().unwrap()]);
    assert!(plan.status.success());
    repo.set_extensions(THREE);
    let apply = repo.astbase(&["apply", plan_file.to_str().unwrap()]);
    assert!(
        text(&apply).contains("renders different files"),
        "{}",
        text(&apply)
    );
}

#[test]
fn a_held_lock_makes_the_second_apply_wait_then_fail() {
    require!(needs::FLOCK);
    let repo = repo(TWO);
    let state = repo.conf("a", ".astbase");
    std::fs::create_dir_all(&state).unwrap();
    std::fs::write(state.join("apply.lock.owner"), "someone@elsewhere pid 1\n").unwrap();
    // Another process holds the lock, the way an apply does: flock(1) on the lock file.
    let mut holder = std::process::Command::new("flock")
        .arg("-o")
        .arg(state.join("apply.lock"))
        .args(["sleep", "30"])
        .spawn()
        .expect("flock(1) from util-linux");
    std::thread::sleep(std::time::Duration::from_millis(200));
    let started = std::time::Instant::now();
    let apply = repo.astbase(&["apply", "--auto-approve", "--lock-timeout", "1"]);
    let waited = started.elapsed();
    holder.kill().unwrap();
    holder.wait().unwrap();
    assert!(waited.as_millis() >= 1000, "waited {waited:?}");
    assert_eq!(apply.status.code(), Some(1));
    assert!(
        text(&apply).contains("held by another apply (someone@elsewhere pid 1)"),
        "{}",
        text(&apply)
    );
    assert!(
        text(&apply).contains("b: applied"),
        "the other host went on: {}",
        text(&apply)
    );
    assert!(!repo.conf("a", "pjsip_odoo.conf").exists());
}

/// How many `flock` processes (holding or waiting) name this lock file.
fn flock_processes(lock: &Path) -> usize {
    let lock = lock.to_string_lossy();
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .filter(|cmdline| {
            let args: Vec<String> = cmdline
                .split(|b| *b == 0)
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect();
            args.first().is_some_and(|a| a.ends_with("flock")) && args.iter().any(|a| *a == lock)
        })
        .count()
}

#[test]
fn two_applies_at_once_take_turns() {
    require!(needs::FLOCK);
    let repo = repo(TWO);
    let state = repo.conf("a", ".astbase");
    std::fs::create_dir_all(&state).unwrap();
    let lock = state.join("apply.lock");
    // Hold the lock while both start, so both plan the same changes before either
    // applies; then let them race for it.
    // -o: the lock belongs to flock itself, so killing it frees the lock at once.
    let mut holder = std::process::Command::new("flock")
        .arg("-o")
        .arg(&lock)
        .args(["sleep", "60"])
        .spawn()
        .expect("flock(1) from util-linux");
    let spawn = || {
        repo.command(&["apply", "--auto-approve", "--server", "a"])
            .spawn()
            .unwrap()
    };
    let (first, second) = (spawn(), spawn());
    let started = std::time::Instant::now();
    while flock_processes(&lock) < 3 {
        assert!(
            started.elapsed().as_secs() < 30,
            "the applies never waited for the lock"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    holder.kill().unwrap();
    holder.wait().unwrap();
    let outputs = [first, second].map(|c| c.wait_with_output().unwrap());
    let texts: Vec<String> = outputs.iter().map(text).collect();
    for o in &outputs {
        assert_eq!(o.status.code(), Some(0), "{texts:?}");
    }
    let applied = texts.iter().filter(|t| t.contains("a: applied")).count();
    let unchanged = texts.iter().filter(|t| t.contains("a: unchanged")).count();
    assert_eq!((applied, unchanged), (1, 1), "{texts:?}");
    // One apply's reloads, not two interleaved.
    let reloads: Vec<String> = repo
        .commands("a")
        .lines()
        .filter(|l| l.starts_with("module reload"))
        .map(str::to_owned)
        .collect();
    assert_eq!(
        reloads,
        ["module reload res_pjsip.so", "module reload pbx_config.so"],
        "{texts:?}"
    );
}

#[test]
fn a_killed_apply_frees_its_lock_and_the_next_plan_finishes_its_reloads() {
    let repo = repo(TWO);
    std::fs::write(repo.standin("a", "slow"), "2").unwrap();
    let mut apply = repo
        .command(&["apply", "--auto-approve", "--server", "a"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the first reload has started (the files are switched by then), then
    // kill astbase the hard way: no cleanup code runs.
    let started = std::time::Instant::now();
    while !repo.commands("a").contains("module reload") {
        assert!(started.elapsed().as_secs() < 20, "the apply never reloaded");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    apply.kill().unwrap();
    apply.wait().unwrap();
    std::fs::remove_file(repo.standin("a", "slow")).unwrap();
    assert!(repo.read("a", "pjsip_odoo.conf").contains("[101]"));

    // The files are in place, but nothing recorded that Asterisk loaded them all.
    let plan = repo.astbase(&["plan", "--server", "a", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(2), "{}", text(&plan));
    assert!(
        text(&plan).contains("never confirmed loaded"),
        "{}",
        text(&plan)
    );
    assert!(
        text(&plan).contains("a: 0 to add, 0 to change, 0 to remove."),
        "{}",
        text(&plan)
    );
    // The lock died with the process: the next apply does not wait for it.
    let started = std::time::Instant::now();
    let again = repo.astbase(&[
        "apply",
        "--auto-approve",
        "--server",
        "a",
        "--lock-timeout",
        "5",
    ]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    assert!(started.elapsed().as_secs() < 5);
    assert!(text(&again).contains("a: applied"), "{}", text(&again));
    assert!(
        std::fs::read_to_string(
            repo.root
                .join("hosts/a/.standin/loaded/extensions_odoo.conf")
        )
        .unwrap()
        .contains("101")
    );
    let after = repo.astbase(&["plan", "--server", "a", "--detailed-exitcode"]);
    assert_eq!(after.status.code(), Some(0), "{}", text(&after));
}

#[test]
fn an_unreachable_server_does_not_stop_the_other_four() {
    let repo = repo(TWO);
    let mut servers = std::fs::read_to_string(repo.root.join("servers.yaml")).unwrap();
    for name in ["d", "e"] {
        let conf = repo.root.join(format!("hosts/{name}/etc/asterisk"));
        std::fs::create_dir_all(&conf).unwrap();
        std::fs::copy(
            repo.root.join("hosts/a/asterisk"),
            repo.root.join(format!("hosts/{name}/asterisk")),
        )
        .unwrap();
        servers.push_str(&server_yaml(name));
    }
    // Nothing listens on port 1 of the loopback address: the connection is refused.
    servers.push_str("  - {name: c, host: 127.0.0.1, ssh: {port: 1}}\n");
    std::fs::write(repo.root.join("servers.yaml"), servers).unwrap();
    let plan = repo.astbase(&["plan"]);
    assert_eq!(plan.status.code(), Some(1), "{}", text(&plan));
    assert!(
        text(&plan).contains("== c (127.0.0.1: )\n  error: cannot reach root@127.0.0.1:1"),
        "{}",
        text(&plan)
    );
    assert!(
        text(&plan).contains("a: 2 to add, 2 to change, 0 to remove."),
        "{}",
        text(&plan)
    );
    let apply = repo.astbase(&["apply", "--auto-approve"]);
    assert_eq!(apply.status.code(), Some(1), "{}", text(&apply));
    let out = text(&apply);
    assert!(
        out.contains("c: unreachable: cannot reach root@127.0.0.1:1"),
        "{out}"
    );
    for name in ["a", "b", "d", "e"] {
        assert!(out.contains(&format!("{name}: applied")), "{out}");
        assert!(repo.conf(name, "pjsip_odoo.conf").exists());
    }
    assert!(
        out.contains("Apply: 4 applied, 0 unchanged, 1 failed or unreachable."),
        "{out}"
    );
}

#[test]
fn the_cli_command_is_configurable_per_server() {
    let repo = repo(TWO);
    let standin = repo.root.join("hosts/a/asterisk");
    let servers = format!(
        "servers:\n  - name: a\n    host: local\n    asterisk: {{conf_dir: hosts/a/etc/asterisk, cli: [/usr/bin/env, ASTBASE_VIA=env, {}, -rx]}}\n{}",
        standin.display(),
        server_yaml("b")
    );
    std::fs::write(repo.root.join("servers.yaml"), &servers).unwrap();
    let apply = repo.astbase(&["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}", text(&apply));
    assert!(repo.commands("a").contains("module reload res_pjsip.so"));
    assert!(repo.commands("a").contains("pjsip show endpoints"));

    // Naming the program twice is ambiguous: refused before anything runs.
    let both = servers.replace("cli: [", "binary: asterisk, cli: [");
    std::fs::write(repo.root.join("servers.yaml"), both).unwrap();
    let validate = repo.astbase(&["validate"]);
    assert_eq!(validate.status.code(), Some(1));
    assert!(
        text(&validate).contains("server `a` sets both asterisk.binary and asterisk.cli"),
        "{}",
        text(&validate)
    );
}

#[test]
fn apply_keeps_each_files_owner_and_mode_and_gives_new_files_the_conf_dirs_owner() {
    require!(needs::ROOT_FOR_NETNS);
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let repo = repo(TWO);
    // As on Debian: Asterisk runs as its own user, which owns its config.
    let (uid, gid) = (4242u32, 4243u32);
    let conf = repo.conf("a", "");
    std::os::unix::fs::chown(&conf, Some(uid), Some(gid)).unwrap();
    let base = repo.conf("a", "pjsip.conf");
    std::os::unix::fs::chown(&base, Some(uid), Some(gid)).unwrap();
    std::fs::set_permissions(&base, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = repo.astbase(&["apply", "--auto-approve"]);
    assert!(out.status.success(), "{}", text(&out));
    let meta = |p: &Path| {
        let m = std::fs::metadata(p).unwrap();
        (m.uid(), m.gid(), m.mode() & 0o7777)
    };
    // The base file got its include line and kept who owns it and its mode.
    assert!(
        repo.read("a", "pjsip.conf")
            .contains("#tryinclude pjsip_odoo.conf")
    );
    assert_eq!(meta(&base), (uid, gid, 0o644));
    // New files: the conf dir's owner and group, readable by neither others nor world.
    assert_eq!(meta(&repo.conf("a", "pjsip_odoo.conf")), (uid, gid, 0o640));
    // extensions.conf was root's 0644 (as the test wrote it): still so.
    assert_eq!(meta(&repo.conf("a", "extensions.conf")), (0, 0, 0o644));
    // A change keeps the generated file's owner and mode as the admin set them.
    std::fs::set_permissions(
        repo.conf("a", "pjsip_odoo.conf"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    let three = repo.root.join("extensions.yaml");
    std::fs::write(&three, THREE).unwrap();
    let out = repo.astbase(&["apply", "--auto-approve"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(repo.read("a", "pjsip_odoo.conf").contains("[102]"));
    assert_eq!(meta(&repo.conf("a", "pjsip_odoo.conf")), (uid, gid, 0o600));
}

#[test]
fn the_example_hosts_run_the_same_asterisk_stand_in_as_the_tests() {
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/company/hosts");
    for server in ["msk", "spb"] {
        let copy = std::fs::read_to_string(example.join(server).join("asterisk")).unwrap();
        assert!(
            copy == STANDIN,
            "examples/company/hosts/{server}/asterisk differs from tests/fixtures/asterisk-standin.sh: copy it over"
        );
    }
}

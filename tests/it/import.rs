//! `astbase import` offline, on the legacy fixtures: the report, the files it writes,
//! secrets, a second import, bad input, and a plan that refuses a stale migration.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Output;

use crate::support::text;

fn astbase(args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_astbase"))
        .args(args)
        .output()
        .unwrap()
}

/// A copy of a legacy fixture to change for one test.
fn copy_of(fixture: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("cp")
        .args(["-r", &format!("tests/fixtures/legacy/{fixture}/.")])
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    dir
}

/// The secrets an import of server `office` into `repo` wrote, as environment
/// variables (the fixtures' values hold no quote).
pub fn secrets_env(repo: &Path) -> Vec<(String, String)> {
    std::fs::read_to_string(repo.join(".astbase/secrets/office.env"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.trim_matches('\'').to_owned()))
        .collect()
}

/// Imports `conf_dir` as server `office` into `repo`.
pub fn import(conf_dir: &Path, repo: &Path, more: &[&str]) -> Output {
    let mut args = vec![
        "import",
        "--server",
        "office",
        "--host",
        "local",
        "--conf-dir",
        conf_dir.to_str().unwrap(),
        "--out",
        repo.to_str().unwrap(),
    ];
    args.extend(more);
    astbase(&args)
}

#[test]
fn the_report_says_what_each_section_became_with_its_file_and_line() {
    let conf = copy_of("small-office");
    let repo = tempfile::tempdir().unwrap();
    let out = import(conf.path(), repo.path(), &[]);
    assert!(out.status.success(), "{}", text(&out));
    let report = String::from_utf8_lossy(&out.stdout);
    for line in [
        "pjsip.conf:\n      2  [transport-udp]              imported      transport transport-udp\n",
        "    100  [carrier]                    imported      trunk carrier\n",
        "      6  from-internal/101            imported      dialling extension 101\n",
        "     17  from-internal/700            kept raw      dialplan from-internal-700, number 700\n",
        "     25  [day-menu]                   kept raw      dialplan day-menu\n",
        "      1  [default]                    left in base  Asterisk's stock class: left as it is\n",
    ] {
        assert!(report.contains(line), "{line:?} in\n{report}");
    }
    assert!(
        report.ends_with("office: 15 imported, 2 kept raw, 4 left in base, 0 problems\n"),
        "{report}"
    );
    let json = astbase(&[
        "import",
        "--server",
        "office",
        "--host",
        "local",
        "--conf-dir",
        conf.path().to_str().unwrap(),
        "--out",
        tempfile::tempdir().unwrap().path().to_str().unwrap(),
        "--format",
        "json",
    ]);
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let entries = value["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 21);
    assert_eq!(
        entries.iter().find(|e| e["section"] == "[sales]").map(|e| (
            e["file"].clone(),
            e["line"].clone(),
            e["outcome"].clone()
        )),
        Some(("queues.conf".into(), 3.into(), "imported".into()))
    );
}

#[test]
fn secrets_go_to_a_private_git_ignored_file_and_never_into_the_yaml_or_the_terminal() {
    let conf = copy_of("small-office");
    let repo = tempfile::tempdir().unwrap();
    let out = import(conf.path(), repo.path(), &[]);
    let shown = text(&out);
    let secrets = repo.path().join(".astbase/secrets/office.env");
    let file = std::fs::read_to_string(&secrets).unwrap();
    let mode = std::fs::metadata(&secrets).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert!(
        file.contains("OFFICE_EXT_101_SECRET='anna-Secret-1'\n"),
        "{file}"
    );
    assert!(file.contains("OFFICE_VM_102_PIN='4321'\n"), "{file}");
    assert!(
        file.contains("OFFICE_TRUNK_CARRIER_SECRET='carrier-Secret-9'\n"),
        "{file}"
    );
    assert_eq!(
        std::fs::read_to_string(repo.path().join(".gitignore")).unwrap(),
        ".astbase/secrets/\n"
    );
    for secret in [
        "anna-Secret-1",
        "boris-Secret-2",
        "carrier-Secret-9",
        "1234",
        "4321",
    ] {
        assert!(!shown.contains(secret), "{secret} on the terminal");
        for entry in walkdir::WalkDir::new(repo.path().join("office")) {
            let entry = entry.unwrap();
            if entry.file_type().is_file() {
                let yaml = std::fs::read_to_string(entry.path()).unwrap();
                assert!(
                    !yaml.contains(secret),
                    "{secret} in {}",
                    entry.path().display()
                );
            }
        }
    }
    let extensions = std::fs::read_to_string(repo.path().join("office/extensions.yaml")).unwrap();
    assert!(
        extensions.contains("    secret: {env: OFFICE_EXT_101_SECRET}\n"),
        "{extensions}"
    );
}

#[test]
fn a_second_import_shows_what_the_host_changed_and_writes_only_with_overwrite() {
    let conf = copy_of("small-office");
    let repo = tempfile::tempdir().unwrap();
    assert!(import(conf.path(), repo.path(), &[]).status.success());
    let same = import(conf.path(), repo.path(), &[]);
    assert_eq!(same.status.code(), Some(0));
    assert!(
        text(&same).contains("already holds exactly what the host has"),
        "{}",
        text(&same)
    );

    let pjsip = conf.path().join("pjsip.conf");
    let edited = std::fs::read_to_string(&pjsip)
        .unwrap()
        .replace("\"Lobby\" <103>", "\"Front Desk\" <103>");
    std::fs::write(&pjsip, edited).unwrap();
    let yaml = repo.path().join("office/extensions.yaml");
    let before = std::fs::read_to_string(&yaml).unwrap();
    let drift = import(conf.path(), repo.path(), &[]);
    assert_eq!(drift.status.code(), Some(2), "{}", text(&drift));
    assert!(
        text(&drift).contains("-  - name: Lobby\n+  - name: Front Desk\n"),
        "{}",
        text(&drift)
    );
    assert!(
        text(&drift).contains("Nothing written."),
        "{}",
        text(&drift)
    );
    assert_eq!(std::fs::read_to_string(&yaml).unwrap(), before);

    let overwrite = import(conf.path(), repo.path(), &["--overwrite"]);
    assert!(overwrite.status.success(), "{}", text(&overwrite));
    assert!(
        std::fs::read_to_string(&yaml)
            .unwrap()
            .contains("  - name: Front Desk\n")
    );
}

#[test]
fn files_asterisk_would_not_read_are_problems_with_their_line_and_the_rest_is_imported() {
    let conf = copy_of("small-office");
    let extensions = conf.path().join("extensions.conf");
    let mut text_now = std::fs::read_to_string(&extensions).unwrap();
    text_now.push_str("#include extras/*.conf\n");
    std::fs::write(&extensions, text_now).unwrap();
    std::fs::create_dir(conf.path().join("extras")).unwrap();
    std::fs::write(
        conf.path().join("extras/latin1.conf"),
        b"[caf\xe9]\nexten => 1,1,NoOp()\n",
    )
    .unwrap();
    let long = format!("[long]\nexten => 2,1,NoOp({})\n[broken\n", "x".repeat(9000));
    std::fs::write(conf.path().join("extras/long.conf"), long).unwrap();
    let repo = tempfile::tempdir().unwrap();
    let out = import(conf.path(), repo.path(), &[]);
    assert!(out.status.success(), "{}", text(&out));
    let report = String::from_utf8_lossy(&out.stdout);
    for line in [
        "extras/latin1.conf:\n      1  (file)                       problem       not UTF-8 text: nothing in it is imported; it stays as it is\n",
        "      2  (line)                       problem       line is 9019 bytes; Asterisk skips lines over 8191\n",
        "      3  (line)                       problem       `[` without `]`: Asterisk drops the rest of the file\n",
    ] {
        assert!(report.contains(line), "{line:?} in\n{report}");
    }
    assert!(report.ends_with("3 problems\n"), "{report}");
    assert!(repo.path().join("office/extensions.yaml").exists());
}

#[test]
fn a_plan_refuses_a_pending_migration_whose_base_file_changed_since_the_import() {
    let conf = copy_of("small-office");
    let repo = tempfile::tempdir().unwrap();
    assert!(import(conf.path(), repo.path(), &[]).status.success());
    let pjsip = conf.path().join("pjsip.conf");
    let mut edited = std::fs::read_to_string(&pjsip).unwrap();
    edited.push_str("\n[104]\ntype=aor\n");
    std::fs::write(&pjsip, edited).unwrap();
    let plan = std::process::Command::new(env!("CARGO_BIN_EXE_astbase"))
        .args(["plan", "--repo", repo.path().to_str().unwrap()])
        .envs([
            ("OFFICE_EXT_101_SECRET", "a-Secret-1"),
            ("OFFICE_EXT_102_SECRET", "b-Secret-2"),
            ("OFFICE_EXT_103_SECRET", "c-Secret-3"),
            ("OFFICE_VM_101_PIN", "1234"),
            ("OFFICE_VM_102_PIN", "4321"),
            ("OFFICE_TRUNK_CARRIER_SECRET", "d-Secret-4"),
        ])
        .output()
        .unwrap();
    let shown = text(&plan);
    assert_eq!(plan.status.code(), Some(1), "{shown}");
    assert!(
        shown.contains(
            "error: pjsip.conf changed on the host since the import (record .astbase/migrations/office.json): \
             the imported lines cannot be removed safely"
        ),
        "{shown}"
    );
}

#[test]
fn import_all_reads_each_server_that_has_a_host_but_nothing_on_it_and_keeps_its_entry() {
    let conf = copy_of("small-office");
    let branch = tempfile::tempdir().unwrap();
    let repo = tempfile::tempdir().unwrap();
    std::fs::write(repo.path().join("astbase.yaml"), "project: {}\n").unwrap();
    let servers = format!(
        "servers:\n  - name: office\n    host: local\n    asterisk: {{conf_dir: {:?}}}\n    \
         transports:\n      - {{name: transport-udp, protocol: udp, bind: \"0.0.0.0:5060\"}}\n  \
         - name: branch\n    host: local\n    asterisk: {{conf_dir: {:?}}}\n\
         extensions:\n  - {{number: \"200\", server: branch, name: Branch, secret: Branch-Secret-1}}\n",
        conf.path().display().to_string(),
        branch.path().display().to_string(),
    );
    std::fs::write(repo.path().join("servers.yaml"), &servers).unwrap();
    let out = astbase(&["import", "--all", "--out", repo.path().to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("== office (local)"), "{}", text(&out));
    assert!(
        !text(&out).contains("== branch"),
        "branch has an extension: {}",
        text(&out)
    );
    assert!(
        !repo.path().join("office/servers.yaml").exists(),
        "the entry is the repo's own"
    );
    assert_eq!(
        std::fs::read_to_string(repo.path().join("servers.yaml")).unwrap(),
        servers
    );
    let extensions = std::fs::read_to_string(repo.path().join("office/extensions.yaml")).unwrap();
    assert!(
        extensions.contains("    codecs: [ulaw, alaw]\n"),
        "explicit settings: {extensions}"
    );
    assert!(
        extensions.contains("    transport: transport-udp\n"),
        "{extensions}"
    );
    let validate = astbase(&["validate", "--repo", repo.path().to_str().unwrap()]);
    assert!(validate.status.success(), "{}", text(&validate));
    assert!(
        text(&validate).contains(
            "valid: 0 errors, 1 warning in 8 files (2 servers, 4 extensions, 1 queue, 0 menus, 1 trunk, 3 routes)"
        ),
        "{}",
        text(&validate)
    );
}

#[test]
fn exact_menus_and_time_conditions_become_typed_and_a_menu_that_loops_stays_verbatim() {
    let repo = tempfile::tempdir().unwrap();
    let templates = std::path::absolute("tests/fixtures/legacy/templates").unwrap();
    let out = import(&templates, repo.path(), &[]);
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("     20  [open]                       imported      menu open\n"),
        "{}",
        text(&out)
    );
    assert_eq!(
        std::fs::read_to_string(repo.path().join("office/menus.yaml"))
            .unwrap()
            .split_once("menus:\n")
            .unwrap()
            .1,
        "  - name: open\n    server: office\n    digit_timeout: 3\n    direct_dial: false\n    \
         keys:\n      \"1\": {queue: support}\n    max_retries: 0\n    prompts: [custom/welcome]\n    \
         timeout: {extension: \"201\"}\n"
    );
    // The time condition in front of it: a time frame, and a schedule on the route.
    let read = |f: &str| std::fs::read_to_string(repo.path().join("office").join(f)).unwrap();
    assert!(
        read("timeframes.yaml").ends_with(
            "  - name: office-hours\n    periods:\n      - {days: mon-sun, from: \"00:00\", to: \"24:00\"}\n"
        ),
        "{}",
        read("timeframes.yaml")
    );
    assert!(
        read("inbound_routes.yaml").ends_with(
            "    target:\n      schedule:\n        closed: {dialplan: closed}\n        open: {menu: open}\n        \
             timeframe: office-hours\n"
        ),
        "{}",
        read("inbound_routes.yaml")
    );

    let office = std::path::absolute("tests/fixtures/legacy/small-office").unwrap();
    let repo = tempfile::tempdir().unwrap();
    let out = import(&office, repo.path(), &[]);
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("     25  [day-menu]                   kept raw      dialplan day-menu\n"),
        "an invalid key replays the menu forever: {}",
        text(&out)
    );
    assert!(!repo.path().join("office/menus.yaml").exists());
}

#[test]
fn an_import_over_ssh_reads_what_a_local_one_reads_and_refuses_an_unknown_host_key() {
    crate::needs::require!(crate::needs::SSHD, crate::needs::SSH_KEYGEN);
    let sshd = crate::sshd::Sshd::start(None);
    let conf = sshd.path("etc-asterisk");
    let status = std::process::Command::new("cp")
        .args(["-r", "tests/fixtures/legacy/split-includes"])
        .arg(&conf)
        .status()
        .unwrap();
    assert!(status.success());
    let user = std::env::var("USER").unwrap_or_else(|_| "root".into());
    let port = sshd.port.to_string();
    let key = sshd.path("client_key");
    let known = sshd.path("known_hosts");
    let repo = tempfile::tempdir().unwrap();
    let args = |known_hosts: &Path| -> Vec<String> {
        [
            "import",
            "--server",
            "office",
            "--host",
            "127.0.0.1",
            "--ssh-port",
            &port,
            "--ssh-user",
            &user,
            "--identity-file",
            key.to_str().unwrap(),
            "--known-hosts",
            known_hosts.to_str().unwrap(),
            "--conf-dir",
            conf.to_str().unwrap(),
            "--out",
            repo.path().to_str().unwrap(),
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect()
    };
    let refused = astbase(&args(&known).iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    assert!(!repo.path().join("office").exists(), "nothing written");

    std::fs::write(&known, sshd.known_hosts_line("host_key.pub")).unwrap();
    let over_ssh = astbase(&args(&known).iter().map(String::as_str).collect::<Vec<_>>());
    assert!(over_ssh.status.success(), "{}", text(&over_ssh));
    let local = import(&conf, tempfile::tempdir().unwrap().path(), &[]);
    assert_eq!(
        String::from_utf8_lossy(&over_ssh.stdout),
        String::from_utf8_lossy(&local.stdout),
        "the same report"
    );
    assert!(
        String::from_utf8_lossy(&over_ssh.stdout).contains("pjsip.d/phones-sales.conf:\n"),
        "the glob include was followed over SSH"
    );
    let servers = std::fs::read_to_string(repo.path().join("office/servers.yaml")).unwrap();
    assert!(servers.contains("    host: \"127.0.0.1\"\n"), "{servers}");
    assert!(
        servers.contains(&format!(
            "    ssh: {{identity_file: {}, port: {port}, user: {user}}}\n",
            astbase::import::yaml::scalar(key.to_str().unwrap())
        )),
        "{servers}"
    );
}

#[test]
fn a_plan_refuses_objects_the_base_files_still_define_when_the_migration_record_is_gone() {
    let conf = copy_of("small-office");
    let repo = tempfile::tempdir().unwrap();
    assert!(import(conf.path(), repo.path(), &[]).status.success());
    std::fs::remove_file(repo.path().join(".astbase/migrations/office.json")).unwrap();
    let secrets = secrets_env(repo.path());
    let plan = std::process::Command::new(env!("CARGO_BIN_EXE_astbase"))
        .args(["plan", "--repo", repo.path().to_str().unwrap()])
        .envs(secrets)
        .output()
        .unwrap();
    let shown = text(&plan);
    assert_eq!(plan.status.code(), Some(1), "{shown}");
    assert!(
        shown.contains(
            "error: pjsip.conf already defines what pjsip_odoo.conf would: [transport-udp] transport, \
             [101] endpoint, [101] auth, [101] aor, [102] endpoint"
        ),
        "{shown}"
    );
}

#[test]
fn kept_dialplans_name_the_generated_contexts_with_the_repositorys_own_suffix() {
    let repo = tempfile::tempdir().unwrap();
    std::fs::write(repo.path().join("astbase.yaml"), "project: {suffix: pbx}\n").unwrap();
    let office = std::path::absolute("tests/fixtures/legacy/small-office").unwrap();
    assert!(import(&office, repo.path(), &[]).status.success());
    let dialplans = std::fs::read_to_string(repo.path().join("office/dialplans.yaml")).unwrap();
    assert!(
        dialplans.contains("args: [pbx-phones, \"600\", \"1\"]"),
        "{dialplans}"
    );
    assert!(
        dialplans.contains("args: [pbx-custom-day-menu, s, \"1\"]"),
        "{dialplans}"
    );
    assert!(!dialplans.contains("odoo"), "{dialplans}");
}

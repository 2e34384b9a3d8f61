//! `astbase import` measured on a real Asterisk 22: a hand-written legacy configuration
//! is loaded, imported, rendered, migrated (the imported lines removed from its base
//! files) and loaded again; both must have the same endpoints with the same settings
//! and route every imported number to the same place.

use std::collections::BTreeMap;
use std::path::Path;

use astbase::import::{self, ImportOptions, gather, record};
use astbase::render::{RenderOptions, SecretSource, TemplateOverrides, render_fleet};
use astbase::transport::{Host, local::Local};

use crate::asterisk::calls::{Call, Trace, place};
use crate::asterisk::{Asterisk, installed, valid};
use crate::needs::{self, require};

/// The fixture's files, as (name, text).
fn files_of(dir: &Path) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(e.path()).unwrap())
        })
        .collect();
    files.sort();
    files
}

/// Imports `fixture` as server `office` into a new repo; returns the repo, the
/// migrated base files and the secrets.
fn import_fixture(fixture: &Path) -> (tempfile::TempDir, tempfile::TempDir, Vec<(String, String)>) {
    let mut host = Host::new(Box::new(Local::new(Vec::new())));
    let set = gather::gather(&mut host, &fixture.to_string_lossy()).unwrap();
    let options = ImportOptions {
        server: "office".into(),
        host: "local".into(),
        ssh_user: None,
        conf_dir: Some(fixture.to_string_lossy().into_owned()),
        prefix: "odoo".into(),
    };
    let imported = import::import(&set, &options, "test");
    let repo = tempfile::tempdir().unwrap();
    std::fs::write(repo.path().join("astbase.yaml"), "project: {}\n").unwrap();
    for (name, text) in &imported.documents {
        let path = repo.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let migrated = tempfile::tempdir().unwrap();
    for (name, text) in files_of(fixture) {
        let path = fixture.join(&name).to_string_lossy().into_owned();
        let removal = imported.migration.files.iter().find(|f| f.path == path);
        let left = removal.map_or(text.clone(), |r| record::without_lines(&text, &r.lines));
        std::fs::write(migrated.path().join(&name), left).unwrap();
    }
    (repo, migrated, imported.secrets.values)
}

/// `pjsip show endpoint|auth|aor ID` as `key: value`.
fn settings(ast: &Asterisk, what: &str, id: &str) -> BTreeMap<String, String> {
    ast.cli(&format!("pjsip show {what} {id}"))
        .lines()
        .filter_map(|l| l.split_once(" : "))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .filter(|(k, _)| !k.contains(' ') && !k.is_empty())
        .collect()
}

/// Where a call went, in order: queues, mailboxes, prompts, trunks. The phones are
/// not registered: the legacy dialplan tries `Dial` and falls through, the generated
/// one checks the phone's state first, so ringing is compared in the dialplans
/// themselves (`dial_timeout`).
fn landing(trace: &Trace) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in &trace.0 {
        let first = s.data.split(',').next().unwrap_or("");
        let place = match s.app.to_ascii_lowercase().as_str() {
            "dial" if first.contains('@') => format!("trunk {}", first.rsplit('@').next().unwrap()),
            "queue" => format!("queue {first}"),
            "voicemail" => format!("voicemail {}", first.split('@').next().unwrap()),
            "background" | "playback" => format!("prompt {first}"),
            _ => continue,
        };
        if out.last() != Some(&place) {
            out.push(place);
        }
    }
    out
}

/// The ring timeout each extension's dialplan gives its `Dial`.
fn dial_timeout(ast: &Asterisk, number: &str, context: &str) -> Option<String> {
    let shown = ast.cli(&format!("dialplan show {number}@{context}"));
    let at = shown.find(&format!("Dial(PJSIP/{number},"))?;
    let rest = &shown[at + format!("Dial(PJSIP/{number},").len()..];
    Some(rest.split([',', ')']).next()?.to_owned())
}

/// What must be the same before and after: per endpoint the settings that matter (and
/// its auth's user name and password, its aor's contacts, the ring time its dialplan
/// gives it in `phones`), as `id key: value` lines.
fn snapshot(ast: &Asterisk, phones: &str, internal: &str) -> Vec<String> {
    let mut out = Vec::new();
    for id in ["101", "102", "103", "carrier"] {
        let e = settings(ast, "endpoint", id);
        assert!(!e.is_empty(), "endpoint {id} is loaded");
        // astbase trunks always relay media (the import notes it): only phones keep
        // their NAT settings.
        let mut keys = vec!["allow", "callerid", "dtmf_mode", "transport"];
        if id != "carrier" {
            keys.extend([
                "direct_media",
                "rtp_symmetric",
                "force_rport",
                "rewrite_contact",
            ]);
        }
        for key in keys {
            out.push(format!("{id} {key}: {:?}", e.get(key)));
        }
        let mailbox = e
            .get("mailboxes")
            .map(|m| m.split('@').next().unwrap_or("").to_owned());
        out.push(format!("{id} mailbox: {mailbox:?}"));
        let auth_name = e
            .get("auth")
            .or(e.get("outbound_auth"))
            .cloned()
            .unwrap_or_default();
        let auth = settings(ast, "auth", &auth_name);
        out.push(format!(
            "{id} auth: {:?} {:?}",
            auth.get("username"),
            auth.get("password")
        ));
        if id != "carrier" {
            out.push(format!(
                "{id} max_contacts: {:?}",
                settings(ast, "aor", id).get("max_contacts")
            ));
            let context = if phones == "from-internal" {
                phones
            } else {
                internal
            };
            out.push(format!(
                "{id} ring time: {:?}",
                dial_timeout(ast, id, context)
            ));
        }
    }
    let queue = ast.cli("queue show sales");
    out.push(format!(
        "queue members: {}",
        queue.matches("PJSIP/").count()
    ));
    out
}

/// The numbers phones dial and the DIDs the carrier sends.
const NUMBERS: [&str; 6] = ["101", "102", "103", "600", "700", "89161234567"];
const DIDS: [&str; 2] = ["74951112233", "74951112234"];

/// Where each of [`NUMBERS`] (dialled in `phones`) and [`DIDS`] (arriving in `trunk`)
/// lands.
fn landings(ast: &Asterisk, phones: &str, trunk: &str) -> Vec<Vec<String>> {
    let calls: Vec<Call> = NUMBERS
        .iter()
        .map(|n| Call::new(phones, n, "102"))
        .chain(DIDS.iter().map(|d| Call::new(trunk, d, "79161234567")))
        .collect();
    place(ast, &calls, 9).iter().map(landing).collect()
}

fn expected_landings() -> Vec<Vec<String>> {
    let l = |items: &[&str]| {
        items
            .iter()
            .map(|s| (*s).to_owned())
            .collect::<Vec<String>>()
    };
    vec![
        l(&["voicemail 101"]),
        l(&["voicemail 102"]),
        // 103 has no mailbox: unanswered, the call ends.
        l(&[]),
        l(&["queue sales"]),
        // The menu, and after its timeout Anna's mailbox.
        l(&["prompt custom/welcome", "voicemail 101"]),
        l(&["trunk carrier"]),
        l(&["prompt custom/welcome", "voicemail 101"]),
        l(&["voicemail 102"]),
    ]
}

#[test]
fn a_small_office_imported_and_migrated_has_the_same_endpoints_and_routes_every_number_the_same() {
    require!(needs::ROOT_FOR_NETNS, needs::IP, needs::ASTERISK);
    let fixture = std::path::absolute("tests/fixtures/legacy/small-office").unwrap();
    let sounds = ["custom/welcome".to_owned(), "option-is-invalid".to_owned()];
    let legacy = Asterisk::start(&files_of(&fixture), &[], &sounds);
    legacy.assert_clean("loading the legacy configuration");

    let (repo, migrated, secrets) = import_fixture(&fixture);
    let report = valid(&repo.path().to_string_lossy());
    assert_eq!(report.warnings(), 0, "{:?}", report.diagnostics);
    let options = RenderOptions {
        source_label: "test".into(),
        servers: Vec::new(),
        secrets: SecretSource::with_env(&report.sources.root, move |name| {
            secrets
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        }),
        templates: TemplateOverrides::none(),
    };
    let output = render_fleet(&report.fleet, &report.sources, &options)
        .unwrap()
        .remove(0);
    let adopted = Asterisk::start(&installed(Some(migrated.path()), &output), &[], &sounds);
    adopted.assert_clean("loading the imported, migrated configuration");

    let trunk_context = settings(&adopted, "endpoint", "carrier")
        .get("context")
        .cloned()
        .unwrap();
    assert_eq!(
        snapshot(&legacy, "from-internal", ""),
        snapshot(&adopted, "odoo-phones", "odoo-internal")
    );
    assert!(
        snapshot(&adopted, "odoo-phones", "odoo-internal")
            .contains(&"102 ring time: Some(\"25\")".to_owned())
    );
    assert_eq!(
        adopted
            .cli("voicemail show users")
            .lines()
            .filter(|l| l.contains("odoo"))
            .count(),
        2,
        "the two mailboxes"
    );
    assert_eq!(
        landings(&legacy, "from-internal", "from-carrier"),
        expected_landings()
    );
    assert_eq!(
        landings(&adopted, "odoo-phones", &trunk_context),
        expected_landings()
    );
    legacy.stop();
    adopted.stop();
}

/// Runs astbase with `args` and these environment variables.
fn astbase(args: &[&str], env: &[(String, String)]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_astbase"))
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .unwrap()
}

#[test]
fn import_then_plan_then_apply_adopts_a_running_small_office_and_the_second_plan_changes_nothing() {
    require!(needs::ROOT_FOR_NETNS, needs::IP, needs::ASTERISK);
    let fixture = std::path::absolute("tests/fixtures/legacy/small-office").unwrap();
    let sounds = ["custom/welcome".to_owned(), "option-is-invalid".to_owned()];
    let ast = Asterisk::start(&files_of(&fixture), &[], &sounds);
    let before = snapshot(&ast, "from-internal", "");
    let repo = tempfile::tempdir().unwrap();
    let r = repo.path().to_str().unwrap();
    let etc = ast.etc().to_string_lossy().into_owned();
    let out = astbase(
        &[
            "import",
            "--server",
            "office",
            "--host",
            "local",
            "--conf-dir",
            &etc,
            "--out",
            r,
        ],
        &[],
    );
    assert!(out.status.success(), "{}", crate::support::text(&out));
    assert!(
        !crate::support::text(&out).contains("anna-Secret-1"),
        "no secret on the terminal"
    );
    // The test instance is reached through its control socket, not `asterisk -rx`.
    let servers = repo.path().join("office/servers.yaml");
    let cli: Vec<String> = ast.cli_words().iter().map(|w| format!("{w:?}")).collect();
    let text = std::fs::read_to_string(&servers).unwrap().replace(
        &format!(
            "asterisk: {{conf_dir: {}}}",
            astbase::import::yaml::scalar(&etc)
        ),
        &format!(
            "asterisk: {{conf_dir: {:?}, cli: [{}]}}",
            etc,
            cli.join(", ")
        ),
    );
    std::fs::write(&servers, text).unwrap();
    let env: Vec<(String, String)> =
        std::fs::read_to_string(repo.path().join(".astbase/secrets/office.env"))
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.trim_matches('\'').to_owned()))
            .collect();
    assert_eq!(env.len(), 6);
    let record = repo.path().join(".astbase/migrations/office.json");
    assert!(
        std::fs::read_to_string(&record)
            .unwrap()
            .contains("\"status\": \"pending\"")
    );

    let plan = astbase(&["plan", "--repo", r], &env);
    let shown = crate::support::text(&plan);
    assert!(plan.status.success(), "{shown}");
    assert!(
        shown.contains("migration (.astbase/migrations/office.json): remove the"),
        "{shown}"
    );
    assert!(shown.contains("pjsip.conf: remove"), "{shown}");
    assert!(
        !shown.contains("anna-Secret-1") && !shown.contains("1234,Anna"),
        "secrets masked: {shown}"
    );

    let apply = astbase(&["apply", "--repo", r, "--auto-approve"], &env);
    assert!(apply.status.success(), "{}", crate::support::text(&apply));
    ast.assert_clean("after the migration");
    assert!(
        std::fs::read_to_string(&record)
            .unwrap()
            .contains("\"status\": \"done\"")
    );
    let pjsip = std::fs::read_to_string(ast.etc().join("pjsip.conf")).unwrap();
    assert_eq!(pjsip.matches("type=endpoint").count(), 0, "{pjsip}");
    assert!(pjsip.ends_with("#tryinclude pjsip_odoo.conf\n"), "{pjsip}");
    let extensions = std::fs::read_to_string(ast.etc().join("extensions.conf")).unwrap();
    assert!(
        extensions.starts_with("[general]\nstatic=yes\nwriteprotect=no\n"),
        "{extensions}"
    );
    assert!(!extensions.contains("from-internal"), "{extensions}");
    let backups = ast.etc().join(".astbase/backups");
    assert_eq!(
        std::fs::read_dir(&backups).unwrap().count(),
        1,
        "one backup generation"
    );

    assert_eq!(snapshot(&ast, "odoo-phones", "odoo-internal"), before);
    let trunk_context = settings(&ast, "endpoint", "carrier")
        .get("context")
        .cloned()
        .unwrap();
    assert_eq!(
        landings(&ast, "odoo-phones", &trunk_context),
        expected_landings()
    );

    let again = astbase(&["plan", "--repo", r, "--detailed-exitcode"], &env);
    assert_eq!(
        again.status.code(),
        Some(0),
        "{}",
        crate::support::text(&again)
    );
    ast.stop();
}

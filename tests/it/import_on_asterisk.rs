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

    for id in ["101", "102", "103", "carrier"] {
        let (old, new) = (
            settings(&legacy, "endpoint", id),
            settings(&adopted, "endpoint", id),
        );
        assert!(!old.is_empty(), "endpoint {id} on the legacy PBX");
        // astbase trunks always relay media (the import notes it): only phones keep
        // their NAT settings.
        let nat = [
            "direct_media",
            "rtp_symmetric",
            "force_rport",
            "rewrite_contact",
        ];
        let keys = ["allow", "callerid", "dtmf_mode", "transport"]
            .into_iter()
            .chain(
                if id == "carrier" {
                    [].as_slice()
                } else {
                    nat.as_slice()
                }
                .iter()
                .copied(),
            );
        for key in keys {
            assert_eq!(old.get(key), new.get(key), "endpoint {id}: {key}");
        }
        let mailbox = |s: &BTreeMap<String, String>| {
            s.get("mailboxes")
                .map(|m| m.split('@').next().unwrap_or("").to_owned())
        };
        assert_eq!(mailbox(&old), mailbox(&new), "endpoint {id}: mailboxes");
    }
    for id in ["101", "102", "103"] {
        let (old, new) = (
            settings(&legacy, "auth", id),
            settings(&adopted, "auth", id),
        );
        assert_eq!(
            (old.get("username"), old.get("password")),
            (new.get("username"), new.get("password")),
            "auth {id}"
        );
        let (old, new) = (settings(&legacy, "aor", id), settings(&adopted, "aor", id));
        assert_eq!(old.get("max_contacts"), new.get("max_contacts"), "aor {id}");
        assert_eq!(
            dial_timeout(&legacy, id, "from-internal"),
            dial_timeout(&adopted, id, "odoo-internal"),
            "ring timeout of {id}"
        );
    }
    assert_eq!(
        dial_timeout(&adopted, "102", "odoo-internal").as_deref(),
        Some("25")
    );
    let old_auth = settings(&legacy, "auth", "carrier-auth");
    let new_auth = settings(&adopted, "auth", "carrier");
    assert_eq!(
        (old_auth.get("username"), old_auth.get("password")),
        (new_auth.get("username"), new_auth.get("password"))
    );
    let queue = adopted.cli("queue show sales");
    assert!(
        queue.contains("PJSIP/101") && queue.contains("PJSIP/102"),
        "{queue}"
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

    let trunk_context = settings(&adopted, "endpoint", "carrier")
        .get("context")
        .cloned()
        .unwrap();
    let numbers = ["101", "102", "103", "600", "700", "89161234567"];
    let dids = ["74951112233", "74951112234"];
    let calls = |phones: &str, trunk: &str| -> Vec<Call> {
        numbers
            .iter()
            .map(|n| Call::new(phones, n, "102"))
            .chain(dids.iter().map(|d| Call::new(trunk, d, "79161234567")))
            .collect()
    };
    let old: Vec<Vec<String>> = place(&legacy, &calls("from-internal", "from-carrier"), 9)
        .iter()
        .map(landing)
        .collect();
    let new: Vec<Vec<String>> = place(&adopted, &calls("odoo-phones", &trunk_context), 9)
        .iter()
        .map(landing)
        .collect();
    for (i, n) in numbers.iter().chain(&dids).enumerate() {
        assert_eq!(old[i], new[i], "where {n} lands");
    }
    assert_eq!(old[4], ["prompt custom/welcome", "voicemail 101"]);
    assert_eq!(
        old[2],
        Vec::<String>::new(),
        "103 has no mailbox: the call ends"
    );
    assert_eq!(old[3], ["queue sales"]);
    assert_eq!(old[5], ["trunk carrier"]);
    assert_eq!(old[7], ["voicemail 102"]);
    legacy.stop();
    adopted.stop();
}

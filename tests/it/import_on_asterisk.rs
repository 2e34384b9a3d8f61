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
use crate::asterisk::{Asterisk, valid};
use crate::needs::{self, require};

/// The fixture's files, as (name relative to it, text), subdirectories included.
fn files_of(dir: &Path) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = walkdir::WalkDir::new(dir)
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let name = e
                .path()
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (name, std::fs::read_to_string(e.path()).unwrap())
        })
        .collect();
    files.sort();
    files
}

/// Config files, or secrets, as (name, text).
type Files = Vec<(String, String)>;

/// Imports `fixture` as server `office` into a new repo; returns the repo, the base
/// files as the migration leaves them and the secrets.
fn import_fixture(fixture: &Path) -> (tempfile::TempDir, Files, Files) {
    let mut host = Host::new(Box::new(Local::new(Vec::new())));
    let set = gather::gather(&mut host, &fixture.to_string_lossy()).unwrap();
    let options = ImportOptions {
        server: "office".into(),
        host: "local".into(),
        ssh_user: None,
        ssh_port: None,
        identity_file: None,
        conf_dir: Some(fixture.to_string_lossy().into_owned()),
        prefix: "odoo".into(),
        existing_transports: None,
    };
    let imported = import::import(&set, &options, "test");
    assert_eq!(
        imported.report.count(import::report::Outcome::Problem),
        0,
        "{}",
        imported.report.text()
    );
    let repo = tempfile::tempdir().unwrap();
    std::fs::write(repo.path().join("astbase.yaml"), "project: {}\n").unwrap();
    for (name, text) in &imported.documents {
        let path = repo.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let migrated = files_of(fixture)
        .into_iter()
        .map(|(name, text)| {
            let path = fixture.join(&name).to_string_lossy().into_owned();
            let removal = imported.migration.files.iter().find(|f| f.path == path);
            let left = removal.map_or(text.clone(), |r| record::without_lines(&text, &r.lines));
            (name, left)
        })
        .collect();
    (repo, migrated, imported.secrets.values)
}

/// The migrated base files with the generated files and their include lines: what an
/// apply leaves on the host.
fn adopted_files(
    mut files: Vec<(String, String)>,
    output: &astbase::render::ServerOutput,
) -> Vec<(String, String)> {
    for file in &output.files {
        files.push((file.name.clone(), file.content.clone()));
        let Some(include) = &file.include else {
            continue;
        };
        match files.iter_mut().find(|(n, _)| *n == include.base) {
            Some((_, text)) => {
                if !text.is_empty() && !text.ends_with('\n') {
                    text.push('\n');
                }
                text.push_str(&format!("{}\n", include.line));
            }
            None => files.push((include.base.clone(), format!("{}\n", include.line))),
        }
    }
    files
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

/// Where a call went, in order: queues, mailboxes that exist (`VoiceMail` of a box
/// that does not ends the call like a hang-up), prompts, trunks. The phones are not
/// registered: the legacy dialplan tries `Dial` and falls through, the generated one
/// checks the phone's state first, so ringing is compared in the dialplans themselves
/// (the ring time of [`snapshot`]).
fn landing(trace: &Trace, mailboxes: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in &trace.0 {
        let first = s.data.split(',').next().unwrap_or("");
        let place = match s.app.to_ascii_lowercase().as_str() {
            "dial" if first.contains('@') => format!("trunk {}", first.rsplit('@').next().unwrap()),
            "queue" => format!("queue {first}"),
            "voicemail" => {
                let number = first.split('@').next().unwrap();
                if !mailboxes.iter().any(|m| m == number) {
                    continue;
                }
                format!("voicemail {number}")
            }
            "background" | "playback" => format!("prompt {first}"),
            _ => continue,
        };
        if out.last() != Some(&place) {
            out.push(place);
        }
    }
    out
}

/// The mailboxes an instance has.
fn mailboxes(ast: &Asterisk) -> Vec<String> {
    ast.cli("voicemail show users")
        .lines()
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            let (_context, number) = (words.next()?, words.next()?);
            number
                .bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| number.to_owned())
        })
        .collect()
}

/// The ring time the dialplan of `context` gives extension `number`'s `Dial`.
fn dial_timeout(ast: &Asterisk, number: &str, context: &str) -> Option<String> {
    let shown = ast.cli(&format!("dialplan show {number}@{context}"));
    [
        format!("Dial(PJSIP/{number},"),
        "Dial(PJSIP/${EXTEN},".to_owned(),
    ]
    .iter()
    .find_map(|dial| {
        let at = shown.find(dial.as_str())?;
        Some(
            shown[at + dial.len()..]
                .split([',', ')'])
                .next()?
                .to_owned(),
        )
    })
}

/// A hand-written legacy configuration and what its calls must do.
struct Fixture {
    dir: &'static str,
    /// Its endpoints; those with an `auth` are phones.
    endpoints: &'static [&'static str],
    /// The context its phones dial in.
    phones: &'static str,
    /// The context its trunk delivers calls to.
    trunk: &'static str,
    numbers: &'static [&'static str],
    dids: &'static [&'static str],
    /// Where each number, then each DID, lands.
    landings: &'static [&'static [&'static str]],
    moh: &'static [&'static str],
}

/// What must be the same before and after: per endpoint the settings that matter (and
/// its auth's user name and password, its aor's contacts, the ring time its dialplan
/// gives it), as `id key: value` lines, and the queues' and mailboxes' members.
fn snapshot(ast: &Asterisk, fixture: &Fixture, internal: &str) -> Vec<String> {
    let mut out = Vec::new();
    for id in fixture.endpoints {
        let e = settings(ast, "endpoint", id);
        assert!(!e.is_empty(), "endpoint {id} is loaded");
        let phone = e.get("auth").is_some_and(|a| !a.is_empty());
        // astbase trunks always relay media (the import notes it): only phones keep
        // their NAT settings.
        let mut keys = vec!["allow", "callerid", "dtmf_mode", "language"];
        if phone {
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
            .filter(|a| !a.is_empty())
            .or(e.get("outbound_auth"))
            .cloned()
            .unwrap_or_default();
        let auth = settings(ast, "auth", &auth_name);
        out.push(format!(
            "{id} auth: {:?} {:?}",
            auth.get("username"),
            auth.get("password")
        ));
        if phone {
            out.push(format!(
                "{id} max_contacts: {:?}",
                settings(ast, "aor", &e["aors"]).get("max_contacts")
            ));
            out.push(format!(
                "{id} ring time: {:?}",
                dial_timeout(ast, id, internal)
            ));
        }
    }
    let mut boxes = mailboxes(ast);
    boxes.sort();
    out.push(format!("mailboxes: {boxes:?}"));
    out.push(format!(
        "queue members: {}",
        ast.cli("queue show").matches("PJSIP/").count()
    ));
    out
}

/// Where each number (dialled in `phones`) and DID (arriving in `trunk`) lands.
fn landings(ast: &Asterisk, fixture: &Fixture, phones: &str, trunk: &str) -> Vec<Vec<String>> {
    let calls: Vec<Call> = fixture
        .numbers
        .iter()
        .map(|n| Call::new(phones, n, "100"))
        .chain(
            fixture
                .dids
                .iter()
                .map(|d| Call::new(trunk, d, "79161234567")),
        )
        .collect();
    let boxes = mailboxes(ast);
    place(ast, &calls, 9)
        .iter()
        .map(|t| landing(t, &boxes))
        .collect()
}

fn expected(fixture: &Fixture) -> Vec<Vec<String>> {
    fixture
        .landings
        .iter()
        .map(|l| l.iter().map(|s| (*s).to_owned()).collect())
        .collect()
}

const SOUNDS: [&str; 2] = ["custom/welcome", "option-is-invalid"];

/// An instance with `files` and what the fixture's PBX has beside them: its prompts and
/// music, and the wizard module when it uses pjsip_wizard.conf.
fn start(fixture: &Fixture, mut files: Vec<(String, String)>) -> Asterisk {
    if files.iter().any(|(n, _)| n == "pjsip_wizard.conf") {
        files.push(crate::asterisk::modules_conf_loading(&[
            "res_pjsip_config_wizard",
        ]));
    }
    let sounds: Vec<String> = SOUNDS.iter().map(|s| (*s).to_owned()).collect();
    let moh: Vec<String> = fixture.moh.iter().map(|m| (*m).to_owned()).collect();
    Asterisk::start(&files, &moh, &sounds)
}

/// The context the fixture's trunk (its endpoint without an inbound auth) delivers to.
fn trunk_context(ast: &Asterisk, fixture: &Fixture) -> String {
    let trunk = fixture
        .endpoints
        .iter()
        .find(|id| {
            settings(ast, "endpoint", id)
                .get("auth")
                .is_none_or(String::is_empty)
        })
        .expect("the fixture has a trunk");
    settings(ast, "endpoint", trunk)["context"].clone()
}

/// What Asterisk logged as ERROR or WARNING, but for the carrier's registration
/// retrying: it cannot answer inside the namespace, which is the network, not the
/// configuration.
fn problems_beside_registration(ast: &Asterisk) -> Vec<String> {
    ast.problems()
        .into_iter()
        .filter(|p| !p.contains("res_pjsip_outbound_registration.c: No response received"))
        .collect()
}

/// Loads the legacy configuration as it is, then imports, validates (no warning),
/// renders with the import's own secrets, migrates and loads the result: both load
/// clean, with the same endpoints, mailboxes and queue members, and every number and
/// DID lands where the fixture says on both.
fn round_trip(fixture: &Fixture) {
    let dir = std::path::absolute(fixture.dir).unwrap();
    let legacy = start(fixture, files_of(&dir));
    legacy.assert_clean("loading the legacy configuration");
    let (repo, migrated, secrets) = import_fixture(&dir);
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
    let adopted = start(fixture, adopted_files(migrated, &output));
    adopted.assert_clean("loading the imported, migrated configuration");
    let trunk_context = trunk_context(&adopted, fixture);
    assert_eq!(
        snapshot(&legacy, fixture, fixture.phones),
        snapshot(&adopted, fixture, "odoo-internal"),
        "the endpoints before (left) and after (right)"
    );
    assert_eq!(
        landings(&legacy, fixture, fixture.phones, fixture.trunk),
        expected(fixture),
        "before"
    );
    assert_eq!(
        landings(&adopted, fixture, "odoo-phones", &trunk_context),
        expected(fixture),
        "after"
    );
    legacy.stop();
    adopted.stop();
}

const SMALL_OFFICE: Fixture = Fixture {
    dir: "tests/fixtures/legacy/small-office",
    endpoints: &["101", "102", "103", "carrier"],
    phones: "from-internal",
    trunk: "from-carrier",
    numbers: &["101", "102", "103", "600", "700", "89161234567"],
    dids: &["74951112233", "74951112234"],
    landings: &[
        &["voicemail 101"],
        &["voicemail 102"],
        // 103 has no mailbox: unanswered, the call ends.
        &[],
        &["queue sales"],
        // The menu, and after its timeout Anna's mailbox.
        &["prompt custom/welcome", "voicemail 101"],
        &["trunk carrier"],
        &["prompt custom/welcome", "voicemail 101"],
        &["voicemail 102"],
    ],
    moh: &[],
};

const TEMPLATES: Fixture = Fixture {
    dir: "tests/fixtures/legacy/templates",
    // 204 comes from the wizard (pjsip_wizard.conf).
    endpoints: &["201", "202", "203", "204", "provider"],
    phones: "office",
    trunk: "from-provider",
    numbers: &["201", "202", "203", "204", "500", "9123456"],
    dids: &["74950000000"],
    landings: &[
        &["voicemail 201"],
        &[],
        &[],
        &[],
        &["queue support"],
        &["trunk provider"],
        // Open all day: the menu, then (no key) Olga's mailbox.
        &["prompt custom/welcome", "voicemail 201"],
    ],
    moh: &[],
};

const SPLIT_INCLUDES: Fixture = Fixture {
    dir: "tests/fixtures/legacy/split-includes",
    endpoints: &["301", "302", "303", "doorphone", "sipnet"],
    phones: "internal",
    trunk: "from-sipnet",
    numbers: &["301", "302", "303", "310", "0123"],
    dids: &["74957654321", "74957654322"],
    landings: &[
        &["voicemail 301"],
        &[],
        &[],
        &["prompt custom/welcome"],
        &["trunk sipnet"],
        &["voicemail 301"],
        &["prompt custom/welcome"],
    ],
    moh: &["moh/office"],
};

const FREEPBX: Fixture = Fixture {
    dir: "tests/fixtures/legacy/freepbx",
    endpoints: &["401", "402", "prov"],
    phones: "from-internal",
    trunk: "from-pstn",
    numbers: &["401", "402", "450", "451", "499", "89161234567"],
    dids: &["74951230000", "74951230001"],
    landings: &[
        &["voicemail 401"],
        &[],
        &["queue 450"],
        &["queue 451"],
        &["prompt custom/welcome"],
        &["trunk prov"],
        &["queue 450"],
        &["voicemail 401"],
    ],
    moh: &[],
};

#[test]
fn a_small_office_written_by_hand_round_trips_through_import_and_migration() {
    require!(needs::ROOT_FOR_NETNS, needs::IP, needs::ASTERISK);
    round_trip(&SMALL_OFFICE);
}

#[test]
fn a_configuration_built_from_templates_round_trips_through_import_and_migration() {
    require!(needs::ROOT_FOR_NETNS, needs::IP, needs::ASTERISK);
    round_trip(&TEMPLATES);
}

#[test]
fn a_configuration_split_across_included_files_round_trips_and_keeps_what_stays_working() {
    require!(needs::ROOT_FOR_NETNS, needs::IP, needs::ASTERISK);
    round_trip(&SPLIT_INCLUDES);
}

#[test]
fn a_freepbx_style_layout_round_trips_through_import_and_migration() {
    require!(needs::ROOT_FOR_NETNS, needs::IP, needs::ASTERISK);
    round_trip(&FREEPBX);
}

/// Runs astbase with `args` and these environment variables.
fn astbase(args: &[&str], env: &[(String, String)]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_astbase"))
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .unwrap()
}

/// Imports the running instance `ast` as server `office` (with `astbase import`) into
/// a new repo that reaches it through its control socket; the repo and the secrets as
/// environment variables.
fn import_running(ast: &Asterisk) -> (tempfile::TempDir, Vec<(String, String)>) {
    let repo = tempfile::tempdir().unwrap();
    let etc = ast.etc().to_string_lossy().into_owned();
    let out = crate::import::import(&ast.etc(), repo.path(), &[]);
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
    let env = crate::import::secrets_env(repo.path());
    (repo, env)
}

#[test]
fn import_then_plan_then_apply_adopts_a_running_small_office_and_the_second_plan_changes_nothing() {
    require!(needs::ROOT_FOR_NETNS, needs::IP, needs::ASTERISK);
    let ast = start(
        &SMALL_OFFICE,
        files_of(&std::path::absolute(SMALL_OFFICE.dir).unwrap()),
    );
    let before = snapshot(&ast, &SMALL_OFFICE, "from-internal");
    let (repo, env) = import_running(&ast);
    let r = repo.path().to_str().unwrap();
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
    assert_eq!(
        problems_beside_registration(&ast),
        Vec::<String>::new(),
        "after the migration"
    );
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

    assert_eq!(snapshot(&ast, &SMALL_OFFICE, "odoo-internal"), before);
    let trunk_context = trunk_context(&ast, &SMALL_OFFICE);
    assert_eq!(
        landings(&ast, &SMALL_OFFICE, "odoo-phones", &trunk_context),
        expected(&SMALL_OFFICE)
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

/// The conf dir's files, astbase's own state and backups aside.
fn conf_files(ast: &Asterisk) -> Vec<(String, String)> {
    files_of(&ast.etc())
        .into_iter()
        .filter(|(n, _)| !n.starts_with(".astbase/"))
        .collect()
}

#[test]
fn a_migration_asterisk_refuses_is_rolled_back_with_the_base_files_exactly_as_they_were() {
    require!(needs::ROOT_FOR_NETNS, needs::IP, needs::ASTERISK);
    let ast = start(
        &SMALL_OFFICE,
        files_of(&std::path::absolute(SMALL_OFFICE.dir).unwrap()),
    );
    let before = snapshot(&ast, &SMALL_OFFICE, "from-internal");
    let files_before = conf_files(&ast);
    let (repo, env) = import_running(&ast);
    // A TLS transport without its certificate: Asterisk does not create it.
    let servers = repo.path().join("office/servers.yaml");
    let text = std::fs::read_to_string(&servers).unwrap().replace(
        "    transports:\n",
        "    transports:\n      - {name: transport-tls, protocol: tls, bind: \"127.0.0.1:5061\", \
         cert_file: /nonexistent/pbx.pem, priv_key_file: /nonexistent/pbx.key}\n",
    );
    std::fs::write(&servers, text).unwrap();
    let r = repo.path().to_str().unwrap();
    let apply = astbase(&["apply", "--repo", r, "--auto-approve"], &env);
    let shown = crate::support::text(&apply);
    assert_eq!(apply.status.code(), Some(1), "{shown}");
    assert!(
        shown.contains("office: rolled back: Asterisk did not load what was written"),
        "{shown}"
    );
    assert_eq!(
        conf_files(&ast),
        files_before,
        "every file exactly as before"
    );
    let record =
        std::fs::read_to_string(repo.path().join(".astbase/migrations/office.json")).unwrap();
    assert!(record.contains("\"status\": \"pending\""), "{record}");
    assert_eq!(snapshot(&ast, &SMALL_OFFICE, "from-internal"), before);
    ast.stop();
}

/// The same PBX before and after `astbase import`, `plan` and `apply` against it: the
/// apply loads clean (the carrier's registration retrying inside the namespace is the
/// network, not the configuration), the endpoints and every landing are as before, the
/// record is done and the next plan changes nothing.
fn adopt_in_place(fixture: &Fixture) {
    let ast = start(
        fixture,
        files_of(&std::path::absolute(fixture.dir).unwrap()),
    );
    let before = snapshot(&ast, fixture, fixture.phones);
    let (repo, env) = import_running(&ast);
    let r = repo.path().to_str().unwrap();
    let apply = astbase(&["apply", "--repo", r, "--auto-approve"], &env);
    assert!(apply.status.success(), "{}", crate::support::text(&apply));
    assert_eq!(
        problems_beside_registration(&ast),
        Vec::<String>::new(),
        "after the migration"
    );
    assert_eq!(snapshot(&ast, fixture, "odoo-internal"), before);
    let trunk_context = trunk_context(&ast, fixture);
    assert_eq!(
        landings(&ast, fixture, "odoo-phones", &trunk_context),
        expected(fixture)
    );
    let record =
        std::fs::read_to_string(repo.path().join(".astbase/migrations/office.json")).unwrap();
    assert!(record.contains("\"status\": \"done\""), "{record}");
    let again = astbase(&["plan", "--repo", r, "--detailed-exitcode"], &env);
    assert_eq!(
        again.status.code(),
        Some(0),
        "{}",
        crate::support::text(&again)
    );
    ast.stop();
}

#[test]
fn a_running_pbx_built_from_templates_and_the_wizard_is_adopted_in_place() {
    require!(needs::ROOT_FOR_NETNS, needs::IP, needs::ASTERISK);
    adopt_in_place(&TEMPLATES);
}

#[test]
fn a_running_pbx_split_across_included_files_is_adopted_in_place() {
    require!(needs::ROOT_FOR_NETNS, needs::IP, needs::ASTERISK);
    adopt_in_place(&SPLIT_INCLUDES);
}

#[test]
fn a_running_freepbx_style_pbx_is_adopted_in_place() {
    require!(needs::ROOT_FOR_NETNS, needs::IP, needs::ASTERISK);
    adopt_in_place(&FREEPBX);
}

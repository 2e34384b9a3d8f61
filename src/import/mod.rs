//! `astbase import`: adopting a running PBX. The server's configuration is read (read
//! only) through the transport, every object the model can express becomes YAML, each
//! dialplan context that maps onto nothing typed is kept verbatim as a custom
//! dialplan, and everything else stays in the base files. Secrets become `{env: NAME}`
//! references with their values in a separate file. The import also records exactly
//! which lines of the base files it took (the migration), so that the first apply can
//! remove them there.

pub mod dialplan;
pub mod gather;
pub mod modules;
pub mod objects;
pub mod pjsip;
pub mod record;
pub mod report;
pub mod secrets;
pub mod wizard;
pub mod yaml;

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::{Value, json};

use crate::model::Target;
use crate::model::extension::Forwarding;
use gather::{ConfSet, Content};
use objects::Origin;
use record::Migration;
use report::{Outcome, Report};
use secrets::Secrets;

/// How the imported server is written into the repository.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub server: String,
    /// As `servers[].host` will say: `local` or an SSH host.
    pub host: String,
    pub ssh_user: Option<String>,
    /// SSH port when not 22, and a key file, as the entry will say.
    pub ssh_port: Option<u16>,
    pub identity_file: Option<String>,
    /// As `servers[].asterisk.conf_dir` will say (absent: the default `/etc/asterisk`).
    pub conf_dir: Option<String>,
    /// The suffix of generated names (`odoo`).
    pub prefix: String,
    /// The repository already has the server's entry (`import --all`): it is not
    /// written, and only the transports it names are taken from the base files.
    pub existing_transports: Option<Vec<String>>,
}

/// What one server's import produced.
#[derive(Debug, Clone)]
pub struct Imported {
    /// YAML files to write, by path relative to the output directory.
    pub documents: Vec<(String, String)>,
    pub secrets: Secrets,
    pub report: Report,
    pub migration: Migration,
}

/// chan_sip was removed in Asterisk 21: its objects are reported, never converted.
const CHAN_SIP: &str = "sip.conf";

pub fn import(set: &ConfSet, options: &ImportOptions, host_label: &str) -> Imported {
    let server = options.server.as_str();
    let mut report = Report {
        server: server.to_owned(),
        host: host_label.to_owned(),
        entries: Vec::new(),
    };
    let mut secrets = Secrets::default();
    problems(set, &mut report);
    for (file, section) in objects::placed(set, CHAN_SIP) {
        let origin = Origin {
            file,
            first_line: section.line,
            last_line: section.line,
        };
        report.push(set, origin, format!("[{}]", section.name), Outcome::Left,
            "chan_sip is gone from Asterisk 21 on: convert it to PJSIP first (e.g. with sip_to_pjsip.py), then import");
    }
    let mut pjsip_objects = objects::assemble(set, "pjsip.conf");
    flaws(set, &pjsip_objects, &mut report);
    // Wizard sections as the objects the wizard makes of them; anything else there is
    // reported and stays.
    let wizard_objects = objects::assemble(set, "pjsip_wizard.conf");
    flaws(set, &wizard_objects, &mut report);
    for o in wizard_objects
        .objects
        .iter()
        .filter(|o| !o.kind().is_some_and(|k| k.eq_ignore_ascii_case("wizard")))
    {
        report.push(
            set,
            o.origin(),
            format!("[{}]", o.name),
            Outcome::Left,
            "not a `type=wizard` section",
        );
    }
    pjsip_objects
        .objects
        .extend(wizard::expand(&wizard_objects));
    let mut pj = pjsip::import(
        set,
        &pjsip_objects,
        server,
        options.existing_transports.as_deref(),
        &mut secrets,
        &mut report,
    );
    let vm_objects = objects::assemble(set, "voicemail.conf");
    let boxes = modules::mailboxes(set, &vm_objects, server, &mut secrets, &mut report);
    let mut with_mailbox = HashSet::new();
    let mut voicemail_contexts = HashSet::new();
    for b in boxes {
        let phone = pj
            .phones
            .iter_mut()
            .find(|p| p.extension.number.as_str() == b.number);
        let section = format!("{}/{}", b.context, b.number);
        let Some(phone) = phone else {
            report.push(
                set,
                b.origin,
                section,
                Outcome::Left,
                "a mailbox of no imported extension",
            );
            continue;
        };
        if phone.extension.voicemail.is_some() {
            report.push(
                set,
                b.origin,
                section,
                Outcome::Left,
                "a second mailbox of this extension (another context)",
            );
            continue;
        }
        let entry = report.push(
            set,
            b.origin,
            section,
            Outcome::Imported,
            format!("mailbox of extension {}", b.number),
        );
        if b.context != "odoo" {
            entry.notes.push(format!(
                "astbase keeps mailboxes in context `odoo`: move stored messages from voicemail/{}/{} to voicemail/odoo/{}",
                b.context, b.number, b.number
            ));
        }
        if phone.extension.name == b.number
            && let Some(name) = b.name
        {
            phone.extension.name = name;
        }
        with_mailbox.insert(b.number.clone());
        voicemail_contexts.insert(b.context.clone());
        phone.extension.voicemail = Some(Box::new(b.mailbox));
    }
    let numbers: Vec<String> = pj
        .phones
        .iter()
        .map(|p| p.extension.number.0.clone())
        .collect();
    let queue_objects = objects::assemble(set, "queues.conf");
    let mut queues = modules::queues(set, &queue_objects, server, &numbers, &mut report);
    let moh_objects = objects::assemble(set, "musiconhold.conf");
    let music = modules::music(set, &moh_objects, &mut report);
    let ext_objects = objects::assemble(set, "extensions.conf");
    flaws(set, &ext_objects, &mut report);
    let phone_contexts: HashMap<String, String> = pj
        .phones
        .iter()
        .map(|p| (p.extension.number.0.clone(), p.context.clone()))
        .collect();
    let trunk_contexts: BTreeMap<String, String> = pj
        .trunks
        .iter()
        .map(|t| (t.trunk.name.0.clone(), t.context.clone()))
        .collect();
    let queue_names: Vec<String> = queues.iter().map(|q| q.name.0.clone()).collect();
    let known = dialplan::Known {
        server,
        prefix: &options.prefix,
        phone_numbers: &numbers,
        phone_contexts: &phone_contexts,
        trunk_contexts: &trunk_contexts,
        queues: &queue_names,
        mailboxes: &with_mailbox,
        contexts_left: &pj.contexts_left,
        voicemail_contexts,
    };
    let dp = dialplan::import(set, &ext_objects, &known, &mut report);
    for p in &mut pj.phones {
        let number = p.extension.number.0.clone();
        p.extension.ring_timeout = dp.ring_timeouts.get(&number).copied();
        if dp.no_voicemail.contains(&number) {
            // The old dialplan never sent callers to the mailbox; astbase would.
            p.extension.forward = Some(Box::new(Forwarding {
                always: None,
                busy: Some(Target::Hangup),
                no_answer: Some(Target::Hangup),
                unavailable: Some(Target::Hangup),
            }));
        }
    }
    for q in &mut queues {
        q.number = dp
            .queue_numbers
            .get(q.name.as_str())
            .map(|n| crate::model::names::DialNumber(n.clone()));
    }
    let migration = record::migration(
        set,
        &report,
        &[
            &pjsip_objects,
            &wizard_objects,
            &vm_objects,
            &queue_objects,
            &moh_objects,
            &ext_objects,
        ],
        server,
    );
    let mut documents = Vec::new();
    let header = |what: &str| {
        format!("{what} of server {server}, imported by `astbase import` from {host_label}.")
    };
    let existing = options.existing_transports.is_some();
    let (defaults, phones) = defaults(
        pj.phones.into_iter().map(|p| p.extension).collect(),
        // The entry's own defaults are not ours to change: every setting stays explicit.
        !existing,
    );
    let mut server_entry = json!({ "name": server, "host": options.host });
    let mut ssh = serde_json::Map::new();
    if let Some(user) = &options.ssh_user {
        ssh.insert("user".into(), json!(user));
    }
    if let Some(port) = options.ssh_port.filter(|p| *p != 22) {
        ssh.insert("port".into(), json!(port));
    }
    if let Some(key) = &options.identity_file {
        ssh.insert("identity_file".into(), json!(key));
    }
    if !ssh.is_empty() {
        server_entry["ssh"] = Value::Object(ssh);
    }
    if let Some(dir) = &options.conf_dir {
        server_entry["asterisk"] = json!({ "conf_dir": dir });
    }
    if !pj.transports.is_empty() {
        server_entry["transports"] = serde_json::to_value(&pj.transports).expect("serializes");
    }
    if defaults.as_object().is_some_and(|d| !d.is_empty()) {
        server_entry["defaults"] = defaults;
    }
    if !existing {
        documents.push((
            format!("{server}/servers.yaml"),
            yaml::document(&header("The server entry"), "servers", &[server_entry]),
        ));
    }
    let mut push = |file: &str, key: &str, what: &str, items: Vec<Value>| {
        if !items.is_empty() {
            documents.push((
                format!("{server}/{file}"),
                yaml::document(&header(what), key, &items),
            ));
        }
    };
    push("extensions.yaml", "extensions", "Extensions", phones);
    push(
        "trunks.yaml",
        "trunks",
        "Trunks",
        pj.trunks
            .iter()
            .map(|t| serde_json::to_value(&t.trunk).expect("serializes"))
            .collect(),
    );
    push(
        "queues.yaml",
        "queues",
        "Queues",
        queues
            .iter()
            .map(|q| serde_json::to_value(q).expect("serializes"))
            .collect(),
    );
    push(
        "inbound_routes.yaml",
        "inbound_routes",
        "Inbound routes",
        dp.inbound
            .iter()
            .map(|r| serde_json::to_value(r).expect("serializes"))
            .collect(),
    );
    push(
        "outbound_routes.yaml",
        "outbound_routes",
        "Outbound routes",
        dp.outbound
            .iter()
            .map(|r| serde_json::to_value(r).expect("serializes"))
            .collect(),
    );
    push(
        "timeframes.yaml",
        "timeframes",
        "Time frames",
        dp.timeframes
            .iter()
            .map(|t| serde_json::to_value(t).expect("serializes"))
            .collect(),
    );
    push(
        "menus.yaml",
        "menus",
        "IVR menus",
        dp.menus
            .iter()
            .map(|m| serde_json::to_value(m).expect("serializes"))
            .collect(),
    );
    push(
        "dialplans.yaml",
        "dialplans",
        "Dialplan contexts kept verbatim",
        dp.dialplans
            .iter()
            .map(|d| serde_json::to_value(d).expect("serializes"))
            .collect(),
    );
    push(
        "music_on_hold.yaml",
        "music_on_hold",
        "Music on hold",
        music
            .iter()
            .map(|m| serde_json::to_value(m).expect("serializes"))
            .collect(),
    );
    Imported {
        documents,
        secrets,
        report,
        migration,
    }
}

/// Server defaults from the extensions' most common settings, and the extensions
/// without the settings the defaults now give them.
fn defaults(phones: Vec<crate::model::Extension>, factor: bool) -> (Value, Vec<Value>) {
    const KEYS: [&str; 6] = [
        "codecs",
        "dtmf_mode",
        "nat",
        "transport",
        "ring_timeout",
        "language",
    ];
    let values: Vec<Value> = phones
        .iter()
        .map(|p| serde_json::to_value(p).expect("serializes"))
        .collect();
    let mut defaults = serde_json::Map::new();
    for key in KEYS.iter().filter(|_| factor) {
        let key = *key;
        let mut counts: Vec<(Value, usize)> = Vec::new();
        for v in &values {
            let value = v.get(key).cloned().unwrap_or(Value::Null);
            match counts.iter_mut().find(|(x, _)| *x == value) {
                Some((_, n)) => *n += 1,
                None => counts.push((value, 1)),
            }
        }
        // Ties go to the first seen: the import is deterministic.
        if let Some((value, _)) = counts.iter().rev().max_by_key(|(_, n)| *n)
            && !value.is_null()
            && counts.iter().all(|(v, _)| !v.is_null())
        {
            defaults.insert(key.to_owned(), value.clone());
        }
    }
    let phones = values
        .into_iter()
        .map(|mut v| {
            let map = v.as_object_mut().expect("an extension is a map");
            for (key, value) in &defaults {
                if map.get(key) == Some(value) {
                    map.remove(key);
                }
            }
            // Defaults of the model itself, written by serde: leave them out.
            if map.get("enabled") == Some(&Value::Bool(true)) {
                map.remove("enabled");
            }
            for key in ["recording", "pickup_groups", "tags"] {
                if map
                    .get(key)
                    .is_some_and(|v| v == "never" || v.as_array().is_some_and(Vec::is_empty))
                {
                    map.remove(key);
                }
            }
            if let Some(vm) = map.get_mut("voicemail").and_then(Value::as_object_mut) {
                for (key, default) in [
                    ("enabled", json!(true)),
                    ("in_directory", json!(false)),
                    ("delete_after_email", json!(false)),
                ] {
                    if vm.get(key) == Some(&default) {
                        vm.remove(key);
                    }
                }
            }
            v
        })
        .collect();
    (Value::Object(defaults), phones)
}

/// Lines the config reader would not read as written, and files it could not.
fn problems(set: &ConfSet, report: &mut Report) {
    for (i, f) in set.files.iter().enumerate() {
        let origin = |line| Origin {
            file: i,
            first_line: line,
            last_line: line,
        };
        match &f.content {
            Content::NotText => {
                report.push(
                    set,
                    origin(1),
                    "(file)",
                    Outcome::Problem,
                    "not UTF-8 text: nothing in it is imported; it stays as it is",
                );
            }
            Content::Parsed(parsed) => {
                for p in &parsed.problems {
                    report.push(
                        set,
                        origin(p.line),
                        "(line)",
                        Outcome::Problem,
                        p.message.clone(),
                    );
                }
            }
        }
    }
    for m in &set.missing {
        if m.kind == crate::conf::DirectiveKind::Include {
            let origin = Origin {
                file: m.from,
                first_line: m.line,
                last_line: m.line,
            };
            report.push(
                set,
                origin,
                "#include",
                Outcome::Problem,
                format!("{} matches no file", m.pattern),
            );
        }
    }
}

fn flaws(set: &ConfSet, assembled: &objects::Assembled, report: &mut Report) {
    for f in &assembled.flaws {
        let origin = Origin {
            file: f.file,
            first_line: f.line,
            last_line: f.line,
        };
        report.push(
            set,
            origin,
            "(section)",
            Outcome::Problem,
            f.message.clone(),
        );
    }
}

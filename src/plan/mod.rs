//! `plan`: what would change on each server — the rendered files against what the host
//! has, the include lines its base files lack, the reloads that would run, and drift
//! (generated files edited on the host since the last apply).

pub mod blast;
pub mod diff;
pub mod duplicates;
pub mod migration;
pub mod report;
pub mod saved;
pub mod state;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::rollout::Limits;
use crate::render::{ConfKind, ServerOutput};
use crate::textdiff::hash;
use crate::transport::{Host, TransportError};

pub use migration::{BaseEdit, MigrationError, MigrationPlan};
pub use saved::{SavedPlan, StalePlan};
pub use state::{STATE_DIR, State};

/// What happens to one generated file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Create,
    Change,
    Remove,
    Unchanged,
}

/// One generated file in a plan. Only [`plan_server`] builds one (a plan read from a
/// file is a [`SavedPlan`]), so a file to create or change always has its content.
#[derive(Debug, Clone, Serialize)]
pub struct FilePlan {
    pub name: String,
    pub action: Action,
    /// sha256 of the host's file before (absent: no file).
    pub before: Option<String>,
    /// sha256 of the rendered file (absent: to remove).
    pub after: Option<String>,
    /// Unified diff, secrets masked.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub diff: String,
    /// Edited on the host since the last apply.
    pub drift: bool,
    /// Already as rendered on the host, but no apply recorded that Asterisk loaded it
    /// (an earlier apply was cut off between switching files and writing the state):
    /// the plan reloads it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unconfirmed: bool,
    /// The rendered content, for every file but one to remove (kept for apply, never
    /// serialized: it holds secrets).
    #[serde(skip)]
    pub content: Option<String>,
    /// The host's content before (kept for verification, never serialized).
    #[serde(skip)]
    pub previous: Option<String>,
}

/// An include line a base file lacks.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct IncludePlan {
    pub base: String,
    pub line: String,
    /// Whether the base file exists (it is created when not).
    pub base_exists: bool,
    /// sha256 of the base file before (absent: no file).
    pub before: Option<String>,
}

/// The plan of one server.
#[derive(Debug, Clone, Serialize)]
pub struct ServerPlan {
    pub server: String,
    pub host: String,
    pub conf_dir: String,
    pub files: Vec<FilePlan>,
    pub includes: Vec<IncludePlan>,
    /// The removal of imported lines from base files (a pending migration record).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migration: Option<MigrationPlan>,
    /// Asterisk CLI commands that would run, in order.
    pub reloads: Vec<String>,
    /// Why the server could not be planned (unreachable, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The firewall, when astbase manages this server's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firewall: Option<crate::firewall::FirewallPlan>,
    /// The firewall hash the host's state file records (for drift).
    #[serde(skip)]
    pub recorded_firewall: Option<String>,
    /// Why Asterisk must restart to take this configuration: PJSIP transports whose bind
    /// or protocol changes (res_pjsip does not reload them), or a restart an earlier
    /// apply left pending. `apply --restart` restarts it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub restart: Vec<String>,
    /// The `systemname` the repo gives the server, which apply checks Asterisk runs with.
    #[serde(skip)]
    pub systemname: Option<String>,
    /// The source the host's state file says was applied last (a commit id, ...).
    #[serde(skip)]
    pub applied_source: Option<String>,
    /// When that apply was (Unix seconds).
    #[serde(skip)]
    pub applied_at: Option<u64>,
    /// Where the health gate's test call goes (`exten@context`), when the server has one.
    #[serde(skip)]
    pub test_call: Option<String>,
    /// How many configuration objects the plan adds, changes and removes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blast: Option<blast::BlastRadius>,
    /// What the change does to calls, against the commit applied last (when the repo
    /// has it): the probed calls that end elsewhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub behaviour: Option<crate::callflow::ServerBehaviour>,
}

/// Counts for the summary line.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub add: usize,
    pub change: usize,
    pub remove: usize,
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, o: Counts) {
        self.add += o.add;
        self.change += o.change;
        self.remove += o.remove;
    }
}

impl std::fmt::Display for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} to add, {} to change, {} to remove.",
            self.add, self.change, self.remove
        )
    }
}

impl ServerPlan {
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for f in &self.files {
            match f.action {
                Action::Create => c.add += 1,
                Action::Change => c.change += 1,
                Action::Remove => c.remove += 1,
                Action::Unchanged => {}
            }
        }
        c.change += self.includes.len();
        c.change += self.migration.as_ref().map_or(0, |m| m.edits.len());
        c.change += self
            .firewall
            .as_ref()
            .map_or(0, crate::firewall::FirewallPlan::changes);
        c
    }

    /// Anything to do: files to write or remove, include lines, reloads, or a restart.
    pub fn has_changes(&self) -> bool {
        self.counts() != Counts::default() || !self.reloads.is_empty() || !self.restart.is_empty()
    }

    pub fn unconfirmed(&self) -> impl Iterator<Item = &FilePlan> {
        self.files.iter().filter(|f| f.unconfirmed)
    }

    pub fn drifted(&self) -> impl Iterator<Item = &FilePlan> {
        self.files.iter().filter(|f| f.drift)
    }
}

/// A whole plan: what was rendered from which source, per server.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub astbase_version: String,
    /// The source rendered: a commit id or "working tree".
    pub source: String,
    pub servers: Vec<ServerPlan>,
}

impl Plan {
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for s in &self.servers {
            c += s.counts();
        }
        c
    }

    pub fn has_changes(&self) -> bool {
        self.servers.iter().any(ServerPlan::has_changes)
    }

    pub fn has_errors(&self) -> bool {
        self.servers.iter().any(|s| s.error.is_some())
    }
}

/// Whether a base file already has the include line (as `#include` or `#tryinclude`).
pub fn has_include(base: &str, file: &str) -> bool {
    crate::conf::parse(base).directives.iter().any(|d| {
        d.argument == file
            && matches!(
                d.kind,
                crate::conf::DirectiveKind::Include | crate::conf::DirectiveKind::TryInclude
            )
    })
}

/// Why a server could not be planned.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PlanError {
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error(transparent)]
    Migration(#[from] MigrationError),
    #[error("cannot read the migration record {record}: {message}")]
    Record { record: String, message: String },
    #[error(
        "{base} already defines what {file} would: {objects}. Asterisk would read them twice \
         (res_pjsip rejects a whole file for one id twice); remove them from {base} \
         (after `astbase import`, its migration record in .astbase/migrations/ does)"
    )]
    Duplicates {
        base: String,
        file: String,
        objects: String,
    },
}

/// Plans one server: reads its files through `host` and compares.
/// `migration`: a pending migration record of the server and its path in the repo.
pub fn plan_server(
    host: &mut Host,
    conf_dir: &str,
    rendered: &ServerOutput,
    migration: Option<(&crate::import::record::Migration, &str)>,
) -> Result<ServerPlan, PlanError> {
    let path = |name: &str| format!("{conf_dir}/{name}");
    let state_path = path(&format!("{STATE_DIR}/state.json"));
    // The state, the generated files and the base files of those that have one, in one
    // round trip; stale files (known from the state) in a second only when there are any.
    let includes_of: Vec<&crate::render::Include> = rendered
        .files
        .iter()
        .filter_map(|f| f.include.as_ref())
        .collect();
    let mut wanted: Vec<String> = vec![state_path];
    wanted.extend(rendered.files.iter().map(|f| path(&f.name)));
    wanted.extend(includes_of.iter().map(|i| path(&i.base)));
    let migration_paths = migration
        .map(|(m, _)| migration::paths(m))
        .unwrap_or_default();
    wanted.extend(migration_paths.iter().cloned());
    let mut current = host.read_files(&wanted)?;
    let migration_now = current.split_off(current.len() - migration_paths.len());
    let state = match current.remove(0) {
        Some(bytes) => State::parse(&bytes).ok(),
        None => None,
    };
    let managed: BTreeMap<String, String> =
        state.as_ref().map(|s| s.files.clone()).unwrap_or_default();
    let recorded_firewall = state.as_ref().and_then(|s| s.firewall.clone());
    let mut restart: Vec<String> = state
        .as_ref()
        .map(|s| s.restart_pending.clone())
        .unwrap_or_default();
    let stale: Vec<&String> = managed
        .keys()
        .filter(|n| !rendered.files.iter().any(|f| &f.name == *n))
        .collect();
    let stale_paths: Vec<String> = stale.iter().map(|n| path(n)).collect();
    let stale_current = host.read_files(&stale_paths)?;
    let n = rendered.files.len();
    let (generated, base_texts) = current.split_at(n);
    let mut base_texts = base_texts.iter();
    let bases: Vec<Option<&Option<Vec<u8>>>> = rendered
        .files
        .iter()
        .map(|f| f.include.as_ref().and_then(|_| base_texts.next()))
        .collect();

    let mut files = Vec::new();
    let mut includes = Vec::new();
    let mut reloads: Vec<String> = Vec::new();
    let mut need_reload = |kind: Option<ConfKind>| {
        if let Some(r) = kind.and_then(ConfKind::reload_command)
            && !reloads.iter().any(|x| x == r)
        {
            reloads.push(r.to_owned());
        }
    };
    let migration = migration
        .map(|(m, record)| migration::plan(m, record, conf_dir, &migration_now))
        .transpose()?;
    for ((file, before), base) in rendered.files.iter().zip(generated).zip(bases) {
        let mut after = hash(file.content.as_bytes());
        let before_hash = before.as_deref().map(hash);
        let mut action = match &before_hash {
            None => Action::Create,
            Some(h) if *h == after => Action::Unchanged,
            Some(_) => Action::Change,
        };
        // Only the header differs (another commit or astbase version, same config):
        // leave the host's file as it is; its hash is what the state records.
        if action == Action::Change
            && let (Some(old), Some(old_hash)) = (before.as_deref(), &before_hash)
            && crate::render::body(&String::from_utf8_lossy(old))
                == crate::render::body(&file.content)
        {
            action = Action::Unchanged;
            after = old_hash.clone();
        }
        let recorded = managed.get(&file.name);
        let unconfirmed = action == Action::Unchanged && recorded != Some(&after);
        let drift = match (recorded, &before_hash) {
            (Some(recorded), Some(now)) => recorded != now && !unconfirmed,
            _ => false,
        };
        let before_text = before
            .as_deref()
            .map(String::from_utf8_lossy)
            .unwrap_or_default();
        let diff = if action == Action::Unchanged {
            String::new()
        } else {
            diff::unified(&file.name, &before_text, &file.content)
        };
        if action != Action::Unchanged || unconfirmed {
            need_reload(Some(file.kind));
        }
        if let (Some(include), Some(base)) = (&file.include, base) {
            let base_text = base
                .as_deref()
                .map(String::from_utf8_lossy)
                .unwrap_or_default();
            // The base file as this apply leaves it: without what a migration removes.
            let edit = migration
                .iter()
                .flat_map(|m| &m.edits)
                .find(|e| e.base == include.base);
            let leaves = edit.map_or_else(|| base_text.to_string(), |e| e.apply(&base_text));
            let both = duplicates::between(file.kind, &leaves, &file.content);
            if !both.is_empty() {
                return Err(PlanError::Duplicates {
                    base: include.base.clone(),
                    file: file.name.clone(),
                    objects: both.join(", "),
                });
            }
            if !has_include(&base_text, &file.name) {
                need_reload(Some(file.kind));
                includes.push(IncludePlan {
                    base: include.base.clone(),
                    line: include.line.clone(),
                    base_exists: base.is_some(),
                    before: base.as_deref().map(hash),
                });
            }
        }
        if file.kind == ConfKind::Pjsip && action != Action::Unchanged {
            for why in transport_restarts(&before_text, &file.content) {
                if !restart.contains(&why) {
                    restart.push(why);
                }
            }
        }
        files.push(FilePlan {
            name: file.name.clone(),
            action,
            before: before_hash,
            after: Some(after),
            diff,
            drift,
            unconfirmed,
            content: Some(file.content.clone()),
            previous: before
                .as_deref()
                .map(|b| String::from_utf8_lossy(b).into_owned()),
        });
    }
    for edit in migration.iter().flat_map(|m| &m.edits) {
        need_reload(edit.kind());
    }
    for (name, current) in stale.iter().zip(&stale_current) {
        let Some(current) = current else { continue };
        let before_hash = hash(current);
        need_reload(ConfKind::of_file(name));
        files.push(FilePlan {
            name: (*name).clone(),
            action: Action::Remove,
            drift: managed.get(*name).is_some_and(|h| *h != before_hash),
            unconfirmed: false,
            before: Some(before_hash),
            after: None,
            diff: diff::unified(name, &String::from_utf8_lossy(current), ""),
            content: None,
            previous: None,
        });
    }
    Ok(ServerPlan {
        server: rendered.server.clone(),
        host: host.describe(),
        conf_dir: conf_dir.to_owned(),
        files,
        includes,
        migration,
        reloads,
        error: None,
        firewall: None,
        recorded_firewall,
        restart,
        systemname: None,
        applied_at: state.as_ref().map(|s| s.applied_at),
        applied_source: state.map(|s| s.source),
        test_call: None,
        blast: None,
        behaviour: None,
    })
}

/// What a change of the PJSIP file asks for that only a restart gives: a transport whose
/// bind or protocol changes, or that is removed (res_pjsip keeps the running one).
pub fn transport_restarts(before: &str, after: &str) -> Vec<String> {
    let transports = |text: &str| {
        crate::conf::parse(text)
            .sections
            .into_iter()
            .filter(|s| s.get("type") == Some("transport"))
            .collect::<Vec<_>>()
    };
    let new = transports(after);
    let mut why = Vec::new();
    for old in transports(before) {
        match new.iter().find(|n| n.name == old.name) {
            None => why.push(format!("transport {} is removed", old.name)),
            Some(n) => {
                for key in ["bind", "protocol"] {
                    if let (Some(a), Some(b)) = (old.get(key), n.get(key))
                        && a != b
                    {
                        why.push(format!("transport {} {key} {a} -> {b}", old.name));
                    }
                }
            }
        }
    }
    why
}

/// Plans every rendered server, `parallelism` hosts at a time. A server that cannot be
/// reached gets an error in its plan; the others are planned all the same. The targets
/// come back with the plans, so an apply reuses the connections.
/// How a fleet is planned.
pub struct PlanOptions<'a> {
    /// The source rendered (a commit id, ...), recorded in the plan.
    pub source: &'a str,
    /// How many servers are read at once.
    pub parallelism: usize,
    pub connect: &'a crate::transport::ConnectOptions,
    /// Plan a firewall change that would drop SSH from the operator.
    pub force_firewall: bool,
    /// Plan a change over the blast-radius limits.
    pub allow_large_change: bool,
}

pub fn plan_fleet(
    fleet: &crate::model::Fleet,
    root: &std::path::Path,
    outputs: Vec<ServerOutput>,
    options: &PlanOptions,
) -> (Plan, Vec<Option<crate::transport::Target>>) {
    let (parallelism, connect, force_firewall, allow_large_change) = (
        options.parallelism,
        options.connect,
        options.force_firewall,
        options.allow_large_change,
    );
    let source = options.source;
    let results = crate::parallel::map_with(&outputs, parallelism, |output| {
        let server = fleet
            .server(&output.server)
            .expect("rendered servers exist");
        let target = crate::transport::TargetSpec::of(server, &fleet.project, root)
            .and_then(|spec| crate::transport::connect(&spec, connect));
        let mut target = match target {
            Ok(t) => t,
            Err(e) => return (failed_plan(output, &server.host, e.to_string()), None),
        };
        let record = match migration::pending(root, &output.server) {
            Ok(record) => record,
            Err(e) => return (failed_plan(output, &server.host, e.to_string()), None),
        };
        let record_ref = record.as_ref().map(|(m, label)| (m, label.as_str()));
        match plan_server(&mut target.host, &target.conf_dir, output, record_ref).and_then(
            |mut plan| {
                plan.systemname = server.systemname.as_ref().map(ToString::to_string);
                plan.test_call = server
                    .test_call
                    .as_ref()
                    .and_then(|t| crate::render::dialplan_entry(fleet, server.name.as_str(), t));
                plan_firewall(fleet, server, &mut target.host, &mut plan, force_firewall)
                    .map_err(PlanError::from)?;
                let radius = blast::measure(&plan.files);
                let limits = Limits::of(server.safety.as_ref(), &fleet.project.safety);
                if let Some(why) = radius.over(limits).filter(|_| !allow_large_change) {
                    plan.error = Some(format!(
                        "{why}; pass --allow-large-change if this is intended"
                    ));
                }
                plan.blast = Some(radius);
                Ok(plan)
            },
        ) {
            Ok(plan) => (plan, Some(target)),
            Err(e) => (
                failed_plan(output, &target.host.describe(), e.to_string()),
                None,
            ),
        }
    });
    let (servers, targets) = results.into_iter().unzip();
    let plan = Plan {
        astbase_version: env!("CARGO_PKG_VERSION").to_owned(),
        source: source.to_owned(),
        servers,
    };
    (plan, targets)
}

/// Adds the firewall to a server's plan, when astbase manages it. A change that would
/// lock astbase out of SSH, or a host without ipset/iptables, makes the server's plan an
/// error (the lockout unless `force`).
fn plan_firewall(
    fleet: &crate::model::Fleet,
    server: &crate::model::Server,
    host: &mut Host,
    plan: &mut ServerPlan,
    force: bool,
) -> Result<(), TransportError> {
    let Some(desired) = crate::firewall::desired(fleet, server) else {
        return Ok(());
    };
    if server.is_local() && !crate::firewall::in_network_namespace(host) {
        plan.firewall = Some(crate::firewall::skipped(&desired));
        return Ok(());
    }
    let current = crate::firewall::read_current(host)?;
    let ssh_port = (!server.is_local()).then(|| server.ssh_port());
    let fw = crate::firewall::plan(
        &desired,
        &current,
        plan.recorded_firewall.as_deref(),
        ssh_port,
    );
    if let Some(e) = &fw.error {
        plan.error = Some(format!("firewall: {e}"));
    } else if let Some(lockout) = &fw.lockout
        && !force
    {
        plan.error = Some(format!("firewall: {lockout}"));
    }
    plan.firewall = Some(fw);
    Ok(())
}

fn failed_plan(output: &ServerOutput, host: &str, error: String) -> ServerPlan {
    ServerPlan {
        server: output.server.clone(),
        host: host.to_owned(),
        conf_dir: String::new(),
        files: Vec::new(),
        includes: Vec::new(),
        migration: None,
        reloads: Vec::new(),
        error: Some(error),
        firewall: None,
        recorded_firewall: None,
        restart: Vec::new(),
        systemname: None,
        applied_source: None,
        applied_at: None,
        test_call: None,
        blast: None,
        behaviour: None,
    }
}

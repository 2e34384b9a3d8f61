//! `apply`: carries out one server's plan on its host, all or nothing.
//!
//! Order (see the reconciler issue): lock; refuse if the host changed since the plan;
//! write new files under temporary names and fsync; back up what will be replaced;
//! rename into place; append missing include lines; run only the needed reloads, judged
//! by their output; verify what Asterisk actually loaded; on any failure restore the
//! backups and reload again; record the state; unlock.

pub mod verify;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::plan::{Action, STATE_DIR, ServerPlan, State, hash};
use crate::transport::{Host, TransportError};

/// How many backup generations to keep per host.
pub const KEEP_BACKUPS: usize = 5;

/// Settings of one apply.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// The asterisk binary on the host (`asterisk -rx ...`).
    pub asterisk: String,
    /// How long to wait for another apply's lock.
    pub lock_timeout: Duration,
    /// The source applied, recorded in the state file.
    pub source: String,
    /// Who applies, recorded in the lock (`user@machine pid N`).
    pub owner: String,
}

/// What happened on a host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    Applied { reloads: Vec<String> },
    Unchanged,
    RolledBack { reason: String },
    Failed { reason: String },
    Unreachable { reason: String },
}

impl Outcome {
    pub fn is_failure(&self) -> bool {
        !matches!(self, Outcome::Applied { .. } | Outcome::Unchanged)
    }
}

/// Why an apply stopped before touching anything, or after restoring.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error("{0}")]
    Stale(String),
    #[error("{0}")]
    Reload(String),
    #[error("{0}")]
    Verify(String),
}

/// Applies one server's plan.
pub fn apply_server(host: &mut Host, plan: &ServerPlan, options: &ApplyOptions) -> Outcome {
    let lock = format!("{}/{STATE_DIR}/lock", plan.conf_dir);
    if let Err(e) = host.lock(&lock, &options.owner, options.lock_timeout) {
        return match e {
            TransportError::Unreachable { .. } => Outcome::Unreachable {
                reason: e.to_string(),
            },
            e => Outcome::Failed {
                reason: e.to_string(),
            },
        };
    }
    let outcome = apply_locked(host, plan, options);
    if let Err(e) = host.unlock(&lock) {
        return Outcome::Failed {
            reason: format!("applied, but could not release the lock: {e}"),
        };
    }
    outcome
}

/// Paths of one apply, all inside the conf dir so renames are atomic.
struct Paths<'a> {
    conf_dir: &'a str,
    stamp: String,
}

impl Paths<'_> {
    fn file(&self, name: &str) -> String {
        format!("{}/{name}", self.conf_dir)
    }
    fn temp(&self, name: &str) -> String {
        format!("{}/.{name}.astbase-new", self.conf_dir)
    }
    fn backup_dir(&self) -> String {
        format!("{}/{STATE_DIR}/backups/{}", self.conf_dir, self.stamp)
    }
    fn backup(&self, name: &str) -> String {
        format!("{}/{name}", self.backup_dir())
    }
}

fn apply_locked(host: &mut Host, plan: &ServerPlan, options: &ApplyOptions) -> Outcome {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let paths = Paths {
        conf_dir: &plan.conf_dir,
        stamp: format!("{}-{:09}", now.as_secs(), now.subsec_nanos()),
    };
    // 1. The host must still be as planned.
    if let Err(e) = check_fresh(host, plan, &paths) {
        return Outcome::Failed {
            reason: e.to_string(),
        };
    }
    if !plan.has_changes() {
        return match write_state(host, plan, &paths, options, now.as_secs()) {
            Ok(()) => Outcome::Unchanged,
            Err(e) => Outcome::Failed {
                reason: e.to_string(),
            },
        };
    }
    // 2. Stage everything; nothing the host uses has changed yet.
    let staged = match stage(host, plan, &paths) {
        Ok(staged) => staged,
        Err(e) => {
            let _ = host.remove_all(&staged_temps(plan, &paths));
            return Outcome::Failed {
                reason: format!("nothing changed: {e}"),
            };
        }
    };
    // 3. Switch: rename into place, remove stale files.
    if let Err(e) = switch(host, &paths, &staged) {
        return rollback(
            host,
            plan,
            &paths,
            &staged,
            options,
            format!("switching files failed: {e}"),
        );
    }
    // 4. Reload and verify.
    let reloads = match reload(host, &plan.reloads, options)
        .and_then(|()| verify::loaded(host, plan, options))
    {
        Ok(()) => plan.reloads.clone(),
        Err(e) => return rollback(host, plan, &paths, &staged, options, e.to_string()),
    };
    prune_backups(host, &paths);
    match write_state(host, plan, &paths, options, now.as_secs()) {
        Ok(()) => Outcome::Applied { reloads },
        Err(e) => Outcome::Failed {
            reason: format!("applied, but the state file could not be written: {e}"),
        },
    }
}

fn check_fresh(host: &mut Host, plan: &ServerPlan, paths: &Paths) -> Result<(), ApplyError> {
    let mut names: Vec<String> = plan.files.iter().map(|f| f.name.clone()).collect();
    names.extend(plan.includes.iter().map(|i| i.base.clone()));
    let wanted: Vec<String> = names.iter().map(|n| paths.file(n)).collect();
    let current = host.read_files(&wanted)?;
    let expected = plan
        .files
        .iter()
        .map(|f| f.before.clone())
        .chain(plan.includes.iter().map(|i| i.before.clone()));
    for ((name, now), before) in names.iter().zip(current).zip(expected) {
        if now.as_deref().map(hash) != before {
            return Err(ApplyError::Stale(format!(
                "{name} on {} changed since the plan was made; plan again",
                plan.host
            )));
        }
    }
    Ok(())
}

/// What was staged: files written under temporary names, and base files' new contents.
struct Staged {
    /// (temp, final) pairs to rename.
    renames: Vec<(String, String)>,
    /// Files that existed before and are backed up.
    backed_up: Vec<String>,
    /// Files created by this apply (removed on rollback).
    created: Vec<String>,
    /// Stale generated files to remove.
    removed: Vec<String>,
}

fn staged_temps(plan: &ServerPlan, paths: &Paths) -> Vec<String> {
    plan.files
        .iter()
        .map(|f| paths.temp(&f.name))
        .chain(plan.includes.iter().map(|i| paths.temp(&i.base)))
        .collect()
}

fn stage(host: &mut Host, plan: &ServerPlan, paths: &Paths) -> Result<Staged, ApplyError> {
    let mut staged = Staged {
        renames: Vec::new(),
        backed_up: Vec::new(),
        created: Vec::new(),
        removed: Vec::new(),
    };
    let mut backups = Vec::new();
    let mut writes: Vec<(String, Vec<u8>, u32)> = Vec::new();
    for f in &plan.files {
        match f.action {
            Action::Create | Action::Change => {
                let content = f
                    .content
                    .as_deref()
                    .expect("a planned file has its content");
                writes.push((paths.temp(&f.name), content.as_bytes().to_vec(), 0o640));
                staged
                    .renames
                    .push((paths.temp(&f.name), paths.file(&f.name)));
                if f.action == Action::Create {
                    staged.created.push(f.name.clone());
                } else {
                    staged.backed_up.push(f.name.clone());
                    backups.push((paths.file(&f.name), paths.backup(&f.name)));
                }
            }
            Action::Remove => {
                staged.removed.push(f.name.clone());
                staged.backed_up.push(f.name.clone());
                backups.push((paths.file(&f.name), paths.backup(&f.name)));
            }
            Action::Unchanged => {}
        }
    }
    // Base files: the only change astbase makes to them is one appended include line.
    let bases: Vec<String> = plan.includes.iter().map(|i| paths.file(&i.base)).collect();
    let current = host.read_files(&bases)?;
    for (include, before) in plan.includes.iter().zip(current) {
        let mut text = before.clone().unwrap_or_default();
        if !text.is_empty() && !text.ends_with(b"\n") {
            text.push(b'\n');
        }
        text.extend_from_slice(include.line.as_bytes());
        text.push(b'\n');
        writes.push((paths.temp(&include.base), text, 0o640));
        staged
            .renames
            .push((paths.temp(&include.base), paths.file(&include.base)));
        if before.is_some() {
            staged.backed_up.push(include.base.clone());
            backups.push((paths.file(&include.base), paths.backup(&include.base)));
        } else {
            staged.created.push(include.base.clone());
        }
    }
    // One round trip for every new file, however many the server needs.
    host.write_all_synced(&writes)?;
    host.copy_all(&backups)?;
    Ok(staged)
}

fn switch(host: &mut Host, paths: &Paths, staged: &Staged) -> Result<(), TransportError> {
    host.rename_all(&staged.renames)?;
    let removed: Vec<String> = staged.removed.iter().map(|n| paths.file(n)).collect();
    host.remove_all(&removed)
}

/// Puts every file back as it was, reloads, and reports why.
fn rollback(
    host: &mut Host,
    plan: &ServerPlan,
    paths: &Paths,
    staged: &Staged,
    options: &ApplyOptions,
    reason: String,
) -> Outcome {
    let restore: Vec<(String, String)> = staged
        .backed_up
        .iter()
        .map(|n| (paths.backup(n), paths.file(n)))
        .collect();
    let created: Vec<String> = staged.created.iter().map(|n| paths.file(n)).collect();
    let temps = staged_temps(plan, paths);
    let restored = host
        .copy_all(&restore)
        .and_then(|()| host.remove_all(&created))
        .and_then(|()| host.remove_all(&temps));
    if let Err(e) = restored {
        return Outcome::Failed {
            reason: format!(
                "{reason}; restoring the previous files also failed: {e} (backups are in {})",
                paths.backup_dir()
            ),
        };
    }
    match reload(host, &plan.reloads, options) {
        Ok(()) => Outcome::RolledBack { reason },
        Err(e) => Outcome::Failed {
            reason: format!("{reason}; the previous files are back but reloading them failed: {e}"),
        },
    }
}

/// Runs reload commands, judged by their output: `asterisk -rx` exits 0 even when the
/// command failed. "Already in progress" is retried.
pub fn reload(
    host: &mut Host,
    commands: &[String],
    options: &ApplyOptions,
) -> Result<(), ApplyError> {
    for command in commands {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let out = host.command(&[options.asterisk.clone(), "-rx".into(), command.clone()])?;
            let text = format!("{}{}", out.stdout_text(), out.stderr_text());
            let lower = text.to_ascii_lowercase();
            if lower.contains("already in progress") && attempt < 10 {
                std::thread::sleep(Duration::from_millis(500));
                continue;
            }
            let failed = out.status != 0
                || [
                    "reload failure",
                    "failed",
                    "no such",
                    "unable to",
                    "not found",
                    "already in progress",
                ]
                .iter()
                .any(|needle| lower.contains(needle));
            if failed {
                return Err(ApplyError::Reload(format!(
                    "`{command}` failed: {}",
                    text.trim()
                )));
            }
            break;
        }
    }
    Ok(())
}

fn write_state(
    host: &mut Host,
    plan: &ServerPlan,
    paths: &Paths,
    options: &ApplyOptions,
    now: u64,
) -> Result<(), TransportError> {
    let state = State {
        astbase_version: env!("CARGO_PKG_VERSION").to_owned(),
        source: options.source.clone(),
        applied_at: now,
        files: plan
            .files
            .iter()
            .filter_map(|f| f.after.clone().map(|h| (f.name.clone(), h)))
            .collect(),
    };
    let path = format!("{}/{STATE_DIR}/state.json", paths.conf_dir);
    let temp = format!("{path}.new");
    host.write_synced(&temp, &state.to_bytes(), 0o600)?;
    host.rename_all(&[(temp, path)])
}

/// Keeps the newest backup generations.
fn prune_backups(host: &mut Host, paths: &Paths) {
    let dir = format!("{}/{STATE_DIR}/backups", paths.conf_dir);
    let Ok(mut generations) = host.list_dir(&dir) else {
        return;
    };
    generations.sort();
    if generations.len() > KEEP_BACKUPS {
        let mut argv: Vec<String> = vec!["rm".into(), "-rf".into(), "--".into()];
        argv.extend(
            generations[..generations.len() - KEEP_BACKUPS]
                .iter()
                .map(|g| format!("{dir}/{g}")),
        );
        // Old backups are a convenience: failing to prune them is not worth failing for.
        let _ = host.command(&argv);
    }
}

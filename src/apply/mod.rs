//! `apply`: carries out one server's plan on its host, all or nothing.
//!
//! Order (see the reconciler issue): lock; refuse if the host changed since the plan;
//! write new files under temporary names and fsync; back up what will be replaced;
//! rename into place; append missing include lines; run only the needed reloads, judged
//! by their output; verify what Asterisk actually loaded; on any failure restore the
//! backups and reload again; check what only a restart takes (transports; `restart`)
//! and the systemname; record the state; unlock.

mod fresh;
pub mod health;
mod reload;
mod restart;
pub mod verify;

use fresh::{FileContent, Freshness, check_fresh};
pub use health::GateSettings;
pub use reload::reload;
use restart::{RESTART_COMMAND, Restart, restart_step, systemname_warning};

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::plan::{Action, STATE_DIR, ServerPlan, State};
use crate::transport::{Host, LastWrite, Stage, StagedWrite, Switch, SwitchError, TransportError};

/// How many backup generations to keep per host.
pub const KEEP_BACKUPS: usize = 5;

/// Settings of one apply.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// The words that run one Asterisk CLI command on the host (`asterisk -rx`).
    pub cli: Vec<String>,
    /// How long to wait for another apply's lock.
    pub lock_timeout: Duration,
    /// The source applied, recorded in the state file.
    pub source: String,
    /// Who applies, recorded in the lock (`user@machine pid N`).
    pub owner: String,
    /// Restart Asterisk (gracefully) when the configuration needs it.
    pub restart: bool,
    /// Check phones and trunks after the reload; roll back when they did not come back.
    pub gate: Option<GateSettings>,
}

impl ApplyOptions {
    /// The full argv that runs `command` in Asterisk's CLI.
    pub fn cli_command(&self, command: &str) -> Vec<String> {
        let mut argv = self.cli.clone();
        argv.push(command.to_owned());
        argv
    }
}

/// What happened on a host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    Applied {
        reloads: Vec<String>,
        /// The firewall sets and chain were updated.
        firewall: bool,
        /// What Asterisk runs with that the repo asks otherwise and astbase does not set
        /// (the systemname of asterisk.conf), with how to fix it.
        warnings: Vec<String>,
        /// The health gate's result in one line, when it ran.
        health: Option<String>,
    },
    Unchanged,
    RolledBack {
        reason: String,
    },
    Failed {
        reason: String,
    },
    Unreachable {
        reason: String,
    },
    /// The files are in and loaded, but Asterisk takes part of them only at a restart,
    /// which was not asked for (`--restart`).
    RestartNeeded {
        reasons: Vec<String>,
    },
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
    #[error("{0}")]
    Firewall(String),
}

/// Applies one server's plan.
pub fn apply_server(host: &mut Host, plan: &ServerPlan, options: &ApplyOptions) -> Outcome {
    let lock = format!("{}/{STATE_DIR}/apply.lock", plan.conf_dir);
    // The state file is written by the lock's holder as it lets go: no round trip of
    // its own, and never by an apply that no longer holds the lock.
    let state_file = LastWrite {
        path: format!("{}/{STATE_DIR}/state.json", plan.conf_dir),
        mode: 0o600,
        then: prune_backups_script(&plan.conf_dir),
    };
    // 1. The host must still be as planned: what that takes is read as the lock is
    // taken, in its round trip.
    let reads = fresh::files_to_read(plan);
    let current = match host.lock(
        &lock,
        &options.owner,
        options.lock_timeout,
        &state_file,
        &reads,
    ) {
        Ok(current) => current,
        Err(e) => {
            return match e {
                TransportError::Unreachable { .. } => Outcome::Unreachable {
                    reason: e.to_string(),
                },
                e => Outcome::Failed {
                    reason: e.to_string(),
                },
            };
        }
    };
    let mut state = None;
    let outcome = apply_locked(host, plan, options, current, &mut state);
    match host.unlock(state.as_deref()) {
        Ok(()) => outcome,
        // A failed apply says why it failed; the state it meant to record is lost, and
        // the next plan reads the host as it is.
        Err(_) if outcome.is_failure() => outcome,
        Err(e) if state.is_some() => Outcome::Failed {
            reason: format!("applied, but the state file could not be written: {e}"),
        },
        Err(e) => Outcome::Failed {
            reason: format!("applied, but could not release the lock: {e}"),
        },
    }
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
    /// Beside the file (a base file may be in a subdirectory), hidden.
    fn temp(&self, name: &str) -> String {
        match name.rsplit_once('/') {
            Some((dir, file)) => format!("{}/{dir}/.{file}.astbase-new", self.conf_dir),
            None => format!("{}/.{name}.astbase-new", self.conf_dir),
        }
    }
    fn backup_dir(&self) -> String {
        format!("{}/{STATE_DIR}/backups/{}", self.conf_dir, self.stamp)
    }
    fn backup(&self, name: &str) -> String {
        format!("{}/{name}", self.backup_dir())
    }
}

/// `current`: what the lock's holder read of [`fresh::files_to_read`]; `state`: the
/// state file to write as the lock is let go, once the apply knows it.
fn apply_locked(
    host: &mut Host,
    plan: &ServerPlan,
    options: &ApplyOptions,
    current: Vec<FileContent>,
    state: &mut Option<Vec<u8>>,
) -> Outcome {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let paths = Paths {
        conf_dir: &plan.conf_dir,
        stamp: format!("{}-{:09}", now.as_secs(), now.subsec_nanos()),
    };
    // 1. The host must still be as planned.
    let (freshness, bases) = match check_fresh(plan, current) {
        Ok(f) => f,
        Err(e) => {
            return Outcome::Failed {
                reason: e.to_string(),
            };
        }
    };
    if !plan.has_changes() || freshness == Freshness::AlreadyApplied {
        // The files are as wanted; the firewall may still need its step (another apply
        // of the same render switched the files, but its firewall step failed).
        let firewall = match firewall_step(host, plan, options, now.as_secs(), state) {
            Ok(changed) => changed,
            Err(e) => {
                return Outcome::Failed {
                    reason: format!("the firewall failed: {e}"),
                };
            }
        };
        let restart = match restart_step(host, plan, options, None) {
            Ok(restart) => restart,
            Err(e) => {
                return Outcome::Failed {
                    reason: e.to_string(),
                };
            }
        };
        *state = Some(state_record(plan, options, now.as_secs(), true, &restart));
        return match restart {
            Restart::Pending(reasons) => Outcome::RestartNeeded { reasons },
            Restart::Done => Outcome::Applied {
                reloads: vec![RESTART_COMMAND.to_owned()],
                firewall,
                warnings: systemname_warning(host, plan, options),
                health: None,
            },
            Restart::None if firewall => Outcome::Applied {
                reloads: Vec::new(),
                firewall,
                warnings: Vec::new(),
                health: None,
            },
            Restart::None => Outcome::Unchanged,
        };
    }
    // The gate's first reading, while nothing has changed.
    let gate = options.gate.filter(|_| !plan.reloads.is_empty());
    let before = match gate
        .map(|_| health::read(host, plan, options, health::Side::Before))
        .transpose()
    {
        Ok(before) => before,
        Err(e) => {
            return Outcome::Failed {
                reason: format!("nothing changed: the health gate cannot read Asterisk: {e}"),
            };
        }
    };
    // 2. Stage everything (nothing the host uses changes), then 3. switch: rename into
    // place, remove stale files; one round trip.
    let (staged, writes) = stage(plan, &paths, bases);
    match host.stage_and_switch(&writes, &switch(&paths, &staged)) {
        Ok(()) => {}
        Err(SwitchError::Staging(e)) => {
            let _ = host.remove_all(&staged_temps(plan, &paths));
            return Outcome::Failed {
                reason: format!("nothing changed: {e}"),
            };
        }
        Err(SwitchError::Switching(e)) => {
            return rollback(
                host,
                plan,
                &paths,
                &staged,
                options,
                format!("switching files failed: {e}"),
            );
        }
        Err(SwitchError::Lost(e)) => {
            return Outcome::Failed {
                reason: format!(
                    "{e}: the host has all its old files or all the new ones, not reloaded \
                     (once files are staged their switch cannot stop half-way); run apply again"
                ),
            };
        }
    }
    // 4. Reload and verify.
    // (The checks run in the reloads' round trip, right after them, and so do the
    // readings of the transports the restart step judges and of the system name the
    // warning below compares.)
    let checks = verify::checks(plan);
    let mut after = verify::commands(&checks, options);
    let check_transports = restart::transports_to_check(plan);
    let transports = if check_transports {
        verify::transport_checks(plan)
    } else {
        Vec::new()
    };
    let transports_at = after.len();
    after.extend(verify::transport_commands(&transports, options));
    let settings_at = plan.systemname.as_ref().map(|_| {
        after.push(options.cli_command(restart::SETTINGS_COMMAND));
        after.len() - 1
    });
    let (mut settings, mut stale_transports) = (None, None);
    let reloads =
        match reload::reload_then(host, &plan.reloads, options, &after).and_then(|mut results| {
            settings = settings_at.map(|at| results.remove(at).1);
            let transport_results = results.split_off(transports_at);
            stale_transports =
                check_transports.then(|| verify::stale_transports(&transports, transport_results));
            verify::loaded(&checks, results)
        }) {
            Ok(()) => plan.reloads.clone(),
            Err(e) => return rollback(host, plan, &paths, &staged, options, e.to_string()),
        };
    // The gate: phones and trunks back once the reload has settled, and the test call
    // answered; else the old files.
    let health = match (gate, &before) {
        (Some(settings), Some(before)) => {
            match health::check(host, plan, options, &settings, before) {
                Ok(line) => Some(line),
                Err(reason) => return rollback(host, plan, &paths, &staged, options, reason),
            }
        }
        _ => None,
    };
    // 5. The firewall, once the configuration is in: sets swapped atomically, the chain
    // replaced in one transaction.
    let firewall = match firewall_step(host, plan, options, now.as_secs(), state) {
        Ok(changed) => changed,
        Err(e) => {
            return Outcome::Failed {
                reason: format!("the configuration was applied, but the firewall failed: {e}"),
            };
        }
    };
    // 6. What only a restart takes (a transport's new bind): done when asked for.
    let restart = match restart_step(host, plan, options, stale_transports) {
        Ok(restart) => restart,
        Err(e) => {
            return Outcome::Failed {
                reason: format!("the configuration was applied, but {e}"),
            };
        }
    };
    *state = Some(state_record(plan, options, now.as_secs(), true, &restart));
    // A restart may have started Asterisk with another system name: read again.
    let warnings = match (&restart, settings) {
        (Restart::Done, _) | (_, None) => systemname_warning(host, plan, options),
        (_, Some(settings)) => restart::systemname_differs(plan, &settings),
    };
    match restart {
        Restart::Pending(reasons) => Outcome::RestartNeeded { reasons },
        Restart::Done => {
            let mut reloads = reloads;
            reloads.push(RESTART_COMMAND.to_owned());
            Outcome::Applied {
                reloads,
                firewall,
                warnings,
                health,
            }
        }
        Restart::None => Outcome::Applied {
            reloads,
            firewall,
            warnings,
            health,
        },
    }
}

/// The mode of a file astbase creates: readable by Asterisk's group, by nobody else
/// (generated files hold passwords). A file it replaces keeps its own.
const NEW_FILE_MODE: u32 = 0o640;

/// The firewall step; on failure the state is still written (files as applied, the
/// firewall hash as it was) so the next plan shows exactly what is left to do.
fn firewall_step(
    host: &mut Host,
    plan: &ServerPlan,
    options: &ApplyOptions,
    now: u64,
    state: &mut Option<Vec<u8>>,
) -> Result<bool, ApplyError> {
    apply_firewall(host, plan).inspect_err(|_| {
        let pending = Restart::Pending(plan.restart.clone());
        *state = Some(state_record(plan, options, now, false, &pending));
    })
}

/// Runs the firewall script of the plan, if it has one; true if it ran.
fn apply_firewall(host: &mut Host, plan: &ServerPlan) -> Result<bool, ApplyError> {
    let Some(script) = plan.firewall.as_ref().and_then(|f| f.script.as_ref()) else {
        return Ok(false);
    };
    let out = host.script(script)?;
    if out.status != 0 {
        return Err(ApplyError::Firewall(out.stderr_text()));
    }
    Ok(true)
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
        .chain(migration_only(plan).map(|e| paths.temp(&e.base)))
        .collect()
}

/// The migration's edits of base files that get no include line (those that do are
/// written once, edited and with the line).
fn migration_only(plan: &ServerPlan) -> impl Iterator<Item = &crate::plan::BaseEdit> {
    plan.migration
        .iter()
        .flat_map(|m| &m.edits)
        .filter(|e| !plan.includes.iter().any(|i| i.base == e.base))
}

/// What to write and back up, and what that leaves to switch and undo.
/// `bases`: the base files' current contents, in `plan.includes` order.
fn stage(plan: &ServerPlan, paths: &Paths, bases: Vec<FileContent>) -> (Staged, Stage) {
    let mut staged = Staged {
        renames: Vec::new(),
        backed_up: Vec::new(),
        created: Vec::new(),
        removed: Vec::new(),
    };
    let mut backups = Vec::new();
    let mut writes: Vec<StagedWrite> = Vec::new();
    for f in &plan.files {
        match (f.action, f.content.as_deref()) {
            (Action::Create | Action::Change, Some(content)) => {
                writes.push(StagedWrite {
                    path: paths.temp(&f.name),
                    data: content.as_bytes().to_vec(),
                    like: paths.file(&f.name),
                    mode: NEW_FILE_MODE,
                });
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
            (Action::Remove, _) => {
                staged.removed.push(f.name.clone());
                staged.backed_up.push(f.name.clone());
                backups.push((paths.file(&f.name), paths.backup(&f.name)));
            }
            // Unchanged; or created/changed without content, which plan_server never
            // builds (the content is all a plan has to write).
            _ => {}
        }
    }
    // Base files: the only change astbase makes to them is one appended include line,
    // and once, after an import, the removal of the lines the import took.
    let (include_bases, edit_bases) = bases.split_at(plan.includes.len());
    let edits: Vec<(&crate::plan::BaseEdit, &FileContent)> = plan
        .migration
        .iter()
        .flat_map(|m| &m.edits)
        .zip(edit_bases)
        .collect();
    let migrated = |base: &str| -> Option<Vec<u8>> {
        edits.iter().find(|(e, _)| e.base == base).map(|(e, now)| {
            e.apply(&String::from_utf8_lossy(now.as_deref().unwrap_or_default()))
                .into_bytes()
        })
    };
    for (edit, _) in edits
        .iter()
        .filter(|(e, _)| migration_only(plan).any(|m| m.base == e.base))
    {
        writes.push(StagedWrite {
            path: paths.temp(&edit.base),
            data: migrated(&edit.base).unwrap_or_default(),
            like: paths.file(&edit.base),
            mode: NEW_FILE_MODE,
        });
        staged
            .renames
            .push((paths.temp(&edit.base), paths.file(&edit.base)));
        staged.backed_up.push(edit.base.clone());
        backups.push((paths.file(&edit.base), paths.backup(&edit.base)));
    }
    for (include, before) in plan.includes.iter().zip(include_bases) {
        let mut text =
            migrated(&include.base).unwrap_or_else(|| before.clone().unwrap_or_default());
        if !text.is_empty() && !text.ends_with(b"\n") {
            text.push(b'\n');
        }
        text.extend_from_slice(include.line.as_bytes());
        text.push(b'\n');
        writes.push(StagedWrite {
            path: paths.temp(&include.base),
            data: text,
            like: paths.file(&include.base),
            mode: NEW_FILE_MODE,
        });
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
    (
        staged,
        Stage {
            writes,
            copies: backups,
        },
    )
}

fn switch(paths: &Paths, staged: &Staged) -> Switch {
    Switch {
        renames: staged.renames.clone(),
        removals: staged.removed.iter().map(|n| paths.file(n)).collect(),
    }
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
    // Copy the backups next to their files, then switch them back in one script, like
    // the apply itself: a connection lost during the rollback leaves it whole or undone.
    let restore: Vec<(String, String)> = staged
        .backed_up
        .iter()
        .map(|n| (paths.backup(n), paths.temp(n)))
        .collect();
    let renames: Vec<(String, String)> = staged
        .backed_up
        .iter()
        .map(|n| (paths.temp(n), paths.file(n)))
        .collect();
    let mut removals: Vec<String> = staged.created.iter().map(|n| paths.file(n)).collect();
    removals.extend(staged_temps(plan, paths));
    let restored = host.stage_and_switch(
        &Stage {
            writes: Vec::new(),
            copies: restore,
        },
        &Switch { renames, removals },
    );
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

/// The state file's bytes: what the host now runs, by this apply.
fn state_record(
    plan: &ServerPlan,
    options: &ApplyOptions,
    now: u64,
    firewall_applied: bool,
    restart: &Restart,
) -> Vec<u8> {
    let state = State {
        restart_pending: match restart {
            Restart::Pending(reasons) => reasons.clone(),
            Restart::None | Restart::Done => Vec::new(),
        },
        // What the host's firewall now is: the plan's, unless applying it failed.
        firewall: plan
            .firewall
            .as_ref()
            .filter(|f| f.skipped.is_none() && firewall_applied)
            .map(|f| f.hash.clone())
            .or_else(|| plan.recorded_firewall.clone().filter(|_| !firewall_applied)),
        astbase_version: env!("CARGO_PKG_VERSION").to_owned(),
        source: options.source.clone(),
        applied_at: now,
        files: plan
            .files
            .iter()
            .filter_map(|f| f.after.clone().map(|h| (f.name.clone(), h)))
            .collect(),
    };
    state.to_bytes()
}

/// The script that keeps the newest backup generations (in a subshell: it changes
/// directory and its arguments).
fn prune_backups_script(conf_dir: &str) -> String {
    let dir = crate::transport::quote(&format!("{conf_dir}/{STATE_DIR}/backups"));
    // Generation names are time stamps (digits and `-`): sorted, the oldest come first.
    format!(
        "(cd {dir} 2>/dev/null || exit 0\nset -- $(ls -1A | sort)\n\
         while [ $# -gt {KEEP_BACKUPS} ]; do rm -rf -- \"$1\"; shift; done\n)\n"
    )
}

//! Before anything is written: the host must still be as the plan saw it (or already
//! as the plan would make it, when another apply of the same render got there first).

use super::ApplyError;
use crate::plan::{IncludePlan, STATE_DIR, ServerPlan, State, has_include};
use crate::textdiff::hash;

/// A file's bytes on the host, `None` when it does not exist.
pub(super) type FileContent = Option<Vec<u8>>;

/// What the host looks like once we hold its lock.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Freshness {
    /// As it was when the plan was made.
    AsPlanned,
    /// Already what the plan would make it: another apply of the same render got the
    /// lock first (two pipelines, or two people, applying the same commit).
    AlreadyApplied,
}

/// The conf dir's files the check compares, by name: the plan's files, then the base
/// files of its include lines, then those of its migration.
fn compared(plan: &ServerPlan) -> Vec<String> {
    let edits = plan.migration.iter().flat_map(|m| &m.edits);
    let mut names: Vec<String> = plan.files.iter().map(|f| f.name.clone()).collect();
    names.extend(plan.includes.iter().map(|i| i.base.clone()));
    names.extend(edits.map(|e| e.base.clone()));
    names
}

/// The paths [`check_fresh`] needs read on the host (as the lock is taken, in its
/// round trip): the files compared, then the state file.
pub(super) fn files_to_read(plan: &ServerPlan) -> Vec<String> {
    let mut paths: Vec<String> = compared(plan)
        .iter()
        .map(|n| format!("{}/{n}", plan.conf_dir))
        .collect();
    paths.push(format!("{}/{STATE_DIR}/state.json", plan.conf_dir));
    paths
}

/// Judges the host from `current`, the contents of [`files_to_read`]. Also returns the
/// base files' current contents (stage appends to them, and removes a migration's
/// lines): those of the include lines, then those of the migration.
pub(super) fn check_fresh(
    plan: &ServerPlan,
    mut current: Vec<FileContent>,
) -> Result<(Freshness, Vec<FileContent>), ApplyError> {
    let edits: Vec<&crate::plan::BaseEdit> = plan.migration.iter().flat_map(|m| &m.edits).collect();
    let names = compared(plan);
    let state = current
        .pop()
        .flatten()
        .and_then(|bytes| State::parse(&bytes).ok());
    let (files_now, bases_now) = current.split_at(plan.files.len());
    // The first file that is no longer what the plan saw, if any.
    let changed = names
        .iter()
        .zip(
            plan.files
                .iter()
                .map(|f| f.before.clone())
                .chain(plan.includes.iter().map(|i| i.before.clone()))
                .chain(edits.iter().map(|e| Some(e.before.clone()))),
        )
        .zip(&current)
        .find(|((_, before), now)| now.as_deref().map(hash) != *before)
        .map(|((name, _), _)| name.as_str());
    let Some(changed) = changed else {
        return Ok((Freshness::AsPlanned, bases_now.to_vec()));
    };
    // A migration still to make means the base files are not as an apply leaves them.
    let already_applied = edits.is_empty()
        && plan
            .files
            .iter()
            .zip(files_now)
            .all(|(f, now)| now.as_deref().map(hash) == f.after)
        && plan.includes.iter().zip(bases_now).all(|(i, now)| {
            now.as_deref()
                .is_some_and(|b| has_include(&String::from_utf8_lossy(b), &include_target(i)))
        });
    // Only if that apply also finished (reloaded, verified, recorded): files switched
    // by an apply that was then cut off still need their reload.
    let recorded = state.is_some_and(|state| {
        plan.files
            .iter()
            .all(|f| f.after.is_none() || state.files.get(&f.name) == f.after.as_ref())
    });
    if already_applied && recorded {
        return Ok((Freshness::AlreadyApplied, bases_now.to_vec()));
    }
    if already_applied {
        return Ok((Freshness::AsPlanned, bases_now.to_vec()));
    }
    Err(ApplyError::Stale(format!(
        "{changed} on {} changed since the plan was made; plan again",
        plan.host
    )))
}

/// The file an include line names (`#tryinclude pjsip_odoo.conf` → `pjsip_odoo.conf`).
fn include_target(include: &IncludePlan) -> String {
    include
        .line
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .trim_matches('"')
        .to_owned()
}

//! After a reload, ask Asterisk what it actually loaded: a successful reload reply does
//! not prove the configuration applied (res_pjsip reports success even for a file it
//! rejected, and a rejected dialplan keeps the old one).

use super::{ApplyError, ApplyOptions};
use crate::conf;
use crate::plan::{Action, ServerPlan};
use crate::render::kind::{ConfKind, LoadCheck};
use crate::transport::Host;

/// Sections of `new` that are new or differ from `old` (by name and type).
fn changed_sections<'a>(
    new: &'a conf::ConfFile,
    old: Option<&conf::ConfFile>,
) -> Vec<&'a conf::Section> {
    new.sections
        .iter()
        .filter(|s| {
            let same = old.is_some_and(|old| {
                old.sections
                    .iter()
                    .any(|o| o.name == s.name && o.get("type") == s.get("type") && o.vars == s.vars)
            });
            !same
        })
        .collect()
}

/// Checks that the contexts, endpoints and queues that changed are what Asterisk loaded.
pub fn loaded(
    host: &mut Host,
    plan: &ServerPlan,
    options: &ApplyOptions,
) -> Result<(), ApplyError> {
    let mut checks: Vec<LoadCheck> = Vec::new();
    for f in plan
        .files
        .iter()
        .filter(|f| matches!(f.action, Action::Create | Action::Change))
    {
        let Some(content) = f.content.as_deref() else {
            continue;
        };
        let parsed = conf::parse(content);
        let old = f.previous.as_deref().map(conf::parse);
        let changed = changed_sections(&parsed, old.as_ref());
        let Some(kind) = ConfKind::of_file(&f.name) else {
            continue;
        };
        checks.extend(
            changed
                .iter()
                .filter_map(|s| kind.load_check(&s.name, s.get("type"))),
        );
    }
    // All checks in one round trip: a server with many changed endpoints stays fast.
    let argv: Vec<Vec<String>> = checks
        .iter()
        .map(|check| options.cli_command(&check.command))
        .collect();
    let results = host.commands(&argv)?;
    for (check, (status, output)) in checks.iter().zip(results) {
        let text = output.to_ascii_lowercase();
        if status != 0 || text.trim().is_empty() || check.missing.iter().any(|b| text.contains(b)) {
            return Err(ApplyError::Verify(format!(
                "Asterisk did not load what was written: `{}` says {}",
                check.command,
                output.trim()
            )));
        }
    }
    Ok(())
}

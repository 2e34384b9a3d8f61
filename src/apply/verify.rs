//! After a reload, ask Asterisk what it actually loaded: a successful reload reply does
//! not prove the configuration applied (res_pjsip reports success even for a file it
//! rejected, and a rejected dialplan keeps the old one).

use super::{ApplyError, ApplyOptions};
use crate::conf;
use crate::plan::{Action, ServerPlan};
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
    let mut checks: Vec<(String, &'static [&'static str])> = Vec::new();
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
        let stem = f.name.split('_').next().unwrap_or("");
        match stem {
            "extensions" => {
                for s in &changed {
                    checks.push((
                        format!("dialplan show {}", s.name),
                        &["there is no existence", "no such"],
                    ));
                }
            }
            "pjsip" => {
                for s in changed.iter().filter(|s| s.get("type") == Some("endpoint")) {
                    checks.push((
                        format!("pjsip show endpoint {}", s.name),
                        &["unable to find object"],
                    ));
                }
            }
            "queues" => {
                for s in &changed {
                    checks.push((format!("queue show {}", s.name), &["no such queue"]));
                }
            }
            _ => {}
        }
    }
    // All checks in one round trip: a server with many changed endpoints stays fast.
    let argv: Vec<Vec<String>> = checks
        .iter()
        .map(|(command, _)| options.cli_command(command))
        .collect();
    let results = host.commands(&argv)?;
    for ((command, bad), (status, output)) in checks.iter().zip(results) {
        let text = output.to_ascii_lowercase();
        if status != 0 || text.trim().is_empty() || bad.iter().any(|b| text.contains(b)) {
            return Err(ApplyError::Verify(format!(
                "Asterisk did not load what was written: `{command}` says {}",
                output.trim()
            )));
        }
    }
    Ok(())
}

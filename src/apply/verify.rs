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

/// What to ask Asterisk after a reload: the contexts, endpoints and queues that changed.
pub fn checks(plan: &ServerPlan) -> Vec<LoadCheck> {
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
    checks
}

/// The commands of the checks, all run in one round trip (a server with many changed
/// endpoints stays fast), with the reloads.
pub fn commands(checks: &[LoadCheck], options: &ApplyOptions) -> Vec<Vec<String>> {
    checks
        .iter()
        .map(|check| options.cli_command(&check.command))
        .collect()
}

/// Whether Asterisk loaded what was written, from the checks' results.
pub fn loaded(checks: &[LoadCheck], results: Vec<(i32, String)>) -> Result<(), ApplyError> {
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

/// The transports of the plan's PJSIP file that Asterisk runs with another bind or
/// protocol than the file says (res_pjsip does not reload a transport: only a restart
/// takes the change), each as what a person reads.
pub fn transports_not_live(
    host: &mut Host,
    plan: &ServerPlan,
    options: &ApplyOptions,
) -> Result<Vec<String>, ApplyError> {
    let Some(content) = plan
        .files
        .iter()
        .find(|f| ConfKind::of_file(&f.name) == Some(ConfKind::Pjsip))
        .and_then(|f| f.content.as_deref())
    else {
        return Ok(Vec::new());
    };
    let wanted: Vec<(String, String, String)> = conf::parse(content)
        .sections
        .iter()
        .filter(|s| s.get("type") == Some("transport"))
        .map(|s| {
            let get = |k| s.get(k).unwrap_or("").to_owned();
            (s.name.clone(), get("bind"), get("protocol"))
        })
        .collect();
    let argv: Vec<Vec<String>> = wanted
        .iter()
        .map(|(name, ..)| options.cli_command(&format!("pjsip show transport {name}")))
        .collect();
    let results = host.commands(&argv)?;
    let mut stale = Vec::new();
    for ((name, bind, protocol), (_, output)) in wanted.iter().zip(results) {
        // `pjsip show transport` lists ` bind  : 0.0.0.0:5060` and ` protocol : udp`.
        let value = |key: &str| {
            output.lines().find_map(|l| {
                let (k, v) = l.split_once(':')?;
                (k.trim() == key).then(|| v.trim().to_owned())
            })
        };
        let (live_bind, live_protocol) = (value("bind"), value("protocol"));
        if live_bind.as_deref() != Some(bind.as_str()) {
            stale.push(format!(
                "transport {name} runs on {} (the file says {bind})",
                live_bind.as_deref().unwrap_or("nothing")
            ));
        } else if live_protocol.as_deref() != Some(protocol.as_str()) {
            stale.push(format!(
                "transport {name} runs {} (the file says {protocol})",
                live_protocol.as_deref().unwrap_or("nothing")
            ));
        }
    }
    Ok(stale)
}

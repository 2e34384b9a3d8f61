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

/// The command that lists every PJSIP endpoint Asterisk holds.
const LIST_ENDPOINTS: &str = "pjsip show endpoints";

/// The command that shows the dialplan's contexts: all of them, or the only one asked.
fn contexts_command(checks: &[LoadCheck]) -> Option<String> {
    let mut contexts = checks.iter().filter_map(|c| match c {
        LoadCheck::Context(name) => Some(name),
        _ => None,
    });
    let first = contexts.next()?;
    Some(match contexts.next() {
        None => format!("dialplan show {first}"),
        Some(_) => "dialplan show".to_owned(),
    })
}

/// The commands of the checks, all run in one round trip (a server with many changed
/// objects stays fast) with the reloads: one per shown section, then one listing for all
/// the contexts and one for all the endpoints (each command is an `asterisk -rx`
/// process on the host).
pub fn commands(checks: &[LoadCheck], options: &ApplyOptions) -> Vec<Vec<String>> {
    let mut commands: Vec<Vec<String>> = checks
        .iter()
        .filter_map(|check| match check {
            LoadCheck::Show { command, .. } => Some(options.cli_command(command)),
            LoadCheck::Endpoint(_) | LoadCheck::Context(_) => None,
        })
        .collect();
    if let Some(command) = contexts_command(checks) {
        commands.push(options.cli_command(&command));
    }
    if checks.iter().any(|c| matches!(c, LoadCheck::Endpoint(_))) {
        commands.push(options.cli_command(LIST_ENDPOINTS));
    }
    commands
}

/// Whether Asterisk loaded what was written, from the results of [`commands`].
pub fn loaded(checks: &[LoadCheck], results: Vec<(i32, String)>) -> Result<(), ApplyError> {
    let mut results = results.into_iter();
    let not_loaded = |command: &str, says: &str| {
        ApplyError::Verify(format!(
            "Asterisk did not load what was written: `{command}` says {says}"
        ))
    };
    for check in checks {
        let LoadCheck::Show { command, missing } = check else {
            continue;
        };
        let (status, output) = results.next().unwrap_or((1, String::new()));
        let text = output.to_ascii_lowercase();
        if status != 0 || text.trim().is_empty() || missing.iter().any(|b| text.contains(b)) {
            return Err(not_loaded(command, output.trim()));
        }
    }
    if let Some(command) = contexts_command(checks) {
        let (status, output) = results.next().unwrap_or((1, String::new()));
        let listed = listed_contexts(&output);
        let absent: Vec<&str> = checks
            .iter()
            .filter_map(|c| match c {
                LoadCheck::Context(name) if !listed.contains(name.as_str()) => Some(name.as_str()),
                _ => None,
            })
            .collect();
        if !absent.is_empty() {
            return Err(not_loaded(
                &command,
                &format!("nothing of context {}", absent.join(", ")),
            ));
        }
        // `asterisk -rx` exits 0 whatever the command did; a status is the transport's.
        if status != 0 {
            return Err(not_loaded(&command, output.trim()));
        }
    }
    let wanted: Vec<&str> = checks
        .iter()
        .filter_map(|c| match c {
            LoadCheck::Endpoint(id) => Some(id.as_str()),
            LoadCheck::Show { .. } | LoadCheck::Context(_) => None,
        })
        .collect();
    if wanted.is_empty() {
        return Ok(());
    }
    let (status, output) = results.next().unwrap_or((1, String::new()));
    let listed = listed_endpoints(&output);
    let absent: Vec<&str> = wanted
        .into_iter()
        .filter(|id| !listed.contains(id))
        .collect();
    if status != 0 || !absent.is_empty() {
        return Err(not_loaded(
            LIST_ENDPOINTS,
            &format!("nothing of endpoint {}", absent.join(", ")),
        ));
    }
    Ok(())
}

/// The context names in a `dialplan show` listing: each `[ Context 'NAME' created by
/// 'REGISTRAR' ]` header (printed even for a context with no extension).
fn listed_contexts(output: &str) -> std::collections::HashSet<&str> {
    output
        .lines()
        .filter_map(|l| l.strip_prefix("[ Context '"))
        .filter_map(|rest| rest.split_once("' created by '"))
        .map(|(name, _)| name)
        .collect()
}

/// The endpoint ids in a `pjsip show endpoints` listing: each ` Endpoint:  ID/CID ...`
/// line (the legend's `<Endpoint/CID...>` is not an id).
fn listed_endpoints(output: &str) -> std::collections::HashSet<&str> {
    output
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("Endpoint:"))
        .filter_map(|rest| rest.split_whitespace().next())
        .filter(|word| !word.starts_with('<'))
        .map(|word| word.split('/').next().unwrap_or(word))
        .collect()
}

/// A PJSIP transport of the plan's file: what Asterisk should run it with.
pub struct TransportCheck {
    name: String,
    bind: String,
    protocol: String,
}

/// The transports of the plan's PJSIP file.
pub fn transport_checks(plan: &ServerPlan) -> Vec<TransportCheck> {
    let Some(content) = plan
        .files
        .iter()
        .find(|f| ConfKind::of_file(&f.name) == Some(ConfKind::Pjsip))
        .and_then(|f| f.content.as_deref())
    else {
        return Vec::new();
    };
    conf::parse(content)
        .sections
        .iter()
        .filter(|s| s.get("type") == Some("transport"))
        .map(|s| {
            let get = |k| s.get(k).unwrap_or("").to_owned();
            TransportCheck {
                name: s.name.clone(),
                bind: get("bind"),
                protocol: get("protocol"),
            }
        })
        .collect()
}

/// The commands that show what each transport runs with, one per transport.
pub fn transport_commands(checks: &[TransportCheck], options: &ApplyOptions) -> Vec<Vec<String>> {
    checks
        .iter()
        .map(|c| options.cli_command(&format!("pjsip show transport {}", c.name)))
        .collect()
}

/// The transports that Asterisk runs with another bind or protocol than the file says
/// (res_pjsip does not reload a transport: only a restart takes the change), each as
/// what a person reads, from the results of [`transport_commands`].
pub fn stale_transports(checks: &[TransportCheck], results: Vec<(i32, String)>) -> Vec<String> {
    let mut stale = Vec::new();
    for (check, (_, output)) in checks.iter().zip(results) {
        let TransportCheck {
            name,
            bind,
            protocol,
        } = check;
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
    stale
}

/// The transports Asterisk runs otherwise than the plan's PJSIP file says, asked in a
/// round trip of their own (none when the file has no transport).
pub fn transports_not_live(
    host: &mut Host,
    plan: &ServerPlan,
    options: &ApplyOptions,
) -> Result<Vec<String>, ApplyError> {
    let checks = transport_checks(plan);
    let results = host.commands(&transport_commands(&checks, options))?;
    Ok(stale_transports(&checks, results))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `pjsip show endpoints` as Asterisk 22 printed it (../shared/fixtures/ami).
    const LISTING: &str = "
 Endpoint:  <Endpoint/CID.....................................>  <State.....>  <Channels.>
    I/OAuth:  <AuthId/UserName...........................................................>
==========================================================================================

 Endpoint:  101/101                                              In use        1 of inf
     InAuth:  101/101
        Aor:  101                                                1

 Endpoint:  102/102                                              In use        1 of inf
     InAuth:  102/102

Objects found: 2
";

    #[test]
    fn the_endpoints_of_a_listing_are_its_endpoint_lines_ids_not_the_legend() {
        let mut ids: Vec<&str> = listed_endpoints(LISTING).into_iter().collect();
        ids.sort();
        assert_eq!(ids, vec!["101", "102"]);
    }

    fn options() -> ApplyOptions {
        ApplyOptions {
            cli: vec!["asterisk".into(), "-rx".into()],
            lock_timeout: std::time::Duration::ZERO,
            source: String::new(),
            owner: String::new(),
            restart: false,
            gate: None,
        }
    }

    /// `dialplan show` as Asterisk 22 prints it: contexts of other modules too.
    const DIALPLAN: &str = "[ Context 'odoo-phones' created by 'pbx_config' ]
  '101' =>          1. Dial(PJSIP/101,30)                         [extensions_odoo.conf:12]

[ Context 'odoo-dnd' created by 'pbx_config' ]

[ Context 'parkedcalls' created by 'res_parking' ]
  '700' =>          1. Park()                                     [res_parking]

-= 2 extensions (2 priorities) in 3 contexts. =-
";

    #[test]
    fn several_contexts_are_looked_for_in_one_listing_and_a_missing_one_is_named() {
        let checks = vec![
            LoadCheck::Context("odoo-phones".into()),
            LoadCheck::Context("odoo-dnd".into()),
            LoadCheck::Context("odoo-forward".into()),
        ];
        let options = options();
        let commands = commands(&checks, &options);
        assert_eq!(commands, vec![options.cli_command("dialplan show")]);
        let err = loaded(&checks, vec![(0, DIALPLAN.to_owned())]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Asterisk did not load what was written: `dialplan show` says nothing of context odoo-forward"
        );
        assert!(loaded(&checks[..2], vec![(0, DIALPLAN.to_owned())]).is_ok());
    }

    #[test]
    fn a_single_context_is_shown_by_name_and_its_absence_is_an_error() {
        let checks = vec![LoadCheck::Context("odoo-phones".into())];
        let options = options();
        assert_eq!(
            commands(&checks, &options),
            vec![options.cli_command("dialplan show odoo-phones")]
        );
        let err = loaded(
            &checks,
            vec![(0, "There is no existence of 'odoo-phones' context\n".into())],
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Asterisk did not load what was written: `dialplan show odoo-phones` says nothing of context odoo-phones"
        );
    }

    #[test]
    fn an_endpoint_missing_from_the_listing_fails_the_verification_by_name() {
        let checks = vec![
            LoadCheck::Endpoint("101".into()),
            LoadCheck::Endpoint("103".into()),
        ];
        let err = loaded(&checks, vec![(0, LISTING.to_owned())]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Asterisk did not load what was written: `pjsip show endpoints` says nothing of endpoint 103"
        );
        let found = vec![LoadCheck::Endpoint("102".into())];
        assert!(loaded(&found, vec![(0, LISTING.to_owned())]).is_ok());
    }
}

//! `astbase apply`: carry out the plan on every server in scope.

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;
use std::time::Duration;

use astbase::apply::{ApplyOptions, Outcome, apply_server};
use astbase::plan::{SavedPlan, report};

use super::plan::prepare;
use super::{CliError, CommandResult, Printer, exit};
use crate::cli::ApplyArgs;

pub fn run(args: &ApplyArgs, printer: &Printer) -> CommandResult {
    let super::plan::Prepared {
        plan,
        targets,
        uncommitted,
    } = prepare(&args.scope, printer)?;
    if !uncommitted.is_empty() {
        let list = uncommitted
            .iter()
            .take(5)
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(", ");
        let more = uncommitted.len().saturating_sub(5);
        let what = format!(
            "the working tree has uncommitted changes ({list}{}): what is applied is not in git",
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        );
        if args.require_clean {
            return Err(CliError::new(what)
                .with_hint("commit them, or apply a committed revision with --rev"));
        }
        printer.warning(&what);
    }
    if let Some(path) = &args.plan {
        let text = std::fs::read_to_string(path).map_err(|e| CliError::io("read", path, e))?;
        let saved = SavedPlan::parse(&text).map_err(|e| {
            CliError::new(format!("{} is not a saved plan: {e}", path.display()))
                .caused_by(&e)
                .with_hint("save one with `astbase plan --out FILE`")
        })?;
        saved.check_against(&plan).map_err(|e| {
            CliError::new(format!("the saved plan is stale: {e}"))
                .with_hint("make a new plan with `astbase plan --out FILE`")
        })?;
    } else {
        printer.out(&report::text(&plan, printer.stdout_color()))?;
    }
    // A server that could not be planned is reported unreachable at the end; the
    // others are applied all the same (one PBX being down must not block the fleet).
    if !plan.has_changes() && !plan.has_errors() {
        printer.out("No changes.\n")?;
        return Ok(ExitCode::from(exit::OK));
    }
    if args.plan.is_none() && !args.auto_approve {
        confirm(
            plan.servers.iter().filter(|s| s.has_changes()).count(),
            printer,
        )?;
    }
    let options = ApplyOptions {
        cli: Vec::new(),
        lock_timeout: Duration::from_secs(args.lock_timeout),
        source: plan.source.clone(),
        owner: owner(),
        restart: args.restart,
    };
    let progress = printer.progress(
        plan.servers.len(),
        "{spinner} applying [{bar:30}] {pos}/{len} hosts {elapsed} {msg}",
    );
    let work: Vec<_> = plan.servers.iter().zip(targets).collect();
    let work: Vec<_> = work.into_iter().map(std::sync::Mutex::new).collect();
    let outcomes = astbase::parallel::map_with(&work, args.scope.parallelism, |cell| {
        let mut guard = cell.lock().expect("each cell is used once");
        let (server_plan, target) = &mut *guard;
        // A server whose plan is an error (a refused firewall change, ...) is not
        // touched, even though it is reachable.
        if let (Some(error), Some(_)) = (&server_plan.error, target.as_ref()) {
            let outcome = Outcome::Failed {
                reason: format!("not applied: {error}"),
            };
            progress.done(&server_plan.server);
            return (server_plan.server.clone(), outcome);
        }
        let Some(target) = target.as_mut() else {
            let outcome = Outcome::Unreachable {
                reason: server_plan
                    .error
                    .clone()
                    .unwrap_or_else(|| "no connection".into()),
            };
            progress.done(&server_plan.server);
            return (server_plan.server.clone(), outcome);
        };
        let options = ApplyOptions {
            cli: target.cli.clone(),
            ..options.clone()
        };
        let outcome = apply_server(&mut target.host, server_plan, &options);
        progress.done(&server_plan.server);
        (server_plan.server.clone(), outcome)
    });
    progress.finish();
    let mut summary = String::new();
    for (server, outcome) in &outcomes {
        summary.push_str(&format!("{server}: {}\n", describe(outcome)));
    }
    let failed = outcomes.iter().filter(|(_, o)| o.is_failure()).count();
    summary.push_str(&format!(
        "Apply: {} applied, {} unchanged, {failed} failed or unreachable.\n",
        outcomes
            .iter()
            .filter(|(_, o)| matches!(o, Outcome::Applied { .. }))
            .count(),
        outcomes
            .iter()
            .filter(|(_, o)| matches!(o, Outcome::Unchanged))
            .count(),
    ));
    printer.out(&summary)?;
    Ok(ExitCode::from(if failed > 0 {
        exit::ERROR
    } else {
        exit::OK
    }))
}

fn describe(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Applied {
            reloads,
            firewall,
            warnings,
        } => {
            let mut parts = reloads.clone();
            if *firewall {
                parts.push("firewall updated".into());
            }
            let mut text = if parts.is_empty() {
                "applied".to_owned()
            } else {
                format!("applied ({})", parts.join(", "))
            };
            for w in warnings {
                text.push_str(&format!("; warning: {w}"));
            }
            text
        }
        Outcome::Unchanged => "unchanged".into(),
        Outcome::RestartNeeded { reasons } => format!(
            "restart needed: applied and reloaded, but {}; Asterisk keeps the old one until it restarts: run `astbase apply --restart`",
            reasons.join("; ")
        ),
        Outcome::RolledBack { reason } => format!("rolled back: {reason}"),
        Outcome::Failed { reason } => format!("failed: {reason}"),
        Outcome::Unreachable { reason } => format!("unreachable: {reason}"),
    }
}

fn confirm(servers: usize, printer: &Printer) -> Result<(), CliError> {
    if !std::io::stdin().is_terminal() {
        return Err(CliError::new("refusing to apply without confirmation")
            .with_hint("run on a terminal to confirm, or pass --auto-approve (CI)"));
    }
    printer.prompt(&format!(
        "Apply these changes to {servers} server(s)? Only 'yes' is accepted: "
    ));
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    if answer.trim() != "yes" {
        return Err(CliError::new("apply cancelled"));
    }
    Ok(())
}

fn owner() -> String {
    let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    let machine = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
    format!("{user}@{} pid {}", machine.trim(), std::process::id())
}

//! `astbase apply`: carry out the plan on every server in scope.

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;
use std::time::Duration;

use astbase::apply::{ApplyOptions, GateSettings, Outcome, apply_server};
use astbase::model::rollout::{
    DEFAULT_MAX_CHANNELS_FOR_TEST_CALL, DEFAULT_MAX_PHONE_DROP_PERCENT, DEFAULT_SETTLE, Rollout,
    WaveSize,
};
use astbase::plan::{Plan, SavedPlan, ServerPlan, report};
use astbase::transport::Target;

use super::plan::prepare;
use super::{CliError, CommandResult, Printer, exit};
use crate::cli::ApplyArgs;

pub fn run(args: &ApplyArgs, printer: &Printer) -> CommandResult {
    let super::plan::Prepared {
        plan,
        targets,
        uncommitted,
        rollout,
        root,
    } = prepare(&args.scope, printer)?;
    let rollout = &rollout;
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
        // A migration an earlier apply made, whose record still says pending.
        let done: Vec<&str> = plan.servers.iter().map(|s| s.server.as_str()).collect();
        mark_migrations_done(&root, &plan, &done, printer)?;
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
        gate: (args.gate || rollout.gate.enabled).then(|| GateSettings {
            settle: Duration::from_secs(u64::from(rollout.gate.settle.unwrap_or(DEFAULT_SETTLE))),
            max_phone_drop_percent: rollout
                .gate
                .max_phone_drop_percent
                .unwrap_or(DEFAULT_MAX_PHONE_DROP_PERCENT),
            max_channels_for_test_call: rollout
                .gate
                .max_channels_for_test_call
                .unwrap_or(DEFAULT_MAX_CHANNELS_FOR_TEST_CALL)
                as usize,
        }),
    };
    let waves = waves(args, rollout, &plan)?;
    let max_failures = max_failures(args, rollout, plan.servers.len())?;
    let progress = printer.progress(
        plan.servers.len(),
        "{spinner} applying [{bar:30}] {pos}/{len} hosts {elapsed} {msg}",
    );
    let mut cells: Vec<Option<(&ServerPlan, Option<Target>)>> =
        plan.servers.iter().zip(targets).map(Some).collect();
    let mut outcomes: Vec<(String, Outcome)> = Vec::new();
    let mut not_started: Vec<String> = Vec::new();
    let mut stopped = false;
    for (i, wave) in waves.iter().enumerate() {
        if stopped {
            not_started.extend(wave.iter().map(|&k| plan.servers[k].server.clone()));
            continue;
        }
        let work: Vec<_> = wave
            .iter()
            .map(|&k| std::sync::Mutex::new(cells[k].take().expect("each server is in one wave")))
            .collect();
        let done = astbase::parallel::map_with(&work, args.scope.parallelism, |cell| {
            let mut guard = cell.lock().expect("each cell is used once");
            let (server_plan, target) = &mut *guard;
            let outcome = apply_one(server_plan, target.as_mut(), &options);
            progress.done(&server_plan.server);
            (server_plan.server.clone(), outcome)
        });
        outcomes.extend(done);
        let failed = outcomes.iter().filter(|(_, o)| o.is_failure()).count();
        if failed > max_failures && i + 1 < waves.len() {
            stopped = true;
        }
    }
    progress.finish();
    let mut summary = String::new();
    for (server, outcome) in &outcomes {
        summary.push_str(&format!("{server}: {}\n", describe(outcome)));
    }
    for server in &not_started {
        summary.push_str(&format!("{server}: not started (the rollout stopped)\n"));
    }
    let failed = outcomes.iter().filter(|(_, o)| o.is_failure()).count();
    summary.push_str(&format!(
        "Apply: {} applied, {} unchanged, {failed} failed or unreachable",
        outcomes
            .iter()
            .filter(|(_, o)| matches!(o, Outcome::Applied { .. }))
            .count(),
        outcomes
            .iter()
            .filter(|(_, o)| matches!(o, Outcome::Unchanged))
            .count(),
    ));
    if stopped {
        summary.push_str(&format!(
            ", {} not started: the rollout stopped after {failed} failure(s) (--max-failures {max_failures})",
            not_started.len()
        ));
    }
    summary.push_str(".\n");
    printer.out(&summary)?;
    let succeeded: Vec<&str> = outcomes
        .iter()
        .filter(|(_, o)| matches!(o, Outcome::Applied { .. } | Outcome::Unchanged))
        .map(|(s, _)| s.as_str())
        .collect();
    mark_migrations_done(&root, &plan, &succeeded, printer)?;
    Ok(ExitCode::from(if stopped {
        exit::STOPPED
    } else if failed > 0 {
        exit::ERROR
    } else {
        exit::OK
    }))
}

/// Applies one server (a server whose plan is an error, or that could not be reached,
/// is reported and not touched).
fn apply_one(plan: &ServerPlan, target: Option<&mut Target>, options: &ApplyOptions) -> Outcome {
    // A refused firewall change or a plan over a limit: reachable, but not touched.
    if let (Some(error), Some(_)) = (&plan.error, target.as_ref()) {
        return Outcome::Failed {
            reason: format!("not applied: {error}"),
        };
    }
    let Some(target) = target else {
        return Outcome::Unreachable {
            reason: plan.error.clone().unwrap_or_else(|| "no connection".into()),
        };
    };
    let options = ApplyOptions {
        cli: target.cli.clone(),
        ..options.clone()
    };
    apply_server(&mut target.host, plan, &options)
}

/// The waves: indexes into the plan's servers. Servers with nothing to change go in
/// the last wave (they do nothing a canary would show).
fn waves(args: &ApplyArgs, rollout: &Rollout, plan: &Plan) -> Result<Vec<Vec<usize>>, CliError> {
    let sizes: Vec<WaveSize> = if args.waves.is_empty() {
        rollout.waves.clone()
    } else {
        args.waves
            .iter()
            .map(|w| WaveSize(w.trim().to_owned()))
            .collect()
    };
    for w in &sizes {
        let ok = w.0 == "rest"
            || w.0
                .strip_suffix('%')
                .unwrap_or(&w.0)
                .parse::<u32>()
                .is_ok_and(|n| n > 0);
        if !ok {
            return Err(
                CliError::new(format!("--waves {}: not a wave size", w.0)).with_hint(
                    "a count (1), a share of the servers (10%) or rest, e.g. --waves 1,10%,rest",
                ),
            );
        }
    }
    let (changing, idle): (Vec<usize>, Vec<usize>) = (0..plan.servers.len())
        .partition(|&i| plan.servers[i].has_changes() || plan.servers[i].error.is_some());
    let total = changing.len();
    let mut rest = changing.into_iter();
    let mut waves: Vec<Vec<usize>> = Vec::new();
    for w in &sizes {
        let wave: Vec<usize> = rest.by_ref().take(w.count(total)).collect();
        if !wave.is_empty() {
            waves.push(wave);
        }
    }
    let mut last: Vec<usize> = rest.collect();
    last.extend(idle);
    if !last.is_empty() {
        waves.push(last);
    }
    Ok(waves)
}

fn max_failures(args: &ApplyArgs, rollout: &Rollout, total: usize) -> Result<usize, CliError> {
    let Some(text) = args
        .max_failures
        .clone()
        .or_else(|| rollout.max_failures.as_ref().map(|m| m.0.clone()))
    else {
        return Ok(0);
    };
    let bad = || {
        CliError::new(format!("--max-failures {text}: not a count"))
            .with_hint("a count (2) or a share of the servers (10%)")
    };
    match text.strip_suffix('%') {
        Some(p) => Ok(total * p.parse::<usize>().map_err(|_| bad())? / 100),
        None => text.parse().map_err(|_| bad()),
    }
}

fn describe(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Applied {
            reloads,
            firewall,
            warnings,
            health,
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
            if let Some(h) = health {
                text.push_str(&format!("; health: {h}"));
            }
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

/// Marks the migration record of each server in `servers` done (its lines are out of
/// the base files now): later plans never touch base files again.
fn mark_migrations_done(
    root: &std::path::Path,
    plan: &astbase::plan::Plan,
    servers: &[&str],
    printer: &Printer,
) -> Result<(), CliError> {
    use astbase::import::record::{self, Migration, MigrationStatus};
    for s in plan
        .servers
        .iter()
        .filter(|s| s.migration.is_some() && servers.contains(&s.server.as_str()))
    {
        let path = record::record_path(root, &s.server);
        let text = std::fs::read_to_string(&path).map_err(|e| CliError::io("read", &path, e))?;
        let mut migration = Migration::parse(&text).map_err(|e| {
            CliError::new(format!("{} is not a migration record: {e}", path.display()))
                .caused_by(&e)
        })?;
        migration.status = MigrationStatus::Done;
        std::fs::write(&path, migration.json()).map_err(|e| CliError::io("write", &path, e))?;
        printer.info(&format!(
            "{}: the migration is done; {} is marked done (commit it)",
            s.server,
            path.display()
        ));
    }
    Ok(())
}

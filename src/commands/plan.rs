//! `astbase plan`: render, read each server, show what would change.

use std::process::ExitCode;

use astbase::plan::{Plan, plan_fleet, report};
use astbase::render::{SecretSource, render_fleet};
use astbase::transport::{ConnectOptions, Target};

use super::{CliError, CommandResult, Printer, check_server_names, exit, load_valid};
use crate::cli::{PlanArgs, PlanFormat, ScopeArgs};

/// A plan, the open connections to its servers (in plan order; `None` where a server
/// could not be reached), and the uncommitted files of the working tree.
pub struct Prepared {
    pub plan: Plan,
    pub targets: Vec<Option<Target>>,
    pub uncommitted: Vec<String>,
}

/// Validates, renders and plans the servers in scope.
pub fn prepare(scope: &ScopeArgs, printer: &Printer) -> Result<Prepared, CliError> {
    let loaded = load_valid(&scope.repo, printer)?;
    let report = &loaded.report;
    let fleet = &report.fleet;
    check_server_names(fleet, scope.servers.iter().chain(&scope.exclude))?;
    let selected: Vec<String> = fleet
        .servers
        .iter()
        .map(|s| s.name.to_string())
        .filter(|n| scope.servers.is_empty() || scope.servers.contains(n))
        .filter(|n| !scope.exclude.contains(n))
        .collect();
    if selected.is_empty() {
        return Err(CliError::new("no server selected").with_hint("check --server and --exclude"));
    }
    let root = &report.sources.root;
    let options = loaded.render_options(selected, SecretSource::from_env(root))?;
    let outputs = render_fleet(fleet, &report.sources, &options)?;
    let mut connect = ConnectOptions::defaults();
    if let Some(file) = scope
        .known_hosts
        .clone()
        .or_else(|| fleet.project.known_hosts.as_ref().map(|k| root.join(k)))
    {
        connect.known_hosts = file;
    }
    connect.accept_new_host_keys = scope.accept_new_host_keys;
    let (plan, targets) = plan_fleet(
        fleet,
        root,
        outputs,
        &options.source_label,
        scope.parallelism,
        &connect,
        scope.force,
    );
    Ok(Prepared {
        plan,
        targets,
        uncommitted: loaded.uncommitted.clone(),
    })
}

pub fn run(args: &PlanArgs, printer: &Printer) -> CommandResult {
    let plan = prepare(&args.scope, printer)?.plan;
    let text = match args.format {
        PlanFormat::Text => report::text(&plan, printer.stdout_color()),
        PlanFormat::Markdown => report::markdown(&plan),
        PlanFormat::Json => report::json(&plan),
    };
    printer.out(&text)?;
    if let Some(path) = &args.out {
        let saved = serde_json::to_string_pretty(&plan).expect("plan serializes") + "\n";
        std::fs::write(path, saved).map_err(|e| CliError::io("write", path, e))?;
        printer.info(&format!(
            "plan saved to {}; apply it with `astbase apply {}`",
            path.display(),
            path.display()
        ));
    }
    let code = if plan.has_errors() {
        exit::ERROR
    } else if args.detailed_exitcode && plan.has_changes() {
        exit::CHANGES
    } else {
        exit::OK
    };
    Ok(ExitCode::from(code))
}

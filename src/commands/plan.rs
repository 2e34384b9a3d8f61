//! `astbase plan`: render, read each server, show what would change.

use std::process::ExitCode;

use astbase::plan::{Plan, PlanOptions, plan_fleet, report};
use astbase::render::{SecretSource, render_fleet};
use astbase::transport::{ConnectOptions, Target};

use std::collections::BTreeMap;

use super::{CliError, CommandResult, Printer, Which, exit, load_from, load_valid, select_servers};
use crate::cli::{PlanArgs, PlanFormat, ScopeArgs};

/// A plan, the open connections to its servers (in plan order; `None` where a server
/// could not be reached), and the uncommitted files of the working tree.
pub struct Prepared {
    pub plan: Plan,
    pub targets: Vec<Option<Target>>,
    pub uncommitted: Vec<String>,
    /// The project's rollout settings (waves, failures, gate).
    pub rollout: astbase::model::rollout::Rollout,
    /// The repository root (where migration records live).
    pub root: std::path::PathBuf,
}

/// SSH options whose known_hosts is `known_hosts` (a flag), else the project's
/// `known_hosts`, else the default.
pub fn connect_options(
    known_hosts: Option<&std::path::Path>,
    fleet: &astbase::model::Fleet,
    root: &std::path::Path,
) -> ConnectOptions {
    let mut connect = ConnectOptions::defaults();
    if let Some(file) = known_hosts
        .map(std::path::Path::to_path_buf)
        .or_else(|| fleet.project.known_hosts.as_ref().map(|k| root.join(k)))
    {
        connect.known_hosts = file;
    }
    connect
}

/// Validates, renders and plans the servers in scope.
pub fn prepare(scope: &ScopeArgs, printer: &Printer) -> Result<Prepared, CliError> {
    let loaded = load_valid(&scope.repo, printer)?;
    let report = &loaded.report;
    let fleet = &report.fleet;
    let wanted = select_servers(fleet, &scope.servers)?;
    let excluded = select_servers(fleet, &scope.exclude)?;
    let selected: Vec<String> = fleet
        .servers
        .iter()
        .map(|s| s.name.to_string())
        .filter(|n| wanted.is_empty() || wanted.contains(n))
        .filter(|n| !excluded.contains(n))
        .collect();
    if selected.is_empty() {
        return Err(CliError::new("no server selected").with_hint("check --server and --exclude"));
    }
    let root = &report.sources.root;
    let options = loaded.render_options(selected, SecretSource::from_env(root))?;
    let outputs = render_fleet(fleet, &report.sources, &options)?;
    let mut connect = connect_options(scope.known_hosts.as_deref(), fleet, root);
    connect.accept_new_host_keys = scope.accept_new_host_keys;
    let (mut plan, targets) = plan_fleet(
        fleet,
        root,
        outputs,
        &PlanOptions {
            source: &options.source_label,
            parallelism: scope.parallelism,
            connect: &connect,
            force_firewall: scope.force,
            allow_large_change: scope.allow_large_change,
        },
    );
    behaviour_since_applied(&mut plan, root, fleet);
    // The fleet's own limit: how many servers one apply may change.
    let max_servers = fleet.project.safety.max_servers.unwrap_or(0) as usize;
    let changing = plan.servers.iter().filter(|s| s.has_changes()).count();
    if max_servers > 0 && changing > max_servers && !scope.allow_large_change {
        return Err(CliError::new(format!(
            "this plan changes {changing} servers, over project.safety.max_servers {max_servers}"
        ))
        .with_hint("apply fewer at once (--server, tag:), or pass --allow-large-change if this is intended"));
    }
    Ok(Prepared {
        plan,
        targets,
        uncommitted: loaded.uncommitted.clone(),
        rollout: fleet.project.rollout.clone(),
        root: root.clone(),
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

/// For each server whose host says which commit it runs, the probed calls that end
/// elsewhere with this plan. A commit the repository does not have, or that no longer
/// validates, is left out (the file diffs still show the change).
fn behaviour_since_applied(plan: &mut Plan, root: &std::path::Path, fleet: &astbase::model::Fleet) {
    let is_commit = |s: &str| s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit());
    let mut commits: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for s in &plan.servers {
        if let Some(applied) = s
            .applied_source
            .as_deref()
            .filter(|a| is_commit(a) && *a != plan.source)
        {
            commits
                .entry(applied.to_owned())
                .or_default()
                .push(s.server.clone());
        }
    }
    for (commit, servers) in commits {
        let Ok(old) = load_from(root, &Which::Rev(&commit)) else {
            continue;
        };
        if old.report.errors() > 0 {
            continue;
        }
        for b in astbase::callflow::compare(&old.report.fleet, fleet, &servers) {
            if let Some(s) = plan.servers.iter_mut().find(|s| s.server == b.server) {
                s.behaviour = Some(b);
            }
        }
    }
}

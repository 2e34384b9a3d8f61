//! `astbase serve` (the web console) and `astbase serve user` (its users file).

use std::io::BufRead;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use astbase::plan::{PlanOptions, plan_fleet};
use astbase::render::{SecretSource, render_fleet};
use astbase::serve::fleet::{self, FleetConfig, FleetSnapshot};
use astbase::serve::store::CdrStore;
use astbase::serve::users::{Role, Users, UsersError};
use astbase::serve::{ServeConfig, ServeError};
use std::time::Instant;

use super::{CliError, CommandResult, Printer, Which, exit};
use crate::cli::{RoleArg, ServeArgs, ServeCommand, ServeFleetArgs, ServeRunArgs, UserCommand};

fn role(r: RoleArg) -> Role {
    match r {
        RoleArg::Viewer => Role::Viewer,
        RoleArg::Operator => Role::Operator,
        RoleArg::Admin => Role::Admin,
    }
}

fn users_error(e: &UsersError) -> CliError {
    let error = CliError::from_error(e);
    match e.hint() {
        Some(h) => error.with_hint(h),
        None => error,
    }
}

pub fn run(args: &ServeArgs, printer: &Printer) -> CommandResult {
    match &args.command {
        Some(ServeCommand::User(command)) => user(command, printer),
        None => serve(&args.run, printer),
    }
}

fn serve(args: &ServeRunArgs, printer: &Printer) -> CommandResult {
    let ami = match super::calls::target(&args.ami) {
        Ok(target) => Some(target),
        Err(e) => {
            printer.console_log(&format!(
                "warning: {}; live calls and call actions are off",
                e.message()
            ));
            None
        }
    };
    let config = ServeConfig {
        listen: args.listen,
        tls: args.tls_cert.clone().zip(args.tls_key.clone()),
        behind_proxy: args.behind_proxy,
        users: args.users.users.clone(),
        ami,
        db: store(args)?,
        server: super::agent::server_name(&args.server),
        tech: args.tech.clone(),
        idle: Duration::from_secs(args.session_idle.max(1) * 60),
        zone: super::agent::zone(&args.db)?,
        fleet: fleet(&args.fleet)?,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::new(e.to_string()).caused_by(&e))?;
    let p = *printer;
    let log: astbase::serve::ServeLog = Arc::new(move |line: &str| p.console_log(line));
    runtime
        .block_on(astbase::serve::run(config, log, shutdown()))
        .map_err(|e: ServeError| {
            let error = CliError::from_error(&e);
            match e.hint() {
                Some(h) => error.with_hint(h),
                None => error,
            }
        })?;
    printer.console_log("stopped");
    Ok(ExitCode::from(exit::OK))
}

/// The CDR store: the agent's SQLite file, or the central PostgreSQL database.
fn store(args: &ServeRunArgs) -> Result<CdrStore, CliError> {
    if !astbase::agent::central::is_postgres_url(&args.db.db) {
        return Ok(CdrStore::Sqlite(super::cdr::local_db(&args.db)?));
    }
    let url = astbase::agent::central::CentralUrl::parse(
        &args.db.db,
        &astbase::agent::central::PasswordLookup::from_env(args.password.password_file.clone()),
    )?;
    Ok(CdrStore::Postgres(Box::new(url)))
}

/// The fleet pages' loader: the repo read (working tree or `--rev`), validated,
/// rendered and planned against every host, as `astbase plan` does (secrets from this
/// process's environment, SSH host keys verified strictly).
fn fleet(args: &ServeFleetArgs) -> Result<Option<FleetConfig>, CliError> {
    let Some(repo) = &args.repo else {
        return Ok(None);
    };
    let root = super::find_root(Some(repo))?;
    let (rev, known_hosts, parallelism) =
        (args.rev.clone(), args.known_hosts.clone(), args.parallelism);
    let load = move || -> Result<FleetSnapshot, String> {
        let started = Instant::now();
        let which = match &rev {
            Some(r) => Which::Rev(r),
            None => Which::WorkTree,
        };
        let loaded = super::load_from(&root, &which).map_err(|e| e.message().to_owned())?;
        let report = &loaded.report;
        if report.errors() > 0 {
            return Err(format!(
                "the repository has {} error(s); `astbase validate --repo {}` shows them",
                report.errors(),
                root.display()
            ));
        }
        let fleet = &report.fleet;
        let servers = fleet.servers.iter().map(|s| s.name.to_string()).collect();
        let options = loaded
            .render_options(servers, SecretSource::from_env(&root))
            .map_err(|e| e.message().to_owned())?;
        let outputs = render_fleet(fleet, &report.sources, &options).map_err(|e| e.to_string())?;
        // Host keys verified strictly: no accept-new here.
        let connect = super::plan::connect_options(known_hosts.as_deref(), fleet, &root);
        let (plan, _connections) = plan_fleet(
            fleet,
            &root,
            outputs,
            &PlanOptions {
                source: &options.source_label,
                parallelism,
                connect: &connect,
                force_firewall: false,
                allow_large_change: true,
            },
        );
        Ok(fleet::snapshot(report, &plan, started.elapsed()))
    };
    Ok(Some(FleetConfig {
        load: Arc::new(load),
        refresh: Duration::from_secs(args.fleet_refresh.max(10)),
    }))
}

/// SIGTERM (systemd stop) or SIGINT (Ctrl-C).
async fn shutdown() {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut term) = signal(SignalKind::terminate()) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

/// The new password: asked twice on the terminal, or the first line of stdin.
fn password(from_stdin: bool) -> Result<String, CliError> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| CliError::new(format!("cannot read the password: {e}")))?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_owned());
    }
    let first = rpassword::prompt_password("Password: ").map_err(|e| {
        CliError::new(format!("cannot read the password: {e}"))
            .with_hint("pipe it in with --password-stdin")
    })?;
    let again = rpassword::prompt_password("Again: ")
        .map_err(|e| CliError::new(format!("cannot read the password: {e}")))?;
    if first != again {
        return Err(CliError::new("the two passwords differ"));
    }
    Ok(first)
}

fn user(command: &UserCommand, printer: &Printer) -> CommandResult {
    match command {
        UserCommand::Add(a) => {
            let mut users = Users::load(&a.users.users).map_err(|e| users_error(&e))?;
            let pw = password(a.password_stdin)?;
            users
                .add(&a.name, role(a.role), &pw, a.extension.as_deref())
                .map_err(|e| users_error(&e))?;
            users.save().map_err(|e| users_error(&e))?;
            printer.out(&format!(
                "added {} ({}) to {}\n",
                a.name,
                role(a.role).as_str(),
                a.users.users.display()
            ))?;
        }
        UserCommand::Passwd(a) => {
            let mut users = Users::load(&a.users.users).map_err(|e| users_error(&e))?;
            let pw = password(a.password_stdin)?;
            users
                .passwd(&a.name, &pw, a.role.map(role), a.extension.as_deref())
                .map_err(|e| users_error(&e))?;
            users.save().map_err(|e| users_error(&e))?;
            printer.out(&format!("changed {}\n", a.name))?;
        }
        UserCommand::Remove(a) => {
            let mut users = Users::load(&a.users.users).map_err(|e| users_error(&e))?;
            users.remove(&a.name).map_err(|e| users_error(&e))?;
            users.save().map_err(|e| users_error(&e))?;
            printer.out(&format!("removed {}\n", a.name))?;
        }
        UserCommand::List(a) => {
            let users = Users::load(&a.users).map_err(|e| users_error(&e))?;
            let mut out = String::new();
            for u in &users.users {
                out.push_str(&format!(
                    "{}  {}{}\n",
                    u.name,
                    u.role.as_str(),
                    u.extension
                        .as_deref()
                        .map(|e| format!("  ext {e}"))
                        .unwrap_or_default()
                ));
            }
            out.push_str(&format!("{} user(s)\n", users.users.len()));
            printer.out(&out)?;
        }
    }
    Ok(ExitCode::from(exit::OK))
}

//! `astbase recordings list|export|prune`: the recordings library the agent keeps in its
//! database (see `astbase::agent::recordings`).

use std::process::ExitCode;

use astbase::agent::cdr::store::Store;
use astbase::agent::recordings::{self, Filter, Recording};

use super::agent::zone;
use super::cdr::{local_db, range};
use super::{CliError, CommandResult, Printer, exit};
use crate::cli::{Format, RecordingsCommand, RecordingsFilterArgs, RecordingsPruneArgs};

pub fn run(command: &RecordingsCommand, printer: &Printer) -> CommandResult {
    match command {
        RecordingsCommand::List(args) => {
            let found = select(&args.filter)?;
            match args.format {
                Format::Json => printer.out(
                    &(serde_json::to_string_pretty(&found).expect("recordings serialize") + "\n"),
                )?,
                Format::Text => printer.out(&table(&found))?,
            }
            Ok(ExitCode::from(exit::OK))
        }
        RecordingsCommand::Export(args) => {
            let found = select(&args.filter)?;
            std::fs::create_dir_all(&args.to).map_err(|e| CliError::io("create", &args.to, e))?;
            let mut copied = 0;
            for r in found.iter().filter(|r| r.deleted_at.is_none()) {
                let from = std::path::Path::new(&r.path);
                let name = from.file_name().unwrap_or_default();
                let to = args.to.join(name);
                std::fs::copy(from, &to).map_err(|e| CliError::io("copy", from, e))?;
                copied += 1;
            }
            printer.out(&format!(
                "{copied} recording(s) copied into {}\n",
                args.to.display()
            ))?;
            Ok(ExitCode::from(exit::OK))
        }
        RecordingsCommand::Prune(args) => prune(args, printer),
    }
}

fn select(args: &RecordingsFilterArgs) -> Result<Vec<Recording>, CliError> {
    let zone = zone(&args.db)?;
    let range = range(&args.range, &zone)?;
    let db = local_db(&args.db)?;
    let store = open(&db)?;
    let conn = store.connection();
    recordings::list(
        conn,
        &Filter {
            since: range.since,
            until: range.until,
            extension: args.extension.clone(),
        },
    )
    .map_err(|e| CliError::new(format!("{}: {e}", db.display())).caused_by(&e))
}

/// The agent's database through its store, so an older one gets the recordings table
/// first; `.connection()` is what the library reads.
fn open(db: &std::path::Path) -> Result<Store, CliError> {
    if !db.exists() {
        return Err(CliError::new(format!("{} does not exist", db.display()))
            .with_hint("point --db (or ASTBASE_DB) at the agent's database"));
    }
    Ok(Store::open(db, "", jiff::tz::TimeZone::UTC)?)
}

fn prune(args: &RecordingsPruneArgs, printer: &Printer) -> CommandResult {
    let db = local_db(&args.db)?;
    let store = open(&db)?;
    let conn = store.connection();
    let before = jiff::Timestamp::now().as_second() - i64::from(args.keep_days) * 86_400;
    let pruned = recordings::prune(conn, before, args.dry_run)
        .map_err(|e| CliError::new(format!("{}: {e}", db.display())).caused_by(&e))?;
    printer.out(&if args.dry_run {
        format!(
            "would delete {} recording(s) ({} bytes)\n",
            pruned.deleted, pruned.bytes
        )
    } else {
        format!("{pruned}\n")
    })?;
    Ok(ExitCode::from(exit::OK))
}

fn table(found: &[Recording]) -> String {
    let mut out = String::from(
        "recorded at                 caller      connected   exten       seconds  bytes       file\n",
    );
    for r in found {
        let seconds = r
            .duration_ms
            .map_or_else(|| "?".to_owned(), |ms| format!("{:.1}", ms as f64 / 1000.0));
        out.push_str(&format!(
            "{:<27} {:<11} {:<11} {:<11} {:>7}  {:<11} {}{}\n",
            r.recorded_at,
            r.caller,
            r.connected,
            r.exten,
            seconds,
            r.size,
            r.path,
            if r.deleted_at.is_some() {
                " (deleted)"
            } else {
                ""
            }
        ));
    }
    out
}

//! `astbase cdr report|export|backfill|migrate`: the call records stored by the agent,
//! read from its SQLite database or from the central PostgreSQL one (or, for backfill,
//! added to the local one from Master.csv).

use std::error::Error;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use astbase::agent::cdr::report::{self, ExportError, GroupBy, Range, Stats};
use astbase::agent::cdr::store::Store;
use astbase::agent::central::{self, CentralUrl, PasswordLookup, Session};
use jiff::tz::TimeZone;

use super::agent::{server_name, zone};
use super::{CliError, CommandResult, Printer, exit};
use crate::cli::{
    CdrBackfillArgs, CdrCommand, CdrExportArgs, CdrMigrateArgs, CdrRecordsArgs, CdrReportArgs,
    CdrServerArgs, DbArgs, ExportFormat, Format, PasswordFileArgs, RangeArgs, ReportBy,
};

/// How long a report or export waits for PostgreSQL to connect or answer.
const CENTRAL_TIMEOUT: Duration = Duration::from_secs(60);

pub fn run(command: &CdrCommand, printer: &Printer) -> CommandResult {
    match command {
        CdrCommand::Report(args) => cdr_report(args, printer),
        CdrCommand::Export(args) => cdr_export(args, printer),
        CdrCommand::Backfill(args) => cdr_backfill(args, printer),
        CdrCommand::Migrate(args) => cdr_migrate(args, printer),
    }
}

pub fn range(args: &RangeArgs, zone: &TimeZone) -> Result<Range, CliError> {
    let parse = |t: &Option<String>| {
        t.as_deref()
            .map(|t| report::parse_time(t, zone))
            .transpose()
            .map_err(|e| CliError::from_error(&e))
    };
    Ok(Range {
        since: parse(&args.since)?,
        until: parse(&args.until)?,
    })
}

/// Where records are read from.
enum Database {
    Local(rusqlite::Connection, PathBuf),
    Central(Box<Session>),
}

impl Database {
    fn open(db: &DbArgs, password: &PasswordFileArgs) -> Result<Database, CliError> {
        if central::is_postgres_url(&db.db) {
            return Ok(Database::Central(Box::new(connect(&db.db, password)?)));
        }
        let path = PathBuf::from(&db.db);
        if !path.exists() {
            return Err(CliError::new(format!("{} does not exist", path.display()))
                .with_hint("point --db (or ASTBASE_DB) at the agent's database, or at the central one (postgres://...)"));
        }
        let conn = rusqlite::Connection::open_with_flags(
            &path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .map_err(|e| sqlite(&path, &e))?;
        Ok(Database::Local(conn, path))
    }

    fn report(
        &self,
        by: GroupBy,
        range: Range,
        servers: &[String],
    ) -> Result<Vec<Stats>, CliError> {
        match self {
            Database::Local(conn, path) => {
                report::report(conn, by, range, servers).map_err(|e| sqlite(path, &e))
            }
            Database::Central(session) => Ok(session.report(by, range, servers)?),
        }
    }

    fn export(
        &self,
        range: Range,
        servers: &[String],
        row: impl FnMut(&[Option<String>]) -> std::io::Result<()>,
    ) -> Result<u64, ExportError> {
        match self {
            Database::Local(conn, _) => report::export(conn, range, servers, row),
            Database::Central(session) => session.export(range, servers, row),
        }
    }

    /// What an error reading it is prefixed with.
    fn name(&self) -> String {
        match self {
            Database::Local(_, path) => path.display().to_string(),
            Database::Central(session) => session.url().display.clone(),
        }
    }
}

fn connect(url: &str, password: &PasswordFileArgs) -> Result<Session, CliError> {
    let url = CentralUrl::parse(
        url,
        &PasswordLookup::from_env(password.password_file.clone()),
    )?;
    Ok(Session::connect(&url, CENTRAL_TIMEOUT)?)
}

/// The server names `--server` words stand for (`tag:T` looked up in the repository).
fn servers(args: &CdrServerArgs) -> Result<Vec<String>, CliError> {
    if !args.servers.iter().any(|w| w.starts_with("tag:")) {
        return Ok(args.servers.clone());
    }
    let loaded = super::load(&crate::cli::RepoArgs {
        repo: args.repo.clone(),
        rev: None,
        staged: false,
    })?;
    Ok(super::select_servers(&loaded.report.fleet, &args.servers)?
        .into_iter()
        .collect())
}

/// A failure reading or writing the database at `db` (or the output it goes to).
fn sqlite(db: &Path, e: &(dyn Error + 'static)) -> CliError {
    CliError::new(format!("{}: {e}", db.display())).caused_by(e)
}

/// The database, range and servers a report or export reads.
fn records(args: &CdrRecordsArgs) -> Result<(Database, Range, Vec<String>), CliError> {
    let zone = zone(&args.db)?;
    let range = range(&args.range, &zone)?;
    let servers = servers(&args.servers)?;
    Ok((Database::open(&args.db, &args.password)?, range, servers))
}

fn cdr_report(args: &CdrReportArgs, printer: &Printer) -> CommandResult {
    let (db, range, servers) = records(&args.records)?;
    let by = match args.by {
        ReportBy::Extension => GroupBy::Extension,
        ReportBy::Queue => GroupBy::Queue,
        ReportBy::Day => GroupBy::Day,
        ReportBy::Disposition => GroupBy::Disposition,
        ReportBy::Server => GroupBy::Server,
    };
    let stats = db.report(by, range, &servers)?;
    match args.format {
        Format::Text => printer.out(&report::table(&stats, by.title()))?,
        Format::Json => {
            printer.out(&(serde_json::to_string_pretty(&stats).expect("stats serialize") + "\n"))?
        }
    }
    Ok(ExitCode::from(exit::OK))
}

fn cdr_export(args: &CdrExportArgs, printer: &Printer) -> CommandResult {
    let (db, range, servers) = records(&args.records)?;
    let mut out = printer.out_stream();
    let result = match args.format {
        ExportFormat::Csv => {
            let mut w = csv::Writer::from_writer(&mut out);
            w.write_record(report::EXPORT_COLUMNS)
                .map_err(|e| CliError::new(format!("{}: {e}", db.name())).caused_by(&e))?;
            db.export(range, &servers, |row| {
                w.write_record(row.iter().map(|v| v.as_deref().unwrap_or("")))
                    .map_err(std::io::Error::other)
            })
            .and_then(|n| w.flush().map(|()| n).map_err(Into::into))
        }
        ExportFormat::Json => {
            let mut first = true;
            let r = out.write_all(b"[").map_err(Into::into).and_then(|()| {
                db.export(range, &servers, |row| {
                    out.write_all(if first { b"\n  " } else { b",\n  " })?;
                    first = false;
                    serde_json::to_writer(&mut out, &json_row(row)).map_err(std::io::Error::other)
                })
            });
            r.and_then(|n| out.write_all(b"\n]\n").map(|()| n).map_err(Into::into))
        }
    };
    match result {
        Ok(_) => Ok(ExitCode::from(exit::OK)),
        // A closed pipe (`| head`) is not an error.
        Err(ExportError::Io(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            Ok(ExitCode::from(exit::OK))
        }
        Err(ExportError::Central(e)) => Err(e.into()),
        Err(e) => Err(CliError::new(format!("{}: {e}", db.name())).caused_by(&e)),
    }
}

/// One exported record as a JSON object, numbers as numbers.
fn json_row(row: &[Option<String>]) -> serde_json::Map<String, serde_json::Value> {
    report::EXPORT_COLUMNS
        .iter()
        .zip(row)
        .map(|(k, v)| {
            let value = match (*k, v) {
                (_, None) => serde_json::Value::Null,
                ("duration" | "billsec" | "sequence", Some(v)) => v
                    .parse::<i64>()
                    .map_or_else(|_| v.clone().into(), Into::into),
                (_, Some(v)) => v.clone().into(),
            };
            ((*k).to_owned(), value)
        })
        .collect()
}

fn cdr_backfill(args: &CdrBackfillArgs, printer: &Printer) -> CommandResult {
    let zone = zone(&args.db)?;
    let db = local_db(&args.db)?;
    let mut store = Store::open(&db, &server_name(&args.server), zone)?;
    let done = astbase::agent::cdr::backfill::backfill(&mut store, &args.cdr_csv).map_err(|e| {
        CliError::from_error(&e).with_hint("point --cdr-csv at cdr_csv's Master.csv")
    })?;
    printer.out(&format!("{}: {done}\n", args.cdr_csv.display()))?;
    Ok(ExitCode::from(exit::OK))
}

/// `--db` where only the agent's own SQLite database makes sense.
pub fn local_db(db: &DbArgs) -> Result<PathBuf, CliError> {
    if central::is_postgres_url(&db.db) {
        return Err(CliError::new(format!(
            "--db {} is a PostgreSQL URL; this needs the agent's SQLite database",
            central::url::mask(&db.db)
        ))
        .with_hint(
            "give --db the local database; the agent sends its records to the central one \
             (--central URL)",
        ));
    }
    Ok(PathBuf::from(&db.db))
}

fn cdr_migrate(args: &CdrMigrateArgs, printer: &Printer) -> CommandResult {
    if !central::is_postgres_url(&args.db) {
        return Err(
            CliError::new(format!("--db {} is not a PostgreSQL URL", args.db)).with_hint(
                "the agent migrates its SQLite database itself; give the central one as \
             postgres://ROLE@HOST/DATABASE",
            ),
        );
    }
    let session = connect(&args.db, &args.password)?;
    let migrated = central::schema::migrate(&session)?;
    let url = &session.url().display;
    if migrated.from == migrated.to {
        printer.out(&format!(
            "{url}: the astbase schema is up to date (version {})\n",
            migrated.to
        ))?;
    } else {
        printer.out(&format!(
            "{url}: astbase schema migrated from version {} to {}\n",
            migrated.from, migrated.to
        ))?;
    }
    Ok(ExitCode::from(exit::OK))
}

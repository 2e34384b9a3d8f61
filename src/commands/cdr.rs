//! `astbase cdr report|export|backfill`: the call records stored by the agent, read
//! from its database (or, for backfill, added to it from Master.csv).

use std::error::Error;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use astbase::agent::cdr::report::{self, GroupBy, Range};
use astbase::agent::cdr::store::Store;
use jiff::tz::TimeZone;

use super::agent::{server_name, zone};
use super::{CliError, CommandResult, Printer, exit};
use crate::cli::{
    CdrBackfillArgs, CdrCommand, CdrExportArgs, CdrReportArgs, DbArgs, ExportFormat, Format,
    RangeArgs, ReportBy,
};

pub fn run(command: &CdrCommand, printer: &Printer) -> CommandResult {
    match command {
        CdrCommand::Report(args) => cdr_report(args, printer),
        CdrCommand::Export(args) => cdr_export(args, printer),
        CdrCommand::Backfill(args) => cdr_backfill(args, printer),
    }
}

fn range(args: &RangeArgs, zone: &TimeZone) -> Result<Range, CliError> {
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

fn open_existing(db: &DbArgs) -> Result<rusqlite::Connection, CliError> {
    if !db.db.exists() {
        return Err(CliError::new(format!("{} does not exist", db.db.display()))
            .with_hint("point --db (or ASTBASE_DB) at the agent's database"));
    }
    rusqlite::Connection::open_with_flags(&db.db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| sqlite(&db.db, &e))
}

/// A failure reading or writing the database at `db` (or the output it goes to).
fn sqlite(db: &Path, e: &(dyn Error + 'static)) -> CliError {
    CliError::new(format!("{}: {e}", db.display())).caused_by(e)
}

fn cdr_report(args: &CdrReportArgs, printer: &Printer) -> CommandResult {
    let zone = zone(&args.db)?;
    let range = range(&args.range, &zone)?;
    let conn = open_existing(&args.db)?;
    let (by, title) = match args.by {
        ReportBy::Extension => (GroupBy::Extension, "extension"),
        ReportBy::Queue => (GroupBy::Queue, "queue"),
        ReportBy::Day => (GroupBy::Day, "day"),
        ReportBy::Disposition => (GroupBy::Disposition, "disposition"),
    };
    let stats = report::report(&conn, by, range).map_err(|e| sqlite(&args.db.db, &e))?;
    match args.format {
        Format::Text => printer.out(&report::table(&stats, title))?,
        Format::Json => {
            printer.out(&(serde_json::to_string_pretty(&stats).expect("stats serialize") + "\n"))?
        }
    }
    Ok(ExitCode::from(exit::OK))
}

fn cdr_export(args: &CdrExportArgs, printer: &Printer) -> CommandResult {
    let zone = zone(&args.db)?;
    let range = range(&args.range, &zone)?;
    let conn = open_existing(&args.db)?;
    let mut out = printer.out_stream();
    let result = match args.format {
        ExportFormat::Csv => {
            let mut w = csv::Writer::from_writer(&mut out);
            w.write_record(report::EXPORT_COLUMNS)
                .map_err(|e| sqlite(&args.db.db, &e))?;
            report::export(&conn, range, |row| {
                w.write_record(row.iter().map(|v| v.as_deref().unwrap_or("")))
                    .map_err(std::io::Error::other)
            })
            .and_then(|n| w.flush().map(|()| n).map_err(Into::into))
        }
        ExportFormat::Json => {
            let mut first = true;
            let r = out.write_all(b"[").map_err(Into::into).and_then(|()| {
                report::export(&conn, range, |row| {
                    let object: serde_json::Map<String, serde_json::Value> = report::EXPORT_COLUMNS
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
                        .collect();
                    out.write_all(if first { b"\n  " } else { b",\n  " })?;
                    first = false;
                    serde_json::to_writer(&mut out, &object).map_err(std::io::Error::other)
                })
            });
            r.and_then(|n| out.write_all(b"\n]\n").map(|()| n).map_err(Into::into))
        }
    };
    match result {
        Ok(_) => Ok(ExitCode::from(exit::OK)),
        // A closed pipe (`| head`) is not an error.
        Err(report::ExportError::Io(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            Ok(ExitCode::from(exit::OK))
        }
        Err(e) => Err(sqlite(&args.db.db, &e)),
    }
}

fn cdr_backfill(args: &CdrBackfillArgs, printer: &Printer) -> CommandResult {
    let zone = zone(&args.db)?;
    let mut store = Store::open(&args.db.db, &server_name(&args.server), zone)?;
    let done = astbase::agent::cdr::backfill::backfill(&mut store, &args.cdr_csv).map_err(|e| {
        CliError::from_error(&e).with_hint("point --cdr-csv at cdr_csv's Master.csv")
    })?;
    printer.out(&format!("{}: {done}\n", args.cdr_csv.display()))?;
    Ok(ExitCode::from(exit::OK))
}

//! `astbase agent`, `astbase cdr ...`, `astbase calls`, `astbase hangup`, `astbase spy`:
//! the commands that run beside Asterisk and talk to AMI or the agent's database.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use astbase::agent::ami::{AmiError, Connection, Credentials, Kind, Message};
use astbase::agent::bans::BanConfig;
use astbase::agent::cdr::report::{self, GroupBy, Range};
use astbase::agent::cdr::store::Store;
use astbase::agent::{self as agent_lib, AgentConfig};
use jiff::tz::TimeZone;

use super::{CliError, CommandResult, exit, print};
use crate::cli::{
    AgentArgs, AmiArgs, CallsArgs, CdrBackfillArgs, CdrCommand, CdrExportArgs, CdrReportArgs,
    DbArgs, ExportFormat, Format, HangupArgs, RangeArgs, ReportBy, SpyArgs,
};

impl From<AmiError> for CliError {
    fn from(e: AmiError) -> Self {
        let hint = match &e {
            AmiError::Connect { .. } => Some(
                "is Asterisk running with manager.conf `enabled = yes`? Set MANAGER_HOST / MANAGER_PORT"
                    .into(),
            ),
            AmiError::LoginRefused { .. } => Some(
                "the user needs a [section] in manager.conf with this secret and `read = system,call,cdr,security`"
                    .into(),
            ),
            _ => None,
        };
        CliError {
            message: e.to_string(),
            hint,
        }
    }
}

impl From<astbase::agent::AgentError> for CliError {
    fn from(e: astbase::agent::AgentError) -> Self {
        CliError {
            message: e.to_string(),
            hint: None,
        }
    }
}

impl From<astbase::agent::cdr::store::StoreError> for CliError {
    fn from(e: astbase::agent::cdr::store::StoreError) -> Self {
        CliError {
            message: e.to_string(),
            hint: None,
        }
    }
}

fn zone(db: &DbArgs) -> Result<TimeZone, CliError> {
    match &db.timezone {
        None => Ok(TimeZone::system()),
        Some(name) => TimeZone::get(name).map_err(|e| CliError {
            message: format!("unknown time zone `{name}`: {e}"),
            hint: Some("use an IANA name such as Europe/Moscow or UTC".into()),
        }),
    }
}

fn credentials(ami: &AmiArgs) -> Result<Credentials, CliError> {
    let secret = ami.manager_password.clone().ok_or_else(|| CliError {
        message: "no AMI secret".into(),
        hint: Some("set MANAGER_PASSWORD (the secret of the manager.conf user)".into()),
    })?;
    Ok(Credentials {
        username: ami.manager_login.clone(),
        secret,
    })
}

fn server_name(server: &Option<String>) -> String {
    server.clone().unwrap_or_else(|| {
        std::fs::read_to_string("/etc/hostname")
            .map(|h| h.trim().to_owned())
            .ok()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "localhost".into())
    })
}

/// Where cdr_csv writes: `<astlogdir>/cdr-csv/Master.csv`, astlogdir from asterisk.conf.
fn master_csv(conf_dir: &Path) -> PathBuf {
    let logdir = std::fs::read_to_string(conf_dir.join("asterisk.conf"))
        .ok()
        .and_then(|text| {
            astbase::conf::parse(&text)
                .sections
                .iter()
                .find(|s| s.name == "directories")
                .and_then(|s| s.get("astlogdir").map(str::to_owned))
        })
        .unwrap_or_else(|| "/var/log/asterisk".into());
    PathBuf::from(logdir).join("cdr-csv/Master.csv")
}

pub fn run_agent(args: &AgentArgs) -> CommandResult {
    let mut config = AgentConfig::new(
        &server_name(&args.server),
        args.db.db.clone(),
        credentials(&args.ami)?,
    );
    config.host = args.ami.manager_host.clone();
    config.port = args.ami.manager_port;
    config.zone = zone(&args.db)?;
    config.connect_timeout = Duration::from_secs(args.ami.timeout);
    config.ping_interval = Duration::from_secs(args.ping_interval.max(1));
    config.ping_timeout = Duration::from_secs(args.ping_timeout.max(1));
    config.max_backoff = Duration::from_secs(args.max_backoff.max(1));
    config.cdr_csv = Some(
        args.cdr_csv
            .clone()
            .unwrap_or_else(|| master_csv(&args.asterisk_conf_dir)),
    );
    if !args.no_bans {
        let allow = args
            .allow
            .iter()
            .filter(|a| !a.trim().is_empty())
            .map(|a| a.parse())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e: astbase::netaddr::BadNetwork| CliError {
                message: format!("--allow: {e}"),
                hint: None,
            })?;
        config.bans = Some(BanConfig {
            threshold: args.ban_threshold.max(1),
            window: Duration::from_secs(args.ban_window),
            ban_time: Duration::from_secs(args.ban_time),
            allow,
            dry_run: args.dry_run,
            ipset: args.ipset.split_whitespace().map(str::to_owned).collect(),
        });
    }
    if let Some(parent) = config.db.parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent).map_err(|e| CliError::io("create", parent, e))?;
    }
    agent_lib::log(&format!(
        "starting: server {}, database {}, AMI {}:{}, Master.csv {}{}",
        config.server,
        config.db.display(),
        config.host,
        config.port,
        config
            .cdr_csv
            .as_deref()
            .unwrap_or(Path::new("-"))
            .display(),
        match &config.bans {
            None => " (bans off)".to_owned(),
            Some(b) if b.dry_run => " (bans: dry run)".to_owned(),
            Some(b) => format!(
                " (ban after {} events in {:?} for {:?})",
                b.threshold, b.window, b.ban_time
            ),
        }
    ));
    let summary = agent_lib::run(config, shutdown_signal())?;
    agent_lib::log(&format!(
        "stopped: {} CDR(s) stored, {} duplicate(s) ignored, {} backfilled, {} connection(s), {} ban(s)",
        summary.cdrs_inserted,
        summary.cdr_duplicates,
        summary.backfilled,
        summary.connections,
        summary.bans
    ));
    Ok(ExitCode::from(exit::OK))
}

/// SIGTERM (systemd stop) or SIGINT (Ctrl-C).
async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    agent_lib::log("stopping: flushing queued records");
}

fn range(args: &RangeArgs, zone: &TimeZone) -> Result<Range, CliError> {
    let parse = |t: &Option<String>| {
        t.as_deref()
            .map(|t| report::parse_time(t, zone))
            .transpose()
            .map_err(|e| CliError {
                message: e.to_string(),
                hint: None,
            })
    };
    Ok(Range {
        since: parse(&args.since)?,
        until: parse(&args.until)?,
    })
}

fn open_existing(db: &DbArgs) -> Result<rusqlite::Connection, CliError> {
    if !db.db.exists() {
        return Err(CliError {
            message: format!("{} does not exist", db.db.display()),
            hint: Some("point --db (or ASTBASE_DB) at the agent's database".into()),
        });
    }
    rusqlite::Connection::open_with_flags(&db.db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| CliError {
            message: format!("{}: {e}", db.db.display()),
            hint: None,
        })
}

fn sqlite(db: &Path, e: impl std::fmt::Display) -> CliError {
    CliError {
        message: format!("{}: {e}", db.display()),
        hint: None,
    }
}

pub fn run_cdr(command: &CdrCommand) -> CommandResult {
    match command {
        CdrCommand::Report(args) => cdr_report(args),
        CdrCommand::Export(args) => cdr_export(args),
        CdrCommand::Backfill(args) => cdr_backfill(args),
    }
}

fn cdr_report(args: &CdrReportArgs) -> CommandResult {
    let zone = zone(&args.db)?;
    let range = range(&args.range, &zone)?;
    let conn = open_existing(&args.db)?;
    let (by, title) = match args.by {
        ReportBy::Extension => (GroupBy::Extension, "extension"),
        ReportBy::Queue => (GroupBy::Queue, "queue"),
        ReportBy::Day => (GroupBy::Day, "day"),
        ReportBy::Disposition => (GroupBy::Disposition, "disposition"),
    };
    let stats = report::report(&conn, by, range).map_err(|e| sqlite(&args.db.db, e))?;
    match args.format {
        Format::Text => print(&report::table(&stats, title))?,
        Format::Json => {
            print(&(serde_json::to_string_pretty(&stats).expect("stats serialize") + "\n"))?
        }
    }
    Ok(ExitCode::from(exit::OK))
}

fn cdr_export(args: &CdrExportArgs) -> CommandResult {
    let zone = zone(&args.db)?;
    let range = range(&args.range, &zone)?;
    let conn = open_existing(&args.db)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let result = match args.format {
        ExportFormat::Csv => {
            let mut w = csv::Writer::from_writer(&mut out);
            w.write_record(report::EXPORT_COLUMNS)
                .map_err(|e| sqlite(&args.db.db, e))?;
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
        Err(e) => Err(sqlite(&args.db.db, e)),
    }
}

fn cdr_backfill(args: &CdrBackfillArgs) -> CommandResult {
    let zone = zone(&args.db)?;
    let mut store = Store::open(&args.db.db, &server_name(&args.server), zone)?;
    let done = astbase::agent::cdr::backfill::backfill(&mut store, &args.cdr_csv).map_err(|e| {
        CliError {
            message: e.to_string(),
            hint: Some("point --cdr-csv at cdr_csv's Master.csv".into()),
        }
    })?;
    print(&format!("{}: {done}\n", args.cdr_csv.display()))?;
    Ok(ExitCode::from(exit::OK))
}

/// Runs one AMI conversation (login with events off) on a small runtime.
fn with_ami<T>(
    ami: &AmiArgs,
    f: impl AsyncFnOnce(&mut Connection, Duration) -> Result<T, AmiError>,
) -> Result<T, CliError> {
    let credentials = credentials(ami)?;
    let timeout = Duration::from_secs(ami.timeout);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError {
            message: e.to_string(),
            hint: None,
        })?;
    let result = runtime.block_on(async {
        let mut conn = Connection::connect(&ami.manager_host, ami.manager_port, timeout).await?;
        conn.login(&credentials, false, timeout).await?;
        let value = f(&mut conn, timeout).await;
        conn.logoff().await;
        value
    });
    Ok(result?)
}

/// Sends one action; `Some(reason)` if Asterisk refused it.
fn ask(ami: &AmiArgs, action: Message) -> Result<Option<String>, CliError> {
    let response = with_ami(ami, async |conn, timeout| {
        conn.request(action, timeout, drop).await
    })?;
    Ok(match response.kind() {
        Kind::Response(r) if r.eq_ignore_ascii_case("Success") => None,
        _ => Some(response.get("Message").unwrap_or("refused").to_owned()),
    })
}

pub fn run_calls(args: &CallsArgs) -> CommandResult {
    let items = with_ami(&args.ami, async |conn, timeout| {
        conn.list(Message::new([("Action", "CoreShowChannels")]), timeout)
            .await
    })?;
    const COLUMNS: &[(&str, &str)] = &[
        ("Channel", "channel"),
        ("ChannelStateDesc", "state"),
        ("CallerIDNum", "caller"),
        ("ConnectedLineNum", "connected"),
        ("Exten", "exten"),
        ("Application", "application"),
        ("Duration", "duration"),
        ("BridgeId", "bridge"),
    ];
    match args.format {
        Format::Json => {
            let rows: Vec<serde_json::Map<String, serde_json::Value>> = items
                .iter()
                .map(|m| {
                    COLUMNS
                        .iter()
                        .map(|(h, name)| ((*name).to_owned(), m.get(h).unwrap_or("").into()))
                        .collect()
                })
                .collect();
            print(&(serde_json::to_string_pretty(&rows).expect("rows serialize") + "\n"))?;
        }
        Format::Text => {
            let rows: Vec<Vec<String>> = items
                .iter()
                .map(|m| {
                    COLUMNS
                        .iter()
                        .map(|(h, _)| m.get(h).unwrap_or("").to_owned())
                        .collect()
                })
                .collect();
            let header: Vec<String> = COLUMNS.iter().map(|(_, n)| (*n).to_owned()).collect();
            let mut widths: Vec<usize> = header.iter().map(String::len).collect();
            for r in &rows {
                for (w, c) in widths.iter_mut().zip(r) {
                    *w = (*w).max(c.chars().count());
                }
            }
            let mut out = String::new();
            for r in std::iter::once(&header).chain(&rows) {
                let cells: Vec<String> = r
                    .iter()
                    .zip(&widths)
                    .map(|(c, w)| format!("{c:<w$}"))
                    .collect();
                out.push_str(cells.join("  ").trim_end());
                out.push('\n');
            }
            out.push_str(&format!("{} channel(s)\n", rows.len()));
            print(&out)?;
        }
    }
    Ok(ExitCode::from(exit::OK))
}

/// Channel names and extensions go into AMI headers: one line each, nothing else.
fn check_word(what: &str, value: &str) -> Result<(), CliError> {
    if value.is_empty()
        || value
            .chars()
            .any(|c| c.is_control() || c == ',' || c == '|')
    {
        return Err(CliError {
            message: format!("{what} `{}` is not a valid name", value.escape_debug()),
            hint: Some("no control characters, commas or `|`".into()),
        });
    }
    Ok(())
}

pub fn run_hangup(args: &HangupArgs) -> CommandResult {
    check_word("channel", &args.channel)?;
    let hangup = Message::new([("Action", "Hangup"), ("Channel", args.channel.as_str())]);
    if let Some(why) = ask(&args.ami, hangup)? {
        return Err(CliError {
            message: format!("Asterisk refused to hang up {}: {why}", args.channel),
            hint: Some("`astbase calls` lists the channels up now".into()),
        });
    }
    print(&format!("hung up {}\n", args.channel))?;
    Ok(ExitCode::from(exit::OK))
}

/// ChanSpy options per mode: q (no beep announcement), w whisper, B barge.
pub fn spy_options(listen: bool, whisper: bool, barge: bool) -> &'static str {
    match (listen, whisper, barge) {
        (_, true, _) => "qw",
        (_, _, true) => "qB",
        _ => "q",
    }
}

pub fn run_spy(args: &SpyArgs) -> CommandResult {
    check_word("extension", &args.extension)?;
    check_word("--to extension", &args.to)?;
    check_word("--tech", &args.tech)?;
    let options = spy_options(args.listen, args.whisper, args.barge);
    let supervisor = format!("{}/{}", args.tech, args.to);
    // The trailing `-` keeps 101 from also matching PJSIP/1011-....
    let data = format!("{}/{}-,{options}", args.tech, args.extension);
    let callerid = format!("\"Spy {}\" <{}>", args.extension, args.to);
    let originate = Message::new([
        ("Action", "Originate"),
        ("Channel", supervisor.as_str()),
        ("Application", "ChanSpy"),
        ("Data", data.as_str()),
        ("CallerID", callerid.as_str()),
        ("Timeout", "30000"),
        ("Async", "true"),
    ]);
    if let Some(why) = ask(&args.ami, originate)? {
        return Err(CliError {
            message: format!("Asterisk refused to originate the spy call: {why}"),
            hint: Some("the AMI user needs `write = originate`".into()),
        });
    }
    print(&format!(
        "ringing {supervisor}: answering joins {}'s call ({})\n",
        args.extension,
        match options {
            "qw" => "whisper",
            "qB" => "barge",
            _ => "listen",
        }
    ))?;
    Ok(ExitCode::from(exit::OK))
}

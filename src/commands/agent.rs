//! `astbase agent`: run beside Asterisk, storing CDRs and banning attackers (the work is
//! in [`astbase::agent`]); and what the commands that run beside Asterisk share: the
//! AMI secret, the time zone of the agent's database, and this server's name.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use astbase::agent::ami::Credentials;
use astbase::agent::bans::BanConfig;
use astbase::agent::central::{CentralUrl, PasswordLookup};
use astbase::agent::lookup::LookupConfig;
use astbase::agent::shipper::ShipperConfig;
use astbase::agent::{self as agent_lib, AgentConfig, Log};
use jiff::tz::TimeZone;

use super::{CliError, CommandResult, Printer, exit};
use crate::cli::{AgentArgs, AmiArgs, DbArgs};

/// The zone Asterisk writes CDR times in: `--timezone`, else this machine's.
pub fn zone(db: &DbArgs) -> Result<TimeZone, CliError> {
    match &db.timezone {
        None => Ok(TimeZone::system()),
        Some(name) => TimeZone::get(name).map_err(|e| {
            CliError::new(format!("unknown time zone `{name}`: {e}"))
                .caused_by(&e)
                .with_hint("use an IANA name such as Europe/Moscow or UTC")
        }),
    }
}

pub fn credentials(ami: &AmiArgs) -> Result<Credentials, CliError> {
    let secret = ami.manager_password.clone().ok_or_else(|| {
        CliError::new("no AMI secret")
            .with_hint("set MANAGER_PASSWORD (the secret of the manager.conf user)")
    })?;
    Ok(Credentials {
        username: ami.manager_login.clone(),
        secret,
    })
}

/// `--server`, else this machine's host name.
pub fn server_name(server: &Option<String>) -> String {
    server.clone().unwrap_or_else(|| {
        std::fs::read_to_string("/etc/hostname")
            .map(|h| h.trim().to_owned())
            .ok()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "localhost".into())
    })
}

/// The directories asterisk.conf's `[directories]` names, else Asterisk's defaults.
struct AsteriskDirs {
    /// `astlogdir`: cdr-csv/Master.csv is below it.
    log: PathBuf,
    /// `astspooldir`: monitor/ (MixMonitor's recordings) is below it.
    spool: PathBuf,
}

impl AsteriskDirs {
    /// Read once, from `<conf_dir>/asterisk.conf`.
    fn read(conf_dir: &Path) -> AsteriskDirs {
        let text = std::fs::read_to_string(conf_dir.join("asterisk.conf")).unwrap_or_default();
        let conf = astbase::conf::parse(&text);
        let directories = conf.sections.iter().find(|s| s.name == "directories");
        let dir = |key: &str, default: &str| {
            PathBuf::from(directories.and_then(|s| s.get(key)).unwrap_or(default))
        };
        AsteriskDirs {
            log: dir("astlogdir", "/var/log/asterisk"),
            spool: dir("astspooldir", "/var/spool/asterisk"),
        }
    }
}

pub fn run(args: &AgentArgs, printer: &Printer) -> CommandResult {
    let mut config = AgentConfig::new(
        &server_name(&args.server),
        super::cdr::local_db(&args.db)?,
        credentials(&args.ami)?,
    );
    config.host = args.ami.manager_host.clone();
    config.port = args.ami.manager_port;
    config.zone = zone(&args.db)?;
    config.connect_timeout = Duration::from_secs(args.ami.timeout);
    config.ping_interval = Duration::from_secs(args.ping_interval.max(1));
    config.ping_timeout = Duration::from_secs(args.ping_timeout.max(1));
    config.max_backoff = Duration::from_secs(args.max_backoff.max(1));
    let dirs = AsteriskDirs::read(&args.asterisk_conf_dir);
    config.cdr_csv = Some(
        args.cdr_csv
            .clone()
            .unwrap_or_else(|| dirs.log.join("cdr-csv/Master.csv")),
    );
    if !args.no_bans {
        let allow = args
            .allow
            .iter()
            .filter(|a| !a.trim().is_empty())
            .map(|a| a.parse())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e: astbase::netaddr::BadNetwork| {
                CliError::new(format!("--allow: {e}")).caused_by(&e)
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
    if let Some(url) = &args.central {
        let lookup = PasswordLookup::from_env(args.central_password.password_file.clone());
        match CentralUrl::parse(url, &lookup) {
            Ok(url) => {
                let mut central = ShipperConfig::new(url);
                central.timeout = Duration::from_secs(args.central_timeout.max(1));
                central.max_backoff = config.max_backoff;
                config.central = Some(central);
            }
            // Storing calls matters more than sending them: the agent runs, says why
            // nothing is sent, and the admin fixes the URL and restarts it.
            Err(e) => printer.log(&format!(
                "ERROR: {}; CDRs are stored locally only until the agent is restarted with a \
                 working --central",
                e
            )),
        }
    }
    config.recordings_dir = Some(
        args.recordings_dir
            .clone()
            .unwrap_or_else(|| dirs.spool.join("monitor")),
    );
    config.settings_dir = Some(args.asterisk_conf_dir.clone());
    config.keep_recordings = args
        .recordings_keep_days
        .map(|d| Duration::from_secs(u64::from(d.max(1)) * 86_400));
    if let Some(file) = &args.webhooks {
        match astbase::agent::webhooks::config::load(file) {
            Ok(endpoints) => config.webhooks = endpoints,
            Err(e) => printer.log(&format!(
                "ERROR: {e}; no call events are sent until the agent is restarted with a \
                 working --webhooks"
            )),
        }
    }
    if let Some(url) = &args.caller_lookup.caller_lookup {
        config.caller_lookup = Some(caller_lookup(url, &args.caller_lookup)?);
    }
    if let Some(parent) = config.db.parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent).map_err(|e| CliError::io("create", parent, e))?;
    }
    printer.log(&format!(
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
        match &config.central {
            Some(c) => format!(", central {}", c.url.display),
            None => String::new(),
        } + &match config.webhooks.len() {
            0 => String::new(),
            n => format!(", {n} webhook endpoint(s)"),
        } + &match &config.bans {
            None => " (bans off)".to_owned(),
            Some(b) if b.dry_run => " (bans: dry run)".to_owned(),
            Some(b) => format!(
                " (ban after {} events in {:?} for {:?})",
                b.threshold, b.window, b.ban_time
            ),
        }
    ));
    let log = {
        let printer = *printer;
        Log::new(move |event| printer.log(&event.to_string()))
    };
    let summary = agent_lib::run(config, log, shutdown_signal(printer))?;
    printer.log(&(format!(
        "stopped: {} CDR(s) stored, {} duplicate(s) ignored, {} backfilled, {} connection(s), {} ban(s){}",
        summary.cdrs_inserted,
        summary.cdr_duplicates,
        summary.backfilled,
        summary.connections,
        summary.bans,
        if args.central.is_some() {
            format!(
                ", {} sent to the central database ({} were there already)",
                summary.shipped, summary.already_shipped
            )
        } else {
            String::new()
        },
    ) + &format!(", {} recording(s) indexed", summary.recordings)
        + &if args.webhooks.is_some() {
        format!(
            ", {} webhook event(s) delivered, {} dead-lettered",
            summary.webhooks_delivered, summary.webhooks_dead
        )
    } else {
        String::new()
    }));
    Ok(ExitCode::from(exit::OK))
}

/// The lookup's settings from its flags; a URL it cannot use is refused at start.
fn caller_lookup(url: &str, args: &crate::cli::CallerLookupArgs) -> Result<LookupConfig, CliError> {
    let mut lookup = LookupConfig::new(url);
    lookup.listen = args.caller_lookup_listen;
    lookup.timeout = Duration::from_millis(args.caller_lookup_timeout.max(100));
    lookup.ttl = Duration::from_secs(args.caller_lookup_ttl);
    lookup.miss_ttl = Duration::from_secs((args.caller_lookup_ttl / 10).max(10));
    if let Some(file) = &args.caller_lookup_token_file {
        let token = std::fs::read_to_string(file).map_err(|e| CliError::io("read", file, e))?;
        lookup.token = Some(token.trim().to_owned());
    }
    astbase::agent::lookup::Lookup::new(lookup.clone()).map_err(|e| {
        CliError::from_error(&e)
            .with_hint("e.g. --caller-lookup 'https://crm.example/api/callers?number={number}'")
    })?;
    Ok(lookup)
}

/// SIGTERM (systemd stop) or SIGINT (Ctrl-C).
async fn shutdown_signal(printer: &Printer) {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    printer.log("stopping: flushing queued records");
}

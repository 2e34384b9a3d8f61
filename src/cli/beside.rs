//! The flags of the commands that run beside Asterisk: the agent, `cdr`, `recordings`,
//! and call control (`calls`, `hangup`, `spy`, `dial`).

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

use super::Format;

/// How to reach AMI; the environment variables are the old agent's.
#[derive(Debug, Args)]
pub struct AmiArgs {
    /// AMI host.
    #[arg(long, env = "MANAGER_HOST", default_value = "127.0.0.1")]
    pub manager_host: String,
    /// AMI port.
    #[arg(long, env = "MANAGER_PORT", default_value_t = 5038)]
    pub manager_port: u16,
    /// AMI user (manager.conf section).
    #[arg(long, env = "MANAGER_LOGIN", default_value = "astbase")]
    pub manager_login: String,
    /// AMI secret. Prefer the environment variable: flags show up in `ps`.
    #[arg(long, env = "MANAGER_PASSWORD", hide_env_values = true)]
    pub manager_password: Option<String>,
    /// Seconds to wait for AMI to connect and answer.
    #[arg(long, default_value_t = 10)]
    pub timeout: u64,
}

/// The agent's database and the zone of Asterisk's local times.
#[derive(Debug, Args)]
pub struct DbArgs {
    /// The agent's SQLite database (for `cdr report|export`, also a central PostgreSQL
    /// one: postgres://ROLE@HOST/DATABASE).
    #[arg(
        long,
        env = "ASTBASE_DB",
        default_value = "/var/lib/astbase/agent.db",
        value_name = "PATH|URL"
    )]
    pub db: String,
    /// The zone Asterisk writes CDR times in (IANA name such as Europe/Moscow; default:
    /// this machine's).
    #[arg(long, env = "ASTBASE_TIMEZONE")]
    pub timezone: Option<String>,
}

#[derive(Debug, Args)]
pub struct AgentArgs {
    #[command(flatten)]
    pub ami: AmiArgs,
    #[command(flatten)]
    pub db: DbArgs,
    /// This server's name, stored with every record.
    #[arg(long, env = "ASTBASE_SERVER")]
    pub server: Option<String>,
    /// Asterisk's configuration directory (only used to find asterisk.conf's
    /// `astlogdir`, and so cdr-csv/Master.csv).
    #[arg(long, env = "ASTERISK_CONF_DIR", default_value = "/etc/asterisk")]
    pub asterisk_conf_dir: PathBuf,
    /// cdr_csv's Master.csv (default: <astlogdir>/cdr-csv/Master.csv).
    #[arg(long, env = "ASTBASE_CDR_CSV")]
    pub cdr_csv: Option<PathBuf>,
    /// Seconds between AMI pings; a ping unanswered for --ping-timeout drops the connection.
    #[arg(long, default_value_t = 10)]
    pub ping_interval: u64,
    #[arg(long, default_value_t = 5)]
    pub ping_timeout: u64,
    /// Longest wait between reconnection attempts, in seconds.
    #[arg(long, default_value_t = 30)]
    pub max_backoff: u64,
    /// Do not ban attackers.
    #[arg(long)]
    pub no_bans: bool,
    /// Security events from one address that trigger a ban...
    #[arg(long, default_value_t = 5)]
    pub ban_threshold: u32,
    /// ...within this many seconds.
    #[arg(long, default_value_t = 60)]
    pub ban_window: u64,
    /// How long a ban lasts, in seconds (the ipset entry's timeout).
    #[arg(long, default_value_t = 3600)]
    pub ban_time: u64,
    /// Addresses or networks never banned (besides loopback and the astbase-allow set).
    #[arg(
        long = "allow",
        value_name = "CIDR",
        env = "ASTBASE_ALLOW",
        value_delimiter = ','
    )]
    pub allow: Vec<String>,
    /// The command that runs ipset, as words separated by spaces (e.g. `sudo -n ipset`).
    #[arg(long, env = "ASTBASE_IPSET", default_value = "ipset")]
    pub ipset: String,
    /// Log bans instead of making them.
    #[arg(long)]
    pub dry_run: bool,
    /// Also send every stored CDR to this central PostgreSQL database
    /// (postgres://ROLE@HOST/DATABASE?sslmode=verify-full&sslrootcert=ca.pem); the local
    /// database stays the buffer while it is unreachable.
    #[arg(long, env = "ASTBASE_CENTRAL_URL", value_name = "URL")]
    pub central: Option<String>,
    /// Seconds the central database may take to connect or to commit one batch before
    /// the attempt is abandoned (and retried later).
    #[arg(long, default_value_t = 30)]
    pub central_timeout: u64,
    #[command(flatten)]
    pub central_password: PasswordFileArgs,
    /// POST call events (ringing, answered, ended, missed) to the endpoints this YAML
    /// file lists (README: "CRM integration").
    #[arg(long, env = "ASTBASE_WEBHOOKS", value_name = "FILE")]
    pub webhooks: Option<PathBuf>,
    /// Where MixMonitor writes recordings (default: <astspooldir>/monitor from
    /// asterisk.conf); each one that stops is indexed beside its CDRs.
    #[arg(long, env = "ASTBASE_RECORDINGS_DIR", value_name = "DIR")]
    pub recordings_dir: Option<PathBuf>,
    /// Delete indexed recordings older than this many days (hourly); default: keep all.
    #[arg(long, env = "ASTBASE_RECORDINGS_KEEP_DAYS", value_name = "DAYS")]
    pub recordings_keep_days: Option<u32>,
    #[command(flatten)]
    pub caller_lookup: CallerLookupArgs,
}

/// Names for callers the phonebook does not know, from a CRM (README: "CRM integration").
#[derive(Debug, Args)]
pub struct CallerLookupArgs {
    /// Ask this URL for unknown callers' names (`{number}` becomes the caller's E.164
    /// number); the dialplan asks the agent over FastAGI when `caller_lookup` is set.
    #[arg(long, env = "ASTBASE_CALLER_LOOKUP", value_name = "URL")]
    pub caller_lookup: Option<String>,
    /// Where the FastAGI server listens (the repo's `caller_lookup.agi`).
    #[arg(long, default_value = "127.0.0.1:4573", value_name = "ADDR")]
    pub caller_lookup_listen: std::net::SocketAddr,
    /// Milliseconds one CRM request may take; past it, the call keeps the trunk's name.
    #[arg(long, default_value_t = 1500, value_name = "MS")]
    pub caller_lookup_timeout: u64,
    /// A file holding a token sent as `Authorization: Bearer TOKEN`.
    #[arg(long, env = "ASTBASE_CALLER_LOOKUP_TOKEN_FILE", value_name = "FILE")]
    pub caller_lookup_token_file: Option<PathBuf>,
    /// Seconds a name is cached (unknown numbers: a tenth of it, at least 10 s).
    #[arg(long, default_value_t = 600, value_name = "SECONDS")]
    pub caller_lookup_ttl: u64,
}

#[derive(Debug, Args)]
pub struct PasswordFileArgs {
    /// The central database's password, in a file (when the URL has none; else
    /// PGPASSWORD, else ~/.pgpass, as libpq looks).
    #[arg(long, env = "ASTBASE_CENTRAL_PASSWORD_FILE", value_name = "FILE")]
    pub password_file: Option<PathBuf>,
}

/// Which servers' records a report or export covers.
#[derive(Debug, Args)]
pub struct CdrServerArgs {
    /// Only this server's records, or `tag:T` for the servers tagged T in the
    /// repository (repeat for several; default: all).
    #[arg(long = "server", value_name = "NAME|tag:T")]
    pub servers: Vec<String>,
    /// The config repository `tag:` is looked up in (default: search upward from the
    /// current directory).
    #[arg(long, value_name = "DIR")]
    pub repo: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum CdrCommand {
    /// Call statistics: count, answered, missed, average and total billable seconds.
    Report(CdrReportArgs),
    /// Every stored record in a range, as CSV or JSON.
    Export(CdrExportArgs),
    /// Read Master.csv from where the last backfill stopped and store what is missing.
    Backfill(CdrBackfillArgs),
    /// Create or upgrade the astbase schema in a central PostgreSQL database (as a role
    /// that may; agents then need only the grants README lists).
    Migrate(CdrMigrateArgs),
}

#[derive(Debug, Args)]
pub struct CdrMigrateArgs {
    /// The central database: postgres://ROLE@HOST/DATABASE.
    #[arg(long, env = "ASTBASE_DB", value_name = "URL")]
    pub db: String,
    #[command(flatten)]
    pub password: PasswordFileArgs,
}

#[derive(Debug, Args)]
pub struct RangeArgs {
    /// From this time (2026-11-01, `2026-11-01 08:00`, or ISO-8601 with offset).
    #[arg(long)]
    pub since: Option<String>,
    /// Up to (not including) this time.
    #[arg(long)]
    pub until: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ReportBy {
    Extension,
    Queue,
    Day,
    Disposition,
    Server,
}

/// Which records a report or export reads: the database, the time range, the servers.
#[derive(Debug, Args)]
pub struct CdrRecordsArgs {
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub password: PasswordFileArgs,
    #[command(flatten)]
    pub range: RangeArgs,
    #[command(flatten)]
    pub servers: CdrServerArgs,
}

#[derive(Debug, Args)]
pub struct CdrReportArgs {
    #[command(flatten)]
    pub records: CdrRecordsArgs,
    /// How to group.
    #[arg(long, value_enum, default_value_t = ReportBy::Day)]
    pub by: ReportBy,
    /// text (a table) or json.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportFormat {
    Csv,
    Json,
}

#[derive(Debug, Args)]
pub struct CdrExportArgs {
    #[command(flatten)]
    pub records: CdrRecordsArgs,
    #[arg(long, value_enum, default_value_t = ExportFormat::Csv)]
    pub format: ExportFormat,
}

#[derive(Debug, Args)]
pub struct CdrBackfillArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// This server's name, stored with every record.
    #[arg(long, env = "ASTBASE_SERVER")]
    pub server: Option<String>,
    /// cdr_csv's Master.csv.
    #[arg(
        long,
        env = "ASTBASE_CDR_CSV",
        default_value = "/var/log/asterisk/cdr-csv/Master.csv"
    )]
    pub cdr_csv: PathBuf,
}

#[derive(Debug, Args)]
pub struct CallsArgs {
    #[command(flatten)]
    pub ami: AmiArgs,
    /// text (a table) or json.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct HangupArgs {
    #[command(flatten)]
    pub ami: AmiArgs,
    /// The channel, as `astbase calls` shows it (PJSIP/101-00000008).
    pub channel: String,
}

#[derive(Debug, Args)]
pub struct SpyArgs {
    #[command(flatten)]
    pub ami: AmiArgs,
    /// The extension whose call to join.
    pub extension: String,
    /// The supervisor's extension: its phone rings, and answering joins the call.
    #[arg(long)]
    pub to: String,
    /// Listen only (ChanSpy option q).
    #[arg(long, group = "mode")]
    pub listen: bool,
    /// Talk to the extension only (qw).
    #[arg(long, group = "mode")]
    pub whisper: bool,
    /// Talk to both sides (qB).
    #[arg(long, group = "mode")]
    pub barge: bool,
    /// Channel technology of both phones.
    #[arg(long, default_value = "PJSIP")]
    pub tech: String,
}

#[derive(Debug, Subcommand)]
pub enum RecordingsCommand {
    /// The indexed recordings in a range: when, who, file, size, duration.
    List(RecordingsListArgs),
    /// Copy the recordings in a range into a directory (files keep their names).
    Export(RecordingsExportArgs),
    /// Delete indexed recordings older than --keep-days (never a file not in the index).
    Prune(RecordingsPruneArgs),
}

#[derive(Debug, Args)]
pub struct RecordingsFilterArgs {
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub range: RangeArgs,
    /// Only recordings this extension took part in.
    #[arg(long)]
    pub extension: Option<String>,
}

#[derive(Debug, Args)]
pub struct RecordingsListArgs {
    #[command(flatten)]
    pub filter: RecordingsFilterArgs,
    /// text (a table) or json.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct RecordingsExportArgs {
    #[command(flatten)]
    pub filter: RecordingsFilterArgs,
    /// The directory to copy into (created if missing).
    #[arg(long, value_name = "DIR")]
    pub to: PathBuf,
}

#[derive(Debug, Args)]
pub struct RecordingsPruneArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// Keep this many days of recordings.
    #[arg(long)]
    pub keep_days: u32,
    /// Say what would be deleted, delete nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct DialArgs {
    #[command(flatten)]
    pub ami: AmiArgs,
    /// The user's extension: its phone rings first.
    #[arg(long)]
    pub from: String,
    /// The number to dial once the phone answers (digits, `+`, `*`, `#`).
    #[arg(long)]
    pub to: String,
    /// Dial from this context instead of the phone's own (as Asterisk reports it).
    #[arg(long)]
    pub context: Option<String>,
    /// Seconds the phone may ring.
    #[arg(long, default_value_t = 30)]
    pub ring: u64,
    /// Channel technology of the phone.
    #[arg(long, default_value = "PJSIP")]
    pub tech: String,
}

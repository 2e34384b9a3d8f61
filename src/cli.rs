//! Command-line definitions (clap). Parsing only; the work is in `commands`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Run a fleet of Asterisk PBX servers from a git repository.
#[derive(Debug, Parser)]
#[command(name = "astbase", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// When to colour the output.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Say only what matters: no progress, no warnings, no notes on stderr. Errors and
    /// the command's output (stdout) are always shown, and so is the agent's log.
    #[arg(long, short, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the config repository offline: schema, references, Asterisk grammar.
    Validate(ValidateArgs),
    /// Render each server's *_odoo.conf files into a directory.
    Render(RenderArgs),
    /// Show what would change on each server: diffs, include lines, reloads, drift.
    Plan(PlanArgs),
    /// Make each server match the repository (or apply a saved plan exactly).
    Apply(ApplyArgs),
    /// Print the JSON Schema of fleet files (for editors and CI).
    Schema,
    /// Simulate where a call goes, from the repository alone (no host, no Asterisk).
    Trace(TraceArgs),
    /// Compare the generated configuration of two git revisions, offline: what a merge
    /// would change on which PBX.
    Diff(DiffArgs),
    /// Git hooks for a config repository.
    #[command(subcommand)]
    Hook(HookCommand),
    /// Run beside Asterisk: store CDRs from AMI in SQLite, track live calls, ban attackers.
    Agent(AgentArgs),
    /// Call records stored by the agent: statistics, export, backfill from Master.csv.
    #[command(subcommand)]
    Cdr(CdrCommand),
    /// The recordings the agent indexed: list, copy out, prune.
    #[command(subcommand)]
    Recordings(RecordingsCommand),
    /// Show the calls up now (AMI CoreShowChannels).
    Calls(CallsArgs),
    /// Hang up a channel (AMI Hangup).
    Hangup(HangupArgs),
    /// Listen to, whisper to, or barge into an extension's call (ChanSpy via Originate).
    Spy(SpyArgs),
    /// Click-to-dial: ring a user's phone, and when they answer, dial a number from the
    /// phone's own context (its routes and permissions), as if dialled on the phone.
    Dial(DialArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    Text,
    Markdown,
    Json,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The old revision (branch, tag, commit: e.g. origin/main).
    #[arg(value_name = "REV_A")]
    pub from: String,
    /// The new revision (default: the working tree).
    #[arg(value_name = "REV_B")]
    pub to: Option<String>,
    /// The config repository (default: search upward from the current directory).
    #[arg(long, value_name = "DIR")]
    pub repo: Option<PathBuf>,
    /// Only these servers (repeatable).
    #[arg(long = "server", value_name = "NAME")]
    pub servers: Vec<String>,
    /// text for terminals and logs, markdown for a merge-request comment, json for tools.
    #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
    pub format: DiffFormat,
    /// Exit 2 when some server's configuration changes (0 when none does).
    #[arg(long)]
    pub detailed_exitcode: bool,
}

#[derive(Debug, Subcommand)]
pub enum HookCommand {
    /// Install a git pre-commit hook that validates the staged configuration.
    Install(HookInstallArgs),
}

#[derive(Debug, Args)]
pub struct HookInstallArgs {
    /// The config repository (default: search upward from the current directory).
    #[arg(long, value_name = "DIR")]
    pub repo: Option<PathBuf>,
}

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

#[derive(Debug, Args)]
pub struct CdrReportArgs {
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub password: PasswordFileArgs,
    #[command(flatten)]
    pub range: RangeArgs,
    #[command(flatten)]
    pub servers: CdrServerArgs,
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
    pub db: DbArgs,
    #[command(flatten)]
    pub password: PasswordFileArgs,
    #[command(flatten)]
    pub range: RangeArgs,
    #[command(flatten)]
    pub servers: CdrServerArgs,
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

/// Where the config repository is.
#[derive(Debug, Args)]
pub struct RepoArgs {
    /// The config repository (a directory with astbase.yaml); default: search upward from
    /// the current directory.
    #[arg(long, value_name = "DIR")]
    pub repo: Option<PathBuf>,

    /// Read the repository as it is in this git revision (branch, tag, commit, HEAD~1)
    /// instead of the working tree; nothing is checked out.
    #[arg(long, value_name = "REF", conflicts_with = "staged")]
    pub rev: Option<String>,

    /// Read the repository as staged in the git index (what the next commit will hold);
    /// the pre-commit hook uses this.
    #[arg(long)]
    pub staged: bool,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub repo: RepoArgs,

    /// Output format: text for people, json for machines (on stdout).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Treat warnings as errors (exit 1 if there are any).
    #[arg(long)]
    pub deny_warnings: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct TraceArgs {
    #[command(flatten)]
    pub repo: RepoArgs,

    /// The server the call reaches.
    #[arg(long, value_name = "NAME")]
    pub server: String,

    /// The number dialled: a DID for an outside caller, any number for a phone.
    #[arg(long, value_name = "NUMBER")]
    pub number: String,

    /// The caller id of an outside caller (default: none).
    #[arg(long, value_name = "CALLER_ID", conflicts_with = "from_extension")]
    pub from: Option<String>,

    /// The call is placed by this extension's phone (its outbound permissions apply).
    #[arg(long, value_name = "EXT")]
    pub from_extension: Option<String>,

    /// The trunk an outside call arrives on (default: the server's only trunk, else the
    /// routes of every trunk).
    #[arg(long, value_name = "NAME", conflicts_with = "from_extension")]
    pub trunk: Option<String>,

    /// The wall-clock time at the PBX, `YYYY-MM-DD HH:MM` (default: now).
    #[arg(long, value_name = "TIME", default_value = "now")]
    pub at: String,

    /// Keys pressed, one per menu prompt (`1,2`; an extension number dials it directly
    /// where the menu allows).
    #[arg(long, value_name = "KEYS", value_delimiter = ',')]
    pub keys: Vec<String>,

    /// How phones behave: `101=busy,102=unavailable` (answers, busy, no-answer,
    /// unavailable; default answers).
    #[arg(long, value_name = "EXT=STATUS", value_delimiter = ',')]
    pub status: Vec<String>,

    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    #[command(flatten)]
    pub repo: RepoArgs,

    /// Only this server (repeat for several; default: all).
    #[arg(long = "server", value_name = "NAME")]
    pub servers: Vec<String>,

    /// Output directory; files go to DIR/<server>/<file>.
    #[arg(long, value_name = "DIR")]
    pub out: std::path::PathBuf,
}

/// Which servers a command acts on, and how many at once.
#[derive(Debug, Args)]
pub struct ScopeArgs {
    #[command(flatten)]
    pub repo: RepoArgs,

    /// Only this server, or `tag:T` for every server tagged T (repeat for several;
    /// default: all).
    #[arg(long = "server", value_name = "NAME|tag:T")]
    pub servers: Vec<String>,

    /// Leave this server (or `tag:T`) out (repeat for several).
    #[arg(long = "exclude", value_name = "NAME|tag:T")]
    pub exclude: Vec<String>,

    /// How many servers to work on at once.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub parallelism: usize,

    /// known_hosts file for SSH host keys (default: `project.known_hosts`, else
    /// ~/.ssh/known_hosts).
    #[arg(long, value_name = "FILE")]
    pub known_hosts: Option<std::path::PathBuf>,

    /// Record the key of a host not yet in known_hosts (a changed key is always refused).
    #[arg(long)]
    pub accept_new_host_keys: bool,

    /// Apply a firewall change even though it would drop SSH from the address astbase
    /// connects from (you will lose access unless another path exists).
    #[arg(long)]
    pub force: bool,

    /// Plan a change over the blast-radius limits (`project.safety`: the share of a
    /// server's objects changed or removed, the number of servers changed).
    #[arg(long)]
    pub allow_large_change: bool,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub scope: ScopeArgs,

    /// Save the plan (hashes of what is on each host and what would be written) for
    /// `astbase apply FILE`.
    #[arg(long, value_name = "FILE")]
    pub out: Option<std::path::PathBuf>,

    /// text for people, markdown for merge requests, json for tools (on stdout).
    #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
    pub format: PlanFormat,

    /// Exit 0 when nothing would change, 2 when something would, 1 on errors.
    #[arg(long)]
    pub detailed_exitcode: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    Text,
    Json,
    Markdown,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A plan saved by `astbase plan --out`: apply exactly it, or refuse if stale.
    #[arg(value_name = "PLAN")]
    pub plan: Option<std::path::PathBuf>,

    #[command(flatten)]
    pub scope: ScopeArgs,

    /// Apply without asking (required when not on a terminal).
    #[arg(long)]
    pub auto_approve: bool,

    /// Seconds to wait for another apply's lock on a host.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub lock_timeout: u64,

    /// Refuse to apply from a working tree with uncommitted changes under the repo (CI);
    /// without it they only get a warning.
    #[arg(long)]
    pub require_clean: bool,

    /// Restart Asterisk where a change needs it (a PJSIP transport's bind or protocol):
    /// `core restart gracefully`, which refuses new calls and restarts once the calls
    /// up have ended; apply waits for it. Without it such a server is reported
    /// "restart needed" and apply exits 1.
    #[arg(long)]
    pub restart: bool,

    /// Roll out in waves, one after the other: counts, shares and `rest`, e.g.
    /// `1,10%,rest` (a canary, then a tenth, then the others). Default:
    /// `project.rollout.waves`, else one wave.
    #[arg(long, value_name = "SIZES", value_delimiter = ',')]
    pub waves: Vec<String>,

    /// Stop the rollout before its next wave once more than this many servers (or
    /// `N%` of them) failed. Default: `project.rollout.max_failures`, else 0.
    #[arg(long, value_name = "N|N%")]
    pub max_failures: Option<String>,

    /// Run the health gate on each changed server (phones and trunks registered
    /// again after the reload, else roll back). Default: `project.rollout.gate.enabled`.
    #[arg(long)]
    pub gate: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// Whether to colour a stream: `auto` means the stream is a terminal and there is no
    /// `NO_COLOR`.
    pub fn enabled(self, terminal: bool) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && terminal
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    /// clap checks the definition (conflicting flags, duplicate names, bad defaults) only
    /// when asked or when the offending path is parsed; this asks for all of it at once.
    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}

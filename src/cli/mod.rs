//! Command-line definitions (clap). Parsing only; the work is in `commands`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

mod beside;
mod serve;
pub use beside::*;
pub use serve::*;

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
    /// Adopt a running PBX: read its configuration (read only) into YAML, with a report
    /// and a migration record for the first apply.
    Import(ImportArgs),
    /// Compare the generated configuration of two git revisions, offline: what a merge
    /// would change on which PBX.
    Diff(DiffArgs),
    /// Git hooks for a config repository.
    #[command(subcommand)]
    Hook(HookCommand),
    /// Run beside Asterisk: store CDRs from AMI in SQLite, track live calls, ban attackers.
    Agent(Box<AgentArgs>),
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
    /// The web console: live calls with hang up / listen / whisper / barge / dial, the
    /// call log and a read-only CLI, for users with roles (`serve user add`).
    Serve(Box<ServeArgs>),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The server's name in the repository.
    #[arg(long, value_name = "NAME", required_unless_present = "all")]
    pub server: Option<String>,

    /// The host to read: an SSH host name or address, or `local` for a conf dir on this
    /// machine.
    #[arg(long, value_name = "HOST", required_unless_present = "all")]
    pub host: Option<String>,

    /// Import every server of the repository (--out) that has a host but nothing on it
    /// yet, as its entry says to reach it.
    #[arg(long, conflicts_with_all = ["server", "host"])]
    pub all: bool,

    /// SSH user (default root).
    #[arg(long, value_name = "USER")]
    pub ssh_user: Option<String>,

    /// SSH port.
    #[arg(long, value_name = "PORT", default_value_t = 22)]
    pub ssh_port: u16,

    /// SSH private key file (default: the agent and ~/.ssh keys).
    #[arg(long, value_name = "FILE")]
    pub identity_file: Option<String>,

    /// Asterisk's conf dir on the host.
    #[arg(long, value_name = "DIR", default_value = "/etc/asterisk")]
    pub conf_dir: String,

    /// The config repository to write into (the YAML goes to DIR/<server>/).
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub out: std::path::PathBuf,

    /// Replace files an earlier import of this server wrote (without it, an import
    /// into a repo that has the server only shows what differs).
    #[arg(long)]
    pub overwrite: bool,

    /// known_hosts file for SSH host keys (default ~/.ssh/known_hosts).
    #[arg(long, value_name = "FILE")]
    pub known_hosts: Option<std::path::PathBuf>,

    /// Trust and record the host key of a host seen for the first time.
    #[arg(long)]
    pub accept_new_host_keys: bool,

    /// The report as text for people or json for tools (on stdout).
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
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

    /// Time frames overridden by their override code: `business-hours=closed` (open or
    /// closed; default the clock decides).
    #[arg(
        long = "override",
        value_name = "TIMEFRAME=STATE",
        value_delimiter = ','
    )]
    pub overrides: Vec<String>,

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

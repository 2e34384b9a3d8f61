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
}

/// Where the config repository is.
#[derive(Debug, Args)]
pub struct RepoArgs {
    /// The config repository (a directory with astbase.yaml); default: search upward from
    /// the current directory.
    #[arg(long, value_name = "DIR")]
    pub repo: Option<PathBuf>,
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

    /// Only this server (repeat for several; default: all).
    #[arg(long = "server", value_name = "NAME")]
    pub servers: Vec<String>,

    /// Leave this server out (repeat for several).
    #[arg(long = "exclude", value_name = "NAME")]
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
    /// Whether to colour stdout: `auto` means a terminal and no `NO_COLOR`.
    pub fn enabled(self) -> bool {
        use std::io::IsTerminal;
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::io::stdout().is_terminal()
            }
        }
    }
}

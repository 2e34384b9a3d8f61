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

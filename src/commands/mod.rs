//! One module per subcommand. Each returns an exit status or a [`CliError`]; `main` is
//! the only place that prints errors and exits.

pub mod agent;
pub mod apply;
pub mod plan;
pub mod render;
pub mod schema;
pub mod validate;

use std::io::Write;
use std::process::ExitCode;

/// Exit statuses, the same for every command.
pub mod exit {
    /// Success.
    pub const OK: u8 = 0;
    /// An error: invalid configuration, a failure, or bad usage.
    pub const ERROR: u8 = 1;
    /// `plan --detailed-exitcode`: something would change.
    pub const CHANGES: u8 = 2;
}

/// An error for the user: what went wrong and what to do about it.
#[derive(Debug)]
pub struct CliError {
    pub message: String,
    pub hint: Option<String>,
}

impl From<astbase::source::SourceError> for CliError {
    fn from(e: astbase::source::SourceError) -> Self {
        CliError {
            hint: e.hint(),
            message: e.to_string(),
        }
    }
}

impl From<astbase::render::RenderError> for CliError {
    fn from(e: astbase::render::RenderError) -> Self {
        CliError {
            hint: e.hint(),
            message: e.to_string(),
        }
    }
}

impl CliError {
    pub fn io(what: &str, path: &std::path::Path, e: std::io::Error) -> CliError {
        CliError {
            message: format!("cannot {what} {}: {e}", path.display()),
            hint: None,
        }
    }
}

/// Validates the repo for a command that needs a valid fleet: prints the diagnostics
/// (all of them on errors, one line per warning otherwise) and stops on errors.
pub fn load_valid(
    repo: Option<&std::path::Path>,
    color: bool,
) -> Result<astbase::validate::Report, CliError> {
    let cwd = std::env::current_dir().map_err(|e| CliError {
        message: format!("cannot read the current directory: {e}"),
        hint: None,
    })?;
    let root = astbase::source::find_root(repo, &cwd)?;
    let report = astbase::validate::validate_repo(&root)?;
    if report.errors() > 0 {
        eprint!(
            "{}",
            astbase::diagnostics::render_text(&report.sources, &report.diagnostics, color)
        );
        return Err(CliError {
            message: format!("the repository has {} error(s)", report.errors()),
            hint: Some("fix them (`astbase validate` shows them all) and run again".into()),
        });
    }
    for d in &report.diagnostics {
        eprintln!("{}", astbase::diagnostics::short_line(&report.sources, d));
    }
    Ok(report)
}

/// Checks that every server named on the command line exists.
pub fn check_server_names<'a>(
    fleet: &astbase::model::Fleet,
    names: impl IntoIterator<Item = &'a String>,
) -> Result<(), CliError> {
    for name in names {
        if fleet.server(name).is_none() {
            let known: Vec<&str> = fleet.servers.iter().map(|s| s.name.as_str()).collect();
            return Err(CliError {
                message: format!("no server `{name}` in the repository"),
                hint: Some(format!("servers: {}", known.join(", "))),
            });
        }
    }
    Ok(())
}

/// Writes command output to stdout. A closed pipe (`astbase validate | head`) is not an
/// error worth reporting.
pub fn print(text: &str) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(CliError {
            message: format!("cannot write output: {e}"),
            hint: None,
        }),
    }
}

pub type CommandResult = Result<ExitCode, CliError>;

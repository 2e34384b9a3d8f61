//! One module per subcommand. Each returns an exit status or a [`CliError`]; `main` is
//! the only place that prints errors and exits.

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

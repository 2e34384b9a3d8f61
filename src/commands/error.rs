//! What a command reports when it fails: [`CliError`] (a message, what caused it, and
//! what to do about it), every conversion from a library error into one, and the exit
//! statuses. The library says what went wrong; only here is it worded for the user.

use std::error::Error;
use std::path::Path;
use std::process::ExitCode;

use astbase::agent::AgentError;
use astbase::agent::ami::AmiError;
use astbase::agent::cdr::store::StoreError;
use astbase::render::RenderError;
use astbase::source::SourceError;
use astbase::source::git::GitError;

/// Exit statuses, the same for every command.
pub mod exit {
    /// Success.
    pub const OK: u8 = 0;
    /// An error: invalid configuration, a failure, or bad usage.
    pub const ERROR: u8 = 1;
    /// `plan --detailed-exitcode`: something would change.
    pub const CHANGES: u8 = 2;
    /// `apply` in waves: a wave failed, and the servers after it were not started.
    pub const STOPPED: u8 = 3;
}

/// What a command returns: the exit status, or an error for `main` to print.
pub type CommandResult = Result<ExitCode, CliError>;

/// An error for the user: what went wrong, what caused it, and what to do about it.
#[derive(Debug)]
pub struct CliError {
    message: String,
    /// The texts of the error's sources, outermost first (the chain below `message`).
    causes: Vec<String>,
    hint: Option<String>,
}

impl CliError {
    pub fn new(message: impl Into<String>) -> CliError {
        CliError {
            message: message.into(),
            causes: Vec::new(),
            hint: None,
        }
    }

    /// What to do about it, shown as `help:` under the error.
    pub fn with_hint(mut self, hint: impl Into<String>) -> CliError {
        self.hint = Some(hint.into());
        self
    }

    /// Records `cause` and its own sources below the message.
    pub fn caused_by(mut self, cause: &(dyn Error + 'static)) -> CliError {
        self.causes.extend(chain(Some(cause)));
        self
    }

    /// `cannot <what> <path>: <e>`.
    pub fn io(what: &str, path: &Path, e: std::io::Error) -> CliError {
        CliError::new(format!("cannot {what} {}: {e}", path.display())).caused_by(&e)
    }

    /// A library error as it words itself, with its sources below.
    pub fn from_error(e: &(dyn Error + 'static)) -> CliError {
        CliError {
            message: e.to_string(),
            causes: chain(e.source()),
            hint: None,
        }
    }

    fn with_hint_if(mut self, hint: Option<String>) -> CliError {
        self.hint = hint;
        self
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    /// The causes worth printing under the message: a source whose text the message
    /// (or a cause printed before it) already contains is left out, since most errors
    /// quote their source and it would otherwise be said twice.
    pub fn causes(&self) -> Vec<&str> {
        let mut shown: Vec<&str> = Vec::new();
        for cause in &self.causes {
            let said = std::iter::once(self.message.as_str())
                .chain(shown.iter().copied())
                .any(|line| line.contains(cause.as_str()));
            if !said {
                shown.push(cause);
            }
        }
        shown
    }

    pub fn hint(&self) -> Option<&str> {
        self.hint.as_deref()
    }
}

/// The message alone (what a caller that wraps this error into another one quotes).
impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// The texts of `first` and every source below it.
fn chain(first: Option<&(dyn Error + 'static)>) -> Vec<String> {
    std::iter::successors(first, |&e| e.source())
        .map(ToString::to_string)
        .collect()
}

impl From<SourceError> for CliError {
    fn from(e: SourceError) -> Self {
        CliError::from_error(&e).with_hint_if(e.hint())
    }
}

impl From<RenderError> for CliError {
    fn from(e: RenderError) -> Self {
        CliError::from_error(&e).with_hint_if(e.hint())
    }
}

impl From<GitError> for CliError {
    fn from(e: GitError) -> Self {
        CliError::from_error(&e).with_hint_if(e.hint())
    }
}

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
        CliError::from_error(&e).with_hint_if(hint)
    }
}

impl From<AgentError> for CliError {
    fn from(e: AgentError) -> Self {
        CliError::from_error(&e)
    }
}

impl From<astbase::agent::central::CentralError> for CliError {
    fn from(e: astbase::agent::central::CentralError) -> Self {
        CliError::from_error(&e)
    }
}

impl From<StoreError> for CliError {
    fn from(e: StoreError) -> Self {
        CliError::from_error(&e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] Inner);

    #[derive(Debug, thiserror::Error)]
    #[error("inner")]
    struct Inner;

    #[test]
    fn a_source_is_shown_once() {
        let e = CliError::new("cannot read x: inner").caused_by(&Inner);
        assert!(e.causes().is_empty());
        let e = CliError::new("it failed").caused_by(&Outer(Inner));
        assert_eq!(e.causes(), ["outer", "inner"]);
        let e = CliError::from_error(&Outer(Inner));
        assert_eq!((e.message(), e.causes()), ("outer", vec!["inner"]));
    }
}

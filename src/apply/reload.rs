//! Reloads through Asterisk's CLI, each judged by what it printed: `asterisk -rx` exits 0
//! even when the command failed.

use std::time::Duration;

use super::{ApplyError, ApplyOptions};
use crate::transport::Host;

/// How Asterisk answered one CLI command.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    Done,
    /// "A module reload request is already in progress": try again shortly.
    Busy,
    Failed(String),
}

/// Judges a CLI command by its output: `asterisk -rx` exits 0 even when it failed.
fn judge(status: i32, output: &str) -> Verdict {
    let lower = output.to_ascii_lowercase();
    if lower.contains("already in progress") {
        return Verdict::Busy;
    }
    let failed = status != 0
        || [
            "reload failure",
            "failed",
            "no such",
            "unable to",
            "not found",
        ]
        .iter()
        .any(|needle| lower.contains(needle));
    if failed {
        Verdict::Failed(output.trim().to_owned())
    } else {
        Verdict::Done
    }
}

/// Runs reload commands, all in one round trip, each judged by its output; one that
/// finds a reload already in progress is retried on its own (up to 10 times).
pub fn reload(
    host: &mut Host,
    commands: &[String],
    options: &ApplyOptions,
) -> Result<(), ApplyError> {
    reload_then(host, commands, options, &[]).map(drop)
}

/// Runs reload commands and then `after` (commands that read what was loaded) in the
/// same round trip, and returns the results of `after`. When a reload had to be retried,
/// `after` runs again once the reloads are done, so what it read is never from before.
pub fn reload_then(
    host: &mut Host,
    commands: &[String],
    options: &ApplyOptions,
    after: &[Vec<String>],
) -> Result<Vec<(i32, String)>, ApplyError> {
    let argvs: Vec<Vec<String>> = commands.iter().map(|c| options.cli_command(c)).collect();
    let all: Vec<Vec<String>> = argvs.iter().chain(after).cloned().collect();
    let mut results = host.commands(&all)?;
    let mut read_after = results.split_off(argvs.len());
    let mut retried = false;
    for ((command, argv), (status, output)) in commands.iter().zip(&argvs).zip(results) {
        let mut verdict = judge(status, &output);
        let mut attempt = 1;
        while verdict == Verdict::Busy && attempt < 10 {
            attempt += 1;
            retried = true;
            std::thread::sleep(Duration::from_millis(500));
            let out = host.command(argv)?;
            verdict = judge(
                out.status,
                &format!("{}{}", out.stdout_text(), out.stderr_text()),
            );
        }
        match verdict {
            Verdict::Done => {}
            Verdict::Busy => {
                return Err(ApplyError::Reload(format!(
                    "`{command}` failed: a reload was still in progress after {attempt} attempts"
                )));
            }
            Verdict::Failed(text) => {
                return Err(ApplyError::Reload(format!("`{command}` failed: {text}")));
            }
        }
    }
    if retried {
        read_after = host.commands(after)?;
    }
    Ok(read_after)
}

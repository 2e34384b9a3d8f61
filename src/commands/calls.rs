//! `astbase calls`, `astbase hangup`, `astbase spy`: call control, one short AMI
//! conversation each (login with events off, one action, logoff).

use std::process::ExitCode;
use std::time::Duration;

use astbase::agent::ami::{AmiError, Connection, Message};
use astbase::agent::control::{self, AmiTarget, ControlError, SpyMode};

use super::agent::credentials;
use super::{CliError, CommandResult, Printer, exit};
use crate::cli::{AmiArgs, CallsArgs, DialArgs, Format, HangupArgs, SpyArgs};

/// Runs one AMI conversation (login with events off) on a small runtime.
fn with_ami<T>(
    target: &AmiTarget,
    printer: &Printer,
    f: impl AsyncFnOnce(&mut Connection, Duration) -> Result<T, ControlError>,
) -> Result<T, ControlError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| ControlError::Ami(AmiError::Io(e)))?;
    let printer = *printer;
    runtime.block_on(control::session(
        target,
        move |e| printer.log(&e.to_string()),
        f,
    ))
}

/// Where AMI is and how to log in, from the flags and the old agent's variables.
pub fn target(ami: &AmiArgs) -> Result<AmiTarget, CliError> {
    Ok(AmiTarget {
        host: ami.manager_host.clone(),
        port: ami.manager_port,
        credentials: credentials(ami)?,
        timeout: Duration::from_secs(ami.timeout),
    })
}

/// Sends one action.
fn ask(target: &AmiTarget, printer: &Printer, action: Message) -> Result<(), ControlError> {
    with_ami(target, printer, async |conn, timeout| {
        control::ask(conn, action, timeout).await
    })
    .map(drop)
}

/// A control error as the command line shows it, with what to do about a refusal.
fn refused(e: ControlError, what: &str, hint: &str) -> CliError {
    match e {
        ControlError::Refused(why) => {
            CliError::new(format!("Asterisk refused to {what}: {why}")).with_hint(hint)
        }
        e => CliError::from_error(&e),
    }
}

pub fn run_calls(args: &CallsArgs, printer: &Printer) -> CommandResult {
    let items = with_ami(&target(&args.ami)?, printer, async |conn, timeout| {
        Ok(conn
            .list(Message::new([("Action", "CoreShowChannels")]), timeout)
            .await?)
    })
    .map_err(|e| CliError::from_error(&e))?;
    const COLUMNS: &[(&str, &str)] = &[
        ("Channel", "channel"),
        ("ChannelStateDesc", "state"),
        ("CallerIDNum", "caller"),
        ("ConnectedLineNum", "connected"),
        ("Exten", "exten"),
        ("Application", "application"),
        ("Duration", "duration"),
        ("BridgeId", "bridge"),
    ];
    match args.format {
        Format::Json => {
            let rows: Vec<serde_json::Map<String, serde_json::Value>> = items
                .iter()
                .map(|m| {
                    COLUMNS
                        .iter()
                        .map(|(h, name)| ((*name).to_owned(), m.get(h).unwrap_or("").into()))
                        .collect()
                })
                .collect();
            printer.out(&(serde_json::to_string_pretty(&rows).expect("rows serialize") + "\n"))?;
        }
        Format::Text => {
            let rows: Vec<Vec<String>> = items
                .iter()
                .map(|m| {
                    COLUMNS
                        .iter()
                        .map(|(h, _)| m.get(h).unwrap_or("").to_owned())
                        .collect()
                })
                .collect();
            let header: Vec<String> = COLUMNS.iter().map(|(_, n)| (*n).to_owned()).collect();
            let mut widths: Vec<usize> = header.iter().map(String::len).collect();
            for r in &rows {
                for (w, c) in widths.iter_mut().zip(r) {
                    *w = (*w).max(c.chars().count());
                }
            }
            let mut out = String::new();
            for r in std::iter::once(&header).chain(&rows) {
                let cells: Vec<String> = r
                    .iter()
                    .zip(&widths)
                    .map(|(c, w)| format!("{c:<w$}"))
                    .collect();
                out.push_str(cells.join("  ").trim_end());
                out.push('\n');
            }
            out.push_str(&format!("{} channel(s)\n", rows.len()));
            printer.out(&out)?;
        }
    }
    Ok(ExitCode::from(exit::OK))
}

pub fn run_hangup(args: &HangupArgs, printer: &Printer) -> CommandResult {
    let hangup = control::hangup(&args.channel).map_err(|e| CliError::from_error(&e))?;
    ask(&target(&args.ami)?, printer, hangup).map_err(|e| {
        refused(
            e,
            &format!("hang up {}", args.channel),
            "`astbase calls` lists the channels up now",
        )
    })?;
    printer.out(&format!("hung up {}\n", args.channel))?;
    Ok(ExitCode::from(exit::OK))
}

pub fn run_spy(args: &SpyArgs, printer: &Printer) -> CommandResult {
    let mode = match (args.whisper, args.barge) {
        (true, _) => SpyMode::Whisper,
        (_, true) => SpyMode::Barge,
        _ => SpyMode::Listen,
    };
    let originate = control::spy(&args.tech, &args.extension, &args.to, mode)
        .map_err(|e| CliError::from_error(&e))?;
    ask(&target(&args.ami)?, printer, originate).map_err(|e| {
        refused(
            e,
            "originate the spy call",
            "the AMI user needs `write = originate`",
        )
    })?;
    printer.out(&format!(
        "ringing {}/{}: answering joins {}'s call ({})\n",
        args.tech,
        args.to,
        args.extension,
        mode.as_str()
    ))?;
    Ok(ExitCode::from(exit::OK))
}

pub fn run_dial(args: &DialArgs, printer: &Printer) -> CommandResult {
    // Named by their flags here; the library checks them again for every caller.
    control::check_word("--from extension", &args.from)
        .and_then(|()| control::check_number("--to", &args.to))
        .map_err(|e| CliError::from_error(&e))?;
    let ring = Duration::from_secs(args.ring);
    let dialed = with_ami(&target(&args.ami)?, printer, async |conn, timeout| {
        control::dial(
            conn,
            timeout,
            &args.tech,
            &args.from,
            &args.to,
            args.context.as_deref(),
            ring,
        )
        .await
    })
    .map_err(|e| match e {
        ControlError::NoContext(_) => CliError::from_error(&e).with_hint("give --context"),
        ControlError::NoEndpoint(_) | ControlError::Ami(AmiError::Refused(_)) => {
            CliError::from_error(&e).with_hint(format!(
                "--from must name a PJSIP endpoint of this Asterisk (`pjsip show endpoint {}`)",
                args.from
            ))
        }
        e => refused(
            e,
            "originate the call",
            "the AMI user needs `write = originate`",
        ),
    })?;
    printer.out(&format!(
        "ringing {}: answering dials {} from {}\n",
        dialed.channel, dialed.to, dialed.context
    ))?;
    Ok(ExitCode::from(exit::OK))
}

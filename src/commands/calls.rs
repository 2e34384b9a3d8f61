//! `astbase calls`, `astbase hangup`, `astbase spy`: call control, one short AMI
//! conversation each (login with events off, one action, logoff).

use std::process::ExitCode;
use std::time::Duration;

use astbase::agent::ami::{AmiError, Connection, Kind, Message};

use super::agent::credentials;
use super::{CliError, CommandResult, Printer, exit};
use crate::cli::{AmiArgs, CallsArgs, DialArgs, Format, HangupArgs, SpyArgs};

/// Runs one AMI conversation (login with events off) on a small runtime.
fn with_ami<T>(
    ami: &AmiArgs,
    printer: &Printer,
    f: impl AsyncFnOnce(&mut Connection, Duration) -> Result<T, AmiError>,
) -> Result<T, CliError> {
    let credentials = credentials(ami)?;
    let timeout = Duration::from_secs(ami.timeout);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::new(e.to_string()).caused_by(&e))?;
    let result = runtime.block_on(async {
        let mut conn = Connection::connect(&ami.manager_host, ami.manager_port, timeout).await?;
        let printer = *printer;
        conn.on_skip(move |e| printer.log(&e.to_string()));
        conn.login(&credentials, false, timeout).await?;
        let value = f(&mut conn, timeout).await;
        conn.logoff().await;
        value
    });
    Ok(result?)
}

/// Sends one action; `Some(reason)` if Asterisk refused it.
fn ask(ami: &AmiArgs, printer: &Printer, action: Message) -> Result<Option<String>, CliError> {
    let response = with_ami(ami, printer, async |conn, timeout| {
        conn.request(action, timeout, drop).await
    })?;
    Ok(match response.kind() {
        Kind::Response(r) if r.eq_ignore_ascii_case("Success") => None,
        _ => Some(response.get("Message").unwrap_or("refused").to_owned()),
    })
}

pub fn run_calls(args: &CallsArgs, printer: &Printer) -> CommandResult {
    let items = with_ami(&args.ami, printer, async |conn, timeout| {
        conn.list(Message::new([("Action", "CoreShowChannels")]), timeout)
            .await
    })?;
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

/// Channel names and extensions go into AMI headers: one line each, nothing else.
fn check_word(what: &str, value: &str) -> Result<(), CliError> {
    if value.is_empty()
        || value
            .chars()
            .any(|c| c.is_control() || c == ',' || c == '|')
    {
        return Err(CliError::new(format!(
            "{what} `{}` is not a valid name",
            value.escape_debug()
        ))
        .with_hint("no control characters, commas or `|`"));
    }
    Ok(())
}

pub fn run_hangup(args: &HangupArgs, printer: &Printer) -> CommandResult {
    check_word("channel", &args.channel)?;
    let hangup = Message::new([("Action", "Hangup"), ("Channel", args.channel.as_str())]);
    if let Some(why) = ask(&args.ami, printer, hangup)? {
        return Err(CliError::new(format!(
            "Asterisk refused to hang up {}: {why}",
            args.channel
        ))
        .with_hint("`astbase calls` lists the channels up now"));
    }
    printer.out(&format!("hung up {}\n", args.channel))?;
    Ok(ExitCode::from(exit::OK))
}

/// ChanSpy options per mode: q (no beep announcement), w whisper, B barge.
pub fn spy_options(listen: bool, whisper: bool, barge: bool) -> &'static str {
    match (listen, whisper, barge) {
        (_, true, _) => "qw",
        (_, _, true) => "qB",
        _ => "q",
    }
}

pub fn run_spy(args: &SpyArgs, printer: &Printer) -> CommandResult {
    check_word("extension", &args.extension)?;
    check_word("--to extension", &args.to)?;
    check_word("--tech", &args.tech)?;
    let options = spy_options(args.listen, args.whisper, args.barge);
    let supervisor = format!("{}/{}", args.tech, args.to);
    // The trailing `-` keeps 101 from also matching PJSIP/1011-....
    let data = format!("{}/{}-,{options}", args.tech, args.extension);
    let callerid = format!("\"Spy {}\" <{}>", args.extension, args.to);
    let originate = Message::new([
        ("Action", "Originate"),
        ("Channel", supervisor.as_str()),
        ("Application", "ChanSpy"),
        ("Data", data.as_str()),
        ("CallerID", callerid.as_str()),
        ("Timeout", "30000"),
        ("Async", "true"),
    ]);
    if let Some(why) = ask(&args.ami, printer, originate)? {
        return Err(
            CliError::new(format!("Asterisk refused to originate the spy call: {why}"))
                .with_hint("the AMI user needs `write = originate`"),
        );
    }
    printer.out(&format!(
        "ringing {supervisor}: answering joins {}'s call ({})\n",
        args.extension,
        match options {
            "qw" => "whisper",
            "qB" => "barge",
            _ => "listen",
        }
    ))?;
    Ok(ExitCode::from(exit::OK))
}

/// A number a caller could dial on a phone: digits, `+`, `*`, `#`.
fn check_number(what: &str, value: &str) -> Result<(), CliError> {
    if value.is_empty()
        || !value
            .chars()
            .all(|c| c.is_ascii_digit() || "+*#".contains(c))
    {
        return Err(CliError::new(format!(
            "{what} `{}` is not a number a phone can dial",
            value.escape_debug()
        ))
        .with_hint("digits, `+`, `*` and `#` only, e.g. --to +74951234567"));
    }
    Ok(())
}

pub fn run_dial(args: &DialArgs, printer: &Printer) -> CommandResult {
    check_word("--from extension", &args.from)?;
    check_number("--to", &args.to)?;
    check_word("--tech", &args.tech)?;
    if let Some(context) = &args.context {
        check_word("--context", context)?;
    }
    // The phone's context and caller ID as Asterisk has them: the call goes where a call
    // dialled on the phone would, with the user's own identity and permissions.
    let endpoint = Message::new([
        ("Action", "PJSIPShowEndpoint"),
        ("Endpoint", args.from.as_str()),
    ]);
    let details = with_ami(&args.ami, printer, async |conn, timeout| {
        conn.list(endpoint, timeout).await
    })
    .map_err(|e| {
        e.with_hint(format!(
            "--from must name a PJSIP endpoint of this Asterisk (`pjsip show endpoint {}`)",
            args.from
        ))
    })?;
    let detail = details
        .iter()
        .find(|m| m.event() == Some("EndpointDetail"))
        .ok_or_else(|| {
            CliError::new(format!(
                "Asterisk sent no details of endpoint {}",
                args.from
            ))
        })?;
    let context = match &args.context {
        Some(c) => c.clone(),
        None => detail
            .get("Context")
            .filter(|c| !c.is_empty())
            .ok_or_else(|| {
                CliError::new(format!("endpoint {} has no context", args.from))
                    .with_hint("give --context")
            })?
            .to_owned(),
    };
    let callerid = detail
        .get("Callerid")
        .filter(|c| !c.is_empty())
        .map_or_else(|| format!("<{}>", args.from), str::to_owned);
    let channel = format!("{}/{}", args.tech, args.from);
    let timeout = (args.ring.clamp(5, 300) * 1000).to_string();
    let originate = Message::new([
        ("Action", "Originate"),
        ("Channel", channel.as_str()),
        ("Context", context.as_str()),
        ("Exten", args.to.as_str()),
        ("Priority", "1"),
        ("CallerID", callerid.as_str()),
        ("Timeout", timeout.as_str()),
        ("Async", "true"),
    ]);
    if let Some(why) = ask(&args.ami, printer, originate)? {
        return Err(
            CliError::new(format!("Asterisk refused to originate the call: {why}"))
                .with_hint("the AMI user needs `write = originate`"),
        );
    }
    printer.out(&format!(
        "ringing {channel}: answering dials {} from {context}\n",
        args.to
    ))?;
    Ok(ExitCode::from(exit::OK))
}

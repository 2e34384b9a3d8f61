//! Call control over AMI, shared by the command line (`astbase hangup|spy|dial`) and the
//! web console: each action is one short conversation (login with events off, the
//! action, logoff), and every value that goes into an AMI header is checked first.

use std::time::Duration;

use super::ami::{AmiError, Connection, Credentials, Kind, Message};

/// Where Asterisk's manager interface is and how to log in.
#[derive(Debug, Clone)]
pub struct AmiTarget {
    pub host: String,
    pub port: u16,
    pub credentials: Credentials,
    pub timeout: Duration,
}

/// Why an action was not done.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error(transparent)]
    Ami(#[from] AmiError),
    #[error("{what} `{}` is not a valid name (no control characters, commas or `|`)", value.escape_debug())]
    BadWord { what: &'static str, value: String },
    #[error("{what} `{}` is not a number a phone can dial (digits, `+`, `*`, `#`)", value.escape_debug())]
    BadNumber { what: &'static str, value: String },
    #[error("Asterisk refused: {0}")]
    Refused(String),
    #[error("no AMI connection is configured (set MANAGER_LOGIN / MANAGER_PASSWORD)")]
    NoAmi,
    #[error("Asterisk sent no details of endpoint {0}")]
    NoEndpoint(String),
    #[error("endpoint {0} has no context")]
    NoContext(String),
}

/// Channel names and extensions go into AMI headers: one line each, nothing else.
pub fn check_word(what: &'static str, value: &str) -> Result<(), ControlError> {
    if value.is_empty()
        || value
            .chars()
            .any(|c| c.is_control() || c == ',' || c == '|')
    {
        return Err(ControlError::BadWord {
            what,
            value: value.to_owned(),
        });
    }
    Ok(())
}

/// A number a caller could dial on a phone: digits, `+`, `*`, `#`.
pub fn check_number(what: &'static str, value: &str) -> Result<(), ControlError> {
    if value.is_empty()
        || !value
            .chars()
            .all(|c| c.is_ascii_digit() || "+*#".contains(c))
    {
        return Err(ControlError::BadNumber {
            what,
            value: value.to_owned(),
        });
    }
    Ok(())
}

/// Runs one conversation: connect, log in with events off, `f`, log off.
pub async fn session<T>(
    target: &AmiTarget,
    on_skip: impl FnMut(super::ami::FrameError) + Send + 'static,
    f: impl AsyncFnOnce(&mut Connection, Duration) -> Result<T, ControlError>,
) -> Result<T, ControlError> {
    let mut conn = Connection::connect(&target.host, target.port, target.timeout).await?;
    conn.on_skip(on_skip);
    conn.login(&target.credentials, false, target.timeout)
        .await?;
    let value = f(&mut conn, target.timeout).await;
    conn.logoff().await;
    value
}

/// Sends one action; a refusal is [`ControlError::Refused`] with Asterisk's message.
pub async fn ask(
    conn: &mut Connection,
    action: Message,
    timeout: Duration,
) -> Result<Message, ControlError> {
    let response = conn.request(action, timeout, drop).await?;
    match response.kind() {
        Kind::Response(r) if r.eq_ignore_ascii_case("Success") => Ok(response),
        _ => Err(ControlError::Refused(
            response.get("Message").unwrap_or("refused").to_owned(),
        )),
    }
}

/// `Hangup` of one channel.
pub fn hangup(channel: &str) -> Result<Message, ControlError> {
    check_word("channel", channel)?;
    Ok(Message::new([("Action", "Hangup"), ("Channel", channel)]))
}

/// How a supervisor joins a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SpyMode {
    /// Hears both sides; nobody hears them.
    Listen,
    /// Hears both sides; only the spied-on extension hears them.
    Whisper,
    /// Hears and is heard by both sides.
    Barge,
}

impl SpyMode {
    /// ChanSpy's options: q (no beep announcement), w whisper, B barge.
    pub fn options(self) -> &'static str {
        match self {
            SpyMode::Listen => "q",
            SpyMode::Whisper => "qw",
            SpyMode::Barge => "qB",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SpyMode::Listen => "listen",
            SpyMode::Whisper => "whisper",
            SpyMode::Barge => "barge",
        }
    }
}

/// Rings the supervisor's phone `tech/to`; answering joins `extension`'s call.
pub fn spy(tech: &str, extension: &str, to: &str, mode: SpyMode) -> Result<Message, ControlError> {
    check_word("extension", extension)?;
    check_word("supervisor extension", to)?;
    check_word("technology", tech)?;
    let supervisor = format!("{tech}/{to}");
    // The trailing `-` keeps 101 from also matching PJSIP/1011-....
    let data = format!("{tech}/{extension}-,{}", mode.options());
    let callerid = format!("\"Spy {extension}\" <{to}>");
    Ok(Message::new([
        ("Action", "Originate"),
        ("Channel", supervisor.as_str()),
        ("Application", "ChanSpy"),
        ("Data", data.as_str()),
        ("CallerID", callerid.as_str()),
        ("Timeout", "30000"),
        ("Async", "true"),
    ]))
}

/// A click-to-dial call: which phone rings, and where answering it dials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dial {
    pub channel: String,
    pub context: String,
    pub to: String,
}

/// Rings `tech/from`; when the user answers, `to` is dialled from the phone's own
/// context (read from Asterisk, `PJSIPShowEndpoint`) with its caller ID, so the normal
/// outbound routes and permissions apply. `context` overrides the phone's.
pub async fn dial(
    conn: &mut Connection,
    timeout: Duration,
    tech: &str,
    from: &str,
    to: &str,
    context: Option<&str>,
    ring: Duration,
) -> Result<Dial, ControlError> {
    check_word("extension", from)?;
    check_number("number", to)?;
    check_word("technology", tech)?;
    if let Some(c) = context {
        check_word("context", c)?;
    }
    let endpoint = Message::new([("Action", "PJSIPShowEndpoint"), ("Endpoint", from)]);
    let details = conn.list(endpoint, timeout).await?;
    let detail = details
        .iter()
        .find(|m| m.event() == Some("EndpointDetail"))
        .ok_or_else(|| ControlError::NoEndpoint(from.to_owned()))?;
    let context = match context {
        Some(c) => c.to_owned(),
        None => detail
            .get("Context")
            .filter(|c| !c.is_empty())
            .ok_or_else(|| ControlError::NoContext(from.to_owned()))?
            .to_owned(),
    };
    let callerid = detail
        .get("Callerid")
        .filter(|c| !c.is_empty())
        .map_or_else(|| format!("<{from}>"), str::to_owned);
    let channel = format!("{tech}/{from}");
    let ring_ms = (ring.as_secs().clamp(5, 300) * 1000).to_string();
    let originate = Message::new([
        ("Action", "Originate"),
        ("Channel", channel.as_str()),
        ("Context", context.as_str()),
        ("Exten", to),
        ("Priority", "1"),
        ("CallerID", callerid.as_str()),
        ("Timeout", ring_ms.as_str()),
        ("Async", "true"),
    ]);
    ask(conn, originate, timeout).await?;
    Ok(Dial {
        channel,
        context,
        to: to.to_owned(),
    })
}

/// Runs one Asterisk CLI command (`Command` action) and returns its output lines.
pub async fn command(
    conn: &mut Connection,
    cli: &str,
    timeout: Duration,
) -> Result<Vec<String>, ControlError> {
    check_word("command", cli)?;
    let response = conn
        .request(
            Message::new([("Action", "Command"), ("Command", cli)]),
            timeout,
            drop,
        )
        .await?;
    let output: Vec<String> = response.all("Output").map(str::to_owned).collect();
    match response.kind() {
        Kind::Response(r) if r.eq_ignore_ascii_case("Success") => Ok(output),
        // An unknown command is an Error whose output says why.
        _ if !output.is_empty() => Err(ControlError::Refused(output.join(" "))),
        _ => Err(ControlError::Refused(
            response.get("Message").unwrap_or("refused").to_owned(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spy_call_rings_the_supervisor_and_joins_the_extensions_channel() {
        let m = spy("PJSIP", "101", "201", SpyMode::Whisper).unwrap();
        assert_eq!(m.get("Channel"), Some("PJSIP/201"));
        assert_eq!(m.get("Data"), Some("PJSIP/101-,qw"));
        assert_eq!(m.get("CallerID"), Some("\"Spy 101\" <201>"));
    }

    #[test]
    fn header_values_with_line_breaks_commas_or_bars_are_refused() {
        assert!(hangup("PJSIP/101-0000\r\nAction: Originate").is_err());
        assert!(spy("PJSIP", "101,x", "201", SpyMode::Listen).is_err());
        assert!(check_number("number", "+7495*12#").is_ok());
        assert!(check_number("number", "+7495 12").is_err());
    }
}

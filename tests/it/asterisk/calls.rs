//! Calls through a real Asterisk without phones: AMI `Originate` of a Local channel into
//! a context of the dialplan, and the dialplan steps (`Newexten` events) each call went
//! through, so a test can say where it landed.
//!
//! AMI listens inside the instance's namespace; the socket is made by a thread that
//! entered the namespace (`setns`), and works from any thread after that.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use super::{AMI_SECRET, AMI_USER, Asterisk};

/// One AMI message: its headers in order.
#[derive(Debug, Clone, Default)]
pub struct Message(pub Vec<(String, String)>);

impl Message {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }
}

/// A logged-in AMI connection to an instance.
pub struct Ami {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    next_id: u64,
    /// A line and a message read in part when a read timed out.
    line: String,
    pending: Message,
    /// Events read while waiting for a response, for [`Ami::events_until`].
    events: Vec<Message>,
}

/// A TCP connection made from inside a network namespace.
pub fn connect_in(ns: &crate::netns::Netns, addr: &str) -> std::io::Result<TcpStream> {
    let path = format!("/run/netns/{}", ns.name());
    let addr = addr.to_owned();
    std::thread::spawn(move || {
        use std::os::fd::AsRawFd;
        let file = std::fs::File::open(&path)?;
        // SAFETY: setns only changes this (short-lived) thread's network namespace.
        if unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        TcpStream::connect(addr)
    })
    .join()
    .expect("connect thread")
}

impl Ami {
    pub fn connect(asterisk: &Asterisk) -> Ami {
        let deadline = Instant::now() + Duration::from_secs(20);
        let stream = loop {
            match connect_in(asterisk.netns(), "127.0.0.1:5038") {
                Ok(s) => break s,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => panic!("AMI: {e}"),
            }
        };
        stream
            .set_read_timeout(Some(Duration::from_millis(200)))
            .expect("timeout");
        let mut ami = Ami {
            reader: BufReader::new(stream.try_clone().expect("clone")),
            writer: stream,
            next_id: 0,
            line: String::new(),
            pending: Message::default(),
            events: Vec::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !ami.line.ends_with('\n') {
            assert!(Instant::now() < deadline, "no AMI banner");
            let _ = ami.reader.read_line(&mut ami.line);
        }
        ami.line.clear();
        let reply = ami.action(&[
            ("Action", "Login"),
            ("Username", AMI_USER),
            ("Secret", AMI_SECRET),
        ]);
        assert_eq!(
            reply.get("Response"),
            Some("Success"),
            "AMI login: {reply:?}"
        );
        ami
    }

    /// Sends an action and returns its response; events read meanwhile are kept.
    pub fn action(&mut self, headers: &[(&str, &str)]) -> Message {
        self.next_id += 1;
        let id = format!("t{}", self.next_id);
        let mut text = String::new();
        for (k, v) in headers {
            text.push_str(&format!("{k}: {v}\r\n"));
        }
        text.push_str(&format!("ActionID: {id}\r\n\r\n"));
        self.writer.write_all(text.as_bytes()).expect("AMI write");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            assert!(Instant::now() < deadline, "no AMI response to {headers:?}");
            match self.read() {
                Some(m)
                    if m.get("Response").is_some() && m.get("ActionID") == Some(id.as_str()) =>
                {
                    return m;
                }
                Some(m) => self.events.push(m),
                None => {}
            }
        }
    }

    /// Reads one message (None after a short wait with nothing complete to read). A
    /// message or line cut by the wait is kept for the next call.
    fn read(&mut self) -> Option<Message> {
        loop {
            match self.reader.read_line(&mut self.line) {
                Ok(0) => return None,
                Ok(_) if !self.line.ends_with('\n') => continue,
                Ok(_) => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    return None;
                }
                Err(e) => panic!("AMI read: {e}"),
            }
            let line = std::mem::take(&mut self.line);
            let line = line.trim_end_matches(['\r', '\n']);
            if line.is_empty() {
                if self.pending.0.is_empty() {
                    continue;
                }
                return Some(std::mem::take(&mut self.pending));
            }
            if let Some((k, v)) = line.split_once(": ") {
                self.pending.0.push((k.to_owned(), v.to_owned()));
            } else if let Some(k) = line.strip_suffix(':') {
                self.pending.0.push((k.to_owned(), String::new()));
            }
        }
    }

    /// Reads events until `done` says so or `limit` passes; returns them all.
    pub fn events_until(
        &mut self,
        limit: Duration,
        mut done: impl FnMut(&[Message]) -> bool,
    ) -> Vec<Message> {
        let deadline = Instant::now() + limit;
        let mut events = std::mem::take(&mut self.events);
        if done(&events) {
            return events;
        }
        while Instant::now() < deadline {
            if let Some(m) = self.read() {
                events.push(m);
                if done(&events) {
                    break;
                }
            }
        }
        events
    }
}

/// A call to place: a number dialled into a context, with a caller id.
#[derive(Debug, Clone)]
pub struct Call {
    pub context: String,
    pub number: String,
    pub caller: String,
    /// DTMF the caller sends once the call is answered (a second after, one key every
    /// half second), then it stays on the line 7 s (past a menu's 5 s wait for more
    /// digits); none: the caller stays silent for the hold time.
    pub keys: String,
}

impl Call {
    pub fn new(context: &str, number: &str, caller: &str) -> Call {
        Call {
            context: context.to_owned(),
            number: number.to_owned(),
            caller: caller.to_owned(),
            keys: String::new(),
        }
    }

    pub fn pressing(mut self, keys: &str) -> Call {
        self.keys = keys.to_owned();
        self
    }
}

/// One dialplan step a call ran: `context,exten,priority: App(data)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub context: String,
    pub exten: String,
    pub app: String,
    pub data: String,
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}/{}: {}({})",
            self.context, self.exten, self.app, self.data
        )
    }
}

/// The steps of a call, in order.
#[derive(Debug, Clone, Default)]
pub struct Trace(pub Vec<Step>);

impl Trace {
    /// The first step running `app`, e.g. where the call reached `Queue` or `VoiceMail`.
    pub fn first(&self, app: &str) -> Option<&Step> {
        self.0.iter().find(|s| s.app.eq_ignore_ascii_case(app))
    }

    /// Whether the call ran `app` with exactly `data`.
    pub fn ran(&self, app: &str, data: &str) -> bool {
        self.0
            .iter()
            .any(|s| s.app.eq_ignore_ascii_case(app) && s.data == data)
    }

    /// Whether any step was in `context`.
    pub fn visited(&self, context: &str) -> bool {
        self.0.iter().any(|s| s.context == context)
    }
}

impl std::fmt::Display for Trace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for s in &self.0 {
            writeln!(f, "  {s}")?;
        }
        Ok(())
    }
}

/// Places the calls at once (each on a Local channel whose other end waits `hold`
/// seconds, its originated half's unique id `astbase-test-N`) and returns each call's
/// dialplan steps, in the order of `calls`. A call
/// ends when its channel hangs up, or after `hold` + a few seconds.
pub fn place(asterisk: &Asterisk, calls: &[Call], hold: u32) -> Vec<Trace> {
    let mut ami = Ami::connect(asterisk);
    // Linkedid of each call's originated channel, from the OriginateResponse.
    let mut ids: Vec<String> = Vec::new();
    for call in calls {
        let channel = format!("Local/{}@{}", call.number, call.context);
        let hold = hold.to_string();
        let callerid = format!("\"test\" <{}>", call.caller);
        // Unique across every call of the test run: CDRs are told apart by it.
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let id = format!(
            "astbase-test-{}",
            NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        );
        // The originated half's application talks to the dialplan half: `Wait` keeps
        // the line open; `SendDTMF` (with `w` half-second pauses) presses keys.
        let (app, data) = if call.keys.is_empty() {
            ("Wait", hold.clone())
        } else {
            let keys: Vec<String> = call.keys.chars().map(String::from).collect();
            (
                "SendDTMF",
                format!("ww{}{}", keys.join("w"), "w".repeat(14)),
            )
        };
        let reply = ami.action(&[
            ("Action", "Originate"),
            ("Channel", &channel),
            ("Application", app),
            ("Data", &data),
            ("CallerID", &callerid),
            ("Timeout", "30000"),
            ("Async", "true"),
            ("ChannelId", &id),
        ]);
        assert_eq!(reply.get("Response"), Some("Success"), "{reply:?}");
        ids.push(id);
    }
    // The ;1 half gets the ChannelId as its Uniqueid, and both halves share it as Linkedid.
    let limit = Duration::from_secs(u64::from(hold) + 15);
    let events = ami.events_until(limit, |events| {
        let mut hung_up: BTreeMap<&str, usize> = BTreeMap::new();
        for e in events.iter().filter(|e| e.get("Event") == Some("Hangup")) {
            if let Some(linked) = e.get("Linkedid") {
                *hung_up.entry(linked).or_default() += 1;
            }
        }
        // Both halves of every call are gone.
        ids.iter()
            .all(|id| hung_up.get(id.as_str()).copied().unwrap_or(0) >= 2)
    });
    ids.iter()
        .zip(calls)
        .map(|(id, call)| {
            // The call's own channel: the ;2 half of its Local channel (the ;1 half only
            // runs the Wait of the originate; ring group members' Local channels share
            // the linkedid but are other calls' legs).
            let own = format!("Local/{}@{}-", call.number, call.context);
            Trace(
                events
                    .iter()
                    .filter(|e| e.get("Event") == Some("Newexten") && e.get("Linkedid") == Some(id))
                    .filter(|e| {
                        e.get("Channel")
                            .is_some_and(|c| c.starts_with(&own) && c.ends_with(";2"))
                    })
                    .map(|e| Step {
                        context: e.get("Context").unwrap_or("").to_owned(),
                        exten: e.get("Extension").unwrap_or("").to_owned(),
                        app: e.get("Application").unwrap_or("").to_owned(),
                        data: e.get("AppData").unwrap_or("").to_owned(),
                    })
                    .collect(),
            )
        })
        .collect()
}

/// The dialplan steps among AMI events, one line each:
/// `CHANNEL CONTEXT/EXTEN: App(data)` (from `Newexten`).
pub fn newexten_steps(events: &[Message]) -> Vec<String> {
    events
        .iter()
        .filter(|e| e.get("Event") == Some("Newexten"))
        .map(|e| {
            format!(
                "{} {}/{}: {}({})",
                e.get("Channel").unwrap_or(""),
                e.get("Context").unwrap_or(""),
                e.get("Extension").unwrap_or(""),
                e.get("Application").unwrap_or(""),
                e.get("AppData").unwrap_or("")
            )
        })
        .collect()
}

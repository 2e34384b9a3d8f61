//! A stand-in for Asterisk's manager interface on 127.0.0.1, faithful to the transcripts
//! in tests/fixtures/ami/ (captured from Asterisk 22.10.1): the banner, `Permission
//! denied` before login, a failed login answered after about a second and then the
//! connection closed, `FullyBooted` after a login with events on, `Ping: Pong` with a
//! timestamp, list actions (`EventList: start` ... `Complete`), Hangup, async Originate,
//! Logoff's `Goodbye`. Like Asterisk (manager.conf `writetimeout`, 100 ms), it drops a
//! client that does not read what it is sent.
//!
//! Each connection that logs in is fed the next queued [`Feed`]: the bytes of an event
//! stream (real transcripts or synthetic ones), then what to do at its end.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const BANNER: &str = "Asterisk Call Manager/11.0.0\r\n";

/// What happens after a feed's bytes are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Then {
    /// Keep the connection, answering actions.
    Hold,
    /// Close it (Asterisk restarting).
    Close,
}

#[derive(Debug, Clone)]
pub struct Feed {
    pub bytes: Vec<u8>,
    pub then: Then,
}

/// One action the double received, as its headers.
pub type Action = Vec<(String, String)>;

#[derive(Default)]
struct Shared {
    feeds: Mutex<VecDeque<Feed>>,
    actions: Mutex<Vec<Action>>,
    /// Raw `CoreShowChannel` item bodies (without ActionID) for CoreShowChannels.
    channels: Mutex<Vec<String>>,
    connections: AtomicUsize,
    logins: AtomicUsize,
    dropped_slow: AtomicUsize,
    ignore_pings: AtomicBool,
    /// Start every `CoreShowChannels` listing and never finish it.
    endless_listings: AtomicBool,
    /// manager.conf's `writetimeout` in ms (0: Asterisk's default, 100).
    write_timeout_ms: AtomicUsize,
    /// The newest logged-in connection, for events sent while it is held.
    live: Mutex<Option<Arc<Mutex<TcpStream>>>>,
}

pub struct AmiDouble {
    pub port: u16,
    shared: Arc<Shared>,
}

fn get<'a>(action: &'a Action, key: &str) -> Option<&'a str> {
    action
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v.as_str())
}

impl AmiDouble {
    /// Listens on 127.0.0.1 for a user `odoo` with this secret.
    pub fn start(secret: &str) -> AmiDouble {
        AmiDouble::on(TcpListener::bind("127.0.0.1:0").unwrap(), secret)
    }

    /// The same on a listener made elsewhere (inside a test's network namespace).
    pub fn on(listener: TcpListener, secret: &str) -> AmiDouble {
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Shared::default());
        let s = shared.clone();
        let secret = secret.to_owned();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                s.connections.fetch_add(1, Ordering::SeqCst);
                let (s, secret) = (s.clone(), secret.clone());
                std::thread::spawn(move || serve(stream, &s, &secret));
            }
        });
        AmiDouble { port, shared }
    }

    pub fn feed(&self, bytes: Vec<u8>, then: Then) {
        self.shared
            .feeds
            .lock()
            .unwrap()
            .push_back(Feed { bytes, then });
    }

    /// Sends events on the newest logged-in connection now (after its feed, as
    /// Asterisk sends events as calls end); false if there is none or it broke.
    pub fn send_live(&self, bytes: &[u8]) -> bool {
        let live = self.shared.live.lock().unwrap().clone();
        live.is_some_and(|out| {
            whole_messages(bytes, 16 * 1024).all(|chunk| send(&out, &self.shared, chunk))
        })
    }

    pub fn set_channels(&self, items: Vec<String>) {
        *self.shared.channels.lock().unwrap() = items;
    }

    /// Answers `CoreShowChannels` with its start and items but never its end.
    pub fn endless_listings(&self, endless: bool) {
        self.shared
            .endless_listings
            .store(endless, Ordering::SeqCst);
    }

    /// As manager.conf's `writetimeout`: how long a client may not read before it is
    /// dropped (for new connections).
    pub fn write_timeout(&self, timeout: Duration) {
        self.shared
            .write_timeout_ms
            .store(timeout.as_millis() as usize, Ordering::SeqCst);
    }

    pub fn ignore_pings(&self, ignore: bool) {
        self.shared.ignore_pings.store(ignore, Ordering::SeqCst);
    }

    pub fn actions(&self) -> Vec<Action> {
        self.shared.actions.lock().unwrap().clone()
    }

    pub fn action_named(&self, name: &str) -> Vec<Action> {
        self.actions()
            .into_iter()
            .filter(|a| get(a, "Action").is_some_and(|n| n.eq_ignore_ascii_case(name)))
            .collect()
    }

    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }

    pub fn logins(&self) -> usize {
        self.shared.logins.load(Ordering::SeqCst)
    }

    #[allow(dead_code)]
    pub fn dropped_slow(&self) -> usize {
        self.shared.dropped_slow.load(Ordering::SeqCst)
    }
}

/// Writes like Asterisk: a client that cannot take the bytes within 100 ms is dropped.
fn send(out: &Mutex<TcpStream>, shared: &Shared, bytes: &[u8]) -> bool {
    let mut out = out.lock().unwrap();
    match out.write_all(bytes) {
        Ok(()) => true,
        Err(e) => {
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) {
                shared.dropped_slow.fetch_add(1, Ordering::SeqCst);
            }
            let _ = out.shutdown(std::net::Shutdown::Both);
            false
        }
    }
}

fn serve(stream: TcpStream, shared: &Arc<Shared>, secret: &str) {
    let _ = stream.set_nodelay(true);
    let ms = match shared.write_timeout_ms.load(Ordering::SeqCst) {
        0 => 100,
        ms => ms as u64,
    };
    let _ = stream.set_write_timeout(Some(Duration::from_millis(ms)));
    let out = Arc::new(Mutex::new(stream.try_clone().unwrap()));
    if !send(&out, shared, BANNER.as_bytes()) {
        return;
    }
    let mut reader = BufReader::new(stream);
    let mut logged_in = false;
    loop {
        // One action: header lines up to an empty line.
        let mut action: Action = Vec::new();
        loop {
            let mut line = String::new();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            let line = line.trim_end_matches(['\r', '\n']);
            if line.is_empty() {
                break;
            }
            let (k, v) = line.split_once(':').unwrap_or((line, ""));
            action.push((k.to_owned(), v.trim_start().to_owned()));
        }
        if action.is_empty() {
            continue;
        }
        shared.actions.lock().unwrap().push(action.clone());
        let id = get(&action, "ActionID").unwrap_or("").to_owned();
        let name = get(&action, "Action").unwrap_or("").to_ascii_lowercase();
        let reply = |text: String| send(&out, shared, text.as_bytes());
        if name == "login" {
            let ok =
                get(&action, "Username") == Some("odoo") && get(&action, "Secret") == Some(secret);
            if !ok {
                // Asterisk answers a failed login after about a second, then hangs up.
                std::thread::sleep(Duration::from_millis(1000));
                reply(format!(
                    "Response: Error\r\nActionID: {id}\r\nMessage: Authentication failed\r\n\r\n"
                ));
                let _ = out.lock().unwrap().shutdown(std::net::Shutdown::Both);
                return;
            }
            logged_in = true;
            shared.logins.fetch_add(1, Ordering::SeqCst);
            reply(format!(
                "Response: Success\r\nActionID: {id}\r\nMessage: Authentication accepted\r\n\r\n"
            ));
            // Events go only to sessions that asked for them.
            if get(&action, "Events").is_some_and(|e| e.eq_ignore_ascii_case("off")) {
                continue;
            }
            *shared.live.lock().unwrap() = Some(out.clone());
            reply("Event: FullyBooted\r\nPrivilege: system,all\r\nUptime: 5\r\nLastReload: 0\r\nStatus: Fully Booted\r\n\r\n".into());
            let feed = shared.feeds.lock().unwrap().pop_front();
            if let Some(feed) = feed {
                let (out, shared) = (out.clone(), shared.clone());
                std::thread::spawn(move || {
                    // Large feeds go out in pieces of whole messages, as Asterisk writes
                    // each message under its session lock: a reply to an action never
                    // lands inside an event.
                    for chunk in whole_messages(&feed.bytes, 16 * 1024) {
                        if !send(&out, &shared, chunk) {
                            return;
                        }
                    }
                    if feed.then == Then::Close {
                        // FIN, not RST: what was sent stays readable.
                        let _ = out.lock().unwrap().shutdown(std::net::Shutdown::Write);
                    }
                });
            }
            continue;
        }
        if !logged_in {
            reply(format!(
                "Response: Error\r\nActionID: {id}\r\nMessage: Permission denied\r\n\r\n"
            ));
            continue;
        }
        let ok = match name.as_str() {
            "ping" if shared.ignore_pings.load(Ordering::SeqCst) => true,
            "ping" => reply(format!(
                "Response: Success\r\nActionID: {id}\r\nPing: Pong\r\nTimestamp: 1795686854.105992\r\n\r\n"
            )),
            "coreshowchannels" => {
                let items = shared.channels.lock().unwrap().clone();
                let mut text = format!(
                    "Response: Success\r\nActionID: {id}\r\nEventList: start\r\nMessage: Channels will follow\r\n\r\n"
                );
                for item in &items {
                    text.push_str(&format!(
                        "Event: CoreShowChannel\r\nActionID: {id}\r\n{item}\r\n"
                    ));
                }
                if !shared.endless_listings.load(Ordering::SeqCst) {
                    text.push_str(&format!(
                        "Event: CoreShowChannelsComplete\r\nActionID: {id}\r\nEventList: Complete\r\nListItems: {}\r\n\r\n",
                        items.len()
                    ));
                }
                reply(text)
            }
            "hangup" => {
                let channel = get(&action, "Channel").unwrap_or("");
                let known = shared
                    .channels
                    .lock()
                    .unwrap()
                    .iter()
                    .any(|c| c.contains(&format!("Channel: {channel}\r\n")));
                reply(if known {
                    format!(
                        "Response: Success\r\nActionID: {id}\r\nMessage: Channel Hungup\r\n\r\n"
                    )
                } else {
                    format!("Response: Error\r\nActionID: {id}\r\nMessage: No such channel\r\n\r\n")
                })
            }
            "command" => reply(command_reply(&id, get(&action, "Command").unwrap_or(""))),
            "originate" => reply(format!(
                "Response: Success\r\nActionID: {id}\r\nMessage: Originate successfully queued\r\n\r\n"
            )),
            "logoff" => {
                reply(format!(
                    "Response: Goodbye\r\nActionID: {id}\r\nMessage: Thanks for all the fish.\r\n\r\n"
                ));
                let _ = out.lock().unwrap().shutdown(std::net::Shutdown::Both);
                return;
            }
            _ => reply(format!(
                "Response: Error\r\nActionID: {id}\r\nMessage: Invalid/unknown command: {}. Use Action: ListCommands to show available commands.\r\n\r\n",
                get(&action, "Action").unwrap_or("")
            )),
        };
        if !ok {
            return;
        }
    }
}

/// Asterisk 22's answer to a CLI command, as it printed it (tests/fixtures/ami/
/// command-and-lists.txt): `core show channels` during that capture's call, and "No such
/// command" for anything it does not know.
fn command_reply(id: &str, command: &str) -> String {
    let capture = include_str!("../fixtures/ami/command-and-lists.txt");
    let answer = |capture_id: &str| -> String {
        // The capture is the wire's bytes: CRLF line ends.
        let start = capture
            .find(&format!("ActionID: {capture_id}\r\n"))
            .expect("the capture has this answer");
        let block_start = capture[..start].rfind("Response: ").expect("response line");
        let block_end = capture[start..]
            .find("\r\n\r\n")
            .map_or(capture.len(), |e| start + e);
        capture[block_start..block_end].replace(
            &format!("ActionID: {capture_id}"),
            &format!("ActionID: {id}"),
        ) + "\r\n\r\n"
    };
    match command {
        "core show channels" => answer("cmd-1"),
        other => answer("cmd-3").replace("'no such command'", &format!("'{other}'")),
    }
}

/// Splits a stream into pieces of about `size` bytes that end where a message ends (the
/// last piece may be a message cut short, on purpose).
fn whole_messages(bytes: &[u8], size: usize) -> impl Iterator<Item = &[u8]> {
    // Found as they are sent (a scan of the whole feed first would delay the first
    // byte by as long as the bench takes to read it all).
    let mut start = 0;
    std::iter::from_fn(move || {
        if start >= bytes.len() {
            return None;
        }
        let window = (start + size).min(bytes.len());
        let end = if window == bytes.len() {
            window
        } else {
            match memchr::memmem::rfind(&bytes[start..window], b"\r\n\r\n") {
                Some(at) => start + at + 4,
                // One message longer than a piece: up to its end.
                None => memchr::memmem::find(&bytes[window..], b"\r\n\r\n")
                    .map_or(bytes.len(), |at| window + at + 4),
            }
        };
        let piece = &bytes[start..end];
        start = end;
        Some(piece)
    })
}

/// The events a real Asterisk sent after login in a transcript (its banner and the
/// login response removed).
pub fn transcript_events(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/ami")
        .join(name);
    let text = std::fs::read(&path).unwrap();
    let banner_end = text.iter().position(|b| *b == b'\n').unwrap() + 1;
    let rest = &text[banner_end..];
    let login_end = rest
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a login response")
        + 4;
    rest[login_end..].to_vec()
}

/// The `Event: Cdr` messages of a transcript, as they were sent.
pub fn transcript_cdrs(name: &str) -> Vec<String> {
    String::from_utf8(transcript_events(name))
        .unwrap()
        .split("\r\n\r\n")
        .filter(|m| m.starts_with("Event: Cdr\r\n"))
        .map(|m| format!("{m}\r\n\r\n"))
        .collect()
}

/// A synthetic CDR shaped like the transcripts' (cdr_manager with LinkedID, Sequence
/// and PeerAccount mapped), unique by `n`.
pub fn synthetic_cdr(n: usize) -> String {
    let second = n % 60;
    let minute = (n / 60) % 60;
    let hour = 8 + (n / 3600) % 10;
    format!(
        "Event: Cdr\r\nPrivilege: cdr,all\r\nAccountCode: \r\nSource: 1{src:02}\r\nDestination: 2{dst:02}\r\n\
         DestinationContext: odoo-internal\r\nCallerID: \"User {src}\" <1{src:02}>\r\n\
         Channel: PJSIP/1{src:02}-{n:08x}\r\nDestinationChannel: PJSIP/2{dst:02}-{m:08x}\r\n\
         LastApplication: Dial\r\nLastData: PJSIP/2{dst:02},30,tT\r\n\
         StartTime: 2026-11-26 {hour:02}:{minute:02}:{second:02}\r\nAnswerTime: {answer}\r\n\
         EndTime: 2026-11-26 {hour:02}:{minute:02}:{second:02}\r\nDuration: {dur}\r\nBillableSeconds: {bill}\r\n\
         Disposition: {disp}\r\nAMAFlags: DOCUMENTATION\r\nUniqueID: 1795686785.{n}\r\nUserField: \r\n\
         LinkedID: 1795686785.{n}\r\nSequence: {n}\r\nPeerAccount: \r\n\r\n",
        src = n % 50,
        dst = n % 40,
        m = n + 1,
        answer = if n.is_multiple_of(3) {
            String::new()
        } else {
            format!("2026-11-26 {hour:02}:{minute:02}:{second:02}")
        },
        dur = 5 + n % 100,
        bill = if n.is_multiple_of(3) { 0 } else { n % 100 },
        disp = if n.is_multiple_of(3) {
            "NO ANSWER"
        } else {
            "ANSWERED"
        },
    )
}

/// `n` calls that come and go: a Newchannel and a Hangup each.
pub fn channel_flood(n: usize) -> Vec<u8> {
    let mut text = String::with_capacity(n * 700);
    for i in 0..n {
        let id = format!("1795686785.{i}");
        text.push_str(&format!(
            "Event: Newchannel\r\nPrivilege: call,all\r\nChannel: PJSIP/101-{i:08x}\r\nChannelState: 0\r\n\
             ChannelStateDesc: Down\r\nCallerIDNum: 101\r\nCallerIDName: Anna\r\nConnectedLineNum: <unknown>\r\n\
             ConnectedLineName: <unknown>\r\nLanguage: en\r\nAccountCode: \r\nContext: odoo-phones\r\nExten: 102\r\n\
             Priority: 1\r\nUniqueid: {id}\r\nLinkedid: {id}\r\n\r\n\
             Event: Hangup\r\nPrivilege: call,all\r\nChannel: PJSIP/101-{i:08x}\r\nChannelState: 6\r\n\
             ChannelStateDesc: Up\r\nCallerIDNum: 101\r\nCallerIDName: Anna\r\nConnectedLineNum: 102\r\n\
             ConnectedLineName: Boris\r\nLanguage: en\r\nAccountCode: \r\nContext: odoo-internal\r\nExten: 102\r\n\
             Priority: 1\r\nUniqueid: {id}\r\nLinkedid: {id}\r\nCause: 16\r\nCause-txt: Normal Clearing\r\n\r\n"
        ));
    }
    text.into_bytes()
}

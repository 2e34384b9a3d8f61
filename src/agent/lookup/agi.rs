//! The FastAGI server the dialplan calls for an unknown caller:
//! `AGI(agi://127.0.0.1:4573/cidname,+74951234567)`. Asterisk connects, sends its
//! `agi_*` variables and a blank line; the agent looks the number up and, for a known
//! caller, sends `SET VARIABLE CALLERID(name) "…"`, reads Asterisk's `200 result=1` and
//! closes, which ends the AGI and lets the dialplan go on.
//!
//! Each connection is served on its own thread (a lookup waits on the CRM), at most
//! [`MAX_CONNECTIONS`] at once; past that, a connection is closed at once and the call
//! keeps its name. Every read has a deadline, so a half-open connection cannot hold a
//! thread.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use super::{Found, Lookup, LookupError};
use crate::agent::{Event, Log};

/// FastAGI's registered port.
pub const DEFAULT_PORT: u16 = 4573;
/// The script name the dialplan asks for.
pub const SCRIPT: &str = "cidname";
/// Connections served at once.
pub const MAX_CONNECTIONS: usize = 64;
/// How long Asterisk may take to send its variables, or to answer a command.
const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// The most an AGI environment may hold (Asterisk sends ~30 short lines).
const MAX_ENV_LINES: usize = 200;
const MAX_LINE_BYTES: u64 = 4096;

/// What one AGI request asked, from its environment.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Request {
    /// `agi_network_script`: the path of the `agi://` URL.
    pub script: String,
    /// `agi_arg_1`: the caller's E.164 number.
    pub number: String,
    /// `agi_uniqueid`, for the log.
    pub uniqueid: String,
}

/// Reads the environment block up to its blank line. `None` when the connection ends
/// first or sends more than an environment holds.
pub fn read_request(reader: &mut impl BufRead) -> Option<Request> {
    let mut request = Request::default();
    for _ in 0..MAX_ENV_LINES {
        let mut line = String::new();
        let read = Read::take(&mut *reader, MAX_LINE_BYTES)
            .read_line(&mut line)
            .ok()?;
        if read == 0 {
            return None;
        }
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            return Some(request);
        }
        let Some((key, value)) = line.split_once(": ") else {
            continue;
        };
        match key {
            "agi_network_script" => request.script = value.to_owned(),
            "agi_arg_1" => request.number = value.to_owned(),
            "agi_uniqueid" => request.uniqueid = value.to_owned(),
            _ => {}
        }
    }
    None
}

/// The command that sets a caller's name. Names are cleaned to letters, digits,
/// spaces and `. & ' / @ + _ -` (`contact::display_name`), so no quote or backslash can
/// end the argument early.
pub fn set_name_command(name: &str) -> String {
    format!("SET VARIABLE CALLERID(name) \"{name}\"\n")
}

/// Whether a number is what the dialplan passes: `+` and 7 to 15 digits.
fn is_e164(number: &str) -> bool {
    number
        .strip_prefix('+')
        .is_some_and(|d| (7..=15).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()))
}

/// The running server: stop it with [`Server::stop`].
pub struct Server {
    addr: SocketAddr,
    stopping: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting (connections being served finish on their own, within their
    /// deadlines).
    pub fn stop(mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        // Wake the blocking accept.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Listens on the lookup's address and serves each connection on its own thread.
pub fn start(lookup: Arc<Lookup>, log: Log) -> Result<Server, LookupError> {
    let wanted = lookup.listen_addr();
    let bind = |source| LookupError::Bind {
        addr: wanted,
        source,
    };
    let listener = TcpListener::bind(wanted).map_err(bind)?;
    let addr = listener.local_addr().map_err(bind)?;
    log.emit(Event::LookupListening(addr));
    let stopping = Arc::new(AtomicBool::new(false));
    let busy = Arc::new(AtomicUsize::new(0));
    let stop = stopping.clone();
    let thread = std::thread::Builder::new()
        .name("astbase-agi".into())
        .spawn(move || {
            for stream in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(stream) = stream else { continue };
                if busy.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
                    busy.fetch_sub(1, Ordering::SeqCst);
                    log.emit(Event::LookupBusy);
                    continue;
                }
                let (one_lookup, one_log, one_busy) = (lookup.clone(), log.clone(), busy.clone());
                let spawned = std::thread::Builder::new()
                    .name("astbase-agi-call".into())
                    .spawn(move || {
                        serve(stream, &one_lookup, &one_log);
                        one_busy.fetch_sub(1, Ordering::SeqCst);
                    });
                if spawned.is_err() {
                    busy.fetch_sub(1, Ordering::SeqCst);
                    log.emit(Event::LookupBusy);
                }
            }
        })
        .expect("a thread can be spawned");
    Ok(Server {
        addr,
        stopping,
        thread: Some(thread),
    })
}

/// One AGI request: read it, look the number up, set the name if there is one.
fn serve(stream: TcpStream, lookup: &Lookup, log: &Log) {
    let _ = stream.set_read_timeout(Some(READ_TIMEOUT));
    let _ = stream.set_write_timeout(Some(READ_TIMEOUT));
    let _ = stream.set_nodelay(true);
    let Ok(read_half) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(read_half);
    let Some(request) = read_request(&mut reader) else {
        return;
    };
    if request.script != SCRIPT || !is_e164(&request.number) {
        log.emit(Event::LookupRefused {
            script: request.script,
            number: request.number,
        });
        return;
    }
    let found = lookup.name_of(&request.number);
    let name = match &found {
        Found::Answer { name, .. } => name.clone(),
        Found::Failed(_) => None,
    };
    log.emit(Event::LookupDone {
        number: request.number.clone(),
        found,
    });
    let Some(name) = name else { return };
    let mut out = stream;
    if out.write_all(set_name_command(&name).as_bytes()).is_err() {
        return;
    }
    // Asterisk answers `200 result=1`; read it so the variable is set before closing.
    let mut answer = String::new();
    let _ = Read::take(&mut reader, MAX_LINE_BYTES).read_line(&mut answer);
    if !answer.starts_with("200") {
        log.emit(Event::LookupRefused {
            script: format!("SET VARIABLE answered {:?}", answer.trim_end()),
            number: request.number,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_is_read_from_asterisks_environment_block() {
        let env = "agi_network: yes\nagi_network_script: cidname\nagi_request: \
                   agi://127.0.0.1:4573/cidname\nagi_channel: PJSIP/carrier-00000001\n\
                   agi_uniqueid: 1795686785.1\nagi_arg_1: +74951234567\n\nHANGUP\n";
        let request = read_request(&mut env.as_bytes()).unwrap();
        assert_eq!(
            request,
            Request {
                script: "cidname".into(),
                number: "+74951234567".into(),
                uniqueid: "1795686785.1".into(),
            }
        );
    }

    #[test]
    fn a_connection_that_ends_before_its_blank_line_asks_nothing() {
        assert_eq!(
            read_request(&mut "agi_network: yes\nagi_arg_1: +7".as_bytes()),
            None
        );
        let endless = "agi_x: y\n".repeat(MAX_ENV_LINES + 1);
        assert_eq!(read_request(&mut endless.as_bytes()), None);
    }

    #[test]
    fn only_e164_numbers_are_looked_up() {
        assert!(is_e164("+74951234567"));
        assert!(!is_e164("74951234567"));
        assert!(!is_e164("+7495\"x"));
        assert!(!is_e164("+123"));
    }

    #[test]
    fn the_name_is_set_as_one_quoted_argument() {
        assert_eq!(
            set_name_command("Maria Ivanova (Globex)"),
            "SET VARIABLE CALLERID(name) \"Maria Ivanova (Globex)\"\n"
        );
    }
}

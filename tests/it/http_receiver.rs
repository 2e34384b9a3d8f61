//! A CRM's webhook receiver on 127.0.0.1 for the tests: real HTTP/1.1 over TCP, answering
//! each request as its script says (200, an error status, an answer that comes too late,
//! or a connection closed without one), and recording what arrived.

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How to answer one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    Ok,
    Status(u16),
    /// Take the event (as a slow CRM would) but answer 200 only after this long,
    /// past the sender's timeout.
    Late(Duration),
    /// Read the request, then close the connection without answering.
    Close,
    /// 200 with this JSON body (a CRM's answer to a lookup).
    Json(&'static str),
}

/// One request as it arrived.
#[derive(Debug, Clone)]
pub struct Request {
    pub path: String,
    /// Header names in lower case.
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
    pub reply: Reply,
}

impl Request {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", String::as_str)
    }

    /// Whether the receiver kept the event (it may still have failed for the sender).
    pub fn taken(&self) -> bool {
        matches!(self.reply, Reply::Ok | Reply::Late(_) | Reply::Json(_))
    }
}

#[derive(Default)]
struct Shared {
    script: Mutex<VecDeque<Reply>>,
    requests: Mutex<Vec<Request>>,
}

pub struct HttpReceiver {
    pub port: u16,
    shared: Arc<Shared>,
}

impl HttpReceiver {
    /// Answers with `script` in order, then 200 to everything.
    pub fn start(script: &[Reply]) -> HttpReceiver {
        HttpReceiver::on(TcpListener::bind("127.0.0.1:0").unwrap(), script)
    }

    /// The same on 127.0.0.1 inside a test's network namespace.
    pub fn start_in(ns: &crate::netns::Netns, script: &[Reply]) -> HttpReceiver {
        HttpReceiver::on(ns.bind("127.0.0.1:0").unwrap(), script)
    }

    fn on(listener: TcpListener, script: &[Reply]) -> HttpReceiver {
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Shared::default());
        shared.script.lock().unwrap().extend(script);
        let s = shared.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let s = s.clone();
                std::thread::spawn(move || serve(stream, &s));
            }
        });
        HttpReceiver { port, shared }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn requests(&self) -> Vec<Request> {
        self.shared.requests.lock().unwrap().clone()
    }
}

fn serve(stream: std::net::TcpStream, shared: &Shared) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut out = stream;
    // One request per connection (`Connection: close`).
    {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut headers = HashMap::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
            }
        }
        let length: usize = headers
            .get("content-length")
            .and_then(|l| l.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let reply = shared
            .script
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or(Reply::Ok);
        let path = line.split_whitespace().nth(1).unwrap_or("").to_owned();
        shared.requests.lock().unwrap().push(Request {
            path,
            headers,
            body,
            reply,
        });
        let answer = |out: &mut std::net::TcpStream, status: u16| {
            let text =
                format!("HTTP/1.1 {status} X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
            let _ = out.write_all(text.as_bytes());
        };
        match reply {
            Reply::Ok => answer(&mut out, 200),
            Reply::Status(code) => answer(&mut out, code),
            Reply::Late(after) => {
                std::thread::sleep(after);
                answer(&mut out, 200);
            }
            Reply::Close => {}
            Reply::Json(body) => {
                let text = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = out.write_all(text.as_bytes());
            }
        }
    }
}

//! A real browser for the console's tests: Debian's chromium, headless, driven through
//! chromedriver's W3C WebDriver protocol. Everything runs inside a test's network
//! namespace whose only interface is loopback (so the browser cannot reach anything
//! else), and the test talks to chromedriver and to the console from threads that
//! joined it. Screenshots go under the test's output directory (CARGO_TARGET_TMPDIR).

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::netns::Netns;

/// One HTTP/1.1 exchange over a connection made inside the namespace.
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every `Set-Cookie` value.
    pub fn cookies(&self) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// Sends one request (`Connection: close`) and reads the whole answer.
pub fn http(
    ns: &Netns,
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Answer {
    let mut stream = ns.connect(&format!("127.0.0.1:{port}")).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).unwrap();
    let text = String::from_utf8_lossy(&read_answer(&mut stream)).into_owned();
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    let body = if chunked {
        unchunk(rest)
    } else {
        rest.to_owned()
    };
    Answer {
        status,
        headers,
        body,
    }
}

/// Reads one answer: its head, then `Content-Length` bytes, or chunks up to the last
/// one, or (neither) up to the end (chromedriver keeps connections open).
fn read_answer(stream: &mut std::net::TcpStream) -> Vec<u8> {
    let mut raw = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        let head_end = raw.windows(4).position(|w| w == b"\r\n\r\n");
        if let Some(end) = head_end {
            let head = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok());
            let body = &raw[end + 4..];
            match length {
                Some(n) if body.len() >= n => return raw,
                None if head.contains("transfer-encoding: chunked")
                    && body.ends_with(b"0\r\n\r\n") =>
                {
                    return raw;
                }
                _ => {}
            }
        }
        match stream.read(&mut buf) {
            Ok(0) => return raw,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            Err(e) => panic!("reading an answer: {e}"),
        }
    }
}

fn unchunk(mut text: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = text.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        text = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// chromedriver and one browser session.
pub struct Browser<'a> {
    ns: &'a Netns,
    port: u16,
    session: String,
    driver: Child,
    _profile: tempfile::TempDir,
}

/// The WebDriver key of an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

impl<'a> Browser<'a> {
    /// Starts chromedriver in the namespace and opens a headless chromium.
    pub fn start(ns: &'a Netns) -> Browser<'a> {
        let port = {
            let l = ns.bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let driver = ns
            .command("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while ns.connect(&format!("127.0.0.1:{port}")).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        let profile = tempfile::tempdir().unwrap();
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu",
                    "--disable-dev-shm-usage", "--window-size=1280,900",
                    "--no-first-run", "--disable-background-networking",
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }
        }}});
        let mut browser = Browser {
            ns,
            port,
            session: String::new(),
            driver,
            _profile: profile,
        };
        let created = browser.call("POST", "/session", Some(capabilities));
        browser.session = created["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {created}"))
            .to_owned();
        browser
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let answer = http(
            self.ns,
            self.port,
            method,
            path,
            &[("Content-Type", "application/json")],
            &body,
        );
        let value: Value = serde_json::from_str(&answer.body)
            .unwrap_or_else(|e| panic!("{method} {path}: {e}: {}", answer.body));
        value["value"].clone()
    }

    fn session_call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.call(method, &format!("/session/{}{path}", self.session), body)
    }

    pub fn go(&self, url: &str) {
        self.session_call("POST", "/url", Some(json!({ "url": url })));
    }

    pub fn url(&self) -> String {
        self.session_call("GET", "/url", None)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The first element matching a CSS selector, waiting up to 10 s for it.
    pub fn find(&self, css: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let found = self.session_call(
                "POST",
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            );
            if let Some(id) = found[ELEMENT].as_str() {
                return id.to_owned();
            }
            assert!(
                Instant::now() < deadline,
                "no element {css} on {}: {}",
                self.url(),
                self.session_call("GET", "/source", None)
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// How many elements match a selector now.
    pub fn count(&self, css: &str) -> usize {
        self.session_call(
            "POST",
            "/elements",
            Some(json!({"using": "css selector", "value": css})),
        )
        .as_array()
        .map_or(0, Vec::len)
    }

    pub fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css);
        self.session_call(
            "POST",
            &format!("/element/{id}/value"),
            Some(json!({ "text": text })),
        );
    }

    pub fn click(&self, css: &str) {
        let id = self.find(css);
        self.session_call("POST", &format!("/element/{id}/click"), Some(json!({})));
    }

    /// The visible text of the first element matching a selector ("" if none).
    pub fn text(&self, css: &str) -> String {
        let found = self.session_call(
            "POST",
            "/element",
            Some(json!({"using": "css selector", "value": css})),
        );
        let Some(id) = found[ELEMENT].as_str() else {
            return String::new();
        };
        self.session_call("GET", &format!("/element/{id}/text"), None)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Runs a script in the page and returns its value.
    pub fn script(&self, script: &str) -> Value {
        self.session_call(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
    }

    /// Waits up to 10 s until the text of `css` contains `wanted`.
    pub fn wait_text(&self, css: &str, wanted: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let text = self.text(css);
            if text.contains(wanted) {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "{css} never said {wanted:?}; it says {text:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Clicks a link or a form's button and waits up to 10 s for the browser to go to the
    /// new page: a click that navigates returns before the new page is there.
    pub fn follow(&self, css: &str) -> String {
        let before = self.url();
        self.click(css);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let url = self.url();
            if url != before && self.script("return document.readyState") == "complete" {
                return url;
            }
            assert!(
                Instant::now() < deadline,
                "clicking {css} never left {before:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Saves a PNG of the page as `<CARGO_TARGET_TMPDIR>/console-screenshots/<name>.png`.
    pub fn screenshot(&self, name: &str) -> PathBuf {
        use base64::Engine;
        let png = self.session_call("GET", "/screenshot", None);
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap_or_default())
            .unwrap();
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("console-screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, bytes).unwrap();
        path
    }
}

impl Drop for Browser<'_> {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            self.call("DELETE", &format!("/session/{}", self.session), None);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

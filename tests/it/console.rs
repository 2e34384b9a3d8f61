//! `astbase serve` in a real browser (headless chromium through WebDriver), with the AMI
//! double as Asterisk and a real SQLite file as the CDR store, all inside a network
//! namespace of its own: log in, watch a call appear, hang it up; what a viewer and a
//! request without its CSRF token are refused; the CLI's allow-list; the call log.
//! Screenshots of each page: target/tmp/console-screenshots/.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::ami_double::AmiDouble;
use crate::browser::{Browser, http};
use crate::needs::{self, require};
use crate::netns::Netns;

const SECRET: &str = "console-ami-secret";
/// Users: (name, role, extension, password).
const USERS: &[(&str, &str, Option<&str>, &str)] = &[
    ("olga", "operator", Some("201"), "olga-password-1"),
    ("vera", "viewer", None, "vera-password-1"),
    ("adam", "admin", Some("202"), "adam-password-1"),
];

/// What the console's AMI is.
enum Ami {
    /// The double, prepared before serve connects.
    Double(Box<dyn FnOnce(&AmiDouble)>),
    /// The namespace's real Asterisk.
    Real,
}

/// A console on the namespace's loopback, with its double, users and database.
pub(crate) struct Console {
    pub(crate) ns: std::sync::Arc<Netns>,
    double: AmiDouble,
    pub(crate) port: u16,
    child: Child,
    dir: tempfile::TempDir,
}

impl Console {
    fn start() -> Console {
        Console::start_with(&[], &[])
    }

    /// With more arguments for `astbase serve` and more environment.
    fn start_with(args: &[&std::ffi::OsStr], env: &[(&str, &str)]) -> Console {
        Console::launch(args, env, |_| {})
    }

    /// With `prepare` done to the double before serve connects to it.
    fn launch(
        args: &[&std::ffi::OsStr],
        env: &[(&str, &str)],
        prepare: impl FnOnce(&AmiDouble) + 'static,
    ) -> Console {
        let args: Vec<std::ffi::OsString> = args.iter().map(|a| a.to_os_string()).collect();
        Console::launch_ns(
            Netns::new().into(),
            &args,
            env,
            Ami::Double(Box::new(prepare)),
        )
    }

    /// With arguments made once its namespace exists (to listen there first).
    fn launch_in(args: impl FnOnce(&Netns) -> Vec<std::ffi::OsString>) -> Console {
        let ns = Netns::new();
        let args = args(&ns);
        Console::launch_ns(ns.into(), &args, &[], Ami::Double(Box::new(|_| {})))
    }

    /// Beside a real Asterisk, in its namespace, on its AMI.
    pub(crate) fn beside(ast: &crate::asterisk::Asterisk) -> Console {
        Console::launch_ns(ast.shared_netns(), &[], &[], Ami::Real)
    }

    fn launch_ns(
        ns: std::sync::Arc<Netns>,
        args: &[std::ffi::OsString],
        env: &[(&str, &str)],
        ami: Ami,
    ) -> Console {
        // A double is always there (tests reach it as `console.double`); with a real
        // Asterisk nothing connects to it.
        let double = AmiDouble::on(ns.bind("127.0.0.1:0").unwrap(), SECRET);
        let ami_flags: Vec<(String, String)> = match ami {
            Ami::Double(prepare) => {
                prepare(&double);
                vec![
                    ("MANAGER_PORT".into(), double.port.to_string()),
                    ("MANAGER_LOGIN".into(), "odoo".into()),
                    ("MANAGER_PASSWORD".into(), SECRET.into()),
                ]
            }
            Ami::Real => crate::asterisk::ami_env()
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        let dir = tempfile::tempdir().unwrap();
        let users = dir.path().join("users");
        for (name, role, extension, password) in USERS {
            let mut add = std::process::Command::new(env!("CARGO_BIN_EXE_astbase"));
            add.args([
                "serve",
                "user",
                "add",
                name,
                "--role",
                role,
                "--password-stdin",
            ])
            .arg("--users")
            .arg(&users)
            .stdin(Stdio::piped())
            .stdout(Stdio::null());
            if let Some(e) = extension {
                add.args(["--extension", e]);
            }
            let mut child = add.spawn().unwrap();
            writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
            assert!(child.wait().unwrap().success());
        }
        let port = ns.bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let log = std::fs::File::create(dir.path().join("serve.log")).unwrap();
        let child = ns
            .command(env!("CARGO_BIN_EXE_astbase"))
            .args(["serve", "--server", "msk"])
            .arg("--users")
            .arg(&users)
            .args(if args.iter().any(|a| *a == "--db") {
                vec![]
            } else {
                vec!["--db".into(), dir.path().join("agent.db").into_os_string()]
            })
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .envs(ami_flags)
            .args(args)
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let console = Console {
            ns,
            double,
            port,
            child,
            dir,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while console.ns.connect(&format!("127.0.0.1:{port}")).is_err() {
            assert!(
                Instant::now() < deadline,
                "serve did not start: {}",
                console.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        console
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("serve.log")).unwrap_or_default()
    }

    pub(crate) fn db(&self) -> PathBuf {
        self.dir.path().join("agent.db")
    }

    /// The recorded actions: (user, action, target, outcome).
    pub(crate) fn audit(&self) -> Vec<(String, String, String, String)> {
        let conn = rusqlite::Connection::open(self.db()).unwrap();
        let mut stmt = conn
            .prepare("SELECT user, action, target, outcome FROM web_action ORDER BY id")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    /// A login form's double-submit token (the same in its cookie and its field).
    fn login_token(&self) -> String {
        let form = http(&self.ns, self.port, "GET", "/login", &[], "");
        form.cookies()
            .into_iter()
            .find_map(|c| {
                c.split(';')
                    .next()?
                    .strip_prefix("astbase_login=")
                    .map(str::to_owned)
            })
            .unwrap()
    }

    /// Logs in through the form; returns the session cookie and the CSRF token.
    pub(crate) fn login_http(&self, user: &str, password: &str) -> (String, String) {
        let login_cookie = self.login_token();
        let body = format!("user={user}&password={password}&token={login_cookie}");
        let answer = http(
            &self.ns,
            self.port,
            "POST",
            "/login",
            &[
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Cookie", &format!("astbase_login={login_cookie}")),
            ],
            &body,
        );
        assert_eq!(answer.status, 303, "{}", answer.body);
        let session = answer
            .cookies()
            .into_iter()
            .find(|c| c.starts_with("astbase_session="))
            .unwrap()
            .to_owned();
        assert!(
            session.contains("; HttpOnly; SameSite=Strict;"),
            "{session}"
        );
        let cookie = session.split(';').next().unwrap().to_owned();
        let page = http(
            &self.ns,
            self.port,
            "GET",
            "/calls",
            &[("Cookie", &cookie)],
            "",
        );
        let csrf = page
            .body
            .split("name=\"csrf\" content=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap()
            .to_owned();
        (cookie, csrf)
    }

    pub(crate) fn post(
        &self,
        path: &str,
        cookie: &str,
        csrf: Option<&str>,
        body: &str,
    ) -> crate::browser::Answer {
        let mut headers = vec![
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Cookie", cookie),
        ];
        if let Some(t) = csrf {
            headers.push(("X-CSRF-Token", t));
        }
        http(&self.ns, self.port, "POST", path, &headers, body)
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn login(browser: &Browser, console: &Console, user: &str, password: &str, shot: Option<&str>) {
    browser.go(&console.url("/login"));
    browser.type_into("#user", user);
    browser.type_into("#password", password);
    if let Some(name) = shot {
        browser.screenshot(name);
    }
    browser.click("#login");
    browser.wait_text("#who", user);
}

/// A channel as the double lists it and as its events describe it.
fn channel_headers(channel: &str, uniqueid: &str) -> String {
    format!(
        "Channel: {channel}\r\nChannelState: 6\r\nChannelStateDesc: Up\r\nCallerIDNum: 101\r\n\
         CallerIDName: Anna\r\nConnectedLineNum: 102\r\nConnectedLineName: Boris\r\n\
         Language: en\r\nAccountCode: \r\nContext: odoo-internal\r\nExten: 102\r\nPriority: 1\r\n\
         Uniqueid: {uniqueid}\r\nLinkedid: {uniqueid}\r\n"
    )
}

#[test]
fn an_operator_logs_in_sees_a_call_appear_and_hangs_it_up_after_confirming() {
    require!(needs::ROOT_FOR_NETNS, needs::IP, needs::CHROMIUM);
    let console = Console::start();
    let browser = Browser::start(&console.ns);
    login(&browser, &console, "olga", "olga-password-1", Some("login"));
    assert!(browser.url().ends_with("/calls"), "{}", browser.url());
    browser.wait_text("#status", "connected to Asterisk");
    assert_eq!(browser.text("#count"), "0 channels");

    let channel = "PJSIP/101-00000001";
    console
        .double
        .set_channels(vec![channel_headers(channel, "1795686785.1")]);
    let event = format!(
        "Event: Newchannel\r\nPrivilege: call,all\r\n{}\r\n",
        channel_headers(channel, "1795686785.1")
    );
    assert!(console.double.send_live(event.as_bytes()));
    browser.wait_text("#count", "1 channel");
    let row = format!("tr[data-channel=\"{channel}\"]");
    assert_eq!(browser.text(&format!("{row} td.channel")), channel);
    assert_eq!(browser.text(&format!("{row} td:nth-child(3)")), "Anna 101");
    browser.screenshot("calls-live");

    // Listening in rings the operator's own phone (201) into ChanSpy on 101's channel.
    browser.script("window.confirm = () => true; return true;");
    browser.click(&format!("{row} button.listen"));
    browser.wait_text(
        "#message",
        "ringing your phone (201): answer it to listen 101",
    );
    let spies = console.double.action_named("Originate");
    assert_eq!(spies.len(), 1);
    for header in [
        ("Channel", "PJSIP/201"),
        ("Application", "ChanSpy"),
        ("Data", "PJSIP/101-,q"),
    ] {
        assert!(
            spies[0].contains(&(header.0.to_owned(), header.1.to_owned())),
            "{spies:?}"
        );
    }

    // Declined: nothing is sent.
    browser.script("window.confirm = () => false; return true;");
    browser.click(&format!("{row} button.hangup"));
    std::thread::sleep(Duration::from_millis(300));
    assert!(console.double.action_named("Hangup").is_empty());
    // Confirmed: the double receives the hangup.
    browser.script("window.confirm = () => true; return true;");
    browser.click(&format!("{row} button.hangup"));
    browser.wait_text("#message", "hung up PJSIP/101-00000001");
    let hangups = console.double.action_named("Hangup");
    assert_eq!(hangups.len(), 1);
    assert!(
        hangups[0].contains(&("Channel".to_owned(), channel.to_owned())),
        "{hangups:?}"
    );
    browser.screenshot("calls-hung-up");
    assert!(
        console
            .audit()
            .contains(&("olga".into(), "hangup".into(), channel.into(), "ok".into())),
        "{:?}",
        console.audit()
    );

    // Asterisk's Hangup event takes it off every page.
    let gone = format!(
        "Event: Hangup\r\nPrivilege: call,all\r\n{}Cause: 16\r\nCause-txt: Normal Clearing\r\n\r\n",
        channel_headers(channel, "1795686785.1")
    );
    assert!(console.double.send_live(gone.as_bytes()));
    browser.wait_text("#count", "0 channels");
}

#[test]
fn a_viewer_gets_no_actions_and_requests_without_the_role_or_the_csrf_token_are_refused() {
    require!(needs::ROOT_FOR_NETNS, needs::IP, needs::CHROMIUM);
    let console = Console::start();
    let channel = "PJSIP/101-00000002";
    let browser = Browser::start(&console.ns);
    login(&browser, &console, "vera", "vera-password-1", None);
    browser.wait_text("#status", "connected to Asterisk");
    console
        .double
        .set_channels(vec![channel_headers(channel, "1795686785.2")]);
    let event = format!(
        "Event: Newchannel\r\nPrivilege: call,all\r\n{}\r\n",
        channel_headers(channel, "1795686785.2")
    );
    assert!(console.double.send_live(event.as_bytes()));
    browser.wait_text("#count", "1 channel");
    assert_eq!(browser.count("button.hangup"), 0);
    assert_eq!(browser.count("#dial-form"), 0);
    assert_eq!(browser.count("#nav-cli"), 0);
    browser.go(&console.url("/cli"));
    assert_eq!(
        browser.wait_text("#denied", "admin"),
        "This needs the admin role; you are viewer."
    );
    browser.screenshot("viewer-denied");

    // The viewer's own session and token: the role is refused.
    let (viewer, viewer_csrf) = console.login_http("vera", "vera-password-1");
    let refused = console.post(
        "/calls/hangup",
        &viewer,
        Some(&viewer_csrf),
        &format!("channel={channel}"),
    );
    assert_eq!(refused.status, 403, "{}", refused.body);
    // An operator without the token, or with another session's: refused too.
    let (operator, csrf) = console.login_http("olga", "olga-password-1");
    for token in [
        None,
        Some(viewer_csrf.as_str()),
        Some("0".repeat(64).as_str()),
    ] {
        let refused = console.post(
            "/calls/hangup",
            &operator,
            token,
            &format!("channel={channel}"),
        );
        assert_eq!(refused.status, 403, "{token:?}: {}", refused.body);
        assert!(refused.body.contains("CSRF token"), "{}", refused.body);
    }
    assert!(console.double.action_named("Hangup").is_empty());
    // With it, the action goes through.
    let done = console.post(
        "/calls/hangup",
        &operator,
        Some(&csrf),
        &format!("channel={channel}"),
    );
    assert_eq!(
        (done.status, done.body.as_str()),
        (200, "hung up PJSIP/101-00000002")
    );
    assert_eq!(console.double.action_named("Hangup").len(), 1);
    // No session at all.
    let anonymous = console.post(
        "/calls/hangup",
        "astbase_session=forged",
        Some(&csrf),
        "channel=x",
    );
    assert_eq!(anonymous.status, 401);
}

#[test]
fn the_cli_runs_allow_listed_commands_for_admins_only() {
    require!(needs::ROOT_FOR_NETNS, needs::IP, needs::CHROMIUM);
    let console = Console::start();
    let browser = Browser::start(&console.ns);
    login(&browser, &console, "adam", "adam-password-1", None);
    browser.click("#nav-cli");
    browser.type_into("#command", "core show channels");
    browser.click("#run");
    let output = browser.wait_text("#output", "2 active channels");
    assert!(output.contains("PJSIP/102-00000009"), "{output}");
    browser.screenshot("cli");
    browser.type_into("#command", "");
    browser.script("document.getElementById('command').value = 'core restart now'; return true;");
    browser.click("#run");
    browser.wait_text("#refused", "core restart now");
    let commands: Vec<String> = console
        .double
        .action_named("Command")
        .iter()
        .filter_map(|a| {
            a.iter()
                .find(|(k, _)| k == "Command")
                .map(|(_, v)| v.clone())
        })
        .collect();
    assert_eq!(commands, ["core show channels"]);
    let audit = console.audit();
    assert!(audit.contains(&(
        "adam".into(),
        "cli".into(),
        "core restart now".into(),
        "refused: not on the allow-list".into()
    )));

    // An operator may not run even an allowed command.
    let (operator, csrf) = console.login_http("olga", "olga-password-1");
    let refused = console.post("/cli", &operator, Some(&csrf), "command=core+show+channels");
    assert_eq!(refused.status, 403);
    assert_eq!(console.double.action_named("Command").len(), 1);
}

/// A CDR as the agent stores it, for seeding the console's database.
struct StoredCdr {
    src: &'static str,
    dst: &'static str,
    start: String,
    lastapp: &'static str,
    lastdata: &'static str,
    disposition: &'static str,
    duration: i64,
    billsec: i64,
}

impl Default for StoredCdr {
    fn default() -> StoredCdr {
        StoredCdr {
            src: "101",
            dst: "102",
            start: "2026-12-01 10:00:00".into(),
            lastapp: "Dial",
            lastdata: "",
            disposition: "ANSWERED",
            duration: 10,
            billsec: 5,
        }
    }
}

impl StoredCdr {
    /// Stores it as the `n`th record (its unique id and fingerprint).
    fn insert(&self, conn: &rusqlite::Connection, n: i64) {
        conn.execute(
            "INSERT INTO cdr (server, accountcode, src, dst, dcontext, clid, channel,
               dstchannel, lastapp, lastdata, start, answer, end, start_epoch, duration,
               billsec, disposition, amaflags, uniqueid, userfield, received_at, origin,
               fingerprint)
             VALUES ('msk', '', ?1, ?2, 'odoo-internal', '', 'PJSIP/101-1', '', ?3, ?4,
               ?5, NULL, ?5, ?6, ?7, ?8, ?9, 'DOCUMENTATION', ?10, '', ?5, 'ami', ?11)",
            rusqlite::params![
                self.src,
                self.dst,
                self.lastapp,
                self.lastdata,
                self.start,
                jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M:%S", &self.start)
                    .unwrap()
                    .to_zoned_datetime(jiff::tz::TimeZone::UTC)
                    .unwrap()
                    .timestamp()
                    .as_second(),
                self.duration,
                self.billsec,
                self.disposition,
                format!("1796100000.{n}"),
                format!("fp{n}").into_bytes()
            ],
        )
        .unwrap();
    }
}

#[test]
fn the_statistics_page_charts_the_calls_and_agrees_with_cdr_report() {
    require!(needs::ROOT_FOR_NETNS, needs::IP, needs::CHROMIUM);
    let console = Console::start();
    let internal = |start: &str, disposition, duration, billsec| StoredCdr {
        start: start.into(),
        disposition,
        duration,
        billsec,
        ..StoredCdr::default()
    };
    let queued = |start: &str, queue, disposition, duration, billsec| StoredCdr {
        src: "+74990000001",
        dst: "700",
        start: start.into(),
        lastapp: "Queue",
        lastdata: queue,
        disposition,
        duration,
        billsec,
    };
    let calls = [
        internal("2026-11-30 09:05:00", "ANSWERED", 70, 60),
        internal("2026-11-30 09:20:00", "ANSWERED", 70, 60),
        internal("2026-11-30 09:40:00", "ANSWERED", 70, 60),
        queued("2026-11-30 09:45:00", "support,t,,,300", "ANSWERED", 40, 30),
        queued("2026-11-30 11:00:00", "support,t,,,300", "ANSWERED", 40, 30),
        queued("2026-11-30 11:30:00", "support,t,,,300", "NO ANSWER", 25, 0),
        internal("2026-12-01 14:10:00", "BUSY", 5, 0),
        queued("2026-12-01 14:30:00", "sales", "ANSWERED", 50, 20),
        // Outside the range shown.
        internal("2026-11-29 23:59:59", "ANSWERED", 100, 100),
    ];
    {
        let conn = rusqlite::Connection::open(console.db()).unwrap();
        for (n, cdr) in calls.iter().enumerate() {
            cdr.insert(&conn, n as i64);
        }
    }
    let browser = Browser::start(&console.ns);
    login(&browser, &console, "vera", "vera-password-1", None);
    browser.go(&console.url("/stats?from=2026-11-30&to=2026-12-01"));
    browser.wait_text("body", "Calls per day");
    let figures: Vec<String> = ["#calls", "#answered", "#missed", "#wait", "#talk"]
        .iter()
        .map(|id| browser.text(id))
        .collect();
    assert_eq!(figures, ["8", "6", "2", "13.3 s", "43.3 s"]);
    let rows = |table: &str| -> Vec<String> {
        (1..=browser.count(&format!("#{table} tbody tr")))
            .map(|i| browser.text(&format!("#{table} tbody tr:nth-child({i})")))
            .collect()
    };
    assert_eq!(
        rows("queues"),
        ["support 3 2 1 10.0 s 30.0 s", "sales 1 1 0 30.0 s 20.0 s"]
    );
    assert_eq!(
        rows("extensions"),
        [
            "101 4 3 1 10.0 s 60.0 s",
            "102 4 3 1 10.0 s 60.0 s",
            "700 4 3 1 16.7 s 26.7 s"
        ]
    );
    // The charts are drawn by Chart.js from the same figures.
    assert_eq!(
        browser.script("return document.body.dataset.charts"),
        "drawn"
    );
    assert_eq!(
        browser.script("return Chart.getChart('per-day').data.datasets.map(d => d.data.join(','))"),
        serde_json::json!(["5,1", "1,1"])
    );
    let per_hour =
        browser.script("return Chart.getChart('per-hour').data.datasets[0].data.join(',')");
    assert_eq!(per_hour, "0,0,0,0,0,0,0,0,0,4,0,1,0,0,1,0,0,0,0,0,0,0,0,0");
    browser.screenshot("statistics");

    // `astbase cdr report` over the same days counts the same.
    let report = std::process::Command::new(env!("CARGO_BIN_EXE_astbase"))
        .args([
            "cdr",
            "report",
            "--by",
            "queue",
            "--since",
            "2026-11-30",
            "--until",
            "2026-12-02",
        ])
        .args(["--timezone", "UTC"])
        .arg("--db")
        .arg(console.db())
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&report.stdout).into_owned();
    let queue_lines: Vec<String> = report
        .lines()
        .filter(|l| l.starts_with("support") || l.starts_with("sales"))
        .map(|l| l.split_whitespace().take(4).collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(queue_lines, ["sales 1 1 0", "support 3 2 1"], "{report}");

    // A range that makes no sense is said so.
    browser.go(&console.url("/stats?from=2026-12-02&to=2026-12-01"));
    assert_eq!(
        browser.text("#range-error"),
        "the range ends (2026-12-01) before it starts (2026-12-02)"
    );
}

#[test]
fn the_call_log_pages_searches_and_exports_the_cdr_store() {
    require!(needs::ROOT_FOR_NETNS, needs::IP, needs::CHROMIUM);
    let console = Console::start();
    {
        let conn = rusqlite::Connection::open(console.db()).unwrap();
        for i in 0..120 {
            let cdr = StoredCdr {
                src: if i % 10 == 0 { "+74990000001" } else { "101" },
                dst: "102",
                start: format!("2026-12-01 10:{:02}:00", i % 60),
                disposition: if i % 2 == 0 { "ANSWERED" } else { "NO ANSWER" },
                ..StoredCdr::default()
            };
            cdr.insert(&conn, i);
        }
    }
    let browser = Browser::start(&console.ns);
    login(&browser, &console, "vera", "vera-password-1", None);
    browser.follow("#nav-log");
    assert_eq!(browser.count("#log tbody tr"), 50);
    // Newest first; the next page starts where this one ended.
    assert_eq!(
        browser.text("#log tbody tr:first-child td:nth-child(2)"),
        "101"
    );
    browser.screenshot("call-log");
    browser.follow("#older");
    assert_eq!(browser.count("#log tbody tr"), 50);
    browser.follow("#older");
    assert_eq!(browser.count("#log tbody tr"), 20);
    assert_eq!(browser.count("#older"), 0);
    browser.go(&console.url("/log"));
    browser.type_into("#q", "4990000001");
    browser.follow("#search");
    assert_eq!(browser.count("#log tbody tr"), 12);
    let (cookie, _) = console.login_http("vera", "vera-password-1");
    let csv = http(
        &console.ns,
        console.port,
        "GET",
        "/log.csv?q=%2B7499",
        &[("Cookie", &cookie)],
        "",
    );
    assert_eq!(csv.status, 200);
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    assert_eq!(csv.body.lines().count(), 13);
    assert!(
        csv.body
            .starts_with("start,src,dst,clid,disposition,duration,billsec,uniqueid\n")
    );
}

#[test]
fn logins_are_limited_per_name_and_a_wrong_password_never_logs_in() {
    require!(needs::ROOT_FOR_NETNS, needs::IP);
    let console = Console::start();
    let attempt = |password: &str| {
        let token = console.login_token();
        http(
            &console.ns,
            console.port,
            "POST",
            "/login",
            &[
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Cookie", &format!("astbase_login={token}")),
            ],
            &format!("user=olga&password={password}&token={token}"),
        )
    };
    // A login form posted without its own cookie (from another site) is refused.
    let forged = http(
        &console.ns,
        console.port,
        "POST",
        "/login",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        "user=olga&password=olga-password-1&token=abc",
    );
    assert_eq!(forged.status, 403);
    for _ in 0..5 {
        assert_eq!(attempt("wrong-password").status, 401);
    }
    let locked = attempt("olga-password-1");
    assert_eq!(locked.status, 429, "{}", locked.body);
    assert!(
        locked
            .header("retry-after")
            .is_some_and(|s| s.parse::<u64>().unwrap() > 800),
        "{:?}",
        locked.headers
    );
    assert!(
        console
            .log()
            .contains("login as \"olga\" from 127.0.0.1 refused: too many failures")
    );
}

#[test]
fn serve_refuses_to_listen_beyond_loopback_in_the_clear() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_astbase"))
        .args(["serve", "--listen", "0.0.0.0:8080", "--users"])
        .arg(dir.path().join("users"))
        .arg("--db")
        .arg(dir.path().join("agent.db"))
        .env("MANAGER_PASSWORD", "x")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = crate::support::text(&out);
    assert!(
        text.contains("error: refusing to listen on 0.0.0.0:8080 without TLS"),
        "{text}"
    );
    assert!(
        text.contains("help: give --tls-cert and --tls-key, or --behind-proxy"),
        "{text}"
    );
}

#[test]
fn the_fleet_pages_show_each_hosts_state_and_the_files_highlighted_linked_and_masked() {
    require!(needs::ROOT_FOR_NETNS, needs::IP, needs::CHROMIUM);
    let two = "extensions:\n  - {number: \"101\", server: a, name: Anna, secret: {env: PW}}\n  - {number: \"201\", server: b, name: Boris, secret: {env: PW}}\n";
    let repo = crate::apply::repo(two);
    assert!(repo.astbase(&["apply", "--auto-approve"]).status.success());
    // a: a new extension in the repo (pending); b: a hand edit on the host (drift).
    repo.set_extensions(&format!(
        "{two}  - {{number: \"102\", server: a, name: Vera, secret: {{env: PW}}}}\n"
    ));
    let b_pjsip = repo.root.join("hosts/b/etc/asterisk/pjsip_odoo.conf");
    let edited = std::fs::read_to_string(&b_pjsip).unwrap() + "; tuned by hand\n";
    std::fs::write(&b_pjsip, edited).unwrap();

    let console = Console::start_with(
        &["--repo".as_ref(), repo.root.as_os_str()],
        &[("PW", "Secret-Pass-1")],
    );
    let browser = Browser::start(&console.ns);
    login(&browser, &console, "vera", "vera-password-1", None);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        browser.go(&console.url("/fleet"));
        if browser.count("#fleet") == 1 {
            break;
        }
        assert!(Instant::now() < deadline, "no snapshot: {}", console.log());
        std::thread::sleep(Duration::from_millis(200));
    }
    let row = |server: &str, column: usize| {
        browser.text(&format!(
            "#fleet tr[data-server={server}] td:nth-child({column})"
        ))
    };
    assert_eq!(browser.text("#source"), "working tree");
    assert_eq!(
        [row("a", 4), row("a", 6), row("b", 6)],
        ["working tree", "changes pending", "edited on the host"]
    );
    assert_eq!(
        [row("a", 7), row("b", 7)],
        [
            "0 to add, 2 to change, 0 to remove.",
            "0 to add, 1 to change, 0 to remove."
        ]
    );
    browser.screenshot("fleet");

    browser.click("#fleet tr[data-server=a] a");
    browser.wait_text("#applied", "Last applied");
    assert!(
        browser
            .text("#applied")
            .starts_with("Last applied: working tree at 20"),
        "{}",
        browser.text("#applied")
    );
    assert_eq!(
        browser.text("#files tbody"),
        "pjsip_odoo.conf change rendered host side diff\nextensions_odoo.conf change rendered host side diff"
    );
    browser.click("#files tr[data-file='pjsip_odoo.conf'] .view-rendered");
    browser.wait_text("#view", "rendered");
    // Every line highlighted by CodeMirror's Asterisk mode: six section headers.
    assert_eq!(
        browser.script("return document.body.dataset.highlighted"),
        "55"
    );
    assert_eq!(browser.count("#rendered .cm-header"), 6);
    assert_eq!(browser.text("#rendered-L23 td.conf"), "password=********");
    let html = browser.script("return document.documentElement.outerHTML");
    assert!(!html.as_str().unwrap().contains("Secret-Pass-1"));
    // Each section links to the YAML that defines it.
    assert_eq!(browser.text("#rendered-L31 td.src"), "extensions.yaml:4");
    browser.screenshot("config-rendered");
    browser.click("#rendered-L31 td.src a");
    browser.wait_text("h1", "extensions.yaml");
    assert!(browser.url().ends_with("/source/extensions.yaml#L4"));
    assert_eq!(
        browser.text("#L4 td.conf"),
        "  - {number: \"102\", server: a, name: Vera, secret: {env: PW}}"
    );
    browser.screenshot("config-source");

    browser.go(&console.url("/fleet/a/pjsip_odoo.conf?view=diff"));
    let added = browser.script(
        "return Array.from(document.querySelectorAll('#diff .add')).map(e => e.textContent).join('|')",
    );
    assert_eq!(
        added,
        "+|+[102]|+type=endpoint|+context=odoo-phones|+disallow=all|+allow=ulaw,alaw|+auth=102|\
         +aors=102|+callerid=\"Vera\" <102>|+dtmf_mode=rfc4733|+direct_media=no|+rtp_symmetric=yes|\
         +force_rport=yes|+rewrite_contact=yes|+|+[102]|+type=auth|+auth_type=userpass|\
         +username=102|+password=********|+|+[102]|+type=aor|+max_contacts=1|+remove_existing=yes|\
         +qualify_frequency=60"
    );
    browser.screenshot("config-diff");
    browser.go(&console.url("/fleet/b/pjsip_odoo.conf?view=side"));
    assert_eq!(browser.count("#rendered"), 1);
    let host_lines = browser.count("#host tr");
    assert_eq!(
        browser.text(&format!("#host-L{host_lines} td.conf")),
        "; tuned by hand"
    );
    browser.screenshot("config-side-by-side");

    // Reading every host again: not for a viewer; an operator's is recorded.
    let (viewer, csrf) = console.login_http("vera", "vera-password-1");
    assert_eq!(
        console
            .post("/fleet/refresh", &viewer, Some(&csrf), "")
            .status,
        403
    );
    let (operator, csrf) = console.login_http("olga", "olga-password-1");
    assert_eq!(
        console.post("/fleet/refresh", &operator, None, "").status,
        403
    );
    assert_eq!(
        console
            .post("/fleet/refresh", &operator, Some(&csrf), "")
            .status,
        303
    );
    assert!(
        console
            .audit()
            .contains(&("olga".into(), "refresh".into(), "fleet".into(), "ok".into())),
        "{:?}",
        console.audit()
    );
}

#[test]
fn calls_that_start_and_end_while_asterisk_is_listing_are_followed_and_a_listing_that_never_ends_is_given_up()
 {
    require!(needs::ROOT_FOR_NETNS, needs::IP, needs::CHROMIUM);
    let listed = "PJSIP/101-00000010";
    let console = Console::launch(&[], &[], |double| {
        double.set_channels(vec![channel_headers(listed, "1795686785.10")]);
        double.endless_listings(true);
    });
    let browser = Browser::start(&console.ns);
    login(&browser, &console, "vera", "vera-password-1", None);
    browser.wait_text("#status", "connected to Asterisk");
    // The listing has begun and never ends; a call that starts meanwhile is shown...
    let channel = "PJSIP/102-00000011";
    let new = format!(
        "Event: Newchannel\r\nPrivilege: call,all\r\n{}\r\n",
        channel_headers(channel, "1795686785.11")
    );
    assert!(console.double.send_live(new.as_bytes()));
    browser.wait_text("#count", "1 channel");
    assert_eq!(
        browser.count(&format!("#calls tr[data-channel='{channel}']")),
        1
    );
    // ...and taken off when it ends, without waiting for the listing.
    let gone = format!(
        "Event: Hangup\r\nPrivilege: call,all\r\n{}Cause: 16\r\nCause-txt: Normal Clearing\r\n\r\n",
        channel_headers(channel, "1795686785.11")
    );
    assert!(console.double.send_live(gone.as_bytes()));
    browser.wait_text("#count", "0 channels");
    // The connection stays up (the old listing's timeout dropped it every few seconds),
    // and after 30 s the listing is given up, in the log.
    let deadline = Instant::now() + Duration::from_secs(40);
    while !console
        .log()
        .contains("did not finish listing the channels up")
    {
        assert!(Instant::now() < deadline, "{}", console.log());
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(console.double.logins(), 1, "{}", console.log());
}

/// Relays connections made inside `ns` on its loopback to `port` on this machine's
/// loopback (the console runs in its namespace; the test's PostgreSQL outside it).
fn relay_into(ns: &Netns, port: u16) -> u16 {
    let listener = ns.bind("127.0.0.1:0").unwrap();
    let inner = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { return };
            let Ok(server) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
                continue;
            };
            for (mut from, mut to) in [
                (client.try_clone().unwrap(), server.try_clone().unwrap()),
                (server, client),
            ] {
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut from, &mut to);
                    let _ = to.shutdown(std::net::Shutdown::Write);
                });
            }
        }
    });
    inner
}

#[test]
fn with_the_central_database_the_log_and_statistics_cover_the_fleet_and_actions_are_recorded_there()
{
    require!(
        needs::ROOT_FOR_NETNS,
        needs::IP,
        crate::needs::Need::PostgresServer
    );
    let pg = crate::postgres::Postgres::start_default();
    // The schema made by its owner; the console gets the grants README lists.
    let migrate = std::process::Command::new(env!("CARGO_BIN_EXE_astbase"))
        .args(["cdr", "migrate", "--db", &pg.superuser_url()])
        .output()
        .unwrap();
    assert!(migrate.status.success(), "{migrate:?}");
    pg.psql(
        "fleet",
        "CREATE ROLE astbase_console LOGIN PASSWORD 'console-pw';
         GRANT CONNECT ON DATABASE fleet TO astbase_console;
         GRANT USAGE ON SCHEMA astbase TO astbase_console;
         GRANT SELECT ON astbase.schema_version, astbase.cdr TO astbase_console;
         GRANT INSERT ON astbase.web_action TO astbase_console;
         GRANT USAGE ON SEQUENCE astbase.web_action_id_seq TO astbase_console;",
    );
    // The URL names the relay's port inside the console's namespace.
    let (pg_port, url) = (pg.port, pg.url("astbase_console", "console-pw"));
    let console = Console::launch_in(|ns| {
        let inner = relay_into(ns, pg_port);
        let url = url.replace(&format!(":{pg_port}/"), &format!(":{inner}/"));
        vec!["--db".into(), url.into()]
    });
    let rows = [
        (
            "msk",
            1,
            "2026-11-30 09:00:00",
            1_796_029_200i64,
            "101",
            "102",
            "Dial",
            "",
            "ANSWERED",
            70,
            60,
        ),
        (
            "msk",
            2,
            "2026-11-30 10:00:00",
            1_796_032_800,
            "+74990000001",
            "700",
            "Queue",
            "support,t",
            "NO ANSWER",
            25,
            0,
        ),
        (
            "spb",
            1,
            "2026-11-30 09:30:00",
            1_796_031_000,
            "201",
            "202",
            "Dial",
            "",
            "ANSWERED",
            40,
            30,
        ),
        (
            "spb",
            2,
            "2026-12-01 11:00:00",
            1_796_122_800,
            "+78120000002",
            "701",
            "Queue",
            "support",
            "ANSWERED",
            50,
            20,
        ),
    ];
    for (server, id, start, epoch, src, dst, app, data, disposition, duration, billsec) in rows {
        pg.psql(
            "fleet",
            &format!(
                "INSERT INTO astbase.cdr (fingerprint, server, local_id, accountcode, src, dst,
                   dcontext, clid, channel, dstchannel, lastapp, lastdata, start, answer, \"end\",
                   start_epoch, duration, billsec, disposition, amaflags, uniqueid, userfield,
                   received_at, origin)
                 VALUES (convert_to('{server}{id}', 'UTF8'), '{server}', {id}, '', '{src}', '{dst}', 'c', '',
                   'PJSIP/x', '', '{app}', '{data}', '{start}', NULL, '{start}', {epoch},
                   {duration}, {billsec}, '{disposition}', 'DOCUMENTATION', '{server}.{id}', '',
                   '{start}', 'ami')"
            ),
        );
    }
    let (cookie, _) = console.login_http("vera", "vera-password-1");
    let get = |path: &str| {
        let answer = http(
            &console.ns,
            console.port,
            "GET",
            path,
            &[("Cookie", &cookie)],
            "",
        );
        assert_eq!(
            answer.status,
            200,
            "{path}: {}\n{}",
            answer.body,
            console.log()
        );
        answer.body
    };
    let figure = |body: &str, id: &str| -> String {
        let start = body.find(&format!("id=\"{id}\">")).unwrap() + id.len() + 6;
        body[start..].split('<').next().unwrap().to_owned()
    };
    let stats = get("/stats?from=2026-11-30&to=2026-12-01");
    assert_eq!(
        ["calls", "answered", "missed", "wait", "talk"].map(|id| figure(&stats, id)),
        ["4", "3", "1", "16.7 s", "36.7 s"]
    );
    assert!(
        stats.contains("<td>support</td><td>2</td><td>1</td><td>1</td>"),
        "{stats}"
    );
    // The log: the fleet's calls, newest first, with their server.
    let log = get("/log");
    let servers: Vec<&str> = log
        .split("<tr data-id=")
        .skip(1)
        .map(|r| r.split("<td>").nth(1).unwrap().split('<').next().unwrap())
        .collect();
    assert_eq!(servers, ["spb", "msk", "spb", "msk"]);
    let search = get("/log?q=%2B7");
    assert_eq!(search.matches("<tr data-id=").count(), 2);
    assert!(!search.contains("id=\"partial\""));
    // The login went into astbase.web_action.
    let deadline = Instant::now() + Duration::from_secs(10);
    while pg.count(
        "SELECT count(*) FROM astbase.web_action WHERE \"user\" = 'vera' AND action = 'login'",
    ) != 1
    {
        assert!(Instant::now() < deadline, "{}", console.log());
        std::thread::sleep(Duration::from_millis(100));
    }
}

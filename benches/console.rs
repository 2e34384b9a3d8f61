//! The web console (`cargo bench --bench console`): `astbase serve` in this process on
//! 127.0.0.1, with the AMI double as Asterisk and an agent database of 1,000,000 CDRs
//! spread over the last 365 days. Reports:
//! - each page's time over HTTP (median and worst of 15 requests): statistics for the
//!   default 30 days and for the whole year, the call log's first page, a deep page, a
//!   search, the live calls page;
//! - the statistics rollup: the first page (waiting for the catch-up over all records
//!   that serve starts with), and, measured
//!   in the same run, the same figures aggregated straight from the `cdr` table (the
//!   baseline the rollup replaces), as a ratio;
//! - live updates to 100 connected browsers (server-sent events): every client gets
//!   every change, and how long the last client waited for each (median, p99, worst).
//!
//! Target (issue): every page < 100 ms with 1M CDRs; updates reach 100 browsers.
//! Under `cargo test` it runs a smoke version (20,000 CDRs, 10 browsers).

#[allow(dead_code)]
#[path = "../tests/it/ami_double.rs"]
mod ami_double;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use astbase::agent::ami::Credentials;
use astbase::agent::cdr::report::{GroupBy, Range, report};
use astbase::agent::cdr::store::{Op, Store};
use astbase::agent::cdr::{Cdr, Origin};
use astbase::agent::control::AmiTarget;
use astbase::serve::users::{Role, Users};
use astbase::serve::{ServeConfig, auth};

const SECRET: &str = "bench-secret";
const PASSWORD: &str = "bench-password-1";

/// The `n`th of `total` records, on day `n * 365 / total` of the year that ends `today`.
fn cdr(n: usize, total: usize, today: jiff::civil::Date) -> Cdr {
    let day = today
        .checked_sub(jiff::Span::new().days(364 - (n * 365 / total) as i64))
        .unwrap();
    let time = format!("{day} {:02}:{:02}:{:02}", 8 + n % 11, n / 7 % 60, n % 60);
    let answered = !n.is_multiple_of(4);
    let queued = n.is_multiple_of(5);
    Cdr {
        src: if queued {
            format!("+7495{:07}", n % 100_000)
        } else {
            format!("1{:02}", n % 90)
        },
        dst: format!("2{:02}", n % 80),
        dcontext: "odoo-internal".into(),
        channel: format!("PJSIP/1{:02}-{n:08x}", n % 90),
        lastapp: if queued { "Queue" } else { "Dial" }.into(),
        lastdata: if queued {
            format!("queue{},t,,,300", n % 6)
        } else {
            format!("PJSIP/2{:02},30", n % 80)
        },
        start: time.clone(),
        answer: if answered {
            time.clone()
        } else {
            String::new()
        },
        end: time,
        duration: 5 + (n % 200) as i64,
        billsec: if answered { (n % 200) as i64 } else { 0 },
        disposition: if answered { "ANSWERED" } else { "NO ANSWER" }.into(),
        amaflags: "DOCUMENTATION".into(),
        uniqueid: format!("1795686785.{n}"),
        linkedid: Some(format!("1795686785.{n}")),
        sequence: Some(n as i64),
        ..Cdr::default()
    }
}

/// One HTTP/1.1 request on a fresh connection: (status, headers, body).
fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    cookie: &str,
    body: &str,
) -> (u16, String, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    let mut request =
        format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    if !cookie.is_empty() {
        request.push_str(&format!("Cookie: {cookie}\r\n"));
    }
    if method == "POST" {
        request.push_str(&format!(
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    let text = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head.to_owned(), body.to_owned())
}

fn set_cookie(head: &str, name: &str) -> String {
    head.lines()
        .filter_map(|l| l.strip_prefix("set-cookie: "))
        .find(|c| c.starts_with(&format!("{name}=")))
        .and_then(|c| c.split(';').next())
        .unwrap()
        .to_owned()
}

/// Logs in as `admin`: the session cookie.
fn login(addr: SocketAddr) -> String {
    let (_, head, body) = http(addr, "GET", "/login", "", "");
    let login_cookie = set_cookie(&head, auth::LOGIN_COOKIE);
    let token = body
        .split("name=\"token\" value=\"")
        .nth(1)
        .and_then(|t| t.split('"').next())
        .unwrap();
    let form = format!("user=admin&password={PASSWORD}&token={token}");
    let (status, head, _) = http(addr, "POST", "/login", &login_cookie, &form);
    assert_eq!(status, 303, "login: {head}");
    set_cookie(&head, auth::SESSION_COOKIE)
}

/// (median, worst) of `runs` requests of `path`, each checked to succeed.
fn time_page(addr: SocketAddr, cookie: &str, path: &str, runs: usize) -> (Duration, Duration) {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let started = Instant::now();
            let (status, _, body) = http(addr, "GET", path, cookie, "");
            let took = started.elapsed();
            assert_eq!(status, 200, "{path}: {body}");
            took
        })
        .collect();
    times.sort();
    (times[runs / 2], times[runs - 1])
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn channel_event(k: usize) -> String {
    format!(
        "Event: Newchannel\r\nChannel: PJSIP/101-{k:08x}\r\nChannelState: 6\r\n\
         ChannelStateDesc: Up\r\nCallerIDNum: 101\r\nCallerIDName: Anna\r\n\
         ConnectedLineNum: 102\r\nConnectedLineName: Boris\r\nLanguage: en\r\nAccountCode: \r\n\
         Context: odoo-internal\r\nExten: 102\r\nPriority: 1\r\nUniqueid: bench.{k}\r\n\
         Linkedid: bench.{k}\r\n\r\n"
    )
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (records, browsers, changes) = if full {
        (1_000_000, 100, 300)
    } else {
        (20_000, 10, 30)
    };
    let today = jiff::ZonedDateTime::now()
        .with_time_zone(jiff::tz::TimeZone::UTC)
        .date();

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("agent.db");
    let mut store = Store::open(&db, "msk", jiff::tz::TimeZone::UTC).unwrap();
    for chunk in (0..records).collect::<Vec<_>>().chunks(20_000) {
        let ops: Vec<Op> = chunk
            .iter()
            .map(|&n| Op::Cdr(Box::new(cdr(n, records, today)), Origin::Ami))
            .collect();
        store.write(&ops).unwrap();
    }
    drop(store);
    let users_path = dir.path().join("users");
    let mut users = Users::load(&users_path).unwrap();
    users
        .add("admin", Role::Admin, PASSWORD, Some("201"))
        .unwrap();
    users.save().unwrap();

    let double = ami_double::AmiDouble::start(SECRET);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let config = ServeConfig {
        listen: addr,
        tls: None,
        behind_proxy: false,
        users: users_path,
        ami: Some(AmiTarget {
            host: "127.0.0.1".into(),
            port: double.port,
            credentials: Credentials {
                username: "odoo".into(),
                secret: SECRET.into(),
            },
            timeout: Duration::from_secs(5),
        }),
        db: astbase::serve::store::CdrStore::Sqlite(db.clone()),
        server: "msk".into(),
        tech: "PJSIP".into(),
        idle: Duration::from_secs(3600),
        zone: jiff::tz::TimeZone::UTC,
        fleet: None,
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = std::thread::spawn(move || {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
            .block_on(astbase::serve::run(config, Arc::new(|_| {}), async {
                let _ = stopped.await;
            }))
            .unwrap();
    });
    while TcpStream::connect(addr).is_err() {
        std::thread::sleep(Duration::from_millis(20));
    }
    let cookie = login(addr);

    // The rollup: its first catch-up, then what it replaces, over the same year.
    let year = format!(
        "/stats?from={}&to={today}",
        today.checked_sub(jiff::Span::new().days(364)).unwrap()
    );
    let started = Instant::now();
    assert_eq!(http(addr, "GET", &year, &cookie, "").0, 200);
    let first = started.elapsed();
    let (year_median, _) = time_page(addr, &cookie, &year, 15);
    let baseline = {
        let conn = rusqlite::Connection::open(&db).unwrap();
        let started = Instant::now();
        for by in [GroupBy::Day, GroupBy::Queue, GroupBy::Extension] {
            report(&conn, by, Range::default(), &[]).unwrap();
        }
        started.elapsed()
    };
    println!(
        "statistics over {records} CDRs: the first page (waits for the rollup of every record \
         that serve starts with) {}; then {} a page; \
         the same figures straight from the cdr table {} ({:.0}× slower than the rollup)",
        ms(first),
        ms(year_median),
        ms(baseline),
        baseline.as_secs_f64() / year_median.as_secs_f64()
    );

    let deep = records as i64 / 100;
    let pages = [
        ("statistics, last 30 days", "/stats".to_owned()),
        ("statistics, the whole year", year.clone()),
        ("call log, first page", "/log".to_owned()),
        ("call log, a page 99% deep", format!("/log?before={deep}")),
        (
            "call log, a search (common number)",
            "/log?q=205".to_owned(),
        ),
        ("call log, a search (no match)", "/log?q=%2B7000".to_owned()),
        ("live calls", "/calls".to_owned()),
    ];
    let mut worst_page = Duration::ZERO;
    for (what, path) in &pages {
        let (median, worst) = time_page(addr, &cookie, path, 15);
        worst_page = worst_page.max(median);
        println!(
            "page {what} ({path}): median {}, worst {}",
            ms(median),
            ms(worst)
        );
    }
    println!(
        "slowest page median with {records} CDRs: {} (target < 100 ms)",
        ms(worst_page)
    );

    // Live updates to many browsers at once.
    let received: Arc<Mutex<Vec<Vec<Option<Instant>>>>> =
        Arc::new(Mutex::new(vec![vec![None; changes]; browsers]));
    let mut clients = Vec::new();
    for b in 0..browsers {
        let mut stream = TcpStream::connect(addr).unwrap();
        write!(
            stream,
            "GET /calls/events HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\n\r\n"
        )
        .unwrap();
        let received = received.clone();
        clients.push(std::thread::spawn(move || {
            stream
                .set_read_timeout(Some(Duration::from_secs(30)))
                .unwrap();
            let mut seen = 0;
            for line in BufReader::new(stream).lines() {
                let Ok(line) = line else { break };
                let Some(data) = line.strip_prefix("data: ") else {
                    continue;
                };
                for part in data.split("\"uniqueid\":\"bench.").skip(1) {
                    let k: usize = part.split('"').next().unwrap().parse().unwrap();
                    let mut r = received.lock().unwrap();
                    if r[b][k].is_none() {
                        r[b][k] = Some(Instant::now());
                        seen += 1;
                    }
                }
                if seen == received.lock().unwrap()[b].len() {
                    break;
                }
            }
        }));
    }
    // Every browser has its snapshot (the follower is logged in) before the first change.
    while double.logins() == 0 {
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(500));
    let mut sent = Vec::with_capacity(changes);
    for k in 0..changes {
        sent.push(Instant::now());
        assert!(double.send_live(channel_event(k).as_bytes()));
        std::thread::sleep(Duration::from_millis(5));
    }
    for c in clients {
        c.join().unwrap();
    }
    let received = received.lock().unwrap();
    let delivered = received.iter().flatten().filter(|t| t.is_some()).count();
    let mut last_arrivals: Vec<Duration> = (0..changes)
        .filter_map(|k| {
            received
                .iter()
                .map(|r| r[k])
                .collect::<Option<Vec<_>>>()
                .map(|ts| ts.into_iter().max().unwrap() - sent[k])
        })
        .collect();
    last_arrivals.sort();
    println!(
        "live updates: {changes} changes to {browsers} browsers: {delivered} of {} delivered; \
         the last browser had each after median {}, p99 {}, worst {}",
        changes * browsers,
        ms(last_arrivals[last_arrivals.len() / 2]),
        ms(last_arrivals[last_arrivals.len() * 99 / 100]),
        ms(*last_arrivals.last().unwrap())
    );
    assert_eq!(delivered, changes * browsers);
    let _ = stop.send(());
    server.join().unwrap();
}

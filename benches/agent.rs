//! The agent under load (`cargo bench --bench agent`): 1,000,000 AMI events over
//! loopback — the real pjsip-calls transcript's events, cycled, with a synthetic CDR
//! every 10th event — into a fresh SQLite file, through the release `astbase agent`
//! process. Reports:
//! - parse rate: the decoder alone over the same bytes in memory, every event built;
//! - the loopback limit: the same double sending the same bytes to a client that only
//!   reads them (the ceiling for any AMI client, measured in the same run);
//! - end to end: from login until the last CDR is committed (events/s, as a share of
//!   the loopback limit, and CDR rows/s), with the agent's CPU seconds by thread;
//! - store rate: CDR rows/s committed by the writer alone (100k rows);
//! - the agent process's peak RSS (VmHWM), and again against a server that never
//!   completes a `CoreShowChannels` listing while 250,000 distinct calls come and go.
//!
//! Targets (issue #21): ≥ 1.5M events/s end to end (≥ 50% of the loopback limit), RSS
//! ≤ 20 MB under any server behaviour. Under `cargo test` it runs a 20,000-event smoke
//! version.

#[allow(dead_code)]
#[path = "../tests/it/ami_double.rs"]
mod ami_double;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ami_double::{AmiDouble, Then, channel_flood, synthetic_cdr, transcript_events};
use astbase::agent::ami::{Decoder, Limits};

const SECRET: &str = "bench-secret";

/// `events` events: nine transcript events, then one CDR, over and over.
fn stream(events: usize) -> (Vec<u8>, usize) {
    let transcript = String::from_utf8(transcript_events("pjsip-calls.txt")).unwrap();
    let others: Vec<&str> = transcript
        .split("\r\n\r\n")
        .filter(|m| m.starts_with("Event: ") && !m.starts_with("Event: Cdr\r\n"))
        .collect();
    let mut out = Vec::with_capacity(events * 420);
    let (mut cdrs, mut next) = (0, 0);
    for i in 0..events {
        if i % 10 == 9 {
            out.extend_from_slice(synthetic_cdr(cdrs).as_bytes());
            cdrs += 1;
        } else {
            out.extend_from_slice(others[next % others.len()].as_bytes());
            out.extend_from_slice(b"\r\n\r\n");
            next += 1;
        }
    }
    (out, cdrs)
}

fn peak_rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// CPU seconds (user + system) of each thread of a process, by thread name.
fn thread_cpu(pid: u32) -> String {
    let ticks = 100.0; // USER_HZ on Linux
    let mut out = Vec::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .flatten()
    {
        let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        // Fields after the parenthesised name: state is the 3rd, utime the 14th.
        let Some((name, rest)) = stat.split_once(" (").and_then(|(_, r)| r.rsplit_once(") "))
        else {
            continue;
        };
        let fields: Vec<&str> = rest.split(' ').collect();
        let cpu: f64 =
            fields[11].parse::<f64>().unwrap_or(0.0) + fields[12].parse::<f64>().unwrap_or(0.0);
        if cpu > 0.0 {
            out.push(format!("{name} {:.2} s", cpu / ticks));
        }
    }
    out.join(", ")
}

fn main() {
    let events = if std::env::args().any(|a| a == "--bench") {
        1_000_000
    } else {
        20_000
    };
    let (bytes, cdrs) = stream(events);
    if std::env::var_os("ASTBASE_BENCH_WRITER_ONLY").is_some() {
        let dir = tempfile::tempdir().unwrap();
        let (rows, time) = writer_alone(cdrs, dir.path());
        println!(
            "writer alone: {:.0}k CDR rows/s",
            rows as f64 / time.as_secs_f64() / 1e3
        );
        return;
    }

    // 1. The decoder alone.
    let started = Instant::now();
    let mut decoder = Decoder::without_banner(Limits::default());
    let mut parsed = 0;
    for chunk in bytes.chunks(64 * 1024) {
        decoder.feed(chunk);
        while let Ok(Some(_)) = decoder.next_message() {
            parsed += 1;
        }
    }
    let parse = started.elapsed();
    assert_eq!(parsed, events);

    // 2. The loopback limit: the same double sending the same bytes to a client that
    // only reads them.
    let wire = loopback_limit(&bytes);

    // 3. The agent process end to end.
    let dir = tempfile::tempdir().unwrap();
    let double = AmiDouble::start(SECRET);
    double.feed(bytes.clone(), Then::Hold);
    let (end_to_end, rss, threads) = agent_run(&double, dir.path(), cdrs);

    // 4. A server that never completes the channel listing, under a flood of distinct
    // calls: what the agent holds for the listing must stay bounded.
    let flood_dir = tempfile::tempdir().unwrap();
    let flood_double = AmiDouble::start(SECRET);
    flood_double.endless_listings(true);
    let calls = events / 4;
    let mut flood = channel_flood(calls);
    flood.extend(synthetic_cdr(0).into_bytes());
    flood_double.feed(flood, Then::Hold);
    let (_, flood_rss, _) = agent_run(&flood_double, flood_dir.path(), 1);

    let (rows, store_time) = writer_alone(cdrs, dir.path());

    let per_sec = |n: usize, d: Duration| n as f64 / d.as_secs_f64();
    let mb = |kb: u64| kb as f64 / 1024.0;
    println!(
        "{events} events ({:.0} MB, {cdrs} CDRs): parse {:.0}k events/s; loopback limit {:.0}k events/s; agent end to end {:.2} s = {:.0}k events/s ({:.0}% of the loopback limit), {:.0}k CDR rows/s; writer alone {:.0}k CDR rows/s",
        bytes.len() as f64 / 1e6,
        per_sec(events, parse) / 1e3,
        per_sec(events, wire) / 1e3,
        end_to_end.as_secs_f64(),
        per_sec(events, end_to_end) / 1e3,
        100.0 * wire.as_secs_f64() / end_to_end.as_secs_f64(),
        per_sec(cdrs, end_to_end) / 1e3,
        per_sec(rows, store_time) / 1e3,
    );
    println!(
        "agent peak RSS {:.1} MB; {:.1} MB under a listing that never completes and {calls} distinct calls",
        mb(rss),
        mb(flood_rss)
    );
    println!("agent CPU by thread: {threads}");
}

/// Runs the release agent against `double` until `cdrs` CDRs are committed: the time
/// from login, the peak RSS (kB), and CPU by thread.
fn agent_run(double: &AmiDouble, dir: &std::path::Path, cdrs: usize) -> (Duration, u64, String) {
    let db = dir.join("agent.db");
    let mut agent = Command::new(env!("CARGO_BIN_EXE_astbase"))
        .arg("agent")
        .args(["--manager-port", &double.port.to_string(), "--no-bans"])
        .arg("--db")
        .arg(&db)
        .arg("--cdr-csv")
        .arg(dir.join("none.csv"))
        .args(["--server", "bench", "--timezone", "UTC"])
        .env("MANAGER_LOGIN", "odoo")
        .env("MANAGER_PASSWORD", SECRET)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let count = || {
        rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .and_then(|c| c.query_row("SELECT count(*) FROM cdr", [], |r| r.get::<_, i64>(0)))
            .unwrap_or(0)
    };
    while double.logins() == 0 {
        std::thread::sleep(Duration::from_millis(1));
    }
    let started = Instant::now();
    while count() < cdrs as i64 {
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "the agent stalled"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let end_to_end = started.elapsed();
    let rss = peak_rss_kb(agent.id());
    let threads = thread_cpu(agent.id());
    Command::new("kill")
        .args(["-TERM", &agent.id().to_string()])
        .status()
        .unwrap();
    let status = agent.wait().unwrap();
    assert!(status.success());
    assert_eq!(count(), cdrs as i64, "every CDR once");
    assert_eq!(
        double.dropped_slow(),
        0,
        "Asterisk would have dropped the agent"
    );
    (end_to_end, rss, threads)
}

/// How long the double takes to send `bytes` to a client that logs in and discards
/// what it reads: the most any AMI client could do over this loopback.
fn loopback_limit(bytes: &[u8]) -> Duration {
    use std::io::{Read, Write};
    let double = AmiDouble::start(SECRET);
    double.feed(bytes.to_vec(), Then::Close);
    let mut client = std::net::TcpStream::connect(("127.0.0.1", double.port)).unwrap();
    client
        .write_all(
            format!("Action: Login\r\nUsername: odoo\r\nSecret: {SECRET}\r\n\r\n").as_bytes(),
        )
        .unwrap();
    let mut buf = vec![0; 64 * 1024];
    let (mut received, mut started) = (0, None);
    loop {
        let n = client.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        started.get_or_insert_with(Instant::now);
        received += n;
    }
    assert!(received >= bytes.len(), "the double sent everything");
    started.unwrap().elapsed()
}

/// The writer alone: CDR rows committed per second (batches of 5,000, as under load).
fn writer_alone(cdrs: usize, dir: &std::path::Path) -> (usize, Duration) {
    let store_db = dir.join("store.db");
    let mut store =
        astbase::agent::cdr::store::Store::open(&store_db, "bench", jiff::tz::TimeZone::UTC)
            .unwrap();
    let rows: Vec<_> = (0..100_000.min(cdrs.max(10_000)))
        .map(|n| {
            let text = synthetic_cdr(n);
            let mut d = Decoder::without_banner(Limits::default());
            d.feed(text.as_bytes());
            let m = d.next_message().unwrap().unwrap();
            astbase::agent::cdr::store::Op::Cdr(
                Box::new(astbase::agent::cdr::Cdr::from_event(&m).unwrap()),
                astbase::agent::cdr::Origin::Ami,
            )
        })
        .collect();
    let started = Instant::now();
    for batch in rows.chunks(5_000) {
        store.write(batch).unwrap();
    }
    let store_time = started.elapsed();

    (rows.len(), store_time)
}

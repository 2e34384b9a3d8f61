//! Central CDRs on PostgreSQL (`cargo bench --bench central`), against a throw-away
//! cluster on 127.0.0.1 (tests/it/postgres.rs). Reports:
//! - shipping: 1,000,000 CDRs committed in an agent's SQLite database sent by the real
//!   shipper thread into PostgreSQL (rows/s), and, measured in the same run, a naive
//!   shipper's rate (one INSERT per row) as the baseline;
//! - a fleet report over 10,000,000 rows (100 servers) computed by PostgreSQL, by day,
//!   by server and by extension (seconds), beside the same report over the agent's
//!   local SQLite database of 1,000,000 rows (rows/s, as a ratio).
//!
//! Targets (issue): ≥ 50,000 rows/s shipped; the 10M-row report in seconds.
//! Under `cargo test` it runs a smoke version (20,000 shipped, 100,000 reported).

#[allow(dead_code)]
#[path = "../tests/it/postgres.rs"]
mod postgres;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use astbase::agent::Log;
use astbase::agent::cdr::report::{GroupBy, Range};
use astbase::agent::cdr::store::{Op, Store};
use astbase::agent::cdr::{Cdr, Origin};
use astbase::agent::central::{CentralUrl, PasswordLookup, Session, schema};
use astbase::agent::shipper::{ShipperConfig, start};

fn cdr(n: usize) -> Cdr {
    let answered = !n.is_multiple_of(3);
    let time = format!(
        "2026-11-{:02} {:02}:{:02}:{:02}",
        1 + n / 86_400 % 28,
        n / 3600 % 24,
        n / 60 % 60,
        n % 60
    );
    Cdr {
        src: format!("1{:02}", n % 50),
        dst: format!("2{:02}", n % 40),
        dcontext: "odoo-internal".into(),
        clid: format!("\"User {}\" <1{:02}>", n % 50, n % 50),
        channel: format!("PJSIP/1{:02}-{n:08x}", n % 50),
        dstchannel: format!("PJSIP/2{:02}-{:08x}", n % 40, n + 1),
        lastapp: "Dial".into(),
        lastdata: format!("PJSIP/2{:02},30,tT", n % 40),
        start: time.clone(),
        answer: if answered {
            time.clone()
        } else {
            String::new()
        },
        end: time,
        duration: 5 + (n % 100) as i64,
        billsec: if answered { (n % 100) as i64 } else { 0 },
        disposition: if answered { "ANSWERED" } else { "NO ANSWER" }.into(),
        amaflags: "DOCUMENTATION".into(),
        uniqueid: format!("1795686785.{n}"),
        linkedid: Some(format!("1795686785.{n}")),
        sequence: Some(n as i64),
        ..Cdr::default()
    }
}

/// Rows for the big report, made by PostgreSQL itself (100 servers, a call every 3 s).
const GENERATE: &str = "INSERT INTO astbase.cdr (fingerprint, server, local_id, accountcode,
    src, dst, dcontext, clid, channel, dstchannel, lastapp, lastdata, start, answer, \"end\",
    start_epoch, duration, billsec, disposition, amaflags, uniqueid, userfield, received_at,
    origin)
  SELECT decode(md5(i::text), 'hex'), 'pbx-' || lpad((i % 100)::text, 3, '0'), i, '',
    '1' || lpad((i % 50)::text, 2, '0'), '2' || lpad((i % 40)::text, 2, '0'), 'odoo-internal',
    '', 'PJSIP/x', 'PJSIP/y', CASE WHEN i % 7 = 0 THEN 'Queue' ELSE 'Dial' END,
    CASE WHEN i % 7 = 0 THEN 'support,t' ELSE 'PJSIP/201' END,
    to_char(to_timestamp(1795000000 + i * 3) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS+00:00'),
    NULL, '', 1795000000 + i * 3, 60, CASE WHEN i % 3 = 0 THEN 0 ELSE i % 100 END,
    CASE WHEN i % 3 = 0 THEN 'NO ANSWER' ELSE 'ANSWERED' END, 'DOCUMENTATION', i::text, '',
    '', 'ami'
  FROM generate_series(1, $1::int8) AS i";

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (shipped, reported) = if full {
        (1_000_000, 10_000_000)
    } else {
        (20_000, 100_000)
    };
    if postgres::bin_dir().is_none() {
        let line =
            "benches/central: needs PostgreSQL's initdb and pg_ctl (apt-get install postgresql)";
        if std::env::var_os("ASTBASE_REQUIRE_ALL").is_some() {
            panic!("{line}");
        }
        eprintln!("skipped: {line}");
        return;
    }
    let pg = postgres::Postgres::start_default();
    let url = CentralUrl::parse(&pg.superuser_url(), &PasswordLookup::default()).unwrap();
    let session = Session::connect(&url, Duration::from_secs(600)).unwrap();
    schema::migrate(&session).unwrap();

    // The agent's database, filled as the writer fills it.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("agent.db");
    let mut store = Store::open(&db, "pbx-bench", jiff::tz::TimeZone::UTC).unwrap();
    let ops: Vec<Op> = (0..shipped)
        .map(|n| Op::Cdr(Box::new(cdr(n)), Origin::Ami))
        .collect();
    for chunk in ops.chunks(20_000) {
        store.write(chunk).unwrap();
    }
    drop(ops);

    // The real shipper, from start to the last row committed in PostgreSQL.
    let started = Instant::now();
    let (doorbell, counters, handle) =
        start(&db, ShipperConfig::new(url.clone()), Log::new(|_| {})).unwrap();
    while counters.shipped.load(Ordering::Relaxed) < shipped as u64 {
        assert_eq!(counters.failures.load(Ordering::Relaxed), 0);
        std::thread::sleep(Duration::from_millis(5));
    }
    let ship_time = started.elapsed();
    doorbell.stop();
    handle.join().unwrap();
    let rate = shipped as f64 / ship_time.as_secs_f64();
    println!(
        "shipping {shipped} CDRs SQLite → PostgreSQL: {:.2} s, {:.0}k rows/s (target ≥ 50k)",
        ship_time.as_secs_f64(),
        rate / 1e3
    );
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        let started = Instant::now();
        let mut after = 0;
        loop {
            let b = astbase::agent::central::ship::Batch::read(&conn, after, 10_000).unwrap();
            match b.last_id() {
                Some(l) => after = l,
                None => break,
            }
        }
        println!(
            "  reading the batches from SQLite alone: {:.2} s (overlapped with storing)",
            started.elapsed().as_secs_f64()
        );
    }
    let naive = naive_rate(&pg, &db, 5_000.min(shipped));
    println!(
        "  baseline, one INSERT per row: {:.1}k rows/s; batched is {:.0}× that",
        naive / 1e3,
        rate / naive
    );

    // A local report over the agent's SQLite database, for the ratio below.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let started = Instant::now();
    let local =
        astbase::agent::cdr::report::report(&conn, GroupBy::Day, Range::default(), &[]).unwrap();
    let local_rate = shipped as f64 / started.elapsed().as_secs_f64();
    assert_eq!(local.iter().map(|s| s.calls).sum::<i64>(), shipped as i64);

    // The fleet: `reported` rows from 100 servers, bulk-made (keys dropped meanwhile).
    pg.psql("fleet", "TRUNCATE astbase.cdr");
    pg.psql(
        "fleet",
        "ALTER TABLE astbase.cdr DROP CONSTRAINT cdr_pkey; DROP INDEX astbase.cdr_start",
    );
    let started = Instant::now();
    pg.psql(
        "fleet",
        &GENERATE.replace("$1::int8", &reported.to_string()),
    );
    pg.psql(
        "fleet",
        "ALTER TABLE astbase.cdr ADD PRIMARY KEY (fingerprint);
         CREATE INDEX cdr_start ON astbase.cdr (start_epoch)",
    );
    pg.psql("fleet", "VACUUM ANALYZE astbase.cdr");
    println!(
        "  (made {reported} rows in {:.0} s)",
        started.elapsed().as_secs_f64()
    );
    for by in [GroupBy::Day, GroupBy::Server, GroupBy::Extension] {
        let started = Instant::now();
        let stats = session.report(by, Range::default(), &[]).unwrap();
        let time = started.elapsed();
        let calls: i64 = stats.iter().map(|s| s.calls).sum();
        assert!(calls >= reported as i64, "{calls}");
        println!(
            "fleet report by {} over {reported} rows: {:.2} s ({} rows out), {:.1}M rows/s, {:.1}× the local SQLite report's rate",
            by.title(),
            time.as_secs_f64(),
            stats.len(),
            reported as f64 / time.as_secs_f64() / 1e6,
            reported as f64 / time.as_secs_f64() / local_rate
        );
    }
}

/// Rows per second a shipper sending one INSERT per row (autocommit) would reach.
fn naive_rate(pg: &postgres::Postgres, db: &std::path::Path, rows: usize) -> f64 {
    pg.psql(
        "fleet",
        "CREATE TABLE naive (LIKE astbase.cdr INCLUDING ALL)",
    );
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare("SELECT src, dst, start, billsec, disposition, fingerprint FROM cdr LIMIT ?1")
        .unwrap();
    let rows: Vec<(String, String, String, i64, String, Vec<u8>)> = stmt
        .query_map([rows as i64], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (client, connection) =
            tokio_postgres::connect(&pg.superuser_url(), tokio_postgres::NoTls)
                .await
                .unwrap();
        tokio::spawn(connection);
        let insert = client
            .prepare(
                "INSERT INTO naive (fingerprint, server, local_id, accountcode, src, dst, dcontext,
                 clid, channel, dstchannel, lastapp, lastdata, start, \"end\", duration, billsec,
                 disposition, amaflags, uniqueid, userfield, received_at, origin)
                 VALUES ($1, 'pbx', 0, '', $2, $3, '', '', '', '', '', '', $4, $4, 0, $5, $6, '',
                 '', '', '', 'ami') ON CONFLICT DO NOTHING",
            )
            .await
            .unwrap();
        let started = Instant::now();
        for (src, dst, start, billsec, disposition, fingerprint) in &rows {
            client
                .execute(
                    &insert,
                    &[fingerprint, src, dst, start, billsec, disposition],
                )
                .await
                .unwrap();
        }
        rows.len() as f64 / started.elapsed().as_secs_f64()
    })
}

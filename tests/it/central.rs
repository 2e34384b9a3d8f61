//! Agents shipping CDRs into one real PostgreSQL (tests/it/postgres.rs) through
//! outages, crashes and replays, and `astbase cdr` reading it back.

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Output};
use std::time::Duration;

use crate::agent_process::Agent;
use crate::ami_double::{AmiDouble, Then, synthetic_cdr};
use crate::needs::{self, Need, require};
use crate::postgres::Postgres;
use crate::support::text;

const AGENT_PASSWORD: &str = "agent-pw";
const REPORT_PASSWORD: &str = "report-pw";

/// The roles README's "Central CDRs" tells an admin to create, word for word.
const GRANTS: &str = "
CREATE ROLE astbase_agent LOGIN PASSWORD 'agent-pw';
GRANT CONNECT ON DATABASE fleet TO astbase_agent;
GRANT USAGE ON SCHEMA astbase TO astbase_agent;
GRANT SELECT ON astbase.schema_version TO astbase_agent;
GRANT INSERT ON astbase.cdr TO astbase_agent;
CREATE ROLE astbase_report LOGIN PASSWORD 'report-pw';
GRANT CONNECT ON DATABASE fleet TO astbase_report;
GRANT USAGE ON SCHEMA astbase TO astbase_report;
GRANT SELECT ON astbase.cdr TO astbase_report;
";

const WAIT: Duration = Duration::from_secs(60);

fn astbase(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_astbase"))
        .args(args)
        .env_remove("ASTBASE_DB")
        .env_remove("PGPASSWORD")
        .output()
        .unwrap()
}

/// A cluster with the schema made by `astbase cdr migrate` (as the owner) and the
/// documented roles.
fn central() -> Postgres {
    let pg = Postgres::start_default();
    let migrate = astbase(&["cdr", "migrate", "--db", &pg.superuser_url()]);
    assert!(migrate.status.success(), "{}", text(&migrate));
    assert_eq!(
        String::from_utf8_lossy(&migrate.stdout),
        format!(
            "postgres://postgres@127.0.0.1:{}/fleet: astbase schema migrated from version 0 to 2\n",
            pg.port
        )
    );
    for statement in GRANTS.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        pg.psql("fleet", statement);
    }
    pg
}

/// CDRs `from..to` of a server's synthetic stream, as AMI sends them.
fn cdrs(from: usize, to: usize) -> Vec<u8> {
    (from..to)
        .map(synthetic_cdr)
        .collect::<String>()
        .into_bytes()
}

/// The fingerprints a server's agent stored locally, as hex.
fn local_fingerprints(agent: &Agent) -> BTreeSet<String> {
    let conn = rusqlite::Connection::open_with_flags(
        agent.db(),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let mut stmt = conn.prepare("SELECT hex(fingerprint) FROM cdr").unwrap();
    stmt.query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .map(|f| f.unwrap().to_lowercase())
        .collect()
}

fn central_fingerprints(pg: &Postgres, server: &str) -> BTreeSet<String> {
    pg.psql(
        "fleet",
        &format!("SELECT encode(fingerprint, 'hex') FROM astbase.cdr WHERE server = '{server}'"),
    )
    .lines()
    .map(str::to_owned)
    .collect()
}

/// `astbase cdr report --format json` as (key → [calls, answered, missed, total billsec]).
fn report(db: &str, extra: &[&str]) -> BTreeMap<String, [i64; 4]> {
    let mut args = vec![
        "cdr",
        "report",
        "--db",
        db,
        "--timezone",
        "Europe/Moscow",
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let out = astbase(&args);
    assert!(out.status.success(), "{}", text(&out));
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    rows.iter()
        .map(|r| {
            let n = |k: &str| r[k].as_i64().unwrap();
            (
                r["key"].as_str().unwrap().to_owned(),
                [n("calls"), n("answered"), n("missed"), n("total_billsec")],
            )
        })
        .collect()
}

fn sum(reports: &[BTreeMap<String, [i64; 4]>]) -> BTreeMap<String, [i64; 4]> {
    let mut total: BTreeMap<String, [i64; 4]> = BTreeMap::new();
    for report in reports {
        for (key, values) in report {
            let entry = total.entry(key.clone()).or_default();
            for (t, v) in entry.iter_mut().zip(values) {
                *t += v;
            }
        }
    }
    total
}

/// Waits for the central database to hold `want` CDRs; on a timeout, shows the
/// agents' logs.
fn wait_for_central(pg: &Postgres, want: i64, agents: &[Agent]) {
    let started = std::time::Instant::now();
    loop {
        let now = pg.count("SELECT count(*) FROM astbase.cdr");
        if now == want {
            return;
        }
        if started.elapsed() > WAIT {
            let logs: Vec<String> = agents.iter().map(Agent::log).collect();
            panic!(
                "the central database has {now} CDRs, waited {WAIT:?} for {want}; agents' logs:\n{}",
                logs.join("\n---\n")
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn three_agents_ship_every_cdr_exactly_once_through_an_outage_a_sigkill_and_a_replay() {
    require!(Need::PostgresServer);
    let mut pg = central();
    let url = pg.url("astbase_agent", AGENT_PASSWORD);
    // msk and spb are examples/company's servers (tagged office); ekb is not in it.
    let names = ["msk", "spb", "ekb"];
    let doubles: Vec<AmiDouble> = names
        .iter()
        .enumerate()
        .map(|(i, _)| {
            let double = AmiDouble::start(crate::agent_process::SECRET);
            double.feed(cdrs(i * 10_000, i * 10_000 + 1_000), Then::Hold);
            double
        })
        .collect();
    let extra = ["--no-bans", "--central", url.as_str()];
    let mut agents: Vec<Agent> = names
        .iter()
        .zip(&doubles)
        .map(|(name, double)| Agent::start_as(name, tempfile::tempdir().unwrap(), double, &extra))
        .collect();
    wait_for_central(&pg, 3_000, &agents);

    // PostgreSQL dies mid-stream: calls keep ending, agents keep storing.
    pg.stop();
    for (i, double) in doubles.iter().enumerate() {
        assert!(double.send_live(&cdrs(i * 10_000 + 1_000, i * 10_000 + 2_000)));
    }
    for agent in &agents {
        agent.wait_until("2000 CDRs stored locally", |a| a.cdrs() == 2_000);
    }
    std::thread::sleep(Duration::from_millis(500));
    pg.start();
    wait_for_central(&pg, 6_000, &agents);
    assert!(
        agents[0].log().contains("central database: ") && agents[0].log().contains("caught up"),
        "{}",
        agents[0].log()
    );

    // spb's agent is SIGKILLed; Asterisk meanwhile replays what it sent (a reconnect
    // after a restart) and adds 500 new calls.
    agents[1].wait_until("the mark to cover every row", |a| {
        a.query("SELECT last_id FROM ship_mark") == a.query("SELECT max(id) FROM cdr")
    });
    doubles[1].feed(cdrs(10_000, 12_500), Then::Hold);
    agents[1].sigkill_and_restart("spb", &doubles[1], &extra);
    agents[1].wait_until("2500 CDRs stored locally", |a| a.cdrs() == 2_500);
    wait_for_central(&pg, 6_500, &agents);

    // Every local record is in the central database once, and nothing else is.
    for (name, agent) in names.iter().zip(&agents) {
        assert_eq!(
            central_fingerprints(&pg, name),
            local_fingerprints(agent),
            "{name}"
        );
    }
    assert_eq!(
        pg.count("SELECT count(DISTINCT (server, uniqueid)) FROM astbase.cdr"),
        6_500
    );
    for agent in &mut agents {
        assert_eq!(agent.stop(), Some(0));
    }
    assert!(
        agents[2].log().contains("sent to the central database"),
        "{}",
        agents[2].log()
    );
    assert_eq!(pg.count("SELECT count(*) FROM astbase.cdr"), 6_500);

    // A report over the central database is the sum of the local ones, by every key.
    let central_url = pg.url("astbase_report", REPORT_PASSWORD);
    for by in ["extension", "day", "disposition", "server", "queue"] {
        let locals: Vec<_> = agents
            .iter()
            .map(|a| report(a.db().to_str().unwrap(), &["--by", by]))
            .collect();
        assert_eq!(
            report(&central_url, &["--by", by]),
            sum(&locals),
            "--by {by}"
        );
    }
    assert_eq!(
        report(&central_url, &["--by", "server"]),
        BTreeMap::from([
            ("ekb".to_owned(), [2_000, 1_333, 667, 66_000]),
            ("msk".to_owned(), [2_000, 1_333, 667, 65_967]),
            ("spb".to_owned(), [2_500, 1_667, 833, 82_500]),
        ])
    );
    // `tag:` is looked up in the repository; a range narrows it.
    let repo = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/company");
    let office = report(
        &central_url,
        &["--by", "server", "--server", "tag:office", "--repo", repo],
    );
    assert_eq!(office.keys().collect::<Vec<_>>(), ["msk", "spb"]);
    let morning = report(
        &central_url,
        &[
            "--by",
            "server",
            "--server",
            "ekb",
            "--since",
            "2026-11-26 13:40",
            "--until",
            "2026-11-26 13:50",
        ],
    );
    assert_eq!(
        morning,
        BTreeMap::from([("ekb".to_owned(), [600, 400, 200, 19_800])])
    );

    // An export from the central database is the local exports merged.
    let export = |db: &str, extra: &[&str]| {
        let mut args = vec!["cdr", "export", "--db", db, "--timezone", "Europe/Moscow"];
        args.extend_from_slice(extra);
        let out = astbase(&args);
        assert!(out.status.success(), "{}", text(&out));
        String::from_utf8(out.stdout).unwrap()
    };
    let central_ekb = export(&central_url, &["--server", "ekb"]);
    assert_eq!(central_ekb, export(agents[2].db().to_str().unwrap(), &[]));
    assert_eq!(export(&central_url, &[]).lines().count(), 1 + 6_500);
}

#[test]
fn bad_urls_and_refused_passwords_are_clear_and_the_agent_keeps_storing_locally() {
    require!(Need::PostgresServer);
    let pg = central();
    let double = AmiDouble::start(crate::agent_process::SECRET);
    double.feed(cdrs(0, 100), Then::Hold);
    let wrong = pg.url("astbase_agent", "not-the-password");
    let mut refused = Agent::start_as(
        "msk",
        tempfile::tempdir().unwrap(),
        &double,
        &["--no-bans", "--central", &wrong],
    );
    refused.wait_until("100 CDRs stored locally", |a| a.cdrs() == 100);
    let expected = format!(
        "central database: postgres://astbase_agent@127.0.0.1:{}/fleet: PostgreSQL refused role \
         `astbase_agent`: password authentication failed for user \"astbase_agent\"",
        pg.port
    );
    refused.wait_until("the refusal logged", |a| a.log().contains(&expected));
    assert!(
        !refused.log().contains("not-the-password"),
        "{}",
        refused.log()
    );
    assert_eq!(refused.stop(), Some(0));
    assert_eq!(pg.count("SELECT count(*) FROM astbase.cdr"), 0);

    let double = AmiDouble::start(crate::agent_process::SECRET);
    double.feed(cdrs(0, 100), Then::Hold);
    let bad = format!(
        "postgres://astbase_agent:{AGENT_PASSWORD}@127.0.0.1:{}/fleet?sslmode=on",
        pg.port
    );
    let mut misspelt = Agent::start_as(
        "msk",
        tempfile::tempdir().unwrap(),
        &double,
        &["--no-bans", "--central", &bad],
    );
    misspelt.wait_until("100 CDRs stored locally", |a| a.cdrs() == 100);
    assert!(
        misspelt.log().contains(&format!(
            "ERROR: bad central database URL `postgres://astbase_agent:***@127.0.0.1:{}/fleet?sslmode=on`: \
             sslmode `on` is not one of disable, allow, prefer, require, verify-ca, verify-full; \
             CDRs are stored locally only",
            pg.port
        )),
        "{}",
        misspelt.log()
    );
    assert!(
        !misspelt.log().contains(AGENT_PASSWORD),
        "{}",
        misspelt.log()
    );
    assert_eq!(misspelt.stop(), Some(0));

    // The command line says the same, exits 1, and names the way out.
    let out = astbase(&["cdr", "report", "--db", &wrong]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out)
            .contains("PostgreSQL refused role `astbase_agent`: password authentication failed"),
        "{}",
        text(&out)
    );
    let nobody_there = format!(
        "postgres://astbase_agent:x@127.0.0.1:{}/fleet?sslmode=disable",
        crate::postgres::free_port()
    );
    let out = astbase(&["cdr", "report", "--db", &nobody_there]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("cannot connect"), "{}", text(&out));
    assert!(text(&out).contains("Connection refused"), "{}", text(&out));

    // The agent's role may not create the schema in a database that lacks it.
    pg.psql("postgres", "CREATE DATABASE empty");
    pg.psql(
        "postgres",
        "GRANT CONNECT ON DATABASE empty TO astbase_agent",
    );
    pg.psql("empty", "REVOKE CREATE ON SCHEMA public FROM PUBLIC");
    let empty = format!(
        "postgres://astbase_agent:{AGENT_PASSWORD}@127.0.0.1:{}/empty?sslmode=disable",
        pg.port
    );
    let out = astbase(&["cdr", "migrate", "--db", &empty]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("role `astbase_agent` may not create the astbase schema"),
        "{}",
        text(&out)
    );

    // A schema from a newer astbase is refused, not written into.
    pg.psql("fleet", "UPDATE astbase.schema_version SET version = 99");
    let out = astbase(&["cdr", "migrate", "--db", &pg.superuser_url()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains(&format!(
            "postgres://postgres@127.0.0.1:{}/fleet has astbase schema version 99, newer than this \
             astbase knows (2); upgrade astbase",
            pg.port
        )),
        "{}",
        text(&out)
    );
}

#[test]
fn tls_is_verified_as_sslmode_says() {
    require!(Need::PostgresServer, needs::OPENSSL);
    let (pg, certs) = Postgres::start_tls();
    let ca = certs.join("ca.pem");
    let ca = ca.to_str().unwrap();
    let url = |host: &str, query: &str| {
        format!(
            "postgres://postgres:{}@{host}:{}/fleet?{query}",
            crate::postgres::SUPERUSER_PASSWORD,
            pg.port
        )
    };
    let migrate = |url: &str| astbase(&["cdr", "migrate", "--db", url]);
    // The authority signed a certificate for 127.0.0.1: verify-full passes there.
    let full = url(
        "127.0.0.1",
        &format!("sslmode=verify-full&sslrootcert={ca}"),
    );
    let out = migrate(&full);
    assert!(out.status.success(), "{}", text(&out));
    // The name localhost is not on the certificate: verify-full refuses, verify-ca
    // (the authority only) and require (no check) accept.
    let out = migrate(&url(
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={ca}"),
    ));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("certificate not valid for name"),
        "{}",
        text(&out)
    );
    let out = migrate(&url(
        "localhost",
        &format!("sslmode=verify-ca&sslrootcert={ca}"),
    ));
    assert!(out.status.success(), "{}", text(&out));
    let out = migrate(&url("localhost", "sslmode=require"));
    assert!(out.status.success(), "{}", text(&out));
    // Public roots do not know this authority.
    let out = migrate(&url("127.0.0.1", "sslmode=verify-full&sslrootcert=system"));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("UnknownIssuer"), "{}", text(&out));
    // The server takes nothing unencrypted.
    let out = migrate(&url("127.0.0.1", "sslmode=disable"));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("no encryption"), "{}", text(&out));

    // A role that logs in by certificate.
    let pem = |name: &str| certs.join(name).to_str().unwrap().to_owned();
    let by_certificate = format!(
        "postgres://certuser@127.0.0.1:{}/fleet?sslmode=verify-full&sslrootcert={ca}&sslcert={}&sslkey={}",
        pg.port,
        pem("client.pem"),
        pem("client.key")
    );
    let out = migrate(&by_certificate);
    assert!(out.status.success(), "{}", text(&out));
    let without = format!(
        "postgres://certuser@127.0.0.1:{}/fleet?sslmode=verify-full&sslrootcert={ca}",
        pg.port
    );
    let out = migrate(&without);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("certificate"), "{}", text(&out));
    let half = format!("{without}&sslcert={}", pem("client.pem"));
    let out = migrate(&half);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("give sslcert and sslkey together"),
        "{}",
        text(&out)
    );

    // An agent ships over verify-full.
    let double = AmiDouble::start(crate::agent_process::SECRET);
    double.feed(cdrs(0, 50), Then::Hold);
    let mut agent = Agent::start_as(
        "msk",
        tempfile::tempdir().unwrap(),
        &double,
        &["--no-bans", "--central", &full],
    );
    let started = std::time::Instant::now();
    while pg.psql_tls("fleet", "SELECT count(*) FROM astbase.cdr") != "50" {
        assert!(started.elapsed() < WAIT, "{}", agent.log());
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(agent.stop(), Some(0));
}

#[test]
fn a_stalled_central_database_times_out_and_the_agent_keeps_storing() {
    require!(Need::PostgresServer);
    let pg = central();
    let double = AmiDouble::start(crate::agent_process::SECRET);
    double.feed(cdrs(0, 100), Then::Hold);
    let url = pg.url("astbase_agent", AGENT_PASSWORD);
    let extra = [
        "--no-bans",
        "--central",
        url.as_str(),
        "--central-timeout",
        "2",
    ];
    let mut agent = Agent::start_as("msk", tempfile::tempdir().unwrap(), &double, &extra);
    wait_for_central(&pg, 100, std::slice::from_ref(&agent));
    // Another session holds the table for 6 s: inserts wait behind its lock.
    let bin = crate::postgres::bin_dir().unwrap();
    let mut holder = Command::new(bin.join("psql"))
        .args([
            "-X",
            "-q",
            &pg.superuser_url(),
            "-c",
            "BEGIN; LOCK TABLE astbase.cdr IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(6); COMMIT;",
        ])
        .env("PGPASSWORD", crate::postgres::SUPERUSER_PASSWORD)
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    assert!(double.send_live(&cdrs(100, 300)));
    // Stored locally at once, whatever the central database does.
    agent.wait_until("300 CDRs stored locally", |a| a.cdrs() == 300);
    agent.wait_until("the stalled batch given up", |a| {
        a.log().contains(
            "storing CDRs: canceling statement due to statement timeout; CDRs are kept locally",
        )
    });
    holder.wait().unwrap();
    wait_for_central(&pg, 300, std::slice::from_ref(&agent));
    assert_eq!(agent.stop(), Some(0));
    assert_eq!(pg.count("SELECT count(*) FROM astbase.cdr"), 300);
}

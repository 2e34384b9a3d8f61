//! The agent against a real Asterisk 22: every CDR of real calls stored once and equal,
//! field by field, to what cdr_csv wrote to Master.csv; calls made while the agent was
//! killed backfilled from Master.csv without duplicates; `calls` and `hangup` on a call
//! that is up.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::asterisk::calls::{Call, place};
use crate::asterisk::{Asterisk, ami_env, boot, wait_until};
use crate::needs::{self, require};

/// The agent, run inside the instance's namespace (AMI listens on its loopback).
fn agent(ast: &Asterisk, dir: &Path) -> Child {
    agent_with(ast, dir, &[])
}

/// [`agent`] with more flags.
pub(crate) fn agent_with(ast: &Asterisk, dir: &Path, extra: &[&str]) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("agent.log"))
        .unwrap();
    ast.netns()
        .command(env!("CARGO_BIN_EXE_astbase"))
        .arg("agent")
        .arg("--db")
        .arg(dir.join("agent.db"))
        .arg("--cdr-csv")
        .arg(ast.master_csv())
        .args(["--server", "msk", "--timezone", "UTC", "--no-bans"])
        .args(["--max-backoff", "1"])
        .args(extra)
        .envs(ami_env())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap()
}

/// What the agent running in `dir` has logged.
pub(crate) fn agent_log(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("agent.log")).unwrap_or_default()
}

/// [`agent_with`], returned once it has logged in to AMI.
pub(crate) fn connected_agent(ast: &Asterisk, dir: &Path, extra: &[&str]) -> Child {
    let child = agent_with(ast, dir, extra);
    assert!(
        wait_until(Duration::from_secs(20), || agent_log(dir)
            .contains("connected to 127.0.0.1:5038")),
        "the agent did not connect: {}",
        agent_log(dir)
    );
    child
}

/// A call-control command (`calls`, `hangup`) run where AMI is.
pub(crate) fn control(ast: &Asterisk, args: &[&str]) -> std::process::Output {
    ast.netns()
        .command(env!("CARGO_BIN_EXE_astbase"))
        .args(args)
        .envs(ami_env())
        .output()
        .unwrap()
}

fn wait_for(what: &str, limit: Duration, done: impl FnMut() -> bool) {
    assert!(wait_until(limit, done), "timed out waiting for {what}");
}

/// Master.csv's records (newcdrcolumns: peeraccount, linkedid, sequence at the end).
pub(crate) fn master_csv(ast: &Asterisk) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(ast.master_csv()).unwrap_or_default();
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

/// The agent's rows in Master.csv's column order, times as Master.csv writes them.
fn stored(db: &Path) -> Vec<Vec<String>> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT accountcode, src, dst, dcontext, clid, channel, dstchannel, lastapp,
                    lastdata, start, coalesce(answer, ''), end, duration, billsec, disposition,
                    amaflags, uniqueid, userfield, coalesce(peeraccount, ''),
                    coalesce(linkedid, ''), coalesce(sequence, '')
             FROM cdr ORDER BY uniqueid, sequence",
        )
        .unwrap();
    // 2026-12-02T00:45:01+00:00 -> 2026-12-02 00:45:01
    let local = |t: String| match t.get(..19) {
        Some(head) if t.len() > 19 => head.replace('T', " "),
        _ => t,
    };
    stmt.query_map([], |r| {
        (0..21)
            .map(|i| {
                let v = match r.get_ref(i)? {
                    rusqlite::types::ValueRef::Integer(n) => n.to_string(),
                    v => v.as_str()?.to_owned(),
                };
                Ok(if matches!(i, 9..=11) { local(v) } else { v })
            })
            .collect()
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

fn count(db: &Path) -> usize {
    if !db.exists() {
        return 0;
    }
    rusqlite::Connection::open(db)
        .and_then(|c| c.query_row("SELECT count(*) FROM cdr", [], |r| r.get::<_, i64>(0)))
        .map_or(0, |n| n as usize)
}

fn sorted(mut rows: Vec<Vec<String>>) -> Vec<Vec<String>> {
    // Uniqueid, then sequence (as a number).
    rows.sort_by_key(|r| (r[16].clone(), r[20].parse::<i64>().unwrap_or(-1)));
    rows
}

#[test]
fn the_agent_stores_every_cdr_of_real_calls_as_master_csv_has_it_and_backfills_after_a_kill() {
    require!(needs::ROOT_FOR_NETNS, needs::IP, needs::ASTERISK);
    let (_, ast) = boot("examples/company", "msk");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("agent.db");
    let mut first = connected_agent(&ast, dir.path(), &[]);
    let log = || agent_log(dir.path());

    // Answered (voicemail), to an unregistered phone, outbound through failing trunks.
    let calls = [
        Call::new("odoo-inbound-carrier-ip", "+74951234500", "+74990000001"),
        Call::new("odoo-internal", "101", "102"),
        Call::new("odoo-phones", "84951112233", "101"),
        Call::new("odoo-internal", "100", "103"),
    ];
    place(&ast, &calls, 1);
    // Every call's dialplan half has its CDR, Master.csv has stopped growing (cdr_csv
    // writes each CDR when its channel ends; a half that never answered may write one
    // late or none), and the agent has as many.
    let mut seen = (0, Instant::now());
    wait_for(
        "Master.csv and the agent to agree",
        Duration::from_secs(20),
        || {
            let csv = master_csv(&ast);
            if csv.len() != seen.0 {
                seen = (csv.len(), Instant::now());
            }
            let dialplan_halves: std::collections::BTreeSet<&str> = csv
                .iter()
                .filter(|r| r[16].ends_with(";2"))
                .map(|r| r[19].as_str())
                .collect();
            dialplan_halves.len() == calls.len()
                && seen.1.elapsed() > Duration::from_millis(1500)
                && count(&db) == csv.len()
        },
    );
    let csv = master_csv(&ast);
    // At least the dialplan half of every call, every field compared.
    assert!(csv.len() >= calls.len() + 2, "{csv:?}");
    assert_eq!(sorted(stored(&db)), sorted(csv.clone()), "{}", log());

    // A call that is up: listed, then hung up from outside.
    let held = ([Call::new("odoo-internal", "100", "104")], csv.len());
    std::thread::scope(|s| {
        let call = s.spawn(|| place(&ast, &held.0, 30));
        let mut channel = String::new();
        wait_for("the call to be listed", Duration::from_secs(10), || {
            let out = control(&ast, &["calls", "--format", "json"]);
            let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
            let found = rows.as_array().into_iter().flatten().find_map(|r| {
                r["channel"]
                    .as_str()
                    .filter(|c| c.starts_with("Local/100@odoo-internal"))
                    .map(str::to_owned)
            });
            channel = found.unwrap_or_default();
            !channel.is_empty()
        });
        let hangup = control(&ast, &["hangup", &channel]);
        assert!(hangup.status.success(), "{}", crate::support::text(&hangup));
        assert_eq!(
            String::from_utf8_lossy(&hangup.stdout),
            format!("hung up {channel}\n")
        );
        let started = Instant::now();
        call.join().unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the call ended when hung up, not after its 30 s"
        );
    });
    wait_for("the hung-up call's CDRs", Duration::from_secs(20), || {
        let csv = master_csv(&ast).len();
        csv > held.1 && count(&db) == csv
    });

    // Killed: calls go on, and the next start fills the gap from Master.csv, once.
    first.kill().unwrap();
    first.wait().unwrap();
    let before = count(&db);
    place(
        &ast,
        &[
            Call::new("odoo-internal", "102", "101"),
            Call::new("odoo-internal", "103", "101"),
        ],
        1,
    );
    wait_for(
        "Master.csv to have the calls",
        Duration::from_secs(20),
        || master_csv(&ast).len() > before,
    );
    assert_eq!(count(&db), before, "the agent was down");
    let mut second = agent(&ast, dir.path());
    wait_for("the backfill", Duration::from_secs(20), || {
        count(&db) == master_csv(&ast).len()
    });
    assert_eq!(sorted(stored(&db)), sorted(master_csv(&ast)), "{}", log());
    let _ = Command::new("kill")
        .args(["-TERM", &second.id().to_string()])
        .status();
    second.wait().unwrap();
    ast.stop();
}

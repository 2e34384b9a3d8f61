//! `astbase agent` against the AMI double (tests/it/ami_double.rs): real transcripts,
//! cut connections, replays, login failures, silent servers, Master.csv backfill, and
//! bans carried out with real ipset inside a network namespace.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::agent_process::{Agent, SECRET};
use crate::ami_double::{AmiDouble, Then, synthetic_cdr, transcript_cdrs, transcript_events};
use crate::needs::{self, require};
use crate::netns::Netns;
use crate::support::text;

#[test]
fn real_transcripts_are_stored_field_by_field() {
    let double = AmiDouble::start(SECRET);
    double.feed(transcript_events("pjsip-calls.txt"), Then::Close);
    double.feed(transcript_events("local-calls.txt"), Then::Hold);
    let mut agent = Agent::start(&double, &["--no-bans"]);
    agent.wait_until("13 CDRs", |a| a.cdrs() == 13);
    assert_eq!(agent.stop(), Some(0));
    assert!(
        double.logins() >= 2,
        "reconnected after the first transcript"
    );

    let conn = rusqlite::Connection::open(agent.db()).unwrap();
    // The first call of pjsip-calls.txt: 101 -> 102, answered, mapped linkedid/sequence.
    let row: Vec<Option<String>> = conn
        .query_row(
            "SELECT src, dst, start, answer, end, duration, billsec, disposition, clid, linkedid, sequence, server
             FROM cdr WHERE uniqueid = '1795686785.0' AND sequence = 0",
            [],
            |r| {
                (0..12)
                    .map(|i| {
                        Ok(match r.get_ref(i)? {
                            rusqlite::types::ValueRef::Null => None,
                            rusqlite::types::ValueRef::Integer(n) => Some(n.to_string()),
                            v => Some(v.as_str()?.to_owned()),
                        })
                    })
                    .collect()
            },
        )
        .unwrap();
    let expected = [
        "101",
        "102",
        "2026-11-26T09:53:05+03:00",
        "2026-11-26T09:53:06+03:00",
        "2026-11-26T09:53:08+03:00",
        "3",
        "2",
        "ANSWERED",
        "\"Alice\" <101>",
        "1795686785.0",
        "0",
        "pbx-test",
    ];
    assert_eq!(row, expected.map(|v| Some(v.to_owned())));
    // local-calls.txt has no mappings: no linkedid or sequence, and a busy call with an
    // empty AnswerTime.
    assert_eq!(
        agent.query("SELECT count(*) FROM cdr WHERE sequence IS NULL"),
        8
    );
    assert_eq!(
        agent.query("SELECT count(*) FROM cdr WHERE disposition = 'BUSY' AND answer IS NULL"),
        agent.query("SELECT count(*) FROM cdr WHERE disposition = 'BUSY'")
    );
    assert!(agent.query("SELECT count(*) FROM cdr WHERE disposition = 'BUSY'") >= 1);

    let report = agent.astbase(&["cdr", "report", "--by", "disposition"]);
    assert!(report.status.success(), "{}", text(&report));
    let out = text(&report);
    assert!(
        out.lines()
            .next()
            .unwrap()
            .starts_with("disposition  calls  answered  missed"),
        "{out}"
    );
    assert!(out.contains("total"), "{out}");
    let total: i64 = out
        .lines()
        .last()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(total, 13, "{out}");

    let export = agent.astbase(&["cdr", "export", "--format", "json"]);
    assert!(export.status.success(), "{}", text(&export));
    let rows: serde_json::Value = serde_json::from_slice(&export.stdout).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 13);
    let csv = agent.astbase(&[
        "cdr",
        "export",
        "--since",
        "2026-11-26 09:50",
        "--until",
        "2026-11-27",
    ]);
    assert!(csv.status.success(), "{}", text(&csv));
    assert_eq!(
        String::from_utf8_lossy(&csv.stdout).lines().count(),
        1 + 5,
        "{}",
        text(&csv)
    );
}

#[test]
fn no_cdr_is_lost_or_stored_twice_across_cut_connections() {
    let double = AmiDouble::start(SECRET);
    let cdrs: Vec<String> = (0..1000).map(synthetic_cdr).collect();
    // First connection: CDRs 0..600, then garbage, then half of CDR 600, then the cut.
    let mut first: Vec<u8> = cdrs[..600].concat().into_bytes();
    first.extend_from_slice(b"this is not a header\r\n\xff\xfe\r\n\r\n");
    first.extend_from_slice(&cdrs[600].as_bytes()[..200]);
    double.feed(first, Then::Close);
    // Second: a replay overlapping what was already delivered (400..1000).
    double.feed(cdrs[400..].concat().into_bytes(), Then::Hold);
    let mut agent = Agent::start(&double, &["--no-bans"]);
    agent.wait_until("1000 CDRs", |a| a.cdrs() == 1000);
    assert_eq!(agent.stop(), Some(0));
    assert_eq!(agent.cdrs(), 1000);
    assert_eq!(
        agent.query("SELECT count(DISTINCT uniqueid) FROM cdr"),
        1000
    );
    assert_eq!(double.logins(), 2);
    let log = agent.log();
    assert!(log.contains("200 duplicate(s) ignored"), "{log}");
    assert!(!log.contains(SECRET), "the secret was logged: {log}");
}

#[test]
fn without_a_master_csv_the_agent_warns_that_calls_made_while_it_is_away_are_lost() {
    let double = AmiDouble::start(SECRET);
    let mut agent = Agent::start(&double, &["--no-bans"]);
    agent.wait_until("connected", |_| double.connections() >= 1);
    agent.wait_until("the warning", |a| a.log().contains("to backfill from"));
    assert_eq!(agent.stop(), Some(0));
    let log = agent.log();
    let csv = agent.dir.path().join("Master.csv");
    assert!(
        log.contains(&format!(
            "warning: no {} to backfill from: calls made while the agent is not connected \
             will be lost. Enable cdr_csv with a [csv] section in cdr.conf (not \
             cdr_csv.conf), or point --cdr-csv at Master.csv",
            csv.display()
        )),
        "{log}"
    );
}

#[test]
fn a_refused_login_is_reported_and_retried() {
    let double = AmiDouble::start("another-secret");
    let mut agent = Agent::start(&double, &["--no-bans"]);
    agent.wait_until("two attempts", |_| double.connections() >= 2);
    assert_eq!(agent.stop(), Some(0));
    let log = agent.log();
    assert!(
        log.contains("AMI login as `odoo` refused: Authentication failed (check MANAGER_LOGIN / MANAGER_PASSWORD"),
        "{log}"
    );
    assert!(log.contains("reconnecting in"), "{log}");
    assert!(!log.contains(SECRET), "{log}");
}

#[test]
fn a_server_that_stops_answering_pings_is_left_and_reconnected() {
    let double = AmiDouble::start(SECRET);
    double.ignore_pings(true);
    double.feed(synthetic_cdr(1).into_bytes(), Then::Hold);
    double.feed(synthetic_cdr(2).into_bytes(), Then::Hold);
    let mut agent = Agent::start(
        &double,
        &["--no-bans", "--ping-interval", "1", "--ping-timeout", "1"],
    );
    agent.wait_until("a reconnect after a missing Pong", |a| {
        double.logins() >= 2 && a.cdrs() == 2
    });
    assert_eq!(agent.stop(), Some(0));
    assert!(
        agent.log().contains("did not answer within 1s"),
        "{}",
        agent.log()
    );
}

#[test]
fn master_csv_fills_the_gaps_without_duplicates() {
    let double = AmiDouble::start(SECRET);
    // AMI delivers calls 0..10; Master.csv has 5..15 (the agent was down for 10..15).
    double.feed(
        (0..10).map(synthetic_cdr).collect::<String>().into_bytes(),
        Then::Hold,
    );
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::new();
    for n in 5..15 {
        csv.push_str(&csv_line(&synthetic_cdr(n)));
    }
    // A line still being written (no newline yet) is left for later.
    csv.push_str("\"\",\"100\",\"200\"");
    let path = dir.path().join("Master.csv");
    std::fs::write(&path, &csv).unwrap();
    let mut agent = Agent::start_in(dir, &double, &["--no-bans"]);
    agent.wait_until("15 CDRs", |a| a.cdrs() == 15);
    assert_eq!(agent.stop(), Some(0));
    // The calls made while it was down came from Master.csv; the others from whichever
    // source delivered them first.
    assert_eq!(
        agent.query("SELECT count(*) FROM cdr WHERE origin = 'csv' AND sequence >= 10"),
        5
    );
    assert_eq!(
        agent.query("SELECT count(*) FROM cdr WHERE origin = 'ami' AND sequence < 5"),
        5
    );
    assert_eq!(agent.query("SELECT count(DISTINCT uniqueid) FROM cdr"), 15);

    // On demand: nothing new until the file grows.
    let again = agent.astbase(&[
        "cdr",
        "backfill",
        "--cdr-csv",
        path.to_str().unwrap(),
        "--server",
        "pbx-test",
    ]);
    assert!(again.status.success(), "{}", text(&again));
    assert!(text(&again).contains("0 line(s) read"), "{}", text(&again));
    let mut more = csv.trim_end_matches("\"\",\"100\",\"200\"").to_owned();
    more.push_str(&csv_line(&synthetic_cdr(15)));
    std::fs::write(&path, more).unwrap();
    let grown = agent.astbase(&[
        "cdr",
        "backfill",
        "--cdr-csv",
        path.to_str().unwrap(),
        "--server",
        "pbx-test",
    ]);
    assert!(
        text(&grown).contains("1 line(s) read, 1 stored"),
        "{}",
        text(&grown)
    );
    assert_eq!(agent.cdrs(), 16);
}

/// The Master.csv line cdr_csv writes for a CDR event (loguniqueid, loguserfield and
/// newcdrcolumns on: 21 columns).
fn csv_line(event: &str) -> String {
    let get = |k: &str| {
        event
            .split("\r\n")
            .find_map(|l| l.strip_prefix(&format!("{k}: ")))
            .unwrap_or("")
            .to_owned()
    };
    let q = |v: String| format!("\"{}\"", v.replace('"', "\"\""));
    [
        q(get("AccountCode")),
        q(get("Source")),
        q(get("Destination")),
        q(get("DestinationContext")),
        q(get("CallerID")),
        q(get("Channel")),
        q(get("DestinationChannel")),
        q(get("LastApplication")),
        q(get("LastData")),
        q(get("StartTime")),
        q(get("AnswerTime")),
        q(get("EndTime")),
        get("Duration"),
        get("BillableSeconds"),
        q(get("Disposition")),
        q(get("AMAFlags")),
        q(get("UniqueID")),
        q(get("UserField")),
        q(get("PeerAccount")),
        q(get("LinkedID")),
        get("Sequence"),
    ]
    .join(",")
        + "\n"
}

/// The two `CoreShowChannel` items of local-calls.txt, as Asterisk listed them (without
/// the Event and ActionID headers, which the double adds).
fn listed_channels() -> Vec<String> {
    let events = String::from_utf8(
        std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/ami/local-calls.txt"),
        )
        .unwrap(),
    )
    .unwrap();
    events
        .split("\r\n\r\n")
        .filter(|m| m.starts_with("Event: CoreShowChannel\r\n"))
        .map(|m| {
            m.split("\r\n")
                .filter(|l| !l.starts_with("Event:") && !l.starts_with("ActionID:"))
                .map(|l| format!("{l}\r\n"))
                .collect()
        })
        .collect()
}

#[test]
fn live_channels_are_resynchronised_on_connect() {
    let double = AmiDouble::start(SECRET);
    double.set_channels(listed_channels());
    double.feed(Vec::new(), Then::Hold);
    let mut agent = Agent::start(&double, &["--no-bans"]);
    agent.wait_until("the listed channels", |a| {
        a.query(
            "SELECT count(*) FROM live_channel WHERE linkedid = '1795685945.4' AND state = 'Up'",
        ) == 2
    });
    assert_eq!(agent.stop(), Some(0));
}

#[test]
fn a_slow_disk_pauses_reading_and_loses_nothing() {
    let double = AmiDouble::start(SECRET);
    let all: Vec<String> = (0..6000).map(synthetic_cdr).collect();
    double.feed(all.concat().into_bytes(), Then::Hold);
    // If the pause made the double drop the agent (as Asterisk would), the replay on
    // the next connection brings the rest; either way every CDR is stored once.
    double.feed(all.concat().into_bytes(), Then::Hold);
    let agent = Agent::start_paused(&double);
    agent.wait_until("6000 CDRs", |a| a.cdrs() == 6000);
    assert_eq!(
        agent.query("SELECT count(DISTINCT uniqueid) FROM cdr"),
        6000
    );
    assert!(
        agent.log().contains("the database queue is full"),
        "{}",
        agent.log()
    );
}

#[test]
fn calls_hangup_and_spy_talk_to_ami() {
    let double = AmiDouble::start(SECRET);
    let items = listed_channels();
    assert_eq!(items.len(), 2);
    double.set_channels(items);
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_astbase"))
            .args(args)
            .args(["--manager-port", &double.port.to_string()])
            .env("MANAGER_LOGIN", "odoo")
            .env("MANAGER_PASSWORD", SECRET)
            .output()
            .unwrap()
    };
    let calls = run(&["calls"]);
    assert!(calls.status.success(), "{}", text(&calls));
    let out = text(&calls);
    assert!(out.contains("Local/300@test-00000001;1  Up"), "{out}");
    assert!(out.contains("2 channel(s)"), "{out}");

    let hangup = run(&["hangup", "Local/300@test-00000001;2"]);
    assert!(hangup.status.success(), "{}", text(&hangup));
    let missing = run(&["hangup", "PJSIP/999-00000001"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        text(&missing).contains("No such channel"),
        "{}",
        text(&missing)
    );
    let injected = run(&["hangup", "x\r\nAction: Originate"]);
    assert_eq!(injected.status.code(), Some(1));

    let spy = run(&["spy", "101", "--to", "200", "--barge"]);
    assert!(spy.status.success(), "{}", text(&spy));
    let originate = double.action_named("Originate");
    assert_eq!(originate.len(), 1);
    let get = |k: &str| {
        originate[0]
            .iter()
            .find(|(h, _)| h == k)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(get("Channel").as_deref(), Some("PJSIP/200"));
    assert_eq!(get("Application").as_deref(), Some("ChanSpy"));
    assert_eq!(get("Data").as_deref(), Some("PJSIP/101-,qB"));
    // Every command logged in with events off and logged off.
    for login in double.action_named("Login") {
        assert!(login.iter().any(|(k, v)| k == "Events" && v == "off"));
    }
    // (The double may still be reading the last Logoff when the command has exited.)
    let started = Instant::now();
    while double.action_named("Logoff").len() < double.action_named("Login").len() {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "a command did not log off: {:?}",
            double.actions()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        double.action_named("Logoff").len(),
        double.action_named("Login").len()
    );

    let refused = Command::new(env!("CARGO_BIN_EXE_astbase"))
        .args(["calls", "--manager-port", &double.port.to_string()])
        .env("MANAGER_LOGIN", "odoo")
        .env("MANAGER_PASSWORD", "wrong")
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        text(&refused).contains("refused: Authentication failed"),
        "{}",
        text(&refused)
    );
}

#[test]
fn live_channels_follow_the_events() {
    let double = AmiDouble::start(SECRET);
    double.feed(transcript_events("pjsip-calls.txt"), Then::Hold);
    let mut agent = Agent::start(&double, &["--no-bans"]);
    agent.wait_until("the transcript's CDRs", |a| a.cdrs() == 5);
    // Every call of the transcript hung up: nothing is live at its end.
    agent.wait_until("no live channels", |a| {
        a.query("SELECT count(*) FROM live_channel") == 0
    });
    assert_eq!(agent.stop(), Some(0));
}

#[test]
fn transcripts_in_cdr_count() {
    // The double's helpers read the fixtures the way the tests above rely on.
    assert_eq!(transcript_cdrs("pjsip-calls.txt").len(), 5);
    assert_eq!(transcript_cdrs("local-calls.txt").len(), 8);
}

/// The transcript's ban-worthy security events, with their source address replaced.
fn attacks(from: &str, count: usize) -> String {
    let events = String::from_utf8(transcript_events("security-events.txt")).unwrap();
    let templates: Vec<&str> = events
        .split("\r\n\r\n")
        .filter(|m| {
            [
                "InvalidAccountID",
                "ChallengeResponseFailed",
                "FailedACL",
                "InvalidPassword",
            ]
            .iter()
            .any(|e| m.starts_with(&format!("Event: {e}\r\n")))
        })
        .collect();
    assert!(templates.len() >= 4);
    let family = if from.contains(':') { "IPV6" } else { "IPV4" };
    (0..count)
        .map(|i| {
            let t = templates[i % templates.len()];
            let lines: Vec<String> = t
                .split("\r\n")
                .map(|l| match l.strip_prefix("RemoteAddress: ") {
                    Some(old) => {
                        let transport = old.split('/').nth(1).unwrap_or("UDP");
                        format!("RemoteAddress: {family}/{transport}/{from}/5060")
                    }
                    None => l.to_owned(),
                })
                .collect();
            lines.join("\r\n") + "\r\n\r\n"
        })
        .collect()
}

#[test]
fn attackers_are_banned_with_real_ipset_and_allowed_addresses_never() {
    require!(needs::ROOT_FOR_NETNS, needs::IP, needs::IPSET);
    let ns = Netns::new();
    // The firewall's allow set, as `astbase apply` pushes it (issue: firewall sets).
    assert!(
        ns.ipset(&["create", "astbase-allow", "hash:net"])
            .status
            .success()
    );
    assert!(
        ns.ipset(&["add", "astbase-allow", "192.0.2.50"])
            .status
            .success()
    );

    let double = AmiDouble::start(SECRET);
    // The real transcript first: every failure in it came from 127.0.0.1.
    let mut stream = String::from_utf8(transcript_events("security-events.txt")).unwrap();
    stream.push_str(&attacks("203.0.113.5", 5));
    stream.push_str(&attacks("2001:db8::66", 6));
    stream.push_str(&attacks("198.51.100.7", 10));
    stream.push_str(&attacks("192.0.2.50", 5));
    stream.push_str(&attacks("192.0.2.9", 4));
    double.feed(stream.into_bytes(), Then::Hold);
    let ipset = format!("ip netns exec {} ipset", ns.name());
    let mut agent = Agent::start(
        &double,
        &[
            "--ipset",
            &ipset,
            "--allow",
            "198.51.100.0/24",
            "--ban-time",
            "600",
        ],
    );
    agent.wait_until("three ban records", |a| {
        a.query("SELECT count(*) FROM ban") == 3
    });
    assert_eq!(agent.stop(), Some(0));

    assert_eq!(ns.members("astbase-ban"), ["203.0.113.5"]);
    assert_eq!(ns.members("astbase-ban6"), ["2001:db8::66"]);
    let listing = String::from_utf8_lossy(&ns.ipset(&["list", "astbase-ban"]).stdout).into_owned();
    assert!(listing.contains("timeout 600"), "{listing}");
    assert_eq!(agent.query("SELECT count(*) FROM ban WHERE applied = 1"), 2);
    assert_eq!(
        agent.query("SELECT count(*) FROM ban WHERE address = '192.0.2.50' AND applied = 0 AND detail LIKE 'not banned: in astbase-allow%'"),
        1
    );
    let log = agent.log();
    assert!(
        log.contains("banned 203.0.113.5 after 5 security event(s)"),
        "{log}"
    );
    assert!(!log.contains("127.0.0.1 after"), "{log}");

    // The ban set belongs to the agent: a restart keeps its members (-exist create).
    let double = AmiDouble::start(SECRET);
    double.feed(attacks("203.0.113.99", 5).into_bytes(), Then::Hold);
    let mut again = Agent::start(&double, &["--ipset", &ipset]);
    again.wait_until("a ban record", |a| a.query("SELECT count(*) FROM ban") == 1);
    assert_eq!(again.stop(), Some(0));
    let mut members = ns.members("astbase-ban");
    members.sort();
    assert_eq!(members, ["203.0.113.5", "203.0.113.99"]);

    // A dry run records and logs, and leaves the set alone.
    let double = AmiDouble::start(SECRET);
    double.feed(attacks("203.0.113.77", 5).into_bytes(), Then::Hold);
    let mut dry = Agent::start(&double, &["--ipset", &ipset, "--dry-run"]);
    dry.wait_until("a dry-run ban record", |a| {
        a.query("SELECT count(*) FROM ban") == 1
    });
    assert_eq!(dry.stop(), Some(0));
    assert_eq!(
        ns.members("astbase-ban").len(),
        2,
        "a dry run touched the set"
    );
    assert!(
        dry.log().contains("did not ban 203.0.113.77"),
        "{}",
        dry.log()
    );
}

#[test]
fn after_a_sigkill_the_database_is_whole_and_master_csv_fills_the_window() {
    let double = AmiDouble::start(SECRET);
    let all: Vec<String> = (0..5000).map(synthetic_cdr).collect();
    double.feed(all.concat().into_bytes(), Then::Hold);
    let mut agent = Agent::start(&double, &["--no-bans"]);
    let db = agent.db();
    agent.wait_until("some CDRs", |a| a.cdrs() > 100);
    // No SIGTERM, no flush: the process just dies.
    let mut child = agent.child.take().unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    let conn = rusqlite::Connection::open(&db).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let kept: i64 = conn
        .query_row("SELECT count(*) FROM cdr", [], |r| r.get(0))
        .unwrap();
    assert!((100..=5000).contains(&kept), "{kept}");
    drop(conn);
    // Asterisk's own cdr_csv has every call; the next start (or this) backfills it.
    let csv: String = all.iter().map(|e| csv_line(e)).collect();
    std::fs::write(agent.dir.path().join("Master.csv"), csv).unwrap();
    let backfill = agent.astbase(&[
        "cdr",
        "backfill",
        "--server",
        "pbx-test",
        "--cdr-csv",
        agent.dir.path().join("Master.csv").to_str().unwrap(),
    ]);
    assert!(backfill.status.success(), "{}", text(&backfill));
    assert_eq!(agent.cdrs(), 5000, "{}", text(&backfill));
    assert_eq!(
        agent.query("SELECT count(DISTINCT uniqueid) FROM cdr"),
        5000
    );
}

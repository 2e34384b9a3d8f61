//! Call-event webhooks: `astbase agent --webhooks` against the AMI double (the real
//! pjsip-calls transcript) and a receiver on 127.0.0.1 that fails, answers late and
//! returns 500s at times.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use hmac::{KeyInit, Mac};

use crate::agent_process::Agent;
use crate::ami_double::{AmiDouble, Then, transcript_events};
use crate::http_receiver::{HttpReceiver, Reply, Request};

const SECRET: &str = "crm-signing-secret-0123456789";

fn wait_for(what: &str, agent: &Agent, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "timed out waiting for {what}; log:\n{}",
            agent.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The signature a receiver computes with the shared secret.
fn expected_signature(request: &Request) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(request.header("x-astbase-timestamp").as_bytes());
    mac.update(b".");
    mac.update(&request.body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("v1={hex}")
}

/// Per AMI event of the transcript, the key each event must arrive under.
fn expected_keys(agent: &Agent) -> Vec<String> {
    let transcript = String::from_utf8(transcript_events("pjsip-calls.txt")).unwrap();
    let conn = rusqlite::Connection::open_with_flags(
        agent.db(),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let mut cdrs = conn
        .prepare("SELECT lower(hex(fingerprint)), disposition, lastapp FROM cdr ORDER BY id")
        .unwrap();
    let mut cdrs = cdrs
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })
        .unwrap()
        .map(Result::unwrap);
    let mut keys = Vec::new();
    for message in transcript.split("\r\n\r\n") {
        let headers: HashMap<&str, &str> =
            message.lines().filter_map(|l| l.split_once(": ")).collect();
        match headers.get("Event").copied() {
            Some("DialBegin") => keys.push(format!("msk:{}:ringing", headers["DestUniqueid"])),
            Some("DialEnd") if headers["DialStatus"] == "ANSWER" => {
                keys.push(format!("msk:{}:answered", headers["DestUniqueid"]));
            }
            Some("Cdr") => {
                let (fingerprint, disposition, lastapp) = cdrs.next().unwrap();
                keys.push(format!("msk:{fingerprint}:ended"));
                if disposition != "ANSWERED" && (lastapp == "Dial" || lastapp == "Queue") {
                    keys.push(format!("msk:{fingerprint}:missed"));
                }
            }
            _ => {}
        }
    }
    keys
}

/// The idempotency keys of the requests a receiver took, first arrival first.
fn first_taken(requests: &[Request]) -> Vec<String> {
    let mut seen = BTreeSet::new();
    requests
        .iter()
        .filter(|r| r.taken())
        .map(|r| r.header("idempotency-key").to_owned())
        .filter(|k| seen.insert(k.clone()))
        .collect()
}

#[test]
fn every_call_event_arrives_signed_in_order_once_per_key_through_failures() {
    // Five failures in a row before things settle: two of them (late answers) were
    // taken by the CRM although the agent gave up waiting, so they arrive twice.
    let crm = HttpReceiver::start(&[
        Reply::Status(500),
        Reply::Late(Duration::from_millis(1_500)),
        Reply::Close,
        Reply::Ok,
        Reply::Status(503),
        Reply::Ok,
        Reply::Late(Duration::from_millis(1_500)),
    ]);
    let missed = HttpReceiver::start(&[]);
    let broken = HttpReceiver::start(&[Reply::Status(500); 100]);
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret");
    std::fs::write(&secret, format!("{SECRET}\n")).unwrap();
    let file = dir.path().join("webhooks.yaml");
    std::fs::write(
        &file,
        format!(
            "endpoints:\n\
             \x20 - name: crm\n    url: {}\n    secret_file: {s}\n    timeout: 1\n\
             \x20 - name: missed-only\n    url: {}\n    secret_file: {s}\n    events: [missed]\n\
             \x20 - name: broken\n    url: {}\n    secret_file: {s}\n    max_attempts: 3\n",
            crm.url("/hooks"),
            missed.url("/missed"),
            broken.url("/"),
            s = secret.display(),
        ),
    )
    .unwrap();
    let double = AmiDouble::start(crate::agent_process::SECRET);
    let transcript = transcript_events("pjsip-calls.txt");
    // The transcript, then (after a cut) the same again: Asterisk replaying.
    double.feed(transcript.clone(), Then::Close);
    double.feed(transcript, Then::Hold);
    let mut agent = Agent::start_as(
        "msk",
        tempfile::tempdir().unwrap(),
        &double,
        &["--no-bans", "--webhooks", file.to_str().unwrap()],
    );
    agent.wait_until("the replay", |a| double.logins() == 2 && a.cdrs() == 5);
    let keys = expected_keys(&agent);
    // 4 rung, 2 answered, 5 legs ended, 2 of them missed (busy, no answer).
    assert_eq!(keys.len(), 4 + 2 + 5 + 2, "{keys:?}");
    let missed_keys: Vec<String> = keys
        .iter()
        .filter(|k| k.ends_with(":missed"))
        .cloned()
        .collect();
    assert_eq!(missed_keys.len(), 2);
    wait_for("every event at the CRM", &agent, || {
        first_taken(&crm.requests()).len() == keys.len()
    });
    wait_for("the missed calls", &agent, || {
        first_taken(&missed.requests()).len() == 2
    });
    wait_for("the broken endpoint's events dead-lettered", &agent, || {
        agent.query(
            "SELECT count(*) FROM webhook_outbox WHERE endpoint = 'broken' AND dead_at IS NOT NULL",
        ) == keys.len() as i64
    });
    assert_eq!(agent.stop(), Some(0));

    // In the order things happened, each key taken once but for the two late answers.
    let requests = crm.requests();
    assert_eq!(first_taken(&requests), keys);
    assert!(requests.iter().all(|r| r.path == "/hooks"));
    assert_eq!(requests.len(), keys.len() + 5);
    assert_eq!(
        requests.iter().filter(|r| r.taken()).count(),
        keys.len() + 2
    );
    assert_eq!(first_taken(&missed.requests()), missed_keys);
    // A failing endpoint holds only its own queue: 3 attempts per event, then the next.
    assert_eq!(broken.requests().len(), 3 * keys.len());
    // Signed with the shared secret, described by the published schema.
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/schema/webhook-event.schema.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    for r in requests
        .iter()
        .chain(&missed.requests())
        .chain(&broken.requests())
    {
        assert_eq!(r.header("x-astbase-signature"), expected_signature(r));
        assert_eq!(r.header("content-type"), "application/json");
        let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert!(validator.is_valid(&body), "{body}");
        assert_eq!(body["id"], r.header("idempotency-key"));
        assert_eq!(body["type"], r.header("x-astbase-event"));
    }
    // The first call, as the CRM saw it.
    let mut seen = BTreeSet::new();
    let first: Vec<serde_json::Value> = requests
        .iter()
        .filter(|r| r.taken() && seen.insert(r.header("idempotency-key").to_owned()))
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .filter(|b: &serde_json::Value| b["call"]["linkedid"] == "1795686785.0")
        .collect();
    let types: Vec<&str> = first.iter().map(|b| b["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["call.ringing", "call.answered", "call.ended"]);
    assert_eq!(
        first[0]["call"]["caller"],
        serde_json::json!({"number": "101", "name": "Alice"})
    );
    assert_eq!(first[0]["call"]["extension"], "102");
    assert_eq!(first[0]["server"], "msk");
    assert_eq!(first[2]["call"]["cdr"]["disposition"], "ANSWERED");
    // The queue call carries its queue from the moment it rings a member.
    let queued = requests
        .iter()
        .find(|r| r.header("idempotency-key") == "msk:1795686801.11:ringing")
        .map(|r| serde_json::from_slice::<serde_json::Value>(&r.body).unwrap())
        .unwrap();
    assert_eq!(queued["call"]["queue"], "support");
    assert_eq!(queued["call"]["linkedid"], "1795686801.10");
    let log = agent.log();
    assert!(log.contains("webhook crm: msk:"), "{log}");
    assert!(
        log.contains("given up after 3 attempts (HTTP 500)"),
        "{log}"
    );
    assert!(!log.contains(SECRET), "{log}");
    assert!(
        log.contains(&format!(
            "{} webhook event(s) delivered, {} dead-lettered",
            keys.len() + 2,
            keys.len()
        )),
        "{log}"
    );
    // The replay queued nothing: one row per event and endpoint.
    assert_eq!(
        agent.query("SELECT count(*) FROM webhook_outbox"),
        (keys.len() * 2 + missed_keys.len()) as i64
    );
}

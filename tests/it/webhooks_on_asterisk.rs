//! Call-event webhooks from a real Asterisk 22: a registered phone (sipp) rings and
//! answers a call, and the agent's CRM endpoint (on the namespace's loopback) gets the
//! ringing, answered and ended events of it.

use std::process::Stdio;
use std::time::Duration;

use crate::agent_on_asterisk::agent_with;
use crate::asterisk::calls::{Call, place};
use crate::asterisk::{boot, wait_until};
use crate::http_receiver::HttpReceiver;
use crate::needs::{self, require};
use crate::sip_on_asterisk::{REGISTER, sipp};

#[test]
fn a_real_call_to_a_registered_phone_rings_answers_and_ends_at_the_crm() {
    require!(
        needs::ROOT_FOR_NETNS,
        needs::IP,
        needs::ASTERISK,
        needs::SIPP
    );
    let (_, ast) = boot("examples/company", "msk");
    // 102's phone registers from 127.0.0.1:5072, then answers there.
    let registered = sipp(
        &ast,
        "127.0.0.1",
        &[
            "-p",
            "5072",
            "-sf",
            REGISTER,
            "-s",
            "102",
            "-au",
            "102",
            "-ap",
            "demo-102-Secret!",
        ],
    );
    assert_eq!(
        registered.status.code(),
        Some(0),
        "{}",
        crate::support::text(&registered)
    );
    let mut phone = ast
        .netns()
        .command("sipp")
        .args([
            "-sf",
            "tests/fixtures/sipp/phone-uas.xml",
            "-i",
            "127.0.0.1",
            "-p",
            "5072",
        ])
        .args(["-nostdin", "-timeout", "60s"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let crm = HttpReceiver::start_in(ast.netns(), &[]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("secret"), "a-secret-of-the-crm-and-pbx").unwrap();
    let file = dir.path().join("webhooks.yaml");
    std::fs::write(
        &file,
        format!(
            "endpoints:\n  - name: crm\n    url: {}\n    secret_file: {}\n    extensions: [\"102\"]\n",
            crm.url("/astbase"),
            dir.path().join("secret").display()
        ),
    )
    .unwrap();
    let mut agent = agent_with(&ast, dir.path(), &["--webhooks", file.to_str().unwrap()]);
    let log = || std::fs::read_to_string(dir.path().join("agent.log")).unwrap_or_default();
    assert!(
        wait_until(Duration::from_secs(20), || log()
            .contains("connected to 127.0.0.1:5038")),
        "{}",
        log()
    );

    // 101 calls 102 (the originated Local channel is 101's side), talks 3 s, hangs up.
    // Reachable once Asterisk's qualify (retransmitted while the phone starts) is
    // answered.
    assert!(
        wait_until(Duration::from_secs(15), || ast
            .cli("pjsip show contacts")
            .contains("sip:102@127.0.0.1:5072")
            && ast.cli("core show hint 102").contains("State:Idle")),
        "{}",
        ast.cli("pjsip show contacts")
    );
    place(&ast, &[Call::new("odoo-internal", "102", "101")], 3);
    let bodies = || -> Vec<serde_json::Value> {
        crm.requests()
            .iter()
            .map(|r| serde_json::from_slice(&r.body).unwrap())
            .collect()
    };
    let types = |bodies: &[serde_json::Value]| -> Vec<String> {
        bodies
            .iter()
            .map(|b| b["type"].as_str().unwrap().to_owned())
            .collect()
    };
    assert!(
        wait_until(Duration::from_secs(30), || types(&bodies())
            .contains(&"call.ended".to_owned())),
        "{:?}\nagent: {}\nasterisk: {}",
        types(&bodies()),
        log(),
        ast.log()
    );
    let bodies = bodies();
    let ringing = &bodies[0];
    assert_eq!(
        types(&bodies[..2]),
        ["call.ringing", "call.answered"],
        "{bodies:#?}\n{}",
        ast.log()
    );
    assert_eq!(ringing["server"], "msk");
    assert_eq!(ringing["call"]["extension"], "102");
    assert_eq!(ringing["call"]["caller"]["number"], "101");
    assert_eq!(ringing["call"]["dialed"], "102");
    assert_eq!(bodies[1]["call"]["extension"], "102");
    assert_eq!(bodies[1]["call"]["linkedid"], ringing["call"]["linkedid"]);
    let ended: Vec<&serde_json::Value> = bodies
        .iter()
        .filter(|b| b["type"] == "call.ended")
        .collect();
    assert!(
        ended
            .iter()
            .any(|b| b["call"]["cdr"]["disposition"] == "ANSWERED"
                && b["call"]["cdr"]["dst"] == "102"
                && b["call"]["linkedid"] == ringing["call"]["linkedid"]),
        "{bodies:#?}"
    );
    assert!(
        !types(&bodies).contains(&"call.missed".to_owned()),
        "{bodies:#?}"
    );
    let _ = phone.kill();
    let _ = phone.wait();
    let _ = agent.kill();
    let _ = agent.wait();
    ast.stop();
}

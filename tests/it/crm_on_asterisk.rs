//! CRM integration on a real Asterisk 22, with sipp phones that register and answer:
//! call-event webhooks (a call rings, is answered and ends at a CRM endpoint on the
//! namespace's loopback), click-to-dial (`astbase dial`), and the recordings library
//! (a recorded call's real file indexed).

use std::time::Duration;

use crate::agent_on_asterisk::{agent_log, connected_agent, control, master_csv};
use crate::asterisk::calls::{Ami, Call, newexten_steps, place};
use crate::asterisk::{boot, company_copy, wait_until};
use crate::http_receiver::{HttpReceiver, Reply};
use crate::needs::{self, require};
use crate::sip_on_asterisk::{answering_phone, answering_phone_tracing, msk, trunk_call};

#[test]
fn a_real_call_to_a_registered_phone_rings_answers_and_ends_at_the_crm() {
    require!(
        needs::ROOT_FOR_NETNS,
        needs::IP,
        needs::ASTERISK,
        needs::SIPP
    );
    let (_, ast) = boot("examples/company", "msk");
    let mut phone = answering_phone(&ast, "102", "demo-102-Secret!", 5072);
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
    let mut agent = connected_agent(&ast, dir.path(), &["--webhooks", file.to_str().unwrap()]);
    let log = || agent_log(dir.path());

    // 101 calls 102 (the originated Local channel is 101's side), talks 3 s, hangs up.
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

#[test]
fn click_to_dial_rings_the_phone_then_dials_through_its_own_context() {
    require!(
        needs::ROOT_FOR_NETNS,
        needs::IP,
        needs::ASTERISK,
        needs::SIPP
    );
    let (_, ast) = boot("examples/company", "msk");
    let mut phone = answering_phone(&ast, "101", "demo-101-Secret!", 5073);
    let mut ami = Ami::connect(&ast);
    let out = control(&ast, &["dial", "--from", "101", "--to", "84951112233"]);
    assert!(out.status.success(), "{}", crate::support::text(&out));
    let events = ami.events_until(Duration::from_secs(20), |events| {
        events.iter().any(|e| {
            e.get("Event") == Some("Newexten")
                && e.get("Application") == Some("Dial")
                && e.get("Channel")
                    .is_some_and(|c| c.starts_with("PJSIP/101-"))
        })
    });
    let steps = newexten_steps(&events);
    // The answered phone's channel runs the number in the phone's context, and the
    // outbound route dials it out through a trunk.
    let context = ast
        .cli("pjsip show endpoint 101")
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("context")
                .map(|c| c.trim().trim_start_matches(':').trim().to_owned())
        })
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("ringing PJSIP/101: answering dials 84951112233 from {context}\n")
    );
    assert!(
        steps.iter().any(
            |s| s.starts_with("PJSIP/101-") && s.contains(&format!(" {context}/84951112233: "))
        ),
        "{steps:#?}"
    );
    assert!(
        steps
            .iter()
            .any(|s| s.starts_with("PJSIP/101-") && s.contains(": Dial(PJSIP/")),
        "{steps:#?}"
    );

    // What is not a number never reaches Asterisk; an unknown phone is named.
    let out = control(&ast, &["dial", "--from", "101", "--to", "102,Hangup"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        crate::support::text(&out).contains("--to `102,Hangup` is not a number a phone can dial"),
        "{}",
        crate::support::text(&out)
    );
    let out = control(&ast, &["dial", "--from", "999", "--to", "102"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        crate::support::text(&out).contains("pjsip show endpoint 999"),
        "{}",
        crate::support::text(&out)
    );
    let _ = phone.kill();
    let _ = phone.wait();
    ast.stop();
}

#[test]
fn a_recorded_call_is_indexed_with_the_file_asterisk_wrote() {
    require!(
        needs::ROOT_FOR_NETNS,
        needs::IP,
        needs::ASTERISK,
        needs::SIPP
    );
    let (_, ast) = boot("examples/company", "msk");
    // 101 records calls with outside numbers; +74951234501 is its direct line.
    let mut phone = answering_phone(&ast, "101", "demo-101-Secret!", 5074);
    let dir = tempfile::tempdir().unwrap();
    let monitor = ast.monitor_dir();
    let mut agent = connected_agent(
        &ast,
        dir.path(),
        &["--recordings-dir", monitor.to_str().unwrap()],
    );
    let log = || agent_log(dir.path());
    place(
        &ast,
        &[Call::new(
            "odoo-inbound-carrier-ip",
            "+74951234501",
            "+74990000001",
        )],
        3,
    );
    let db = dir.path().join("agent.db");
    let rows = || -> Vec<(String, String, i64, Option<i64>)> {
        let Ok(conn) =
            rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        else {
            return Vec::new();
        };
        let Ok(mut stmt) = conn.prepare("SELECT uniqueid, path, size, duration_ms FROM recording")
        else {
            return Vec::new();
        };
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert!(
        wait_until(Duration::from_secs(30), || !rows().is_empty()),
        "agent: {}",
        log()
    );
    let (uniqueid, path, size, duration) = rows().remove(0);
    // The file MixMonitor wrote for that channel. (These test calls carry no audio, so
    // it holds the WAV header alone; durations of real audio are covered with the AMI
    // double.)
    let path = std::path::PathBuf::from(path);
    assert!(path.starts_with(&monitor), "{}", path.display());
    assert_eq!(
        path.file_name().unwrap().to_str().unwrap(),
        format!("{uniqueid}.wav")
    );
    assert_eq!(std::fs::metadata(&path).unwrap().len() as i64, size);
    assert_eq!(&std::fs::read(&path).unwrap()[..4], b"RIFF");
    assert_eq!(duration, Some(0));
    // The call that was recorded: the inbound one, which 101's direct line took to 101.
    let dst = || -> Option<String> {
        rusqlite::Connection::open(&db)
            .ok()?
            .query_row(
                "SELECT dst FROM cdr WHERE uniqueid = ?1",
                [&uniqueid],
                |r| r.get(0),
            )
            .ok()
    };
    assert!(
        wait_until(Duration::from_secs(10), || dst().is_some()),
        "{}",
        log()
    );
    let dst = dst().unwrap();
    assert_eq!(dst, "101");
    let _ = phone.kill();
    let _ = phone.wait();
    let _ = agent.kill();
    let _ = agent.wait();
    ast.stop();
}

#[test]
fn a_caller_in_the_phonebook_gets_their_name_and_an_unknown_caller_keeps_theirs() {
    require!(needs::ROOT_FOR_NETNS, needs::IP, needs::ASTERISK);
    let (_, ast) = boot("examples/company", "msk");
    // examples/company/contacts.yaml: +74990000001 is Sergey Volkov of Northwind.
    place(
        &ast,
        &[
            Call::new("odoo-inbound-carrier-ip", "+74951234500", "+74990000001"),
            Call::new("odoo-inbound-carrier-ip", "+74951234500", "+74990000002"),
            // The same person's mobile as a national number (numbering: trunk prefix 8).
            Call::new("odoo-inbound-carrier-ip", "+74951234500", "89161234567"),
            // From the phonebook files: the CRM's CSV export (a mobile written
            // `8 916 555-00-03`, called from as a national number) and a vCard.
            Call::new("odoo-inbound-carrier-ip", "+74951234500", "89165550003"),
            Call::new("odoo-inbound-carrier-ip", "+74951234500", "+74950000005"),
        ],
        1,
    );
    let clids = || -> Vec<(String, String)> {
        master_csv(&ast)
            .into_iter()
            .map(|r| (r[1].clone(), r[4].clone()))
            .collect()
    };
    let named = |number: &str| {
        clids()
            .into_iter()
            .filter(|(src, _)| src == number)
            .map(|(_, clid)| clid)
            .collect::<Vec<_>>()
    };
    let expected = [
        (
            "+74990000001",
            "\"Sergey Volkov (Northwind)\" <+74990000001>",
        ),
        ("89161234567", "\"Sergey Volkov (Northwind)\" <89161234567>"),
        (
            "89165550003",
            "\"Irina Kuznetsova (Contoso)\" <89165550003>",
        ),
        (
            "+74950000005",
            "\"Dmitry Lebedev (Tailspin Toys)\" <+74950000005>",
        ),
    ];
    // A call leaves a record for each half of its Local channel, not at the same
    // moment: wait for the named ones themselves, not for any record of the number.
    assert!(
        wait_until(Duration::from_secs(20), || !named("+74990000002")
            .is_empty()
            && expected.iter().all(
                |(number, clid)| named(number).contains(&(*clid).to_owned())
            )),
        "{:?}",
        clids()
    );
    assert!(
        named("+74990000002")
            .iter()
            .all(|c| c == "\"test\" <+74990000002>"),
        "{:?}",
        clids()
    );
    ast.stop();
}

#[test]
fn an_unknown_caller_is_named_by_the_crm_through_the_agent_once_per_cache_period() {
    require!(needs::ROOT_FOR_NETNS, needs::IP, needs::ASTERISK);
    // The company, asking the agent for callers the phonebook does not know.
    let repo = company_copy();
    let root = repo.path().join("astbase.yaml");
    let text = std::fs::read_to_string(&root).unwrap();
    let text = text.replacen("  numbering:\n", "  caller_lookup: {}\n  numbering:\n", 1);
    std::fs::write(&root, text).unwrap();
    let (_, ast) = boot(repo.path().to_str().unwrap(), "msk");

    let crm = HttpReceiver::start_in(
        ast.netns(),
        &[
            Reply::Json(r#"{"name": "Maria Ivanova", "company": "Globex", "id": 7}"#),
            Reply::Status(404),
            Reply::Late(Duration::from_secs(3)),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let url = crm.url("/callers?number={number}");
    let mut agent = connected_agent(
        &ast,
        dir.path(),
        &["--caller-lookup", &url, "--caller-lookup-timeout", "1000"],
    );
    assert!(
        wait_until(Duration::from_secs(10), || agent_log(dir.path())
            .contains("caller lookup: FastAGI listening on 127.0.0.1:4573")),
        "{}",
        agent_log(dir.path())
    );
    let call = |from: &str| {
        let started = std::time::Instant::now();
        let trace = place(
            &ast,
            &[Call::new("odoo-inbound-carrier-ip", "+74951234500", from)],
            1,
        )
        .remove(0);
        (trace, started.elapsed())
    };
    let clid_of = |from: &str| -> Vec<String> {
        master_csv(&ast)
            .into_iter()
            // The dialplan's half of the Local channel (the originated half keeps the
            // caller ID it was given).
            .filter(|r| r[1] == from && r[5].ends_with(";2"))
            .map(|r| r[4].clone())
            .collect()
    };

    // Known to the CRM: named, then named again from the cache.
    let (first, _) = call("+74957770001");
    assert!(
        first.ran("AGI", "agi://127.0.0.1:4573/cidname,+74957770001"),
        "{first}"
    );
    let (again, _) = call("+74957770001");
    // Not known (404), and a CRM that answers too late: both keep the trunk's name,
    // the late one after the lookup's timeout, not the CRM's 3 s.
    let (_, _) = call("+74957770002");
    let (slow, slow_took) = call("+74957770003");
    // A phonebook contact is named by the dialplan: the agent is not asked.
    let (known, _) = call("+74990000001");
    for trace in [&first, &again, &slow, &known] {
        assert!(trace.ran("Set", "ODOO_INBOUND=1"), "{trace}");
    }
    assert!(known.first("AGI").is_none(), "{known}");
    assert!(
        wait_until(Duration::from_secs(10), || !clid_of("+74990000001")
            .is_empty()),
        "{}",
        std::fs::read_to_string(ast.master_csv()).unwrap_or_default()
    );
    assert_eq!(
        clid_of("+74957770001"),
        [
            "\"Maria Ivanova (Globex)\" <+74957770001>",
            "\"Maria Ivanova (Globex)\" <+74957770001>"
        ]
    );
    assert_eq!(clid_of("+74957770002"), ["\"test\" <+74957770002>"]);
    assert_eq!(clid_of("+74957770003"), ["\"test\" <+74957770003>"]);
    assert!(slow_took < Duration::from_millis(2900), "{slow_took:?}");
    let asked: Vec<String> = crm.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(
        asked,
        [
            "/callers?number=%2B74957770001",
            "/callers?number=%2B74957770002",
            "/callers?number=%2B74957770003"
        ]
    );
    let log = agent_log(dir.path());
    assert!(
        log.contains("caller lookup +74957770001: Maria Ivanova (Globex) (cached)"),
        "{log}"
    );
    assert!(
        log.contains("caller lookup +74957770002: not in the CRM"),
        "{log}"
    );
    assert!(
        log.contains("caller lookup +74957770003: the CRM failed"),
        "{log}"
    );

    // With the agent stopped, calls still go through with the trunk's name.
    let _ = agent.kill();
    let _ = agent.wait();
    let (down, _) = call("+74957770004");
    assert!(down.ran("Set", "ODOO_INBOUND=1"), "{down}");
    assert!(
        wait_until(Duration::from_secs(10), || clid_of("+74957770004")
            == ["\"test\" <+74957770004>"]),
        "{:?}",
        clid_of("+74957770004")
    );
    ast.stop();
}

#[test]
fn a_sip_call_from_a_contact_rings_the_phone_with_the_contacts_name() {
    require!(
        needs::ROOT_FOR_NETNS,
        needs::IP,
        needs::ASTERISK,
        needs::SIPP
    );
    // carrier-ip is identified by 198.51.100.50; +74951234501 is 101's direct line, and
    // +74990000001 is Sergey Volkov of Northwind in contacts.yaml.
    let ast = msk(&["198.51.100.50"]);
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("phone-101.log");
    let mut phone = answering_phone_tracing(&ast, "101", "demo-101-Secret!", 5076, Some(&trace));
    let carrier = trunk_call(&ast, "198.51.100.50", "+74951234501", "+74990000001");
    assert_eq!(
        carrier.status.code(),
        Some(0),
        "{}\n{}",
        crate::support::text(&carrier),
        ast.log()
    );
    let _ = phone.kill();
    let _ = phone.wait();
    let messages = std::fs::read_to_string(&trace).unwrap_or_default();
    let invite_from = messages
        .split("\n\n")
        .filter(|m| m.contains("INVITE sip:"))
        .flat_map(|m| m.lines())
        .find(|l| l.starts_with("From:"))
        .unwrap_or_default()
        .to_owned();
    assert!(
        invite_from.starts_with("From: \"Sergey Volkov (Northwind)\" <sip:+74990000001@"),
        "{invite_from}\n{messages}"
    );
    ast.stop();
}

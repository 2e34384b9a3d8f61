//! The call-flow simulator on small fleets, and call-path tests in `validate`.

use std::collections::BTreeMap;
use std::path::Path;

use astbase::callflow::{Caller, Outcome, PhoneStatus, Probe, Simulator, When, trace};

use crate::support::{SERVER, errors, validate};

fn call(server: &str, number: &str, from: Caller) -> Probe {
    Probe {
        server: server.into(),
        number: number.into(),
        from,
        at: When::parse("2026-12-07 10:00").unwrap(),
        keys: Vec::new(),
        status: BTreeMap::new(),
        overrides: BTreeMap::new(),
    }
}

fn outside(callerid: Option<&str>) -> Caller {
    Caller::Outside {
        callerid: callerid.map(str::to_owned),
        trunk: None,
    }
}

fn company() -> astbase::validate::Report {
    astbase::validate::validate_repo(Path::new("examples/company")).unwrap()
}

#[test]
fn a_busy_phone_without_a_busy_forward_takes_a_message_in_its_mailbox() {
    let report = company();
    let mut probe = call("msk", "+74951234501", outside(Some("+74990000001")));
    probe.status.insert("101".into(), PhoneStatus::Busy);
    let t = trace(&report.fleet, &probe).unwrap();
    assert_eq!(
        t.outcome,
        Outcome::Voicemail {
            mailbox: "101".into()
        }
    );
    assert_eq!(
        t.steps.iter().map(|s| s.text.as_str()).collect::<Vec<_>>(),
        [
            "call to +74951234501 from caller +74990000001 arrives (the routes of every trunk)",
            "inbound route msk-anna-direct takes it (DID +74951234501)",
            "extension 101 (Anna Petrova) is busy",
            "voicemail box 101",
        ]
    );
}

#[test]
fn a_phone_limited_to_local_routes_cannot_dial_abroad() {
    let report = company();
    let sim = Simulator::new(&report.fleet, "msk").unwrap();
    // 100 (reception) may use msk-local and msk-mobile only.
    let abroad = sim
        .trace(&call(
            "msk",
            "81014155550100",
            Caller::Extension("100".into()),
        ))
        .unwrap();
    assert!(
        matches!(&abroad.outcome, Outcome::NoRoute { number, .. } if number == "81014155550100"),
        "{:?}",
        abroad.outcome
    );
    let from_101 = sim
        .trace(&call(
            "msk",
            "81014155550100",
            Caller::Extension("101".into()),
        ))
        .unwrap();
    assert_eq!(
        from_101.outcome,
        Outcome::External {
            number: "81014155550100".into(),
            sent: "+14155550100".into(),
            route: "msk-international".into(),
            trunks: vec!["carrier-ip".into()],
        }
    );
}

#[test]
fn invalid_keys_replay_the_prompt_and_too_many_take_the_invalid_destination() {
    let report = company();
    let mut probe = call("msk", "+74951234500", outside(None));
    probe.keys = vec!["7".into(), "8".into(), "9".into(), "7".into()];
    let t = trace(&report.fleet, &probe).unwrap();
    // max_retries 3: the fourth bad key gives up, to extension 100.
    assert_eq!(
        t.outcome,
        Outcome::Extension {
            number: "100".into()
        }
    );
    let prompts = t
        .steps
        .iter()
        .filter(|s| s.text.starts_with("menu main plays"))
        .count();
    assert_eq!(prompts, 4);
}

#[test]
fn forwards_in_a_circle_are_reported_as_a_loop_with_the_cycle() {
    let report = validate(&format!(
        "{SERVER}extensions:
  - {{number: \"101\", server: msk, name: A, secret: {{env: A}}, forward: {{always: {{extension: \"102\"}}}}}}
  - {{number: \"102\", server: msk, name: B, secret: {{env: B}}, forward: {{always: {{extension: \"101\"}}}}}}
"
    ));
    let t = trace(
        &report.fleet,
        &call("msk", "101", Caller::Extension("102".into())),
    )
    .unwrap();
    assert_eq!(
        t.outcome,
        Outcome::Loop {
            cycle: vec![
                "extension 101".into(),
                "extension 102".into(),
                "extension 101".into()
            ]
        }
    );
}

#[test]
fn a_failing_call_test_is_an_error_at_its_expectation_with_the_simulated_call() {
    let report = validate(&format!(
        "{SERVER}extensions:
  - {{number: \"101\", server: msk, name: A, secret: {{env: A}}, voicemail: {{pin: {{env: P}}}}}}
tests:
  - name: a busy 101 rings on
    server: msk
    number: \"101\"
    from_extension: \"101\"
    status: {{\"101\": busy}}
    expect:
      reaches: {{extension: \"101\"}}
"
    ));
    assert_eq!(errors(&report), vec![("call-test-failed", 12, 7)]);
    let d = &report
        .diagnostics
        .iter()
        .find(|d| d.code == "call-test-failed")
        .unwrap();
    assert_eq!(
        d.message,
        "`a busy 101 rings on`: the call ends at voicemail 101, not extension 101"
    );
    assert!(
        d.hint
            .as_deref()
            .unwrap()
            .contains("2. extension 101 (A) is busy; 3. voicemail box 101 => voicemail 101"),
        "{:?}",
        d.hint
    );
}

#[test]
fn a_call_test_through_business_hours_must_say_when_and_cannot_end_at_a_menu() {
    let report = validate(&format!(
        "{SERVER}timeframes:
  - {{name: hours, periods: [{{days: mon-fri, from: \"09:00\", to: \"18:00\"}}]}}
menus:
  - {{name: m, number: \"700\", server: msk, prompts: [hello], keys: {{1: hangup}}, timeframe: hours, after_hours: hangup}}
inbound_routes:
  - {{name: main, server: msk, did: \"700\", target: {{menu: m}}}}
tests:
  - server: msk
    number: \"700\"
    expect: {{reaches: hangup}}
  - server: msk
    number: \"700\"
    at: \"2026-12-07 10:00\"
    expect: {{reaches: {{menu: m}}}}
"
    ));
    assert_eq!(
        errors(&report),
        vec![
            ("call-test-needs-time", 10, 5),
            ("invalid-call-test", 16, 23)
        ]
    );
}

#[test]
fn every_example_call_test_passes_and_the_probes_of_a_server_are_bounded() {
    let report = company();
    assert_eq!(report.errors(), 0, "{:#?}", report.diagnostics);
    assert_eq!(report.fleet.tests.len(), 13);
    let sim = Simulator::new(&report.fleet, "msk").unwrap();
    let probes = sim.probes();
    let times = sim.representative_times();
    // Mon 09:00, 17:59, 18:00; Sat 10:00, 13:59, 14:00; Wed 03:00; Sun 12:00; and the
    // first day of each of the three holidays.
    assert_eq!(times.len(), 11, "{times:?}");
    assert!(
        (100..2_000).contains(&probes.len()),
        "{} probes",
        probes.len()
    );
}

//! The call features offline: what `validate` refuses in ring groups, schedules and
//! override codes (at the exact place), and how `trace` follows them.

use std::collections::BTreeMap;

use astbase::callflow::{Caller, Outcome, Override, Probe, When, trace};

use crate::support::{SERVER, errors, messages, validate, warnings};

/// A time frame `hours` and an inbound route whose target follows (line 12).
const HOURS_AND_MAIN_ROUTE: &str = "timeframes:
  - {name: hours, periods: [{days: mon-fri, from: \"09:00\", to: \"18:00\"}]}
inbound_routes:
  - name: main
    server: msk
    did: \"+74951234500\"
";

const PHONES: &str = "extensions:
  - {number: \"101\", server: msk, name: A, secret: {env: A}, voicemail: {pin: {env: P}}}
  - {number: \"102\", server: msk, name: B, secret: {env: B}}
";

#[test]
fn ring_group_members_must_exist_appear_once_and_ring_before_the_group_gives_up() {
    let report = validate(&format!(
        "{SERVER}{PHONES}ring_groups:
  - name: desk
    server: msk
    number: \"550\"
    ring_time: 10
    members: [\"101\", \"109\", \"101\", {{extension: \"102\", delay: 10}}]
    no_answer: {{ring_group: desk}}
"
    ));
    assert_eq!(
        errors(&report),
        vec![
            ("unknown-reference", 11, 22),
            ("duplicate-member", 11, 29),
            ("member-never-rings", 11, 62),
            ("forward-loop", 12, 16),
        ]
    );
}

#[test]
fn a_schedule_needs_a_known_time_frame_and_branches_on_its_server() {
    let report = validate(&format!(
        "{SERVER}{PHONES}{HOURS_AND_MAIN_ROUTE}    target: {{schedule: {{timeframe: hourz, open: {{extension: \"101\"}}, closed: {{voicemail: \"102\"}}}}}}
"
    ));
    assert_eq!(
        errors(&report),
        vec![("unknown-reference", 12, 36), ("no-mailbox", 12, 89)]
    );
    let hint = &report.diagnostics[0].hint;
    assert_eq!(hint.as_deref(), Some("did you mean `hours`?"));
}

#[test]
fn a_forward_that_comes_back_through_a_schedule_is_a_loop() {
    let report = validate(&format!(
        "{SERVER}extensions:
  - number: \"101\"
    server: msk
    name: A
    secret: {{env: A}}
    forward: {{always: {{schedule: {{timeframe: hours, open: {{extension: \"102\"}}, closed: hangup}}}}}}
  - {{number: \"102\", server: msk, name: B, secret: {{env: B}}, forward: {{always: {{extension: \"101\"}}}}}}
timeframes:
  - {{name: hours, periods: [{{days: mon-fri, from: \"09:00\", to: \"18:00\"}}]}}
"
    ));
    assert_eq!(
        messages(&report, "call-loop"),
        vec![
            "calls loop on server `msk` with no caller action or wait to end it: \
             extension 101 → extension 102 (always, while `hours` is open), \
             extension 102 → extension 101 (always)"
        ]
    );
}

#[test]
fn every_code_a_phone_can_dial_on_a_server_reaches_one_thing() {
    let report = validate(
        "servers:
  - name: msk
    host: local
    asterisk: {conf_dir: etc}
    feature_codes: {dnd_on: \"*72\", dnd_toggle: \"*7\", echo_test: false}
extensions:
  - {number: \"2\", server: msk, name: A, secret: {env: A}}
timeframes:
  - {name: a, override_code: \"*2701\", periods: [{days: mon-fri, from: \"09:00\", to: \"18:00\"}]}
  - {name: b, override_code: \"*2701\", periods: [{days: mon-fri, from: \"09:00\", to: \"18:00\"}]}
  - {name: c, override_code: \"*97\", periods: [{days: mon-fri, from: \"09:00\", to: \"18:00\"}]}
  - {name: d, override_code: \"2701\", periods: [{days: mon-fri, from: \"09:00\", to: \"18:00\"}]}
  - {name: e, override_code: \"*2702\", periods: [{days: mon-fri, from: \"09:00\", to: \"18:00\"}]}
menus:
  - {name: m, server: msk, prompts: [welcome], timeframe: b, after_hours: hangup, keys: {\"1\": {extension: \"2\"}}}
inbound_routes:
  - name: main
    server: msk
    did: \"+74951234500\"
    target: {schedule: {timeframe: a, open: {schedule: {timeframe: c, open: hangup, closed: hangup}}, closed: hangup}}
",
    );
    assert_eq!(
        messages(&report, "duplicate-feature-code"),
        vec![
            "*72 on server `msk` is both `dnd_on` (do not disturb on) and `forward_all_on` \
             (forward all calls to a number, by default)",
            "*72 on server `msk` is both `dnd_on` (do not disturb on) and the do-not-disturb \
             key of extension 2",
            "*2701 on server `msk` is both the override code of time frame `a` and the \
             override code of time frame `b`",
            "*97 on server `msk` is both `voicemail` (the caller's own mailbox, by default) \
             and the override code of time frame `c`",
        ]
    );
    assert_eq!(
        errors(&report),
        vec![
            ("duplicate-feature-code", 2, 11),
            ("duplicate-feature-code", 7, 14),
            ("duplicate-feature-code", 10, 30),
            ("duplicate-feature-code", 11, 30),
            ("invalid-format", 12, 30),
        ]
    );
    // e is asked by nothing: its code would be on no server.
    assert_eq!(warnings(&report), vec![("unused-setting", 13, 15)]);
}

#[test]
fn a_call_test_may_override_only_a_time_frame_that_has_an_override_code() {
    let report = validate(&format!(
        "{SERVER}{PHONES}{HOURS_AND_MAIN_ROUTE}    target: {{schedule: {{timeframe: hours, open: {{extension: \"101\"}}, closed: {{voicemail: \"101\"}}}}}}
tests:
  - number: \"+74951234500\"
    server: msk
    overrides: {{hours: closed}}
    expect: {{reaches: {{voicemail: \"101\"}}}}
"
    ));
    assert_eq!(errors(&report), vec![("invalid-call-test", 16, 17)]);
}

fn support_line(at: &str, overrides: &[(&str, Override)]) -> Probe {
    Probe {
        server: "msk".into(),
        number: "+74951234555".into(),
        from: Caller::Outside {
            callerid: Some("+74990000009".into()),
            trunk: None,
        },
        at: When::parse(at).unwrap(),
        keys: Vec::new(),
        status: BTreeMap::new(),
        overrides: overrides.iter().map(|(t, o)| (t.to_string(), *o)).collect(),
    }
}

#[test]
fn the_support_lines_schedule_follows_the_clock_unless_overridden() {
    let report = crate::asterisk::valid("examples/company");
    let fleet = &report.fleet;
    let open = trace(fleet, &support_line("2026-12-07 11:00", &[])).unwrap();
    assert_eq!(
        open.outcome,
        Outcome::RingGroup {
            name: "support-desk".into(),
            members: vec!["104".into()],
        }
    );
    assert_eq!(
        open.steps[2].text,
        "schedule: open (business-hours mon-fri 09:00-18:00) (unless *2701 overrides it)"
    );
    let evening = trace(fleet, &support_line("2026-12-07 19:30", &[])).unwrap();
    assert_eq!(
        evening.outcome,
        Outcome::Voicemail {
            mailbox: "105".into()
        }
    );
    // Closed by hand at 11:00; forced open at 19:30.
    let closed = support_line("2026-12-07 11:00", &[("business-hours", Override::Closed)]);
    let closed = trace(fleet, &closed).unwrap();
    assert_eq!(
        closed.steps[2].text,
        "schedule: closed, business-hours overridden with *2701"
    );
    assert_eq!(
        closed.outcome,
        Outcome::Voicemail {
            mailbox: "105".into()
        }
    );
    let forced = support_line("2026-12-07 19:30", &[("business-hours", Override::Open)]);
    assert!(matches!(
        trace(fleet, &forced).unwrap().outcome,
        Outcome::RingGroup { .. }
    ));
}

#[test]
fn a_dialplan_number_shares_the_dial_space_and_needs_a_place_to_enter() {
    let report = validate(&format!(
        "{SERVER}{PHONES}dialplans:
  - name: clash
    server: msk
    number: \"101\"
    lines: [{{exten: s, app: Answer}}]
  - name: nowhere
    server: msk
    number: \"700\"
    lines: [{{exten: h, app: NoOp}}]
"
    ));
    assert_eq!(
        errors(&report),
        vec![("duplicate-number", 9, 13), ("no-entry", 13, 13)]
    );
    assert_eq!(
        messages(&report, "duplicate-number"),
        vec!["number 101 on server `msk` is already taken by extension `101`"]
    );
}

#[test]
fn a_conference_needs_keypad_pins_an_organiser_pin_and_an_organiser_to_wait_for() {
    let report = validate(&format!(
        "{SERVER}{PHONES}conferences:
  - name: team
    server: msk
    number: \"800\"
    pin: \"12a4\"
    admin_number: \"801\"
    music_when_alone: jazz
  - name: board
    server: msk
    number: \"101\"
    wait_for_admin: true
"
    ));
    assert_eq!(
        errors(&report),
        vec![
            ("invalid-value", 10, 10),
            ("missing-field", 11, 5),
            ("unknown-reference", 12, 23),
            ("duplicate-number", 15, 13),
            ("missing-field", 16, 5),
        ]
    );
}

#[test]
fn a_block_list_names_known_servers_and_callers_asterisk_can_match() {
    let report = validate(&format!(
        "{SERVER}block_lists:
  - name: spam
    servers: [msk, kzn]
    callers: [\"+74957770000\", \"8800XXX\", _8800XXXXXXX]
    action: busy
  - name: prank
    callers: [\"+74957770001\"]
    action: {{message: ../../etc/passwd}}
"
    ));
    assert_eq!(
        errors(&report),
        vec![
            ("unknown-reference", 5, 20),
            ("invalid-pattern", 6, 31),
            ("invalid-format", 10, 23),
        ]
    );
}

#[test]
fn an_announcement_plays_then_goes_on_and_may_not_replay_itself() {
    let report = validate(&format!(
        "{SERVER}{PHONES}announcements:
  - name: notice
    server: msk
    number: \"650\"
    prompts: [custom/notice]
    then: {{announcement: notice}}
  - name: closed
    server: msk
    prompts: [custom/closed]
    repeat: 2
    then: {{queue: nowhere}}
"
    ));
    assert_eq!(
        errors(&report),
        vec![("forward-loop", 11, 11), ("unknown-reference", 16, 19)]
    );
}

#[test]
fn the_main_menus_key_4_plays_the_directions_and_comes_back_to_the_menu() {
    let report = crate::asterisk::valid("examples/company");
    let mut probe = support_line("2026-12-07 11:00", &[]);
    probe.number = "+74951234500".into();
    probe.keys = vec!["4".into(), "0".into()];
    let t = trace(&report.fleet, &probe).unwrap();
    let texts: Vec<&str> = t.steps.iter().map(|s| s.text.as_str()).collect();
    assert!(
        texts.contains(&"announcement directions plays custom/office-directions"),
        "{texts:#?}"
    );
    assert_eq!(
        t.outcome,
        Outcome::Extension {
            number: "100".into()
        }
    );
}

#[test]
fn parking_slots_hold_no_number_of_the_server_and_lots_do_not_share_them() {
    let report = validate(&format!(
        "{SERVER}{PHONES}parking_lots:
  - name: main
    server: msk
    park_number: \"100\"
    slots: {{first: 100, last: 110}}
  - name: annex
    server: msk
    park_number: \"120\"
    slots: {{first: 105, last: 125}}
    timeout_to: {{extension: \"109\"}}
  - name: empty
    server: msk
    park_number: \"130\"
    slots: {{first: 140, last: 131}}
"
    ));
    assert_eq!(
        messages(&report, "slot-collision"),
        vec![
            "extension 101 is inside the slots 100-110 of parking lot `main`",
            "extension 102 is inside the slots 100-110 of parking lot `main`",
            "park number 100 of lot `main` is one of its own slots",
            "park number 120 of lot `annex` is one of its own slots",
            "the slots of parking lots `main` and `annex` overlap",
        ]
    );
    assert_eq!(
        errors(&report)
            .into_iter()
            .filter(|e| e.0 != "slot-collision")
            .collect::<Vec<_>>(),
        vec![("unknown-reference", 15, 29), ("invalid-value", 19, 12)]
    );
}

#[test]
fn a_paging_group_pages_known_extensions_once_on_a_free_number() {
    let report = validate(&format!(
        "{SERVER}{PHONES}paging_groups:
  - name: floor
    server: msk
    number: \"101\"
    members: [\"101\", \"109\", \"101\"]
"
    ));
    assert_eq!(
        errors(&report),
        vec![
            ("duplicate-number", 9, 13),
            ("unknown-reference", 10, 22),
            ("duplicate-member", 10, 29),
        ]
    );
}

#[test]
fn queue_agents_are_extensions_of_the_server_not_static_members_on_a_numbered_queue() {
    let report = validate(&format!(
        "{SERVER}{PHONES}queues:
  - name: sales
    server: msk
    members: [\"101\"]
    agents: [\"101\", \"102\", \"102\", \"109\"]
"
    ));
    assert_eq!(
        errors(&report),
        vec![
            ("missing-field", 10, 5),
            ("duplicate-member", 10, 14),
            ("duplicate-member", 10, 28),
            ("unknown-reference", 10, 35),
        ]
    );
}

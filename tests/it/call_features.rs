//! The call features offline: what `validate` refuses in ring groups, schedules and
//! override codes (at the exact place), and how `trace` follows them.

use std::collections::BTreeMap;

use astbase::callflow::{Caller, Outcome, Override, PhoneStatus, Probe, Stop, When, trace};

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

#[test]
fn follow_me_numbers_are_checked_like_ring_group_members_and_never_list_the_extension() {
    let report = validate(&format!(
        "{SERVER}{PHONES}  - number: \"103\"
    server: msk
    name: C
    secret: {{env: C}}
    forward: {{always: {{extension: \"102\"}}}}
    follow_me:
      ring_time: 10
      numbers: [\"103\", \"109\", \"102\", \"102\", {{extension: \"101\", delay: 10}}]
"
    ));
    assert_eq!(
        errors(&report),
        vec![
            ("follow-me-self", 13, 17),
            ("unknown-reference", 13, 24),
            ("duplicate-member", 13, 38),
            ("member-never-rings", 13, 71),
        ]
    );
    assert_eq!(
        messages(&report, "member-never-rings"),
        vec!["member 101 of the follow-me of 103 waits 10 s, but it rings only 10 s"]
    );
    assert_eq!(warnings(&report), vec![("unused-setting", 11, 5)]);
}

/// A call from outside to Anna's direct number, her desk and mobile behaving so.
fn annas_line(status: &[(&str, PhoneStatus)]) -> Probe {
    let mut probe = support_line("2026-12-07 11:00", &[]);
    probe.number = "+74951234501".into();
    probe.status = status.iter().map(|(n, s)| (n.to_string(), *s)).collect();
    probe
}

#[test]
fn annas_mobile_rings_after_her_desk_and_her_mailbox_takes_what_neither_answers() {
    let report = crate::asterisk::valid("examples/company");
    let fleet = &report.fleet;
    let mobile = trace(fleet, &annas_line(&[("101", PhoneStatus::NoAnswer)])).unwrap();
    let texts: Vec<&str> = mobile.steps.iter().map(|s| s.text.as_str()).collect();
    assert_eq!(
        texts[texts.len() - 2..],
        [
            "extension 101 (Anna Petrova) does not answer within 25 s",
            "follow-me of 101 rings +79161234501 for up to 25 s; +79161234501 answers",
        ]
    );
    assert_eq!(
        mobile.outcome,
        Outcome::FollowMe {
            extension: "101".into(),
            members: vec!["+79161234501".into()],
        }
    );
    assert_eq!(
        mobile.stops,
        vec![
            Stop::Ring {
                extension: "101".into()
            },
            Stop::FollowMe {
                extension: "101".into(),
                members: vec!["+79161234501".into()],
            },
        ]
    );
    // Her phone is off: the mobile rings at once (the desk is not dialled).
    let off = trace(fleet, &annas_line(&[("101", PhoneStatus::Unavailable)])).unwrap();
    assert_eq!(
        off.stops,
        vec![Stop::FollowMe {
            extension: "101".into(),
            members: vec!["+79161234501".into()],
        }]
    );
    let neither = annas_line(&[
        ("101", PhoneStatus::NoAnswer),
        ("+79161234501", PhoneStatus::NoAnswer),
    ]);
    assert_eq!(
        trace(fleet, &neither).unwrap().outcome,
        Outcome::Voicemail {
            mailbox: "101".into()
        }
    );
    // Busy at her desk: she is there, the mobile does not ring.
    let busy = trace(fleet, &annas_line(&[("101", PhoneStatus::Busy)])).unwrap();
    assert_eq!(
        busy.stops,
        vec![
            Stop::Ring {
                extension: "101".into()
            },
            Stop::Voicemail {
                mailbox: "101".into()
            },
        ]
    );
}

#[test]
fn a_follow_me_with_the_desk_rings_it_in_every_step_of_a_hunt() {
    let report = validate(&format!(
        "{SERVER}{PHONES}  - {{number: \"103\", server: msk, name: C, secret: {{env: C}}}}
  - number: \"104\"
    server: msk
    name: D
    secret: {{env: D}}
    follow_me: {{order: with_desk, strategy: hunt, ring_time: 15, numbers: [\"102\", \"103\"]}}
    forward: {{busy: {{voicemail: \"101\"}}}}
"
    ));
    assert_eq!(errors(&report), vec![]);
    let call = |status: &[(&str, PhoneStatus)]| {
        let probe = Probe {
            server: "msk".into(),
            number: "104".into(),
            from: Caller::Extension("101".into()),
            at: When::Now,
            keys: Vec::new(),
            status: status.iter().map(|(n, s)| (n.to_string(), *s)).collect(),
            overrides: BTreeMap::new(),
        };
        trace(&report.fleet, &probe).unwrap()
    };
    let steps = |members: &[&str]| Stop::FollowMe {
        extension: "104".into(),
        members: members.iter().map(|m| m.to_string()).collect(),
    };
    let third = call(&[
        ("104", PhoneStatus::NoAnswer),
        ("102", PhoneStatus::NoAnswer),
    ]);
    assert_eq!(
        third.stops,
        vec![steps(&["104", "102"]), steps(&["104", "103"])]
    );
    assert_eq!(
        third.outcome,
        Outcome::FollowMe {
            extension: "104".into(),
            members: vec!["103".into()],
        }
    );
    // The desk answering in a step is the extension answering.
    assert_eq!(
        call(&[]).outcome,
        Outcome::Extension {
            number: "104".into()
        }
    );
    // Everyone busy in the last step: Dial() says BUSY, and the busy forward is taken.
    let busy = call(&[
        ("104", PhoneStatus::Busy),
        ("102", PhoneStatus::NoAnswer),
        ("103", PhoneStatus::Busy),
    ]);
    assert_eq!(
        busy.outcome,
        Outcome::Voicemail {
            mailbox: "101".into()
        }
    );
}

#[test]
fn a_directory_destination_on_a_server_where_nobody_is_listed_is_reported() {
    let route = "inbound_routes:
  - {name: r, server: msk, did: \"+74951234500\", target: directory}
";
    let report = validate(&format!("{SERVER}{PHONES}{route}"));
    assert_eq!(warnings(&report), vec![("empty-directory", 7, 57)]);
    assert_eq!(
        messages(&report, "empty-directory"),
        vec!["the company directory of server `msk` lists nobody"]
    );
    let listed = PHONES.replace(
        "voicemail: {pin: {env: P}}",
        "voicemail: {pin: {env: P}, in_directory: true}",
    );
    let report = validate(&format!("{SERVER}{listed}{route}"));
    assert_eq!(warnings(&report), vec![]);
}

//! Feature codes on a real Asterisk 22: a desk phone (sipp, over SIP with digest auth)
//! turns do-not-disturb on and the next call goes to voicemail while its BLF is lit;
//! a forward entered on the keypad sends calls to that number until its off code; a
//! conference room lets in who knows its PIN, and the organiser as admin; block lists
//! refuse their callers on every inbound route; a parked call waits in a slot, lit on
//! its BLF, until taken back or sent to reception; a page reaches every member with the
//! auto-answer header; the directory finds only the names that opt in.

use std::process::{Child, Output, Stdio};

use crate::asterisk::Asterisk;
use crate::asterisk::calls::{Ami, Call, Trace, place};
use crate::needs::{self, require};
use crate::sip_on_asterisk::{PHONE_ANSWERS, answering_phone, msk, phone_playing};

/// Anna's direct DID, routed to extension 101 (routes.yaml).
const ANNA_DIRECT: &str = "+74951234501";

/// Anna's desk phone (101, at 127.0.0.1:5081) dials `number` and stays on the line until
/// Asterisk hangs up.
fn anna_dials(ast: &Asterisk, number: &str) -> Output {
    ast.netns()
        .command("sipp")
        .args(["127.0.0.1:5060", "-i", "127.0.0.1", "-p", "5081"])
        .args(["-m", "1", "-nostdin", "-timeout", "20s", "-timeout_error"])
        .args(["-sf", "tests/fixtures/sipp/phone-dials.xml", "-s", number])
        .args(["-key", "me", "101", "-au", "101", "-ap", "demo-101-Secret!"])
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// A call from outside to Anna's DID, as the dialplan ran it.
fn call_anna(ast: &Asterisk) -> Trace {
    let [trace] = <[_; 1]>::try_from(place(
        ast,
        &[Call::new("odoo-inbound", ANNA_DIRECT, "+74990000009")],
        2,
    ))
    .unwrap();
    trace
}

/// The state a BLF key on `exten` shows (`Idle`, `Busy`, ...).
fn blf(ast: &Asterisk, exten: &str) -> String {
    let mut ami = Ami::connect(ast);
    let reply = ami.action(&[
        ("Action", "ExtensionState"),
        ("Exten", exten),
        ("Context", "odoo-features"),
    ]);
    reply.get("StatusText").unwrap_or("").to_owned()
}

/// Whether the call rang extension `exten`'s phone.
fn dialled(trace: &Trace, exten: &str) -> bool {
    trace
        .0
        .iter()
        .any(|s| s.app == "Dial" && s.data.starts_with(&format!("PJSIP/{exten},")))
}

/// Whether the call reached extension `exten` in the dialplan (rung or not).
fn reached(trace: &Trace, exten: &str) -> bool {
    trace
        .0
        .iter()
        .any(|s| s.exten == exten && s.app == "NoOp" && s.data.starts_with("Call for "))
}

/// The context a phone's calls run in, as Asterisk loaded its endpoint.
fn phone_context(ast: &Asterisk, extension: &str) -> String {
    ast.cli(&format!("pjsip show endpoint {extension}"))
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("context")
                .map(|v| v.trim().trim_start_matches(':').trim().to_owned())
        })
        .expect("the endpoint has a context")
}

/// Anna's desk phone, registered and answering every call it gets.
fn anna_at_her_desk(ast: &Asterisk) -> Child {
    answering_phone(ast, "101", "demo-101-Secret!", 5073)
}

fn hang_up(mut phone: Child) {
    let _ = phone.kill();
    let _ = phone.wait();
}

#[test]
fn do_not_disturb_set_on_the_phone_sends_the_next_call_to_voicemail_and_lights_its_blf() {
    require!(
        needs::ROOT_FOR_NETNS,
        needs::IP,
        needs::ASTERISK,
        needs::SIPP
    );
    let ast = msk(&[]);
    let desk = anna_at_her_desk(&ast);
    assert_eq!(blf(&ast, "*76101"), "Idle");
    let on = anna_dials(&ast, "*78");
    assert_eq!(on.status.code(), Some(0), "{}", crate::support::text(&on));
    assert_eq!(ast.cli("database get DND 101").trim(), "Value: YES");
    assert_eq!(blf(&ast, "*76101"), "Busy");

    // The phone is not even tried: the call goes where a busy one goes, the mailbox.
    let trace = call_anna(&ast);
    assert!(trace.ran("VoiceMail", "101@odoo,u"), "{trace}");
    assert!(!dialled(&trace, "101"), "{trace}");

    // The toggle code turns it off again, and the phone rings.
    let off = anna_dials(&ast, "*76");
    assert_eq!(off.status.code(), Some(0), "{}", crate::support::text(&off));
    assert_eq!(
        ast.cli("database get DND 101").trim(),
        "Database entry not found."
    );
    assert_eq!(blf(&ast, "*76101"), "Idle");
    let trace = call_anna(&ast);
    assert!(dialled(&trace, "101"), "{trace}");
    hang_up(desk);
    ast.stop();
}

#[test]
fn a_forward_entered_on_the_keypad_takes_calls_to_that_number_until_its_off_code() {
    require!(
        needs::ROOT_FOR_NETNS,
        needs::IP,
        needs::ASTERISK,
        needs::SIPP
    );
    let ast = msk(&[]);
    let desk = anna_at_her_desk(&ast);
    let context = phone_context(&ast, "101");
    let keypad = |code: &str, keys: &str| {
        let [t] = <[_; 1]>::try_from(place(
            &ast,
            &[Call::new(&context, code, "101").pressing(keys)],
            2,
        ))
        .unwrap();
        t
    };
    // The example lets forwards reach internal numbers only (forward_reach: internal):
    // a mobile number, which 101's phone itself may dial, is refused and nothing kept.
    let refused = keypad("*72", "89161234567#");
    assert!(refused.ran("Playback", "invalid"), "{refused}");
    assert_eq!(
        ast.cli("database get CF 101").trim(),
        "Database entry not found."
    );

    let set = keypad("*72", "102#");
    assert!(set.ran("SayDigits", "102"), "{set}");
    assert_eq!(ast.cli("database get CF 101").trim(), "Value: 102");
    let forwarded = call_anna(&ast);
    assert!(!dialled(&forwarded, "101"), "{forwarded}");
    assert!(reached(&forwarded, "102"), "{forwarded}");

    let cleared = keypad("*73", "");
    assert!(
        cleared.ran("Playback", "call-fwd-unconditional&de-activated"),
        "{cleared}"
    );
    assert_eq!(
        ast.cli("database get CF 101").trim(),
        "Database entry not found."
    );
    let back = call_anna(&ast);
    assert!(dialled(&back, "101"), "{back}");
    hang_up(desk);
    ast.stop();
}

#[test]
fn a_conference_lets_in_who_knows_its_pin_and_the_organiser_as_admin() {
    require!(needs::ROOT_FOR_NETNS, needs::IP, needs::ASTERISK);
    let ast = msk(&[]);
    ast.assert_clean("loading the conference profiles");
    let phone = |number: &str, caller: &str, pin: &str| {
        Call::new("odoo-internal", number, caller).pressing(&format!("{pin}#"))
    };
    // A participant, the organiser, and someone guessing.
    let calls = [
        phone("800", "102", "4321"),
        phone("801", "101", "8765"),
        phone("800", "103", "1111"),
    ];
    let (room, traces) = std::thread::scope(|s| {
        let placed = s.spawn(|| place(&ast, &calls, 8));
        // While the calls are up: who is in the room, with which profile (the guess
        // has had its time to be let in, or not, two seconds after the others).
        crate::asterisk::wait_until(std::time::Duration::from_secs(10), || {
            ast.cli("confbridge list odoo-team")
                .matches("Local/")
                .count()
                >= 2
        });
        std::thread::sleep(std::time::Duration::from_secs(2));
        let room = ast.cli("confbridge list odoo-team");
        (room, placed.join().unwrap())
    });
    let members: Vec<&str> = room.lines().filter(|l| l.contains("Local/")).collect();
    assert_eq!(members.len(), 2, "{room}");
    assert!(
        members
            .iter()
            .any(|l| l.contains("Local/800@odoo-internal") && l.contains("odoo-user-team")),
        "{room}"
    );
    assert!(
        members
            .iter()
            .any(|l| l.contains("Local/801@odoo-internal") && l.contains("odoo-admin-team")),
        "{room}"
    );
    for t in &traces {
        assert!(
            t.ran("ConfBridge", "odoo-team,odoo-bridge-team,odoo-user-team")
                || t.ran("ConfBridge", "odoo-team,odoo-bridge-team,odoo-admin-team"),
            "{t}"
        );
    }
    ast.stop();
}

#[test]
fn a_block_list_refuses_its_callers_on_every_route_and_lets_the_others_through() {
    require!(needs::ROOT_FOR_NETNS, needs::IP, needs::ASTERISK);
    let ast = msk(&[]);
    let call = |did: &str, caller: &str| Call::new("odoo-inbound", did, caller);
    let traces = place(
        &ast,
        &[
            call("+74951234500", "84957770000"),
            call("+74951234501", "88091234567"),
            call("+74951234501", "+79031112233"),
            call("+74951234501", "+74990000009"),
        ],
        2,
    );
    // robocallers: a busy tone, on the main number and on Anna's DID alike.
    assert!(traces[0].ran("Busy", "10"), "{}", traces[0]);
    assert!(traces[1].ran("Busy", "10"), "{}", traces[1]);
    assert!(!reached(&traces[1], "101"), "{}", traces[1]);
    // msk-do-not-serve: its message, then nothing else.
    assert!(
        traces[2].ran("Playback", "custom/not-accepted"),
        "{}",
        traces[2]
    );
    assert!(!reached(&traces[2], "101"), "{}", traces[2]);
    // Anyone else reaches Anna.
    assert!(reached(&traces[3], "101"), "{}", traces[3]);
    assert!(traces[3].first("Busy").is_none(), "{}", traces[3]);
    ast.stop();
}

#[test]
fn a_parked_call_waits_in_a_slot_its_blf_shows_and_is_taken_back_or_comes_back_to_reception() {
    require!(needs::ROOT_FOR_NETNS, needs::IP, needs::ASTERISK);
    // The example's lot with the shortest timeout, so a forgotten call comes back soon.
    let repo = crate::asterisk::company_copy();
    let path = repo.path().join("parking.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("timeout: 60", "timeout: 5")).unwrap();
    let (_, ast) = crate::asterisk::boot(repo.path().to_str().unwrap(), "msk");
    ast.assert_clean("loading the parking lot");
    let context = phone_context(&ast, "101");
    let slot_81 = || {
        let mut ami = Ami::connect(&ast);
        let reply = ami.action(&[
            ("Action", "ExtensionState"),
            ("Exten", "81"),
            ("Context", "odoo-parkedcalls-main"),
        ]);
        reply.get("StatusText").unwrap_or("").to_owned()
    };
    // `parking show` lists each parked call as `Space : 81`, `Channel : ...`.
    let parked = || {
        ast.cli("parking show odoo-main").lines().any(|l| {
            l.split_once(':')
                .is_some_and(|(k, v)| k.trim() == "Space" && v.trim() == "81")
        })
    };
    assert_eq!(slot_81(), "Idle");

    // Anna parks a call (dials 80 from her phone's context) and Boris takes it back.
    let (kept, taken) = std::thread::scope(|s| {
        let park = s.spawn(|| place(&ast, &[Call::new(&context, "80", "101")], 4));
        if !crate::asterisk::wait_until(std::time::Duration::from_secs(5), parked) {
            let trace = park.join().unwrap();
            panic!("{}\n{}", trace[0], ast.cli("parking show odoo-main"));
        }
        let blf = slot_81();
        let back = place(&ast, &[Call::new(&context, "81", "102")], 2);
        let [parked] = <[_; 1]>::try_from(park.join().unwrap()).unwrap();
        (parked, (blf, back))
    });
    let (blf, back) = taken;
    assert_eq!(blf, "InUse");
    assert!(kept.ran("Park", "odoo-main"), "{kept}");
    assert!(back[0].first("ParkedCall").is_some(), "{}", back[0]);
    assert!(!kept.visited("odoo-parkreturn-main"), "{kept}");

    // Parked and forgotten: after 5 s it goes to reception (100, not registered: its
    // mailbox).
    let [forgotten] =
        <[_; 1]>::try_from(place(&ast, &[Call::new(&context, "80", "101")], 9)).unwrap();
    assert!(forgotten.visited("odoo-parkreturn-main"), "{forgotten}");
    assert!(reached(&forgotten, "100"), "{forgotten}");
    assert_eq!(slot_81(), "Idle");
    ast.stop();
}

#[test]
fn a_page_rings_every_member_with_the_auto_answer_header_their_phones_read() {
    require!(
        needs::ROOT_FOR_NETNS,
        needs::IP,
        needs::ASTERISK,
        needs::SIPP
    );
    let ast = msk(&[]);
    let dir = tempfile::tempdir().unwrap();
    let (t104, t105) = (dir.path().join("104.log"), dir.path().join("105.log"));
    let phones = [
        phone_playing(
            &ast,
            "104",
            "demo-104-Secret!",
            5071,
            PHONE_ANSWERS,
            Some(&t104),
        ),
        phone_playing(
            &ast,
            "105",
            "demo-105-Secret!",
            5072,
            PHONE_ANSWERS,
            Some(&t105),
        ),
    ];
    let [page] =
        <[_; 1]>::try_from(place(&ast, &[Call::new("odoo-internal", "90", "101")], 3)).unwrap();
    for p in phones {
        hang_up(p);
    }
    assert!(
        page.ran(
            "Page",
            "PJSIP/104&PJSIP/105,ib(odoo-autoanswer^call_info^1),20"
        ),
        "{page}"
    );
    for trace in [&t104, &t105] {
        let sip = std::fs::read_to_string(trace).unwrap_or_default();
        let invite = sip
            .split("----")
            .find(|m| m.contains("INVITE sip:"))
            .unwrap_or_else(|| panic!("no INVITE reached the phone:\n{sip}"));
        assert!(
            invite.contains("Call-Info: <uri>;answer-after=0"),
            "{invite}"
        );
    }
    ast.stop();
}

#[test]
fn an_agent_logs_in_to_a_queue_pauses_and_logs_out_from_the_phone() {
    require!(needs::ROOT_FOR_NETNS, needs::IP, needs::ASTERISK);
    let ast = msk(&[]);
    let context = phone_context(&ast, "105");
    let dial = |code: &str| {
        let [t] = <[_; 1]>::try_from(place(&ast, &[Call::new(&context, code, "105")], 2)).unwrap();
        t
    };
    let agent = || {
        ast.cli("queue show sales")
            .lines()
            .find(|l| l.contains("(PJSIP/105)") || l.contains("PJSIP/105 "))
            .map(str::to_owned)
    };
    assert_eq!(agent(), None, "{}", ast.cli("queue show sales"));

    let login = dial("*45500");
    assert!(login.ran("Playback", "agent-loginok"), "{login}");
    let line = agent().unwrap_or_else(|| panic!("{}", ast.cli("queue show sales")));
    assert!(line.contains("dynamic"), "{line}");
    assert!(line.contains("with penalty 2"), "{line}");

    let pause = dial("*46");
    assert!(pause.ran("Playback", "beep"), "{pause}");
    assert!(
        agent().unwrap().contains("paused"),
        "{}",
        ast.cli("queue show sales")
    );
    dial("*47");
    assert!(
        !agent().unwrap().contains("paused"),
        "{}",
        ast.cli("queue show sales")
    );

    let logout = dial("*45500");
    assert!(logout.ran("Playback", "agent-loggedoff"), "{logout}");
    assert_eq!(agent(), None, "{}", ast.cli("queue show sales"));
    // Someone not listed as an agent cannot log in.
    let context = phone_context(&ast, "106");
    let [stranger] =
        <[_; 1]>::try_from(place(&ast, &[Call::new(&context, "*45500", "106")], 2)).unwrap();
    assert!(stranger.ran("Playback", "invalid"), "{stranger}");
    ast.stop();
}

#[test]
fn the_directory_finds_a_listed_name_spelled_on_the_keypad_and_dials_it() {
    require!(needs::ROOT_FOR_NETNS, needs::IP, needs::ASTERISK);
    let ast = msk(&[]);
    let context = phone_context(&ast, "102");
    // A-N-N (Anna Petrova, listed) on the keypad: 2-6-6, then 1 for "this one"; B-O-R
    // (Boris Ivanov, not listed) finds nobody.
    let [found, unlisted] = <[_; 2]>::try_from(place(
        &ast,
        &[
            Call::new(&context, "*411", "102").pressing("266ww1"),
            Call::new(&context, "*411", "103").pressing("267ww1"),
        ],
        10,
    ))
    .unwrap();
    assert!(found.ran("Directory", "odoo,odoo-internal,be"), "{found}");
    assert!(reached(&found, "101"), "{found}");
    assert!(
        unlisted.ran("Directory", "odoo,odoo-internal,be"),
        "{unlisted}"
    );
    assert!(!reached(&unlisted, "102"), "{unlisted}");
    ast.stop();
}

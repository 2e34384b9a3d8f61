//! The call features on a real Asterisk 22, over real SIP (sipp as phones, trunk and
//! outside numbers): a ring group rings its members in the order the YAML says while
//! the caller hears ringback, and an outside member is bridged only once it presses 1;
//! a schedule's override code flips where an inbound call goes, and its BLF shows it;
//! an announcement plays before its destination.

use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use crate::asterisk::calls::{Ami, Call, Message, place};
use crate::asterisk::{Asterisk, boot, company_copy};
use crate::needs::{self, require};
use crate::sip_on_asterisk::{PHONE_ANSWERS, PHONE_RINGS_ONLY, phone_playing};

/// The carrier trunk's addresses (trunks.yaml): calls come from .51, go out to .50.
const CARRIER_IN: &str = "198.51.100.51";
const CARRIER_OUT: &str = "198.51.100.50";
/// The support line's DID, routed to ring group support-desk (routes.yaml).
const SUPPORT_LINE: &str = "+74951234555";

/// A time frame open around the clock, with its own override code: the support line's
/// schedule asks it, so where its calls go does not depend on when the test runs.
const ALL_DAY: (&str, &str, &str) = (
    "timeframes.yaml",
    "timeframes:\n",
    "timeframes:\n  - name: all-day\n    override_code: \"*2702\"\n    periods: [{days: mon-sun, from: \"00:00\", to: \"24:00\"}]\n",
);
const SUPPORT_ALL_DAY: (&str, &str, &str) = (
    "routes.yaml",
    "timeframe: business-hours\n        open: {ring_group: support-desk}",
    "timeframe: all-day\n        open: {ring_group: support-desk}",
);

/// The company example with `edits` (file, from, to) applied (and the support line open
/// all day), on a real Asterisk with the carrier's addresses on its loopback.
pub(crate) fn company_with(edits: &[(&str, &str, &str)]) -> (tempfile::TempDir, Asterisk) {
    let dir = company_copy();
    // The example's call-path tests say where support calls go by Moscow's office hours.
    std::fs::remove_file(dir.path().join("tests/calls.yaml")).unwrap();
    for (file, from, to) in [ALL_DAY, SUPPORT_ALL_DAY].iter().chain(edits) {
        let path = dir.path().join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "{file} has {from:?}");
        std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    }
    let (_, ast) = boot(dir.path().to_str().unwrap(), "msk");
    for address in [CARRIER_IN, CARRIER_OUT] {
        ast.netns()
            .ip(&["addr", "add", &format!("{address}/32"), "dev", "lo"]);
    }
    (dir, ast)
}

/// A call from the carrier to `did` that stays 1 s once answered, every SIP message it
/// sees written to `trace`.
fn carrier_call(ast: &Asterisk, did: &str, trace: &std::path::Path) -> Output {
    ast.netns()
        .command("sipp")
        .args(["127.0.0.1:5060", "-i", CARRIER_IN, "-m", "1", "-nostdin"])
        .args(["-timeout", "60s", "-timeout_error"])
        .args(["-sf", "tests/fixtures/sipp/invite-alaw.xml", "-s", did])
        .args([
            "-key",
            "caller",
            "+74990000009",
            "-trace_msg",
            "-message_file",
        ])
        .arg(trace)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// An outside number on the carrier's side, answering calls with `scenario` (and the
/// trunk's qualify, whenever Asterisk sends it) until stopped.
pub(crate) fn outside_number(ast: &Asterisk, scenario: &str) -> Child {
    ast.netns()
        .command("sipp")
        .args(["-sf", scenario, "-i", CARRIER_OUT, "-p", "5070"])
        .args(["-nostdin", "-timeout", "60s"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

pub(crate) fn stop(mut child: Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
}

/// The events of one call from the carrier to `did`, read until its channel hangs up.
fn events_of_call(ami: &mut Ami, did: &str, limit: Duration) -> Vec<Message> {
    ami.events_until(limit, |events| {
        caller_channel(events, did).is_some_and(|caller| {
            events.iter().any(|e| {
                e.get("Event") == Some("Hangup") && e.get("Channel") == Some(caller.as_str())
            })
        })
    })
}

/// The caller's channel: the one that entered the dialplan at `did`.
pub(crate) fn caller_channel(events: &[Message], did: &str) -> Option<String> {
    events
        .iter()
        .find(|e| e.get("Event") == Some("Newexten") && e.get("Extension") == Some(did))
        .and_then(|e| e.get("Channel"))
        .map(str::to_owned)
}

fn position(events: &[Message], what: impl Fn(&Message) -> bool) -> Option<usize> {
    events.iter().position(what)
}

pub(crate) fn dial_of<'a>(events: &'a [Message], kind: &str, device: &str) -> Option<&'a Message> {
    events.iter().find(|e| {
        e.get("Event") == Some(kind) && e.get("DestChannel").is_some_and(|c| c.starts_with(device))
    })
}

fn sip_trace(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

#[test]
fn a_hunt_ring_group_rings_its_members_in_order_while_the_caller_hears_ringback() {
    require!(
        needs::ROOT_FOR_NETNS,
        needs::IP,
        needs::ASTERISK,
        needs::SIPP
    );
    // support-desk hunts 104, then 105, 4 s each: Dmitry's phone rings and nobody picks
    // up, Elena's answers.
    let (_repo, ast) = company_with(&[("ringgroups.yaml", "ring_time: 15", "ring_time: 4")]);
    let dmitry = phone_playing(
        &ast,
        "104",
        "demo-104-Secret!",
        5071,
        PHONE_RINGS_ONLY,
        None,
    );
    let elena = phone_playing(&ast, "105", "demo-105-Secret!", 5072, PHONE_ANSWERS, None);
    let (sipp, events, sip) = call_the_support_line(&ast);
    stop(dmitry);
    stop(elena);
    let why = || {
        format!(
            "{:#?}\nsipp: {}\n{}",
            crate::asterisk::calls::newexten_steps(&events),
            crate::support::text(&sipp),
            sip
        )
    };
    assert_eq!(sipp.status.code(), Some(0), "{}", why());

    // 104 rang until the step's time was up, then 105 rang and answered.
    let begin_104 = dial_of(&events, "DialBegin", "PJSIP/104-").expect("104 rang");
    let end_104 = dial_of(&events, "DialEnd", "PJSIP/104-").expect("104 stopped");
    let begin_105 = dial_of(&events, "DialBegin", "PJSIP/105-").expect("105 rang");
    let end_105 = dial_of(&events, "DialEnd", "PJSIP/105-").expect("105 answered");
    assert_eq!(end_104.get("DialStatus"), Some("NOANSWER"), "{}", why());
    assert_eq!(end_105.get("DialStatus"), Some("ANSWER"), "{}", why());
    let at = |m: &Message| events.iter().position(|e| std::ptr::eq(e, m)).unwrap();
    assert!(
        at(begin_104) < at(end_104) && at(end_104) < at(begin_105),
        "{}",
        why()
    );
    // The caller id shown on the members' phones (the connected line Asterisk sends in the
    // INVITE's From) carries the group's prefix.
    assert_eq!(
        begin_105.get("DestConnectedLineName"),
        Some("Support: +74990000009"),
        "{}",
        why()
    );

    // The caller got 180 Ringing and was answered only when 105 answered: no queue-like
    // answer first.
    let caller = caller_channel(&events, SUPPORT_LINE).unwrap();
    let up = position(&events, |e| {
        e.get("Event") == Some("Newstate")
            && e.get("Channel") == Some(caller.as_str())
            && e.get("ChannelStateDesc") == Some("Up")
    })
    .expect("the caller is answered");
    assert!(up > at(begin_105), "{}", why());
    let ringing = sip.find("SIP/2.0 180 Ringing").expect("ringback");
    let answered = sip.find("SIP/2.0 200 OK").expect("answered");
    assert!(ringing < answered, "{sip}");
    ast.stop();
}

/// A carrier's call to the support line: its sipp, the call's AMI events and the caller's
/// SIP trace.
fn call_the_support_line(ast: &Asterisk) -> (Output, Vec<Message>, String) {
    call_from_the_carrier(ast, SUPPORT_LINE)
}

/// A carrier's call to `did`: its sipp, the call's AMI events and the caller's SIP trace.
pub(crate) fn call_from_the_carrier(ast: &Asterisk, did: &str) -> (Output, Vec<Message>, String) {
    let mut ami = Ami::connect(ast);
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("caller.log");
    let (sipp, events) = std::thread::scope(|s| {
        let call = s.spawn(|| carrier_call(ast, did, &trace));
        let events = events_of_call(&mut ami, did, Duration::from_secs(50));
        (call.join().unwrap(), events)
    });
    (sipp, events, sip_trace(&trace))
}

/// A call to the support line with nobody at a desk phone, so only the duty mobile rings,
/// and the mobile playing `scenario`: the Asterisk, the caller's sipp and the call's events.
fn support_line_reaching_the_mobile(
    scenario: &str,
) -> (tempfile::TempDir, Asterisk, Output, Vec<Message>) {
    let (repo, ast) = company_with(&[(
        "trunks.yaml",
        "    host: 198.51.100.50\n",
        "    host: 198.51.100.50\n    port: 5070\n",
    )]);
    let mobile = outside_number(&ast, scenario);
    let (sipp, events, _) = call_the_support_line(&ast);
    stop(mobile);
    (repo, ast, sipp, events)
}

#[test]
fn an_outside_ring_group_member_that_answers_without_pressing_1_is_not_bridged() {
    require!(
        needs::ROOT_FOR_NETNS,
        needs::IP,
        needs::ASTERISK,
        needs::SIPP
    );
    // A mailbox answering the mobile: it picks up and never presses a key.
    let (_repo, ast, sipp, events) = support_line_reaching_the_mobile(PHONE_ANSWERS);
    let steps = crate::asterisk::calls::newexten_steps(&events);
    let why = || format!("{steps:#?}\nsipp: {}", crate::support::text(&sipp));
    let caller = caller_channel(&events, SUPPORT_LINE).expect("the call arrived");
    // The mobile answered and was asked to confirm, on its own leg.
    assert!(
        steps
            .iter()
            .any(|s| s.starts_with("Local/+79161234567@odoo-outbound-")
                && s.contains(" odoo-confirm/s: Read(ODOO_CONFIRM,beep,1,,2,5)")),
        "{}",
        why()
    );
    // It never pressed 1: the caller was never bridged to it, and went to Elena's
    // mailbox (the group's no_answer).
    assert!(
        !events
            .iter()
            .any(|e| e.get("Event") == Some("BridgeEnter")
                && e.get("Channel") == Some(caller.as_str())),
        "{}",
        why()
    );
    assert!(
        steps.iter().any(|s| s.starts_with(&format!(
            "{caller} odoo-voicemail/105: VoiceMail(105@odoo,u)"
        ))),
        "{}",
        why()
    );
    ast.stop();
}

#[test]
fn an_outside_ring_group_member_that_presses_1_is_bridged_to_the_caller() {
    require!(
        needs::ROOT_FOR_NETNS,
        needs::IP,
        needs::ASTERISK,
        needs::SIPP
    );
    let (_repo, ast, sipp, events) =
        support_line_reaching_the_mobile("tests/fixtures/sipp/mobile-presses-1.xml");
    let steps = crate::asterisk::calls::newexten_steps(&events);
    let why = || format!("{steps:#?}\nsipp: {}", crate::support::text(&sipp));
    let caller = caller_channel(&events, SUPPORT_LINE).expect("the call arrived");
    assert!(
        events
            .iter()
            .any(|e| e.get("Event") == Some("BridgeEnter")
                && e.get("Channel") == Some(caller.as_str())),
        "{}",
        why()
    );
    assert!(!steps.iter().any(|s| s.contains("VoiceMail(")), "{}", why());
    ast.stop();
}

/// The state of a hint as Asterisk reports it to a BLF key (`Idle`, `InUse`, ...).
fn blf(ast: &Asterisk, exten: &str, context: &str) -> String {
    let mut ami = Ami::connect(ast);
    let reply = ami.action(&[
        ("Action", "ExtensionState"),
        ("Exten", exten),
        ("Context", context),
    ]);
    reply.get("StatusText").unwrap_or("").to_owned()
}

#[test]
fn a_schedule_override_code_flips_where_the_support_line_goes_and_back() {
    require!(
        needs::ROOT_FOR_NETNS,
        needs::IP,
        needs::ASTERISK,
        needs::SIPP
    );
    let (_repo, ast) = company_with(&[]);
    ast.assert_clean("loading the schedule");
    // Dmitry's phone answers whenever the support desk rings it.
    let dmitry = phone_playing(&ast, "104", "demo-104-Secret!", 5071, PHONE_ANSWERS, None);
    let support = || Call::new("odoo-inbound", SUPPORT_LINE, "+74990000009");
    let toggle = || Call::new("odoo-phones", "*2702", "100");
    let calls = |what: &[Call]| place(&ast, what, 2);

    // The clock says open: the support desk rings.
    let [open] = <[_; 1]>::try_from(calls(&[support()])).unwrap();
    assert!(open.visited("odoo-ringgroup-support-desk"), "{open}");
    assert!(open.first("VoiceMail").is_none(), "{open}");
    assert_eq!(blf(&ast, "*2702", "odoo-phones"), "Idle");

    // Reception dials *2702: the time frame is forced closed, the BLF lights, and the
    // next call leaves a message for Elena without ringing anyone.
    let [flip] = <[_; 1]>::try_from(calls(&[toggle()])).unwrap();
    assert!(flip.ran("Playback", "activated"), "{flip}");
    assert_eq!(
        ast.cli("database get odoo-timeframe all-day").trim(),
        "Value: closed"
    );
    assert_eq!(blf(&ast, "*2702", "odoo-phones"), "InUse");
    let [closed] = <[_; 1]>::try_from(calls(&[support()])).unwrap();
    assert!(closed.ran("VoiceMail", "105@odoo,u"), "{closed}");
    assert!(!closed.visited("odoo-ringgroup-support-desk"), "{closed}");

    // Dialled again, the clock decides again.
    let [back] = <[_; 1]>::try_from(calls(&[toggle()])).unwrap();
    assert!(back.ran("Playback", "de-activated"), "{back}");
    assert_eq!(
        ast.cli("database get odoo-timeframe all-day").trim(),
        "Database entry not found."
    );
    assert_eq!(blf(&ast, "*2702", "odoo-phones"), "Idle");
    let [again] = <[_; 1]>::try_from(calls(&[support()])).unwrap();
    assert!(again.visited("odoo-ringgroup-support-desk"), "{again}");
    stop(dmitry);
    // Nothing the override's dialplan runs complained (the bench's own noise aside: the
    // carrier is unreachable, voicemail's prompts are not installed, sipp offers opus).
    let ours: Vec<String> = ast
        .problems()
        .into_iter()
        .filter(|l| {
            [
                "pbx",
                "func_db",
                "func_devstate",
                "func_logic",
                "app_stack",
                "ast_expr",
            ]
            .iter()
            .any(|m| l.contains(m))
        })
        .collect();
    assert_eq!(ours, Vec::<String>::new());
    ast.stop();
}

#[test]
fn an_announcement_plays_its_prompt_then_sends_the_caller_to_the_main_menu() {
    require!(needs::ROOT_FOR_NETNS, needs::IP, needs::ASTERISK);
    let (_, ast) = boot("examples/company", "msk");
    let [t] =
        <[_; 1]>::try_from(place(&ast, &[Call::new("odoo-internal", "650", "101")], 3)).unwrap();
    let played =
        t.0.iter()
            .position(|s| s.app == "Playback" && s.data == "custom/office-directions")
            .unwrap_or_else(|| panic!("{t}"));
    let menu =
        t.0.iter()
            .position(|s| s.context == "odoo-menu-main" && s.data == "Menu main")
            .unwrap_or_else(|| panic!("{t}"));
    assert!(played < menu, "{t}");
    ast.stop();
}

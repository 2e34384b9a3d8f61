//! Follow-me on a real Asterisk 22, over real SIP (sipp as Anna's desk phone, the
//! carrier's trunk and her mobile behind it): the mobile rings after the desk, or with
//! it, and takes the call only by pressing 1.

use crate::asterisk::calls::{Message, newexten_steps};
use crate::features_on_asterisk::{
    call_from_the_carrier, caller_channel, company_with, dial_of, outside_number, stop,
};
use crate::needs::{self, require};
use crate::sip_on_asterisk::{PHONE_ANSWERS, PHONE_RINGS_ONLY, phone_playing};

/// Anna's direct number (routes.yaml) and her mobile (her follow-me, extensions/msk.yaml).
const ANNAS_LINE: &str = "+74951234501";
const ANNAS_MOBILE: &str = "Local/+79161234501@odoo-followmembers-101";
const ANNAS_FOLLOW_ME: &str =
    "    follow_me:\n      numbers: [{external: \"+79161234501\"}]\n      ring_time: 25\n";

/// A call from the carrier to Anna's line with her desk phone ringing unanswered, her
/// follow-me as `follow_me` (YAML lines) and her mobile playing `mobile`: whether the
/// caller's sipp ended its scenario (hanging up itself after a second of talk), the
/// call's events, and a description of them for failures.
fn call_anna(follow_me: &str, mobile: &str) -> (bool, Vec<Message>, String) {
    let (_repo, ast) = company_with(&[
        (
            "trunks.yaml",
            "    host: 198.51.100.50\n",
            "    host: 198.51.100.50\n    port: 5070\n",
        ),
        (
            "extensions/msk.yaml",
            ANNAS_FOLLOW_ME,
            &format!("    ring_timeout: 4\n{follow_me}"),
        ),
    ]);
    ast.assert_clean("loading Anna's follow-me");
    // The mobile first: it answers the trunk's qualify while the desk phone registers.
    let mobile = outside_number(&ast, mobile);
    let desk = phone_playing(
        &ast,
        "101",
        "demo-101-Secret!",
        5071,
        PHONE_RINGS_ONLY,
        None,
    );
    let (sipp, events, sip) = call_from_the_carrier(&ast, ANNAS_LINE);
    stop(desk);
    stop(mobile);
    ast.stop();
    let why = format!(
        "{:#?}\nsipp: {}\n{sip}",
        newexten_steps(&events),
        crate::support::text(&sipp)
    );
    (sipp.status.success(), events, why)
}

fn index_of(events: &[Message], m: &Message) -> usize {
    events.iter().position(|e| std::ptr::eq(e, m)).unwrap()
}

fn bridged(events: &[Message]) -> bool {
    let caller = caller_channel(events, ANNAS_LINE).expect("the call arrived");
    events
        .iter()
        .any(|e| e.get("Event") == Some("BridgeEnter") && e.get("Channel") == Some(caller.as_str()))
}

#[test]
fn annas_mobile_rings_after_her_desk_and_takes_the_call_once_it_presses_1() {
    require!(
        needs::ROOT_FOR_NETNS,
        needs::IP,
        needs::ASTERISK,
        needs::SIPP
    );
    let (talked, events, why) =
        call_anna(ANNAS_FOLLOW_ME, "tests/fixtures/sipp/mobile-presses-1.xml");
    assert!(talked, "{why}");
    // The desk rang its 4 s unanswered; only then did the mobile ring.
    let desk_end = dial_of(&events, "DialEnd", "PJSIP/101-").expect("the desk rang");
    assert_eq!(desk_end.get("DialStatus"), Some("NOANSWER"), "{why}");
    let mobile = dial_of(&events, "DialBegin", ANNAS_MOBILE).expect("the mobile rang");
    assert!(
        index_of(&events, desk_end) < index_of(&events, mobile),
        "{why}"
    );
    let mobile_end = dial_of(&events, "DialEnd", ANNAS_MOBILE).expect("the mobile answered");
    assert_eq!(mobile_end.get("DialStatus"), Some("ANSWER"), "{why}");
    assert!(bridged(&events), "{why}");
    let steps = newexten_steps(&events);
    assert!(!steps.iter().any(|s| s.contains("VoiceMail(")), "{why}");
}

#[test]
fn a_with_desk_follow_me_rings_both_at_once_and_a_mobile_that_does_not_confirm_leaves_a_message() {
    require!(
        needs::ROOT_FOR_NETNS,
        needs::IP,
        needs::ASTERISK,
        needs::SIPP
    );
    // The mobile's own voicemail answers and never presses 1.
    // (The mailbox hangs up on the caller, whose sipp expected to hang up itself.)
    let (_, events, why) = call_anna(
        "    follow_me:\n      order: with_desk\n      numbers: [{external: \"+79161234501\"}]\n      ring_time: 6\n",
        PHONE_ANSWERS,
    );
    // One Dial() rang the desk and the mobile: both began before either ended.
    let desk = dial_of(&events, "DialBegin", "PJSIP/101-").expect("the desk rang");
    let mobile = dial_of(&events, "DialBegin", ANNAS_MOBILE).expect("the mobile rang");
    let first_end = events
        .iter()
        .position(|e| e.get("Event") == Some("DialEnd"))
        .expect("the dial ended");
    assert!(index_of(&events, desk) < first_end, "{why}");
    assert!(index_of(&events, mobile) < first_end, "{why}");
    assert_eq!(
        dial_of(&events, "DialEnd", "PJSIP/101-").and_then(|e| e.get("DialStatus")),
        Some("NOANSWER"),
        "{why}"
    );
    // The mobile answered and was asked to confirm, on its own leg, but pressed nothing:
    // the caller was never bridged and left Anna a message.
    let steps = newexten_steps(&events);
    assert!(
        steps
            .iter()
            .any(|s| s.starts_with("Local/+79161234501@odoo-outbound-")
                && s.contains(" odoo-confirm/s: Read(ODOO_CONFIRM,beep,1,,2,5)")),
        "{why}"
    );
    assert!(!bridged(&events), "{why}");
    let caller = caller_channel(&events, ANNAS_LINE).unwrap();
    assert!(
        steps
            .iter()
            .any(|s| s.starts_with(&caller) && s.contains("VoiceMail(101@odoo,u)")),
        "{why}"
    );
}

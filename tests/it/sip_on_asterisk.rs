//! Real SIP through a real Asterisk 22 (sipp as the user agents): a phone registers
//! with the password the YAML gives it and no other; a call from a trunk's address is
//! identified as that trunk and routed by its DID; wrong passwords are security events
//! the agent counts toward a ban.

use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use crate::asterisk::calls::{Ami, newexten_steps};
use crate::asterisk::{Asterisk, ami_env, boot, wait_until};
use crate::needs::{self, require};

const REGISTER: &str = "tests/fixtures/sipp/register.xml";

/// The company's msk server on a real Asterisk, with `extra` addresses on the
/// namespace's loopback (a trunk's, an attacker's).
pub(crate) fn msk(extra: &[&str]) -> Asterisk {
    let (_, ast) = boot("examples/company", "msk");
    for address in extra {
        ast.netns()
            .ip(&["addr", "add", &format!("{address}/32"), "dev", "lo"]);
    }
    ast
}

/// sipp in the instance's namespace, from `local` (an address of the namespace).
fn sipp(ast: &Asterisk, local: &str, args: &[&str]) -> Output {
    ast.netns()
        .command("sipp")
        .args(["127.0.0.1:5060", "-i", local, "-m", "1", "-nostdin"])
        .args(["-timeout", "15s", "-timeout_error"])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// A call from a trunk at `from` (an address of the namespace) to `did`, as `caller`.
pub(crate) fn trunk_call(ast: &Asterisk, from: &str, did: &str, caller: &str) -> Output {
    sipp(
        ast,
        from,
        &[
            "-sf",
            "tests/fixtures/sipp/invite-alaw.xml",
            "-s",
            did,
            "-key",
            "caller",
            caller,
        ],
    )
}

pub(crate) fn register(ast: &Asterisk, user: &str, password: &str, from: &str) -> Output {
    sipp(
        ast,
        from,
        &["-sf", REGISTER, "-s", user, "-au", user, "-ap", password],
    )
}

/// A phone that is registered as `user` from 127.0.0.1:`port` and answers there (each
/// call after a moment of ringing; Asterisk's qualify too), until killed. Returns once
/// Asterisk sees it idle.
pub(crate) fn answering_phone(ast: &Asterisk, user: &str, password: &str, port: u16) -> Child {
    answering_phone_tracing(ast, user, password, port, None)
}

/// [`answering_phone`], writing every SIP message it receives and sends to `trace`.
pub(crate) fn answering_phone_tracing(
    ast: &Asterisk,
    user: &str,
    password: &str,
    port: u16,
    trace: Option<&std::path::Path>,
) -> Child {
    phone_playing(ast, user, password, port, PHONE_ANSWERS, trace)
}

/// The scenario of a phone that answers each call.
pub(crate) const PHONE_ANSWERS: &str = "tests/fixtures/sipp/phone-uas.xml";
/// The scenario of a phone that rings and is never picked up.
pub(crate) const PHONE_RINGS_ONLY: &str = "tests/fixtures/sipp/phone-rings-only.xml";

/// A phone registered as `user` from 127.0.0.1:`port` that plays `scenario` for each
/// call (and answers qualify), until killed; returns once Asterisk sees it idle.
pub(crate) fn phone_playing(
    ast: &Asterisk,
    user: &str,
    password: &str,
    port: u16,
    scenario: &str,
    trace: Option<&std::path::Path>,
) -> Child {
    let port = port.to_string();
    let registered = sipp(
        ast,
        "127.0.0.1",
        &[
            "-p", &port, "-sf", REGISTER, "-s", user, "-au", user, "-ap", password,
        ],
    );
    assert_eq!(
        registered.status.code(),
        Some(0),
        "{}",
        crate::support::text(&registered)
    );
    let phone = ast
        .netns()
        .command("sipp")
        .args(["-sf", scenario, "-i", "127.0.0.1", "-p", &port])
        .args(["-nostdin", "-timeout", "60s"])
        .args(match trace {
            Some(file) => vec![
                "-trace_msg".into(),
                "-message_file".into(),
                file.as_os_str().to_owned(),
            ],
            None => Vec::new(),
        })
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Reachable once Asterisk's qualify (retransmitted while the phone starts) is
    // answered.
    assert!(
        wait_until(Duration::from_secs(15), || ast
            .cli(&format!("core show hint {user}"))
            .contains("State:Idle")),
        "{}",
        ast.cli("pjsip show contacts")
    );
    phone
}

#[test]
fn a_phone_registers_with_its_password_from_the_yaml_and_not_with_another() {
    require!(
        needs::ROOT_FOR_NETNS,
        needs::IP,
        needs::ASTERISK,
        needs::SIPP
    );
    let ast = msk(&[]);
    let ok = register(&ast, "101", "demo-101-Secret!", "127.0.0.1");
    assert_eq!(ok.status.code(), Some(0), "{}", crate::support::text(&ok));
    let contacts = ast.cli("pjsip show contacts");
    assert!(
        contacts.contains("Contact:  101/sip:101@127.0.0.1"),
        "{contacts}"
    );

    let wrong = register(&ast, "102", "not-the-password", "127.0.0.1");
    assert_ne!(
        wrong.status.code(),
        Some(0),
        "{}",
        crate::support::text(&wrong)
    );
    let contacts = ast.cli("pjsip show contacts");
    assert!(!contacts.contains("Contact:  102/"), "{contacts}");
    ast.stop();
}

#[test]
fn a_call_from_a_trunks_address_is_that_trunk_and_goes_where_its_did_route_says() {
    require!(
        needs::ROOT_FOR_NETNS,
        needs::IP,
        needs::ASTERISK,
        needs::SIPP
    );
    // carrier-ip is identified by 198.51.100.50; +74951234550 is its sales line.
    let ast = msk(&["198.51.100.50"]);
    let mut ami = Ami::connect(&ast);
    std::thread::scope(|s| {
        let call = s.spawn(|| trunk_call(&ast, "198.51.100.50", "+74951234550", "+74990000009"));
        let events = ami.events_until(Duration::from_secs(15), |events| {
            events.iter().any(|e| {
                e.get("Event") == Some("Newexten")
                    && e.get("Application") == Some("Queue")
                    && e.get("Channel")
                        .is_some_and(|c| c.starts_with("PJSIP/carrier-ip-"))
            })
        });
        let steps = newexten_steps(&events);
        let sipp = call.join().unwrap();
        let why = || {
            format!(
                "{steps:#?}\nsipp: {}\nasterisk: {}",
                crate::support::text(&sipp),
                ast.log()
            )
        };
        assert!(
            steps.iter().any(|s| s.starts_with("PJSIP/carrier-ip-")
                && s.contains(" odoo-inbound-carrier-ip/+74951234550: ")),
            "{}",
            why()
        );
        assert!(
            steps
                .iter()
                .any(|s| s.contains(" odoo-queue-sales/500: Queue(sales,")),
            "{}",
            why()
        );
    });
    ast.stop();
}

#[test]
fn wrong_sip_passwords_are_security_events_the_agent_counts_toward_a_ban() {
    require!(
        needs::ROOT_FOR_NETNS,
        needs::IP,
        needs::ASTERISK,
        needs::SIPP
    );
    let attacker = "203.0.113.66";
    let ast = msk(&[attacker]);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("agent.log");
    let mut agent = ast
        .netns()
        .command(env!("CARGO_BIN_EXE_astbase"))
        .arg("agent")
        .arg("--db")
        .arg(dir.path().join("agent.db"))
        .args(["--server", "msk", "--timezone", "UTC", "--dry-run"])
        .args(["--ban-threshold", "3", "--ban-window", "60"])
        .envs(ami_env())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let text = || std::fs::read_to_string(&log).unwrap_or_default();
    let connected = wait_until(Duration::from_secs(20), || {
        text().contains("connected to 127.0.0.1:5038")
    });
    assert!(connected, "{}", text());
    for _ in 0..3 {
        let out = register(&ast, "103", "guessed-password", attacker);
        assert_ne!(out.status.code(), Some(0), "{}", crate::support::text(&out));
    }
    let counted = wait_until(Duration::from_secs(30), || {
        text().contains(&format!("did not ban {attacker} after 3 security event(s)"))
    });
    assert!(counted, "{}", text());
    assert!(text().contains("ChallengeResponseFailed"), "{}", text());
    let _ = Command::new("kill")
        .args(["-TERM", &agent.id().to_string()])
        .status();
    agent.wait().unwrap();
    ast.stop();
}

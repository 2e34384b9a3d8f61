//! `astbase serve` beside a real Asterisk 22, in its namespace, on its AMI: a real call
//! appears in the live-calls stream, an admin's CLI command shows it, an operator hangs
//! it up through the console (the call ends then, not at its end), and the stream says
//! it is gone.

use std::io::{BufRead, BufReader, Write};
use std::time::{Duration, Instant};

use crate::asterisk::boot;
use crate::asterisk::calls::{Call, place};
use crate::console::Console;
use crate::needs::{self, require};

/// Reads the console's event stream until an update satisfies `wanted` (within 20 s:
/// keep-alive comments would otherwise keep a read waiting forever); returns it.
fn next_update(
    lines: &mut impl Iterator<Item = std::io::Result<String>>,
    wanted: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    for line in lines {
        assert!(Instant::now() < deadline, "no such update within 20 s");
        let line = line.expect("the event stream stays open");
        let Some(data) = line.strip_prefix("data: ") else {
            continue;
        };
        let update: serde_json::Value = serde_json::from_str(data).unwrap();
        if wanted(&update) {
            return update;
        }
    }
    panic!("the event stream ended");
}

#[test]
fn a_real_call_is_shown_live_listed_by_the_cli_and_hung_up_from_the_console() {
    require!(needs::ROOT_FOR_NETNS, needs::IP, needs::ASTERISK);
    let (_, ast) = boot("examples/company", "msk");
    let console = Console::beside(&ast);
    let (viewer, _) = console.login_http("vera", "vera-password-1");
    let stream = console
        .ns
        .connect(&format!("127.0.0.1:{}", console.port))
        .unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    write!(
        &stream,
        "GET /calls/events HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {viewer}\r\n\r\n"
    )
    .unwrap();
    let mut lines = BufReader::new(stream).lines();
    // Connected to Asterisk: said by the first snapshot, or by a status after it.
    next_update(&mut lines, |u| u["connected"] == true);

    // Logged in before the call (Argon2 takes a while): the call is still up when the
    // admin and the operator act on it.
    let admin = console.login_http("adam", "adam-password-1");
    let operator = console.login_http("olga", "olga-password-1");
    std::thread::scope(|s| {
        let call = s.spawn(|| place(&ast, &[Call::new("odoo-internal", "100", "104")], 30));
        let shown = next_update(&mut lines, |u| {
            u["type"] == "channel"
                && u["channel"]["channel"]
                    .as_str()
                    .is_some_and(|c| c.starts_with("Local/100@odoo-internal"))
        });
        let channel = shown["channel"]["channel"].as_str().unwrap().to_owned();
        let uniqueid = shown["channel"]["uniqueid"].as_str().unwrap().to_owned();

        // The admin's CLI runs the allowed command on Asterisk itself.
        let (admin, csrf) = &admin;
        let cli = console.post("/cli", admin, Some(csrf), "command=core+show+channels");
        assert_eq!(cli.status, 200, "{}", cli.body);
        let output = cli.body.split("<pre id=\"output\"").nth(1).unwrap_or("");
        assert!(output.contains("1 active call"), "{}", cli.body);

        // The operator hangs it up; Asterisk ends the call now.
        let (operator, csrf) = &operator;
        let started = Instant::now();
        let hangup = console.post(
            "/calls/hangup",
            operator,
            Some(csrf),
            &format!(
                "channel={}",
                channel.replace('/', "%2F").replace('@', "%40")
            ),
        );
        assert_eq!(
            (hangup.status, hangup.body.as_str()),
            (200, format!("hung up {channel}").as_str()),
            "{}",
            console.log()
        );
        call.join().unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the call ended when hung up, not after its 30 s"
        );
        next_update(&mut lines, |u| {
            u["type"] == "gone" && u["uniqueid"] == uniqueid
        });
        let audit = console.audit();
        assert!(
            audit.contains(&("olga".into(), "hangup".into(), channel.clone(), "ok".into())),
            "{audit:?}"
        );
        assert!(
            audit.contains(&(
                "adam".into(),
                "cli".into(),
                "core show channels".into(),
                "ok".into()
            )),
            "{audit:?}"
        );
    });
}

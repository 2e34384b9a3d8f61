//! apply against a real Asterisk 22 (a local target whose CLI is the instance's control
//! socket): reloads and their verification, transports that need a restart
//! (`--restart`), a refused TLS transport rolled back, the systemname check.

use crate::asterisk::{self, Asterisk};
use crate::needs::{self, require};

/// Runs astbase with `args`.
fn astbase(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_astbase"))
        .args(args)
        .output()
        .unwrap()
}

/// A repo whose one server is this instance (a local target whose CLI is its control
/// socket), with these transports and one extension.
fn repo_for(ast: &Asterisk, transports: &str) -> tempfile::TempDir {
    repo_with(ast, transports, "")
}

/// As [`repo_for`], with more settings of the server (`    key: value` lines).
fn repo_with(ast: &Asterisk, transports: &str, server: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("astbase.yaml"), "").unwrap();
    let cli: Vec<String> = ast.cli_words().iter().map(|w| format!("{w:?}")).collect();
    std::fs::write(
        dir.path().join("fleet.yaml"),
        format!(
            "servers:
  - name: pbx
    host: local
    asterisk: {{conf_dir: {:?}, cli: [{}]}}
    transports: [{transports}]
{server}extensions:
  - {{number: \"101\", server: pbx, name: Anna, secret: Secret-101-x}}
",
            ast.etc().display().to_string(),
            cli.join(", ")
        ),
    )
    .unwrap();
    dir
}

fn live_bind(ast: &Asterisk, transport: &str) -> Option<String> {
    ast.cli(&format!("pjsip show transport {transport}"))
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            (k.trim() == "bind").then(|| v.trim().to_owned())
        })
}

#[test]
fn apply_reloads_a_real_asterisk_and_a_transport_that_moves_waits_for_an_explicit_restart() {
    require!(needs::ROOT_FOR_NETNS, needs::IP, needs::ASTERISK);
    let ast = Asterisk::start(&asterisk::stock(), &[], &[]);
    let udp =
        |port: u16| format!("{{name: transport-udp, protocol: udp, bind: \"127.0.0.1:{port}\"}}");
    let dir = repo_for(&ast, &udp(5060));
    let repo = dir.path().to_str().unwrap();
    let out = astbase(&["apply", "--repo", repo, "--auto-approve"]);
    assert!(out.status.success(), "{}", crate::support::text(&out));
    // Each server's result once (not again on stderr).
    assert_eq!(
        crate::support::text(&out).matches("pbx: applied").count(),
        1,
        "{}",
        crate::support::text(&out)
    );
    assert!(
        ast.cli("pjsip show endpoints").contains("Endpoint:  101"),
        "{}",
        ast.cli("pjsip show endpoints")
    );
    assert_eq!(
        live_bind(&ast, "transport-udp").as_deref(),
        Some("127.0.0.1:5060")
    );
    ast.assert_clean("after the first apply");
    let again = astbase(&["plan", "--repo", repo, "--detailed-exitcode"]);
    assert_eq!(
        again.status.code(),
        Some(0),
        "{}",
        crate::support::text(&again)
    );

    // The transport moves: a reload keeps the old socket, and apply says so.
    let dir2 = repo_for(&ast, &udp(5070));
    std::fs::copy(
        dir2.path().join("fleet.yaml"),
        dir.path().join("fleet.yaml"),
    )
    .unwrap();
    let plan = astbase(&["plan", "--repo", repo]);
    let text = crate::support::text(&plan);
    assert!(
        text.contains(
            "! restart needed: transport transport-udp bind 127.0.0.1:5060 -> 127.0.0.1:5070"
        ),
        "{text}"
    );
    let out = astbase(&["apply", "--repo", repo, "--auto-approve"]);
    let text = crate::support::text(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("pbx: restart needed: applied and reloaded, but transport transport-udp runs on 127.0.0.1:5060 (the file says 127.0.0.1:5070)"),
        "{text}"
    );
    assert_eq!(
        live_bind(&ast, "transport-udp").as_deref(),
        Some("127.0.0.1:5060")
    );
    // Not a no-op until Asterisk restarted.
    let pending = astbase(&["plan", "--repo", repo, "--detailed-exitcode"]);
    assert_eq!(
        pending.status.code(),
        Some(2),
        "{}",
        crate::support::text(&pending)
    );
    let out = astbase(&["apply", "--repo", repo, "--auto-approve", "--restart"]);
    let text = crate::support::text(&out);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("pbx: applied (core restart gracefully)"),
        "{text}"
    );
    assert_eq!(
        live_bind(&ast, "transport-udp").as_deref(),
        Some("127.0.0.1:5070")
    );
    let done = astbase(&["plan", "--repo", repo, "--detailed-exitcode"]);
    assert_eq!(
        done.status.code(),
        Some(0),
        "{}",
        crate::support::text(&done)
    );
    ast.assert_clean("after the restart");

    // A TLS transport Asterisk refuses (no certificate): not created, so rolled back.
    let tls = "{name: transport-tls, protocol: tls, bind: \"127.0.0.1:5061\", \
               cert_file: /nonexistent/pbx.pem, priv_key_file: /nonexistent/pbx.key}";
    let dir3 = repo_for(&ast, &format!("{}, {tls}", udp(5070)));
    std::fs::copy(
        dir3.path().join("fleet.yaml"),
        dir.path().join("fleet.yaml"),
    )
    .unwrap();
    let out = astbase(&["apply", "--repo", repo, "--auto-approve"]);
    let text = crate::support::text(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("pbx: rolled back: Asterisk did not load what was written: `pjsip show transport transport-tls` says Unable to find object transport-tls."),
        "{text}"
    );
    let pjsip = std::fs::read_to_string(ast.etc().join("pjsip_odoo.conf")).unwrap();
    assert!(!pjsip.contains("transport-tls"), "{pjsip}");
    assert!(
        ast.problems().iter().any(|l| l.contains("cert_file /nonexistent/pbx.pem is either missing or not readable")),
        "{:?}",
        ast.problems()
    );
    ast.stop();
}

#[test]
fn apply_says_how_to_set_a_systemname_asterisk_does_not_run_with() {
    require!(needs::ROOT_FOR_NETNS, needs::IP, needs::ASTERISK);
    let ast = Asterisk::start(&asterisk::stock(), &[], &[]);
    let dir = repo_with(&ast, "", "    systemname: pbx-a\n");
    let repo = dir.path().to_str().unwrap();
    let out = astbase(&["apply", "--repo", repo, "--auto-approve"]);
    let text = crate::support::text(&out);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains(
            "; warning: Asterisk runs with systemname ``, the repo says `pbx-a`: set \
             `systemname = pbx-a` in [options] of asterisk.conf and restart Asterisk"
        ),
        "{text}"
    );
    // Done as it says: the next apply that changes something has nothing to say.
    let conf = ast.etc().join("asterisk.conf");
    let text = std::fs::read_to_string(&conf).unwrap();
    std::fs::write(
        &conf,
        text.replace("[options]\n", "[options]\nsystemname = pbx-a\n"),
    )
    .unwrap();
    ast.cli("core restart now");
    let restarted = asterisk::wait_until(std::time::Duration::from_secs(30), || {
        ast.cli("core show settings").contains("pbx-a")
    });
    assert!(restarted, "no restart");
    let fleet = dir.path().join("fleet.yaml");
    let text = std::fs::read_to_string(&fleet)
        .unwrap()
        .replace("name: Anna", "name: Anna P");
    std::fs::write(&fleet, text).unwrap();
    let out = astbase(&["apply", "--repo", repo, "--auto-approve"]);
    let text = crate::support::text(&out);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("pbx: applied (module reload res_pjsip.so"),
        "{text}"
    );
    assert!(!text.contains("warning:"), "{text}");
    ast.stop();
}

#[test]
fn the_health_gate_rolls_back_a_change_that_loses_registered_phones() {
    require!(
        needs::ROOT_FOR_NETNS,
        needs::IP,
        needs::ASTERISK,
        needs::SIPP
    );
    let ast = Asterisk::start(&asterisk::stock(), &[], &[]);
    let udp = "{name: transport-udp, protocol: udp, bind: \"127.0.0.1:5060\"}";
    // The gate's test call goes to an echo-like dialplan that answers.
    let dir = repo_with(&ast, udp, "    test_call: {dialplan: answers}\n");
    let fleet = dir.path().join("fleet.yaml");
    let with_102 = std::fs::read_to_string(&fleet).unwrap()
        + "  - {number: \"102\", server: pbx, name: Boris, secret: Secret-102-x}\n\
           dialplans:\n  - {name: answers, server: pbx, lines: [{exten: \"600\", app: Answer}, {app: Wait, args: [\"1\"]}]}\n  \
           - {name: silent, server: pbx, lines: [{exten: \"601\", app: Wait, args: [\"20\"]}]}\n";
    std::fs::write(&fleet, &with_102).unwrap();
    std::fs::write(
        dir.path().join("astbase.yaml"),
        "project:\n  rollout: {gate: {settle: 1}}\n",
    )
    .unwrap();
    let repo = dir.path().to_str().unwrap();
    let first = astbase(&["apply", "--repo", repo, "--auto-approve"]);
    assert!(first.status.success(), "{}", crate::support::text(&first));
    for (user, password) in [("101", "Secret-101-x"), ("102", "Secret-102-x")] {
        let out = crate::sip_on_asterisk::register(&ast, user, password, "127.0.0.1");
        assert_eq!(out.status.code(), Some(0), "{}", crate::support::text(&out));
    }
    let contacts = ast.cli("pjsip show contacts");
    assert!(
        contacts.contains("Contact:  102/sip:102@127.0.0.1"),
        "{contacts}"
    );

    // Removing 102 takes its registered phone away: the gate rolls the server back.
    std::fs::write(
        &fleet,
        with_102.replace(
            "  - {number: \"102\", server: pbx, name: Boris, secret: Secret-102-x}\n",
            "",
        ),
    )
    .unwrap();
    let out = astbase(&["apply", "--repo", repo, "--auto-approve", "--gate"]);
    let text = crate::support::text(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("pbx: rolled back: health gate: registered phones 2 -> 1 (more than 10% dropped; gone: 102)"),
        "{text}"
    );
    assert!(ast.cli("pjsip show endpoints").contains("Endpoint:  102"));
    let contacts = ast.cli("pjsip show contacts");
    assert!(
        contacts.contains("Contact:  102/sip:102@127.0.0.1"),
        "the phone is back: {contacts}"
    );
    ast.assert_clean("after the rollback");

    // A change that keeps every phone passes, and says what it saw.
    std::fs::write(&fleet, with_102.replace("name: Boris", "name: Boris B")).unwrap();
    let out = astbase(&["apply", "--repo", repo, "--auto-approve", "--gate"]);
    let text = crate::support::text(&out);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains(
            "; health: phones 2 -> 2, trunks 0/0 registered, 0 channel(s) up, test call ok in "
        ),
        "{text}"
    );

    // A test call nobody answers fails the gate too.
    let silent = std::fs::read_to_string(&fleet)
        .unwrap()
        .replace(
            "test_call: {dialplan: answers}",
            "test_call: {dialplan: silent}",
        )
        .replace("name: Boris B", "name: Boris C");
    std::fs::write(&fleet, silent).unwrap();
    let out = astbase(&["apply", "--repo", repo, "--auto-approve", "--gate"]);
    let text = crate::support::text(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("pbx: rolled back: health gate: test call to 601@odoo-custom-silent: not answered within 10 s"),
        "{text}"
    );
    ast.stop();
}

//! The proof on a real Asterisk 22.10.1: what astbase renders loads with no error or
//! warning, Asterisk's own listings match the model, and calls land where the YAML says.
//! Each test starts its own instance in its own network namespace (see `asterisk`).

use std::collections::BTreeSet;

use crate::asterisk::boot;
use crate::asterisk::calls::{Call, Trace, place};
use crate::needs::{self, require};

/// The words of the first column of a listing's lines that start with `prefix`.
fn listed(text: &str, prefix: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|l| l.trim_start().strip_prefix(prefix))
        .filter_map(|rest| rest.split_whitespace().next())
        // The listing's header row names its columns in `<...>`.
        .filter(|w| !w.starts_with('<'))
        .map(|w| w.split('/').next().unwrap_or(w).to_owned())
        .collect()
}

#[test]
fn every_example_server_loads_with_no_error_or_warning_and_asterisk_lists_what_the_model_has() {
    require!(needs::ROOT_FOR_NETNS, needs::IP, needs::ASTERISK);
    // examples/production names a TLS certificate under /etc/asterisk/keys and a secret
    // file under /run/secrets, which a test cannot provide without touching the machine.
    for (repo, server) in [("examples/company", "msk"), ("examples/company", "spb")] {
        let (report, ast) = boot(repo, server);
        ast.assert_clean(&format!("{repo} server {server}"));
        let fleet = &report.fleet;
        let extensions: BTreeSet<String> = fleet
            .extensions
            .iter()
            .filter(|e| e.server.as_str() == server && e.enabled)
            .map(|e| e.number.to_string())
            .collect();
        let trunks: BTreeSet<String> = fleet
            .trunks
            .iter()
            .filter(|t| t.server.as_str() == server)
            .map(|t| t.name.to_string())
            .collect();
        let endpoints = listed(&ast.cli("pjsip show endpoints"), "Endpoint:");
        let wanted: BTreeSet<String> = extensions.union(&trunks).cloned().collect();
        assert_eq!(endpoints, wanted, "{repo} {server}: endpoints");

        let queues = ast.cli("queue show");
        for q in fleet.queues.iter().filter(|q| q.server.as_str() == server) {
            assert!(
                queues.contains(&format!("{} has 0 calls", q.name)),
                "{repo} {server}: queue {} in\n{queues}",
                q.name
            );
        }
        let mailboxes = ast.cli("voicemail show users");
        for e in fleet.extensions.iter().filter(|e| {
            e.server.as_str() == server
                && e.enabled
                && e.voicemail.as_ref().is_some_and(|v| v.enabled)
        }) {
            assert!(
                mailboxes
                    .lines()
                    .any(|l| l.split_whitespace().nth(1) == Some(e.number.as_str())),
                "{repo} {server}: mailbox {} in\n{mailboxes}",
                e.number
            );
        }
        let classes = ast.cli("moh show classes");
        for m in &fleet.music_on_hold {
            assert!(
                classes.contains(&format!("Class: {}", m.name)),
                "{repo} {server}: moh class {} in\n{classes}",
                m.name
            );
        }
        // Every context of the generated dialplan is loaded, with every extension.
        let output = crate::asterisk::render(&report)
            .into_iter()
            .find(|o| o.server == server)
            .unwrap();
        let dialplan = output
            .files
            .iter()
            .find(|f| f.kind == astbase::render::ConfKind::Dialplan)
            .unwrap();
        let parsed = astbase::conf::parse(&dialplan.content);
        assert!(parsed.sections.len() > 10, "{repo} {server}: contexts");
        for context in &parsed.sections {
            let shown = ast.cli(&format!("dialplan show {}", context.name));
            assert!(
                shown.contains(&format!(
                    "[ Context '{}' created by 'pbx_config' ]",
                    context.name
                )),
                "{repo} {server}: context {} in\n{shown}",
                context.name
            );
            for v in context.vars.iter().filter(|v| v.key == "exten") {
                let name = v.value.split(',').next().unwrap();
                // `exten/callerid` is listed `'exten' (CID match 'callerid') =>`.
                let listed = match name.split_once('/') {
                    Some((exten, cid)) => format!("'{exten}' (CID match '{cid}') =>"),
                    None => format!("'{name}' =>"),
                };
                let exten = name;
                assert!(
                    shown.contains(&listed),
                    "{repo} {server}: {exten} in {}:\n{shown}",
                    context.name
                );
            }
        }
        ast.stop();
    }
}

/// Where a call went, in words a failure message can show.
fn shown(call: &Call, trace: &Trace) -> String {
    format!(
        "call {} -> {}@{}:\n{trace}",
        call.caller, call.number, call.context
    )
}

#[test]
fn inbound_calls_land_where_the_company_routes_say_and_block_rules_win() {
    require!(needs::ROOT_FOR_NETNS, needs::IP, needs::ASTERISK);
    let (_, ast) = boot("examples/company", "msk");
    let carrier = "odoo-inbound-carrier-ip";
    let provider = "odoo-inbound-voip-provider";
    let calls = [
        Call::new(carrier, "+74951234500", "+74990000001"),
        Call::new(provider, "+74951234500", "+74990000002"),
        Call::new(carrier, "+74951234550", "+74990000003"),
        Call::new(carrier, "+74951234501", "+74990000004"),
        // The telemarketer, on a DID that has a route: the block rule wins.
        Call::new(carrier, "+74951234500", "88001234567"),
        Call::new(provider, "+74951234501", "88001234567"),
    ];
    let traces = place(&ast, &calls, 2);
    let [
        main,
        main_via_provider,
        sales,
        anna,
        blocked,
        blocked_direct,
    ] = &traces[..]
    else {
        unreachable!()
    };
    for (call, trace) in calls.iter().zip(&traces) {
        assert!(!trace.0.is_empty(), "{}", shown(call, trace));
    }
    assert!(main.visited("odoo-menu-main"), "{}", shown(&calls[0], main));
    assert!(
        main_via_provider.visited("odoo-menu-main"),
        "{}",
        shown(&calls[1], main_via_provider)
    );
    assert!(
        sales
            .first("Queue")
            .is_some_and(|s| s.data.starts_with("sales,")),
        "{}",
        shown(&calls[2], sales)
    );
    assert!(
        anna.ran("Dial", "PJSIP/101,20,tT") || anna.ran("VoiceMail", "101@odoo,u"),
        "{}",
        shown(&calls[3], anna)
    );
    for (call, trace) in [(&calls[4], blocked), (&calls[5], blocked_direct)] {
        assert!(
            !trace.visited("odoo-menu-main") && !trace.visited("odoo-internal"),
            "a blocked caller must be hung up: {}",
            shown(call, trace)
        );
        assert_eq!(
            trace.0.last().map(|s| s.app.as_str()),
            Some("Hangup"),
            "{}",
            shown(call, trace)
        );
    }
    ast.stop();
}

#[test]
fn outbound_calls_take_the_most_specific_route_and_character_classes_match() {
    require!(needs::ROOT_FOR_NETNS, needs::IP, needs::ASTERISK);
    let (_, ast) = boot("examples/company", "msk");
    // 101 may use every route (tag international), so its phones' context is odoo-phones.
    let phones = "odoo-phones";
    let calls = [
        Call::new(phones, "84951112233", "101"),
        Call::new(phones, "91112233", "101"),
        Call::new(phones, "+79161234567", "101"),
        Call::new(phones, "+14155550100", "101"),
        Call::new(phones, "81014155550100", "101"),
    ];
    let traces = place(&ast, &calls, 1);
    let dialled = |trace: &Trace| trace.first("Dial").map(|s| s.data.clone());
    assert_eq!(
        dialled(&traces[0]).as_deref(),
        Some("PJSIP/84951112233@voip-provider,60"),
        "{}",
        shown(&calls[0], &traces[0])
    );
    assert_eq!(
        dialled(&traces[1]).as_deref(),
        Some("PJSIP/+74951112233@voip-provider,60"),
        "{}",
        shown(&calls[1], &traces[1])
    );
    // msk-mobile (_+79XXXXXXXXX, carrier-ip first) is narrower than msk-local's
    // _+7XXXXXXXXXX.
    assert_eq!(
        dialled(&traces[2]).as_deref(),
        Some("PJSIP/+79161234567@carrier-ip,60"),
        "{}",
        shown(&calls[2], &traces[2])
    );
    // msk-international's _+[1-69]X.
    assert_eq!(
        dialled(&traces[3]).as_deref(),
        Some("PJSIP/+14155550100@carrier-ip,60"),
        "{}",
        shown(&calls[3], &traces[3])
    );
    assert_eq!(
        dialled(&traces[4]).as_deref(),
        Some("PJSIP/+14155550100@carrier-ip,60"),
        "{}",
        shown(&calls[4], &traces[4])
    );
    ast.stop();
}

/// A one-server repo in a temp dir: `astbase.yaml` and `fleet.yaml` (after the server).
fn repo(fleet: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("astbase.yaml"), "").unwrap();
    std::fs::write(
        dir.path().join("fleet.yaml"),
        format!("servers:\n  - {{name: pbx, host: local, asterisk: {{conf_dir: etc}}}}\n{fleet}"),
    )
    .unwrap();
    dir
}

#[test]
fn a_menu_with_two_retries_plays_its_prompt_three_times_before_the_timeout_destination() {
    require!(needs::ROOT_FOR_NETNS, needs::IP, needs::ASTERISK);
    let dir = repo(
        "menus:
  - name: m
    server: pbx
    number: \"700\"
    prompts: [custom/menu]
    keys: {1: hangup}
    digit_timeout: 1
    max_retries: 2
    timeout: {voicemail: \"100\"}
extensions:
  - {number: \"100\", server: pbx, name: Reception, secret: Secret-100-x, voicemail: {pin: \"1234\"}}
",
    );
    let (_, ast) = boot(dir.path().to_str().unwrap(), "pbx");
    ast.assert_clean("the menu repo");
    let call = Call::new("odoo-internal", "700", "100");
    let trace = &place(&ast, std::slice::from_ref(&call), 12)[0];
    let prompts = trace
        .0
        .iter()
        .filter(|s| s.app.eq_ignore_ascii_case("Background"))
        .count();
    assert_eq!(prompts, 3, "{}", shown(&call, trace));
    assert!(
        trace.ran("VoiceMail", "100@odoo,u"),
        "{}",
        shown(&call, trace)
    );
    ast.stop();
}

#[test]
fn a_period_that_closes_at_this_minute_is_already_closed() {
    require!(needs::ROOT_FOR_NETNS, needs::IP, needs::ASTERISK);
    // `to` is the current minute (UTC): the menu must be closed now. Away from a minute's
    // end, so that the call runs in the same minute.
    let mut now = jiff::Timestamp::now().in_tz("UTC").unwrap();
    if now.second() >= 50 || (now.hour() == 0 && now.minute() == 0) {
        std::thread::sleep(std::time::Duration::from_secs(61 - now.second() as u64));
        now = jiff::Timestamp::now().in_tz("UTC").unwrap();
    }
    let to = format!("{:02}:{:02}", now.hour(), now.minute());
    let dir = repo(&format!(
        "timeframes:
  - name: hours
    timezone: UTC
    periods: [{{days: mon-sun, from: \"00:00\", to: \"{to}\"}}]
menus:
  - name: m
    server: pbx
    number: \"700\"
    prompts: [custom/menu]
    keys: {{1: hangup}}
    timeframe: hours
    after_hours: hangup
"
    ));
    let (_, ast) = boot(dir.path().to_str().unwrap(), "pbx");
    ast.assert_clean("the time frame repo");
    let call = Call::new("odoo-internal", "700", "100");
    let trace = &place(&ast, std::slice::from_ref(&call), 2)[0];
    assert!(
        trace.first("GotoIfTime").is_some(),
        "{}",
        shown(&call, trace)
    );
    assert!(
        trace.first("Background").is_none(),
        "closed at {to}: {}",
        shown(&call, trace)
    );
    ast.stop();
}

#[test]
fn a_queue_calls_cdr_names_the_queue_number_it_dialled() {
    require!(needs::ROOT_FOR_NETNS, needs::IP, needs::ASTERISK);
    let (_, ast) = boot("examples/company", "spb");
    let call = Call::new("odoo-internal", "600", "201");
    let trace = &place(&ast, std::slice::from_ref(&call), 2)[0];
    assert!(trace.first("Queue").is_some(), "{}", shown(&call, trace));
    // cdr_csv writes when the call ends; give it a moment.
    let queue_row = || {
        std::fs::read_to_string(ast.master_csv())
            .unwrap_or_default()
            .lines()
            .find(|l| l.contains("\"Queue\""))
            .map(str::to_owned)
    };
    let written =
        crate::asterisk::wait_until(std::time::Duration::from_secs(10), || queue_row().is_some());
    assert!(
        written,
        "no queue CDR in\n{}",
        std::fs::read_to_string(ast.master_csv()).unwrap_or_default()
    );
    let row = queue_row().unwrap();
    let fields: Vec<String> = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(row.as_bytes())
        .records()
        .next()
        .unwrap()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    // accountcode, src, dst, dcontext, ...
    assert_eq!(
        (fields[1].as_str(), fields[2].as_str(), fields[3].as_str()),
        ("201", "600", "odoo-queue-spb-support"),
        "{row}"
    );
    ast.stop();
}

#[test]
fn a_call_sent_to_a_dialplan_enters_at_its_s_extension() {
    require!(needs::ROOT_FOR_NETNS, needs::IP, needs::ASTERISK);
    let dir = repo(
        "dialplans:
  - name: custom
    server: pbx
    lines:
      - {exten: h, app: NoOp, args: [hung up]}
      - {exten: s, app: Answer}
      - {app: Wait, args: [1]}
menus: []
inbound_routes:
  - {name: r, server: pbx, did: \"+15550100\", target: {dialplan: custom}}
",
    );
    let (_, ast) = boot(dir.path().to_str().unwrap(), "pbx");
    ast.assert_clean("the dialplan repo");
    let call = Call::new("odoo-inbound", "+15550100", "+15550111");
    let trace = &place(&ast, std::slice::from_ref(&call), 2)[0];
    assert!(
        trace
            .0
            .iter()
            .any(|s| s.context == "odoo-custom-custom" && s.exten == "s" && s.app == "Answer"),
        "{}",
        shown(&call, trace)
    );
    ast.stop();
}

#[test]
fn a_name_with_commas_and_brackets_is_shown_whole_in_queue_show_and_safely_in_voicemail() {
    require!(needs::ROOT_FOR_NETNS, needs::IP, needs::ASTERISK);
    let dir = repo(
        "extensions:
  - number: \"101\"
    server: pbx
    name: \"Smith, John (Sales) [EU]\"
    secret: Secret-101-x
    voicemail: {pin: \"1234\"}
queues:
  - {name: q, server: pbx, number: \"500\", members: [\"101\"]}
",
    );
    let (_, ast) = boot(dir.path().to_str().unwrap(), "pbx");
    ast.assert_clean("the names repo");
    let queue = ast.cli("queue show q");
    assert!(
        queue.contains("Smith, John (Sales) [EU] (PJSIP/101)"),
        "{queue}"
    );
    let users = ast.cli("voicemail show users");
    assert!(users.contains("Smith John (Sales) [EU]"), "{users}");
    ast.stop();
}

//! Meaning checks on small in-memory repos: what is caught, where, and what is not.

use crate::support::{SERVER, errors, messages, validate, validate_files, warnings};

#[test]
fn the_company_example_is_valid() {
    let report =
        astbase::validate::validate_repo(std::path::Path::new("examples/company")).unwrap();
    assert_eq!(errors(&report), vec![], "{:#?}", report.diagnostics);
    assert_eq!(report.fleet.servers.len(), 2);
    assert_eq!(report.fleet.extensions.len(), 20);
    assert_eq!(report.fleet.queues.len(), 2);
    // Demo secrets are plaintext on purpose: one warning per file holding them.
    assert!(warnings(&report).iter().all(|w| w.0 == "plaintext-secret"));
    assert_eq!(warnings(&report).len(), 4);
}

#[test]
fn the_production_example_is_valid_without_warnings() {
    let report =
        astbase::validate::validate_repo(std::path::Path::new("examples/production")).unwrap();
    assert!(report.is_valid(true), "{:#?}", report.diagnostics);
}

#[test]
fn the_phonebook_refuses_shared_numbers_syntax_in_names_and_unknown_servers() {
    let text = format!(
        "{SERVER}contacts:
  - {{name: Ivan Petrov, numbers: [\"+74951234567\"]}}
  - {{name: Anna, numbers: [\"+74951234567\"], servers: [msk]}}
  - {{name: \"Eve; Dial(x)\", numbers: [\"+74950000000\"]}}
  - {{name: Bob, numbers: [\"84951234567\"]}}
  - {{name: Oleg, numbers: [\"+74957654321\"], servers: [nowhere]}}
  - {{name: Ольга Смирнова, company: Рога и Копыта, numbers: [\"+74951112233\"]}}
"
    );
    let report = validate(&text);
    assert_eq!(
        errors(&report),
        vec![
            ("duplicate-contact-number", 5, 28),
            ("invalid-format", 6, 12),
            ("invalid-format", 7, 27),
            ("unknown-reference", 8, 55),
        ],
        "{:#?}",
        report.diagnostics
    );
}

#[test]
fn every_problem_is_reported_in_one_run() {
    let text = format!(
        "{SERVER}extensions:
  - {{number: \"101\", server: msk, name: Anna, secret: {{env: A}}, ring_timout: 3}}
  - {{number: \"101\", server: msk, name: Boris, secret: {{env: B}}}}
queues:
  - {{name: sales, server: nowhere}}
  - {{name: q2, server: msk, strategy: ringal}}
"
    );
    let report = validate(&text);
    assert_eq!(
        errors(&report),
        vec![
            ("unknown-field", 4, 64),
            ("unknown-reference", 7, 27),
            ("invalid-value", 8, 39),
        ],
        "{:#?}",
        report.diagnostics
    );
}

#[test]
fn a_file_keeps_a_thousand_problems_and_text_shows_fifty_counting_the_rest_in_time_linear_in_the_line()
 {
    // Ten thousand mistakes on one flow line: each snippet costs the line's length.
    let items: Vec<String> = (0..10_000)
        .map(|i| {
            format!("{{number: \"1{i:04}\", server: msk, name: x, secret: {{env: A}}, bogus: 1}}")
        })
        .collect();
    let text = format!("{SERVER}extensions: [{}]\n", items.join(", "));
    let report = validate(&text);
    assert_eq!(report.errors(), 10_000);
    // 1,000 kept, the other 9,000 stand behind one diagnostic at the top of the file.
    assert_eq!(report.diagnostics.len(), 1_001);
    // Past the cap an item is still refused, not let into the model unchecked.
    assert_eq!(report.fleet.extensions.len(), 0);
    assert_eq!(report.fleet.broken.len(), 10_000);
    assert_eq!(
        report.diagnostics[0].message,
        "9000 more errors in this file are not listed (at most 1000 problems per file are kept)"
    );
    let started = std::time::Instant::now();
    let out = astbase::diagnostics::render_text(&report.sources, &report.diagnostics, false);
    let took = started.elapsed();
    assert_eq!(out.matches("error[too-many-problems]").count(), 1);
    assert_eq!(out.matches("error[unknown-field]").count(), 49);
    assert!(
        out.ends_with(
            "... and 951 more in fleet.yaml (the first 50 are shown; `--format json` lists up to 1000)\n\n"
        ),
        "{}",
        &out[out.len().saturating_sub(300)..]
    );
    // Unoptimised, on a slow machine, this was 56 s before the cap.
    assert!(took < std::time::Duration::from_secs(30), "{took:?}");
}

#[test]
fn calls_that_would_loop_forever_are_refused_with_the_whole_cycle() {
    let text = format!(
        "{SERVER}extensions:
  - {{number: \"101\", server: msk, name: A, secret: {{env: A}}, forward: {{always: {{extension: \"102\"}}}}}}
  - {{number: \"102\", server: msk, name: B, secret: {{env: B}}, forward: {{always: {{extension: \"101\"}}}}}}
  - {{number: \"103\", server: msk, name: C, secret: {{env: C}}, forward: {{no_answer: {{extension: \"104\"}}}}}}
  - {{number: \"104\", server: msk, name: D, secret: {{env: D}}, forward: {{no_answer: {{extension: \"103\"}}}}}}
queues:
  - {{name: q1, server: msk, members: [\"103\"], on_empty: {{queue: q2}}}}
  - {{name: q2, server: msk, members: [\"104\"], on_empty: {{queue: q1}}}}
timeframes:
  - {{name: tf, periods: [{{days: mon-fri, from: \"09:00\", to: \"18:00\"}}]}}
menus:
  - {{name: m, server: msk, prompts: [welcome], timeframe: tf, after_hours: {{menu: m}}}}
"
    );
    let report = validate(&text);
    assert_eq!(
        messages(&report, "call-loop"),
        vec![
            "calls loop on server `msk` with no caller action or wait to end it: \
             extension 101 → extension 102 (always), extension 102 → extension 101 (always)",
            "calls loop on server `msk` with no caller action or wait to end it: \
             queue `q1` → queue `q2` (when empty), queue `q2` → queue `q1` (when empty)",
            "calls loop on server `msk` with no caller action or wait to end it: \
             menu `m` → menu `m` (when closed)",
        ]
    );
    // Where each starts, and the other steps as related places: 103/104 ring first.
    assert_eq!(
        errors(&report)
            .into_iter()
            .filter(|e| e.0 == "call-loop")
            .collect::<Vec<_>>(),
        vec![
            ("call-loop", 4, 79),
            ("call-loop", 9, 57),
            ("call-loop", 14, 76)
        ]
    );
    let first = report
        .diagnostics
        .iter()
        .find(|d| d.code == "call-loop")
        .unwrap();
    assert_eq!(first.related[0].location.span.start.line, 5);
}

#[test]
fn a_tab_or_a_unicode_line_separator_is_refused_in_any_value_as_render_would() {
    for (name, what) in [
        ("Pavel\tLebedev", "a tab"),
        ("Pavel\u{2028}Lebedev", "a line separator (U+2028)"),
        ("Pavel\u{2029}Lebedev", "a paragraph separator (U+2029)"),
    ] {
        let text = format!(
            "{SERVER}extensions:\n  - {{number: \"101\", server: msk, name: \"{name}\", secret: {{env: A}}}}\n"
        );
        let report = validate(&text);
        assert_eq!(
            errors(&report),
            vec![("control-character", 4, 40)],
            "{name:?}"
        );
        assert_eq!(
            report.diagnostics[0].message,
            format!(
                "value {} contains {what}",
                astbase::diagnostics::quote(name)
            )
        );
    }
}

#[test]
fn a_value_with_white_space_at_its_ends_is_refused_as_render_would() {
    let text = format!(
        "{SERVER}extensions:\n  - {{number: \"101\", server: msk, name: \" Anna\", secret: {{env: A}}}}\n\
         dialplans:\n  - {{name: d, server: msk, lines: [{{exten: s, app: Wait, args: [{nbsp}3]}}]}}\n",
        nbsp = "\u{a0}"
    );
    let report = validate(&text);
    assert_eq!(
        errors(&report),
        vec![("surrounding-space", 4, 40), ("surrounding-space", 6, 65)]
    );
}

#[test]
fn a_time_zone_typo_is_refused_with_the_zone_meant() {
    let report = validate(
        "timeframes:\n  - {name: t, timezone: Europe/Moskow, periods: [{days: mon-fri, from: \"09:00\", to: \"18:00\"}]}\n",
    );
    assert_eq!(errors(&report), vec![("unknown-timezone", 2, 25)]);
    assert_eq!(
        report.diagnostics[0].message,
        "time zone `Europe/Moskow` is not in the tz database: Asterisk would use GMT"
    );
    assert_eq!(
        report.diagnostics[0].hint.as_deref(),
        Some("did you mean `Europe/Moscow`?")
    );
}

#[test]
fn an_ipv4_address_with_an_octet_over_255_is_refused_in_binds_and_trunk_hosts() {
    let report = validate(
        "servers:
  - name: msk
    host: local
    transports: [{name: udp, protocol: udp, bind: \"999.0.0.1:5060\"}]
trunks:
  - {name: t, server: msk, type: ip, host: 10.0.0.256, match: [10.0.0.1]}
  - {name: u, server: msk, type: ip, host: sip.example.net, match: [10.0.0.2]}
",
    );
    assert_eq!(
        errors(&report),
        vec![("invalid-address", 4, 51), ("invalid-address", 6, 44)]
    );
    assert_eq!(
        report.diagnostics[0].message,
        "`999.0.0.1` is not an IPv4 address (four numbers 0-255)"
    );
}

#[test]
fn duplicate_numbers_are_found_once_the_entities_are_valid() {
    let text = format!(
        "{SERVER}extensions:
  - {{number: \"101\", server: msk, name: Anna, secret: {{env: A}}}}
  - {{number: 101, server: msk, name: Boris, secret: {{env: B}}}}
"
    );
    let report = validate(&text);
    assert_eq!(errors(&report), vec![("duplicate-number", 5, 14)]);
    let d = &report.diagnostics[0];
    assert_eq!(d.related[0].location.span.start.line, 4);
}

#[test]
fn names_are_scoped_per_server() {
    let text = "servers:
  - {name: msk, host: local, asterisk: {conf_dir: a}}
  - {name: spb, host: local, asterisk: {conf_dir: b}}
queues:
  - {name: support, server: msk}
  - {name: support, server: spb}
  - {name: SUPPORT, server: spb}
";
    let report = validate(text);
    assert_eq!(errors(&report), vec![("duplicate-name", 7, 12)]);
}

#[test]
fn references_to_entities_with_schema_errors_are_not_reported_twice() {
    let text = format!(
        "{SERVER}queues:
  - {{name: sales, server: msk, strategy: nope}}
menus:
  - name: main
    server: msk
    prompts: [welcome]
    keys: {{1: {{queue: sales}}}}
"
    );
    let report = validate(&text);
    assert_eq!(errors(&report), vec![("invalid-value", 4, 42)]);
}

#[test]
fn a_file_that_does_not_parse_suppresses_unknown_reference_noise() {
    let report = validate_files(&[
        ("astbase.yaml", ""),
        ("a.yaml", "queues:\n  - {name: sales, server: msk\n"),
        (
            "b.yaml",
            "menus:\n  - {name: m, server: msk, prompts: [x], keys: {1: {queue: sales}}}\n",
        ),
    ]);
    let codes: Vec<&str> = errors(&report).iter().map(|e| e.0).collect();
    assert_eq!(codes, vec!["yaml"]);
}

#[test]
fn targets_are_typed_and_checked_on_the_same_server() {
    let text = format!(
        "{SERVER}extensions:
  - number: \"100\"
    server: msk
    name: Reception
    secret: {{env: A}}
    forward:
      always: {{extension: \"100\"}}
      busy: {{voicemail: \"100\"}}
      no_answer: {{dialplan: missing}}
      unavailable: {{external: \"+15551234567\"}}
"
    );
    let report = validate(&text);
    assert_eq!(
        errors(&report),
        vec![
            ("forward-loop", 9, 15),
            ("no-mailbox", 10, 25),
            ("unknown-reference", 11, 29)
        ]
    );
    assert_eq!(warnings(&report), vec![("unrouted-number", 12, 31)]);
}

#[test]
fn trunk_kinds_need_their_fields() {
    let text = format!(
        "{SERVER}trunks:
  - {{name: reg, server: msk, type: registration, host: sip.example.net}}
  - {{name: ip, server: msk, type: ip, host: 198.51.100.1}}
"
    );
    let report = validate(&text);
    let codes: Vec<_> = errors(&report);
    assert_eq!(
        codes,
        vec![
            ("missing-field", 4, 36),
            ("missing-field", 4, 36),
            ("missing-field", 5, 35)
        ]
    );
}

#[test]
fn voicemail_pins_are_digits() {
    let text = format!(
        "{SERVER}extensions:
  - {{number: \"101\", server: msk, name: A, secret: {{env: A}}, voicemail: {{pin: abcd}}}}
"
    );
    let report = validate(&text);
    assert_eq!(errors(&report), vec![("invalid-pin", 4, 78)]);
}

#[test]
fn menus_with_a_timeframe_need_an_after_hours_destination() {
    let text = format!(
        "{SERVER}timeframes:
  - {{name: hours, periods: [{{days: mon-fri, from: \"09:00\", to: \"18:00\"}}]}}
menus:
  - {{name: main, server: msk, prompts: [welcome], keys: {{1: hangup}}, timeframe: hourz}}
"
    );
    let report = validate(&text);
    assert_eq!(
        errors(&report),
        vec![("unknown-reference", 6, 81), ("missing-field", 6, 70)]
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
    );
}

#[test]
fn outbound_strip_cannot_exceed_the_fixed_digits() {
    let text = format!(
        "{SERVER}trunks:
  - {{name: t, server: msk, type: ip, host: 198.51.100.1, match: [198.51.100.1]}}
outbound_routes:
  - {{name: r, server: msk, trunks: [t], patterns: [{{match: _9X., strip: 3}}]}}
"
    );
    let report = validate(&text);
    assert_eq!(errors(&report), vec![("strip-too-long", 6, 73)]);
}

#[test]
fn a_pattern_already_in_an_earlier_route_of_the_server_is_shadowed() {
    let text = format!(
        "{SERVER}trunks:
  - {{name: t, server: msk, type: ip, host: 198.51.100.1, match: [198.51.100.1]}}
outbound_routes:
  - {{name: a, server: msk, trunks: [t], patterns: [{{match: _8X.}}, {{match: _+7X.}}]}}
  - {{name: b, server: msk, trunks: [t], patterns: [{{match: _+79X.}}, {{match: _8X.}}]}}
"
    );
    let report = validate(&text);
    assert_eq!(errors(&report), vec![]);
    assert_eq!(warnings(&report), vec![("shadowed-pattern", 7, 77)]);
    let d = &report.diagnostics[0];
    assert_eq!(
        d.message,
        "pattern `_8X.` of route `b` is also in route `a`, which takes every call it matches"
    );
    assert_eq!(d.related[0].location.span.start.line, 6);
}

#[test]
fn a_dialplan_destination_needs_an_extension_a_call_can_enter() {
    let text = format!(
        "{SERVER}dialplans:
  - name: hangup-handler
    server: msk
    lines: [{{exten: h, app: NoOp}}]
inbound_routes:
  - {{name: r, server: msk, did: \"100\", target: {{dialplan: hangup-handler}}}}
"
    );
    let report = validate(&text);
    assert_eq!(errors(&report), vec![("no-entry", 8, 59)]);
    assert_eq!(
        report.diagnostics[0].message,
        "dialplan `hangup-handler` has no `s` extension, and its first extension `h` is one \
         Asterisk runs on its own: a call sent there is dropped"
    );
}

#[test]
fn project_settings_only_in_the_root_file_and_conf_dirs_absolute_for_remote_hosts() {
    let report = validate_files(&[
        ("astbase.yaml", "project: {conf_dir: etc/asterisk}\n"),
        (
            "servers.yaml",
            "servers:\n  - {name: a, host: pbx.example.com}\n",
        ),
    ]);
    assert_eq!(errors(&report), vec![("relative-conf-dir", 1, 21)]);
}

#[test]
fn two_servers_cannot_share_a_conf_dir_or_systemname() {
    let text = "servers:
  - {name: a, host: pbx.example.com}
  - {name: b, host: pbx.example.com, systemname: a}
";
    let report = validate(text);
    let codes: Vec<&str> = errors(&report).iter().map(|e| e.0).collect();
    assert_eq!(codes, vec!["duplicate-systemname", "shared-conf-dir"]);
}

#[test]
fn conf_dirs_and_hosts_spelled_differently_are_still_one_place_but_ssh_ports_tell_hosts_apart() {
    let text = "servers:
  - {name: a, host: pbx.example.com, asterisk: {conf_dir: /etc/asterisk}}
  - {name: b, host: PBX.example.com, asterisk: {conf_dir: /etc/asterisk/}}
  - {name: c, host: local, asterisk: {conf_dir: hosts/pbx}}
  - {name: d, host: local, asterisk: {conf_dir: ./hosts/pbx}}
  - {name: e, host: 203.0.113.9, ssh: {port: 2201}}
  - {name: f, host: 203.0.113.9, ssh: {port: 2202}}
";
    let report = validate(text);
    assert_eq!(
        errors(&report),
        vec![("shared-conf-dir", 3, 12), ("shared-conf-dir", 5, 12)]
    );
}

#[test]
fn secrets_never_appear_in_rendered_diagnostics() {
    let text = format!(
        "{SERVER}extensions:
  - {{number: \"101\", server: msk, name: A, secret: s3cr3t-value-1, voicemail: {{pin: \"9876\"}}}}
trunks:
  - {{name: t, server: msk, type: registration, host: sip.example.net, username: u, secret: another-s3cr3t, unknown: 1}}
"
    );
    let report = validate(&text);
    let text = astbase::diagnostics::render_text(&report.sources, &report.diagnostics, false);
    let json = astbase::diagnostics::render_json(&report.sources, &report.diagnostics, false);
    for secret in ["s3cr3t-value-1", "9876", "another-s3cr3t"] {
        assert!(!text.contains(secret), "{secret} leaked into:\n{text}");
        assert!(!json.contains(secret), "{secret} leaked into JSON");
    }
    assert!(text.contains("unknown field `unknown`"), "{text}");
}

#[test]
fn unquoted_numbers_and_leading_zeros() {
    let text = format!(
        "{SERVER}extensions:
  - {{number: 101, server: msk, name: A, secret: {{env: A}}}}
  - {{number: 0102, server: msk, name: B, secret: {{env: B}}}}
"
    );
    let report = validate(&text);
    assert_eq!(errors(&report), vec![]);
    let numbers: Vec<&str> = report
        .fleet
        .extensions
        .iter()
        .map(|e| e.number.as_str())
        .collect();
    assert_eq!(numbers, vec!["101", "0102"]);
}

#[test]
fn files_merge_into_one_fleet() {
    let report = validate_files(&[
        ("astbase.yaml", SERVER),
        (
            "a.yaml",
            "extensions:\n  - {number: \"101\", server: msk, name: A, secret: {env: A}}\n",
        ),
        (
            "b.yaml",
            "queues:\n  - {name: q, server: msk, members: [\"101\"]}\n",
        ),
    ]);
    assert!(report.is_valid(true), "{:#?}", report.diagnostics);
    assert_eq!(report.fleet.extensions[0].origin.file.0, 1);
    assert_eq!(report.fleet.queues[0].origin.file.0, 2);
}

#[test]
fn a_linked_yaml_file_is_read_when_it_stays_in_the_repo_and_refused_when_it_leaves() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("repo");
    std::fs::create_dir_all(root.join("shared")).unwrap();
    std::fs::write(root.join("astbase.yaml"), "").unwrap();
    std::fs::write(root.join("servers.yaml"), SERVER).unwrap();
    std::fs::write(
        root.join("shared/ext.yml.txt"),
        "extensions:\n  - {number: \"101\", server: msk, name: Anna, secret: {env: A}}\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(root.join("shared/ext.yml.txt"), root.join("ext.yaml")).unwrap();
    let report = astbase::validate::validate_repo(&root).unwrap();
    assert_eq!(report.errors(), 0);
    assert_eq!(report.fleet.extensions.len(), 1, "the linked file is read");

    let outside = dir.path().join("outside.yaml");
    std::fs::write(&outside, "extensions: []\n").unwrap();
    std::os::unix::fs::symlink(&outside, root.join("more.yaml")).unwrap();
    let err = astbase::validate::validate_repo(&root).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{} is a symbolic link to {}, outside the repository",
            root.join("more.yaml").display(),
            std::fs::canonicalize(&outside).unwrap().display()
        )
    );
}

#[test]
fn prompts_and_templates_stay_inside_their_directories() {
    let report = validate_files(&[
        ("astbase.yaml", "project: {templates_dir: ../../etc}\n"),
        (
            "fleet.yaml",
            "servers: [{name: msk, host: local}]\nmenus:\n  - {name: m, server: msk, prompts: [custom/../../../../etc/shadow]}\n",
        ),
    ]);
    assert_eq!(
        errors(&report),
        vec![("outside-repo", 1, 26), ("unsafe-path", 3, 38)]
    );
}

#[test]
fn secret_files_outside_the_repository_are_refused_at_the_path() {
    let report = validate_files(&[
        ("astbase.yaml", ""),
        (
            "fleet.yaml",
            "servers: [{name: msk, host: local}]\n\
             extensions:\n  - {number: \"1\", server: msk, name: A, secret: {file: /root/.ssh/id_rsa}}\n\
             trunks:\n  - {name: t, server: msk, type: registration, host: sip.example.net, username: u, secret: {file: secrets/../../pw}}\n  \
             - {name: t2, server: msk, type: registration, host: sip.example.net, username: u, secret: {file: secrets/./../pw}}\n",
        ),
    ]);
    assert_eq!(
        errors(&report),
        vec![("outside-repo", 3, 56), ("outside-repo", 5, 99)]
    );
}

#[test]
fn an_invalid_glob_is_reported_at_its_line_in_text_and_json() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("astbase.yaml"),
        "project:\n  exclude: [\"a[b\"]\n",
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_astbase"))
        .args(["validate", "--format", "json", "--repo"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let d = &report["diagnostics"][0];
    assert_eq!(
        (d["code"].as_str(), d["line"].as_u64(), d["column"].as_u64()),
        (Some("invalid-glob"), Some(2), Some(13))
    );
    assert_eq!(
        d["message"],
        "invalid glob `a[b`: unclosed character class; missing ']'"
    );
}

#[test]
fn lengths_once_written_in_patterns_are_still_limits() {
    let long_name = "A".repeat(61);
    let long_env = "E".repeat(129);
    let long_host = format!("{}.example.com", "h".repeat(242));
    let text = format!(
        "{SERVER}contacts:
  - {{name: {long_name}, numbers: [\"+74951234567\"]}}
  - {{name: {}, numbers: [\"+74951234568\"]}}
extensions:
  - {{number: \"101\", server: msk, name: Anna, secret: {{env: {long_env}}}}}
trunks:
  - {{name: up, server: msk, type: registration, host: {long_host}, username: u, secret: {{env: T}}}}
",
        "A".repeat(60)
    );
    let report = validate(&text);
    assert_eq!(
        messages(&report, "too-long"),
        vec![
            "text is longer than 60 characters",
            "text is longer than 128 characters",
            "text is longer than 253 characters",
        ],
        "{:#?}",
        report.diagnostics
    );
    assert_eq!(errors(&report).len(), 3, "{:#?}", report.diagnostics);
}

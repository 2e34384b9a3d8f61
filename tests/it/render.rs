//! Rendering: the whole output of the company example (snapshots), its structure as
//! Asterisk would read it, determinism, secrets, template overrides.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use astbase::conf::{self, ConfFile};
use astbase::render::{
    RenderError, RenderOptions, SecretSource, ServerOutput, TemplateOverrides, render_fleet,
};
use astbase::validate::{Report, validate_repo};

fn company() -> Report {
    let report = validate_repo(Path::new("examples/company")).unwrap();
    assert_eq!(report.errors(), 0);
    report
}

fn render_with(
    report: &Report,
    secrets: SecretSource,
    servers: &[&str],
) -> Result<Vec<ServerOutput>, RenderError> {
    let templates = match &report.fleet.project.templates_dir {
        Some(dir) => TemplateOverrides::read_dir(&report.sources.root.join(dir))?,
        None => TemplateOverrides::none(),
    };
    let options = RenderOptions {
        source_label: "working tree".into(),
        servers: servers.iter().map(|s| s.to_string()).collect(),
        secrets,
        templates,
    };
    render_fleet(&report.fleet, &report.sources, &options)
}

fn render(report: &Report) -> Vec<ServerOutput> {
    let secrets = SecretSource::with_env(&report.sources.root, |_| None);
    render_with(report, secrets, &[]).unwrap()
}

#[test]
fn company_output_snapshots() {
    for server in render(&company()) {
        for file in &server.files {
            insta::assert_snapshot!(format!("{}__{}", server.server, file.name), &file.content);
        }
    }
}

#[test]
fn rendering_is_deterministic() {
    let report = company();
    assert_eq!(render(&report), render(&report));
    let again = company();
    assert_eq!(render(&report), render(&again));
}

#[test]
fn each_server_gets_only_the_files_it_needs_and_their_include_lines() {
    let text = "servers:\n  - {name: a, host: local, asterisk: {conf_dir: a}}\nextensions:\n  - {number: \"1\", server: a, name: A, secret: x-secret-1}\n";
    let report = crate::support::validate_files(&[("astbase.yaml", ""), ("f.yaml", text)]);
    let out = render(&report);
    let names: Vec<&str> = out[0].files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, vec!["pjsip_odoo.conf", "extensions_odoo.conf"]);
    let includes: Vec<(&str, &str)> = out[0]
        .files
        .iter()
        .filter_map(|f| f.include.as_ref())
        .map(|i| (i.base.as_str(), i.line.as_str()))
        .collect();
    assert_eq!(
        includes,
        vec![
            ("pjsip.conf", "#tryinclude pjsip_odoo.conf"),
            ("extensions.conf", "#tryinclude extensions_odoo.conf")
        ]
    );
}

/// What Asterisk would load from one server's files.
struct Loaded {
    pjsip: ConfFile,
    dialplan: ConfFile,
    queues: Option<ConfFile>,
    parking: Option<ConfFile>,
}

fn load(server: &ServerOutput) -> Loaded {
    let file = |name: &str| {
        server
            .files
            .iter()
            .find(|f| f.name == name)
            .map(|f| f.content.as_str())
    };
    for f in &server.files {
        let parsed = conf::parse(&f.content);
        assert!(
            parsed.problems.is_empty(),
            "{} of {}: {:?}",
            f.name,
            server.server,
            parsed.problems
        );
        for (i, line) in f.content.lines().enumerate() {
            assert!(
                line.len() < conf::MAX_LINE_BYTES,
                "{}:{} too long",
                f.name,
                i + 1
            );
        }
        // The first thing Asterisk reads must be a section: keys before one would join the
        // including file's last section.
        let first = f
            .content
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with(';'));
        assert!(
            first.is_some_and(|l| l.starts_with('[')),
            "{} does not start with a section",
            f.name
        );
    }
    Loaded {
        pjsip: conf::parse(file("pjsip_odoo.conf").unwrap()),
        dialplan: conf::parse(file("extensions_odoo.conf").unwrap()),
        queues: file("queues_odoo.conf").map(conf::parse),
        parking: file("res_parking_odoo.conf").map(conf::parse),
    }
}

#[test]
fn rendered_configs_hold_together_as_asterisk_reads_them() {
    for server in render(&company()) {
        let loaded = load(&server);
        structural_checks(&server.server, &loaded);
    }
}

fn structural_checks(server: &str, loaded: &Loaded) {
    // PJSIP: no duplicate id within a type; endpoints' auth/aors exist.
    let mut by_type: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for s in &loaded.pjsip.sections {
        let kind = s
            .get("type")
            .unwrap_or_else(|| panic!("{server}: [{}] has no type", s.name));
        assert!(
            by_type.entry(kind).or_default().insert(&s.name),
            "{server}: duplicate {kind} {}",
            s.name
        );
    }
    let ids = |t: &str| by_type.get(t).cloned().unwrap_or_default();
    let (auths, aors, endpoints, transports) =
        (ids("auth"), ids("aor"), ids("endpoint"), ids("transport"));
    for s in loaded
        .pjsip
        .sections
        .iter()
        .filter(|s| s.get("type") == Some("endpoint"))
    {
        for key in ["auth", "outbound_auth"] {
            if let Some(a) = s.get(key) {
                assert!(
                    auths.contains(a),
                    "{server}: endpoint {} names missing auth {a}",
                    s.name
                );
            }
        }
        let aor = s
            .get("aors")
            .unwrap_or_else(|| panic!("{server}: endpoint {} has no aors", s.name));
        assert!(
            aors.contains(aor),
            "{server}: endpoint {} names missing aor {aor}",
            s.name
        );
        if let Some(t) = s.get("transport") {
            assert!(
                transports.contains(t),
                "{server}: endpoint {} names missing transport {t}",
                s.name
            );
        }
        for (key, value) in s.vars.iter().map(|v| (v.key.as_str(), v.value.as_str())) {
            assert!(
                !matches!(value, "maybe" | ""),
                "{server}: endpoint {} has an empty or invalid {key}",
                s.name
            );
        }
    }
    for s in loaded
        .pjsip
        .sections
        .iter()
        .filter(|s| matches!(s.get("type"), Some("identify" | "registration")))
    {
        let e = s.get("endpoint").unwrap();
        assert!(
            endpoints.contains(e),
            "{server}: {} names missing endpoint {e}",
            s.name
        );
    }

    // Dialplan: every context an endpoint, Goto, Gosub or include names exists, and every
    // Goto target extension exists in it; every Dial/Queue target is an endpoint/queue.
    let contexts: BTreeMap<&str, Vec<(String, Option<String>)>> = {
        let mut map: BTreeMap<&str, Vec<(String, Option<String>)>> = BTreeMap::new();
        for s in &loaded.dialplan.sections {
            let mut current = None::<String>;
            let entry = map.entry(s.name.as_str()).or_default();
            for v in &s.vars {
                if let Some(step) = conf::dialplan_step(&v.key, &v.value) {
                    if let Some(e) = &step.exten {
                        current = Some(e.split('/').next().unwrap().to_owned());
                    }
                    entry.push((
                        current.clone().expect("first line is exten =>"),
                        step.label.clone(),
                    ));
                }
            }
        }
        // res_parking creates each lot's context with its park number and slots.
        for lot in loaded.parking.iter().flat_map(|p| &p.sections) {
            let entry = map.entry(lot.get("context").unwrap()).or_default();
            entry.push((lot.get("parkext").unwrap().to_owned(), None));
            let (first, last) = lot.get("parkpos").unwrap().split_once('-').unwrap();
            let (first, last): (u64, u64) = (first.parse().unwrap(), last.parse().unwrap());
            entry.extend((first..=last).map(|n| (n.to_string(), None)));
        }
        map
    };
    let queue_names: BTreeSet<&str> = loaded
        .queues
        .iter()
        .flat_map(|q| q.sections.iter().map(|s| s.name.as_str()))
        .collect();
    for s in loaded
        .pjsip
        .sections
        .iter()
        .filter(|s| s.get("type") == Some("endpoint"))
    {
        let ctx = s.get("context").unwrap();
        assert!(
            contexts.contains_key(ctx),
            "{server}: endpoint {} uses missing context {ctx}",
            s.name
        );
    }
    let mut gotos = 0;
    for section in &loaded.dialplan.sections {
        for v in &section.vars {
            if v.key == "include" {
                assert!(
                    contexts.contains_key(v.value.as_str()),
                    "{server}: include of missing {}",
                    v.value
                );
                continue;
            }
            let Some(step) = conf::dialplan_step(&v.key, &v.value) else {
                continue;
            };
            let apps: Vec<(String, String)> = if step.app == "ExecIf" {
                // ExecIf(cond?App(args)): check the inner application too.
                let inner = step.data.split_once('?').map(|(_, a)| a).unwrap_or("");
                match conf::dialplan_step("same", &format!("n,{inner}")) {
                    Some(i) => vec![(i.app, i.data)],
                    None => vec![],
                }
            } else {
                vec![(step.app.clone(), step.data.clone())]
            };
            for (app, data) in apps {
                let args = conf::separate_args(&data);
                match app.as_str() {
                    "Goto" | "Gosub" if args.len() == 3 => {
                        let ctx = args[0].as_str();
                        let exten = args[1].as_str();
                        let extens = contexts
                            .get(ctx)
                            .unwrap_or_else(|| panic!("{server}: {app} to missing context {ctx}"));
                        // `Goto(route,${EXTEN},1)` from a pattern: the route has the pattern.
                        let own = step.exten.as_deref().unwrap_or("");
                        let found = extens.iter().any(|(e, _)| e == exten)
                            || (exten == "${EXTEN}" && extens.iter().any(|(e, _)| e == own))
                            || (ctx.ends_with("-outbound") && !exten.starts_with('_'))
                            // A forward a user set: checked with DIALPLAN_EXISTS when set.
                            || exten == "${ODOO_FWD}"
                            // The caller's own extension, with a pattern for strangers.
                            || (exten == "${CALLERID(num)}" && extens.iter().any(|(e, _)| e.starts_with('_')));
                        assert!(found, "{server}: {app}({data}) names a missing extension");
                        gotos += 1;
                    }
                    "Goto" | "Gosub" if args.len() == 1 => {
                        // A label in the same context.
                        let label = args[0].as_str();
                        let labels: Vec<_> = contexts[section.name.as_str()]
                            .iter()
                            .filter_map(|(_, l)| l.clone())
                            .collect();
                        assert!(
                            labels.iter().any(|l| l == label),
                            "{server}: Goto({label}) to a missing label"
                        );
                    }
                    "Dial" => {
                        // One device or several joined with `&` (a ring group's step).
                        for device in args[0].split('&') {
                            if let Some(target) = device.strip_prefix("PJSIP/") {
                                let endpoint = target.rsplit('@').next().unwrap();
                                assert!(
                                    endpoints.contains(endpoint),
                                    "{server}: Dial to missing endpoint {endpoint}"
                                );
                            } else if let Some(local) = device.strip_prefix("Local/") {
                                let (exten, ctx) = local.split_once('@').unwrap();
                                let extens = contexts.get(ctx).unwrap_or_else(|| {
                                    panic!("{server}: Dial({device}) to missing context {ctx}")
                                });
                                let found = extens.iter().any(|(e, _)| e == exten)
                                    || ctx.ends_with("-outbound");
                                assert!(found, "{server}: Dial({device}) to a missing extension");
                                gotos += 1;
                            }
                        }
                    }
                    "Queue" => {
                        assert!(
                            queue_names.contains(args[0].as_str()),
                            "{server}: Queue({}) is not in queues",
                            args[0]
                        );
                    }
                    _ => {}
                }
            }
        }
    }
    assert!(gotos > 10, "{server}: only {gotos} Goto checked");

    // Queues: every member is an endpoint.
    for q in loaded.queues.iter().flat_map(|q| q.sections.iter()) {
        for member in q.get_all("member") {
            let interface = conf::separate_args(member)[0].clone();
            let endpoint = interface.strip_prefix("PJSIP/").unwrap();
            assert!(
                endpoints.contains(endpoint),
                "{server}: queue {} member {endpoint} is no endpoint",
                q.name
            );
        }
    }
}

#[test]
fn missing_secrets_name_the_entity_and_the_variable() {
    let report = validate_repo(Path::new("examples/production")).unwrap();
    let secrets = SecretSource::with_env(&report.sources.root, |name| match name {
        "EXT_1002_SECRET" => None,
        n if n.ends_with("_PIN") => Some("2468".to_owned()),
        _ => Some("s3cret-Value".to_owned()),
    });
    let err = render_with(&report, secrets, &["hq"]).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("extension 1002 on server `hq`"),
        "{message}"
    );
    assert!(message.contains("EXT_1002_SECRET is not set"), "{message}");
}

#[test]
fn secrets_from_env_and_files_are_used_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("astbase.yaml"), "").unwrap();
    std::fs::write(dir.path().join("trunk.pw"), "  file-Secret-9\n").unwrap();
    std::fs::write(
        dir.path().join("f.yaml"),
        "servers:\n  - {name: a, host: local, asterisk: {conf_dir: a}}\n\
         extensions:\n  - {number: \"1\", server: a, name: A, secret: {env: PW1}, voicemail: {pin: {env: PIN1}}}\n\
         trunks:\n  - {name: t, server: a, type: registration, host: sip.example.net, username: u, secret: {file: trunk.pw}}\n",
    )
    .unwrap();
    let report = validate_repo(dir.path()).unwrap();
    assert!(report.is_valid(true), "{:#?}", report.diagnostics);
    let env = |pin: &'static str| {
        move |name: &str| match name {
            "PW1" => Some("env-Secret;1".to_owned()),
            "PIN1" => Some(pin.to_owned()),
            _ => None,
        }
    };
    let secrets = SecretSource::with_env(dir.path(), env("4321"));
    let out = render_with(&report, secrets, &[]).unwrap();
    let pjsip = &out[0].files[0].content;
    assert!(pjsip.contains("password=env-Secret\\;1"), "{pjsip}");
    assert!(pjsip.contains("password=file-Secret-9"), "{pjsip}");
    let parsed = conf::parse(pjsip);
    assert!(
        parsed
            .sections
            .iter()
            .any(|s| s.get("password") == Some("env-Secret;1"))
    );
    // A PIN that is not digits, or a secret with a line break, is refused.
    let err = render_with(
        &report,
        SecretSource::with_env(dir.path(), env("12a4")),
        &[],
    )
    .unwrap_err();
    assert!(err.to_string().contains("voicemail.pin"), "{err}");
    let bad = SecretSource::with_env(dir.path(), |n| {
        Some(if n == "PW1" { "a\nb" } else { "1234" }.to_owned())
    });
    let err = render_with(&report, bad, &[]).unwrap_err();
    assert!(err.to_string().contains("control character"), "{err}");
}

#[test]
fn a_secret_file_linked_to_outside_the_repository_is_not_read() {
    let outer = tempfile::tempdir().unwrap();
    let dir = outer.path().join("repo");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(outer.path().join("private"), "not-for-the-pbx\n").unwrap();
    std::os::unix::fs::symlink("../private", dir.join("trunk.pw")).unwrap();
    std::fs::write(dir.join("astbase.yaml"), "").unwrap();
    std::fs::write(
        dir.join("f.yaml"),
        "servers:\n  - {name: a, host: local, asterisk: {conf_dir: a}}\n\
         trunks:\n  - {name: t, server: a, type: registration, host: sip.example.net, username: u, secret: {file: trunk.pw}}\n",
    )
    .unwrap();
    let report = validate_repo(&dir).unwrap();
    assert!(report.is_valid(true), "{:#?}", report.diagnostics);
    let err = render_with(&report, SecretSource::with_env(&dir, |_| None), &[]).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "trunk t on server `a`: cannot resolve secret: secret file {} leads outside the repository (to {})",
            dir.join("trunk.pw").display(),
            outer
                .path()
                .canonicalize()
                .unwrap()
                .join("private")
                .display()
        )
    );
}

#[test]
fn an_offline_render_takes_a_mailbox_pin_from_the_environment_as_its_placeholder() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("astbase.yaml"), "").unwrap();
    std::fs::write(
        dir.path().join("f.yaml"),
        "servers:\n  - {name: a, host: local, asterisk: {conf_dir: a}}\n\
         extensions:\n  - {number: \"1\", server: a, name: A, secret: {env: PW1}, voicemail: {pin: {env: PIN1}}}\n",
    )
    .unwrap();
    let report = validate_repo(dir.path()).unwrap();
    let out = render_with(&report, SecretSource::placeholders(dir.path()), &[]).unwrap();
    let vm = out[0]
        .files
        .iter()
        .find(|f| f.name.starts_with("voicemail"))
        .unwrap();
    assert!(vm.content.contains("1 => ********,A"), "{}", vm.content);
    // A plaintext PIN that is not digits is still refused.
    let bad = dir.path().join("f.yaml");
    std::fs::write(
        &bad,
        "servers:\n  - {name: a, host: local, asterisk: {conf_dir: a}}\n\
         extensions:\n  - {number: \"1\", server: a, name: A, secret: {env: PW1}, voicemail: {pin: \"********\"}}\n",
    )
    .unwrap();
    let report = validate_repo(dir.path()).unwrap();
    let err = render_with(&report, SecretSource::placeholders(dir.path()), &[]);
    assert!(err.is_err());
}

#[test]
fn template_overrides_are_used_and_unknown_ones_refused() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("astbase.yaml"), "project: {templates_dir: tpl}\n").unwrap();
    std::fs::create_dir(root.join("tpl")).unwrap();
    std::fs::write(
        root.join("tpl/musiconhold.conf.j2"),
        "\n[custom]\nmode=files\ndirectory={{ moh[0].directory }}\n",
    )
    .unwrap();
    std::fs::write(
        root.join("f.yaml"),
        "servers:\n  - {name: a, host: local, asterisk: {conf_dir: a}}\nmusic_on_hold:\n  - {name: m, directory: moh/m}\n",
    )
    .unwrap();
    let report = validate_repo(root).unwrap();
    assert_eq!(report.errors(), 0, "{:#?}", report.diagnostics);
    let out = render(&report);
    let moh = out[0]
        .files
        .iter()
        .find(|f| f.name == "musiconhold_odoo.conf")
        .unwrap();
    assert!(
        moh.content
            .ends_with("\n[custom]\nmode=files\ndirectory=moh/m\n"),
        "{}",
        moh.content
    );

    // A dialplan override cannot write unescaped text.
    std::fs::write(
        root.join("tpl/extensions.conf.j2"),
        "[x]\nexten => s,1,NoOp({{ moh[0].directory }})\n",
    )
    .unwrap();
    let err = render_with(&report, SecretSource::with_env(root, |_| None), &[]).unwrap_err();
    assert!(
        err.to_string()
            .contains("only writes values escaped for the dialplan"),
        "{err}"
    );
    std::fs::write(
        root.join("tpl/extensions.conf.j2"),
        "[x]\nexten => s,1,NoOp({{ moh[0].directory | app_arg }})\n",
    )
    .unwrap();
    assert!(render_with(&report, SecretSource::with_env(root, |_| None), &[]).is_ok());

    // Strict undefined variables.
    std::fs::write(
        root.join("tpl/extensions.conf.j2"),
        "[x]\n{{ no_such_thing }}\n",
    )
    .unwrap();
    let err = render_with(&report, SecretSource::with_env(root, |_| None), &[]).unwrap_err();
    assert!(err.to_string().contains("undefined"), "{err}");

    std::fs::remove_file(root.join("tpl/extensions.conf.j2")).unwrap();
    std::fs::write(root.join("tpl/sip.conf.j2"), "").unwrap();
    let err = render_with(&report, SecretSource::with_env(root, |_| None), &[]).unwrap_err();
    assert!(
        err.to_string()
            .contains("`sip.conf.j2` overrides no template"),
        "{err}"
    );
}

#[test]
fn render_command_writes_private_files_and_removes_stale_ones() {
    use std::os::unix::fs::PermissionsExt;
    let out = tempfile::tempdir().unwrap();
    let render = |out: &Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_astbase"))
            .args(["render", "--repo", "examples/company", "--out"])
            .arg(out)
            .output()
            .unwrap()
    };
    let status = render(out.path());
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let stdout = String::from_utf8_lossy(&status.stdout);
    assert!(stdout.contains("rendered 2 server(s)"), "{stdout}");
    let pjsip = out.path().join("msk/pjsip_odoo.conf");
    assert_eq!(
        std::fs::metadata(&pjsip).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let includes = std::fs::read_to_string(out.path().join("msk/includes.txt")).unwrap();
    assert!(includes.contains("pjsip.conf: #tryinclude pjsip_odoo.conf"));
    // A file an earlier render wrote (its manifest says so) goes; one it did not, stays.
    let spb = out.path().join("spb");
    let manifest = spb.join(".astbase-rendered");
    let listed = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, format!("{listed}old_odoo.conf\n")).unwrap();
    std::fs::write(spb.join("old_odoo.conf"), "").unwrap();
    std::fs::write(spb.join("mine_odoo.conf"), "mine").unwrap();
    // A link planted where a generated file goes is replaced, never written through.
    let target = out.path().join("elsewhere.txt");
    std::fs::write(&target, "untouched").unwrap();
    std::fs::remove_file(spb.join("pjsip_odoo.conf")).unwrap();
    std::os::unix::fs::symlink(&target, spb.join("pjsip_odoo.conf")).unwrap();
    let status = render(out.path());
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    assert!(!spb.join("old_odoo.conf").exists());
    assert_eq!(
        std::fs::read_to_string(spb.join("mine_odoo.conf")).unwrap(),
        "mine"
    );
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "untouched");
    assert!(!spb.join("pjsip_odoo.conf").is_symlink());
    // An includes.txt of the user's own is not overwritten: the render refuses.
    let fresh = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(fresh.path().join("msk")).unwrap();
    std::fs::write(fresh.path().join("msk/includes.txt"), "my notes").unwrap();
    let status = render(fresh.path());
    assert_eq!(status.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&status.stderr)
            .contains("includes.txt exists and astbase did not write it"),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(fresh.path().join("msk/includes.txt")).unwrap(),
        "my notes"
    );
    // An invalid repo renders nothing and says why.
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_astbase"))
        .args([
            "render",
            "--repo",
            "examples/invalid/unknown-target",
            "--out",
        ])
        .arg(out.path())
        .output()
        .unwrap();
    assert_eq!(status.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&status.stderr).contains("no queue `sale` on server `msk`"));
}

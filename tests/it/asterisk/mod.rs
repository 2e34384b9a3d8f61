//! A real Asterisk 22 for tests: a throw-away instance per test, in a network namespace of
//! its own whose only interface is loopback (rendered configs name trunk hosts and public
//! addresses, and nothing may leave the machine), with every directory under a temp dir.
//!
//! The instance gets the base files a stock install would have (minimal, so that its log
//! holds only what the files under test cause), the generated files, and the include
//! lines astbase adds. Its log (`messages.log`, notices and up) is what tests judge:
//! [`Asterisk::problems`] lists every ERROR and WARNING line.
//!
//! Calls: [`Asterisk::originate`] starts a Local channel into a context of the dialplan
//! (as AMI Originate would), and the CDRs written to `Master.csv` tell where it went.
//!
//! Needs root (network namespaces) and `asterisk` from `../shared/asterisk/install.sh`:
//! gate a test with `require!(needs::ROOT_FOR_NETNS, needs::IP, needs::ASTERISK)`.

pub mod calls;

use std::path::{Path, PathBuf};

use astbase::render::{RenderOptions, SecretSource, ServerOutput, TemplateOverrides, render_fleet};
use astbase::validate::{Report, validate_repo};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::netns::Netns;

/// Where install.sh puts the modules and the XML documentation Asterisk needs at start.
const MODULES: &str = "/opt/asterisk/lib/asterisk/modules";
const DOCUMENTATION: &str = "/opt/asterisk/var/lib/asterisk/documentation";

/// Modules not loaded: they need config files or services a PBX of astbase's does not
/// have, and would fill the log with complaints that have nothing to do with the files
/// under test.
const NOLOAD: &[&str] = &[
    "res_config_pgsql",
    "res_config_sqlite3",
    "res_statsd",
    "res_geolocation",
    "res_pjsip_geolocation",
    "res_pjsip_config_wizard",
    "res_aeap",
    "res_speech_aeap",
    "res_websocket_client",
    "chan_websocket",
    "res_crypto",
    "res_stun_monitor",
    "res_phoneprov",
    "res_pjsip_phoneprov_provider",
    "chan_iax2",
    "res_ari",
    "res_ari_bridges",
    "res_ari_device_states",
    "res_ari_events",
    "res_ari_applications",
    "res_ari_channels",
    "res_ari_sounds",
    "res_ari_recordings",
    "res_ari_playbacks",
    "res_ari_endpoints",
    "res_ari_asterisk",
    "app_stasis",
    "res_stasis_broadcast",
    "app_stasis_broadcast",
    "res_hep",
    "res_hep_rtcp",
    "res_hep_pjsip",
    "res_pjsip_notify",
    "app_agent_pool",
    "res_calendar",
    "cel_pgsql",
    "cel_manager",
    "cdr_pgsql",
    "cel_custom",
    "cel_sqlite3_custom",
    "cdr_custom",
    "cdr_sqlite3_custom",
    "res_http_media_cache",
    "app_festival",
    "pbx_dundi",
    "chan_unistim",
    "res_clialiases",
    "app_minivm",
    "app_amd",
    "res_prometheus",
    "res_adsi",
    "app_adsiprog",
    "app_getcpeid",
    "res_smdi",
    "app_alarmreceiver",
    "func_aes",
    "pbx_ael",
];

/// The AMI account of every instance (AMI listens on 127.0.0.1:5038 inside the namespace).
pub const AMI_USER: &str = "astbase";
pub const AMI_SECRET: &str = "test-secret";

/// The environment that points astbase's agent and call control at an instance's AMI
/// (run them inside its namespace).
pub fn ami_env() -> [(&'static str, &'static str); 4] {
    [
        ("MANAGER_HOST", "127.0.0.1"),
        ("MANAGER_PORT", "5038"),
        ("MANAGER_LOGIN", AMI_USER),
        ("MANAGER_PASSWORD", AMI_SECRET),
    ]
}

/// Polls `done` every 100 ms until it holds (true) or `limit` passes (false).
pub fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while !done() {
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    true
}

/// modules.conf as the tests load modules, with `load` loaded after all (a PBX that uses
/// the PJSIP wizard loads res_pjsip_config_wizard; without its file it warns).
pub fn modules_conf_loading(load: &[&str]) -> (String, String) {
    let text = std::iter::once("[modules]\nautoload=yes\n".to_owned())
        .chain(
            NOLOAD
                .iter()
                .filter(|m| !load.contains(m))
                .map(|m| format!("noload => {m}.so\n")),
        )
        .collect();
    ("modules.conf".to_owned(), text)
}

/// Base files of a stock install that the tests do not vary.
fn base_files(dir: &Path) -> Vec<(&'static str, String)> {
    let d = dir.display();
    vec![
        (
            "asterisk.conf",
            format!(
                "[directories]\nastetcdir => {d}/etc\nastmoddir => {MODULES}\n\
                 astvarlibdir => {d}/lib\nastdbdir => {d}/lib\nastkeydir => {d}/lib\n\
                 astdatadir => {d}/data\nastagidir => {d}/data/agi-bin\n\
                 astspooldir => {d}/spool\nastrundir => {d}/run\nastlogdir => {d}/log\n\
                 astsbindir => /opt/asterisk/sbin\n\
                 [options]\n\
                 ; No ethernet device in the namespace to derive an entity id from.\n\
                 entityid = 02:00:00:00:00:01\n"
            ),
        ),
        (
            "modules.conf",
            std::iter::once("[modules]\nautoload=yes\n".to_owned())
                .chain(NOLOAD.iter().map(|m| format!("noload => {m}.so\n")))
                .collect(),
        ),
        (
            "logger.conf",
            "[general]\n[logfiles]\nmessages.log => notice,warning,error\n".to_owned(),
        ),
        (
            "manager.conf",
            format!(
                "[general]\nenabled=yes\nport=5038\nbindaddr=127.0.0.1\n\n\
                 [{AMI_USER}]\nsecret={AMI_SECRET}\nread=all\nwrite=all\n"
            ),
        ),
        (
            "cdr.conf",
            "[general]\nenable=yes\n\n[csv]\nusegmtime=no\nloguniqueid=yes\nloguserfield=yes\nnewcdrcolumns=yes\n"
                .to_owned(),
        ),
        (
            "cdr_manager.conf",
            "[general]\nenabled=yes\n\n[mappings]\nlinkedid => LinkedID\nsequence => Sequence\npeeraccount => PeerAccount\n"
                .to_owned(),
        ),
        (
            "indications.conf",
            "[general]\ncountry=us\n\n[us]\ndescription=United States\n\
             ringcadence=2000,4000\ndial=350+440\nbusy=480+620/500,0/500\n\
             ring=440+480/2000,0/4000\ncongestion=480+620/250,0/250\n\
             callwaiting=440/300,0/10000\nrecord=1400/500,0/15000\ninfo=!950/330,!1400/330,!1800/330,0\n"
                .to_owned(),
        ),
        ("acl.conf", String::new()),
        ("cel.conf", "[general]\n".to_owned()),
        ("features.conf", "[general]\n".to_owned()),
        ("udptl.conf", "[general]\n".to_owned()),
        ("ccss.conf", "[general]\n".to_owned()),
        ("res_parking.conf", "[general]\n".to_owned()),
        ("confbridge.conf", "[general]\n".to_owned()),
        ("followme.conf", "[general]\n".to_owned()),
        ("pjproject.conf", String::new()),
    ]
}

/// The base files of the modules astbase generates files for, as a stock install has
/// them (before astbase appends its include line).
pub fn stock_base(name: &str) -> Option<&'static str> {
    Some(match name {
        "pjsip.conf" => "",
        "extensions.conf" => "[general]\nstatic=yes\nwriteprotect=no\n",
        "queues.conf" => "[general]\n",
        "voicemail.conf" => "[general]\nformat=wav\n",
        "musiconhold.conf" => "[default]\nmode=files\ndirectory=moh\n",
        "confbridge.conf" => "[general]\n",
        "res_parking.conf" => "[general]\n",
        _ => return None,
    })
}

/// The stock base files alone, as on a PBX astbase has not touched yet.
pub fn stock() -> Vec<(String, String)> {
    astbase::render::ConfKind::ALL
        .iter()
        .filter_map(|k| k.base_file())
        .filter_map(|base| stock_base(base).map(|t| (base.to_owned(), t.to_owned())))
        .collect()
}

/// A running throw-away Asterisk.
pub struct Asterisk {
    dir: tempfile::TempDir,
    ns: std::sync::Arc<Netns>,
    child: Option<Child>,
}

impl Asterisk {
    /// Starts an instance with these config files (name, content) in its conf dir, on
    /// top of the stock base files (a file given here replaces a stock one). Music-on-hold
    /// directories named in `moh_dirs` are created (relative ones under the data dir) with
    /// one second of silence, and each prompt of `sounds` (`custom/welcome`) as a fifth
    /// of a second of silence, as an admin would have them.
    pub fn start(files: &[(String, String)], moh_dirs: &[String], sounds: &[String]) -> Asterisk {
        let dir = tempfile::tempdir().expect("temp dir");
        for sub in ["etc", "lib", "spool", "run", "log/cdr-csv", "data/moh"] {
            std::fs::create_dir_all(dir.path().join(sub)).expect("create instance dir");
        }
        std::os::unix::fs::symlink(DOCUMENTATION, dir.path().join("data/documentation"))
            .expect("link documentation");
        let etc = dir.path().join("etc");
        for (name, content) in base_files(dir.path()) {
            std::fs::write(etc.join(name), content).expect("write base file");
        }
        for (name, content) in files {
            // A name may hold a directory (`pjsip.d/phones.conf`).
            let path = etc.join(name);
            std::fs::create_dir_all(path.parent().expect("in etc")).expect("config dir");
            std::fs::write(path, content).expect("write config file");
        }
        std::fs::write(dir.path().join("data/moh/silence.ulaw"), [0xffu8; 8000])
            .expect("write moh file");
        for moh in moh_dirs {
            let path = dir.path().join("data").join(moh);
            std::fs::create_dir_all(&path).expect("create moh dir");
            std::fs::write(path.join("silence.ulaw"), [0xffu8; 8000]).expect("write moh file");
        }
        for sound in sounds {
            let path = dir
                .path()
                .join("data/sounds/en")
                .join(format!("{sound}.ulaw"));
            std::fs::create_dir_all(path.parent().expect("sound dir")).expect("sound dir");
            std::fs::write(path, [0xffu8; 1600]).expect("write sound");
        }
        let ns = std::sync::Arc::new(Netns::new());
        let mut asterisk = Asterisk {
            child: None,
            dir,
            ns,
        };
        let child = asterisk
            .ns
            .command("asterisk")
            .args(["-C", &asterisk.config().to_string_lossy(), "-f"])
            // CDR times are local: one zone for Asterisk, Master.csv and the agent.
            .env("TZ", "UTC")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(
                std::fs::File::create(asterisk.dir.path().join("log/console.log"))
                    .expect("console log"),
            ))
            .spawn()
            .expect("start asterisk");
        asterisk.child = Some(child);
        asterisk.wait_booted();
        asterisk
    }

    fn config(&self) -> PathBuf {
        self.dir.path().join("etc/asterisk.conf")
    }

    /// The network namespace it runs in, for peers (sipp, the agent).
    pub fn netns(&self) -> &Netns {
        &self.ns
    }

    /// The namespace, for a harness that keeps it beside the instance.
    pub fn shared_netns(&self) -> std::sync::Arc<Netns> {
        self.ns.clone()
    }

    /// The conf dir.
    pub fn etc(&self) -> PathBuf {
        self.dir.path().join("etc")
    }

    /// The words that run one CLI command on it: what `asterisk.cli` of a server says.
    pub fn cli_words(&self) -> Vec<String> {
        vec![
            "asterisk".into(),
            "-C".into(),
            self.config().to_string_lossy().into_owned(),
            "-rx".into(),
        ]
    }

    fn wait_booted(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!(
                    "asterisk exited at start ({status}):\n{}",
                    self.console_log()
                );
            }
            let out = self.cli("core waitfullybooted");
            if out.contains("fully booted") {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "asterisk did not boot in 60 s: {out}\n{}",
                self.console_log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn console_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log/console.log")).unwrap_or_default()
    }

    /// Runs one CLI command (`asterisk -rx`) and returns what it printed. The control
    /// socket is a file, so this works from outside the namespace.
    pub fn cli(&self, command: &str) -> String {
        let out = Command::new("asterisk")
            .arg("-C")
            .arg(self.config())
            .args(["-rx", command])
            .output()
            .expect("run asterisk -rx");
        crate::support::text(&out)
    }

    /// The log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log/messages.log")).unwrap_or_default()
    }

    /// Every ERROR and WARNING line the log has so far.
    pub fn problems(&self) -> Vec<String> {
        self.log()
            .lines()
            .filter(|l| l.contains("] ERROR[") || l.contains("] WARNING["))
            .map(str::to_owned)
            .collect()
    }

    /// Asserts that the log has no ERROR or WARNING line, listing them if it has.
    pub fn assert_clean(&self, what: &str) {
        let problems = self.problems();
        assert!(
            problems.is_empty(),
            "{what}: Asterisk logged {} problem(s):\n{}",
            problems.len(),
            problems.join("\n")
        );
    }

    /// Where MixMonitor writes (astspooldir/monitor).
    pub fn monitor_dir(&self) -> PathBuf {
        self.dir.path().join("spool/monitor")
    }

    /// Where cdr_csv writes.
    pub fn master_csv(&self) -> PathBuf {
        self.dir.path().join("log/cdr-csv/Master.csv")
    }

    /// Stops it (`core stop now`), then makes sure the process is gone.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let _ = self.cli("core stop now");
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for Asterisk {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// The config files of a server as an apply leaves them: the example's base files, the
/// generated files and the include lines (what `render` writes to `includes.txt`).
pub fn installed(
    base_dir: Option<&Path>,
    output: &astbase::render::ServerOutput,
) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = Vec::new();
    if let Some(dir) = base_dir {
        for entry in std::fs::read_dir(dir).expect("base dir").flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".conf") && !name.contains("_odoo") {
                let text = std::fs::read_to_string(entry.path()).expect("base file");
                files.push((name, text));
            }
        }
    }
    for base in astbase::render::ConfKind::ALL
        .iter()
        .filter_map(|k| k.base_file())
    {
        if !files.iter().any(|(n, _)| n == base)
            && let Some(text) = stock_base(base)
        {
            files.push((base.to_owned(), text.to_owned()));
        }
    }
    for file in &output.files {
        files.push((file.name.clone(), file.content.clone()));
        let Some(include) = &file.include else {
            continue;
        };
        let line = format!("{}\n", include.line);
        match files.iter_mut().find(|(n, _)| *n == include.base) {
            Some((_, text)) => {
                if !text.ends_with('\n') && !text.is_empty() {
                    text.push('\n');
                }
                text.push_str(&line);
            }
            None => files.push((include.base.clone(), line)),
        }
    }
    files
}

/// A valid repo, read from disk.
/// A copy of the company example to change for one test.
pub fn company_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("cp")
        .args(["-r", "examples/company/."])
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    dir
}

pub fn valid(repo: &str) -> Report {
    let report = validate_repo(Path::new(repo)).unwrap();
    assert_eq!(report.errors(), 0, "{repo} is valid");
    report
}

/// Renders a repo with a made-up value for every `{env}`/`{file}` secret.
pub fn render(report: &Report) -> Vec<ServerOutput> {
    let options = RenderOptions {
        source_label: "test".into(),
        servers: Vec::new(),
        secrets: SecretSource::with_env(&report.sources.root, |name| {
            Some(if name.contains("PIN") {
                "4321".to_owned()
            } else {
                format!("Test-{name}-9")
            })
        }),
        templates: TemplateOverrides::none(),
    };
    render_fleet(&report.fleet, &report.sources, &options).unwrap()
}

/// Starts an instance with what an apply would leave for `server` of `repo`: the
/// example's own base files when it has them, else only the include lines.
pub fn boot(repo: &str, server: &str) -> (Report, Asterisk) {
    let report = valid(repo);
    let output = render(&report)
        .into_iter()
        .find(|o| o.server == server)
        .expect("server rendered");
    let base = Path::new(repo).join(format!("hosts/{server}/etc/asterisk"));
    let files = installed(base.is_dir().then_some(base.as_path()), &output);
    let fleet = &report.fleet;
    let moh: Vec<String> = fleet
        .music_on_hold
        .iter()
        .map(|m| m.directory.clone())
        .collect();
    let mut sounds: Vec<String> = fleet
        .menus
        .iter()
        .flat_map(|m| m.prompts.iter().chain(&m.invalid_prompt))
        .chain(fleet.queues.iter().filter_map(|q| q.greeting.as_ref()))
        .chain(fleet.announcements.iter().flat_map(|a| &a.prompts))
        .map(|p| p.0.clone())
        .collect();
    sounds.push("option-is-invalid".into());
    // What an outside ring group member hears before it presses 1.
    sounds.extend(fleet.ring_groups.iter().map(|g| {
        g.confirm_prompt.as_ref().map_or_else(
            || astbase::model::ring_group::DEFAULT_CONFIRM_PROMPT.to_owned(),
            |p| p.0.clone(),
        )
    }));
    // What the feature codes say (the forwards read back the number digit by digit).
    sounds.extend(
        [
            "do-not-disturb",
            "call-fwd-unconditional",
            "call-fwd-on-busy",
            "call-fwd-no-ans",
            "ent-target-attendant",
            "then-press-pound",
            "invalid",
            "demo-echotest",
            "demo-echodone",
            "activated",
            "de-activated",
            // ConfBridge's prompts: the PIN, a wrong one, alone in the room, the count.
            "conf-getpin",
            "conf-invalidpin",
            "conf-onlyperson",
            "conf-thereare",
            "conf-otherinparty",
            "conf-peopleinconf",
            "conf-onlyone",
            // What a queue agent hears logging in and out.
            "agent-loginok",
            "agent-loggedoff",
            // The company directory's prompts.
            "dir-intro",
            "dir-intro-fn",
            "dir-firstlast",
            "dir-instr",
            "dir-nomatch",
            "dir-nomore",
            "dir-usingkeypad",
            "dir-pls-enter",
            "dir-welcome",
            "dir-multi1",
            "dir-multi2",
            "dir-multi3",
            "dir-multi9",
            "dir-listing",
            "vm-extension",
        ]
        .map(String::from),
    );
    sounds.extend((0..10).map(|d| format!("digits/{d}")));
    sounds.extend(('a'..='z').map(|c| format!("letters/{c}")));
    // What a block list plays to a caller it refuses.
    sounds.extend(fleet.block_lists.iter().filter_map(|b| match &b.action {
        astbase::model::blocklist::BlockAction::Message(m) => Some(m.0.clone()),
        _ => None,
    }));
    let ast = Asterisk::start(&files, &moh, &sounds);
    (report, ast)
}

//! The recordings library: `astbase agent` indexes the recordings Asterisk reports
//! stopped (AMI double), and `astbase recordings list|export|prune` read and prune it,
//! never touching a file that is not in the index.

use std::path::Path;

use crate::agent_process::Agent;
use crate::ami_double::{AmiDouble, Then};
use crate::support::text;

/// Where the dialplan files a recording made now: `odoo/YYYY/MM/DD` of today in the
/// agent's (and so Asterisk's) zone.
fn today_dir() -> String {
    jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::get("Europe/Moscow").unwrap())
        .strftime("odoo/%Y/%m/%d")
        .to_string()
}

/// A WAV file of `ms` milliseconds of 8 kHz 16-bit mono silence.
fn wav(path: &Path, ms: u32) {
    let data = 16 * ms;
    let mut bytes = Vec::new();
    bytes.extend_from_slice(b"RIFF");
    bytes.extend_from_slice(&(36 + data).to_le_bytes());
    bytes.extend_from_slice(b"WAVEfmt ");
    bytes.extend_from_slice(&16u32.to_le_bytes());
    bytes.extend_from_slice(&1u16.to_le_bytes()); // PCM
    bytes.extend_from_slice(&1u16.to_le_bytes()); // mono
    bytes.extend_from_slice(&8000u32.to_le_bytes());
    bytes.extend_from_slice(&16000u32.to_le_bytes()); // byte rate
    bytes.extend_from_slice(&2u16.to_le_bytes());
    bytes.extend_from_slice(&16u16.to_le_bytes());
    bytes.extend_from_slice(b"data");
    bytes.extend_from_slice(&data.to_le_bytes());
    bytes.resize(bytes.len() + data as usize, 0);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// `MixMonitorStart`/`MixMonitorStop` as Asterisk 22 sends them (a channel snapshot).
fn monitor(event: &str, channel: &str, uniqueid: &str, caller: &str, connected: &str) -> String {
    format!(
        "Event: {event}\r\nPrivilege: call,all\r\nChannel: {channel}\r\nChannelState: 6\r\n\
         ChannelStateDesc: Up\r\nCallerIDNum: {caller}\r\nCallerIDName: Alice\r\n\
         ConnectedLineNum: {connected}\r\nConnectedLineName: <unknown>\r\nLanguage: en\r\n\
         AccountCode: \r\nContext: odoo-internal\r\nExten: {connected}\r\nPriority: 4\r\n\
         Uniqueid: {uniqueid}\r\nLinkedid: {uniqueid}\r\n\r\n"
    )
}

fn hangup(channel: &str, uniqueid: &str) -> String {
    format!(
        "Event: Hangup\r\nPrivilege: call,all\r\nChannel: {channel}\r\nUniqueid: {uniqueid}\r\n\
         Linkedid: {uniqueid}\r\nCause: 16\r\nCause-txt: Normal Clearing\r\n\r\n"
    )
}

#[test]
fn recordings_are_indexed_listed_copied_and_pruned_and_unindexed_files_are_kept() {
    let monitor_dir = tempfile::tempdir().unwrap();
    let recorded = monitor_dir
        .path()
        .join(today_dir())
        .join("1795686785.0.wav");
    wav(&recorded, 1_000);
    // Somebody else's file beside it: never indexed, never deleted.
    let foreign = monitor_dir
        .path()
        .join(today_dir())
        .join("1795686799.9.wav");
    wav(&foreign, 500);
    let double = AmiDouble::start(crate::agent_process::SECRET);
    // One recording ends with its call (Asterisk says nothing of the recording then),
    // one is stopped early (StopMixMonitor) and has no file where the dialplan writes.
    double.feed(
        (monitor(
            "MixMonitorStart",
            "PJSIP/101-00000000",
            "1795686785.0",
            "101",
            "102",
        ) + &monitor(
            "MixMonitorStart",
            "PJSIP/103-00000004",
            "1795686790.4",
            "103",
            "104",
        ) + &monitor(
            "MixMonitorStop",
            "PJSIP/103-00000004",
            "1795686790.4",
            "103",
            "104",
        ) + &hangup("PJSIP/101-00000000", "1795686785.0"))
            .into_bytes(),
        Then::Hold,
    );
    let dir = monitor_dir.path().to_str().unwrap();
    let mut agent = Agent::start_as(
        "msk",
        tempfile::tempdir().unwrap(),
        &double,
        &["--no-bans", "--recordings-dir", dir],
    );
    agent.wait_until("the recording indexed", |a| {
        a.query("SELECT count(*) FROM recording") == 1
    });
    agent.wait_until("the missing one reported", |a| {
        a.log().contains(
            "warning: 1 recording(s) Asterisk reported are not under the recordings directory",
        )
    });
    // MixMonitor was still writing when the channel hung up: measured again.
    wav(&recorded, 2_000);
    agent.wait_until("the finished file measured", |a| {
        a.query("SELECT duration_ms FROM recording") == 2_000
    });
    assert_eq!(agent.stop(), Some(0));
    assert!(
        agent.log().contains("1 recording(s) indexed"),
        "{}",
        agent.log()
    );

    let list = agent.astbase(&["recordings", "list", "--format", "json"]);
    assert!(list.status.success(), "{}", text(&list));
    let rows: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 1, "{rows}");
    let row = &rows[0];
    assert_eq!(row["uniqueid"], "1795686785.0");
    assert_eq!(row["caller"], "101");
    assert_eq!(row["connected"], "102");
    assert_eq!(row["duration_ms"], 2_000);
    assert_eq!(row["size"], 44 + 32_000);
    assert_eq!(row["path"], recorded.display().to_string());
    let by_other = agent.astbase(&[
        "recordings",
        "list",
        "--extension",
        "104",
        "--format",
        "json",
    ]);
    assert_eq!(String::from_utf8_lossy(&by_other.stdout), "[]\n");

    let out = tempfile::tempdir().unwrap();
    let export = agent.astbase(&["recordings", "export", "--to", out.path().to_str().unwrap()]);
    assert!(export.status.success(), "{}", text(&export));
    assert_eq!(
        std::fs::read(out.path().join("1795686785.0.wav")).unwrap(),
        std::fs::read(&recorded).unwrap()
    );

    // Made 100 days ago: due under a 90-day retention.
    let conn = rusqlite::Connection::open(agent.db()).unwrap();
    conn.execute(
        "UPDATE recording SET recorded_epoch = recorded_epoch - 100 * 86400",
        [],
    )
    .unwrap();
    let dry = agent.astbase(&["recordings", "prune", "--keep-days", "90", "--dry-run"]);
    assert_eq!(
        String::from_utf8_lossy(&dry.stdout),
        "would delete 1 recording(s) (32044 bytes)\n"
    );
    assert!(recorded.exists());
    let kept = agent.astbase(&["recordings", "prune", "--keep-days", "120"]);
    assert_eq!(
        String::from_utf8_lossy(&kept.stdout),
        "0 recording(s) deleted (0 bytes), 0 already gone\n"
    );
    let pruned = agent.astbase(&["recordings", "prune", "--keep-days", "90"]);
    assert_eq!(
        String::from_utf8_lossy(&pruned.stdout),
        "1 recording(s) deleted (32044 bytes), 0 already gone\n",
        "{}",
        text(&pruned)
    );
    assert!(!recorded.exists());
    assert!(
        foreign.exists(),
        "a file the agent did not index was deleted"
    );
    let list = agent.astbase(&["recordings", "list"]);
    assert!(
        String::from_utf8_lossy(&list.stdout).contains("(deleted)"),
        "{}",
        text(&list)
    );
}

/// A monitor directory with today's recording of one call, and an AMI double that
/// reports that call's recording and hangup.
fn one_recorded_call() -> (tempfile::TempDir, std::path::PathBuf, AmiDouble) {
    let monitor_dir = tempfile::tempdir().unwrap();
    let recorded = monitor_dir
        .path()
        .join(today_dir())
        .join("1795686785.0.wav");
    wav(&recorded, 1_000);
    let double = AmiDouble::start(crate::agent_process::SECRET);
    double.feed(
        (monitor(
            "MixMonitorStart",
            "PJSIP/101-00000000",
            "1795686785.0",
            "101",
            "102",
        ) + &hangup("PJSIP/101-00000000", "1795686785.0"))
            .into_bytes(),
        Then::Close,
    );
    (monitor_dir, recorded, double)
}

#[test]
fn the_agent_applies_the_retention_itself() {
    let (monitor_dir, recorded, double) = one_recorded_call();
    let dir = monitor_dir.path().to_str().unwrap();
    let mut agent = Agent::start_as(
        "msk",
        tempfile::tempdir().unwrap(),
        &double,
        &["--no-bans", "--recordings-dir", dir],
    );
    agent.wait_until("the recording indexed", |a| {
        a.query("SELECT count(*) FROM recording") == 1
    });
    assert_eq!(agent.stop(), Some(0));
    rusqlite::Connection::open(agent.db())
        .unwrap()
        .execute(
            "UPDATE recording SET recorded_epoch = recorded_epoch - 31 * 86400",
            [],
        )
        .unwrap();
    // Restarted with a 30-day retention: the pruner runs at start.
    agent.sigkill_and_restart(
        "msk",
        &double,
        &[
            "--no-bans",
            "--recordings-dir",
            dir,
            "--recordings-keep-days",
            "30",
        ],
    );
    agent.wait_until("the old recording pruned", |a| {
        a.log()
            .contains("recordings pruned: 1 recording(s) deleted (16044 bytes), 0 already gone")
    });
    assert!(!recorded.exists());
}

#[test]
fn the_retention_the_repo_sets_reaches_the_agent_through_apply_without_a_restart() {
    let repo = crate::apply::repo(
        "extensions:\n  - {number: \"101\", server: a, name: Anna, secret: {env: PW}}\n",
    );
    let root = repo.root.join("astbase.yaml");
    std::fs::write(&root, "project:\n  recordings: {keep_days: 90}\n").unwrap();
    let apply = repo.astbase(&["apply", "--auto-approve", "--server", "a"]);
    assert!(apply.status.success(), "{}", text(&apply));
    assert_eq!(
        astbase::render::body(&repo.read("a", "astbase_odoo.conf")),
        "\n; What the astbase agent beside this Asterisk does, from the repo. Asterisk does not\n\
         ; read this file; the agent reads it again whenever it changes.\n\n\
         ; Recordings the agent indexed are deleted after this many days.\n\
         [recordings]\nkeep_days = 90\n"
    );

    let (monitor_dir, recorded, double) = one_recorded_call();
    let conf_dir = repo.root.join("hosts/a/etc/asterisk");
    let agent = Agent::start_as(
        "a",
        tempfile::tempdir().unwrap(),
        &double,
        &[
            "--no-bans",
            "--recordings-dir",
            monitor_dir.path().to_str().unwrap(),
            "--asterisk-conf-dir",
            conf_dir.to_str().unwrap(),
        ],
    );
    agent.wait_until("the recording indexed", |a| {
        a.query("SELECT count(*) FROM recording") == 1
    });
    let settings = conf_dir.join("astbase_odoo.conf");
    assert!(
        agent.log().contains(&format!(
            "settings from {}: recordings kept 90 days",
            settings.display()
        )),
        "{}",
        agent.log()
    );
    // 40 days old: kept for 90 days, gone once the repo says 30.
    rusqlite::Connection::open(agent.db())
        .unwrap()
        .execute(
            "UPDATE recording SET recorded_epoch = recorded_epoch - 40 * 86400",
            [],
        )
        .unwrap();
    std::fs::write(&root, "project:\n  recordings: {keep_days: 30}\n").unwrap();
    let plan = repo.astbase(&["plan", "--server", "a"]);
    let shown = text(&plan);
    assert!(
        shown.contains("-keep_days = 90\n+keep_days = 30"),
        "{shown}"
    );
    assert!(shown.contains("  ~ astbase_odoo.conf (change)"), "{shown}");
    assert!(!shown.contains("reloads:"), "{shown}");
    let apply = repo.astbase(&["apply", "--auto-approve", "--server", "a"]);
    assert!(apply.status.success(), "{}", text(&apply));
    agent.wait_until("the repo's new retention pruning the recording", |a| {
        a.log()
            .contains("recordings pruned: 1 recording(s) deleted (16044 bytes), 0 already gone")
    });
    assert!(
        agent.log().contains("recordings kept 30 days"),
        "{}",
        agent.log()
    );
    assert!(!recorded.exists());
}

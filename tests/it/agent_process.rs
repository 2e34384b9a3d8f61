//! `astbase agent` as a process for the tests: started against an AMI double in a
//! temporary directory (its database, Master.csv and log), stopped with SIGTERM or
//! SIGKILL, and asked what it stored.

use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::ami_double::AmiDouble;

pub(crate) const SECRET: &str = "odoo-secret";

pub(crate) struct Agent {
    pub(crate) child: Option<Child>,
    pub(crate) dir: tempfile::TempDir,
}

impl Agent {
    pub(crate) fn start(double: &AmiDouble, extra: &[&str]) -> Agent {
        Agent::start_in(tempfile::tempdir().unwrap(), double, extra)
    }

    /// Starts in `dir`, where the test may have put a Master.csv already.
    pub(crate) fn start_in(dir: tempfile::TempDir, double: &AmiDouble, extra: &[&str]) -> Agent {
        Agent::start_as("pbx-test", dir, double, extra)
    }

    /// Starts as server `server` in `dir`.
    pub(crate) fn start_as(
        server: &str,
        dir: tempfile::TempDir,
        double: &AmiDouble,
        extra: &[&str],
    ) -> Agent {
        let child = spawn(dir.path(), server, double, extra);
        Agent {
            child: Some(child),
            dir,
        }
    }

    /// Kills the agent with SIGKILL (no flush, no goodbye) and starts it again on the
    /// same database.
    pub(crate) fn sigkill_and_restart(&mut self, server: &str, double: &AmiDouble, extra: &[&str]) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
        // Its log goes on in the same file.
        self.child = Some(spawn(self.dir.path(), server, double, extra));
    }

    /// Starts with the database locked by another writer for two seconds (a stalled
    /// disk), so the agent's queue fills while events keep coming.
    pub(crate) fn start_paused(double: &AmiDouble) -> Agent {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("agent.db");
        // Create the schema first, then hold the write lock.
        drop(
            astbase::agent::cdr::store::Store::open(&db, "pbx-test", jiff::tz::TimeZone::UTC)
                .unwrap(),
        );
        let (locked_tx, locked) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let conn = rusqlite::Connection::open(&db).unwrap();
            conn.execute_batch("BEGIN EXCLUSIVE").unwrap();
            locked_tx.send(()).unwrap();
            std::thread::sleep(Duration::from_secs(2));
            conn.execute_batch("COMMIT").unwrap();
        });
        locked.recv().unwrap();
        Agent::start_in(dir, double, &["--no-bans"])
    }

    /// The agent's peak resident memory (VmHWM), in kB.
    pub(crate) fn peak_rss_kb(&self) -> u64 {
        let pid = self.child.as_ref().map_or(0, Child::id);
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }

    pub(crate) fn db(&self) -> PathBuf {
        self.dir.path().join("agent.db")
    }

    pub(crate) fn query(&self, sql: &str) -> i64 {
        let Ok(conn) = rusqlite::Connection::open_with_flags(
            self.db(),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        ) else {
            return -1;
        };
        conn.query_row(sql, [], |r| r.get(0)).unwrap_or(-1)
    }

    pub(crate) fn cdrs(&self) -> i64 {
        self.query("SELECT count(*) FROM cdr")
    }

    pub(crate) fn wait_until(&self, what: &str, mut done: impl FnMut(&Agent) -> bool) {
        let started = Instant::now();
        while !done(self) {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "timed out waiting for {what} ({} CDRs stored); log:\n{}",
                self.cdrs(),
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("agent.log")).unwrap_or_default()
    }

    /// SIGTERM, as systemd stops it; returns the exit code.
    pub(crate) fn stop(&mut self) -> Option<i32> {
        let mut child = self.child.take()?;
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        let started = Instant::now();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status.code();
            }
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "the agent ignored SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub(crate) fn astbase(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_astbase"))
            .args(args)
            .arg("--db")
            .arg(self.db())
            .args(["--timezone", "Europe/Moscow"])
            .output()
            .unwrap()
    }
}

/// `astbase agent` against `double`, its database, Master.csv and log in `dir`.
fn spawn(dir: &std::path::Path, server: &str, double: &AmiDouble, extra: &[&str]) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("agent.log"))
        .unwrap();
    Command::new(env!("CARGO_BIN_EXE_astbase"))
        .arg("agent")
        .args(["--manager-port", &double.port.to_string()])
        .arg("--db")
        .arg(dir.join("agent.db"))
        .arg("--cdr-csv")
        .arg(dir.join("Master.csv"))
        .args(["--server", server, "--timezone", "Europe/Moscow"])
        .args(["--max-backoff", "1"])
        .args(extra)
        .env("MANAGER_LOGIN", "odoo")
        .env("MANAGER_PASSWORD", SECRET)
        // Not this machine's /etc/asterisk: its asterisk.conf or settings are not the
        // test's.
        .env("ASTERISK_CONF_DIR", dir)
        .env_remove("ASTBASE_DB")
        .env_remove("ASTBASE_CENTRAL_URL")
        .env_remove("PGPASSWORD")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap()
}

impl Drop for Agent {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

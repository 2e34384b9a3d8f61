//! A throw-away PostgreSQL for the tests and benches: Debian's server binaries
//! (`apt-get install postgresql`), a fresh cluster made by `initdb` in a temporary
//! directory, listening on 127.0.0.1 at a free port with password (SCRAM) logins; no
//! Unix socket, no system service. PostgreSQL refuses to run as root, so under root
//! it runs as `nobody`.
//!
//! Only std and tempfile: benches/central.rs shares this file through `#[path]`.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Command, Output};

/// The superuser's password in every test cluster.
pub const SUPERUSER_PASSWORD: &str = "pg-test-superuser";
/// `nobody`/`nogroup`: who runs the server when the tests run as root.
const NOBODY: u32 = 65534;

/// The directory of Debian's PostgreSQL server binaries (`initdb`, `pg_ctl`), newest
/// version first.
pub fn bin_dir() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|bin| bin.join("initdb").exists() && bin.join("pg_ctl").exists())
        .collect();
    dirs.sort();
    dirs.pop()
}

pub struct Postgres {
    pub port: u16,
    dir: tempfile::TempDir,
    bin: PathBuf,
    running: bool,
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().nth(1))
            == Some("0")
    })
}

impl Postgres {
    /// A new cluster with a database `fleet`, running.
    pub fn start_default() -> Postgres {
        let mut pg = Postgres::init();
        pg.start();
        pg.psql("postgres", "CREATE DATABASE fleet");
        pg
    }

    /// A new cluster that only takes TLS connections from 127.0.0.1, with a certificate
    /// for the address 127.0.0.1 (not the name localhost) signed by a throw-away
    /// authority; the role `certuser` logs in to `fleet` by client certificate. Returns
    /// the directory of the PEM files: `ca.pem` (for sslrootcert), `client.pem`,
    /// `client.key`.
    pub fn start_tls() -> (Postgres, PathBuf) {
        let mut pg = Postgres::init();
        let work = pg.dir.path().join("certs");
        std::fs::create_dir(&work).unwrap();
        let openssl = |args: &[&str]| {
            let out = Command::new("openssl")
                .args(args)
                .current_dir(&work)
                .output()
                .expect("openssl (apt-get install openssl)");
            assert!(
                out.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=astbase test authority",
        ]);
        // A key and a certificate signed by the authority: NAME.key, NAME.pem.
        let sign = |name: &str, subject: &str, extensions: &str| {
            let (key, csr, pem, ext) = (
                format!("{name}.key"),
                format!("{name}.csr"),
                format!("{name}.pem"),
                format!("{name}.ext"),
            );
            std::fs::write(work.join(&ext), extensions).unwrap();
            openssl(&[
                "req", "-newkey", "rsa:2048", "-nodes", "-keyout", &key, "-out", &csr, "-subj",
                subject,
            ]);
            openssl(&[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                &pem,
                "-days",
                "2",
                "-extfile",
                &ext,
            ]);
        };
        sign(
            "server",
            "/CN=127.0.0.1",
            "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
        );
        // For the role `certuser` (pg_hba's `cert` method).
        sign(
            "client",
            "/CN=certuser",
            "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n",
        );
        let read = |name: &str| std::fs::read(work.join(name)).unwrap();
        pg.put_file("ca.pem", &read("ca.pem"), 0o644);
        pg.put_file("server.pem", &read("server.pem"), 0o644);
        pg.put_file("server.key", &read("server.key"), 0o600);
        let data = pg.data_dir();
        let conf = data.join("postgresql.conf");
        let mut text = std::fs::read_to_string(&conf).unwrap();
        text.push_str(
            "ssl = on\nssl_cert_file = 'server.pem'\nssl_key_file = 'server.key'\nssl_ca_file = 'ca.pem'\n",
        );
        std::fs::write(&conf, text).unwrap();
        // TLS or nothing: every TCP line of pg_hba.conf becomes hostssl.
        let hba = data.join("pg_hba.conf");
        let text = std::fs::read_to_string(&hba).unwrap();
        let text: String = std::iter::once("hostssl fleet certuser 127.0.0.1/32 cert")
            .chain(text.lines())
            .map(|l| match l.strip_prefix("host ") {
                Some(rest) => format!("hostssl {rest}\n"),
                None => format!("{l}\n"),
            })
            .collect();
        std::fs::write(&hba, text).unwrap();
        pg.start();
        pg.psql_tls("postgres", "CREATE DATABASE fleet");
        pg.psql_tls("postgres", "CREATE ROLE certuser LOGIN SUPERUSER");
        (pg, work)
    }

    /// A cluster made by initdb, configured, not started.
    fn init() -> Postgres {
        let bin = bin_dir().expect("PostgreSQL server binaries (apt-get install postgresql)");
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir(&data).unwrap();
        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o700)).unwrap();
        let pwfile = dir.path().join("pwfile");
        std::fs::write(&pwfile, SUPERUSER_PASSWORD).unwrap();
        std::fs::set_permissions(&pwfile, std::fs::Permissions::from_mode(0o644)).unwrap();
        if is_root() {
            std::os::unix::fs::chown(&data, Some(NOBODY), Some(NOBODY)).unwrap();
        }
        let port = free_port();
        let pg = Postgres {
            port,
            dir,
            bin,
            running: false,
        };
        pg.run_checked(
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-U",
                "postgres",
                "--auth=scram-sha-256",
                "--pwfile",
                pwfile.to_str().unwrap(),
                "--no-sync",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            ],
        );
        let conf = data.join("postgresql.conf");
        let mut text = std::fs::read_to_string(&conf).unwrap();
        text.push_str(&format!(
            "\nlisten_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = ''\n\
             fsync = off\nlog_min_messages = warning\n"
        ));
        std::fs::write(&conf, text).unwrap();
        pg
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// A file beside the cluster the server can read (certificates).
    pub fn put_file(&self, name: &str, bytes: &[u8], mode: u32) -> PathBuf {
        let path = self.data_dir().join(name);
        std::fs::write(&path, bytes).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        if is_root() {
            std::os::unix::fs::chown(&path, Some(NOBODY), Some(NOBODY)).unwrap();
        }
        path
    }

    /// Runs one of the server binaries (as `nobody` under root).
    fn run(&self, program: &str, args: &[&str]) -> Output {
        let path = self.bin.join(program);
        let mut command = if is_root() {
            let mut c = Command::new("setpriv");
            c.args([
                &format!("--reuid={NOBODY}"),
                &format!("--regid={NOBODY}"),
                "--clear-groups",
            ])
            .arg(&path);
            c
        } else {
            Command::new(&path)
        };
        command
            .args(args)
            .current_dir(self.dir.path())
            .env("PGPASSWORD", SUPERUSER_PASSWORD)
            // Not root's: libpq looks for client certificates under $HOME.
            .env("HOME", self.dir.path())
            .env_remove("PGPASSFILE")
            .output()
            .unwrap()
    }

    fn run_checked(&self, program: &str, args: &[&str]) -> Output {
        succeeded(&format!("{program} {args:?}"), self.run(program, args))
    }

    pub fn start(&mut self) {
        let data = self.data_dir();
        let log = self.dir.path().join("server.log");
        if is_root() && !log.exists() {
            std::fs::write(&log, "").unwrap();
            std::os::unix::fs::chown(&log, Some(NOBODY), Some(NOBODY)).unwrap();
        }
        self.run_checked(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-l",
                log.to_str().unwrap(),
                "-w",
                "-t",
                "30",
                "start",
            ],
        );
        self.running = true;
    }

    /// Stops the server at once, as a crash or a power cut would (clients see their
    /// connections die).
    pub fn stop(&mut self) {
        succeeded("pg_ctl stop", self.stop_immediately());
        self.running = false;
    }

    /// `pg_ctl stop -m immediate`, for [`Postgres::stop`] and for dropping.
    fn stop_immediately(&self) -> Output {
        let data = self.data_dir();
        self.run(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
        )
    }

    /// A URL for `user` on database `fleet` (TLS off unless `query` says otherwise).
    pub fn url(&self, user: &str, password: &str) -> String {
        format!(
            "postgres://{user}:{password}@127.0.0.1:{}/fleet?sslmode=disable",
            self.port
        )
    }

    pub fn superuser_url(&self) -> String {
        self.url("postgres", SUPERUSER_PASSWORD)
    }

    /// Runs SQL as the superuser on `database`; returns its unaligned output.
    pub fn psql(&self, database: &str, sql: &str) -> String {
        self.psql_as("disable", database, sql)
    }

    /// [`Postgres::psql`] on a cluster made by [`Postgres::start_tls`].
    pub fn psql_tls(&self, database: &str, sql: &str) -> String {
        self.psql_as("require", database, sql)
    }

    fn psql_as(&self, sslmode: &str, database: &str, sql: &str) -> String {
        let url = format!(
            "postgres://postgres@127.0.0.1:{}/{database}?sslmode={sslmode}",
            self.port
        );
        let out = self.run_checked(
            "psql",
            &["-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", &url, "-c", sql],
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// A number `sql` selects from database `fleet`.
    pub fn count(&self, sql: &str) -> i64 {
        let text = self.psql("fleet", sql);
        text.parse()
            .unwrap_or_else(|_| panic!("`{sql}` gave `{text}`, not a number"))
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if self.running {
            let _ = self.stop_immediately();
        }
    }
}

/// `out`, after asserting that `what` succeeded (its output shown if not).
fn succeeded(what: &str, out: Output) -> Output {
    assert!(
        out.status.success(),
        "{what} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A port nobody listens on now (the kernel's choice, released for the server).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

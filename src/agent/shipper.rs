//! The shipper: a thread beside the database writer that sends committed CDRs from the
//! agent's SQLite database to the central PostgreSQL one, in batches, exactly once.
//!
//! Exactly once comes from two rules. The mark (the highest local id sent, per central
//! database, in SQLite's `ship_mark`) advances only after PostgreSQL committed the
//! batch; and PostgreSQL ignores a fingerprint it already has. A crash between the two
//! commits sends a batch again, and the second copy changes nothing.
//!
//! The shipper only reads what the writer committed: reading AMI and storing locally
//! never wait on the network. While PostgreSQL is down or slow the mark stays put,
//! connection attempts back off (with jitter, capped), and the backlog is sent when it
//! comes back; a restarted agent resumes from the mark.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OptionalExtension, params};

use super::cdr::store::StoreError;
use super::central::ship::{Batch, InFlight};
use super::central::{CentralError, CentralUrl, Session, schema};
use super::doorbell::{self, Doorbell, Listener};
use super::event::{Event, Log};

/// Rows per batch: large enough that a backlog of a million goes at PostgreSQL's speed,
/// small enough to stay a few megabytes and commit well within the deadline.
pub const BATCH: usize = 10_000;

#[derive(Debug, Clone)]
pub struct ShipperConfig {
    pub url: CentralUrl,
    /// Deadline of a connection attempt and of each statement.
    pub timeout: Duration,
    /// Longest wait between attempts while the central database is unavailable.
    pub max_backoff: Duration,
    /// How often to look for new rows when the writer has not rung.
    pub poll: Duration,
}

impl ShipperConfig {
    pub fn new(url: CentralUrl) -> ShipperConfig {
        ShipperConfig {
            url,
            timeout: Duration::from_secs(30),
            max_backoff: Duration::from_secs(30),
            poll: Duration::from_secs(1),
        }
    }
}

/// What the shipper did.
#[derive(Debug, Default)]
pub struct ShipCounters {
    /// Rows the central database did not have.
    pub shipped: AtomicU64,
    /// Rows it had already (sent before a crash, or by a replay).
    pub already_there: AtomicU64,
    pub failures: AtomicU64,
}

/// How long a stopping agent keeps sending its backlog before it leaves the rest for
/// the next start.
const FINAL_FLUSH: Duration = Duration::from_secs(5);

/// Starts the shipper on `db` (already migrated by the writer's [`Store::open`]).
///
/// [`Store::open`]: super::cdr::store::Store::open
pub fn start(
    db: &Path,
    config: ShipperConfig,
    log: Log,
) -> Result<(Doorbell, Arc<ShipCounters>, std::thread::JoinHandle<()>), StoreError> {
    let conn = open(db)?;
    let (doorbell, listener) = doorbell::new();
    let counters = Arc::new(ShipCounters::default());
    let c = counters.clone();
    let handle = std::thread::Builder::new()
        .name("astbase-ship".into())
        .spawn(move || {
            Shipper {
                conn,
                config,
                log,
                counters: c,
                listener,
                session: None,
                in_flight: None,
                behind: true,
                since_caught_up: (0, 0),
                failures: 0,
            }
            .run()
        })
        .expect("a thread can be spawned");
    Ok((doorbell, counters, handle))
}

fn open(db: &Path) -> Result<Connection, StoreError> {
    let err = |source| StoreError::Sqlite {
        path: db.display().to_string(),
        source,
    };
    let conn = Connection::open(db).map_err(err)?;
    conn.busy_timeout(Duration::from_secs(10)).map_err(err)?;
    Ok(conn)
}

struct Shipper {
    conn: Connection,
    config: ShipperConfig,
    log: Log,
    counters: Arc<ShipCounters>,
    listener: Listener,
    session: Option<Session>,
    /// The batch being stored while the next one is read.
    in_flight: Option<InFlight>,
    /// Whether rows are waiting beyond one batch (a caught-up line is due when not).
    behind: bool,
    /// (shipped, already there) since the last caught-up line.
    since_caught_up: (u64, u64),
    failures: u32,
}

enum Step {
    /// Sent a full batch: more may be waiting.
    More,
    /// Nothing (more) to send.
    Idle,
    /// The central database failed; wait before trying again.
    Failed(CentralError),
}

impl Shipper {
    fn run(mut self) {
        let mut deadline: Option<Instant> = None;
        loop {
            let stopping = self.listener.stopping();
            if stopping && deadline.is_none() {
                deadline = Some(Instant::now() + FINAL_FLUSH);
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                // What is in flight is recorded if it commits; the rest waits for the
                // next start.
                let _ = self.settle();
                return;
            }
            match self.step() {
                Step::More => {}
                Step::Idle if stopping => return,
                Step::Idle => self.listener.wait(self.config.poll),
                Step::Failed(error) => {
                    // A refused statement on a live connection keeps it; anything else
                    // (a timeout, a broken or closed connection) starts afresh.
                    let keep = matches!(error, CentralError::Query { .. })
                        && self.session.as_ref().is_some_and(|s| !s.is_closed());
                    self.in_flight = None;
                    if !keep {
                        self.session = None;
                    }
                    self.behind = true;
                    self.counters.failures.fetch_add(1, Ordering::Relaxed);
                    self.failures = self.failures.saturating_add(1);
                    let wait = super::backoff(self.failures, self.config.max_backoff);
                    self.log.emit(Event::CentralUnavailable { error, wait });
                    if stopping {
                        return;
                    }
                    self.listener.sleep_unless_stopping(wait);
                }
            }
        }
    }

    /// Reads the next batch while the previous one (if any) is being stored, then
    /// settles the previous one: its mark is written only once PostgreSQL committed it.
    fn step(&mut self) -> Step {
        if self.session.as_ref().is_none_or(Session::is_closed) {
            self.in_flight = None;
            match self.connect() {
                Ok(session) => self.session = Some(session),
                Err(e) => return Step::Failed(e),
            }
        }
        let after = match &self.in_flight {
            Some(sent) => sent.last_id,
            None => match read_mark(&self.conn, &self.config.url.key) {
                Ok(m) => m,
                Err(e) => {
                    self.log.emit(Event::ShipMarkFailed(self.store_error(e)));
                    return Step::Idle;
                }
            },
        };
        let batch = match Batch::read(&self.conn, after, BATCH) {
            Ok(b) => b,
            Err(e) => {
                self.log.emit(Event::ShipMarkFailed(self.store_error(e)));
                return Step::Idle;
            }
        };
        if let Err(e) = self.settle() {
            return Step::Failed(e);
        }
        if batch.is_empty() {
            self.caught_up();
            return Step::Idle;
        }
        let full = batch.len() == BATCH;
        let session = self.session.as_ref().expect("connected above");
        self.in_flight = Some(session.send(batch));
        if full {
            // More is waiting: read it while this one is stored.
            self.behind = true;
            return Step::More;
        }
        match self.settle() {
            Ok(()) => {
                self.caught_up();
                Step::Idle
            }
            Err(e) => Step::Failed(e),
        }
    }

    /// Waits for the batch in flight, if any, and records it.
    fn settle(&mut self) -> Result<(), CentralError> {
        let (Some(sent), Some(session)) = (self.in_flight.take(), self.session.as_ref()) else {
            return Ok(());
        };
        let (last_id, len) = (sent.last_id, sent.len as u64);
        let inserted = session.wait(sent)?;
        self.failures = 0;
        let already = len - inserted;
        self.counters.shipped.fetch_add(inserted, Ordering::Relaxed);
        self.counters
            .already_there
            .fetch_add(already, Ordering::Relaxed);
        self.since_caught_up.0 += inserted;
        self.since_caught_up.1 += already;
        if let Err(e) = write_mark(&self.conn, &self.config.url.key, last_id, inserted) {
            // The next round sends the batch again; PostgreSQL keeps one copy.
            self.log.emit(Event::ShipMarkFailed(self.store_error(e)));
        }
        Ok(())
    }

    fn caught_up(&mut self) {
        if self.behind {
            self.behind = false;
            let (shipped, already_there) = std::mem::take(&mut self.since_caught_up);
            self.log.emit(Event::CentralCaughtUp {
                url: self.config.url.display.clone(),
                shipped,
                already_there,
            });
        }
    }

    fn connect(&self) -> Result<Session, CentralError> {
        let session = Session::connect(&self.config.url, self.config.timeout)?;
        let migrated = schema::migrate(&session)?;
        self.log.emit(Event::CentralConnected {
            url: self.config.url.display.clone(),
            password_from: self.config.url.password_from.clone(),
            migrated,
        });
        Ok(session)
    }

    fn store_error(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite {
            path: self.conn.path().unwrap_or("agent database").to_owned(),
            source,
        }
    }
}

fn read_mark(conn: &Connection, key: &str) -> rusqlite::Result<i64> {
    Ok(conn
        .query_row(
            "SELECT last_id FROM ship_mark WHERE central = ?1",
            [key],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(0))
}

fn write_mark(conn: &Connection, key: &str, last_id: i64, shipped: u64) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO ship_mark (central, last_id, shipped, updated_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(central) DO UPDATE SET last_id = ?2, shipped = shipped + ?3, updated_at = ?4",
        params![
            key,
            last_id,
            shipped as i64,
            jiff::Timestamp::now().to_string()
        ],
    )?;
    Ok(())
}

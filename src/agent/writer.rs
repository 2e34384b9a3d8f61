//! The database writer: one thread owning the SQLite connection. The AMI reader hands
//! it changes through a bounded queue and never waits on the disk; the writer commits
//! whatever has arrived in one transaction, so batches grow with the load (thousands
//! of rows per commit under a burst, one row at a time when calls trickle in) and a
//! record waits at most one commit before it is on disk.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::time::Duration;

use super::cdr::backfill;
use super::cdr::store::{Op, Store};
use super::doorbell::Doorbell;
use super::event::{Event, Log};

/// Largest number of changes in one transaction.
const MAX_BATCH: usize = 2_000;

/// A request for the writer.
#[derive(Debug)]
pub enum Job {
    Op(Op),
    /// Read Master.csv from where it stopped (after start and after reconnects).
    Backfill(PathBuf),
}

/// Counters the writer keeps.
#[derive(Debug, Default)]
pub struct Counters {
    pub inserted: AtomicU64,
    pub duplicates: AtomicU64,
    pub backfilled: AtomicU64,
    pub commits: AtomicU64,
    pub recordings: AtomicU64,
    pub errors: AtomicU64,
    /// Set when the agent stops: a commit that keeps failing is then given up after a
    /// few attempts instead of holding the shutdown forever.
    pub stopping: std::sync::atomic::AtomicBool,
}

/// The sending side, with loud, lossless backpressure.
#[derive(Clone)]
pub struct Sender {
    tx: SyncSender<Job>,
    capacity: usize,
    log: Log,
}

impl Sender {
    /// Queues a job. When the queue is full (the disk is slower than Asterisk), says so
    /// and waits for room: records are never dropped. Returns false if the writer died.
    pub async fn send(&self, job: Job) -> bool {
        let mut job = match self.tx.try_send(job) {
            Ok(()) => return true,
            Err(TrySendError::Disconnected(_)) => return false,
            Err(TrySendError::Full(job)) => job,
        };
        self.log.emit(Event::QueueFull {
            capacity: self.capacity,
        });
        loop {
            tokio::time::sleep(Duration::from_millis(2)).await;
            job = match self.tx.try_send(job) {
                Ok(()) => return true,
                Err(TrySendError::Disconnected(_)) => return false,
                Err(TrySendError::Full(job)) => job,
            };
        }
    }

    /// Queues from a blocking thread.
    pub fn send_blocking(&self, job: Job) -> bool {
        self.tx.send(job).is_ok()
    }
}

/// Starts the writer thread; it ends when every [`Sender`] is dropped and the queue is
/// drained and committed. Backfills and failed commits are reported to `log`.
pub fn start(
    mut store: Store,
    capacity: usize,
    log: Log,
    doorbells: Vec<Doorbell>,
) -> (Sender, Arc<Counters>, std::thread::JoinHandle<Store>) {
    let (tx, rx) = std::sync::mpsc::sync_channel(capacity);
    let counters = Arc::new(Counters::default());
    let c = counters.clone();
    let writer_log = log.clone();
    let handle = std::thread::Builder::new()
        .name("astbase-db".into())
        .spawn(move || {
            run(&mut store, &rx, &c, &writer_log, &doorbells);
            store
        })
        .expect("a thread can be spawned");
    (Sender { tx, capacity, log }, counters, handle)
}

fn run(
    store: &mut Store,
    rx: &Receiver<Job>,
    counters: &Counters,
    log: &Log,
    doorbells: &[Doorbell],
) {
    let mut batch: Vec<Op> = Vec::with_capacity(1024);
    while let Ok(first) = rx.recv() {
        let mut backfills = Vec::new();
        let mut next = Some(first);
        while let Some(job) = next {
            match job {
                Job::Op(op) => batch.push(op),
                Job::Backfill(path) => backfills.push(path),
            }
            next = if batch.len() < MAX_BATCH {
                rx.try_recv().ok()
            } else {
                None
            };
        }
        commit(store, &mut batch, counters, log);
        for path in backfills {
            match backfill::backfill(store, &path) {
                Ok(done) => {
                    counters
                        .backfilled
                        .fetch_add(done.written.inserted, Ordering::Relaxed);
                    if done.lines > 0 {
                        log.emit(Event::Backfilled { path, done });
                    }
                }
                Err(e) => log.emit(Event::BackfillSkipped(e)),
            }
        }
        // Committed rows are the shipper's and the webhook deliverers' to send.
        for bell in doorbells {
            bell.ring();
        }
    }
}

fn commit(store: &mut Store, batch: &mut Vec<Op>, counters: &Counters, log: &Log) {
    if batch.is_empty() {
        return;
    }
    // A failed commit (disk full, database locked for too long) is retried: the batch
    // stays in memory, and the queue in front of it applies backpressure.
    let mut delay = Duration::from_millis(100);
    loop {
        match store.write(batch) {
            Ok(w) => {
                counters.inserted.fetch_add(w.inserted, Ordering::Relaxed);
                counters
                    .duplicates
                    .fetch_add(w.duplicates, Ordering::Relaxed);
                counters.commits.fetch_add(1, Ordering::Relaxed);
                counters
                    .recordings
                    .fetch_add(w.recordings, Ordering::Relaxed);
                if w.recordings_missing > 0 {
                    log.emit(Event::RecordingsNotFound(w.recordings_missing));
                }
                batch.clear();
                return;
            }
            Err(e) => {
                counters.errors.fetch_add(1, Ordering::Relaxed);
                log.emit(Event::WriteFailed { delay, error: e });
                std::thread::sleep(delay);
                delay = (delay * 2).min(Duration::from_secs(10));
            }
        }
    }
}

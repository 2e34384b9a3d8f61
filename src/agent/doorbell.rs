//! How the database writer tells the threads that read what it committed (the shipper,
//! the webhook deliverers) that there is something new, and how they are told to stop.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender};
use std::time::{Duration, Instant};

/// The writer's side (cloned for whoever stops the reader).
#[derive(Clone)]
pub struct Doorbell {
    ring: SyncSender<()>,
    stopping: Arc<AtomicBool>,
}

/// The reader's side.
pub struct Listener {
    rung: Receiver<()>,
    stopping: Arc<AtomicBool>,
}

pub fn new() -> (Doorbell, Listener) {
    // One pending ring is enough: a full channel means the reader knows already.
    let (ring, rung) = std::sync::mpsc::sync_channel(1);
    let stopping = Arc::new(AtomicBool::new(false));
    (
        Doorbell {
            ring,
            stopping: stopping.clone(),
        },
        Listener { rung, stopping },
    )
}

impl Doorbell {
    pub fn ring(&self) {
        let _ = self.ring.try_send(());
    }

    pub fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.ring();
    }
}

impl Listener {
    pub fn stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// Waits for a ring, a stop, or `timeout`.
    pub fn wait(&self, timeout: Duration) {
        match self.rung.recv_timeout(timeout) {
            Ok(()) | Err(RecvTimeoutError::Timeout) => {}
            // Nobody can ring any more: nothing more will be written.
            Err(RecvTimeoutError::Disconnected) => self.stopping.store(true, Ordering::SeqCst),
        }
    }

    /// Sleeps `wait` in slices, so a stop is not held up by a long backoff.
    pub fn sleep_unless_stopping(&self, wait: Duration) {
        let until = Instant::now() + wait;
        while !self.stopping() {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            std::thread::sleep(left.min(Duration::from_millis(100)));
        }
    }
}

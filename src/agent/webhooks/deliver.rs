//! Delivery: one thread per endpoint POSTs its outbox rows in order (a call's events
//! arrive in the order they happened; an endpoint that fails holds its own queue, never
//! another's), signed, each with its idempotency key. A failure is retried with capped
//! backoff; after the endpoint's `max_attempts` the row is dead-lettered (kept, with the
//! last error) and the next one goes. Reading AMI never waits on any of it.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hmac::{KeyInit, Mac};

use super::config::Endpoint;
use super::outbox::{self, Pending};
use crate::agent::cdr::store::StoreError;
use crate::agent::doorbell::{self, Doorbell, Listener};
use crate::agent::event::{Event, Log};

/// What the deliverers did.
#[derive(Debug, Default)]
pub struct DeliveryCounters {
    pub delivered: AtomicU64,
    pub failed_attempts: AtomicU64,
    pub dead: AtomicU64,
}

/// The signature header's value: `v1=` and the hex HMAC-SHA256 of `TIMESTAMP.BODY`.
pub fn signature(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret).expect("any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("v1={hex}")
}

/// The running deliverers.
pub struct Deliverers {
    /// For the writer: rung after each commit.
    pub bells: Vec<Doorbell>,
    pub counters: Arc<DeliveryCounters>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Deliverers {
    /// Stops them; what is not delivered stays in the outbox for the next start.
    pub fn stop(self) -> Arc<DeliveryCounters> {
        for bell in &self.bells {
            bell.stop();
        }
        for thread in self.threads {
            let _ = thread.join();
        }
        self.counters
    }
}

/// Starts one deliverer per endpoint on `db` (already migrated).
pub fn start(
    db: &Path,
    endpoints: &[Endpoint],
    max_backoff: Duration,
    log: &Log,
) -> Result<Deliverers, StoreError> {
    let counters = Arc::new(DeliveryCounters::default());
    let (mut bells, mut handles) = (Vec::new(), Vec::new());
    for endpoint in endpoints {
        let err = |source| StoreError::Sqlite {
            path: db.display().to_string(),
            source,
        };
        let conn = rusqlite::Connection::open(db).map_err(err)?;
        conn.busy_timeout(Duration::from_secs(10)).map_err(err)?;
        let (bell, listener) = doorbell::new();
        let deliverer = Deliverer {
            conn,
            endpoint: endpoint.clone(),
            http: ureq::Agent::config_builder()
                .timeout_global(Some(endpoint.timeout))
                .http_status_as_error(false)
                .max_redirects(0)
                .user_agent(concat!("astbase/", env!("CARGO_PKG_VERSION")))
                .build()
                .into(),
            listener,
            log: log.clone(),
            counters: counters.clone(),
            max_backoff,
        };
        handles.push(
            std::thread::Builder::new()
                .name(format!("astbase-hook-{}", endpoint.name))
                .spawn(move || deliverer.run())
                .expect("a thread can be spawned"),
        );
        bells.push(bell);
    }
    Ok(Deliverers {
        bells,
        counters,
        threads: handles,
    })
}

struct Deliverer {
    conn: rusqlite::Connection,
    endpoint: Endpoint,
    http: ureq::Agent,
    listener: Listener,
    log: Log,
    counters: Arc<DeliveryCounters>,
    max_backoff: Duration,
}

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

impl Deliverer {
    fn run(self) {
        while !self.listener.stopping() {
            let pending = match outbox::next(&self.conn, &self.endpoint.name) {
                Ok(p) => p,
                Err(e) => {
                    self.log
                        .emit(Event::WebhookOutboxFailed(self.store_error(e)));
                    self.listener.sleep_unless_stopping(Duration::from_secs(1));
                    continue;
                }
            };
            let Some(pending) = pending else {
                self.listener.wait(Duration::from_millis(500));
                continue;
            };
            let wait = pending.not_before - now_ms();
            if wait > 0 {
                self.listener
                    .sleep_unless_stopping(Duration::from_millis(wait as u64));
                continue;
            }
            let result = self.post(&pending);
            let now = jiff::Timestamp::now().to_string();
            let recorded = match result {
                Ok(()) => {
                    self.counters.delivered.fetch_add(1, Ordering::Relaxed);
                    outbox::delivered(&self.conn, pending.id, &now)
                }
                Err(error) => self.failed(&pending, &error, &now),
            };
            if let Err(e) = recorded {
                // Sent again later: the receiver sees the same idempotency key.
                self.log
                    .emit(Event::WebhookOutboxFailed(self.store_error(e)));
                self.listener.sleep_unless_stopping(Duration::from_secs(1));
            }
        }
    }

    fn failed(&self, pending: &Pending, error: &str, now: &str) -> rusqlite::Result<()> {
        let attempt = pending.attempts + 1;
        if attempt >= self.endpoint.max_attempts {
            self.counters.dead.fetch_add(1, Ordering::Relaxed);
            self.log.emit(Event::WebhookDead {
                endpoint: self.endpoint.name.clone(),
                key: pending.key.clone(),
                attempts: attempt,
                error: error.to_owned(),
            });
            return outbox::failed(&self.conn, pending.id, error, None, now);
        }
        self.counters
            .failed_attempts
            .fetch_add(1, Ordering::Relaxed);
        let wait = crate::agent::backoff(attempt, self.max_backoff);
        self.log.emit(Event::WebhookFailed {
            endpoint: self.endpoint.name.clone(),
            key: pending.key.clone(),
            attempt,
            error: error.to_owned(),
            wait,
        });
        let retry_at = now_ms() + wait.as_millis() as i64;
        outbox::failed(&self.conn, pending.id, error, Some(retry_at), now)
    }

    /// One POST; Ok only for a 2xx answer.
    fn post(&self, pending: &Pending) -> Result<(), String> {
        let timestamp = jiff::Timestamp::now().as_second();
        let body = pending.payload.as_bytes();
        let response = self
            .http
            .post(&self.endpoint.url)
            .header("Content-Type", "application/json")
            .header("Idempotency-Key", &pending.key)
            .header("X-Astbase-Event", &pending.event)
            .header("X-Astbase-Timestamp", timestamp.to_string())
            .header(
                "X-Astbase-Signature",
                signature(&self.endpoint.secret, timestamp, body),
            )
            .send(body)
            .map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        if (200..300).contains(&status) {
            Ok(())
        } else {
            Err(format!("HTTP {status}"))
        }
    }

    fn store_error(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite {
            path: self.conn.path().unwrap_or("agent database").to_owned(),
            source,
        }
    }
}

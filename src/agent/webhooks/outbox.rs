//! The durable outbox: each event addressed to each endpoint whose filter it passes is a
//! row in the agent's SQLite database, written in the same transaction as the change
//! that caused it (the CDR, for `ended` and `missed`), so an event is never lost and a
//! replayed one is ignored (`UNIQUE (endpoint, idempotency_key)`). The payload is fixed
//! when the row is written: a retry sends the same bytes.

use rusqlite::{OptionalExtension, Transaction, params};

use super::config::{Endpoint, EventKind};
use super::events::CallEvent;

/// Whether `endpoint` wants `event`.
fn wanted(endpoint: &Endpoint, event: &CallEvent) -> bool {
    if !endpoint.events.contains(&event.kind) {
        return false;
    }
    let cdr = event.cdr.as_deref();
    let extension_ok = endpoint.extensions.is_empty()
        || endpoint.extensions.iter().any(|e| {
            event.extension.as_deref() == Some(e.as_str())
                || cdr.is_some_and(|c| c.src == *e || c.dst == *e)
        });
    let queue_ok = endpoint.queues.is_empty()
        || event
            .queue
            .as_deref()
            .is_some_and(|q| endpoint.queues.iter().any(|w| w == q));
    extension_ok && queue_ok
}

/// The idempotency key: the same for a replay of the same event on the same server.
pub fn idempotency_key(server: &str, event: &CallEvent) -> String {
    let kind = match event.kind {
        EventKind::Ringing => "ringing",
        EventKind::Answered => "answered",
        EventKind::Ended => "ended",
        EventKind::Missed => "missed",
    };
    format!("{server}:{}:{kind}", event.identity)
}

/// The JSON body of an event (schema/webhook-event.schema.json).
pub fn payload(server: &str, event: &CallEvent, key: &str, occurred_at: &str) -> String {
    let mut body = serde_json::Map::new();
    body.insert("id".into(), key.into());
    body.insert("type".into(), event.kind.name().into());
    body.insert("server".into(), server.into());
    body.insert("occurred_at".into(), occurred_at.into());
    body.insert(
        "call".into(),
        serde_json::to_value(event).expect("events serialize"),
    );
    serde_json::Value::Object(body).to_string()
}

/// Queues `event` for every endpoint that wants it.
pub fn record(
    tx: &Transaction,
    server: &str,
    endpoints: &[Endpoint],
    event: &CallEvent,
    now: &str,
) -> rusqlite::Result<()> {
    let key = idempotency_key(server, event);
    let mut body: Option<String> = None;
    for endpoint in endpoints.iter().filter(|e| wanted(e, event)) {
        let body: &str = body.get_or_insert_with(|| payload(server, event, &key, now));
        tx.prepare_cached(
            "INSERT OR IGNORE INTO webhook_outbox (endpoint, event, idempotency_key, payload,
             created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![endpoint.name, event.kind.name(), key, body, now])?;
    }
    Ok(())
}

/// The oldest undelivered event of an endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub id: i64,
    pub event: String,
    pub key: String,
    pub payload: String,
    pub attempts: u32,
    /// Epoch milliseconds before which it is not tried again.
    pub not_before: i64,
}

pub fn next(conn: &rusqlite::Connection, endpoint: &str) -> rusqlite::Result<Option<Pending>> {
    conn.prepare_cached(
        "SELECT id, event, idempotency_key, payload, attempts, next_attempt_at FROM webhook_outbox
         WHERE endpoint = ?1 AND delivered_at IS NULL AND dead_at IS NULL ORDER BY id LIMIT 1",
    )?
    .query_row([endpoint], |r| {
        Ok(Pending {
            id: r.get(0)?,
            event: r.get(1)?,
            key: r.get(2)?,
            payload: r.get(3)?,
            attempts: r.get(4)?,
            not_before: r.get(5)?,
        })
    })
    .optional()
}

pub fn delivered(conn: &rusqlite::Connection, id: i64, now: &str) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE webhook_outbox SET delivered_at = ?2, attempts = attempts + 1 WHERE id = ?1",
        params![id, now],
    )?;
    Ok(())
}

/// Records a failed attempt: tried again at `retry_at` (epoch ms), or dead-lettered.
pub fn failed(
    conn: &rusqlite::Connection,
    id: i64,
    error: &str,
    retry_at: Option<i64>,
    now: &str,
) -> rusqlite::Result<()> {
    match retry_at {
        Some(at) => conn.execute(
            "UPDATE webhook_outbox SET attempts = attempts + 1, next_attempt_at = ?2,
             last_error = ?3 WHERE id = ?1",
            params![id, at, error],
        )?,
        None => conn.execute(
            "UPDATE webhook_outbox SET attempts = attempts + 1, dead_at = ?2, last_error = ?3
             WHERE id = ?1",
            params![id, now, error],
        )?,
    };
    Ok(())
}

//! Every action a console user takes (log in, hang up, listen, dial, CLI) is logged and
//! recorded in the database (`web_action`): who, from where, what, on what, and how it
//! ended.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::Connection;

use crate::agent::cdr::store::{Store, StoreError};

/// One recorded action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    pub user: String,
    pub role: String,
    pub address: String,
    /// `login`, `hangup`, `spy`, `dial`, `cli`...
    pub action: &'static str,
    pub target: String,
    /// `ok`, or why not.
    pub outcome: String,
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}, {}): {} {}: {}",
            self.user, self.role, self.address, self.action, self.target, self.outcome
        )
    }
}

/// The audit table, in the console's database.
pub enum Audit {
    Sqlite {
        conn: Mutex<Connection>,
        path: String,
    },
    /// `astbase.web_action` in the central database.
    Postgres {
        central: std::sync::Arc<super::store::Central>,
        server: String,
    },
}

/// Why an action could not be recorded.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error(transparent)]
    Sqlite(#[from] StoreError),
    #[error(transparent)]
    Central(#[from] crate::agent::central::CentralError),
}

impl Audit {
    /// Opens the database (creating it and running the agent's migrations).
    pub fn open(db: &Path, server: &str) -> Result<Audit, StoreError> {
        // Migrated (and busy-waiting) as the agent opens it.
        let conn = Store::open(db, server, jiff::tz::TimeZone::UTC)?.into_connection();
        Ok(Audit::Sqlite {
            conn: Mutex::new(conn),
            path: db.display().to_string(),
        })
    }

    /// Records one action (blocking on PostgreSQL: call it off the async workers).
    pub fn record(&self, action: &Action) -> Result<(), AuditError> {
        let (conn, path) = match self {
            Audit::Sqlite { conn, path } => (conn, path),
            Audit::Postgres { central, server } => {
                let fields = [
                    action.user.as_str(),
                    &action.role,
                    &action.address,
                    action.action,
                    &action.target,
                    &action.outcome,
                ];
                return Ok(central.with(|s| s.record_action(server, fields))?);
            }
        };
        let now = jiff::Timestamp::now();
        let conn = conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        conn.execute(
            "INSERT INTO web_action (at, at_epoch, user, role, address, action, target, outcome)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            rusqlite::params![
                now.to_string(),
                now.as_second(),
                action.user,
                action.role,
                action.address,
                action.action,
                action.target,
                action.outcome
            ],
        )
        .map(drop)
        .map_err(|source| {
            StoreError::Sqlite {
                path: path.clone(),
                source,
            }
            .into()
        })
    }
}

//! Where the console's call log, statistics and audit live: the agent's SQLite database
//! beside it, or the fleet's central PostgreSQL database (the same `--db` as
//! `astbase cdr`). One connection to PostgreSQL is kept, opened again when it breaks.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::agent::central::{CentralError, CentralUrl, Session, schema};

/// The CDR store the console reads.
#[derive(Debug, Clone)]
pub enum CdrStore {
    Sqlite(PathBuf),
    Postgres(Box<CentralUrl>),
}

impl std::fmt::Display for CdrStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CdrStore::Sqlite(path) => write!(f, "{}", path.display()),
            CdrStore::Postgres(url) => write!(f, "{}", url.display),
        }
    }
}

/// Each statement's deadline on the central database.
const CENTRAL_TIMEOUT: Duration = Duration::from_secs(10);

/// The central database, connected on first use.
pub struct Central {
    url: CentralUrl,
    session: Mutex<Option<Session>>,
}

impl Central {
    /// Connects once now: a wrong URL or password stops `serve` at its start, and the
    /// schema (with the audit table) is brought up to date.
    pub fn open(url: CentralUrl) -> Result<Central, CentralError> {
        let session = Session::connect(&url, CENTRAL_TIMEOUT)?;
        schema::migrate(&session)?;
        Ok(Central {
            url,
            session: Mutex::new(Some(session)),
        })
    }

    /// Runs `f` on the session (blocking: call it off the async workers).
    pub fn with<T>(
        &self,
        f: impl FnOnce(&Session) -> Result<T, CentralError>,
    ) -> Result<T, CentralError> {
        let mut guard = self
            .session
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if guard.as_ref().is_none_or(Session::is_closed) {
            *guard = Some(Session::connect(&self.url, CENTRAL_TIMEOUT)?);
        }
        let session = guard.as_ref().expect("connected above");
        let result = f(session);
        if session.is_closed() {
            *guard = None;
        }
        result
    }
}

/// The store as the console uses it.
#[derive(Clone)]
pub enum Db {
    Sqlite(PathBuf),
    Postgres(Arc<Central>),
}

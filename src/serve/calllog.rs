//! The call log: the CDR store's records, newest first, 50 a page (keyset pages by row
//! id, so a deep page costs what the first does), searchable by number, exported as
//! CSV, with each call's recording playable where the agent indexed one.

use std::path::Path;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use rusqlite::{Connection, OpenFlags};
use serde::{Deserialize, Serialize};

use super::pages::{App, Authed};
use super::store::{Central, Db};
use crate::agent::central::CentralError;
use crate::agent::central::console::Cursor;

/// Rows on a page.
pub const PAGE: usize = 50;
/// Rows in one CSV export at most.
pub const MAX_EXPORT: usize = 100_000;

#[derive(Debug, Default, Deserialize)]
pub struct Filter {
    /// Part of a number (caller or called).
    #[serde(default)]
    q: String,
    /// Rows older than this one (the next page): a row id in SQLite, a cursor
    /// (`EPOCH.ID.SERVER`) in the central database.
    #[serde(default)]
    before: Option<String>,
}

/// One call of the log.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub id: i64,
    /// The server that stored it (the central database holds the fleet's).
    pub server: Option<String>,
    pub start: String,
    pub src: String,
    pub dst: String,
    pub clid: String,
    pub disposition: String,
    pub duration: i64,
    pub billsec: i64,
    pub uniqueid: String,
    /// The indexed recording of this leg, if any.
    pub recording: Option<i64>,
}

/// The search as a LIKE pattern (`%`, `_` and `\` in it taken literally).
fn pattern(q: &str) -> String {
    let escaped: String = q
        .trim()
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    format!("%{escaped}%")
}

/// Records a search looks through at most for one page: a search that matches little
/// stops there and offers to go on, so no page reads the whole store (a search over
/// 1,000,000 records that matches nothing took 0.4 s).
pub const SEARCH_BUDGET: i64 = 100_000;

/// A page of the log.
#[derive(Debug)]
pub struct Found {
    pub rows: Vec<Row>,
    /// `before` for the next page (older calls), if there may be more.
    pub next: Option<String>,
    /// The search stopped at its budget with fewer than a page found.
    pub partial: bool,
}

/// A page from the `limit + 1` newest rows a store found: the extra row says there are
/// older ones, and the page's last row is where they start; without it, `go_on` says
/// where a search stopped at its budget, if it did.
fn paged<T, E>(
    mut rows: Vec<T>,
    limit: usize,
    cursor_of: impl Fn(&T) -> String,
    go_on: impl FnOnce() -> Result<Option<String>, E>,
) -> Result<(Vec<T>, Option<String>, bool), E> {
    if rows.len() > limit {
        rows.truncate(limit);
        let next = rows.last().map(cursor_of);
        return Ok((rows, next, false));
    }
    let next = go_on()?;
    let partial = next.is_some();
    Ok((rows, next, partial))
}

/// Up to `limit` records older than `filter.before`, newest first; a search reads at
/// most `budget` records (none: all).
pub fn rows(
    db: &Path,
    filter: &Filter,
    limit: usize,
    budget: Option<i64>,
) -> rusqlite::Result<Found> {
    let conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let _ = conn.busy_timeout(std::time::Duration::from_secs(2));
    let q = filter.q.trim();
    // Written out per case: SQLite walks the rowid range only when the bounds are plain
    // comparisons (an `?3 IS NULL OR` around one made a deep page scan from the top).
    let before = match filter.before.as_deref().and_then(|b| b.parse::<i64>().ok()) {
        Some(b) => b,
        None => conn.query_row("SELECT coalesce(max(id), 0) + 1 FROM cdr", [], |r| r.get(0))?,
    };
    let floor = match (q.is_empty(), budget) {
        (false, Some(budget)) => before.saturating_sub(budget),
        _ => 0,
    };
    let mut stmt = conn.prepare_cached(
        "SELECT c.id, c.start, c.src, c.dst, c.clid, c.disposition, c.duration, c.billsec,
                c.uniqueid, r.id
         FROM cdr c
         LEFT JOIN recording r ON r.uniqueid = c.uniqueid AND r.deleted_at IS NULL
         WHERE c.id < ?3 AND c.id >= ?4
           AND (?1 = '' OR c.src LIKE ?2 ESCAPE '\\' OR c.dst LIKE ?2 ESCAPE '\\')
         ORDER BY c.id DESC
         LIMIT ?5",
    )?;
    let rows: Vec<Row> = stmt
        .query_map(
            rusqlite::params![q, pattern(q), before, floor, limit as i64 + 1],
            |r| {
                Ok(Row {
                    id: r.get(0)?,
                    server: None,
                    start: r.get(1)?,
                    src: r.get(2)?,
                    dst: r.get(3)?,
                    clid: r.get(4)?,
                    disposition: r.get(5)?,
                    duration: r.get(6)?,
                    billsec: r.get(7)?,
                    uniqueid: r.get(8)?,
                    recording: r.get(9)?,
                })
            },
        )?
        .collect::<rusqlite::Result<_>>()?;
    let (rows, next, partial) = paged(
        rows,
        limit,
        |r| r.id.to_string(),
        || -> rusqlite::Result<_> {
            let oldest: i64 =
                conn.query_row("SELECT coalesce(min(id), 0) FROM cdr", [], |r| r.get(0))?;
            Ok((floor > oldest).then(|| floor.to_string()))
        },
    )?;
    Ok(Found {
        rows,
        next,
        partial,
    })
}

/// A page from the central database: the same bounds, by cursor.
fn central_rows(
    central: &Central,
    filter: &Filter,
    limit: usize,
    budget: Option<i64>,
) -> Result<Found, CentralError> {
    let q = filter.q.trim();
    let before = filter.before.as_deref().and_then(Cursor::parse);
    central.with(|s| {
        let calls = s.logged_calls(q, &pattern(q), before.as_ref(), limit + 1, budget)?;
        let (calls, next, partial) = paged(
            calls,
            limit,
            |c| c.cursor().to_string(),
            || -> Result<_, CentralError> {
                match budget {
                    Some(b) if !q.is_empty() => {
                        Ok(s.cursor_after(before.as_ref(), b)?.map(|c| c.to_string()))
                    }
                    _ => Ok(None),
                }
            },
        )?;
        let rows = calls
            .into_iter()
            .map(|c| Row {
                id: c.local_id,
                server: Some(c.server),
                start: c.start,
                src: c.src,
                dst: c.dst,
                clid: c.clid,
                disposition: c.disposition,
                duration: c.duration,
                billsec: c.billsec,
                uniqueid: c.uniqueid,
                // Recordings stay on each server, indexed by its agent.
                recording: None,
            })
            .collect();
        Ok(Found {
            rows,
            next,
            partial,
        })
    })
}

/// A page of the log from whichever store the console reads.
pub fn found(db: &Db, filter: &Filter, limit: usize, budget: Option<i64>) -> Result<Found, String> {
    match db {
        Db::Sqlite(path) => rows(path, filter, limit, budget).map_err(|e| e.to_string()),
        Db::Postgres(central) => {
            central_rows(central, filter, limit, budget).map_err(|e| e.to_string())
        }
    }
}

pub(super) fn unavailable(app: &App, e: &dyn std::fmt::Display) -> Response {
    (app.log)(&format!("CDR store: {e}"));
    (
        StatusCode::SERVICE_UNAVAILABLE,
        format!("the call records cannot be read: {e}"),
    )
        .into_response()
}

pub async fn page(
    State(app): State<Arc<App>>,
    authed: Authed,
    Query(filter): Query<Filter>,
) -> Response {
    let db = app.db.clone();
    let q = filter.q.clone();
    let found =
        tokio::task::spawn_blocking(move || found(&db, &filter, PAGE, Some(SEARCH_BUDGET))).await;
    let found = match found {
        Ok(Ok(found)) => found,
        Ok(Err(e)) => return unavailable(&app, &e),
        Err(e) => return unavailable(&app, &e),
    };
    app.page(
        "log.html",
        Some(&authed.session),
        minijinja::context! {
            rows => minijinja::Value::from(minijinja::value::Serde(&found.rows)),
            q => q,
            next => found.next,
            partial => found.partial,
            budget => SEARCH_BUDGET,
        },
    )
}

pub async fn csv(
    State(app): State<Arc<App>>,
    _authed: Authed,
    Query(filter): Query<Filter>,
) -> Response {
    let db = app.db.clone();
    let found = tokio::task::spawn_blocking(move || found(&db, &filter, MAX_EXPORT, None)).await;
    let rows = match found {
        Ok(Ok(found)) => found.rows,
        Ok(Err(e)) => return unavailable(&app, &e),
        Err(e) => return unavailable(&app, &e),
    };
    let mut out = csv::Writer::from_writer(Vec::new());
    let _ = out.write_record([
        "start",
        "src",
        "dst",
        "clid",
        "disposition",
        "duration",
        "billsec",
        "uniqueid",
    ]);
    for r in &rows {
        let _ = out.write_record([
            r.start.as_str(),
            &r.src,
            &r.dst,
            &r.clid,
            &r.disposition,
            &r.duration.to_string(),
            &r.billsec.to_string(),
            &r.uniqueid,
        ]);
    }
    let bytes = out.into_inner().unwrap_or_default();
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"calls.csv\"",
            ),
        ],
        bytes,
    )
        .into_response()
}

/// A recording's file, for the browser's audio player.
pub async fn recording(
    State(app): State<Arc<App>>,
    _authed: Authed,
    axum::extract::Path(id): axum::extract::Path<i64>,
) -> Response {
    let Db::Sqlite(db) = app.db.clone() else {
        return (StatusCode::NOT_FOUND, "recordings are kept on each server").into_response();
    };
    let path = tokio::task::spawn_blocking(move || -> rusqlite::Result<Option<String>> {
        let conn = Connection::open_with_flags(&db, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        conn.query_row(
            "SELECT path FROM recording WHERE id = ?1 AND deleted_at IS NULL",
            [id],
            |r| r.get(0),
        )
        .map(Some)
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            e => Err(e),
        })
    })
    .await;
    let Ok(Ok(Some(path))) = path else {
        return (StatusCode::NOT_FOUND, "no such recording").into_response();
    };
    match tokio::fs::read(&path).await {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, "audio/wav"),
                (header::CACHE_CONTROL, "private, no-store"),
            ],
            bytes,
        )
            .into_response(),
        Err(_) => (StatusCode::NOT_FOUND, "the recording's file is gone").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_reads_at_most_its_budget_and_says_where_to_go_on() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("agent.db");
        let conn = crate::agent::cdr::store::Store::open(&db, "s", jiff::tz::TimeZone::UTC)
            .unwrap()
            .into_connection();
        for i in 1..=30 {
            conn.execute(
                "INSERT INTO cdr (server, accountcode, src, dst, dcontext, clid, channel,
                   dstchannel, lastapp, lastdata, start, end, duration, billsec, disposition,
                   amaflags, uniqueid, userfield, received_at, origin, fingerprint)
                 VALUES ('s', '', ?1, '102', '', '', '', '', '', '', '', '', 0, 0, 'ANSWERED',
                   '', ?2, '', '', 'ami', ?2)",
                rusqlite::params![if i <= 3 { "555" } else { "101" }, i.to_string()],
            )
            .unwrap();
        }
        let search = |before: Option<&str>| Filter {
            q: "555".into(),
            before: before.map(str::to_owned),
        };
        let ids = |f: &Found| f.rows.iter().map(|r| r.id).collect::<Vec<_>>();
        // The newest 10 hold no match: go on from id 21.
        let first = rows(&db, &search(None), 50, Some(10)).unwrap();
        assert_eq!(
            (ids(&first), first.next.as_deref(), first.partial),
            (vec![], Some("21"), true)
        );
        let second = rows(&db, &search(Some("11")), 50, Some(10)).unwrap();
        assert_eq!(
            (ids(&second), second.next, second.partial),
            (vec![3, 2, 1], None, false)
        );
        // Without a budget (the CSV export) everything is read.
        let all = rows(&db, &search(None), 50, None).unwrap();
        assert_eq!((ids(&all), all.next), (vec![3, 2, 1], None));
        // Browsing pages by id, without a search, is not limited.
        let page = rows(&db, &Filter::default(), 5, Some(10)).unwrap();
        assert_eq!(
            (ids(&page), page.next.as_deref()),
            (vec![30, 29, 28, 27, 26], Some("26"))
        );
    }

    #[test]
    fn a_search_is_a_substring_with_wildcards_taken_literally() {
        assert_eq!(pattern(" 101 "), "%101%");
        assert_eq!(pattern("50%_x\\"), "%50\\%\\_x\\\\%");
    }
}

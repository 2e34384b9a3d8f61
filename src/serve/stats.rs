//! The statistics page: calls per day and per hour, answered and missed, the busiest
//! queues and extensions with their average wait and talk times, over a range of local
//! days. Read from the CDR store's rollup (`agent::cdr::rollup`), so a page costs the
//! same over a thousand records or a million.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::response::Response;
use jiff::civil::Date;
use rusqlite::{Connection, OpenFlags};
use serde::{Deserialize, Serialize};

use super::pages::{App, Authed};
use super::store::{Central, Db};
use crate::agent::cdr::rollup::{self, Days, RollupKind, Tally};
use crate::agent::central::CentralError;

/// Extensions and queues listed at most.
pub const TOP: usize = 20;
/// The longest range a page covers, in days.
pub const MAX_DAYS: i32 = 1000;
/// The range when none is asked for: the last 30 days.
const DEFAULT_DAYS: i32 = 30;

#[derive(Debug, Default, Deserialize)]
pub struct RangeQuery {
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
}

/// A tally as a page shows it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Line {
    pub key: String,
    pub calls: i64,
    pub answered: i64,
    pub missed: i64,
    pub average_wait: f64,
    pub average_talk: f64,
}

impl Line {
    fn new(key: String, t: &Tally) -> Line {
        Line {
            key,
            calls: t.calls,
            answered: t.answered,
            missed: t.missed(),
            average_wait: round1(t.average_wait()),
            average_talk: round1(t.average_talk()),
        }
    }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// Everything the page shows.
#[derive(Debug, Clone, Serialize)]
pub struct Statistics {
    pub first: String,
    pub last: String,
    pub total: Line,
    /// Every day of the range, calls or not (the chart's x axis).
    pub days: Vec<Line>,
    /// Hours 0-23.
    pub hours: Vec<Line>,
    pub queues: Vec<Line>,
    pub extensions: Vec<Line>,
}

/// Why a range cannot be shown.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum RangeError {
    #[error("`{0}` is not a date: write it as 2026-12-01")]
    NotADate(String),
    #[error("the range ends ({last}) before it starts ({first})")]
    Backwards { first: Date, last: Date },
    #[error("the range is {0} days long; show at most {MAX_DAYS} at once")]
    TooLong(i64),
}

/// The days asked for: `from`..=`to`, each defaulting to a 30-day range that ends
/// `today`.
pub fn days(query: &RangeQuery, today: Date) -> Result<(Date, Date), RangeError> {
    let parse = |s: &Option<String>| -> Result<Option<Date>, RangeError> {
        match s.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(t) => t
                .parse::<Date>()
                .map(Some)
                .map_err(|_| RangeError::NotADate(t.to_owned())),
        }
    };
    let (from, to) = (parse(&query.from)?, parse(&query.to)?);
    let span = jiff::Span::new().days(DEFAULT_DAYS - 1);
    let (first, last) = match (from, to) {
        (Some(f), Some(t)) => (f, t),
        (Some(f), None) => (f, f.saturating_add(span)),
        (None, Some(t)) => (t.saturating_sub(span), t),
        (None, None) => (today.saturating_sub(span), today),
    };
    if last < first {
        return Err(RangeError::Backwards { first, last });
    }
    let length = i64::from((last - first).get_days()) + 1;
    if length > i64::from(MAX_DAYS) {
        return Err(RangeError::TooLong(length));
    }
    Ok((first, last))
}

/// What a store gives for a range: each day's and each hour's tally, and the
/// busiest queues and extensions.
struct Figures {
    per_day: Vec<(String, Tally)>,
    per_hour: [Tally; 24],
    queues: Vec<(String, Tally)>,
    extensions: Vec<(String, Tally)>,
}

/// Reads the statistics of `first..=last` (the rollup already caught up).
pub fn read(conn: &Connection, first: Date, last: Date) -> rusqlite::Result<Statistics> {
    let range = Days {
        first: first.to_string(),
        last: last.to_string(),
    };
    let figures = Figures {
        per_day: rollup::per_day(conn, &range)?,
        per_hour: rollup::per_hour(conn, &range)?,
        queues: rollup::busiest(conn, RollupKind::Queue, &range, TOP)?,
        extensions: rollup::busiest(conn, RollupKind::Extension, &range, TOP)?,
    };
    Ok(assemble(first, last, figures))
}

/// The same figures from the central database, aggregated there over the fleet.
pub fn read_central(
    central: &Central,
    zone: &jiff::tz::TimeZone,
    first: Date,
    last: Date,
) -> Result<Statistics, CentralError> {
    // The days' bounds in epoch seconds, a day wider each side: each server writes its
    // own local times, and the exact day is then taken from them.
    let epoch = |d: Date| {
        d.to_datetime(jiff::civil::Time::midnight())
            .to_zoned_datetime(zone.clone())
            .map_or(0, |z| z.timestamp().as_second())
    };
    let since = epoch(first) - 86_400;
    let until = last.tomorrow().map_or(i64::MAX, epoch) + 86_400;
    let f = central.with(|s| {
        s.day_figures(
            &first.to_string(),
            &last.to_string(),
            since,
            until,
            &[],
            TOP,
        )
    })?;
    let mut per_day: Vec<(String, Tally)> = Vec::new();
    let mut per_hour = [Tally::default(); 24];
    for (day, hour, t) in &f.hours {
        match per_day.last_mut() {
            Some((d, sum)) if d == day => *sum += t,
            _ => per_day.push((day.clone(), *t)),
        }
        if let Some(slot) = usize::try_from(*hour)
            .ok()
            .and_then(|h| per_hour.get_mut(h))
        {
            *slot += t;
        }
    }
    Ok(assemble(
        first,
        last,
        Figures {
            per_day,
            per_hour,
            queues: f.queues,
            extensions: f.extensions,
        },
    ))
}

fn assemble(first: Date, last: Date, figures: Figures) -> Statistics {
    let mut total = Tally::default();
    let mut stored = figures.per_day.into_iter().peekable();
    let mut days = Vec::new();
    let mut day = first;
    while day <= last {
        let key = day.to_string();
        let t = match stored.peek() {
            Some((d, _)) if *d == key => stored.next().map(|(_, t)| t).unwrap_or_default(),
            _ => Tally::default(),
        };
        total += &t;
        days.push(Line::new(key, &t));
        match day.tomorrow() {
            Ok(next) => day = next,
            Err(_) => break,
        }
    }
    let lines = |list: Vec<(String, Tally)>| -> Vec<Line> {
        list.into_iter().map(|(k, t)| Line::new(k, &t)).collect()
    };
    Statistics {
        first: first.to_string(),
        last: last.to_string(),
        total: Line::new("total".into(), &total),
        days,
        hours: figures
            .per_hour
            .iter()
            .enumerate()
            .map(|(h, t)| Line::new(format!("{h:02}"), t))
            .collect(),
        queues: lines(figures.queues),
        extensions: lines(figures.extensions),
    }
}

fn open(db: &std::path::Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(conn)
}

/// Brings the store's rollup up to date: how many records it added.
pub fn catch_up(db: &std::path::Path) -> rusqlite::Result<u64> {
    rollup::catch_up(&mut open(db)?)
}

/// Catches the rollup up and reads the page's figures from the SQLite store.
pub fn load(db: &std::path::Path, first: Date, last: Date) -> rusqlite::Result<Statistics> {
    let mut conn = open(db)?;
    rollup::catch_up(&mut conn)?;
    read(&conn, first, last)
}

pub async fn page(
    State(app): State<Arc<App>>,
    authed: Authed,
    Query(query): Query<RangeQuery>,
) -> Response {
    let today = jiff::ZonedDateTime::now()
        .with_time_zone(app.zone.clone())
        .date();
    let (first, last) = match days(&query, today) {
        Ok(range) => range,
        Err(e) => {
            return app.page(
                "stats.html",
                Some(&authed.session),
                minijinja::context! {
                    error => e.to_string(),
                    from => query.from.unwrap_or_default(),
                    to => query.to.unwrap_or_default(),
                },
            );
        }
    };
    let db = app.db.clone();
    // One catch-up at a time: two pages opened together would otherwise queue on
    // SQLite's write lock and then find nothing left to do.
    let (gate, zone) = (app.rollup_gate.clone(), app.zone.clone());
    let found = tokio::task::spawn_blocking(move || match db {
        Db::Sqlite(path) => {
            let _one = gate.lock();
            load(&path, first, last).map_err(|e| e.to_string())
        }
        Db::Postgres(central) => {
            read_central(&central, &zone, first, last).map_err(|e| e.to_string())
        }
    })
    .await;
    let stats = match found {
        Ok(Ok(stats)) => stats,
        Ok(Err(e)) => return super::calllog::unavailable(&app, &e),
        Err(e) => return super::calllog::unavailable(&app, &e),
    };
    app.page(
        "stats.html",
        Some(&authed.session),
        minijinja::context! {
            stats => minijinja::Value::from(minijinja::value::Serde(&stats)),
            from => stats.first.clone(),
            to => stats.last.clone(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(from: Option<&str>, to: Option<&str>) -> RangeQuery {
        RangeQuery {
            from: from.map(str::to_owned),
            to: to.map(str::to_owned),
        }
    }

    #[test]
    fn a_range_defaults_to_the_thirty_days_that_end_today_and_refuses_nonsense() {
        let today = jiff::civil::date(2026, 12, 2);
        let d = |s: &str| s.parse::<Date>().unwrap();
        assert_eq!(
            days(&q(None, None), today),
            Ok((d("2026-11-03"), d("2026-12-02")))
        );
        assert_eq!(
            days(&q(Some("2026-01-01"), None), today),
            Ok((d("2026-01-01"), d("2026-01-30")))
        );
        assert_eq!(
            days(&q(Some(" 2026-02-01 "), Some("2026-02-01")), today),
            Ok((d("2026-02-01"), d("2026-02-01")))
        );
        assert_eq!(
            days(&q(Some("yesterday"), None), today),
            Err(RangeError::NotADate("yesterday".into()))
        );
        assert_eq!(
            days(&q(Some("2026-02-02"), Some("2026-02-01")), today)
                .unwrap_err()
                .to_string(),
            "the range ends (2026-02-01) before it starts (2026-02-02)"
        );
        assert_eq!(
            days(&q(Some("2020-01-01"), Some("2026-01-01")), today),
            Err(RangeError::TooLong(2193))
        );
    }
}

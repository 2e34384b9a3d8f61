//! Call statistics and exports from the CDR database (`astbase cdr report|export`).

use jiff::tz::TimeZone;
use rusqlite::Connection;

/// How to group the statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    /// Each extension, counting calls it made and calls it received.
    Extension,
    /// Queue calls by queue name (first argument of `Queue()`).
    Queue,
    /// Calendar day in the server's zone.
    Day,
    Disposition,
    /// The server that stored the record (one per agent; many in the central database).
    Server,
}

impl GroupBy {
    /// The heading of the key column.
    pub fn title(self) -> &'static str {
        match self {
            GroupBy::Extension => "extension",
            GroupBy::Queue => "queue",
            GroupBy::Day => "day",
            GroupBy::Disposition => "disposition",
            GroupBy::Server => "server",
        }
    }
}

/// One row of a report.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Stats {
    pub key: String,
    pub calls: i64,
    pub answered: i64,
    pub missed: i64,
    /// Average billable seconds of answered calls.
    pub average_billsec: f64,
    pub total_billsec: i64,
}

/// A time range over `start`, in epoch seconds (inclusive since, exclusive until).
#[derive(Debug, Clone, Copy, Default)]
pub struct Range {
    pub since: Option<i64>,
    pub until: Option<i64>,
}

#[derive(Debug, thiserror::Error)]
#[error(
    "`{text}` is not a time: write 2026-11-26, `2026-11-26 09:30` or 2026-11-26T09:30:00+03:00"
)]
pub struct BadTime {
    pub text: String,
}

/// Parses a `--since`/`--until` value in `zone`: a date, a local date and time, or an
/// ISO-8601 time with an offset.
pub fn parse_time(text: &str, zone: &TimeZone) -> Result<i64, BadTime> {
    let t = text.trim();
    if let Ok(ts) = t.parse::<jiff::Timestamp>() {
        return Ok(ts.as_second());
    }
    let civil = jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M:%S", t)
        .or_else(|_| jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M", t))
        .or_else(|_| t.parse::<jiff::civil::DateTime>())
        .or_else(|_| {
            t.parse::<jiff::civil::Date>()
                .map(|d| d.to_datetime(jiff::civil::Time::midnight()))
        });
    civil
        .ok()
        .and_then(|dt| dt.to_zoned_datetime(zone.clone()).ok())
        .map(|z| z.timestamp().as_second())
        .ok_or_else(|| BadTime {
            text: text.to_owned(),
        })
}

/// The records a report or export covers: a time range and, when not empty, these
/// servers only (`?1`, `?2` and then one parameter per server).
fn selection(servers: &[String]) -> String {
    let mut sql =
        "(?1 IS NULL OR start_epoch >= ?1) AND (?2 IS NULL OR start_epoch < ?2)".to_owned();
    if !servers.is_empty() {
        let params: Vec<String> = (3..3 + servers.len()).map(|i| format!("?{i}")).collect();
        sql.push_str(&format!(" AND server IN ({})", params.join(", ")));
    }
    sql
}

fn parameters<'a>(range: Range, servers: &'a [String]) -> Vec<Box<dyn rusqlite::ToSql + 'a>> {
    let mut p: Vec<Box<dyn rusqlite::ToSql>> = vec![Box::new(range.since), Box::new(range.until)];
    p.extend(
        servers
            .iter()
            .map(|s| Box::new(s) as Box<dyn rusqlite::ToSql>),
    );
    p
}

/// Statistics per group, ordered by key (byte order, as the central database orders
/// them too).
pub fn report(
    conn: &Connection,
    by: GroupBy,
    range: Range,
    servers: &[String],
) -> rusqlite::Result<Vec<Stats>> {
    let selected = selection(servers);
    let rows = match by {
        GroupBy::Extension => format!(
            "SELECT src AS key, disposition, billsec FROM cdr WHERE {selected} AND src <> ''
             UNION ALL
             SELECT dst AS key, disposition, billsec FROM cdr WHERE {selected} AND dst <> ''
               AND dst <> src"
        ),
        GroupBy::Queue => format!(
            "SELECT CASE WHEN instr(lastdata, ',') > 0
                    THEN substr(lastdata, 1, instr(lastdata, ',') - 1) ELSE lastdata END AS key,
                    disposition, billsec
             FROM cdr WHERE {selected} AND lastapp = 'Queue'"
        ),
        GroupBy::Day => {
            format!(
                "SELECT substr(start, 1, 10) AS key, disposition, billsec FROM cdr WHERE {selected}"
            )
        }
        GroupBy::Disposition => {
            format!("SELECT disposition AS key, disposition, billsec FROM cdr WHERE {selected}")
        }
        GroupBy::Server => {
            format!("SELECT server AS key, disposition, billsec FROM cdr WHERE {selected}")
        }
    };
    let sql = format!(
        "SELECT key, count(*),
                sum(disposition = 'ANSWERED'),
                coalesce(avg(CASE WHEN disposition = 'ANSWERED' THEN billsec END), 0),
                coalesce(sum(billsec), 0)
         FROM ({rows}) GROUP BY key ORDER BY key"
    );
    let mut stmt = conn.prepare(&sql)?;
    let values = parameters(range, servers);
    stmt.query_map(rusqlite::params_from_iter(values.iter()), |r| {
        let calls: i64 = r.get(1)?;
        let answered: i64 = r.get::<_, Option<i64>>(2)?.unwrap_or(0);
        Ok(Stats {
            key: r.get(0)?,
            calls,
            answered,
            missed: calls - answered,
            average_billsec: r.get(3)?,
            total_billsec: r.get(4)?,
        })
    })?
    .collect()
}

/// Columns of an export, in order.
pub const EXPORT_COLUMNS: &[&str] = &[
    "server",
    "start",
    "answer",
    "end",
    "src",
    "dst",
    "dcontext",
    "clid",
    "channel",
    "dstchannel",
    "lastapp",
    "lastdata",
    "duration",
    "billsec",
    "disposition",
    "amaflags",
    "accountcode",
    "uniqueid",
    "linkedid",
    "sequence",
    "peeraccount",
    "userfield",
    "received_at",
    "origin",
];

/// Calls `row` for each CDR in the range, oldest first, as text values.
pub fn export(
    conn: &Connection,
    range: Range,
    servers: &[String],
    mut row: impl FnMut(&[Option<String>]) -> std::io::Result<()>,
) -> Result<u64, ExportError> {
    let sql = format!(
        "SELECT {} FROM cdr WHERE {} ORDER BY start_epoch, server, id",
        EXPORT_COLUMNS.join(", "),
        selection(servers)
    );
    let mut stmt = conn.prepare(&sql)?;
    let values = parameters(range, servers);
    let mut rows = stmt.query(rusqlite::params_from_iter(values.iter()))?;
    let mut n = 0;
    let mut values: Vec<Option<String>> = Vec::with_capacity(EXPORT_COLUMNS.len());
    while let Some(r) = rows.next()? {
        values.clear();
        for i in 0..EXPORT_COLUMNS.len() {
            values.push(match r.get_ref(i)? {
                rusqlite::types::ValueRef::Null => None,
                rusqlite::types::ValueRef::Integer(v) => Some(v.to_string()),
                rusqlite::types::ValueRef::Real(v) => Some(v.to_string()),
                rusqlite::types::ValueRef::Text(t) | rusqlite::types::ValueRef::Blob(t) => {
                    Some(String::from_utf8_lossy(t).into_owned())
                }
            });
        }
        row(&values)?;
        n += 1;
    }
    Ok(n)
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error(transparent)]
    Central(#[from] crate::agent::central::CentralError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// A table for a terminal: columns aligned, numbers right-aligned.
pub fn table(stats: &[Stats], key_title: &str) -> String {
    let header = [
        key_title,
        "calls",
        "answered",
        "missed",
        "avg billsec",
        "total billsec",
    ];
    let mut rows: Vec<[String; 6]> = stats
        .iter()
        .map(|s| {
            [
                s.key.clone(),
                s.calls.to_string(),
                s.answered.to_string(),
                s.missed.to_string(),
                format!("{:.1}", s.average_billsec),
                s.total_billsec.to_string(),
            ]
        })
        .collect();
    let total_calls: i64 = stats.iter().map(|s| s.calls).sum();
    let total_answered: i64 = stats.iter().map(|s| s.answered).sum();
    let total_bill: i64 = stats.iter().map(|s| s.total_billsec).sum();
    rows.push([
        "total".into(),
        total_calls.to_string(),
        total_answered.to_string(),
        (total_calls - total_answered).to_string(),
        String::new(),
        total_bill.to_string(),
    ]);
    let mut widths = header.map(str::len);
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let mut out = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            if i == 0 {
                out.push_str(&format!("{cell:<w$}"));
            } else {
                out.push_str(&format!("  {cell:>w$}"));
            }
        }
        out.trim_end().to_owned() + "\n"
    };
    let mut out = line(&header.map(str::to_owned));
    out.push_str(&line(&widths.map(|w| "-".repeat(w))));
    let last = rows.len() - 1;
    for (i, r) in rows.iter().enumerate() {
        if i == last {
            out.push_str(&line(&widths.map(|w| "-".repeat(w))));
        }
        out.push_str(&line(r));
    }
    out
}

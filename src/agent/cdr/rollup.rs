//! Call statistics kept rolled up beside the CDRs, so a statistics page over a million
//! records reads a few thousand rows instead of scanning them all.
//!
//! Two tables (migration 6): `cdr_hourly` counts every record per local day and hour,
//! `cdr_daily` per day and extension (caller and callee, when they are the PBX's own
//! numbers of at most [`MAX_EXTENSION`] digits) or queue (the first argument of `Queue()`). They are brought up to date
//! by whoever reads them ([`catch_up`]), from the last CDR id they hold
//! (`rollup_mark`): the agent's insert path stays as fast as it was, and a reader pays
//! only for the records stored since its last look.

use rusqlite::{Connection, Transaction, params};

/// Records rolled up per transaction: the agent waits for the write lock at most this
/// long (about 0.1 s per 100,000 records here).
const CHUNK: i64 = 50_000;

/// The longest number counted as one of the PBX's own extensions.
pub const MAX_EXTENSION: usize = 6;

/// What a record counts as, in `cdr_daily.kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RollupKind {
    Extension = 1,
    Queue = 2,
}

/// Sums over some records: what every statistic is made of.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Tally {
    pub calls: i64,
    pub answered: i64,
    /// Billable seconds of answered records.
    pub talk: i64,
    /// Seconds answered records waited before the answer (`duration - billsec`).
    pub wait: i64,
}

impl std::ops::AddAssign<&Tally> for Tally {
    fn add_assign(&mut self, o: &Tally) {
        self.calls += o.calls;
        self.answered += o.answered;
        self.talk += o.talk;
        self.wait += o.wait;
    }
}

impl Tally {
    pub fn missed(&self) -> i64 {
        self.calls - self.answered
    }
    /// Average talk time of answered calls, in seconds.
    pub fn average_talk(&self) -> f64 {
        ratio(self.talk, self.answered)
    }
    /// Average time to answer, in seconds.
    pub fn average_wait(&self) -> f64 {
        ratio(self.wait, self.answered)
    }
}

fn ratio(sum: i64, n: i64) -> f64 {
    if n == 0 { 0.0 } else { sum as f64 / n as f64 }
}

/// The tally columns of a SELECT over `cdr`.
const TALLY: &str = "count(*), sum(disposition = 'ANSWERED'),
    sum(CASE WHEN disposition = 'ANSWERED' THEN billsec ELSE 0 END),
    sum(CASE WHEN disposition = 'ANSWERED' THEN max(duration - billsec, 0) ELSE 0 END)";

/// Adds an upserted tally to the one already stored.
const ADD: &str = "calls = calls + excluded.calls, answered = answered + excluded.answered,
    talk = talk + excluded.talk, wait = wait + excluded.wait";

/// Brings the rollup up to date with every stored CDR; returns how many records it
/// added. Safe beside the agent and beside other readers: each chunk and its mark are
/// one write transaction.
pub fn catch_up(conn: &mut Connection) -> rusqlite::Result<u64> {
    let mut added = 0;
    loop {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let from: i64 = tx.query_row("SELECT last_id FROM rollup_mark", [], |r| r.get(0))?;
        let newest: i64 = tx.query_row("SELECT coalesce(max(id), 0) FROM cdr", [], |r| r.get(0))?;
        if newest <= from {
            return Ok(added);
        }
        let to = newest.min(from + CHUNK);
        added += add_range(&tx, from, to)?;
        tx.execute("UPDATE rollup_mark SET last_id = ?1", [to])?;
        tx.commit()?;
    }
}

/// Rolls up the records with `from < id <= to`.
fn add_range(tx: &Transaction, from: i64, to: i64) -> rusqlite::Result<u64> {
    let range = "id > ?1 AND id <= ?2";
    tx.execute(
        &format!(
            "INSERT INTO cdr_hourly (day, hour, calls, answered, talk, wait)
             SELECT substr(start, 1, 10), CAST(substr(start, 12, 2) AS INTEGER), {TALLY}
             FROM cdr WHERE {range} GROUP BY 1, 2
             ON CONFLICT (day, hour) DO UPDATE SET {ADD}"
        ),
        params![from, to],
    )?;
    // Extensions: the caller, and the callee when it is someone else, when they are
    // the PBX's own short numbers. Outside numbers (a `+`, or over 6 digits) are left
    // out: every caller would otherwise get a row per day, as many rows as records.
    let own = |column: &str| {
        format!("length({column}) BETWEEN 1 AND {MAX_EXTENSION} AND {column} NOT GLOB '*[^0-9]*'")
    };
    tx.execute(
        &format!(
            "INSERT INTO cdr_daily (kind, key, day, calls, answered, talk, wait)
             SELECT {ext}, key, day, {TALLY} FROM (
                 SELECT src AS key, substr(start, 1, 10) AS day, disposition, billsec, duration
                 FROM cdr WHERE {range} AND {src}
                 UNION ALL
                 SELECT dst, substr(start, 1, 10), disposition, billsec, duration
                 FROM cdr WHERE {range} AND {dst} AND dst <> src)
             WHERE true GROUP BY key, day
             ON CONFLICT (kind, key, day) DO UPDATE SET {ADD}",
            ext = RollupKind::Extension as i64,
            src = own("src"),
            dst = own("dst"),
        ),
        params![from, to],
    )?;
    tx.execute(
        &format!(
            "INSERT INTO cdr_daily (kind, key, day, calls, answered, talk, wait)
             SELECT {queue}, CASE WHEN instr(lastdata, ',') > 0
                    THEN substr(lastdata, 1, instr(lastdata, ',') - 1) ELSE lastdata END,
                    substr(start, 1, 10), {TALLY}
             FROM cdr WHERE {range} AND lastapp = 'Queue' GROUP BY 2, 3
             ON CONFLICT (kind, key, day) DO UPDATE SET {ADD}",
            queue = RollupKind::Queue as i64
        ),
        params![from, to],
    )?;
    tx.query_row(
        &format!("SELECT count(*) FROM cdr WHERE {range}"),
        params![from, to],
        |r| r.get::<_, i64>(0).map(|n| n as u64),
    )
}

/// Local calendar days, inclusive (`YYYY-MM-DD`, compared as text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Days {
    pub first: String,
    pub last: String,
}

fn tally(r: &rusqlite::Row, at: usize) -> rusqlite::Result<Tally> {
    Ok(Tally {
        calls: r.get::<_, Option<i64>>(at)?.unwrap_or(0),
        answered: r.get::<_, Option<i64>>(at + 1)?.unwrap_or(0),
        talk: r.get::<_, Option<i64>>(at + 2)?.unwrap_or(0),
        wait: r.get::<_, Option<i64>>(at + 3)?.unwrap_or(0),
    })
}

const SUMS: &str = "sum(calls), sum(answered), sum(talk), sum(wait)";

/// Every day of `days` that had calls, in order.
pub fn per_day(conn: &Connection, days: &Days) -> rusqlite::Result<Vec<(String, Tally)>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT day, {SUMS} FROM cdr_hourly WHERE day BETWEEN ?1 AND ?2 GROUP BY day ORDER BY day"
    ))?;
    stmt.query_map(params![days.first, days.last], |r| {
        Ok((r.get(0)?, tally(r, 1)?))
    })?
    .collect()
}

/// The 24 hours of the day (local time), summed over `days`.
pub fn per_hour(conn: &Connection, days: &Days) -> rusqlite::Result<[Tally; 24]> {
    let mut hours = [Tally::default(); 24];
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT hour, {SUMS} FROM cdr_hourly WHERE day BETWEEN ?1 AND ?2 GROUP BY hour"
    ))?;
    let rows = stmt.query_map(params![days.first, days.last], |r| {
        Ok((r.get::<_, i64>(0)?, tally(r, 1)?))
    })?;
    for row in rows {
        let (hour, t) = row?;
        if let Some(slot) = usize::try_from(hour).ok().and_then(|h| hours.get_mut(h)) {
            *slot = t;
        }
    }
    Ok(hours)
}

/// The `limit` busiest extensions or queues over `days`, busiest first (ties by key).
pub fn busiest(
    conn: &Connection,
    kind: RollupKind,
    days: &Days,
    limit: usize,
) -> rusqlite::Result<Vec<(String, Tally)>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT key, {SUMS} FROM cdr_daily WHERE kind = ?1 AND day BETWEEN ?2 AND ?3
         GROUP BY key ORDER BY sum(calls) DESC, key LIMIT ?4"
    ))?;
    stmt.query_map(
        params![kind as i64, days.first, days.last, limit as i64],
        |r| Ok((r.get(0)?, tally(r, 1)?)),
    )?
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::cdr::migrations::MIGRATIONS;

    fn db() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        for m in MIGRATIONS {
            conn.execute_batch(m).unwrap();
        }
        conn
    }

    /// (start, src, dst, lastapp, lastdata, disposition, duration, billsec)
    type Row<'a> = (
        &'a str,
        &'a str,
        &'a str,
        &'a str,
        &'a str,
        &'a str,
        i64,
        i64,
    );

    fn cdr(conn: &Connection, row: Row) {
        let (start, src, dst, app, data, disp, duration, billsec) = row;
        conn.execute(
            "INSERT INTO cdr (server, accountcode, src, dst, dcontext, clid, channel, dstchannel,
                lastapp, lastdata, start, end, duration, billsec, disposition, amaflags, uniqueid,
                userfield, received_at, origin, fingerprint)
             VALUES ('s', '', ?1, ?2, 'c', '', '', '', ?3, ?4, ?5, ?5, ?6, ?7, ?8, '', '', '', '',
                'ami', randomblob(16))",
            params![src, dst, app, data, start, duration, billsec, disp],
        )
        .unwrap();
    }

    #[test]
    fn records_are_rolled_up_once_by_day_hour_extension_and_queue() {
        let mut conn = db();
        cdr(
            &conn,
            (
                "2026-11-30 09:15:00",
                "101",
                "102",
                "Dial",
                "PJSIP/102",
                "ANSWERED",
                70,
                60,
            ),
        );
        cdr(
            &conn,
            (
                "2026-11-30 09:50:00",
                "+7495",
                "support",
                "Queue",
                "support,t",
                "ANSWERED",
                40,
                30,
            ),
        );
        assert_eq!(catch_up(&mut conn).unwrap(), 2);
        cdr(
            &conn,
            (
                "2026-12-01 17:05:00",
                "101",
                "101",
                "VoiceMail",
                "101",
                "NO ANSWER",
                20,
                0,
            ),
        );
        assert_eq!(catch_up(&mut conn).unwrap(), 1);
        assert_eq!(catch_up(&mut conn).unwrap(), 0);

        let days = Days {
            first: "2026-11-30".into(),
            last: "2026-12-01".into(),
        };
        let t = |calls, answered, talk, wait| Tally {
            calls,
            answered,
            talk,
            wait,
        };
        assert_eq!(
            per_day(&conn, &days).unwrap(),
            vec![
                ("2026-11-30".to_owned(), t(2, 2, 90, 20)),
                ("2026-12-01".to_owned(), t(1, 0, 0, 0))
            ]
        );
        let hours = per_hour(&conn, &days).unwrap();
        assert_eq!(
            (hours[9], hours[17], hours[10]),
            (t(2, 2, 90, 20), t(1, 0, 0, 0), t(0, 0, 0, 0))
        );
        assert_eq!(
            busiest(&conn, RollupKind::Extension, &days, 10).unwrap(),
            vec![
                // The caller +7495 and the queue's `support` are not extensions.
                ("101".to_owned(), t(2, 1, 60, 10)),
                ("102".to_owned(), t(1, 1, 60, 10)),
            ]
        );
        assert_eq!(
            busiest(&conn, RollupKind::Queue, &days, 10).unwrap(),
            vec![("support".to_owned(), t(1, 1, 30, 10))]
        );
        let one_day = Days {
            first: "2026-12-01".into(),
            last: "2026-12-01".into(),
        };
        assert_eq!(
            busiest(&conn, RollupKind::Queue, &one_day, 10).unwrap(),
            vec![]
        );
    }

    #[test]
    fn a_large_backlog_is_rolled_up_in_chunks_that_sum_to_the_same_tallies() {
        let mut conn = db();
        let n = CHUNK + 7;
        conn.execute_batch("BEGIN").unwrap();
        for i in 0..n {
            let disp = if i % 3 == 0 { "BUSY" } else { "ANSWERED" };
            cdr(
                &conn,
                (
                    &format!("2026-11-{:02} 1{}:00:00", 1 + i % 28, i % 10),
                    "100",
                    "200",
                    "Dial",
                    "",
                    disp,
                    12,
                    10,
                ),
            );
        }
        conn.execute_batch("COMMIT").unwrap();
        assert_eq!(catch_up(&mut conn).unwrap(), n as u64);
        let all = Days {
            first: "2026-11-01".into(),
            last: "2026-11-30".into(),
        };
        let total: i64 = per_day(&conn, &all)
            .unwrap()
            .iter()
            .map(|(_, t)| t.calls)
            .sum();
        let answered: i64 = per_hour(&conn, &all)
            .unwrap()
            .iter()
            .map(|t| t.answered)
            .sum();
        assert_eq!((total, answered), (n, n - (n + 2) / 3));
    }
}

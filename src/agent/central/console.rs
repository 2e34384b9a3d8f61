//! What the web console (`astbase serve --db postgres://...`) reads from the central
//! database and writes there: the call log of the whole fleet (newest first, pages by a
//! cursor, a search bounded like the SQLite one), the statistics of a range of days
//! (aggregated by PostgreSQL over the `start_epoch` index), and the audit of console
//! actions (`astbase.web_action`).

use crate::agent::cdr::rollup::{MAX_EXTENSION, Tally};

use super::{CentralError, Session};

/// One record of the call log, and its place in the order (`start_epoch`, `server`,
/// `local_id`, newest first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedCall {
    pub server: String,
    pub local_id: i64,
    pub start_epoch: i64,
    pub start: String,
    pub src: String,
    pub dst: String,
    pub clid: String,
    pub disposition: String,
    pub duration: i64,
    pub billsec: i64,
    pub uniqueid: String,
}

/// Where a page of the log starts: just older than this record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub start_epoch: i64,
    pub server: String,
    pub local_id: i64,
}

impl Cursor {
    /// `EPOCH.LOCALID.SERVER` (server names have no dots, so it splits back).
    pub fn parse(text: &str) -> Option<Cursor> {
        let mut parts = text.splitn(3, '.');
        Some(Cursor {
            start_epoch: parts.next()?.parse().ok()?,
            local_id: parts.next()?.parse().ok()?,
            server: parts.next()?.to_owned(),
        })
    }
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.start_epoch, self.local_id, self.server)
    }
}

impl LoggedCall {
    pub fn cursor(&self) -> Cursor {
        Cursor {
            start_epoch: self.start_epoch,
            server: self.server.clone(),
            local_id: self.local_id,
        }
    }
}

/// Sums over the selected records, in the rollup's terms.
const TALLY: &str = "count(*)::int8,
    count(*) FILTER (WHERE disposition = 'ANSWERED')::int8,
    coalesce(sum(billsec) FILTER (WHERE disposition = 'ANSWERED'), 0)::int8,
    coalesce(sum(greatest(duration - billsec, 0)) FILTER (WHERE disposition = 'ANSWERED'), 0)::int8";

fn tally(r: &tokio_postgres::Row, at: usize) -> Tally {
    Tally {
        calls: r.get(at),
        answered: r.get(at + 1),
        talk: r.get(at + 2),
        wait: r.get(at + 3),
    }
}

/// The statistics of some days, as the console's page needs them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DayFigures {
    /// (day, hour) → tally, for every hour that had calls.
    pub hours: Vec<(String, i64, Tally)>,
    pub queues: Vec<(String, Tally)>,
    pub extensions: Vec<(String, Tally)>,
}

impl Session {
    /// Up to `limit` records older than `before`, newest first; a search (`q`, part of
    /// a number) looks through at most `budget` records.
    pub fn logged_calls(
        &self,
        q: &str,
        pattern: &str,
        before: Option<&Cursor>,
        limit: usize,
        budget: Option<i64>,
    ) -> Result<Vec<LoggedCall>, CentralError> {
        let (epoch, server, id) = match before {
            Some(c) => (c.start_epoch, c.server.clone(), c.local_id),
            None => (i64::MAX, String::new(), 0),
        };
        let budget = if q.is_empty() { None } else { budget };
        // The newest `budget` records before the cursor (an index walk), then the match.
        let sql = "SELECT server, local_id, start_epoch, start, src, dst, clid, disposition,
                          duration, billsec, uniqueid
                   FROM (SELECT * FROM astbase.cdr
                         WHERE start_epoch IS NOT NULL
                           AND (start_epoch, server, local_id) < ($1, $2, $3)
                         ORDER BY start_epoch DESC, server DESC, local_id DESC
                         LIMIT $4) AS newest
                   WHERE ($5 = '' OR src LIKE $6 ESCAPE '\\' OR dst LIKE $6 ESCAPE '\\')
                   ORDER BY start_epoch DESC, server DESC, local_id DESC
                   LIMIT $7";
        let window = budget.unwrap_or(i64::MAX);
        let limit = limit as i64;
        let rows = self.run("reading the call log", |client| async move {
            client
                .query(sql, &[&epoch, &server, &id, &window, &q, &pattern, &limit])
                .await
        })?;
        Ok(rows
            .iter()
            .map(|r| LoggedCall {
                server: r.get(0),
                local_id: r.get(1),
                start_epoch: r.get(2),
                start: r.get(3),
                src: r.get(4),
                dst: r.get(5),
                clid: r.get(6),
                disposition: r.get(7),
                duration: r.get(8),
                billsec: r.get(9),
                uniqueid: r.get(10),
            })
            .collect())
    }

    /// The cursor `budget` records older than `before` (where a bounded search that
    /// found too little goes on), or none when fewer are left.
    pub fn cursor_after(
        &self,
        before: Option<&Cursor>,
        budget: i64,
    ) -> Result<Option<Cursor>, CentralError> {
        let (epoch, server, id) = match before {
            Some(c) => (c.start_epoch, c.server.clone(), c.local_id),
            None => (i64::MAX, String::new(), 0),
        };
        let offset = budget - 1;
        let rows = self.run("reading the call log", |client| async move {
            client
                .query(
                    "SELECT start_epoch, server, local_id FROM astbase.cdr
                     WHERE start_epoch IS NOT NULL
                       AND (start_epoch, server, local_id) < ($1, $2, $3)
                     ORDER BY start_epoch DESC, server DESC, local_id DESC
                     OFFSET $4 LIMIT 2",
                    &[&epoch, &server, &id, &offset],
                )
                .await
        })?;
        // Only when something is older than the window's last record.
        Ok((rows.len() == 2).then(|| Cursor {
            start_epoch: rows[0].get(0),
            server: rows[0].get(1),
            local_id: rows[0].get(2),
        }))
    }

    /// The figures of the local days `first..=last`, from records whose `start_epoch`
    /// is in `since..until` (the days' bounds, a day wider: servers' zones differ).
    pub fn day_figures(
        &self,
        first: &str,
        last: &str,
        since: i64,
        until: i64,
        servers: &[String],
        top: usize,
    ) -> Result<DayFigures, CentralError> {
        let servers = (!servers.is_empty()).then(|| servers.to_vec());
        let selected = "start_epoch >= $1 AND start_epoch < $2
            AND substr(start, 1, 10) BETWEEN $3 AND $4
            AND ($5::text[] IS NULL OR server = ANY($5))";
        let own =
            |c: &str| format!("length({c}) BETWEEN 1 AND {MAX_EXTENSION} AND {c} ~ '^[0-9]+$'");
        let hours = format!(
            "SELECT substr(start, 1, 10), substr(start, 12, 2)::int8, {TALLY}
             FROM astbase.cdr WHERE {selected} GROUP BY 1, 2 ORDER BY 1, 2"
        );
        let queues = format!(
            "SELECT split_part(lastdata, ',', 1), {TALLY} FROM astbase.cdr
             WHERE {selected} AND lastapp = 'Queue'
             GROUP BY 1 ORDER BY 2 DESC, split_part(lastdata, ',', 1) COLLATE \"C\" LIMIT {top}"
        );
        let extensions = format!(
            "SELECT key, {TALLY} FROM (
                 SELECT src AS key, disposition, billsec, duration FROM astbase.cdr
                 WHERE {selected} AND {src}
                 UNION ALL
                 SELECT dst, disposition, billsec, duration FROM astbase.cdr
                 WHERE {selected} AND {dst} AND dst <> src) AS parties
             GROUP BY 1 ORDER BY 2 DESC, key COLLATE \"C\" LIMIT {top}",
            src = own("src"),
            dst = own("dst"),
        );
        let (first, last) = (first.to_owned(), last.to_owned());
        let rows = self.run("reading the statistics", |client| async move {
            let params: [&(dyn tokio_postgres::types::ToSql + Sync); 5] =
                [&since, &until, &first, &last, &servers];
            let h = client.query(hours.as_str(), &params).await?;
            let q = client.query(queues.as_str(), &params).await?;
            let e = client.query(extensions.as_str(), &params).await?;
            Ok((h, q, e))
        })?;
        let (h, q, e) = rows;
        let keyed = |rows: &[tokio_postgres::Row]| -> Vec<(String, Tally)> {
            rows.iter().map(|r| (r.get(0), tally(r, 1))).collect()
        };
        Ok(DayFigures {
            hours: h
                .iter()
                .map(|r| (r.get(0), r.get(1), tally(r, 2)))
                .collect(),
            queues: keyed(&q),
            extensions: keyed(&e),
        })
    }

    /// Records one console action.
    pub fn record_action(&self, server: &str, fields: [&str; 6]) -> Result<(), CentralError> {
        let server = server.to_owned();
        let [user, role, address, action, target, outcome] = fields.map(str::to_owned);
        self.run("recording a console action", |client| async move {
            client
                .execute(
                    "INSERT INTO astbase.web_action
                       (server, \"user\", role, address, action, target, outcome)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    &[&server, &user, &role, &address, &action, &target, &outcome],
                )
                .await
        })
        .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_what_it_writes() {
        let c = Cursor {
            start_epoch: 1_796_100_000,
            server: "msk-1".into(),
            local_id: 42,
        };
        assert_eq!(c.to_string(), "1796100000.42.msk-1");
        assert_eq!(Cursor::parse(&c.to_string()), Some(c));
        assert_eq!(Cursor::parse("12.x.msk"), None);
    }
}

//! `astbase cdr report|export --db postgres://...`: the same statistics and exports as
//! over an agent's SQLite database (`agent::cdr::report`), computed by PostgreSQL: a
//! report is one aggregate query, an export one streamed query.

use futures_util::TryStreamExt;

use super::{CentralError, Session};
use crate::agent::cdr::report::{EXPORT_COLUMNS, GroupBy, Range, Stats};

/// `$1`, `$2`: the range; `$3`: the servers (NULL for all).
const SELECTION: &str = "($1::int8 IS NULL OR start_epoch >= $1) \
     AND ($2::int8 IS NULL OR start_epoch < $2) \
     AND ($3::text[] IS NULL OR server = ANY($3))";

fn servers_param(servers: &[String]) -> Option<Vec<String>> {
    (!servers.is_empty()).then(|| servers.to_vec())
}

impl Session {
    /// Statistics per group, ordered by key in byte order (as SQLite orders them).
    pub fn report(
        &self,
        by: GroupBy,
        range: Range,
        servers: &[String],
    ) -> Result<Vec<Stats>, CentralError> {
        let rows = match by {
            GroupBy::Extension => format!(
                "SELECT src AS key, disposition, billsec FROM astbase.cdr
                 WHERE {SELECTION} AND src <> ''
                 UNION ALL
                 SELECT dst AS key, disposition, billsec FROM astbase.cdr
                 WHERE {SELECTION} AND dst <> '' AND dst <> src"
            ),
            GroupBy::Queue => format!(
                "SELECT split_part(lastdata, ',', 1) AS key, disposition, billsec
                 FROM astbase.cdr WHERE {SELECTION} AND lastapp = 'Queue'"
            ),
            GroupBy::Day => format!(
                "SELECT substr(start, 1, 10) AS key, disposition, billsec FROM astbase.cdr
                 WHERE {SELECTION}"
            ),
            GroupBy::Disposition => format!(
                "SELECT disposition AS key, disposition, billsec FROM astbase.cdr
                 WHERE {SELECTION}"
            ),
            GroupBy::Server => format!(
                "SELECT server AS key, disposition, billsec FROM astbase.cdr WHERE {SELECTION}"
            ),
        };
        let sql = format!(
            "SELECT key, count(*),
                    count(*) FILTER (WHERE disposition = 'ANSWERED'),
                    coalesce(avg(billsec) FILTER (WHERE disposition = 'ANSWERED'), 0)::float8,
                    coalesce(sum(billsec), 0)::int8
             FROM ({rows}) AS selected GROUP BY key ORDER BY key COLLATE \"C\""
        );
        let servers = servers_param(servers);
        let rows = self.run("reporting", |client| async move {
            client
                .query(sql.as_str(), &[&range.since, &range.until, &servers])
                .await
        })?;
        Ok(rows
            .iter()
            .map(|r| {
                let calls: i64 = r.get(1);
                let answered: i64 = r.get(2);
                Stats {
                    key: r.get(0),
                    calls,
                    answered,
                    missed: calls - answered,
                    average_billsec: r.get(3),
                    total_billsec: r.get(4),
                }
            })
            .collect())
    }

    /// Calls `row` for each CDR in the range, oldest first, as text values; rows are
    /// streamed, so an export of millions holds one at a time. Each row must arrive
    /// within the session's deadline.
    pub fn export(
        &self,
        range: Range,
        servers: &[String],
        mut row: impl FnMut(&[Option<String>]) -> std::io::Result<()>,
    ) -> Result<u64, crate::agent::cdr::report::ExportError> {
        let columns: Vec<String> = EXPORT_COLUMNS
            .iter()
            .map(|c| format!("\"{c}\"::text"))
            .collect();
        let sql = format!(
            "SELECT {} FROM astbase.cdr WHERE {SELECTION} ORDER BY start_epoch, server, local_id",
            columns.join(", ")
        );
        let servers = servers_param(servers);
        let timeout = |what| CentralError::Timeout {
            url: self.url.display.clone(),
            what,
            after: self.timeout,
        };
        self.runtime.block_on(async {
            let params: [&(dyn tokio_postgres::types::ToSql + Sync); 3] =
                [&range.since, &range.until, &servers];
            let stream =
                tokio::time::timeout(self.deadline(), self.client.query_raw(sql.as_str(), params))
                    .await
                    .map_err(|_| timeout("exporting"))?
                    .map_err(|e| self.query_error("exporting", &e))?;
            let mut stream = std::pin::pin!(stream);
            let mut n = 0;
            let mut values: Vec<Option<String>> = Vec::with_capacity(EXPORT_COLUMNS.len());
            loop {
                let next = tokio::time::timeout(self.deadline(), stream.try_next())
                    .await
                    .map_err(|_| timeout("exporting"))?
                    .map_err(|e| self.query_error("exporting", &e))?;
                let Some(r) = next else { break };
                values.clear();
                values.extend((0..EXPORT_COLUMNS.len()).map(|i| r.get::<_, Option<String>>(i)));
                row(&values)?;
                n += 1;
            }
            Ok(n)
        })
    }
}

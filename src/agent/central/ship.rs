//! Moving CDR rows from an agent's SQLite database into the central one: a batch is
//! read column by column and inserted with one `INSERT ... SELECT FROM unnest(...)`
//! (one round trip, one statement plan, no temporary table), `ON CONFLICT DO NOTHING`
//! on the fingerprint, the table's only unique key. Naming no conflict target keeps the
//! agent's role to INSERT alone: one PBX's credentials cannot read the fleet's calls.

use rusqlite::params;

use super::{CentralError, Session};

/// Text columns that are never NULL, in the order of [`Batch::text`].
const TEXT: [&str; 18] = [
    "server",
    "accountcode",
    "src",
    "dst",
    "dcontext",
    "clid",
    "channel",
    "dstchannel",
    "lastapp",
    "lastdata",
    "start",
    "end",
    "disposition",
    "amaflags",
    "uniqueid",
    "userfield",
    "received_at",
    "origin",
];
const OPTIONAL_TEXT: [&str; 3] = ["answer", "linkedid", "peeraccount"];
const NUMBERS: [&str; 3] = ["id", "duration", "billsec"];
const OPTIONAL_NUMBERS: [&str; 2] = ["start_epoch", "sequence"];

/// Rows read from the local database, as one vector per column.
#[derive(Debug, Default)]
pub struct Batch {
    text: [Vec<String>; 18],
    optional_text: [Vec<Option<String>>; 3],
    /// `id` (local), duration, billsec.
    numbers: [Vec<i64>; 3],
    optional_numbers: [Vec<Option<i64>>; 2],
    fingerprints: Vec<Vec<u8>>,
}

impl Batch {
    /// Up to `limit` rows with a local id above `after`, in id order.
    pub fn read(conn: &rusqlite::Connection, after: i64, limit: usize) -> rusqlite::Result<Batch> {
        let columns: Vec<String> = TEXT
            .iter()
            .chain(&OPTIONAL_TEXT)
            .chain(&NUMBERS)
            .chain(&OPTIONAL_NUMBERS)
            .map(|c| format!("\"{c}\""))
            .chain(["fingerprint".to_owned()])
            .collect();
        let sql = format!(
            "SELECT {} FROM cdr WHERE id > ?1 ORDER BY id LIMIT ?2",
            columns.join(", ")
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(params![after, limit as i64])?;
        let mut batch = Batch::default();
        while let Some(r) = rows.next()? {
            let mut at = 0;
            for column in &mut batch.text {
                column.push(r.get(at)?);
                at += 1;
            }
            for column in &mut batch.optional_text {
                column.push(r.get(at)?);
                at += 1;
            }
            for column in &mut batch.numbers {
                column.push(r.get(at)?);
                at += 1;
            }
            for column in &mut batch.optional_numbers {
                column.push(r.get(at)?);
                at += 1;
            }
            batch.fingerprints.push(r.get(at)?);
        }
        Ok(batch)
    }

    pub fn len(&self) -> usize {
        self.fingerprints.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fingerprints.is_empty()
    }

    /// The highest local id in the batch.
    pub fn last_id(&self) -> Option<i64> {
        self.numbers[0].last().copied()
    }
}

/// The insert: the central names for the columns (`id` is `local_id` there).
fn insert_sql() -> String {
    let names: Vec<String> = TEXT
        .iter()
        .chain(&OPTIONAL_TEXT)
        .chain(&NUMBERS)
        .chain(&OPTIONAL_NUMBERS)
        .map(|c| match *c {
            "id" => "local_id".to_owned(),
            c => format!("\"{c}\""),
        })
        .chain(["fingerprint".to_owned()])
        .collect();
    let types = std::iter::repeat_n("text[]", TEXT.len() + OPTIONAL_TEXT.len())
        .chain(std::iter::repeat_n(
            "int8[]",
            NUMBERS.len() + OPTIONAL_NUMBERS.len(),
        ))
        .chain(["bytea[]"]);
    let arrays: Vec<String> = types
        .enumerate()
        .map(|(i, t)| format!("${}::{t}", i + 1))
        .collect();
    format!(
        "INSERT INTO astbase.cdr ({}) SELECT * FROM unnest({}) ON CONFLICT DO NOTHING",
        names.join(", "),
        arrays.join(", ")
    )
}

/// A batch on its way into the central database.
pub struct InFlight {
    handle: tokio::task::JoinHandle<
        Result<Result<u64, tokio_postgres::Error>, tokio::time::error::Elapsed>,
    >,
    /// The highest local id in it: the mark once it is committed.
    pub last_id: i64,
    pub len: usize,
}

impl Session {
    /// Starts inserting the batch in one statement (its own transaction); the caller may
    /// read the next batch meanwhile, then [`Session::wait`]s.
    pub fn send(&self, batch: Batch) -> InFlight {
        let client = self.client.clone();
        let (last_id, len) = (batch.last_id().unwrap_or(0), batch.len());
        let timeout = self.deadline();
        let handle = self.runtime.spawn(async move {
            let sql = insert_sql();
            type Param<'a> = &'a (dyn tokio_postgres::types::ToSql + Sync);
            let mut params: Vec<Param> = Vec::new();
            params.extend(batch.text.iter().map(|c| c as Param));
            params.extend(batch.optional_text.iter().map(|c| c as Param));
            params.extend(batch.numbers.iter().map(|c| c as Param));
            params.extend(batch.optional_numbers.iter().map(|c| c as Param));
            params.push(&batch.fingerprints);
            tokio::time::timeout(timeout, client.execute(sql.as_str(), &params)).await
        });
        InFlight {
            handle,
            last_id,
            len,
        }
    }

    /// How many rows of the batch were new to the central database, once it committed.
    pub fn wait(&self, batch: InFlight) -> Result<u64, CentralError> {
        const WHAT: &str = "storing CDRs";
        match self.runtime.block_on(batch.handle) {
            Ok(Ok(Ok(inserted))) => Ok(inserted),
            Ok(Ok(Err(e))) => Err(self.query_error(WHAT, &e)),
            Ok(Err(_)) => Err(CentralError::Timeout {
                url: self.url.display.clone(),
                what: WHAT,
                after: self.timeout,
            }),
            Err(e) => Err(CentralError::Query {
                url: self.url.display.clone(),
                what: WHAT,
                message: e.to_string(),
            }),
        }
    }
}

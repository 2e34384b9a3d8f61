//! The agent's SQLite database: CDRs, live channels, bans, and how far Master.csv was
//! read. WAL mode, one writer, schema versioned by `PRAGMA user_version` migrations.

use std::path::{Path, PathBuf};

use jiff::tz::TimeZone;
use rusqlite::{Connection, OptionalExtension, params};

use super::migrations::MIGRATIONS;
use super::{Cdr, Origin};
use crate::agent::recordings::{self, Recorded};
use crate::agent::webhooks::{CallEvent, Endpoint, events, outbox};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: {source}")]
    Sqlite {
        path: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error(
        "{path} has schema version {found}, newer than this astbase knows ({known}); upgrade astbase"
    )]
    TooNew {
        path: String,
        found: i64,
        known: usize,
    },
}

/// A live channel as the agent tracks it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ChannelRow {
    pub uniqueid: String,
    pub channel: String,
    pub state: String,
    pub caller_num: String,
    pub caller_name: String,
    pub connected_num: String,
    pub connected_name: String,
    pub context: String,
    pub exten: String,
    pub linkedid: String,
    pub bridge: String,
    pub created_at: String,
}

/// A ban the agent made (or would have made, in a dry run).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BanRow {
    pub address: String,
    pub events: u32,
    pub last_event: String,
    pub timeout_secs: u64,
    pub applied: bool,
    pub detail: String,
}

/// One change for the writer.
#[derive(Debug, Clone)]
pub enum Op {
    Cdr(Box<Cdr>, Origin),
    Channel(Box<ChannelRow>),
    ChannelGone(String),
    /// The whole set after a reconnect (CoreShowChannels).
    ChannelsReset(Vec<ChannelRow>),
    Ban(BanRow),
    /// A call event for the webhook outbox.
    Call(Box<CallEvent>),
    /// A MixMonitor recording recorded: its file is indexed.
    Recording(Box<Recorded>),
}

/// What a batch did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    pub inserted: u64,
    pub duplicates: u64,
    pub recordings: u64,
    /// Recordings Asterisk reported whose file is not where the dialplan writes them.
    pub recordings_missing: u64,
}

pub struct Store {
    conn: Connection,
    path: String,
    server: String,
    zone: TimeZone,
    /// Where call events go (none: nothing is queued).
    webhooks: Vec<Endpoint>,
    /// Asterisk's monitor directory (none: recordings are not indexed).
    recordings: Option<PathBuf>,
}

impl Store {
    /// Opens (creating) the database and runs pending migrations.
    pub fn open(path: &Path, server: &str, zone: TimeZone) -> Result<Store, StoreError> {
        let p = path.display().to_string();
        let err = |source| StoreError::Sqlite {
            path: p.clone(),
            source,
        };
        let mut conn = Connection::open(path).map_err(err)?;
        // WAL: readers (`astbase cdr report`) never block the agent; NORMAL sync keeps
        // every committed transaction across a process crash (only a power loss can
        // take the last ones, and Asterisk's own CDR backend still has those).
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(err)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(err)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(err)?;
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(err)?;
        if version > MIGRATIONS.len() as i64 {
            return Err(StoreError::TooNew {
                path: p,
                found: version,
                known: MIGRATIONS.len(),
            });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx = conn.transaction().map_err(err)?;
            tx.execute_batch(sql).map_err(err)?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)
                .map_err(err)?;
            tx.commit().map_err(err)?;
        }
        Ok(Store {
            conn,
            path: p,
            server: server.to_owned(),
            zone,
            webhooks: Vec::new(),
            recordings: None,
        })
    }

    /// Indexes the recordings Asterisk reports under `dir` from now on.
    pub fn set_recordings_dir(&mut self, dir: PathBuf) {
        self.recordings = Some(dir);
    }

    /// Queues call events for these endpoints from now on, CDR ends among them.
    pub fn set_webhooks(&mut self, endpoints: Vec<Endpoint>) {
        self.webhooks = endpoints;
    }

    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// The migrated database's connection, for a reader or writer of its own tables.
    pub fn into_connection(self) -> Connection {
        self.conn
    }

    fn error(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    /// Applies changes in one transaction.
    pub fn write(&mut self, ops: &[Op]) -> Result<Written, StoreError> {
        self.transaction(|tx, at| apply_ops(tx, at, ops))
    }

    /// Runs `f` in a transaction, committed only if it succeeds.
    fn transaction<T>(
        &mut self,
        f: impl FnOnce(&rusqlite::Transaction, &Context) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        let path = self.path.clone();
        let err = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(err)?;
        let context = Context {
            server: &self.server,
            zone: &self.zone,
            webhooks: &self.webhooks,
            recordings: self.recordings.as_deref(),
        };
        let value = f(&tx, &context).map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(value)
    }

    /// Where reading `path` recorded last time: (device, inode, offset).
    pub fn csv_position(&self, path: &str) -> Result<Option<(u64, u64, u64)>, StoreError> {
        self.conn
            .query_row(
                "SELECT device, inode, offset FROM csv_position WHERE path = ?1",
                [path],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)? as u64,
                        r.get::<_, i64>(1)? as u64,
                        r.get::<_, i64>(2)? as u64,
                    ))
                },
            )
            .optional()
            .map_err(|e| self.error(e))
    }

    /// Records CDRs read from a CSV file and the new position in one transaction: a
    /// crash keeps both or neither, so no line is skipped or counted twice.
    pub fn write_csv(
        &mut self,
        path: &str,
        position: (u64, u64, u64),
        cdrs: Vec<Cdr>,
    ) -> Result<Written, StoreError> {
        let ops: Vec<Op> = cdrs
            .into_iter()
            .map(|c| Op::Cdr(Box::new(c), Origin::Csv))
            .collect();
        self.transaction(|tx, at| {
            let written = apply_ops(tx, at, &ops)?;
            tx.execute(
                "INSERT INTO csv_position (path, device, inode, offset) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(path) DO UPDATE SET device = ?2, inode = ?3, offset = ?4",
                params![
                    path,
                    position.0 as i64,
                    position.1 as i64,
                    position.2 as i64
                ],
            )?;
            Ok(written)
        })
    }
}

/// What a transaction writes for.
struct Context<'a> {
    server: &'a str,
    zone: &'a TimeZone,
    webhooks: &'a [Endpoint],
    recordings: Option<&'a Path>,
}

/// Applies `ops` inside `tx`.
fn apply_ops(tx: &rusqlite::Transaction, at: &Context, ops: &[Op]) -> rusqlite::Result<Written> {
    let (server, zone) = (at.server, at.zone);
    let received = iso(&jiff::ZonedDateTime::now().with_time_zone(zone.clone()));
    let mut channels: std::collections::HashMap<&str, Option<&ChannelRow>> =
        std::collections::HashMap::new();
    let mut reset: Option<&Vec<ChannelRow>> = None;
    let mut written = Written::default();
    let mut insert = tx.prepare_cached(
        "INSERT OR IGNORE INTO cdr (server, accountcode, src, dst, dcontext, clid, channel,
                 dstchannel, lastapp, lastdata, start, answer, end, start_epoch, duration, billsec,
                 disposition, amaflags, uniqueid, userfield, linkedid, sequence, peeraccount,
                 received_at, origin, fingerprint)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                 ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26)",
    )?;
    for op in ops {
        match op {
            Op::Cdr(cdr, origin) => {
                let (start, start_epoch) = local_time(&cdr.start, zone);
                let answer = (!cdr.answer.is_empty()).then(|| local_time(&cdr.answer, zone).0);
                let (end, _) = local_time(&cdr.end, zone);
                let fingerprint = cdr.fingerprint(server);
                let n = insert.execute(params![
                    server,
                    cdr.accountcode,
                    cdr.src,
                    cdr.dst,
                    cdr.dcontext,
                    cdr.clid,
                    cdr.channel,
                    cdr.dstchannel,
                    cdr.lastapp,
                    cdr.lastdata,
                    start,
                    answer,
                    end,
                    start_epoch,
                    cdr.duration,
                    cdr.billsec,
                    cdr.disposition,
                    cdr.amaflags,
                    cdr.uniqueid,
                    cdr.userfield,
                    cdr.linkedid,
                    cdr.sequence,
                    cdr.peeraccount,
                    received,
                    origin.as_str(),
                    &fingerprint[..],
                ])?;
                if n == 1 {
                    written.inserted += 1;
                    // A CDR's events are queued with it: both or neither, and a replay
                    // (ignored above) queues nothing.
                    if !at.webhooks.is_empty() {
                        for event in events::from_cdr(cdr, &fingerprint) {
                            outbox::record(tx, server, at.webhooks, &event, &received)?;
                        }
                    }
                } else {
                    written.duplicates += 1;
                }
            }
            // A channel changes state many times per call: only its last state in
            // the batch is written.
            Op::Channel(c) => {
                channels.insert(&c.uniqueid, Some(c));
            }
            Op::ChannelGone(id) => {
                channels.insert(id, None);
            }
            Op::ChannelsReset(all) => {
                reset = Some(all);
                channels.clear();
            }
            Op::Call(event) => outbox::record(tx, server, at.webhooks, event, &received)?,
            Op::Recording(recorded) => {
                if let Some(dir) = at.recordings {
                    let epoch = jiff::Timestamp::now().as_second();
                    if recordings::index(tx, dir, zone, recorded, &received, epoch)? {
                        written.recordings += 1;
                    } else {
                        written.recordings_missing += 1;
                    }
                }
            }
            Op::Ban(b) => {
                tx.prepare_cached(
                            "INSERT INTO ban (server, address, events, last_event, banned_at,
                             timeout_secs, applied, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                        )?
                        .execute(params![
                            server,
                            b.address,
                            b.events,
                            b.last_event,
                            received,
                            b.timeout_secs as i64,
                            b.applied,
                            b.detail
                        ])?;
            }
        }
    }
    if let Some(all) = reset {
        tx.execute("DELETE FROM live_channel WHERE server = ?1", [&server])?;
        for c in all {
            upsert_channel(tx, server, c, &received)?;
        }
    }
    for (id, state) in channels {
        match state {
            Some(c) => upsert_channel(tx, server, c, &received)?,
            None => {
                tx.prepare_cached("DELETE FROM live_channel WHERE uniqueid = ?1")?
                    .execute([id])?;
            }
        }
    }
    Ok(written)
}

fn upsert_channel(
    tx: &rusqlite::Transaction,
    server: &str,
    c: &ChannelRow,
    now: &str,
) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO live_channel (uniqueid, server, channel, state, caller_num, caller_name,
         connected_num, connected_name, context, exten, linkedid, bridge, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
         ON CONFLICT(uniqueid) DO UPDATE SET channel = ?3, state = ?4, caller_num = ?5,
         caller_name = ?6, connected_num = ?7, connected_name = ?8, context = ?9, exten = ?10,
         linkedid = ?11, bridge = ?12, updated_at = ?14",
    )?
    .execute(params![
        c.uniqueid,
        server,
        c.channel,
        c.state,
        c.caller_num,
        c.caller_name,
        c.connected_num,
        c.connected_name,
        c.context,
        c.exten,
        c.linkedid,
        c.bridge,
        if c.created_at.is_empty() {
            now
        } else {
            &c.created_at
        },
        now
    ])?;
    Ok(())
}

/// ISO-8601 with the zone's offset: `2026-11-26T09:53:05+03:00`.
pub fn iso(z: &jiff::ZonedDateTime) -> String {
    let offset = z.offset().seconds();
    let (sign, abs) = if offset < 0 {
        ('-', -offset)
    } else {
        ('+', offset)
    };
    let Ok(year) = u16::try_from(z.year()) else {
        // Before year 0: never a CDR's, but kept readable.
        return format!(
            "{}{sign}{:02}:{:02}",
            z.datetime(),
            abs / 3600,
            abs % 3600 / 60
        );
    };
    // By hand: the writer formats four of these per record, and `format!` was a
    // tenth of its time.
    let mut out = String::with_capacity(25);
    push_digits(&mut out, u32::from(year), 4);
    for (separator, n) in [
        ('-', z.month() as u32),
        ('-', z.day() as u32),
        ('T', z.hour() as u32),
        (':', z.minute() as u32),
        (':', z.second() as u32),
        (sign, abs as u32 / 3600),
        (':', abs as u32 % 3600 / 60),
    ] {
        out.push(separator);
        push_digits(&mut out, n, 2);
    }
    out
}

/// `n` in decimal, zero-padded to `width` digits (its lowest `width` digits).
fn push_digits(out: &mut String, n: u32, width: u32) {
    for place in (0..width).rev() {
        out.push(char::from(b'0' + (n / 10u32.pow(place) % 10) as u8));
    }
}

/// `YYYY-MM-DD HH:MM:SS` (Asterisk's CDR time format) without a general-purpose parser:
/// the writer converts three of these per record.
fn civil(text: &str) -> Option<jiff::civil::DateTime> {
    let b = text.as_bytes();
    if b.len() != 19
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b' '
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let n = |r: std::ops::Range<usize>| -> Option<i16> {
        b[r].iter().try_fold(0i16, |acc, c| {
            c.is_ascii_digit().then(|| acc * 10 + i16::from(c - b'0'))
        })
    };
    let date = jiff::civil::Date::new(n(0..4)?, n(5..7)? as i8, n(8..10)? as i8).ok()?;
    let time =
        jiff::civil::Time::new(n(11..13)? as i8, n(14..16)? as i8, n(17..19)? as i8, 0).ok()?;
    Some(date.to_datetime(time))
}

/// Asterisk's local `YYYY-MM-DD HH:MM:SS` in `zone` as ISO-8601 and epoch seconds; text
/// that is not a time is kept as it came (a record is never dropped for its format).
pub fn local_time(text: &str, zone: &TimeZone) -> (String, Option<i64>) {
    match civil(text.trim()).and_then(|dt| dt.to_zoned_datetime(zone.clone()).ok()) {
        Some(z) => (iso(&z), Some(z.timestamp().as_second())),
        None => (text.to_owned(), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_times_are_zero_padded_with_the_offset_in_hours_and_minutes() {
        let kolkata = TimeZone::get("Asia/Kolkata").unwrap();
        let z = jiff::civil::date(2026, 3, 4)
            .at(5, 6, 7, 0)
            .to_zoned_datetime(kolkata)
            .unwrap();
        assert_eq!(iso(&z), "2026-03-04T05:06:07+05:30");
        let z = jiff::civil::date(987, 12, 31)
            .at(23, 59, 59, 0)
            .to_zoned_datetime(TimeZone::fixed(jiff::tz::offset(-9)))
            .unwrap();
        assert_eq!(iso(&z), "0987-12-31T23:59:59-09:00");
    }

    #[test]
    fn local_times_carry_the_zone() {
        let moscow = TimeZone::get("Europe/Moscow").unwrap();
        assert_eq!(
            local_time("2026-11-26 09:53:05", &moscow),
            ("2026-11-26T09:53:05+03:00".into(), Some(1_795_675_985))
        );
        let ny = TimeZone::get("America/New_York").unwrap();
        assert_eq!(
            local_time("2026-07-01 12:00:00", &ny).0,
            "2026-07-01T12:00:00-04:00"
        );
        assert_eq!(local_time("", &ny), (String::new(), None));
        assert_eq!(local_time("2026-13-01 00:00:00", &ny).1, None);
        assert_eq!(local_time("yesterday", &ny).0, "yesterday");
    }
}

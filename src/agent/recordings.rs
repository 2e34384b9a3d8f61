//! The recordings library: each MixMonitor recording the dialplan made
//! (`<monitor dir>/<prefix>/YYYY/MM/DD/<uniqueid>.wav`, see templates/extensions.conf.j2)
//! is indexed beside the CDRs: its path, size, duration, who and when. Asterisk reports
//! a recording's start (`MixMonitorStart`, a channel snapshot without the file name) and
//! its stop only when `StopMixMonitor` ends it early, so the agent remembers started
//! recordings and indexes each when its channel hangs up (or it is stopped); the file's
//! size and duration are read again for a few minutes, as MixMonitor finishes writing
//! after the hangup. Pruning deletes only files in the index, so a file the agent did
//! not index is never touched.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, params};

use super::ami::Message;

/// A recording Asterisk started, as its `MixMonitorStart` snapshot says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub uniqueid: String,
    pub linkedid: String,
    pub channel: String,
    pub caller: String,
    pub connected: String,
    pub exten: String,
    /// When the agent heard of it (epoch seconds): the day the dialplan filed it under.
    pub started: i64,
}

impl Recorded {
    pub fn from_event(m: &Message) -> Option<Recorded> {
        let get = |k| m.get(k).unwrap_or_default().to_owned();
        Some(Recorded {
            uniqueid: m.get("Uniqueid")?.to_owned(),
            linkedid: get("Linkedid"),
            channel: get("Channel"),
            caller: get("CallerIDNum"),
            connected: get("ConnectedLineNum"),
            exten: get("Exten"),
            started: jiff::Timestamp::now().as_second(),
        })
    }
}

/// Where the dialplan wrote the recording of `uniqueid`: `<dir>/<prefix>/YYYY/MM/DD/`
/// for one of `days` (the day it started, the day it ended, in the zone Asterisk files
/// them in). Only the prefix directories are listed; each candidate is one `stat`, so
/// indexing costs the same with one day of recordings or ten years of them. Only a
/// regular file named `<uniqueid>.wav` matches (uniqueids are `EPOCH.SEQUENCE`, or what
/// an Originate's ChannelId chose); one without `/` is one path component, so no
/// uniqueid can point elsewhere.
pub fn locate(dir: &Path, uniqueid: &str, days: &[jiff::civil::Date]) -> Option<PathBuf> {
    if uniqueid.is_empty() || uniqueid.contains(['/', '\0']) {
        return None;
    }
    let name = format!("{uniqueid}.wav");
    let mut found: Option<(PathBuf, Option<std::time::SystemTime>)> = None;
    for prefix in std::fs::read_dir(dir).ok()?.filter_map(Result::ok) {
        if !prefix.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        for day in days {
            let path = prefix
                .path()
                .join(day.strftime("%Y/%m/%d").to_string())
                .join(&name);
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            // The newest wins, should a uniqueid ever repeat after a restart.
            let modified = meta.modified().ok();
            if meta.is_file() && found.as_ref().is_none_or(|(_, m)| modified > *m) {
                found = Some((path, modified));
            }
        }
    }
    found.map(|(path, _)| path)
}

/// Milliseconds of audio in a WAV file, from its `fmt ` byte rate and `data` size.
pub fn wav_duration_ms(path: &Path) -> Option<i64> {
    use std::io::Read;
    let mut head = vec![0u8; 4096];
    let n = std::fs::File::open(path).ok()?.read(&mut head).ok()?;
    let head = &head[..n];
    if head.len() < 12 || &head[..4] != b"RIFF" || &head[8..12] != b"WAVE" {
        return None;
    }
    let (mut at, mut byte_rate, mut data) = (12usize, None, None);
    while at + 8 <= head.len() {
        let id = &head[at..at + 4];
        let size = u32::from_le_bytes(head[at + 4..at + 8].try_into().ok()?) as u64;
        if id == b"fmt " && at + 20 <= head.len() {
            byte_rate = Some(u32::from_le_bytes(head[at + 16..at + 20].try_into().ok()?) as u64);
        }
        if id == b"data" {
            // A recording still being written may say 0; the file's length is the truth.
            let on_disk = std::fs::metadata(path)
                .ok()?
                .len()
                .saturating_sub((at + 8) as u64);
            data = Some(if size == 0 || size > on_disk {
                on_disk
            } else {
                size
            });
            break;
        }
        at += 8 + size as usize + (size as usize & 1);
    }
    let rate = byte_rate.filter(|r| *r > 0)?;
    Some((data? * 1000 / rate) as i64)
}

/// Indexes the file of a finished recording; false when there is none under `dir`.
/// `zone` is the one Asterisk writes local times in (the agent's `--timezone`).
pub fn index(
    tx: &rusqlite::Transaction,
    dir: &Path,
    zone: &jiff::tz::TimeZone,
    recorded: &Recorded,
    now: &str,
    now_epoch: i64,
) -> rusqlite::Result<bool> {
    let mut days: Vec<jiff::civil::Date> = [recorded.started, now_epoch]
        .into_iter()
        .filter_map(|t| jiff::Timestamp::from_second(t).ok())
        .map(|t| t.to_zoned_datetime(zone.clone()).date())
        .collect();
    days.dedup();
    let Some(path) = locate(dir, &recorded.uniqueid, &days) else {
        return Ok(false);
    };
    let size = std::fs::metadata(&path).map_or(0, |m| m.len() as i64);
    tx.prepare_cached(
        "INSERT INTO recording (uniqueid, linkedid, channel, caller, connected, exten, path,
         size, duration_ms, recorded_at, recorded_epoch) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8,
         ?9, ?10, ?11)
         ON CONFLICT(uniqueid) DO UPDATE SET path = ?7, size = ?8, duration_ms = ?9",
    )?
    .execute(params![
        recorded.uniqueid,
        recorded.linkedid,
        recorded.channel,
        recorded.caller,
        recorded.connected,
        recorded.exten,
        path.display().to_string(),
        size,
        wav_duration_ms(&path),
        now,
        now_epoch
    ])?;
    Ok(true)
}

/// One indexed recording.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Recording {
    pub uniqueid: String,
    pub linkedid: String,
    pub recorded_at: String,
    pub caller: String,
    pub connected: String,
    pub exten: String,
    pub path: String,
    pub size: i64,
    pub duration_ms: Option<i64>,
    /// Set once pruning deleted the file.
    pub deleted_at: Option<String>,
}

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub since: Option<i64>,
    pub until: Option<i64>,
    /// Recordings this extension took part in (caller, connected party or dialled).
    pub extension: Option<String>,
}

pub fn list(conn: &Connection, filter: &Filter) -> rusqlite::Result<Vec<Recording>> {
    let mut stmt = conn.prepare(
        "SELECT uniqueid, linkedid, recorded_at, caller, connected, exten, path, size,
                duration_ms, deleted_at
         FROM recording
         WHERE (?1 IS NULL OR recorded_epoch >= ?1) AND (?2 IS NULL OR recorded_epoch < ?2)
           AND (?3 IS NULL OR ?3 IN (caller, connected, exten))
         ORDER BY recorded_epoch, id",
    )?;
    stmt.query_map(params![filter.since, filter.until, filter.extension], |r| {
        Ok(Recording {
            uniqueid: r.get(0)?,
            linkedid: r.get(1)?,
            recorded_at: r.get(2)?,
            caller: r.get(3)?,
            connected: r.get(4)?,
            exten: r.get(5)?,
            path: r.get(6)?,
            size: r.get(7)?,
            duration_ms: r.get(8)?,
            deleted_at: r.get(9)?,
        })
    })?
    .collect()
}

/// What pruning did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pruned {
    pub deleted: u64,
    pub bytes: u64,
    /// Indexed files already gone (deleted by hand): marked, nothing to delete.
    pub missing: u64,
}

/// Deletes the indexed recordings made before `before` (epoch seconds) and marks them;
/// `dry_run` only counts.
pub fn prune(conn: &Connection, before: i64, dry_run: bool) -> rusqlite::Result<Pruned> {
    let mut stmt = conn.prepare(
        "SELECT id, path, size FROM recording WHERE deleted_at IS NULL AND recorded_epoch < ?1",
    )?;
    let due: Vec<(i64, String, i64)> = stmt
        .query_map([before], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut pruned = Pruned::default();
    let now = jiff::Timestamp::now().to_string();
    for (id, path, size) in due {
        if dry_run {
            pruned.deleted += 1;
            pruned.bytes += size as u64;
            continue;
        }
        match std::fs::remove_file(&path) {
            Ok(()) => {
                pruned.deleted += 1;
                pruned.bytes += size as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => pruned.missing += 1,
            // Kept in the index, tried again next time.
            Err(_) => continue,
        }
        conn.execute(
            "UPDATE recording SET deleted_at = ?2 WHERE id = ?1",
            params![id, now],
        )?;
    }
    Ok(pruned)
}

/// How long after indexing a recording's size and duration are read again.
pub const SETTLING: i64 = 600;

/// Reads the size and duration of recently indexed files again (MixMonitor may still
/// have been writing when the channel hung up); returns how many changed.
pub fn refresh(conn: &Connection, now_epoch: i64) -> rusqlite::Result<u64> {
    let mut stmt = conn.prepare(
        "SELECT id, path, size FROM recording WHERE deleted_at IS NULL AND recorded_epoch >= ?1",
    )?;
    let recent: Vec<(i64, String, i64)> = stmt
        .query_map([now_epoch - SETTLING], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut changed = 0;
    for (id, path, size) in recent {
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        if meta.len() as i64 != size {
            conn.execute(
                "UPDATE recording SET size = ?2, duration_ms = ?3 WHERE id = ?1",
                params![id, meta.len() as i64, wav_duration_ms(Path::new(&path))],
            )?;
            changed += 1;
        }
    }
    Ok(changed)
}

impl std::fmt::Display for Pruned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} recording(s) deleted ({} bytes), {} already gone",
            self.deleted, self.bytes, self.missing
        )
    }
}

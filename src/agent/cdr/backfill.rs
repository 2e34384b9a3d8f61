//! Backfill from cdr_csv's `Master.csv` (on by default in Asterisk): calls made while
//! the agent was down are read from the last position seen and inserted unless AMI
//! already delivered them (same fingerprint).
//!
//! Columns (cdr/cdr_csv.c): accountcode, src, dst, dcontext, clid, channel, dstchannel,
//! lastapp, lastdata, start, answer, end, duration, billsec, disposition, amaflags, then
//! uniqueid (`loguniqueid`), userfield (`loguserfield`), then peeraccount, linkedid,
//! sequence (`newcdrcolumns`): 16, 17, 18 or 21 fields.

use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use super::Cdr;
use super::store::{Store, StoreError, Written};

#[derive(Debug, thiserror::Error)]
pub enum BackfillError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a backfill did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Backfilled {
    pub lines: u64,
    pub written: Written,
    /// Lines with a column count cdr_csv never writes.
    pub skipped: u64,
    /// Started from the beginning because the file was rotated or truncated.
    pub restarted: bool,
}

/// `12 line(s) read, 3 stored, 9 already stored`, plus what was unusual.
impl std::fmt::Display for Backfilled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} line(s) read, {} stored, {} already stored",
            self.lines, self.written.inserted, self.written.duplicates
        )?;
        if self.skipped > 0 {
            write!(f, ", {} unreadable line(s) skipped", self.skipped)?;
        }
        if self.restarted {
            write!(f, " (file was rotated: read from the start)")?;
        }
        Ok(())
    }
}

/// Lines per transaction.
const CHUNK: usize = 10_000;

/// Reads `path` from where the last backfill stopped.
pub fn backfill(store: &mut Store, path: &Path) -> Result<Backfilled, BackfillError> {
    let name = path.display().to_string();
    let io = |source| BackfillError::Io {
        path: name.clone(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    let (dev, ino) = (meta.dev(), meta.ino());
    let mut done = Backfilled::default();
    let mut offset = match store.csv_position(&name)? {
        Some((d, i, o)) if d == dev && i == ino && o <= meta.len() => o,
        Some(_) => {
            done.restarted = true;
            0
        }
        None => 0,
    };
    file.seek(SeekFrom::Start(offset)).map_err(io)?;
    let mut data = Vec::new();
    file.read_to_end(&mut data).map_err(io)?;
    // Only whole lines: Asterisk may be writing the last one right now.
    let complete = data.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    let mut rest = &data[..complete];
    while !rest.is_empty() {
        let mut cdrs = Vec::with_capacity(CHUNK.min(4096));
        let mut taken = 0;
        for line in rest.split_inclusive(|b| *b == b'\n').take(CHUNK) {
            taken += line.len();
            done.lines += 1;
            match parse_line(line) {
                Some(cdr) => cdrs.push(cdr),
                None => done.skipped += 1,
            }
        }
        rest = &rest[taken..];
        offset += taken as u64;
        let w = store.write_csv(&name, (dev, ino, offset), cdrs)?;
        done.written.inserted += w.inserted;
        done.written.duplicates += w.duplicates;
    }
    Ok(done)
}

/// One Master.csv line, or `None` if it has a column count cdr_csv does not write.
pub fn parse_line(line: &[u8]) -> Option<Cdr> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(line);
    let record = reader.byte_records().next()?.ok()?;
    let f = |i: usize| {
        record
            .get(i)
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default()
    };
    let n = |i: usize| f(i).trim().parse().unwrap_or(0);
    let len = record.len();
    if !matches!(len, 16 | 17 | 18 | 21) {
        return None;
    }
    Some(Cdr {
        accountcode: f(0),
        src: f(1),
        dst: f(2),
        dcontext: f(3),
        clid: f(4),
        channel: f(5),
        dstchannel: f(6),
        lastapp: f(7),
        lastdata: f(8),
        start: f(9),
        answer: f(10),
        end: f(11),
        duration: n(12),
        billsec: n(13),
        disposition: f(14),
        amaflags: f(15),
        uniqueid: if len >= 17 { f(16) } else { String::new() },
        userfield: if len >= 18 { f(17) } else { String::new() },
        peeraccount: (len == 21).then(|| f(18)),
        linkedid: (len == 21).then(|| f(19)).filter(|v| !v.is_empty()),
        sequence: (len == 21).then(|| f(20).trim().parse().ok()).flatten(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_columns_cdr_csv_writes() {
        let line = br#""","101","102","test","""Alice"" <101>","PJSIP/101-00000000","PJSIP/102-00000001","Dial","PJSIP/102,10","2026-11-26 09:53:05","2026-11-26 09:53:06","2026-11-26 09:53:08",3,2,"ANSWERED","DOCUMENTATION","1795686785.0","","","1795686785.0",0
"#;
        let cdr = parse_line(line).unwrap();
        assert_eq!(cdr.clid, "\"Alice\" <101>");
        assert_eq!(cdr.lastdata, "PJSIP/102,10");
        assert_eq!(cdr.billsec, 2);
        assert_eq!(cdr.uniqueid, "1795686785.0");
        assert_eq!(cdr.sequence, Some(0));
        assert_eq!(cdr.linkedid.as_deref(), Some("1795686785.0"));
        assert!(parse_line(b"a,b,c\n").is_none());
    }
}

//! Call detail records: one row per `Event: Cdr` (cdr_manager) or `Master.csv` line
//! (cdr_csv), stored in SQLite without loss or duplicates.

pub mod backfill;
pub mod migrations;
pub mod report;
pub mod rollup;
pub mod store;

use sha2::{Digest, Sha256};

use super::ami::Message;
use super::ami::message::lowercase_key;

/// One CDR, as Asterisk reported it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Cdr {
    pub accountcode: String,
    pub src: String,
    pub dst: String,
    pub dcontext: String,
    pub clid: String,
    pub channel: String,
    pub dstchannel: String,
    pub lastapp: String,
    pub lastdata: String,
    /// Local times as Asterisk prints them (`YYYY-MM-DD HH:MM:SS`, no zone).
    pub start: String,
    pub answer: String,
    pub end: String,
    pub duration: i64,
    pub billsec: i64,
    pub disposition: String,
    pub amaflags: String,
    pub uniqueid: String,
    pub userfield: String,
    /// Present when cdr_manager's `[mappings]` (or cdr_csv's `newcdrcolumns`) add them.
    pub linkedid: Option<String>,
    pub sequence: Option<i64>,
    pub peeraccount: Option<String>,
}

/// Where a record came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Ami,
    Csv,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Ami => "ami",
            Origin::Csv => "csv",
        }
    }
}

impl Cdr {
    /// Reads an `Event: Cdr`. Header names are compared case-insensitively; mapped
    /// extra headers (`LinkedID`, `Sequence`, `PeerAccount`) are optional.
    pub fn from_event(m: &Message) -> Option<Cdr> {
        if !m.event()?.eq_ignore_ascii_case("Cdr") {
            return None;
        }
        let mut cdr = Cdr::default();
        // One pass over the headers (a CDR has about 22): this runs for every call.
        let mut lower = [0; 32];
        for (key, value) in m.headers() {
            let text = || value.to_owned();
            let number = || value.trim().parse().unwrap_or(0);
            let Some(key) = lowercase_key(key, &mut lower) else {
                continue;
            };
            match key {
                "accountcode" => cdr.accountcode = text(),
                "source" => cdr.src = text(),
                "destination" => cdr.dst = text(),
                "destinationcontext" => cdr.dcontext = text(),
                "callerid" => cdr.clid = text(),
                "channel" => cdr.channel = text(),
                "destinationchannel" => cdr.dstchannel = text(),
                "lastapplication" => cdr.lastapp = text(),
                "lastdata" => cdr.lastdata = text(),
                "starttime" => cdr.start = text(),
                "answertime" => cdr.answer = text(),
                "endtime" => cdr.end = text(),
                "duration" => cdr.duration = number(),
                "billableseconds" => cdr.billsec = number(),
                "disposition" => cdr.disposition = text(),
                "amaflags" => cdr.amaflags = text(),
                "uniqueid" => cdr.uniqueid = text(),
                "userfield" => cdr.userfield = text(),
                "linkedid" if !value.is_empty() => cdr.linkedid = Some(text()),
                "sequence" => cdr.sequence = value.trim().parse().ok(),
                "peeraccount" => cdr.peeraccount = Some(text()),
                _ => {}
            }
        }
        Some(cdr)
    }

    /// The identity of a record whichever way it arrived (AMI or Master.csv, which may
    /// lack `sequence`): the fields that tell two CDRs of one call apart. A replayed or
    /// backfilled copy has the same fingerprint and is ignored.
    pub fn fingerprint(&self, server: &str) -> [u8; 16] {
        let mut h = Sha256::new();
        for part in [
            server,
            &self.uniqueid,
            &self.start,
            &self.end,
            &self.dst,
            &self.channel,
            &self.dstchannel,
            &self.lastapp,
            &self.disposition,
        ] {
            h.update(part.as_bytes());
            h.update([0]);
        }
        let digest = h.finalize();
        let mut out = [0u8; 16];
        out.copy_from_slice(&digest[..16]);
        out
    }
}

//! Call events from AMI: a call ringing an extension (`DialBegin`), an extension
//! answering (`DialEnd` with `DialStatus: ANSWER`), and, from each newly stored CDR, the
//! leg's end and, when it was an unanswered attempt, a missed call. Queue calls carry
//! their queue (from `QueueCallerJoin`).

use std::collections::HashMap;

use super::config::EventKind;
use crate::agent::ami::Message;
use crate::agent::cdr::Cdr;

/// Who called.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Caller {
    pub number: String,
    pub name: String,
}

/// One call event, before it is addressed to endpoints.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CallEvent {
    #[serde(skip)]
    pub kind: EventKind,
    /// What makes the event unique on its server (a channel's uniqueid, a CDR's
    /// fingerprint), so a replay is recognised.
    #[serde(skip)]
    pub identity: String,
    pub linkedid: String,
    pub uniqueid: String,
    pub caller: Caller,
    /// The number the caller dialled, as the calling channel's extension when it rang.
    pub dialed: String,
    /// The extension rung or answering.
    pub extension: Option<String>,
    pub queue: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cdr: Option<Box<Cdr>>,
}

/// The extension behind a channel name (`PJSIP/102-00000001` → `102`); None for trunks
/// and Local channels, whose names are not numbers.
fn extension_of(channel: &str) -> Option<String> {
    let (tech, rest) = channel.split_once('/')?;
    if !matches!(tech, "PJSIP" | "SIP" | "IAX2") {
        return None;
    }
    let resource = rest.rsplit_once('-').map_or(rest, |(r, _)| r);
    (!resource.is_empty() && resource.chars().all(|c| c.is_ascii_digit()))
        .then(|| resource.to_owned())
}

/// The queue of each call waiting in or taken from a queue, by linkedid.
#[derive(Debug, Default)]
pub struct CallTracker {
    queues: HashMap<String, String>,
}

/// Calls remembered for their queue; past this the memory is cleared (a queue name is
/// then missing from the events of calls already queued, nothing else).
const MAX_TRACKED: usize = 10_000;

/// The events [`CallTracker::observe`] makes call events of.
pub const CALL_EVENTS: &[&str] = &["QueueCallerJoin", "DialBegin", "DialEnd"];

impl CallTracker {
    /// The call event one AMI event makes, if any.
    pub fn observe(&mut self, m: &Message, event: &str) -> Option<CallEvent> {
        match event {
            "QueueCallerJoin" => {
                if self.queues.len() >= MAX_TRACKED {
                    self.queues.clear();
                }
                self.queues
                    .insert(m.get("Linkedid")?.to_owned(), m.get("Queue")?.to_owned());
                None
            }
            "DialBegin" => self.dial(m, EventKind::Ringing),
            "DialEnd" if m.get("DialStatus") == Some("ANSWER") => self.dial(m, EventKind::Answered),
            _ => None,
        }
    }

    fn dial(&self, m: &Message, kind: EventKind) -> Option<CallEvent> {
        let extension = extension_of(m.get("DestChannel")?)?;
        let linkedid = m.get("Linkedid").unwrap_or_default().to_owned();
        Some(CallEvent {
            kind,
            identity: m.get("DestUniqueid")?.to_owned(),
            uniqueid: m.get("Uniqueid").unwrap_or_default().to_owned(),
            caller: Caller {
                number: m.get("CallerIDNum").unwrap_or_default().to_owned(),
                name: m.get("CallerIDName").unwrap_or_default().to_owned(),
            },
            dialed: m.get("Exten").unwrap_or_default().to_owned(),
            extension: Some(extension),
            queue: self.queues.get(&linkedid).cloned(),
            linkedid,
            cdr: None,
        })
    }
}

/// The events of a newly stored CDR: its end, and a missed call when it was an
/// unanswered Dial or Queue.
pub fn from_cdr(cdr: &Cdr, fingerprint: &[u8]) -> Vec<CallEvent> {
    let identity: String = fingerprint.iter().map(|b| format!("{b:02x}")).collect();
    let queue = (cdr.lastapp == "Queue").then(|| {
        cdr.lastdata
            .split(',')
            .next()
            .unwrap_or_default()
            .to_owned()
    });
    let (number, name) = split_clid(&cdr.clid, &cdr.src);
    let event = |kind| CallEvent {
        kind,
        identity: identity.clone(),
        linkedid: cdr.linkedid.clone().unwrap_or_else(|| cdr.uniqueid.clone()),
        uniqueid: cdr.uniqueid.clone(),
        caller: Caller {
            number: number.clone(),
            name: name.clone(),
        },
        dialed: cdr.dst.clone(),
        extension: extension_of(&cdr.dstchannel).or_else(|| {
            (!cdr.dst.is_empty() && cdr.dst.chars().all(|c| c.is_ascii_digit()))
                .then(|| cdr.dst.clone())
        }),
        queue: queue.clone(),
        cdr: Some(Box::new(cdr.clone())),
    };
    let mut events = vec![event(EventKind::Ended)];
    if cdr.disposition != "ANSWERED" && matches!(cdr.lastapp.as_str(), "Dial" | "Queue") {
        events.push(event(EventKind::Missed));
    }
    events
}

/// `"Alice" <101>` → (101, Alice); a bare number keeps `src`.
fn split_clid(clid: &str, src: &str) -> (String, String) {
    match clid.rsplit_once('<') {
        Some((name, number)) => (
            number.trim_end_matches('>').trim().to_owned(),
            name.trim().trim_matches('"').to_owned(),
        ),
        None => (src.to_owned(), String::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_are_the_numeric_resources_of_phone_channels() {
        assert_eq!(extension_of("PJSIP/102-00000001").as_deref(), Some("102"));
        assert_eq!(extension_of("PJSIP/carrier-00000007"), None);
        assert_eq!(extension_of("Local/101@odoo-internal-00000001;1"), None);
    }

    #[test]
    fn caller_ids_are_split_into_number_and_name() {
        assert_eq!(
            split_clid("\"Alice\" <101>", "101"),
            ("101".into(), "Alice".into())
        );
        assert_eq!(
            split_clid("+74951234567", "+74951234567"),
            ("+74951234567".into(), String::new())
        );
    }
}

//! Live calls: the channels Asterisk has now, kept from channel events (Newchannel,
//! Newstate, NewCallerid, NewConnectedLine, DialBegin/DialEnd, BridgeEnter/Leave,
//! Hangup) and reset from `CoreShowChannels` after each reconnect.

use std::collections::HashMap;

use super::ami::Message;
use super::cdr::store::{ChannelRow, Op};

/// The events that change the set of live channels.
pub const CHANNEL_EVENTS: &[&str] = &[
    "Newchannel",
    "Newstate",
    "NewCallerid",
    "NewConnectedLine",
    "DialBegin",
    "DialEnd",
    "BridgeEnter",
    "BridgeLeave",
    "Hangup",
];

#[derive(Debug, Default)]
pub struct Channels {
    live: HashMap<String, ChannelRow>,
}

impl Channels {
    pub fn len(&self) -> usize {
        self.live.len()
    }

    pub fn is_empty(&self) -> bool {
        self.live.is_empty()
    }

    /// Updates from one event; returns the database change, if any.
    pub fn observe(&mut self, m: &Message, event: &str) -> Option<Op> {
        match event {
            "Hangup" => {
                let id = m.get("Uniqueid")?;
                self.live.remove(id).map(|_| Op::ChannelGone(id.to_owned()))
            }
            "Newchannel" | "Newstate" | "NewCallerid" | "NewConnectedLine" | "DialBegin"
            | "DialEnd" | "BridgeEnter" | "BridgeLeave" => {
                let bridge = match event {
                    "BridgeEnter" => Some(m.get("BridgeUniqueid").unwrap_or_default()),
                    "BridgeLeave" => Some(""),
                    _ => None,
                };
                self.update(snapshot(m, ""), bridge)
            }
            _ => None,
        }
    }

    /// The callee side of a Dial event (`Dest*` headers), tracked like the caller.
    pub fn observe_destination(&mut self, m: &Message) -> Option<Op> {
        self.update(snapshot(m, "Dest"), None)
    }

    fn update(&mut self, row: Option<ChannelRow>, bridge: Option<&str>) -> Option<Op> {
        let mut row = row?;
        // A channel first seen in a later event (the agent started mid-call) is tracked
        // from then on.
        let entry = self.live.get(&row.uniqueid);
        if let Some(old) = entry {
            row.created_at = old.created_at.clone();
            if bridge.is_none() {
                row.bridge = old.bridge.clone();
            }
        }
        if let Some(b) = bridge {
            row.bridge = b.to_owned();
        }
        if entry == Some(&row) {
            return None;
        }
        self.live.insert(row.uniqueid.clone(), row.clone());
        Some(Op::Channel(Box::new(row)))
    }

    /// The live-channel changes one event makes (a Dial event changes both sides).
    pub fn ops(&mut self, message: &Message) -> Vec<Op> {
        let Some(event) = message.event() else {
            return Vec::new();
        };
        let mut ops = Vec::new();
        if matches!(event, "DialBegin" | "DialEnd") {
            ops.extend(self.observe_destination(message));
        }
        ops.extend(self.observe(message, event));
        ops
    }

    /// Replaces everything with a `CoreShowChannels` listing.
    pub fn reset(&mut self, items: &[Message]) -> Op {
        self.live.clear();
        for m in items {
            if let Some(mut row) = snapshot(m, "") {
                row.bridge = m.get("BridgeId").unwrap_or_default().to_owned();
                self.live.insert(row.uniqueid.clone(), row);
            }
        }
        Op::ChannelsReset(self.live.values().cloned().collect())
    }
}

/// The channel snapshot headers of an event, with a prefix (`Dest` for dial targets).
fn snapshot(m: &Message, prefix: &str) -> Option<ChannelRow> {
    let get = |k: &str| {
        if prefix.is_empty() {
            m.get(k)
        } else {
            m.get(&format!("{prefix}{k}"))
        }
        .unwrap_or_default()
        .to_owned()
    };
    let uniqueid = get("Uniqueid");
    if uniqueid.is_empty() {
        return None;
    }
    Some(ChannelRow {
        uniqueid,
        channel: get("Channel"),
        state: get("ChannelStateDesc"),
        caller_num: get("CallerIDNum"),
        caller_name: get("CallerIDName"),
        connected_num: get("ConnectedLineNum"),
        connected_name: get("ConnectedLineName"),
        context: get("Context"),
        exten: get("Exten"),
        linkedid: get("Linkedid"),
        bridge: String::new(),
        created_at: String::new(),
    })
}

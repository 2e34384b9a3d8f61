//! Live calls: the channels Asterisk has now, kept from channel events (Newchannel,
//! Newstate, NewCallerid, NewConnectedLine, DialBegin/DialEnd, BridgeEnter/Leave,
//! Hangup) and reset from `CoreShowChannels` after each reconnect.

use std::collections::HashMap;

use super::ami::Message;
use super::ami::message::lowercase_key;
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

/// Most messages held for a pending `CoreShowChannels` listing (its items and the
/// channel events that arrive meanwhile), and how long it may take.
pub const MAX_HELD_FOR_LISTING: usize = 20_000;
pub const LISTING_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// A `CoreShowChannels` listing on its way, with the channel events that arrive while
/// Asterisk lists: they are applied as they come and again on top of the listing when
/// it completes, so a call hung up meanwhile does not come back. What it holds is
/// bounded ([`MAX_HELD_FOR_LISTING`], [`LISTING_TIMEOUT`]): a server that never
/// completes a listing must not grow the process.
#[derive(Debug)]
pub struct Listing {
    id: String,
    items: Vec<Message>,
    during: Vec<Message>,
    started: std::time::Instant,
}

/// What one message did to a listing.
#[derive(Debug)]
pub enum ListingStep {
    /// Still listing (or the message is not the listing's).
    Pending,
    /// Complete: the reset and the replayed events, in order.
    Done(Vec<Op>),
    /// Over its bounds: dropped, with how many messages it held and for how long.
    Abandoned {
        held: usize,
        waited: std::time::Duration,
    },
}

impl Listing {
    /// A listing asked for with this ActionID.
    pub fn new(id: String) -> Listing {
        Listing {
            id,
            items: Vec::new(),
            during: Vec::new(),
            started: std::time::Instant::now(),
        }
    }

    /// Takes one message (the caller applies channel events itself, as always).
    pub fn observe(&mut self, m: &Message, channels: &mut Channels) -> ListingStep {
        let ours = m.action_id() == Some(self.id.as_str());
        match m.event() {
            Some("CoreShowChannel") if ours => self.items.push(m.clone()),
            Some("CoreShowChannelsComplete") if ours => {
                let mut ops = vec![channels.reset(&self.items)];
                for e in std::mem::take(&mut self.during) {
                    ops.extend(channels.ops(&e));
                }
                self.items = Vec::new();
                return ListingStep::Done(ops);
            }
            Some(event) if CHANNEL_EVENTS.contains(&event) => self.during.push(m.clone()),
            _ => {}
        }
        self.check()
    }

    /// Abandoned once over its bounds (call it on a timer too: a silent server never
    /// sends the message that would notice).
    pub fn check(&mut self) -> ListingStep {
        let held = self.items.len() + self.during.len();
        if held > MAX_HELD_FOR_LISTING || self.started.elapsed() > LISTING_TIMEOUT {
            self.items = Vec::new();
            self.during = Vec::new();
            return ListingStep::Abandoned {
                held,
                waited: self.started.elapsed(),
            };
        }
        ListingStep::Pending
    }
}

/// The channel snapshot headers of an event, with a prefix (`Dest` for dial targets),
/// in one pass over the headers; like [`Message::get`], the first of a repeated header
/// counts.
fn snapshot(m: &Message, prefix: &str) -> Option<ChannelRow> {
    let mut row = ChannelRow::default();
    // One bit per field already taken.
    let mut taken = 0u16;
    let mut lower = [0; 32];
    for (key, value) in m.headers() {
        let Some(rest) = key
            .get(..prefix.len())
            .filter(|p| p.eq_ignore_ascii_case(prefix))
            .and_then(|_| key.get(prefix.len()..))
        else {
            continue;
        };
        let (bit, field) = match lowercase_key(rest, &mut lower) {
            Some("uniqueid") => (0, &mut row.uniqueid),
            Some("channel") => (1, &mut row.channel),
            Some("channelstatedesc") => (2, &mut row.state),
            Some("calleridnum") => (3, &mut row.caller_num),
            Some("calleridname") => (4, &mut row.caller_name),
            Some("connectedlinenum") => (5, &mut row.connected_num),
            Some("connectedlinename") => (6, &mut row.connected_name),
            Some("context") => (7, &mut row.context),
            Some("exten") => (8, &mut row.exten),
            Some("linkedid") => (9, &mut row.linkedid),
            _ => continue,
        };
        if taken & (1 << bit) == 0 {
            taken |= 1 << bit;
            value.clone_into(field);
        }
    }
    (!row.uniqueid.is_empty()).then_some(row)
}

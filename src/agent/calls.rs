//! Live calls: the channels Asterisk has now, kept from channel events (Newchannel,
//! Newstate, NewCallerid, NewConnectedLine, DialBegin/DialEnd, BridgeEnter/Leave,
//! Hangup) and reset from `CoreShowChannels` after each reconnect.

use std::collections::{HashMap, HashSet};

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

    /// Replaces everything with a `CoreShowChannels` listing, except the channels
    /// `touched` by events while Asterisk listed: those events came after the listing's
    /// snapshot of them, so their state now (or their absence: hung up) wins. A field
    /// the events never carried (the bridge, when the channel entered it before the
    /// agent connected) is kept from the listing.
    pub fn reset(&mut self, items: Vec<ChannelRow>, touched: &HashSet<String>) -> Op {
        let since = std::mem::take(&mut self.live);
        self.live = items.into_iter().map(|r| (r.uniqueid.clone(), r)).collect();
        for id in touched {
            match since.get(id) {
                Some(now) => {
                    let listed = self.live.remove(id);
                    let mut row = now.clone();
                    if let Some(listed) = listed {
                        if row.bridge.is_empty() {
                            row.bridge = listed.bridge;
                        }
                        if row.created_at.is_empty() {
                            row.created_at = listed.created_at;
                        }
                    }
                    self.live.insert(id.clone(), row);
                }
                None => {
                    self.live.remove(id);
                }
            }
        }
        Op::ChannelsReset(self.live.values().cloned().collect())
    }
}

/// Most entries held for a pending `CoreShowChannels` listing (its channels, and the
/// channels events touch meanwhile), and how long it may take. 10,000 channels is
/// several times what one Asterisk carries; held as rows and ids, it is ~6 MB.
pub const MAX_HELD_FOR_LISTING: usize = 10_000;
pub const LISTING_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// A `CoreShowChannels` listing on its way, with the channels that events touch while
/// Asterisk lists: the events are applied as they come, and win over the listing when
/// it completes, so a call hung up meanwhile does not come back. What it holds is
/// bounded ([`MAX_HELD_FOR_LISTING`], [`LISTING_TIMEOUT`]): a server that never
/// completes a listing must not grow the process.
#[derive(Debug)]
pub struct Listing {
    id: String,
    items: Vec<ChannelRow>,
    touched: HashSet<String>,
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
            touched: HashSet::new(),
            started: std::time::Instant::now(),
        }
    }

    /// Takes one message (the caller applies channel events itself, as always).
    pub fn observe(&mut self, m: &Message, channels: &mut Channels) -> ListingStep {
        let ours = m.action_id() == Some(self.id.as_str());
        match m.event() {
            Some("CoreShowChannel") if ours => self.items.extend(snapshot(m, "").map(|mut row| {
                row.bridge = m.get("BridgeId").unwrap_or_default().to_owned();
                row
            })),
            Some("CoreShowChannelsComplete") if ours => {
                let items = std::mem::take(&mut self.items);
                let touched = std::mem::take(&mut self.touched);
                return ListingStep::Done(vec![channels.reset(items, &touched)]);
            }
            Some(event) if CHANNEL_EVENTS.contains(&event) => {
                for key in ["Uniqueid", "DestUniqueid"] {
                    if let Some(id) = m.get(key).filter(|id| !id.is_empty()) {
                        self.touched.insert(id.to_owned());
                    }
                }
            }
            _ => {}
        }
        self.check()
    }

    /// Abandoned once over its bounds (call it on a timer too: a silent server never
    /// sends the message that would notice).
    pub fn check(&mut self) -> ListingStep {
        let held = self.items.len() + self.touched.len();
        if held > MAX_HELD_FOR_LISTING || self.started.elapsed() > LISTING_TIMEOUT {
            self.items = Vec::new();
            self.touched = HashSet::new();
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

#[cfg(test)]
mod tests {
    use super::*;

    fn event(name: &str, uniqueid: &str, state: &str, list_id: Option<&str>) -> Message {
        let mut m = Message::new([
            ("Event", name),
            ("Channel", "PJSIP/101-00000001"),
            ("ChannelStateDesc", state),
            ("Uniqueid", uniqueid),
        ]);
        if let Some(id) = list_id {
            m.push("ActionID", id);
            m.push("BridgeId", "bridge-1");
        }
        m
    }

    fn states(op: &Op) -> Vec<(String, String, String)> {
        let Op::ChannelsReset(rows) = op else {
            panic!("not a reset: {op:?}");
        };
        let mut out: Vec<_> = rows
            .iter()
            .map(|r| (r.uniqueid.clone(), r.state.clone(), r.bridge.clone()))
            .collect();
        out.sort();
        out
    }

    #[test]
    fn events_during_a_listing_win_over_it_and_a_call_hung_up_meanwhile_stays_gone() {
        let mut channels = Channels::default();
        let mut listing = Listing::new("list-1".into());
        // What the caller does with every event: apply it, and show it to the listing.
        let mut step = |m: Message, channels: &mut Channels| {
            channels.ops(&m);
            listing.observe(&m, channels)
        };
        step(
            event("CoreShowChannel", "1.1", "Up", Some("list-1")),
            &mut channels,
        );
        step(
            event("CoreShowChannel", "1.2", "Up", Some("list-1")),
            &mut channels,
        );
        step(
            event("CoreShowChannel", "1.3", "Ring", Some("list-1")),
            &mut channels,
        );
        // Meanwhile: 1.2 hangs up, 1.3 is answered, 1.4 is new.
        step(event("Hangup", "1.2", "Up", None), &mut channels);
        step(event("Newstate", "1.3", "Up", None), &mut channels);
        step(event("Newchannel", "1.4", "Down", None), &mut channels);
        let done = step(
            Message::new([
                ("Event", "CoreShowChannelsComplete"),
                ("ActionID", "list-1"),
            ]),
            &mut channels,
        );
        let ListingStep::Done(ops) = done else {
            panic!("not done: {done:?}");
        };
        let row = |id: &str, state: &str, bridge: &str| (id.into(), state.into(), bridge.into());
        assert_eq!(
            states(&ops[0]),
            [
                row("1.1", "Up", "bridge-1"),
                row("1.3", "Up", "bridge-1"),
                row("1.4", "Down", ""),
            ]
        );
        assert_eq!(channels.len(), 3);
    }
}

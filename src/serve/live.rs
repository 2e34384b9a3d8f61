//! The calls up now, for every browser at once: one AMI connection (events on) keeps
//! the set of live channels (listed with `CoreShowChannels` after each connect, then
//! followed from channel events), and each change is broadcast to the browsers'
//! event streams. A browser that falls behind gets the whole set again.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::broadcast;

use crate::agent::ami::{Connection, Message};
use crate::agent::calls::{Channels, Listing, ListingStep};
use crate::agent::cdr::store::{ChannelRow, Op};
use crate::agent::control::AmiTarget;

/// A channel as the console shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LiveChannel {
    #[serde(flatten)]
    pub row: ChannelRow,
    /// When the console first saw it (Unix seconds), for its duration.
    pub since: i64,
}

/// One change, as sent to browsers (`type` says which).
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Update {
    /// Everything now: on connect, and to a browser that fell behind.
    Snapshot {
        channels: Vec<LiveChannel>,
        connected: bool,
    },
    Channel {
        channel: Box<LiveChannel>,
    },
    Gone {
        uniqueid: String,
    },
    /// The AMI connection came or went (with why).
    Status {
        connected: bool,
        error: Option<String>,
    },
}

struct State {
    channels: BTreeMap<String, LiveChannel>,
    connected: bool,
}

/// The live channels, shared by the AMI follower and every request.
pub struct Live {
    state: Mutex<State>,
    tx: broadcast::Sender<Update>,
}

impl Default for Live {
    fn default() -> Live {
        Live {
            state: Mutex::new(State {
                channels: BTreeMap::new(),
                connected: false,
            }),
            tx: broadcast::channel(1024).0,
        }
    }
}

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

impl Live {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Everything now.
    pub fn snapshot(&self) -> Update {
        let state = self.lock();
        Update::Snapshot {
            channels: state.channels.values().cloned().collect(),
            connected: state.connected,
        }
    }

    pub fn channels(&self) -> Vec<LiveChannel> {
        self.lock().channels.values().cloned().collect()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Update> {
        self.tx.subscribe()
    }

    /// How many browsers follow now.
    pub fn followers(&self) -> usize {
        self.tx.receiver_count()
    }

    fn send(&self, update: Update) {
        // No browser listening is not an error.
        let _ = self.tx.send(update);
    }

    fn status(&self, connected: bool, error: Option<String>) {
        self.lock().connected = connected;
        self.send(Update::Status { connected, error });
    }

    /// Applies what the channel tracker made of an event, and tells the browsers.
    fn apply(&self, op: Op, durations: &BTreeMap<String, i64>) {
        let mut state = self.lock();
        match op {
            Op::Channel(row) => {
                let since = state
                    .channels
                    .get(&row.uniqueid)
                    .map_or_else(now, |c| c.since);
                let channel = LiveChannel { row: *row, since };
                state
                    .channels
                    .insert(channel.row.uniqueid.clone(), channel.clone());
                drop(state);
                self.send(Update::Channel {
                    channel: Box::new(channel),
                });
            }
            Op::ChannelGone(uniqueid) => {
                state.channels.remove(&uniqueid);
                drop(state);
                self.send(Update::Gone { uniqueid });
            }
            Op::ChannelsReset(rows) => {
                let t = now();
                state.channels = rows
                    .into_iter()
                    .map(|row| {
                        let since = t - durations.get(&row.uniqueid).copied().unwrap_or(0);
                        (row.uniqueid.clone(), LiveChannel { row, since })
                    })
                    .collect();
                let snapshot = Update::Snapshot {
                    channels: state.channels.values().cloned().collect(),
                    connected: state.connected,
                };
                drop(state);
                self.send(snapshot);
            }
            _ => {}
        }
    }
}

/// `HH:MM:SS` (CoreShowChannels' `Duration`) in seconds.
fn seconds(hms: &str) -> i64 {
    hms.split(':')
        .try_fold(0i64, |acc, part| {
            part.parse::<i64>().ok().map(|n| acc * 60 + n)
        })
        .unwrap_or(0)
}

/// Follows AMI until the process ends, reconnecting with a capped backoff; each
/// failure is told to the browsers and to `log`.
pub async fn follow(target: AmiTarget, live: std::sync::Arc<Live>, log: impl Fn(String)) {
    let mut failures: u32 = 0;
    loop {
        let error = match session(&target, &live, &log).await {
            Ok(()) => "AMI closed the connection".to_owned(),
            Err(e) => e.to_string(),
        };
        live.status(false, Some(error.clone()));
        failures = failures.saturating_add(1);
        let wait = crate::agent::backoff(failures.min(6), Duration::from_secs(10));
        log(format!(
            "live calls: {error}; reconnecting in {:.1} s",
            wait.as_secs_f64()
        ));
        tokio::time::sleep(wait).await;
    }
}

async fn session(
    target: &AmiTarget,
    live: &Live,
    log: &impl Fn(String),
) -> Result<(), crate::agent::ami::AmiError> {
    let mut conn = Connection::connect(&target.host, target.port, target.timeout).await?;
    conn.login(&target.credentials, true, target.timeout)
        .await?;
    let mut channels = Channels::default();
    // Listed while events keep coming: they are followed all along and win over the
    // listing when it completes (agent::calls::Listing), so nothing that happens
    // during the listing is lost.
    let id = conn
        .send(Message::new([("Action", "CoreShowChannels")]))
        .await?;
    let mut listing = Some(Listing::new(id));
    let mut durations: BTreeMap<String, i64> = BTreeMap::new();
    live.status(true, None);
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        let m = tokio::select! {
            m = conn.next_message() => m?,
            _ = tick.tick() => {
                if let Some(l) = listing.as_mut()
                    && let ListingStep::Abandoned { held, waited } = l.check()
                {
                    listing = None;
                    log(abandoned(held, waited));
                }
                continue;
            }
        };
        if let Some(l) = listing.as_mut() {
            if m.event() == Some("CoreShowChannel")
                && let (Some(id), Some(d)) = (m.get("Uniqueid"), m.get("Duration"))
            {
                durations.insert(id.to_owned(), seconds(d));
            }
            match l.observe(&m, &mut channels) {
                ListingStep::Pending => {}
                ListingStep::Done(ops) => {
                    listing = None;
                    for op in ops {
                        live.apply(op, &durations);
                    }
                    durations = BTreeMap::new();
                    continue;
                }
                ListingStep::Abandoned { held, waited } => {
                    listing = None;
                    log(abandoned(held, waited));
                }
            }
        }
        for op in channels.ops(&m) {
            live.apply(op, &durations);
        }
    }
}

fn abandoned(held: usize, waited: Duration) -> String {
    format!(
        "live calls: Asterisk did not finish listing the channels up ({held} channels held, \
         {:.1} s): listing dropped; calls are followed from events",
        waited.as_secs_f64()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listed_duration_is_read_in_seconds() {
        assert_eq!(seconds("01:02:03"), 3723);
        assert_eq!(seconds("00:00:07"), 7);
        assert_eq!(seconds("x"), 0);
    }
}

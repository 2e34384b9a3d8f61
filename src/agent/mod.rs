//! `astbase agent`: runs beside Asterisk. It keeps one AMI connection, stores every CDR
//! in SQLite (never lost, never twice), tracks live channels, and bans addresses that
//! keep failing authentication. Apart from the config pipeline: it shares the crate,
//! not the flow.
//!
//! The reader task never waits on the disk: CDRs and channel changes go through a
//! bounded queue to the writer thread ([`writer`]); Asterisk drops a manager client that
//! stops reading for `writetimeout` (100 ms by default).

pub mod ami;
pub mod bans;
pub mod calls;
pub mod cdr;
pub mod central;
pub mod control;
pub mod doorbell;
pub mod event;
pub mod lookup;
pub mod recordings;
pub mod settings;
pub mod shipper;
pub mod webhooks;
pub mod writer;

use std::hash::{BuildHasher, Hasher};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use jiff::tz::TimeZone;

use ami::{AmiError, Connection, Credentials, Kind, Message};
use bans::{BanConfig, BanTracker};
use calls::Channels;
use cdr::store::{Op, Store, StoreError};
use cdr::{Cdr, Origin};
use writer::Job;

pub use event::{Event, Log};

/// Everything the agent needs (from flags or the old agent's environment variables).
#[derive(Debug, Clone)]
pub struct AgentConfig {
    pub host: String,
    pub port: u16,
    pub credentials: Credentials,
    /// This server's name, stored with every row.
    pub server: String,
    pub db: PathBuf,
    /// The zone Asterisk's local CDR times are in.
    pub zone: TimeZone,
    /// cdr_csv's Master.csv, read on start and after each reconnect.
    pub cdr_csv: Option<PathBuf>,
    pub ping_interval: Duration,
    pub ping_timeout: Duration,
    pub connect_timeout: Duration,
    /// Longest wait between reconnection attempts.
    pub max_backoff: Duration,
    /// Changes the reader may queue ahead of the database.
    pub queue: usize,
    pub bans: Option<BanConfig>,
    /// Where committed CDRs are sent as well (the local database stays the buffer).
    pub central: Option<shipper::ShipperConfig>,
    /// Where call events are POSTed (none: no events are made).
    pub webhooks: Vec<webhooks::Endpoint>,
    /// Asterisk's monitor directory, where recordings are indexed from.
    pub recordings_dir: Option<PathBuf>,
    /// Recordings older than this are deleted (only those in the index).
    pub keep_recordings: Option<Duration>,
    /// Asterisk's conf dir, where the repo's settings for the agent are
    /// (`astbase_<suffix>.conf`, written by apply).
    pub settings_dir: Option<PathBuf>,
    /// Where unknown callers' names are looked up (the FastAGI server runs only then).
    pub caller_lookup: Option<lookup::LookupConfig>,
}

impl AgentConfig {
    pub fn new(server: &str, db: PathBuf, credentials: Credentials) -> AgentConfig {
        AgentConfig {
            host: "127.0.0.1".into(),
            port: 5038,
            credentials,
            server: server.to_owned(),
            db,
            zone: TimeZone::system(),
            cdr_csv: None,
            ping_interval: Duration::from_secs(10),
            ping_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(10),
            max_backoff: Duration::from_secs(30),
            queue: 4_096,
            bans: None,
            central: None,
            webhooks: Vec::new(),
            recordings_dir: None,
            keep_recordings: None,
            caller_lookup: None,
            settings_dir: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot start the agent's runtime: {0}")]
    Runtime(std::io::Error),
    #[error("the database writer recorded unexpectedly")]
    WriterDied,
}

/// What the agent did, reported when it stops.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    pub cdrs_inserted: u64,
    pub cdr_duplicates: u64,
    pub backfilled: u64,
    pub connections: u64,
    pub bans: u64,
    /// Sent to the central database (new there), and found there already.
    pub shipped: u64,
    pub already_shipped: u64,
    /// Webhook events delivered, and dead-lettered.
    pub webhooks_delivered: u64,
    pub webhooks_dead: u64,
    pub recordings: u64,
}

/// Runs until `shutdown` completes, then flushes every queued change and returns. What
/// happens meanwhile is reported to `log`.
pub fn run(
    config: AgentConfig,
    log: Log,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<Summary, AgentError> {
    let mut store = Store::open(&config.db, &config.server, config.zone.clone())?;
    store.set_webhooks(config.webhooks.clone());
    if let Some(dir) = &config.recordings_dir {
        store.set_recordings_dir(dir.clone());
    }
    let librarian = match &config.recordings_dir {
        Some(_) => Some(start_librarian(
            &config.db,
            Retention {
                flag: config.keep_recordings,
                settings: config.settings_dir.as_deref().map(settings::Watcher::new),
            },
            log.clone(),
        )?),
        None => None,
    };
    let shipper = match &config.central {
        Some(central) => Some(shipper::start(&config.db, central.clone(), log.clone())?),
        None => None,
    };
    let deliverers =
        webhooks::deliver::start(&config.db, &config.webhooks, config.max_backoff, &log)?;
    let agi = config.caller_lookup.clone().and_then(|c| {
        lookup::Lookup::new(c)
            .and_then(|l| lookup::agi::start(std::sync::Arc::new(l), log.clone()))
            .map_err(|e| log.emit(Event::LookupUnavailable(e)))
            .ok()
    });
    let mut doorbells = deliverers.bells.clone();
    doorbells.extend(shipper.as_ref().map(|(d, _, _)| d.clone()));
    let (sender, counters, writer) = writer::start(store, config.queue, log.clone(), doorbells);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(AgentError::Runtime)?;
    let mut state = State {
        recordings: Default::default(),
        calls: (!config.webhooks.is_empty()).then(webhooks::CallTracker::default),
        channels: Channels::default(),
        bans: config.bans.clone().map(BanTracker::new),
        connections: 0,
        bans_made: 0,
    };
    let outcome = runtime.block_on(async {
        tokio::pin!(shutdown);
        let mut failures: u32 = 0;
        loop {
            tokio::select! {
                () = &mut shutdown => return Ok(()),
                ended = session(&config, &sender, &log, &mut state) => {
                    match ended {
                        Err(SessionEnd::WriterDied) => return Err(AgentError::WriterDied),
                        Err(SessionEnd::Ami { error, connected }) => {
                            if connected {
                                failures = 0;
                            }
                            failures = failures.saturating_add(1);
                            let wait = backoff(failures, config.max_backoff);
                            log.emit(Event::Reconnecting { error, wait });
                            tokio::select! {
                                () = &mut shutdown => return Ok(()),
                                () = tokio::time::sleep(wait) => {}
                            }
                        }
                        Ok(()) => {}
                    }
                }
            }
        }
    });
    // Let running ban commands record their rows, then flush everything queued.
    runtime.shutdown_timeout(Duration::from_secs(5));
    counters.stopping.store(true, Ordering::Relaxed);
    drop(sender);
    let _store = writer.join().map_err(|_| AgentError::WriterDied)?;
    // Everything is committed now: the shipper sends what it can, briefly, and stops.
    let mut shipped = (0, 0);
    if let Some((doorbell, ship_counters, handle)) = shipper {
        doorbell.stop();
        let _ = handle.join();
        shipped = (
            ship_counters.shipped.load(Ordering::Relaxed),
            ship_counters.already_there.load(Ordering::Relaxed),
        );
    }
    let hook_counters = deliverers.stop();
    if let Some(agi) = agi {
        agi.stop();
    }
    if let Some((bell, thread)) = librarian {
        bell.stop();
        let _ = thread.join();
    }
    outcome?;
    Ok(Summary {
        recordings: counters.recordings.load(Ordering::Relaxed),
        webhooks_delivered: hook_counters.delivered.load(Ordering::Relaxed),
        webhooks_dead: hook_counters.dead.load(Ordering::Relaxed),
        shipped: shipped.0,
        already_shipped: shipped.1,
        cdrs_inserted: counters.inserted.load(Ordering::Relaxed),
        cdr_duplicates: counters.duplicates.load(Ordering::Relaxed),
        backfilled: counters.backfilled.load(Ordering::Relaxed),
        connections: state.connections,
        bans: state.bans_made,
    })
}

/// Recordings remembered between their start and their channel's hangup; past this
/// (calls that never hang up as far as the agent saw) the memory is cleared.
const MAX_RECORDINGS_PENDING: usize = 10_000;
/// How often recordings past the retention are looked for.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);
/// How often recently indexed files are measured again.
const REFRESH_EVERY: Duration = Duration::from_secs(10);

/// How long recordings are kept: `--recordings-keep-days` when given, else what the
/// repo's settings file says (read again when it changes), else forever.
struct Retention {
    flag: Option<Duration>,
    settings: Option<settings::Watcher>,
}

impl Retention {
    /// The retention in force after looking at the settings file; `true` when it
    /// changed (then recordings are pruned at once rather than within the hour).
    fn current(&mut self, keep: &mut Option<Duration>, first: bool, log: &Log) -> bool {
        let Some(read) = self.settings.as_mut().and_then(|w| w.poll(first)) else {
            return false;
        };
        let from_repo = read
            .recordings_keep_days
            .map(|d| Duration::from_secs(u64::from(d) * 86_400));
        log.emit(Event::RepoSettings {
            settings: read,
            overridden: self.flag,
        });
        let now = self.flag.or(from_repo);
        let changed = now != *keep;
        *keep = now;
        changed
    }
}

/// The librarian: measures recent recordings again every few seconds and, with a
/// retention, deletes recordings older than it at start, hourly, and when the repo's
/// retention changes.
fn start_librarian(
    db: &std::path::Path,
    mut retention: Retention,
    log: Log,
) -> Result<(doorbell::Doorbell, std::thread::JoinHandle<()>), AgentError> {
    let conn = rusqlite::Connection::open(db).map_err(|source| {
        AgentError::Store(StoreError::Sqlite {
            path: db.display().to_string(),
            source,
        })
    })?;
    let _ = conn.busy_timeout(Duration::from_secs(10));
    let path = db.display().to_string();
    let (bell, listener) = doorbell::new();
    let thread = std::thread::Builder::new()
        .name("astbase-library".into())
        .spawn(move || {
            let failed = |source| {
                log.emit(Event::PruneFailed(StoreError::Sqlite {
                    path: path.clone(),
                    source,
                }))
            };
            let mut last_prune: Option<std::time::Instant> = None;
            let mut keep = retention.flag;
            let mut first = true;
            while !listener.stopping() {
                let now = jiff::Timestamp::now().as_second();
                if let Err(e) = recordings::refresh(&conn, now) {
                    failed(e);
                }
                if retention.current(&mut keep, first, &log) {
                    last_prune = None;
                }
                first = false;
                if let Some(keep) = keep
                    && last_prune.is_none_or(|t| t.elapsed() >= PRUNE_EVERY)
                {
                    last_prune = Some(std::time::Instant::now());
                    match recordings::prune(&conn, now - keep.as_secs() as i64, false) {
                        Ok(p) if p.deleted + p.missing > 0 => log.emit(Event::RecordingsPruned(p)),
                        Ok(_) => {}
                        Err(e) => failed(e),
                    }
                }
                listener.sleep_unless_stopping(REFRESH_EVERY);
            }
        })
        .expect("a thread can be spawned");
    Ok((bell, thread))
}

/// Capped exponential backoff with jitter (50–100 % of the step), so a fleet of agents
/// does not reconnect in lockstep after Asterisk restarts.
pub fn backoff(failures: u32, max: Duration) -> Duration {
    let step = Duration::from_millis(250)
        .saturating_mul(1u32 << failures.min(16))
        .min(max);
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    step / 2 + step.mul_f64((random % 1000) as f64 / 2000.0)
}

/// What the agent keeps across reconnects.
struct State {
    /// Recordings started and not yet finished, by uniqueid.
    recordings: std::collections::HashMap<String, recordings::Recorded>,
    /// Call events are made only when there are webhooks to send them to.
    calls: Option<webhooks::CallTracker>,
    channels: Channels,
    bans: Option<BanTracker>,
    connections: u64,
    bans_made: u64,
}

enum SessionEnd {
    Ami { error: AmiError, connected: bool },
    WriterDied,
}

/// The events [`session`] acts on. The decoder passes over every other event without
/// building it: most of a busy server's stream (Newexten, VarSet, DeviceStateChange...)
/// concerns nothing the agent keeps.
fn handled(event: &str) -> bool {
    const OWN: &[&str] = &[
        "Cdr",
        "CoreShowChannel",
        "CoreShowChannelsComplete",
        "MixMonitorStart",
        "MixMonitorStop",
        "Shutdown",
    ];
    [
        OWN,
        calls::CHANNEL_EVENTS,
        bans::BAN_EVENTS,
        webhooks::CALL_EVENTS,
    ]
    .iter()
    .any(|names| names.iter().any(|n| n.eq_ignore_ascii_case(event)))
}

/// One connection: log in, resynchronise, then read until it breaks.
async fn session(
    config: &AgentConfig,
    sender: &writer::Sender,
    log: &Log,
    state: &mut State,
) -> Result<(), SessionEnd> {
    let not_connected = |error| SessionEnd::Ami {
        error,
        connected: false,
    };
    let mut conn = Connection::connect(&config.host, config.port, config.connect_timeout)
        .await
        .map_err(not_connected)?;
    let skipped = log.clone();
    conn.on_skip(move |e| skipped.emit(Event::SkippedMessage(e)));
    conn.keep_events(handled);
    conn.login(&config.credentials, true, config.connect_timeout)
        .await
        .map_err(not_connected)?;
    state.connections += 1;
    log.emit(Event::Connected {
        host: config.host.clone(),
        port: config.port,
        banner: conn.banner().to_owned(),
        user: config.credentials.username.clone(),
    });
    let lost = |error| SessionEnd::Ami {
        error,
        connected: true,
    };
    // Resynchronise: calls that are up now, and CDRs written while we were away.
    let list_id = conn
        .send(Message::new([("Action", "CoreShowChannels")]))
        .await
        .map_err(lost)?;
    let mut listing = Some(calls::Listing::new(list_id));
    if let Some(csv) = &config.cdr_csv {
        if !csv.exists() {
            // Without it, the calls made while the agent is down are lost for good.
            log.emit(Event::BackfillSourceMissing(csv.clone()));
        } else if !sender.send(Job::Backfill(csv.clone())).await {
            return Err(SessionEnd::WriterDied);
        }
    }
    let mut ping = tokio::time::interval(config.ping_interval);
    ping.tick().await;
    let mut ping_sent: Option<(String, Instant)> = None;
    let mut last_message = Instant::now();
    loop {
        let message = match conn.buffered_message() {
            Some(m) => m,
            None => tokio::select! {
                m = conn.next_message() => {
                    last_message = Instant::now();
                    m.map_err(lost)?
                }
                _ = ping.tick() => {
                    if let Some(l) = listing.as_mut()
                        && let calls::ListingStep::Abandoned { held, waited } = l.check()
                    {
                        listing = None;
                        log.emit(Event::ListingAbandoned { held, waited });
                    }
                    // Dead means silent: no Pong and nothing else since the ping. A busy
                    // connection whose Pong is still queued behind a burst of events is
                    // alive, and gets a fresh ping.
                    match &ping_sent {
                        Some((_, sent)) if sent.elapsed() < config.ping_timeout => {}
                        Some((_, sent)) if last_message <= *sent => {
                            return Err(lost(AmiError::Timeout(config.ping_timeout)));
                        }
                        _ => {
                            let ping = Message::new([("Action", "Ping")]);
                            let id = conn.send(ping).await.map_err(lost)?;
                            ping_sent = Some((id, Instant::now()));
                        }
                    }
                    continue;
                }
            },
        };
        // A missing Pong is noticed on the next tick; any answer clears it.
        if let Some((id, _)) = &ping_sent
            && message.action_id() == Some(id.as_str())
        {
            ping_sent = None;
            continue;
        }
        let Kind::Event(event) = message.kind() else {
            continue;
        };
        let mut ops: Vec<Op> = Vec::new();
        if let Some(l) = listing.as_mut() {
            match l.observe(&message, &mut state.channels) {
                calls::ListingStep::Pending => {}
                calls::ListingStep::Done(done) => {
                    ops = done;
                    listing = None;
                }
                // A listing given up on stays given up: its end must not empty the table.
                calls::ListingStep::Abandoned { held, waited } => {
                    listing = None;
                    log.emit(Event::ListingAbandoned { held, waited });
                }
            }
        }
        match event {
            "Cdr" => {
                ops.extend(Cdr::from_event(&message).map(|c| Op::Cdr(Box::new(c), Origin::Ami)))
            }
            // The listing's own messages (taken above).
            "CoreShowChannel" | "CoreShowChannelsComplete" => {}
            "MixMonitorStart" => {
                if let Some(r) = recordings::Recorded::from_event(&message) {
                    if state.recordings.len() >= MAX_RECORDINGS_PENDING {
                        state.recordings.clear();
                    }
                    state.recordings.insert(r.uniqueid.clone(), r);
                }
            }
            "MixMonitorStop" => ops.extend(
                message
                    .get("Uniqueid")
                    .and_then(|id| state.recordings.remove(id))
                    .or_else(|| recordings::Recorded::from_event(&message))
                    .map(|r| Op::Recording(Box::new(r))),
            ),
            "Shutdown" => log.emit(Event::AsteriskShutdown {
                reason: message.get("Shutdown").map(str::to_owned),
            }),
            _ => {
                if let Some(tracker) = state.bans.as_mut()
                    && let Some(decision) = tracker.observe(&message, event, Instant::now())
                {
                    state.bans_made += 1;
                    let ban_config = tracker.config().clone();
                    let sender = sender.clone();
                    let log = log.clone();
                    // ipset runs off the reader task: reading AMI must never stall.
                    tokio::task::spawn_blocking(move || {
                        let row = bans::execute(&ban_config, &decision);
                        log.emit(Event::Ban(row.clone()));
                        sender.send_blocking(Job::Op(Op::Ban(row)));
                    });
                }
                // A recording is finished when its channel is gone.
                if event == "Hangup"
                    && let Some(r) = message
                        .get("Uniqueid")
                        .and_then(|id| state.recordings.remove(id))
                {
                    ops.push(Op::Recording(Box::new(r)));
                }
                if let Some(calls) = state.calls.as_mut()
                    && let Some(call) = calls.observe(&message, event)
                {
                    ops.push(Op::Call(Box::new(call)));
                }
                ops.extend(state.channels.ops(&message));
            }
        }
        for op in ops {
            if !sender.send(Job::Op(op)).await {
                return Err(SessionEnd::WriterDied);
            }
        }
    }
}

//! What the agent has to say while it runs: [`Event`]s handed to a [`Log`] that the
//! caller provides. The library never prints; the command edge decides where the
//! agent's log goes (stderr, and so journald under systemd).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::ami::{AmiError, FrameError};
use super::cdr::backfill::{BackfillError, Backfilled};
use super::cdr::store::{BanRow, StoreError};
use super::central::schema::Migrated;
use super::central::{CentralError, PasswordSource};
use super::lookup::Found;

/// One thing worth a line in the agent's log.
#[derive(Debug)]
pub enum Event {
    /// Logged in to AMI.
    Connected {
        host: String,
        port: u16,
        banner: String,
        user: String,
    },
    /// The connection could not be made or broke; the next attempt is after `wait`.
    Reconnecting { error: AmiError, wait: Duration },
    /// Asterisk announced that it is going down.
    AsteriskShutdown { reason: Option<String> },
    /// A ban carried out, or tried and not made (dry run, ipset failed).
    Ban(BanRow),
    /// A message AMI sent was skipped (too large, too many headers); reading goes on.
    SkippedMessage(FrameError),
    /// The database is slower than Asterisk: reading pauses until the queue drains.
    QueueFull { capacity: usize },
    /// Master.csv was read and what was missing stored.
    Backfilled { path: PathBuf, done: Backfilled },
    /// Master.csv could not be read this time.
    BackfillSkipped(BackfillError),
    /// There is no Master.csv where the agent looks for one: cdr_csv is not writing it.
    BackfillSourceMissing(PathBuf),
    /// A commit failed; the batch is kept and written again after `delay`.
    WriteFailed { delay: Duration, error: StoreError },
    /// The live-channel listing after connecting did not complete in time or grew too
    /// large: it is dropped (its held messages freed) and channels are followed from
    /// events alone until the next connection lists them again.
    ListingAbandoned { held: usize, waited: Duration },
    /// Connected to the central database (its schema brought up to date if need be).
    CentralConnected {
        url: String,
        password_from: PasswordSource,
        migrated: Migrated,
    },
    /// The central database could not be reached or refused a batch; CDRs keep being
    /// stored locally and are sent after `wait`.
    CentralUnavailable { error: CentralError, wait: Duration },
    /// Every stored CDR is in the central database again (after a start, an outage or a
    /// burst larger than one batch).
    CentralCaughtUp {
        url: String,
        shipped: u64,
        already_there: u64,
    },
    /// The local shipping mark could not be read or saved; the batch is sent again
    /// later (the central database ignores what it already has).
    ShipMarkFailed(StoreError),
    /// A webhook delivery failed; it is tried again after `wait`.
    WebhookFailed {
        endpoint: String,
        key: String,
        attempt: u32,
        error: String,
        wait: Duration,
    },
    /// A webhook event failed `attempts` times and was dead-lettered (kept in the outbox
    /// with its last error); the endpoint's next event goes.
    WebhookDead {
        endpoint: String,
        key: String,
        attempts: u32,
        error: String,
    },
    /// The outbox could not be read or updated; tried again shortly.
    WebhookOutboxFailed(StoreError),
    /// Recordings Asterisk reported stopped whose file is not in the monitor directory.
    RecordingsNotFound(u64),
    /// Recordings past the retention were deleted.
    RecordingsPruned(crate::agent::recordings::Pruned),
    /// The librarian could not read or update the index; tried again at the next round.
    PruneFailed(StoreError),
    /// The caller-lookup FastAGI server listens here.
    LookupListening(std::net::SocketAddr),
    /// A caller lookup: the name found (or not), or why the CRM gave none.
    LookupDone {
        number: String,
        found: crate::agent::lookup::Found,
    },
    /// An AGI request the lookup does not serve (another script, a number that is not
    /// E.164, or Asterisk refusing the name).
    LookupRefused { script: String, number: String },
    /// Too many lookups at once: a call kept its name without one.
    LookupBusy,
    /// The repo's settings for this agent were read (at start, or after a change).
    RepoSettings {
        settings: super::settings::RepoSettings,
        /// `--recordings-keep-days`, which wins over the file.
        overridden: Option<Duration>,
    },
    /// The caller lookup cannot run (its port is taken); calls keep the trunk's names.
    LookupUnavailable(crate::agent::lookup::LookupError),
}

impl std::fmt::Display for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Event::Connected {
                host,
                port,
                banner,
                user,
            } => write!(f, "connected to {host}:{port} ({banner}) as {user}"),
            Event::Reconnecting { error, wait } => {
                write!(f, "{error}; reconnecting in {:.1} s", wait.as_secs_f64())
            }
            Event::AsteriskShutdown { reason } => write!(
                f,
                "Asterisk is shutting down ({})",
                reason.as_deref().unwrap_or("?")
            ),
            Event::Ban(row) => write!(
                f,
                "{} {} after {} security event(s) ({}): {}",
                if row.applied { "banned" } else { "did not ban" },
                row.address,
                row.events,
                row.last_event,
                row.detail
            ),
            Event::SkippedMessage(e) => write!(f, "{e}"),
            Event::QueueFull { capacity } => write!(
                f,
                "WARNING: the database queue is full ({capacity} changes waiting): the disk is \
                 slower than Asterisk's events; reading from AMI pauses until it drains (nothing \
                 is dropped, but Asterisk may disconnect a client that stops reading)"
            ),
            Event::Backfilled { path, done } => {
                write!(f, "backfill from {}: {done}", path.display())
            }
            Event::BackfillSkipped(e) => write!(f, "backfill skipped: {e}"),
            Event::BackfillSourceMissing(path) => write!(
                f,
                "warning: no {} to backfill from: calls made while the agent is not \
                 connected will be lost. Enable cdr_csv with a [csv] section in cdr.conf \
                 (not cdr_csv.conf), or point --cdr-csv at Master.csv",
                path.display()
            ),
            Event::WriteFailed { delay, error } => {
                write!(f, "database write failed, retrying in {delay:?}: {error}")
            }
            Event::ListingAbandoned { held, waited } => write!(
                f,
                "warning: Asterisk did not finish listing the channels up ({held} channels \
                 held, {:.1} s): listing dropped; live calls are followed from events",
                waited.as_secs_f64()
            ),
            Event::CentralConnected {
                url,
                password_from,
                migrated,
            } => {
                write!(f, "central database {url}: connected")?;
                match password_from {
                    PasswordSource::Url => write!(f, " (password from the URL)")?,
                    PasswordSource::File(p) => write!(f, " (password from {})", p.display())?,
                    PasswordSource::Environment => write!(f, " (password from PGPASSWORD)")?,
                    PasswordSource::Pgpass(p) => write!(f, " (password from {})", p.display())?,
                    PasswordSource::None => write!(f, " (no password)")?,
                }
                if migrated.from != migrated.to {
                    write!(
                        f,
                        "; schema migrated from version {} to {}",
                        migrated.from, migrated.to
                    )?;
                }
                Ok(())
            }
            Event::CentralUnavailable { error, wait } => write!(
                f,
                "central database: {error}; CDRs are kept locally and sent in {:.1} s",
                wait.as_secs_f64()
            ),
            Event::CentralCaughtUp {
                url,
                shipped,
                already_there,
            } => write!(
                f,
                "central database {url}: caught up, {shipped} CDR(s) sent \
                 ({already_there} were already there)"
            ),
            Event::ShipMarkFailed(e) => write!(f, "cannot record what was sent: {e}"),
            Event::WebhookFailed {
                endpoint,
                key,
                attempt,
                error,
                wait,
            } => write!(
                f,
                "webhook {endpoint}: {key}: attempt {attempt} failed ({error}); next in {:.1} s",
                wait.as_secs_f64()
            ),
            Event::WebhookDead {
                endpoint,
                key,
                attempts,
                error,
            } => write!(
                f,
                "ERROR: webhook {endpoint}: {key}: given up after {attempts} attempts ({error}); \
                 kept in the outbox as dead"
            ),
            Event::WebhookOutboxFailed(e) => write!(f, "webhook outbox: {e}"),
            Event::RecordingsNotFound(n) => write!(
                f,
                "warning: {n} recording(s) Asterisk reported are not under the recordings \
                 directory (--recordings-dir): not indexed"
            ),
            Event::RecordingsPruned(p) => write!(f, "recordings pruned: {p}"),
            Event::PruneFailed(e) => write!(f, "recordings index: {e}"),
            Event::LookupListening(addr) => {
                write!(f, "caller lookup: FastAGI listening on {addr}")
            }
            Event::LookupDone { number, found } => match found {
                Found::Answer {
                    name: Some(name),
                    cached,
                } => write!(
                    f,
                    "caller lookup {number}: {name}{}",
                    if *cached { " (cached)" } else { "" }
                ),
                Found::Answer { name: None, cached } => write!(
                    f,
                    "caller lookup {number}: not in the CRM{}",
                    if *cached { " (cached)" } else { "" }
                ),
                Found::Failed(e) => write!(
                    f,
                    "warning: caller lookup {number}: the CRM failed ({e}); the call keeps                      the trunk's name"
                ),
            },
            Event::LookupRefused { script, number } => write!(
                f,
                "warning: caller lookup: refused AGI request {script:?} for {number:?} (the                  dialplan asks for `cidname` with an E.164 number)"
            ),
            Event::RepoSettings {
                settings,
                overridden,
            } => {
                match &settings.file {
                    None => write!(f, "no astbase_*.conf from the repo: recordings ")?,
                    Some(file) => write!(f, "settings from {}: recordings ", file.display())?,
                }
                match settings.recordings_keep_days {
                    Some(days) => write!(f, "kept {days} days")?,
                    None => write!(f, "kept until deleted")?,
                }
                if let Some(flag) = overridden {
                    write!(
                        f,
                        " (--recordings-keep-days {} is used instead)",
                        flag.as_secs() / 86_400
                    )?;
                }
                for p in &settings.problems {
                    write!(f, "; warning: {p}")?;
                }
                Ok(())
            }
            Event::LookupUnavailable(e) => {
                write!(f, "ERROR: {e}; calls keep the names their trunks send")
            }
            Event::LookupBusy => write!(
                f,
                "warning: caller lookup: {} lookups already running; a call keeps the                  trunk's name",
                crate::agent::lookup::agi::MAX_CONNECTIONS
            ),
        }
    }
}

/// Where the agent's events go. Called from the AMI reader, the database writer thread
/// and the threads that run ipset, so it must be quick and thread-safe.
#[derive(Clone)]
pub struct Log(Arc<dyn Fn(&Event) + Send + Sync>);

impl Log {
    pub fn new(sink: impl Fn(&Event) + Send + Sync + 'static) -> Log {
        Log(Arc::new(sink))
    }

    pub fn emit(&self, event: Event) {
        (self.0)(&event);
    }
}

impl std::fmt::Debug for Log {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Log")
    }
}

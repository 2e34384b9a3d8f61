//! The fleet as the console shows it: every server of the repo, the commit its host last
//! applied and when (its state file), whether a plan would change anything, and the
//! generated files beside the host's own (secrets masked), each section linked to the
//! YAML that defines it.
//!
//! A snapshot is a whole plan (repo read, rendered, every host read through the
//! transport), made in the background every `refresh` and on demand, and kept: pages
//! read the snapshot, never a host.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::plan::{Action, Plan, diff::mask};
use crate::render::provenance::{self, Provenance};
use crate::validate::Report;

/// Makes a snapshot: reads the repo, renders, plans every server (the command edge
/// provides it: it knows the repo, the revision and the SSH options).
pub type Loader = Arc<dyn Fn() -> Result<FleetSnapshot, String> + Send + Sync>;

/// How the console gets the fleet.
#[derive(Clone)]
pub struct FleetConfig {
    pub load: Loader,
    /// Time between background refreshes.
    pub refresh: Duration,
}

impl std::fmt::Debug for FleetConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FleetConfig")
            .field("refresh", &self.refresh)
            .finish_non_exhaustive()
    }
}

/// Where a server stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// The host has what the repo renders.
    InSync,
    /// A plan would change the host.
    Pending,
    /// Someone edited a generated file on the host since the last apply.
    Drift,
    /// The host could not be read.
    Unreachable,
}

impl Status {
    pub fn words(self) -> &'static str {
        match self {
            Status::InSync => "in sync",
            Status::Pending => "changes pending",
            Status::Drift => "edited on the host",
            Status::Unreachable => "unreachable",
        }
    }
}

/// A place in the repo: a file and a line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Place {
    pub file: String,
    pub line: usize,
}

/// One generated file of a server.
#[derive(Debug, Clone, Serialize)]
pub struct FileView {
    pub name: String,
    pub action: Action,
    pub drift: bool,
    // The texts are not serialized: the fleet and server pages list files, and the
    // file page passes its lines itself; serializing them would copy every file of
    // the fleet into each page's context.
    /// What the repo renders, secrets masked (none: the file is to be removed).
    #[serde(skip)]
    pub rendered: Option<String>,
    /// What the host has, secrets masked (none: no such file there).
    #[serde(skip)]
    pub host: Option<String>,
    /// Unified diff host → rendered, secrets masked.
    #[serde(skip)]
    pub diff: String,
    /// Lines of `rendered` (1-based) → where the repo defines them.
    #[serde(skip)]
    pub links: BTreeMap<usize, Place>,
}

/// One server.
#[derive(Debug, Clone, Serialize)]
pub struct ServerView {
    pub name: String,
    pub host: String,
    pub tags: Vec<String>,
    pub description: Option<String>,
    pub status: Status,
    /// Why the host could not be read.
    pub error: Option<String>,
    /// The source the host's state file names (a commit id, ...).
    pub applied_source: Option<String>,
    /// When that apply was, as an RFC 3339 time.
    pub applied_at: Option<String>,
    /// "1 to add, 2 to change, 0 to remove."
    pub summary: String,
    pub reloads: Vec<String>,
    pub files: Vec<FileView>,
    /// Where the repo defines the server.
    pub place: Option<Place>,
}

/// The fleet at one moment.
#[derive(Debug, Clone, Serialize)]
pub struct FleetSnapshot {
    /// What was rendered: a commit id, "working tree"...
    pub source: String,
    pub servers: Vec<ServerView>,
    /// The repo's YAML files, line by line, plaintext secrets masked (the viewer's
    /// links lead there).
    #[serde(skip)]
    pub yaml: BTreeMap<String, Vec<String>>,
    /// When it was made (RFC 3339) and how long that took.
    pub made_at: String,
    pub took_ms: u64,
}

/// Builds a snapshot from a validated repo and its plan.
pub fn snapshot(report: &Report, plan: &Plan, took: Duration) -> FleetSnapshot {
    let sources = &report.sources;
    let fleet = &report.fleet;
    let models: Vec<_> = plan
        .servers
        .iter()
        .map(|sp| fleet.servers.iter().find(|s| s.name.as_str() == sp.server))
        .collect();
    let provenance = Provenance::new(fleet);
    let links: Vec<Vec<Vec<provenance::Link>>> = plan
        .servers
        .iter()
        .map(|sp| {
            sp.files
                .iter()
                .map(|f| {
                    f.content
                        .as_deref()
                        .map_or_else(Vec::new, |text| provenance.links(&sp.server, &f.name, text))
                })
                .collect()
        })
        .collect();
    // Every place at once (the servers', then the links' in order): locating parses
    // each YAML file involved, so once for the whole fleet rather than once a file.
    let mut origins: Vec<&crate::model::Origin> =
        models.iter().flatten().map(|s| &s.origin).collect();
    origins.extend(links.iter().flatten().flatten().map(|l| l.origin));
    let mut places = crate::validate::locate(sources, &origins)
        .into_iter()
        .zip(&origins)
        .map(|(span, o)| Place {
            file: sources.file(o.file).rel.clone(),
            line: span.start.line,
        });
    let server_places: Vec<Option<Place>> = models
        .iter()
        .map(|m| m.and_then(|_| places.next()))
        .collect();
    let servers = plan
        .servers
        .iter()
        .zip(models)
        .zip(server_places)
        .zip(links)
        .map(|(((sp, model), place), file_links)| {
            let files: Vec<FileView> = sp
                .files
                .iter()
                .zip(file_links)
                .map(|(f, links)| FileView {
                    name: f.name.clone(),
                    action: f.action,
                    drift: f.drift,
                    rendered: f.content.as_deref().map(|t| mask(&f.name, t)),
                    host: f.previous.as_deref().map(|t| mask(&f.name, t)),
                    diff: f.diff.clone(),
                    links: links
                        .iter()
                        .filter_map(|l| Some((l.line, places.next()?)))
                        .collect(),
                })
                .collect();
            let status = if sp.error.is_some() {
                Status::Unreachable
            } else if sp.files.iter().any(|f| f.drift) {
                Status::Drift
            } else if sp.has_changes() {
                Status::Pending
            } else {
                Status::InSync
            };
            ServerView {
                name: sp.server.clone(),
                host: sp.host.clone(),
                tags: model
                    .map_or_else(Vec::new, |s| s.tags.iter().map(|t| t.to_string()).collect()),
                description: model.and_then(|s| s.description.clone()),
                status,
                error: sp.error.clone(),
                applied_source: sp.applied_source.clone(),
                applied_at: sp
                    .applied_at
                    .and_then(|t| jiff::Timestamp::from_second(t as i64).ok())
                    .map(|t| t.to_string()),
                summary: sp.counts().to_string(),
                reloads: sp.reloads.clone(),
                files,
                place,
            }
        })
        .collect();
    let yaml = sources
        .ids()
        .map(|id| {
            let file = sources.file(id);
            let lines = (1..=file.text.lines().count())
                .map(|n| crate::diagnostics::masked_line(file, n))
                .collect();
            (file.rel.clone(), lines)
        })
        .collect();
    FleetSnapshot {
        source: plan.source.clone(),
        servers,
        yaml,
        made_at: jiff::Timestamp::now().to_string(),
        took_ms: took.as_millis() as u64,
    }
}

/// The console's view of the fleet: the newest snapshot, refreshed in the background.
pub struct Fleet {
    config: FleetConfig,
    current: RwLock<Option<Arc<FleetSnapshot>>>,
    /// Why the newest refresh failed (the repo did not validate, ...).
    failure: RwLock<Option<String>>,
    refreshing: AtomicBool,
}

impl Fleet {
    pub fn new(config: FleetConfig) -> Fleet {
        Fleet {
            config,
            current: RwLock::new(None),
            failure: RwLock::new(None),
            refreshing: AtomicBool::new(false),
        }
    }

    pub fn current(&self) -> Option<Arc<FleetSnapshot>> {
        self.current.read().ok().and_then(|c| c.clone())
    }

    pub fn failure(&self) -> Option<String> {
        self.failure.read().ok().and_then(|f| f.clone())
    }

    pub fn refreshing(&self) -> bool {
        self.refreshing.load(Ordering::SeqCst)
    }

    pub fn interval(&self) -> Duration {
        self.config.refresh
    }

    /// Makes a new snapshot now, unless one is being made (then false). Blocking: run
    /// it off the async workers.
    pub fn refresh(&self, log: &dyn Fn(&str)) -> bool {
        if self.refreshing.swap(true, Ordering::SeqCst) {
            return false;
        }
        let started = Instant::now();
        let made = (self.config.load)();
        match made {
            Ok(snapshot) => {
                log(&format!(
                    "fleet: {} server(s) read from {} in {:.1} s",
                    snapshot.servers.len(),
                    snapshot.source,
                    started.elapsed().as_secs_f64()
                ));
                if let Ok(mut c) = self.current.write() {
                    *c = Some(Arc::new(snapshot));
                }
                if let Ok(mut f) = self.failure.write() {
                    *f = None;
                }
            }
            Err(e) => {
                log(&format!("fleet: {e}"));
                if let Ok(mut f) = self.failure.write() {
                    *f = Some(e);
                }
            }
        }
        self.refreshing.store(false, Ordering::SeqCst);
        true
    }
}

/// Refreshes `fleet` now and then every interval, until the process ends.
pub async fn follow(fleet: Arc<Fleet>, log: super::ServeLog) {
    loop {
        let (f, l) = (fleet.clone(), log.clone());
        let _ = tokio::task::spawn_blocking(move || f.refresh(&|m| l(m))).await;
        tokio::time::sleep(fleet.interval()).await;
    }
}

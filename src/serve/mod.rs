//! `astbase serve`: the web console for the people who run the phones. It runs from the
//! same binary and needs no other service: server-side pages (minijinja), a few
//! embedded assets (CodeMirror's Asterisk mode, Chart.js; no CDN), the live calls over
//! server-sent events, and call control through AMI. The configuration stays in git:
//! the console looks and acts on calls, it never changes the repo.
//!
//! Security, because it controls live calls: 127.0.0.1 unless TLS (or a TLS proxy in
//! front) is said; users and roles from a file of Argon2id hashes ([`users`]);
//! HttpOnly SameSite=Strict session cookies, a CSRF token on every state-changing
//! request and a login limit ([`auth`]); every action recorded ([`audit`]).

pub mod audit;
pub mod auth;
mod calllog;
mod calls;
mod cli;
pub mod fleet;
pub mod live;
mod pages;
mod stats;
pub mod store;
pub mod tls;
pub mod users;
mod viewer;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::agent::cdr::store::StoreError;
use crate::agent::control::AmiTarget;

/// Everything `astbase serve` needs.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub listen: SocketAddr,
    /// PEM certificate chain and key: serve HTTPS.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// A TLS-terminating proxy is in front: plain HTTP here, cookies still `Secure`,
    /// and the client's address from `X-Forwarded-For`.
    pub behind_proxy: bool,
    pub users: PathBuf,
    /// The Asterisk whose calls are shown and controlled.
    pub ami: Option<AmiTarget>,
    /// The CDR store (the agent's SQLite database, or the central PostgreSQL one): the
    /// call log, the statistics, and the audit table.
    pub db: store::CdrStore,
    /// This server's name, as the agent stores it.
    pub server: String,
    /// Channel technology of the phones (`PJSIP`).
    pub tech: String,
    /// Sessions end after this long without a request.
    pub idle: Duration,
    /// The zone Asterisk writes CDR times in (what "today" is on the statistics page).
    pub zone: jiff::tz::TimeZone,
    /// The repo and its hosts, for the fleet pages (none: not shown).
    pub fleet: Option<fleet::FleetConfig>,
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(
        "refusing to listen on {0} without TLS: the console controls live calls and its \
         passwords and cookies would cross the network in the clear"
    )]
    Insecure(SocketAddr),
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Users(#[from] users::UsersError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Central(#[from] crate::agent::central::CentralError),
    #[error("connecting to the central database failed unexpectedly: {0}")]
    Crashed(String),
    #[error("{0} has no users: nobody could log in")]
    NoUsers(PathBuf),
}

impl ServeError {
    pub fn hint(&self) -> Option<String> {
        match self {
            ServeError::Insecure(_) => Some(
                "give --tls-cert and --tls-key, or --behind-proxy when a TLS-terminating proxy \
                 is in front, or listen on 127.0.0.1"
                    .into(),
            ),
            ServeError::NoUsers(path) => Some(format!(
                "add one: astbase serve user add NAME --role admin --users {}",
                path.display()
            )),
            ServeError::Users(e) => e.hint().map(str::to_owned),
            _ => None,
        }
    }
}

/// Refuses to listen beyond loopback in the clear.
pub fn check_listen(config: &ServeConfig) -> Result<(), ServeError> {
    if !config.listen.ip().is_loopback() && config.tls.is_none() && !config.behind_proxy {
        return Err(ServeError::Insecure(config.listen));
    }
    Ok(())
}

/// What the console logs (the command edge decides where it goes).
pub type ServeLog = Arc<dyn Fn(&str) + Send + Sync>;

/// Serves until `shutdown` completes.
pub async fn run(
    config: ServeConfig,
    log: ServeLog,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    check_listen(&config)?;
    let users = users::Users::load(&config.users)?;
    if users.users.is_empty() {
        return Err(ServeError::NoUsers(config.users.clone()));
    }
    let tls = match &config.tls {
        Some((cert, key)) => Some(tls::server_config(cert, key)?),
        None => None,
    };
    let (db, audit) = match &config.db {
        store::CdrStore::Sqlite(path) => (
            store::Db::Sqlite(path.clone()),
            audit::Audit::open(path, &config.server)?,
        ),
        store::CdrStore::Postgres(url) => {
            let url = (**url).clone();
            let central = tokio::task::spawn_blocking(move || store::Central::open(url))
                .await
                .map_err(|e| ServeError::Crashed(e.to_string()))??;
            let central = Arc::new(central);
            let audit = audit::Audit::Postgres {
                central: central.clone(),
                server: config.server.clone(),
            };
            (store::Db::Postgres(central), audit)
        }
    };
    let live = Arc::new(live::Live::default());
    if let Some(target) = config.ami.clone() {
        let (live, log) = (live.clone(), log.clone());
        tokio::spawn(async move { live::follow(target, live, move |m| log(&m)).await });
    }
    let fleet = config.fleet.clone().map(|f| Arc::new(fleet::Fleet::new(f)));
    if let Some(fleet) = fleet.clone() {
        tokio::spawn(fleet::follow(fleet, log.clone()));
    }
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServeError::Bind {
            addr: config.listen,
            source,
        })?;
    let local = listener.local_addr().unwrap_or(config.listen);
    let secure = tls.is_some() || config.behind_proxy;
    let app = Arc::new(pages::App::new(
        &config,
        db,
        audit,
        live,
        fleet,
        secure,
        log.clone(),
    ));
    // The statistics rollup catches up now (over a million records: seconds), not
    // while the first user waits for the page.
    if let store::Db::Sqlite(db) = &app.db {
        let (gate, db, log) = (app.rollup_gate.clone(), db.clone(), log.clone());
        tokio::task::spawn_blocking(move || {
            let _one = gate.lock();
            let started = std::time::Instant::now();
            match stats::catch_up(&db) {
                Ok(0) => {}
                Ok(n) => log(&format!(
                    "statistics: {n} call record(s) rolled up in {:.1} s",
                    started.elapsed().as_secs_f64()
                )),
                Err(e) => log(&format!("statistics: cannot roll up the call records: {e}")),
            }
        });
    }
    let router = pages::router(app);
    log(&format!(
        "listening on {}://{local} ({} user(s) in {})",
        if tls.is_some() { "https" } else { "http" },
        users.users.len(),
        config.users.display()
    ));
    let service = router.into_make_service_with_connect_info::<pages::Peer>();
    let served = match tls {
        Some(tls) => {
            axum::serve(tls::TlsListener::new(listener, tls), service)
                .with_graceful_shutdown(shutdown)
                .await
        }
        None => {
            axum::serve(listener, service)
                .with_graceful_shutdown(shutdown)
                .await
        }
    };
    served.map_err(|source| ServeError::Bind {
        addr: local,
        source,
    })
}

//! The central CDR database: PostgreSQL, where every agent of the fleet ships its
//! server's records (exactly once: the fingerprint is the primary key there too) and
//! where `astbase cdr report|export --db postgres://...` reads them.
//!
//! The driver is tokio-postgres (the agent is already on tokio; no ORM, the SQL is in
//! this module). Everything here is blocking from the caller's side: a [`Session`] owns
//! a runtime with one worker thread, so the shipper thread and the CLI use it like a
//! plain client (and the shipper can read its next batch while one is being stored),
//! and every call has a deadline (a slow or silent database is an error, not a hang).

pub mod console;
pub mod pgpass;
pub mod report;
pub mod schema;
pub mod ship;
pub mod tls;
pub mod url;

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use tokio_postgres::error::SqlState;

pub use url::{CentralUrl, PasswordLookup, PasswordSource, is_postgres_url};

#[derive(Debug, thiserror::Error)]
pub enum CentralError {
    #[error("bad central database URL `{url}`: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("cannot read the password file {}: {source}", path.display())]
    PasswordFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot use {} as {option}: {reason}", path.display())]
    Certificate {
        option: &'static str,
        path: PathBuf,
        reason: String,
    },
    #[error("cannot set up TLS: {0}")]
    Tls(String),
    #[error(
        "{url}: PostgreSQL refused role `{user}`: {message} (check the password in the URL, \
         --password-file, PGPASSWORD or ~/.pgpass, the sslcert and sslkey of a role that logs in \
         by certificate, and pg_hba.conf)"
    )]
    Refused {
        url: String,
        user: String,
        message: String,
    },
    #[error("{url}: cannot connect: {message}")]
    Connect { url: String, message: String },
    #[error("{url}: {what} took longer than {}s", after.as_secs())]
    Timeout {
        url: String,
        what: &'static str,
        after: Duration,
    },
    #[error("{url}: {what}: {message}")]
    Query {
        url: String,
        what: &'static str,
        message: String,
    },
    #[error(
        "{url} has astbase schema version {found}, newer than this astbase knows ({known}); \
         upgrade astbase"
    )]
    TooNew {
        url: String,
        found: i32,
        known: usize,
    },
    #[error(
        "{url}: role `{user}` may not create the astbase schema ({message}); run \
         `astbase cdr migrate --db URL` once as the database owner, then grant the agent's role \
         what README's \"Central CDRs\" lists"
    )]
    CannotMigrate {
        url: String,
        user: String,
        message: String,
    },
    #[error("cannot start a runtime for the central database: {0}")]
    Runtime(std::io::Error),
}

/// PostgreSQL's words for an error: the server's message (and detail) when it sent one,
/// else the client's description with its causes.
fn describe(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return match db.detail() {
            Some(detail) => format!("{} ({detail})", db.message()),
            None => db.message().to_owned(),
        };
    }
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}

/// Connects with `tls` and runs the connection on the runtime.
async fn open<T>(
    config: &tokio_postgres::Config,
    tls: T,
) -> Result<tokio_postgres::Client, tokio_postgres::Error>
where
    T: tokio_postgres::tls::MakeTlsConnect<tokio_postgres::Socket>,
    T::Stream: Send + 'static,
{
    let (client, connection) = config.connect(tls).await?;
    tokio::spawn(connection);
    Ok(client)
}

/// A connection to the central database, used from blocking code.
pub struct Session {
    runtime: tokio::runtime::Runtime,
    client: std::sync::Arc<tokio_postgres::Client>,
    url: CentralUrl,
    /// The deadline of each statement.
    timeout: Duration,
}

impl Session {
    /// Connects (TLS as the URL says) within `timeout`, which then bounds each call.
    pub fn connect(url: &CentralUrl, timeout: Duration) -> Result<Session, CentralError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("astbase-pg")
            .enable_all()
            .build()
            .map_err(CentralError::Runtime)?;
        let mut config = url.config.clone();
        config.connect_timeout(timeout);
        config.application_name("astbase");
        let connector = tls::connector(&url.tls, url.client_certificate.as_ref())?;
        let refused = |e: tokio_postgres::Error| {
            let code = e.code();
            if code == Some(&SqlState::INVALID_PASSWORD)
                || code == Some(&SqlState::INVALID_AUTHORIZATION_SPECIFICATION)
            {
                CentralError::Refused {
                    url: url.display.clone(),
                    user: url.user().to_owned(),
                    message: describe(&e),
                }
            } else {
                let mut message = describe(&e);
                if message.contains("invalid peer certificate") {
                    message.push_str(
                        " (the server's certificate is not signed by the sslrootcert authority, \
                         or does not name the host: check sslrootcert=, or use \
                         sslmode=verify-ca to accept any name the authority signed)",
                    );
                }
                CentralError::Connect {
                    url: url.display.clone(),
                    message,
                }
            }
        };
        let client = runtime.block_on(async {
            let connecting = async {
                match connector {
                    None => open(&config, tokio_postgres::NoTls).await,
                    Some(tls) => open(&config, tls).await,
                }
                .map_err(refused)
            };
            tokio::time::timeout(timeout, connecting)
                .await
                .unwrap_or(Err(CentralError::Timeout {
                    url: url.display.clone(),
                    what: "connecting",
                    after: timeout,
                }))
        })?;
        // The server gives up when we do: a statement abandoned at our deadline must not
        // stay behind, holding a connection and its locks, while we retry.
        let limit = format!("SET statement_timeout = {}", timeout.as_millis());
        runtime
            // (The deadline is made inside the runtime, whose timer it needs.)
            .block_on(async { tokio::time::timeout(timeout, client.batch_execute(&limit)).await })
            .map_err(|_| CentralError::Timeout {
                url: url.display.clone(),
                what: "connecting",
                after: timeout,
            })?
            .map_err(|e| CentralError::Query {
                url: url.display.clone(),
                what: "setting statement_timeout",
                message: describe(&e),
            })?;
        Ok(Session {
            runtime,
            client: std::sync::Arc::new(client),
            url: url.clone(),
            timeout,
        })
    }

    pub fn url(&self) -> &CentralUrl {
        &self.url
    }

    /// How long a call may take on our side: the server's statement_timeout plus a
    /// second, so a slow statement is ended by the server (which says so and frees its
    /// locks) and this deadline only catches a silent network.
    fn deadline(&self) -> Duration {
        self.timeout + Duration::from_secs(1)
    }

    /// Runs one database call to completion within the session's deadline.
    fn run<'a, T, F>(
        &'a self,
        what: &'static str,
        call: impl FnOnce(&'a tokio_postgres::Client) -> F,
    ) -> Result<T, CentralError>
    where
        F: Future<Output = Result<T, tokio_postgres::Error>> + 'a,
    {
        let future = call(&self.client);
        match self
            .runtime
            .block_on(async { tokio::time::timeout(self.deadline(), future).await })
        {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(self.query_error(what, &e)),
            Err(_) => Err(CentralError::Timeout {
                url: self.url.display.clone(),
                what,
                after: self.timeout,
            }),
        }
    }

    fn query_error(&self, what: &'static str, e: &tokio_postgres::Error) -> CentralError {
        CentralError::Query {
            url: self.url.display.clone(),
            what,
            message: describe(e),
        }
    }

    /// Whether the connection is gone (the server restarted or the network broke).
    pub fn is_closed(&self) -> bool {
        self.client.is_closed()
    }
}

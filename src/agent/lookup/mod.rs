//! Caller names from a CRM, for callers the phonebook does not know. The dialplan asks
//! the agent over FastAGI ([`agi`]) with the caller's E.164 number; the agent answers
//! from its cache or asks the CRM (`GET` the configured URL, a short timeout) and sets
//! `CALLERID(name)`. A CRM that is slow, down or does not know the number leaves the
//! name the trunk sent, and the call goes on: the lookup never costs a call more than
//! its timeout.

pub mod agi;
mod cache;

use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::model::contact;

pub use cache::Cache;

/// The lookup's settings (`astbase agent --caller-lookup URL ...`).
#[derive(Debug, Clone)]
pub struct LookupConfig {
    /// The CRM's lookup URL; `{number}` in it becomes the caller's number, URL-encoded
    /// (`https://crm.example/api/callers?number={number}`).
    pub url: String,
    /// Where the FastAGI server listens (the dialplan's `caller_lookup.agi`).
    pub listen: SocketAddr,
    /// How long one CRM request may take, all in.
    pub timeout: Duration,
    /// Sent as `Authorization: Bearer TOKEN`.
    pub token: Option<String>,
    /// How long a name the CRM gave is kept, and how long "unknown" is.
    pub ttl: Duration,
    pub miss_ttl: Duration,
    /// Numbers kept in the cache at most.
    pub cache_size: usize,
}

impl LookupConfig {
    /// Defaults for a URL: listen on 127.0.0.1:4573 (FastAGI's port), 1.5 s timeout,
    /// names kept 10 minutes, unknown numbers 1 minute, 10,000 numbers.
    pub fn new(url: &str) -> LookupConfig {
        LookupConfig {
            url: url.to_owned(),
            listen: SocketAddr::from(([127, 0, 0, 1], agi::DEFAULT_PORT)),
            timeout: Duration::from_millis(1500),
            token: None,
            ttl: Duration::from_secs(600),
            miss_ttl: Duration::from_secs(60),
            cache_size: 10_000,
        }
    }
}

/// Why a lookup's settings cannot be used, or its server cannot start.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    #[error("caller lookup URL {0} is not http:// or https:// with a {{number}} placeholder")]
    Url(String),
    #[error("caller lookup: cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

/// Why the CRM gave no answer (the call keeps the trunk's name; nothing is cached).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CrmError {
    #[error("no answer: {0}")]
    Unreachable(String),
    #[error("HTTP {0}")]
    Status(u16),
    #[error("the answer is not {{\"name\": ...}} JSON: {0}")]
    Body(String),
}

/// What the CRM answers for a known caller (other fields are ignored).
#[derive(Debug, Deserialize)]
struct CrmCaller {
    name: String,
    #[serde(default)]
    company: Option<String>,
}

/// The CRM lookup with its cache, shared by the FastAGI connections.
pub struct Lookup {
    config: LookupConfig,
    http: ureq::Agent,
    cache: Mutex<Cache>,
}

/// Where a name came from, for the log and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// The name (`None`: the CRM does not know the number) and whether it was cached.
    Answer {
        name: Option<String>,
        cached: bool,
    },
    Failed(CrmError),
}

impl Lookup {
    pub fn new(config: LookupConfig) -> Result<Lookup, LookupError> {
        let scheme_ok = config.url.starts_with("http://") || config.url.starts_with("https://");
        if !scheme_ok || !config.url.contains("{number}") {
            return Err(LookupError::Url(config.url.clone()));
        }
        let http = ureq::Agent::config_builder()
            .timeout_global(Some(config.timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(concat!("astbase/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        let cache = Mutex::new(Cache::new(config.cache_size));
        Ok(Lookup {
            config,
            http,
            cache,
        })
    }

    pub fn listen_addr(&self) -> SocketAddr {
        self.config.listen
    }

    /// The name to show for an E.164 number: from the cache while it is fresh, else
    /// from the CRM (an answer, known or not, is cached; a failure is not).
    pub fn name_of(&self, number: &str) -> Found {
        let now = Instant::now();
        if let Some(name) = self.lock_cache().get(number, now) {
            return Found::Answer { name, cached: true };
        }
        match self.ask(number) {
            Ok(name) => {
                let ttl = if name.is_some() {
                    self.config.ttl
                } else {
                    self.config.miss_ttl
                };
                self.lock_cache()
                    .put(number, name.clone(), Instant::now() + ttl);
                Found::Answer {
                    name,
                    cached: false,
                }
            }
            Err(e) => Found::Failed(e),
        }
    }

    fn lock_cache(&self) -> std::sync::MutexGuard<'_, Cache> {
        // A panic elsewhere cannot leave the cache inconsistent: each call is one
        // insert or read.
        self.cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// One request to the CRM: 200 with a name is known; 404 (or 204, or an empty name)
    /// is unknown.
    fn ask(&self, number: &str) -> Result<Option<String>, CrmError> {
        let url = self.config.url.replace("{number}", &url_encode(number));
        let mut request = self.http.get(&url).header("Accept", "application/json");
        if let Some(token) = &self.config.token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        let mut response = request
            .call()
            .map_err(|e| CrmError::Unreachable(e.to_string()))?;
        match response.status().as_u16() {
            200 => {}
            204 | 404 => return Ok(None),
            status => return Err(CrmError::Status(status)),
        }
        let body = response
            .body_mut()
            .with_config()
            .limit(64 * 1024)
            .read_to_string()
            .map_err(|e| CrmError::Unreachable(e.to_string()))?;
        let caller: CrmCaller =
            serde_json::from_str(&body).map_err(|e| CrmError::Body(e.to_string()))?;
        let Some(name) = contact::display_name(&caller.name) else {
            return Ok(None);
        };
        let company = caller.company.as_deref().and_then(contact::display_name);
        Ok(Some(contact::shown_name(&name, company.as_deref())))
    }
}

/// Percent-encodes everything but unreserved characters (`+` becomes `%2B`).
fn url_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_goes_into_the_url_encoded() {
        assert_eq!(url_encode("+74951234567"), "%2B74951234567");
    }

    #[test]
    fn a_url_without_a_placeholder_or_scheme_is_refused() {
        for url in ["https://crm.example/callers", "ftp://crm/{number}"] {
            assert!(matches!(
                Lookup::new(LookupConfig::new(url)),
                Err(LookupError::Url(_))
            ));
        }
        assert!(Lookup::new(LookupConfig::new("http://127.0.0.1:1/c/{number}")).is_ok());
    }
}

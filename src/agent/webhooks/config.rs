//! `--webhooks FILE`: where the agent sends call events, as YAML (or JSON):
//!
//! ```yaml
//! endpoints:
//!   - name: crm
//!     url: https://crm.example/astbase/events
//!     secret_file: /etc/astbase/crm-webhook-secret   # or secret_env: CRM_WEBHOOK_SECRET
//!     events: [ringing, answered, ended, missed]     # default: all
//!     extensions: ["101", "102"]                      # default: every extension
//!     queues: [support]                               # default: every queue
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

/// The kinds of call event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    /// A call started ringing an extension.
    Ringing,
    /// An extension answered.
    Answered,
    /// A call leg ended: its CDR.
    Ended,
    /// An attempt to reach an extension or queue ended unanswered (busy, no answer,
    /// failed).
    Missed,
}

impl EventKind {
    pub const ALL: [EventKind; 4] = [
        EventKind::Ringing,
        EventKind::Answered,
        EventKind::Ended,
        EventKind::Missed,
    ];

    /// The `type` of the payload and the `X-Astbase-Event` header.
    pub fn name(self) -> &'static str {
        match self {
            EventKind::Ringing => "call.ringing",
            EventKind::Answered => "call.answered",
            EventKind::Ended => "call.ended",
            EventKind::Missed => "call.missed",
        }
    }
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    endpoints: Vec<EndpointSpec>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct EndpointSpec {
    name: String,
    url: String,
    secret_file: Option<PathBuf>,
    secret_env: Option<String>,
    #[serde(default)]
    events: Vec<EventKind>,
    #[serde(default)]
    extensions: Vec<String>,
    #[serde(default)]
    queues: Vec<String>,
    /// Seconds one delivery may take.
    timeout: Option<u64>,
    /// Deliveries tried before the event is dead-lettered.
    max_attempts: Option<u32>,
}

/// One receiver of call events, resolved.
#[derive(Clone)]
pub struct Endpoint {
    pub name: String,
    pub url: String,
    pub secret: Vec<u8>,
    pub events: Vec<EventKind>,
    pub extensions: Vec<String>,
    pub queues: Vec<String>,
    pub timeout: Duration,
    pub max_attempts: u32,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secret.
        f.debug_struct("Endpoint")
            .field("name", &self.name)
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WebhookConfigError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {reason}", path.display())]
    Invalid { path: PathBuf, reason: String },
    #[error("{}: endpoint `{endpoint}`: {reason}", path.display())]
    Endpoint {
        path: PathBuf,
        endpoint: String,
        reason: String,
    },
}

/// Reads and resolves the endpoints of a webhooks file (secrets read now).
pub fn load(path: &Path) -> Result<Vec<Endpoint>, WebhookConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| WebhookConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    let invalid = |reason: String| WebhookConfigError::Invalid {
        path: path.to_owned(),
        reason,
    };
    let node = crate::source::yaml::parse(&text)
        .map_err(|e| invalid(e.to_string()))?
        .ok_or_else(|| invalid("it is empty: list `endpoints:`".into()))?;
    let file: File = serde_json::from_value(node.to_json()).map_err(|e| invalid(e.to_string()))?;
    let mut seen = std::collections::HashSet::new();
    file.endpoints
        .into_iter()
        .map(|spec| {
            let bad = |reason: String| WebhookConfigError::Endpoint {
                path: path.to_owned(),
                endpoint: spec.name.clone(),
                reason,
            };
            if spec.name.is_empty()
                || !spec
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            {
                return Err(bad("a name is letters, digits, `-`, `_` and `.`".into()));
            }
            if !seen.insert(spec.name.clone()) {
                return Err(bad("the name is used twice".into()));
            }
            if !(spec.url.starts_with("http://") || spec.url.starts_with("https://")) {
                return Err(bad(format!(
                    "url `{}` must start with http:// or https://",
                    spec.url
                )));
            }
            let secret = match (&spec.secret_file, &spec.secret_env) {
                (Some(file), None) => std::fs::read(file)
                    .map(|mut s| {
                        while s.last().is_some_and(|b| matches!(b, b'\n' | b'\r')) {
                            s.pop();
                        }
                        s
                    })
                    .map_err(|e| bad(format!("cannot read {}: {e}", file.display())))?,
                (None, Some(name)) => std::env::var(name)
                    .map(String::into_bytes)
                    .map_err(|_| bad(format!("the environment has no {name}")))?,
                _ => {
                    return Err(bad(
                        "give the signing secret as secret_file or secret_env (one of them)".into(),
                    ));
                }
            };
            if secret.len() < 16 {
                return Err(bad("the secret is shorter than 16 bytes".into()));
            }
            Ok(Endpoint {
                events: if spec.events.is_empty() {
                    EventKind::ALL.to_vec()
                } else {
                    spec.events.clone()
                },
                timeout: Duration::from_secs(spec.timeout.unwrap_or(5).clamp(1, 60)),
                max_attempts: spec.max_attempts.unwrap_or(12).max(1),
                name: spec.name,
                url: spec.url,
                secret,
                extensions: spec.extensions,
                queues: spec.queues,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_text(text: &str) -> Result<Vec<Endpoint>, String> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("secret"), "0123456789abcdef\n").unwrap();
        let path = dir.path().join("hooks.yaml");
        std::fs::write(
            &path,
            text.replace("SECRET", &dir.path().join("secret").display().to_string()),
        )
        .unwrap();
        load(&path).map_err(|e| {
            e.to_string()
                .replace(&path.display().to_string(), "hooks.yaml")
        })
    }

    #[test]
    fn an_endpoint_gets_every_event_unless_it_names_some() {
        let endpoints = load_text(
            "endpoints:\n  - name: crm\n    url: https://crm.example/hook\n    secret_file: SECRET\n",
        )
        .unwrap();
        assert_eq!(endpoints[0].events, EventKind::ALL);
        assert_eq!(endpoints[0].secret, b"0123456789abcdef");
        assert_eq!(endpoints[0].timeout, Duration::from_secs(5));
        assert_eq!(endpoints[0].max_attempts, 12);
    }

    #[test]
    fn bad_endpoints_are_named_with_what_to_fix() {
        assert_eq!(
            load_text("endpoints:\n  - name: crm\n    url: ftp://x\n    secret_file: SECRET\n")
                .unwrap_err(),
            "hooks.yaml: endpoint `crm`: url `ftp://x` must start with http:// or https://"
        );
        assert_eq!(
            load_text("endpoints:\n  - name: crm\n    url: http://x\n").unwrap_err(),
            "hooks.yaml: endpoint `crm`: give the signing secret as secret_file or secret_env (one of them)"
        );
        assert_eq!(
            load_text("endpoints:\n  - name: a b\n    url: http://x\n    secret_file: SECRET\n")
                .unwrap_err(),
            "hooks.yaml: endpoint `a b`: a name is letters, digits, `-`, `_` and `.`"
        );
        assert!(
            load_text("endpoints:\n  - name: crm\n    url: http://x\n    secret_file: SECRET\n    events: [hangup]\n")
                .unwrap_err()
                .starts_with("hooks.yaml: unknown variant `hangup`"),
        );
    }
}

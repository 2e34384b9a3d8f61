//! Secrets are resolved at render time, never during validation.

use std::path::{Path, PathBuf};

use crate::model::secret::Secret;

/// Why a secret could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("environment variable {0} is not set")]
    EnvMissing(String),
    #[error("environment variable {0} is empty")]
    EnvEmpty(String),
    #[error("cannot read secret file {path}: {reason}")]
    File { path: PathBuf, reason: String },
    #[error("secret file {0} is empty")]
    FileEmpty(PathBuf),
    #[error("secret file {path} leads outside the repository (to {target})")]
    Outside { path: PathBuf, target: PathBuf },
}

impl SecretError {
    pub fn hint(&self) -> &'static str {
        match self {
            SecretError::EnvMissing(_) | SecretError::EnvEmpty(_) => {
                "export the variable before running astbase (in CI, from the secret store)"
            }
            SecretError::File { .. } | SecretError::FileEmpty(_) => {
                "create the file (paths are relative to the repo root) or fix the path"
            }
            SecretError::Outside { .. } => {
                "keep the secret file itself inside the repository (git-ignored), or pass the \
                 value as `{env: NAME}`"
            }
        }
    }
}

/// Looks up an environment variable.
type EnvLookup = Box<dyn Fn(&str) -> Option<String> + Sync + Send>;

/// Where secret references are looked up: the environment and files below the repo root.
pub struct SecretSource {
    root: PathBuf,
    env: EnvLookup,
    /// Resolve every `{env}`/`{file}` secret to [`PLACEHOLDER`] (offline diffs).
    placeholders: bool,
}

/// What `{env}` and `{file}` secrets render as when they are not looked up.
pub const PLACEHOLDER: &str = "********";

impl SecretSource {
    /// Reads the process environment, once: a lookup per `{env:}` secret would scan
    /// the whole environment each time (200,000 lookups for a large fleet).
    pub fn from_env(root: &Path) -> SecretSource {
        let vars: std::collections::HashMap<String, String> = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect();
        SecretSource {
            root: root.to_path_buf(),
            env: Box::new(move |name| vars.get(name).cloned()),
            placeholders: false,
        }
    }

    /// Looks nothing up: `{env}` and `{file}` secrets render as [`PLACEHOLDER`]. For
    /// `astbase diff`, which compares revisions offline (a reviewer's CI job has no
    /// production secrets, and diffs mask secrets anyway).
    pub fn placeholders(root: &Path) -> SecretSource {
        SecretSource {
            root: root.to_path_buf(),
            env: Box::new(|_| None),
            placeholders: true,
        }
    }

    /// Reads variables from a function (tests, or a CI secret provider).
    pub fn with_env(
        root: &Path,
        env: impl Fn(&str) -> Option<String> + Sync + Send + 'static,
    ) -> SecretSource {
        SecretSource {
            root: root.to_path_buf(),
            env: Box::new(env),
            placeholders: false,
        }
    }

    /// The value of a secret. File contents are trimmed of surrounding white space.
    pub fn resolve(&self, secret: &Secret) -> Result<String, SecretError> {
        match secret {
            Secret::Plain(value) => Ok(value.clone()),
            Secret::Env(_) | Secret::File(_) if self.placeholders => Ok(PLACEHOLDER.to_owned()),
            Secret::Env(e) => match (self.env)(&e.env) {
                None => Err(SecretError::EnvMissing(e.env.clone())),
                Some(v) if v.is_empty() => Err(SecretError::EnvEmpty(e.env.clone())),
                Some(v) => Ok(v),
            },
            Secret::File(f) => {
                let path = self.root.join(&f.file);
                let unreadable = |e: std::io::Error| SecretError::File {
                    path: path.clone(),
                    reason: e.to_string(),
                };
                // `validate` refuses absolute paths and `..`; a link inside the repo may
                // still lead out, so the file actually opened is checked.
                let target = path.canonicalize().map_err(unreadable)?;
                let root = self.root.canonicalize().map_err(unreadable)?;
                if !target.starts_with(&root) || crate::validate::leaves_repo(&f.file).is_some() {
                    return Err(SecretError::Outside { path, target });
                }
                let text = std::fs::read_to_string(&target).map_err(unreadable)?;
                let value = text.trim();
                if value.is_empty() {
                    return Err(SecretError::FileEmpty(path));
                }
                Ok(value.to_owned())
            }
        }
    }
}

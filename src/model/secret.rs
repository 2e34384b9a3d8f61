//! Secrets: given in the repo (a warning), or by reference to the environment or a file.
//! Validation never reads the value behind a reference; rendering resolves it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A secret value. Prefer `{env: NAME}` or `{file: path}` over plaintext: a plaintext
/// secret in the repo draws a warning.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Secret {
    /// The secret written in the repo (plaintext; `validate` warns).
    Plain(#[schemars(length(min = 1, max = 128))] String),
    /// Read from an environment variable at render time.
    Env(EnvSecret),
    /// Read from a file inside the repository at render time (keep it out of git);
    /// surrounding whitespace is trimmed.
    File(FileSecret),
}

/// `{env: NAME}`: the secret is the value of this environment variable at render time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnvSecret {
    /// Environment variable name (upper-case letters, digits and `_`).
    #[schemars(regex(pattern = "^[A-Za-z_][A-Za-z0-9_]{0,127}$"))]
    pub env: String,
}

/// `{file: path}`: the secret is the content of this file at render time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FileSecret {
    /// Path of the file holding the secret, relative to the repo root and inside it
    /// (absolute paths, `..` and links leading out are refused). Keep the file
    /// git-ignored.
    #[schemars(length(min = 1, max = 4096))]
    pub file: String,
}

impl Secret {
    pub fn is_plain(&self) -> bool {
        matches!(self, Secret::Plain(_))
    }
}

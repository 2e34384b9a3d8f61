//! Secrets: given in the repo (a warning), or by reference to the environment or a file.
//! Validation never reads the value behind a reference; rendering resolves it.

use schemars::JsonSchema;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};

/// A secret value. Prefer `{env: NAME}` or `{file: path}` over plaintext: a plaintext
/// secret in the repo draws a warning.
// Deserialize is written by hand: serde's untagged enums buffer every value and build
// an error message for each variant that does not fit, for each of a fleet's secrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
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
    #[schemars(regex(pattern = "^[A-Za-z_][A-Za-z0-9_]*$"), length(max = 128))]
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

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> Visitor<'de> for Visit {
            type Value = Secret;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a secret: text, `{env: NAME}` or `{file: path}`")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Secret, E> {
                Ok(Secret::Plain(v.to_owned()))
            }

            fn visit_string<E: de::Error>(self, v: String) -> Result<Secret, E> {
                Ok(Secret::Plain(v))
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Secret, A::Error> {
                let Some(key) = map.next_key::<String>()? else {
                    return Err(de::Error::invalid_length(0, &self));
                };
                let value: String = map.next_value()?;
                let secret = match key.as_str() {
                    "env" => Secret::Env(EnvSecret { env: value }),
                    "file" => Secret::File(FileSecret { file: value }),
                    other => return Err(de::Error::unknown_field(other, &["env", "file"])),
                };
                if map.next_key::<de::IgnoredAny>()?.is_some() {
                    return Err(de::Error::custom("a secret has one key: `env` or `file`"));
                }
                Ok(secret)
            }
        }
        d.deserialize_any(Visit)
    }
}

impl Secret {
    pub fn is_plain(&self) -> bool {
        matches!(self, Secret::Plain(_))
    }
}

//! Music on hold classes.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::names::Name;

/// A music-on-hold class (musiconhold.conf), rendered on every server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MusicOnHold {
    /// Class name, unique in the fleet (`default` is Asterisk's own).
    pub name: Name,
    /// Directory with the sound files, absolute or relative to Asterisk's data dir.
    #[schemars(regex(pattern = "^[A-Za-z0-9_/.-]+$"), length(max = 1024))]
    pub directory: String,
    /// Play order (default random).
    #[serde(default)]
    pub sort: MohSort,
}

/// Play order of a music-on-hold class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum MohSort {
    /// Shuffled.
    #[default]
    Random,
    /// By file name.
    Alpha,
}

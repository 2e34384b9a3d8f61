//! `<conf_dir>/.astbase/state.json`: what the last apply wrote, so the next plan can tell
//! drift (a hand edit) from change, and which generated files astbase owns.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Directory under the conf dir where astbase keeps its state, backups and lock.
pub const STATE_DIR: &str = ".astbase";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    pub astbase_version: String,
    /// The source applied: a commit id or "working tree".
    pub source: String,
    /// Unix time of the apply.
    pub applied_at: u64,
    /// Generated file name → sha256 of what astbase wrote.
    pub files: BTreeMap<String, String>,
    /// sha256 of the firewall astbase last applied (sets and chain), if it manages one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firewall: Option<String>,
    /// What the files ask for that Asterisk only takes at a restart (a PJSIP transport's
    /// new bind), when the apply that wrote them did not restart it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub restart_pending: Vec<String>,
}

impl State {
    pub fn parse(bytes: &[u8]) -> Result<State, serde_json::Error> {
        serde_json::from_slice(bytes)
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut text = serde_json::to_string_pretty(self).expect("state serializes");
        text.push('\n');
        text.into_bytes()
    }
}

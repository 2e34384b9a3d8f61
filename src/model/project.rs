//! Project settings: the `project:` block of the root `astbase.yaml`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::firewall::FirewallPolicy;
use super::server::{ExtensionDefaults, VoicemailSettings};

/// Default Asterisk configuration directory.
pub const DEFAULT_CONF_DIR: &str = "/etc/asterisk";
/// Default suffix of generated file names (`pjsip_odoo.conf`).
pub const DEFAULT_SUFFIX: &str = "odoo";

/// Settings of the whole config repository. Only allowed in the root `astbase.yaml`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Project {
    /// Asterisk configuration directory of servers that do not set their own
    /// (default `/etc/asterisk`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 4096))]
    pub conf_dir: Option<String>,
    /// Suffix of generated files: `pjsip_<suffix>.conf` (default `odoo`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = "^[a-z0-9][a-z0-9_]{0,19}$"))]
    pub suffix: Option<String>,
    /// Directory with template overrides, relative to the repo root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 4096))]
    pub templates_dir: Option<String>,
    /// Globs (relative to the repo root) of the YAML files that make up the fleet
    /// (default `["**/*.yaml", "**/*.yml"]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files: Option<Vec<String>>,
    /// Globs of files to leave out (hidden directories and `target/` are always left out).
    #[serde(default)]
    pub exclude: Vec<String>,
    /// known_hosts file used to verify SSH host keys (default `~/.ssh/known_hosts`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 4096))]
    pub known_hosts: Option<String>,
    /// Defaults for every extension of the fleet.
    #[serde(default)]
    pub defaults: ExtensionDefaults,
    /// Voicemail settings of every server that does not set its own.
    #[serde(default)]
    pub voicemail: VoicemailSettings,
    /// Firewall policy of every server that does not set its own.
    #[serde(default)]
    pub firewall: FirewallPolicy,
    /// Blast-radius limits of one plan (servers may override them).
    #[serde(default)]
    pub safety: super::rollout::Safety,
    /// How `apply` rolls a change out: waves, failures allowed, health gate.
    #[serde(default)]
    pub rollout: super::rollout::Rollout,
    /// How callers' numbers arrive on every server that does not say (for the phonebook).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub numbering: Option<super::contact::Numbering>,
    /// What the agent does with recordings on every server that does not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recordings: Option<super::server::RecordingSettings>,
    /// Ask the astbase agent (and through it a CRM) for the names of callers the
    /// phonebook does not know, on every server that does not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller_lookup: Option<super::contact::CallerLookup>,
    /// Phonebook files (CSV, vCard) whose contacts join `contacts:`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phonebooks: Vec<super::contact::Phonebook>,
    /// Feature codes of every server (FreePBX's unless changed; `false` turns one off).
    #[serde(default)]
    pub feature_codes: super::features::FeatureCodes,
}

impl Project {
    /// The suffix of generated files (`odoo` unless set): `pjsip_<suffix>.conf`, and the
    /// prefix of every generated context.
    pub fn suffix(&self) -> &str {
        self.suffix.as_deref().unwrap_or(DEFAULT_SUFFIX)
    }
}

//! Servers: the Asterisk hosts of the fleet and how to reach them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::extension::{Codec, DtmfMode};
use super::firewall::FirewallPolicy;
use super::names::Name;

/// The `host` value that means "this machine": files are written locally, no SSH.
pub const LOCAL_HOST: &str = "local";

/// One Asterisk server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Server {
    /// Unique name of the server; entities say `server: <name>` to live on it.
    pub name: Name,
    /// Host name or IP address to reach it over SSH, or `local` to manage a conf dir on
    /// this machine.
    #[schemars(
        regex(pattern = "^(local|[A-Za-z0-9][A-Za-z0-9.-]*|[0-9A-Fa-f:.]{2,45})$"),
        length(max = 253)
    )]
    pub host: String,
    /// Free text shown in plans.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 200))]
    pub description: Option<String>,
    /// SSH connection settings.
    #[serde(default)]
    pub ssh: SshSettings,
    /// Where Asterisk keeps its files on this server.
    #[serde(default)]
    pub asterisk: AsteriskSettings,
    /// Asterisk's `systemname`, which makes call unique ids unique across the fleet. It
    /// lives in `[options]` of asterisk.conf, which Asterisk reads only at start (and
    /// without `#include`s), so astbase does not write it: `apply` checks that Asterisk
    /// runs with it and says how to set it when not. Unique across the fleet (the server
    /// name counts for a server without one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub systemname: Option<Name>,
    /// Free labels for selecting servers (`--server` accepts names; tags group them).
    #[serde(default)]
    pub tags: Vec<Name>,
    /// PJSIP transports astbase defines on this server. Leave empty when the base
    /// pjsip.conf already has them.
    #[serde(default)]
    pub transports: Vec<Transport>,
    /// Defaults for the extensions of this server (override the project defaults).
    #[serde(default)]
    pub defaults: ExtensionDefaults,
    /// Voicemail settings of this server (voicemail.conf `[general]`).
    #[serde(default)]
    pub voicemail: VoicemailSettings,
    /// Firewall policy of this server (overrides the project's `firewall` defaults).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firewall: Option<FirewallPolicy>,
    /// Blast-radius limits of this server (override the project's `safety`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub safety: Option<super::rollout::Safety>,
    /// How callers' numbers arrive on this server's trunks (overrides the project's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub numbering: Option<super::contact::Numbering>,
    /// What the agent does with this server's recordings (overrides the project's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recordings: Option<RecordingSettings>,
    /// Caller names from a CRM through the agent (overrides the project's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller_lookup: Option<super::contact::CallerLookup>,
    /// A destination the health gate calls after each reload (a Local channel answered
    /// there is success), e.g. `{dialplan: echo-test}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_call: Option<super::Target>,
    /// Feature codes of this server (each overrides the project's).
    #[serde(default)]
    pub feature_codes: super::features::FeatureCodes,
}

impl Server {
    /// The feature codes phones of this server dial: its own, else the project's, else
    /// FreePBX's defaults.
    pub fn codes(&self, project: &super::Project) -> super::features::ServerCodes {
        super::features::ServerCodes::resolve(&self.feature_codes, &project.feature_codes)
    }

    pub fn is_local(&self) -> bool {
        self.host == LOCAL_HOST
    }

    /// The conf dir as written: the server's, else the project's, else `/etc/asterisk`.
    /// For `host: local` it may be relative to the repo root.
    pub fn conf_dir<'a>(&'a self, project: &'a super::Project) -> &'a str {
        self.asterisk
            .conf_dir
            .as_deref()
            .or(project.conf_dir.as_deref())
            .unwrap_or(super::project::DEFAULT_CONF_DIR)
    }

    /// How callers' numbers arrive here: the server's numbering, else the project's.
    pub fn numbering<'a>(
        &'a self,
        project: &'a super::Project,
    ) -> Option<&'a super::contact::Numbering> {
        self.numbering.as_ref().or(project.numbering.as_ref())
    }

    /// Days the agent keeps recordings: the server's setting, else the project's.
    pub fn recordings_keep_days(&self, project: &super::Project) -> Option<u32> {
        self.recordings
            .as_ref()
            .and_then(|r| r.keep_days)
            .or(project.recordings.as_ref().and_then(|r| r.keep_days))
    }

    /// Where unknown callers' names are asked: the server's lookup, else the project's.
    pub fn caller_lookup<'a>(
        &'a self,
        project: &'a super::Project,
    ) -> Option<&'a super::contact::CallerLookup> {
        self.caller_lookup
            .as_ref()
            .or(project.caller_lookup.as_ref())
    }

    /// The words that run one Asterisk CLI command (`asterisk -rx`), the command itself
    /// to be added as the last word.
    pub fn cli(&self) -> Vec<String> {
        match &self.asterisk.cli {
            Some(words) => words.iter().map(|w| w.0.clone()).collect(),
            None => vec![
                self.asterisk
                    .binary
                    .clone()
                    .unwrap_or_else(|| "asterisk".to_owned()),
                "-rx".to_owned(),
            ],
        }
    }

    /// The SSH port (default 22).
    pub fn ssh_port(&self) -> u16 {
        self.ssh.port.unwrap_or(22)
    }

    /// The SSH user (default `root`).
    pub fn ssh_user(&self) -> &str {
        self.ssh.user.as_deref().unwrap_or("root")
    }
}

/// What the astbase agent does with the recordings it indexes (MixMonitor's files).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordingSettings {
    /// Delete a recording (its file and its index row) this many days after the call;
    /// default: keep them. Files the agent did not index are never touched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 36500))]
    pub keep_days: Option<u32>,
}

/// SSH connection settings.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SshSettings {
    /// Remote user (default: `root`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = "^[a-z_][a-z0-9_.-]{0,31}$"))]
    pub user: Option<String>,
    /// TCP port (default: 22).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 65535))]
    pub port: Option<u16>,
    /// Private key file; without it the SSH agent is used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 4096))]
    pub identity_file: Option<String>,
}

/// Where Asterisk lives on a server.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AsteriskSettings {
    /// Asterisk's configuration directory (default: the project's, else `/etc/asterisk`).
    /// Must be absolute, except for `host: local`, where it may be relative to the repo root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 4096))]
    pub conf_dir: Option<String>,
    /// Sounds directory (default: `/var/lib/asterisk/sounds`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 4096))]
    pub sounds_dir: Option<String>,
    /// The asterisk binary used for `asterisk -rx` (default: `asterisk`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 4096))]
    pub binary: Option<String>,
    /// The command that runs one Asterisk CLI command, as words; the CLI command
    /// (`module reload res_pjsip.so`) is added as the last word. Default:
    /// `[<binary>, -rx]`. Examples: `[sudo, -n, asterisk, -rx]`,
    /// `[docker, exec, pbx, asterisk, -rx]`. Replaces `binary`; set one of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 32))]
    pub cli: Option<Vec<CliWord>>,
}

/// One word of [`AsteriskSettings::cli`]: passed as one argument, never through a shell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct CliWord(#[schemars(length(min = 1, max = 4096))] pub String);

/// A PJSIP transport (`type=transport`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Transport {
    /// Transport id, e.g. `transport-udp`.
    pub name: Name,
    /// Protocol.
    pub protocol: TransportProtocol,
    /// Address and port to bind, e.g. `0.0.0.0:5060` or `[::]:5060`.
    #[schemars(regex(pattern = "^(\\[[0-9A-Fa-f:.]+\\]|[0-9.]+)(:[0-9]{1,5})?$"))]
    pub bind: String,
    /// Public address for NAT (`external_media_address` and `external_signaling_address`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = "^[A-Za-z0-9][A-Za-z0-9.:-]*$"), length(max = 253))]
    pub external_address: Option<String>,
    /// Networks considered local when NAT is used (`local_net`), as CIDRs.
    #[serde(default)]
    pub local_net: Vec<super::firewall::Cidr>,
    /// TLS certificate file (tls only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = "^/[^;\\s]+$"), length(max = 4096))]
    pub cert_file: Option<String>,
    /// TLS private key file (tls only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = "^/[^;\\s]+$"), length(max = 4096))]
    pub priv_key_file: Option<String>,
}

/// Transport protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TransportProtocol {
    /// SIP over UDP.
    Udp,
    /// SIP over TCP.
    Tcp,
    /// SIP over TLS.
    Tls,
    /// SIP over WebSocket.
    Ws,
    /// SIP over secure WebSocket.
    Wss,
}

/// Defaults for extensions; each unset field falls back to the next level
/// (extension → server → project → built-in).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtensionDefaults {
    /// Codecs in order of preference (built-in: ulaw, alaw).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codecs: Option<Vec<Codec>>,
    /// Transport name (built-in: none, Asterisk picks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transport: Option<Name>,
    /// Seconds to ring before no-answer handling (built-in: 20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 600))]
    pub ring_timeout: Option<u32>,
    /// DTMF mode (built-in: rfc4733).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dtmf_mode: Option<DtmfMode>,
    /// Phones behind NAT (built-in: true): rtp_symmetric, force_rport, rewrite_contact
    /// on, direct_media off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nat: Option<bool>,
    /// Registrations per extension (built-in: 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 100))]
    pub max_contacts: Option<u32>,
    /// Language of prompts, e.g. `en`, `ru` (built-in: Asterisk's default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = "^[a-z]{2,3}(_[A-Za-z]{2,4})?$"))]
    pub language: Option<String>,
}

/// Voicemail settings of a server, written as options of each of its mailboxes (so the
/// base voicemail.conf and its `[general]` section stay untouched).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VoicemailSettings {
    /// Sender address of voicemail e-mails (`serveremail`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(email, length(max = 254))]
    pub from_email: Option<String>,
    /// Attach the recording to the e-mail (default: true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attach: Option<bool>,
    /// Longest message in seconds (`maxsecs`, default 180).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 3600))]
    pub max_message_seconds: Option<u32>,
    /// Messages per mailbox (`maxmsg`, default 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 9999))]
    pub max_messages: Option<u32>,
    /// E-mail subject; may use app_voicemail's variables such as `${VM_NAME}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 200))]
    pub email_subject: Option<String>,
    /// E-mail body; write `\\n` (backslash, n) for a new line, and no `|`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 2000))]
    pub email_body: Option<String>,
}

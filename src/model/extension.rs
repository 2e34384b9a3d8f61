//! Extensions: PJSIP users (endpoint + auth + aor) and what happens to their calls.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::follow_me::FollowMe;
use super::names::{DialNumber, Name};
use super::secret::Secret;
use super::target::Target;

/// One phone user: a PJSIP endpoint with its auth and aor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Extension {
    /// Extension number, unique on its server across extensions, queues and menus.
    pub number: DialNumber,
    /// The server this extension lives on.
    pub server: Name,
    /// Display name (the caller-id name shown to others), e.g. `Anna Petrova`.
    #[schemars(length(min = 1, max = 80))]
    pub name: String,
    /// SIP password of the phone.
    pub secret: Secret,
    /// Turn the extension off without deleting it (default: true).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// E-mail of the user (voicemail notifications default to it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(email, length(max = 254))]
    pub email: Option<String>,
    /// Codecs in order of preference (default: the server's, else ulaw, alaw).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codecs: Option<Vec<Codec>>,
    /// PJSIP transport name (must be one of the server's transports).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transport: Option<Name>,
    /// Registrations allowed at once (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 100))]
    pub max_contacts: Option<u32>,
    /// DTMF mode (default rfc4733).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dtmf_mode: Option<DtmfMode>,
    /// Phone is behind NAT (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nat: Option<bool>,
    /// Seconds to ring before no-answer handling (default 20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 600))]
    pub ring_timeout: Option<u32>,
    /// Caller id presented on internal and outside calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callerid: Option<Box<CallerId>>,
    /// Voicemail box of this extension.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voicemail: Option<Box<Mailbox>>,
    /// Call forwarding.
    // Boxed parts keep an extension small: a large fleet holds hundreds of thousands,
    // most without caller id, mailbox settings or forwards of their own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forward: Option<Box<Forwarding>>,
    /// Follow-me: other numbers (a mobile, a second desk) that ring after the desk phone
    /// or with it, before the no-answer destination.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follow_me: Option<Box<FollowMe>>,
    /// Record calls of this extension (MixMonitor).
    #[serde(default)]
    pub recording: Recording,
    /// Named pickup groups this extension belongs to (may pick up their calls).
    #[serde(default)]
    pub pickup_groups: Vec<Name>,
    /// Labels used by outbound routes' `allow.tags`.
    #[serde(default)]
    pub tags: Vec<Name>,
    /// Language of prompts, e.g. `en`, `ru`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = "^[a-z]{2,3}(_[A-Za-z]{2,4})?$"))]
    pub language: Option<String>,
}

impl Extension {
    /// The extension's forwards (none set when `forward` is absent).
    pub fn forwarding(&self) -> &Forwarding {
        static NONE: Forwarding = Forwarding {
            always: None,
            busy: None,
            no_answer: None,
            unavailable: None,
        };
        self.forward.as_deref().unwrap_or(&NONE)
    }

    /// Its follow-me, when set and enabled.
    pub fn follow_me(&self) -> Option<&FollowMe> {
        self.follow_me.as_deref().filter(|f| f.enabled)
    }
}

fn yes() -> bool {
    true
}

/// A codec Asterisk can negotiate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Codec {
    /// G.711 u-law.
    Ulaw,
    /// G.711 a-law.
    Alaw,
    /// G.722 wideband.
    G722,
    /// G.729 (needs a codec module).
    G729,
    /// Opus.
    Opus,
    /// GSM.
    Gsm,
    /// iLBC.
    Ilbc,
    /// Speex.
    Speex,
    /// G.726.
    G726,
    /// Signed linear 8 kHz.
    Slin,
    /// H.264 video.
    H264,
    /// VP8 video.
    Vp8,
}

/// How DTMF digits travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DtmfMode {
    /// RTP events (RFC 4733), the usual choice.
    Rfc4733,
    /// In the audio.
    Inband,
    /// SIP INFO.
    Info,
    /// RFC 4733 if offered, else inband.
    Auto,
    /// RFC 4733 if offered, else SIP INFO.
    AutoInfo,
}

/// Caller id: name and/or number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CallerId {
    /// Name part; no quotes, `<`, `>` or `${`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 80))]
    pub name: Option<String>,
    /// Number part, e.g. `+74951234567`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = "^\\+?[0-9]{1,20}$"))]
    pub number: Option<String>,
}

/// A voicemail box.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Mailbox {
    /// Turn the mailbox off without deleting it (default true).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// PIN to listen to messages (digits).
    pub pin: Secret,
    /// List the extension in the company directory (dial by name; default false).
    #[serde(default)]
    pub in_directory: bool,
    /// Where to e-mail new messages (default: the extension's email).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(email, length(max = 254))]
    pub email: Option<String>,
    /// Attach the recording to the e-mail (default: the server's setting).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attach: Option<bool>,
    /// Delete the message after e-mailing it.
    #[serde(default)]
    pub delete_after_email: bool,
}

/// Call forwarding; each is a destination or absent.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Forwarding {
    /// Forward every call without ringing the phone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub always: Option<Target>,
    /// When the extension is busy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub busy: Option<Target>,
    /// When nobody answers within the ring timeout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_answer: Option<Target>,
    /// When the phone is not registered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unavailable: Option<Target>,
}

/// Which calls of an extension are recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Recording {
    /// No recording.
    #[default]
    Never,
    /// Every call.
    Always,
    /// Calls to and from outside numbers only.
    External,
}

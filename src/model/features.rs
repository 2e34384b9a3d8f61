//! Feature codes: what phones dial to change their own settings (do not disturb, call
//! forwarding), pick up calls, reach voicemail or test the line. The defaults are
//! FreePBX's, so phones and habits move over; each can be changed or turned off in
//! `project.feature_codes` and per server.
//!
//! What a user sets on the phone lives in the server's AstDB, in FreePBX's families
//! (`DND/<ext>`, `CF/<ext>`, `CFB/<ext>`, `CFU/<ext>`): it is the user's, never the
//! repo's, so astbase neither shows it as drift nor resets it.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::names::FeatureCode;

/// Every feature a code can reach, in the order `<prefix>-features` lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Feature {
    DndToggle,
    DndOn,
    DndOff,
    ForwardAllOn,
    ForwardAllOff,
    ForwardBusyOn,
    ForwardBusyOff,
    ForwardNoAnswerOn,
    ForwardNoAnswerOff,
    Pickup,
    DirectedPickup,
    Voicemail,
    VoicemailAny,
    EchoTest,
    SpeakingClock,
    Intercom,
    AgentLogin,
    AgentPause,
    AgentUnpause,
    Directory,
}

impl Feature {
    pub const ALL: [Feature; 20] = [
        Feature::DndToggle,
        Feature::DndOn,
        Feature::DndOff,
        Feature::ForwardAllOn,
        Feature::ForwardAllOff,
        Feature::ForwardBusyOn,
        Feature::ForwardBusyOff,
        Feature::ForwardNoAnswerOn,
        Feature::ForwardNoAnswerOff,
        Feature::Pickup,
        Feature::DirectedPickup,
        Feature::Voicemail,
        Feature::VoicemailAny,
        Feature::EchoTest,
        Feature::SpeakingClock,
        Feature::Intercom,
        Feature::AgentLogin,
        Feature::AgentPause,
        Feature::AgentUnpause,
        Feature::Directory,
    ];

    /// The key in `feature_codes:`.
    pub fn key(self) -> &'static str {
        match self {
            Feature::DndToggle => "dnd_toggle",
            Feature::DndOn => "dnd_on",
            Feature::DndOff => "dnd_off",
            Feature::ForwardAllOn => "forward_all_on",
            Feature::ForwardAllOff => "forward_all_off",
            Feature::ForwardBusyOn => "forward_busy_on",
            Feature::ForwardBusyOff => "forward_busy_off",
            Feature::ForwardNoAnswerOn => "forward_no_answer_on",
            Feature::ForwardNoAnswerOff => "forward_no_answer_off",
            Feature::Pickup => "pickup",
            Feature::DirectedPickup => "directed_pickup",
            Feature::Voicemail => "voicemail",
            Feature::VoicemailAny => "voicemail_any",
            Feature::EchoTest => "echo_test",
            Feature::SpeakingClock => "speaking_clock",
            Feature::Intercom => "intercom",
            Feature::AgentLogin => "agent_login",
            Feature::AgentPause => "agent_pause",
            Feature::AgentUnpause => "agent_unpause",
            Feature::Directory => "directory",
        }
    }

    /// What it does, for messages and comments.
    pub fn what(self) -> &'static str {
        match self {
            Feature::DndToggle => "do not disturb on/off",
            Feature::DndOn => "do not disturb on",
            Feature::DndOff => "do not disturb off",
            Feature::ForwardAllOn => "forward all calls to a number",
            Feature::ForwardAllOff => "stop forwarding all calls",
            Feature::ForwardBusyOn => "forward calls when busy",
            Feature::ForwardBusyOff => "stop forwarding when busy",
            Feature::ForwardNoAnswerOn => "forward calls not answered or unavailable",
            Feature::ForwardNoAnswerOff => "stop forwarding when not answered",
            Feature::Pickup => "pick up a call ringing in the pickup group",
            Feature::DirectedPickup => "pick up a call ringing at an extension (code + number)",
            Feature::Voicemail => "the caller's own mailbox",
            Feature::VoicemailAny => "any mailbox (asks for the number)",
            Feature::EchoTest => "echo test",
            Feature::SpeakingClock => "speaking clock",
            Feature::Intercom => "talk through an extension's speaker (code + number)",
            Feature::AgentLogin => "log in to or out of a queue (code + the queue's number)",
            Feature::AgentPause => "pause in every queue",
            Feature::AgentUnpause => "end the pause in every queue",
            Feature::Directory => "the company directory (dial by name)",
        }
    }

    /// Whether the code is dialled followed by an extension number.
    pub fn takes_a_number(self) -> bool {
        matches!(
            self,
            Feature::DirectedPickup | Feature::Intercom | Feature::AgentLogin
        )
    }

    /// FreePBX's code, or none for a feature that is off unless the repo turns it on.
    pub fn default_code(self) -> Option<&'static str> {
        Some(match self {
            Feature::DndToggle => "*76",
            Feature::DndOn => "*78",
            Feature::DndOff => "*79",
            Feature::ForwardAllOn => "*72",
            Feature::ForwardAllOff => "*73",
            Feature::ForwardBusyOn => "*90",
            Feature::ForwardBusyOff => "*91",
            Feature::ForwardNoAnswerOn => "*52",
            Feature::ForwardNoAnswerOff => "*53",
            Feature::Pickup => "*8",
            Feature::DirectedPickup => "**",
            Feature::Voicemail => "*97",
            Feature::VoicemailAny => "*98",
            Feature::EchoTest => "*43",
            Feature::Intercom => "*80",
            Feature::AgentLogin => "*45",
            Feature::AgentPause => "*46",
            Feature::AgentUnpause => "*47",
            Feature::Directory => "*411",
            Feature::SpeakingClock => return None,
        })
    }
}

/// A feature's code, or `false` to turn it off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeSetting {
    Code(FeatureCode),
    Off,
}

impl<'de> Deserialize<'de> for CodeSetting {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Flag(bool),
            Code(String),
        }
        match Raw::deserialize(d)? {
            Raw::Flag(false) => Ok(CodeSetting::Off),
            Raw::Flag(true) => Err(serde::de::Error::custom(
                "`true` is not a code: write the code (e.g. \"*76\"), or `false` to turn the feature off",
            )),
            Raw::Code(c) => Ok(CodeSetting::Code(FeatureCode(c))),
        }
    }
}

impl Serialize for CodeSetting {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            CodeSetting::Code(c) => c.serialize(s),
            CodeSetting::Off => s.serialize_bool(false),
        }
    }
}

impl JsonSchema for CodeSetting {
    fn schema_name() -> Cow<'static, str> {
        "CodeSetting".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let code = generator.subschema_for::<FeatureCode>();
        json_schema!({
            "description": "A feature code (e.g. \"*76\"), or `false` to turn the feature off.",
            "oneOf": [code, {"const": false}]
        })
    }
}

/// Where a forward a user sets on the phone may send calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ForwardReach {
    /// What the forwarding phone itself may dial: internal numbers and the outbound
    /// routes its extension may use.
    #[default]
    Routes,
    /// Internal numbers only (extensions, queues, menus, ring groups).
    Internal,
}

/// `feature_codes:` of the project or a server: each key a code or `false`; absent keys
/// keep the project's setting, then FreePBX's default.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FeatureCodes {
    /// Do not disturb on/off for the caller's extension (default `*76`; `*76<ext>` is its
    /// BLF, lit while on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dnd_toggle: Option<CodeSetting>,
    /// Do not disturb on (default `*78`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dnd_on: Option<CodeSetting>,
    /// Do not disturb off (default `*79`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dnd_off: Option<CodeSetting>,
    /// Forward all calls: asks for the number (default `*72`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forward_all_on: Option<CodeSetting>,
    /// Stop forwarding all calls (default `*73`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forward_all_off: Option<CodeSetting>,
    /// Forward when busy: asks for the number (default `*90`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forward_busy_on: Option<CodeSetting>,
    /// Stop forwarding when busy (default `*91`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forward_busy_off: Option<CodeSetting>,
    /// Forward when not answered or not registered: asks for the number (default `*52`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forward_no_answer_on: Option<CodeSetting>,
    /// Stop forwarding when not answered (default `*53`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forward_no_answer_off: Option<CodeSetting>,
    /// Pick up a call ringing in the caller's pickup group (default `*8`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pickup: Option<CodeSetting>,
    /// Pick up a call ringing at an extension: the code then its number (default `**`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub directed_pickup: Option<CodeSetting>,
    /// The caller's own mailbox (default `*97`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voicemail: Option<CodeSetting>,
    /// Any mailbox: asks for the number and PIN (default `*98`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voicemail_any: Option<CodeSetting>,
    /// Echo test (default `*43`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub echo_test: Option<CodeSetting>,
    /// Speaking clock (off unless given a code, e.g. `*60`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speaking_clock: Option<CodeSetting>,
    /// Intercom: the code then an extension number, answered on its speaker, two-way
    /// (default `*80`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intercom: Option<CodeSetting>,
    /// Queue agents log in and out: the code then the queue's number (default `*45`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_login: Option<CodeSetting>,
    /// Queue agents pause in every queue (default `*46`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_pause: Option<CodeSetting>,
    /// Queue agents end their pause (default `*47`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_unpause: Option<CodeSetting>,
    /// The company directory: callers spell a name, the extensions whose mailbox is
    /// `in_directory` are found (default `*411`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub directory: Option<CodeSetting>,
    /// Where forwards set on the phone may go (default `routes`: what the phone may dial).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forward_reach: Option<ForwardReach>,
}

impl FeatureCodes {
    /// The setting of one feature, if this block gives one.
    pub fn get(&self, f: Feature) -> Option<&CodeSetting> {
        match f {
            Feature::DndToggle => self.dnd_toggle.as_ref(),
            Feature::DndOn => self.dnd_on.as_ref(),
            Feature::DndOff => self.dnd_off.as_ref(),
            Feature::ForwardAllOn => self.forward_all_on.as_ref(),
            Feature::ForwardAllOff => self.forward_all_off.as_ref(),
            Feature::ForwardBusyOn => self.forward_busy_on.as_ref(),
            Feature::ForwardBusyOff => self.forward_busy_off.as_ref(),
            Feature::ForwardNoAnswerOn => self.forward_no_answer_on.as_ref(),
            Feature::ForwardNoAnswerOff => self.forward_no_answer_off.as_ref(),
            Feature::Pickup => self.pickup.as_ref(),
            Feature::DirectedPickup => self.directed_pickup.as_ref(),
            Feature::Voicemail => self.voicemail.as_ref(),
            Feature::VoicemailAny => self.voicemail_any.as_ref(),
            Feature::EchoTest => self.echo_test.as_ref(),
            Feature::SpeakingClock => self.speaking_clock.as_ref(),
            Feature::Intercom => self.intercom.as_ref(),
            Feature::AgentLogin => self.agent_login.as_ref(),
            Feature::AgentPause => self.agent_pause.as_ref(),
            Feature::AgentUnpause => self.agent_unpause.as_ref(),
            Feature::Directory => self.directory.as_ref(),
        }
    }
}

/// A server's feature codes once the server's, the project's and the defaults are
/// merged: resolved once, used by validate, render and trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerCodes {
    /// The features that are on, with their codes, in [`Feature::ALL`] order.
    pub codes: Vec<(Feature, FeatureCode)>,
    pub forward_reach: ForwardReach,
}

impl ServerCodes {
    pub fn resolve(server: &FeatureCodes, project: &FeatureCodes) -> ServerCodes {
        let codes = Feature::ALL
            .iter()
            .filter_map(|&f| {
                let code = match server.get(f).or_else(|| project.get(f)) {
                    Some(CodeSetting::Code(c)) => c.clone(),
                    Some(CodeSetting::Off) => return None,
                    None => FeatureCode(f.default_code()?.to_owned()),
                };
                Some((f, code))
            })
            .collect();
        ServerCodes {
            codes,
            forward_reach: server
                .forward_reach
                .or(project.forward_reach)
                .unwrap_or_default(),
        }
    }

    /// The code of a feature, if it is on.
    pub fn code(&self, f: Feature) -> Option<&str> {
        self.codes
            .iter()
            .find(|(x, _)| *x == f)
            .map(|(_, c)| c.as_str())
    }

    /// The feature an exact dialled code reaches (directed pickup and intercom are
    /// prefixes of a number).
    pub fn feature_of(&self, dialled: &str) -> Option<Feature> {
        self.codes
            .iter()
            .find(|(f, c)| !f.takes_a_number() && c.as_str() == dialled)
            .map(|(f, _)| *f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_setting_wins_over_the_project_and_false_turns_a_feature_off() {
        let project = FeatureCodes {
            dnd_toggle: Some(CodeSetting::Code(FeatureCode("*77".into()))),
            speaking_clock: Some(CodeSetting::Code(FeatureCode("*60".into()))),
            forward_reach: Some(ForwardReach::Internal),
            ..FeatureCodes::default()
        };
        let server = FeatureCodes {
            dnd_toggle: Some(CodeSetting::Code(FeatureCode("*75".into()))),
            echo_test: Some(CodeSetting::Off),
            ..FeatureCodes::default()
        };
        let codes = ServerCodes::resolve(&server, &project);
        assert_eq!(codes.code(Feature::DndToggle), Some("*75"));
        assert_eq!(codes.code(Feature::SpeakingClock), Some("*60"));
        assert_eq!(codes.code(Feature::EchoTest), None);
        assert_eq!(codes.code(Feature::DndOn), Some("*78"));
        assert_eq!(codes.forward_reach, ForwardReach::Internal);
        assert_eq!(codes.codes.len(), 19);
        assert_eq!(codes.feature_of("*78"), Some(Feature::DndOn));
        assert_eq!(codes.feature_of("**"), None);
    }
}

//! IVR menus.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::names::{DialNumber, Name, SoundFile};
use super::target::Target;

/// An IVR menu: plays prompts and routes by the key pressed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Menu {
    /// Menu name, unique on its server.
    pub name: Name,
    /// Number that dials the menu internally (shares the server's dial space).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<DialNumber>,
    /// The server this menu lives on.
    pub server: Name,
    /// Prompts played in order while waiting for a key.
    #[schemars(length(min = 1, max = 20))]
    pub prompts: Vec<SoundFile>,
    /// Destination per key.
    #[serde(default)]
    pub keys: MenuKeys,
    /// Where a key with no destination goes after the retries (default: hang up).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invalid: Option<Target>,
    /// Where the caller goes after pressing nothing `max_retries` times (default: hang up).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Target>,
    /// Seconds to wait for a key after the prompts (default 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 60))]
    pub digit_timeout: Option<u32>,
    /// Times the menu repeats on an invalid key or no key (default 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 10))]
    pub max_retries: Option<u32>,
    /// Played on an invalid key before repeating (default: Asterisk's `option-is-invalid`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invalid_prompt: Option<SoundFile>,
    /// Let callers dial an extension number directly from the menu.
    #[serde(default)]
    pub direct_dial: bool,
    /// Business hours: outside this time frame calls go to `after_hours`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeframe: Option<Name>,
    /// Destination outside the time frame (required with `timeframe`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_hours: Option<Target>,
}

/// Destinations per key. Quote the keys `"*"` and `"#"` in YAML.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MenuKeys {
    /// Key 0.
    #[serde(default, rename = "0", skip_serializing_if = "Option::is_none")]
    pub k0: Option<Target>,
    /// Key 1.
    #[serde(default, rename = "1", skip_serializing_if = "Option::is_none")]
    pub k1: Option<Target>,
    /// Key 2.
    #[serde(default, rename = "2", skip_serializing_if = "Option::is_none")]
    pub k2: Option<Target>,
    /// Key 3.
    #[serde(default, rename = "3", skip_serializing_if = "Option::is_none")]
    pub k3: Option<Target>,
    /// Key 4.
    #[serde(default, rename = "4", skip_serializing_if = "Option::is_none")]
    pub k4: Option<Target>,
    /// Key 5.
    #[serde(default, rename = "5", skip_serializing_if = "Option::is_none")]
    pub k5: Option<Target>,
    /// Key 6.
    #[serde(default, rename = "6", skip_serializing_if = "Option::is_none")]
    pub k6: Option<Target>,
    /// Key 7.
    #[serde(default, rename = "7", skip_serializing_if = "Option::is_none")]
    pub k7: Option<Target>,
    /// Key 8.
    #[serde(default, rename = "8", skip_serializing_if = "Option::is_none")]
    pub k8: Option<Target>,
    /// Key 9.
    #[serde(default, rename = "9", skip_serializing_if = "Option::is_none")]
    pub k9: Option<Target>,
    /// Key `*`.
    #[serde(default, rename = "*", skip_serializing_if = "Option::is_none")]
    pub star: Option<Target>,
    /// Key `#`.
    #[serde(default, rename = "#", skip_serializing_if = "Option::is_none")]
    pub hash: Option<Target>,
}

impl MenuKeys {
    /// The keys that have a destination, in dial-pad order, with their YAML key.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &Target)> {
        [
            ("0", &self.k0),
            ("1", &self.k1),
            ("2", &self.k2),
            ("3", &self.k3),
            ("4", &self.k4),
            ("5", &self.k5),
            ("6", &self.k6),
            ("7", &self.k7),
            ("8", &self.k8),
            ("9", &self.k9),
            ("*", &self.star),
            ("#", &self.hash),
        ]
        .into_iter()
        .filter_map(|(k, t)| t.as_ref().map(|t| (k, t)))
    }
}

//! Identifier and dial-string types shared by every entity.
//!
//! Each type carries its format in its JSON Schema (so editors and `validate` agree) and
//! deserializes from the raw value without re-checking: the schema check runs first.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize};

/// Regex for names that become Asterisk section, context and object ids.
pub const NAME_PATTERN: &str = "^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$";
/// Regex for dialable numbers (extensions, queues, menus).
pub const NUMBER_PATTERN: &str = "^[0-9]{1,15}$";

/// A name: letters, digits, `_` and `-`, starting with a letter or digit, at most 40
/// characters. Names become Asterisk section and context ids, so nothing else is allowed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Name(pub String);

impl JsonSchema for Name {
    fn schema_name() -> Cow<'static, str> {
        "Name".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": NAME_PATTERN,
            "description": "A name: letters, digits, `_` and `-`, starting with a letter or digit, \
                at most 40 characters (it becomes an Asterisk section or context id)."
        })
    }
}

impl Name {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A number in the server's dial space: 1 to 15 digits. Write it quoted when it starts
/// with 0 (`"0101"`); an unquoted number without leading zeros is accepted too.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct DialNumber(pub String);

impl<'de> Deserialize<'de> for DialNumber {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // A visitor rather than an untagged enum: that would buffer each number and
        // build an error for the variant that does not fit, for every number of a fleet.
        struct Visit;
        impl serde::de::Visitor<'_> for Visit {
            type Value = DialNumber;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a number of digits")
            }

            fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<DialNumber, E> {
                Ok(DialNumber(n.to_string()))
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<DialNumber, E> {
                Ok(DialNumber(v.to_owned()))
            }

            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<DialNumber, E> {
                Ok(DialNumber(v))
            }
        }
        d.deserialize_any(Visit)
    }
}

impl JsonSchema for DialNumber {
    fn schema_name() -> Cow<'static, str> {
        "DialNumber".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": ["string", "integer"],
            "pattern": NUMBER_PATTERN,
            "minimum": 0,
            "maximum": 999_999_999_999_999u64,
            "description": "A number in the server's dial space: 1 to 15 digits. Quote it when \
                it starts with 0, e.g. \"0101\"."
        })
    }
}

impl DialNumber {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for DialNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Regex for feature codes: `*` then digits, `*` or `#` (`*72`, `*2701`, `**`).
pub const FEATURE_CODE_PATTERN: &str = "^\\*[0-9*#]{1,10}$";

/// A feature code dialled from a phone, e.g. `*2701`. Always starts with `*`, so it never
/// collides with the digits-only numbers of extensions, queues, menus and ring groups.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FeatureCode(pub String);

impl JsonSchema for FeatureCode {
    fn schema_name() -> Cow<'static, str> {
        "FeatureCode".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": FEATURE_CODE_PATTERN,
            "description": "A feature code: `*` then 1 to 10 digits, `*` or `#`, e.g. \"*2701\" \
                (quote it: a bare `*` starts a YAML alias)."
        })
    }
}

impl FeatureCode {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for FeatureCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// An Asterisk dial pattern or a literal number, e.g. `_9XXXXXXX`, `_+7495XXXXXXX`,
/// `+74951234567`, `_[1-5]XX`, `_8800.`. Checked by `validate` for Asterisk's grammar.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct DialPattern(pub String);

impl<'de> Deserialize<'de> for DialPattern {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        DialNumber::deserialize(d).map(|n| DialPattern(n.0))
    }
}

impl JsonSchema for DialPattern {
    fn schema_name() -> Cow<'static, str> {
        "DialPattern".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": ["string", "integer"],
            "minLength": 1,
            "maxLength": 80,
            "minimum": 0,
            "description": "An Asterisk dial pattern (starts with `_`: X = 0-9, Z = 1-9, \
                N = 2-9, [1-5] = a set, `.` or `!` at the end = anything more) or a literal \
                number made of digits, `*`, `#` and a leading `+`."
        })
    }
}

impl DialPattern {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A sound file name as Asterisk's Playback/Background take it: relative to the sounds
/// directory and without extension, e.g. `custom/welcome`. Letters, digits, `_`, `-`, `.`
/// and `/`; no `..`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SoundFile(pub String);

/// Regex for [`SoundFile`].
pub const SOUND_PATTERN: &str = "^[A-Za-z0-9_][A-Za-z0-9_./-]*$";

impl JsonSchema for SoundFile {
    fn schema_name() -> Cow<'static, str> {
        "SoundFile".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": SOUND_PATTERN,
            "maxLength": 200,
            "description": "A sound file relative to the sounds directory, without extension \
                (e.g. `custom/welcome`): letters, digits, `_`, `-`, `.` and `/`."
        })
    }
}

/// An outside phone number: digits with an optional leading `+`, e.g. `+74951234567`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PhoneNumber(pub String);

impl JsonSchema for PhoneNumber {
    fn schema_name() -> Cow<'static, str> {
        "PhoneNumber".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": "^\\+?[0-9]{2,20}$",
            "description": "An outside phone number: 2 to 20 digits with an optional leading \
                `+`, e.g. \"+74951234567\" (quote it in YAML)."
        })
    }
}

impl PhoneNumber {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether a character may never be written into a config line: control characters
/// (tab included) and Unicode's line and paragraph separators, which phones and editors
/// show as line breaks. validate refuses them in every value and render's escapers refuse
/// the same set, so what validates renders.
pub fn breaks_a_line(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')
}

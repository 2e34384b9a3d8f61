//! Custom dialplan contexts, for what the model does not cover.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::names::Name;

/// A raw dialplan context, rendered as `[odoo-custom-<name>]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Dialplan {
    /// Context name (becomes `odoo-custom-<name>`), unique on its server.
    pub name: Name,
    /// The server this context lives on.
    pub server: Name,
    /// Number phones dial to reach it (shares the server's dial space); the call enters
    /// where `{dialplan: name}` would.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<super::names::DialNumber>,
    /// Other contexts included (`include =>`): custom dialplans of the same server by name.
    #[serde(default)]
    pub includes: Vec<Name>,
    /// Dialplan lines in order. The first line needs `exten`; later lines without it
    /// continue the same extension (`same =>`).
    #[schemars(length(min = 1, max = 1000))]
    pub lines: Vec<DialplanLine>,
}

/// Extensions Asterisk runs on its own (hangup, invalid, timeout, ...): a call sent to a
/// dialplan must not start in one of them.
const SPECIAL_EXTENSIONS: [&str; 7] = ["a", "e", "h", "i", "o", "t", "T"];

impl Dialplan {
    /// Where a call sent to this dialplan (`{dialplan: name}`) enters: its `s` extension,
    /// else its first extension when that is a plain one (not a pattern, not `h`, `i`,
    /// `t`, ...). `None`: nowhere a call can be sent.
    pub fn entry(&self) -> Option<&str> {
        let extens = || self.lines.iter().filter_map(|l| l.exten.as_deref());
        if extens().any(|e| e == "s") {
            return Some("s");
        }
        extens()
            .next()
            .filter(|e| !e.starts_with('_') && !SPECIAL_EXTENSIONS.contains(e))
    }
}

/// One dialplan line: `exten => EXTEN,PRIORITY(LABEL),APP(ARGS)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DialplanLine {
    /// Extension or pattern this line starts: `s`, `h`, `i`, `t`, `100`, `_X.` ...
    /// Absent: same extension as the line before, next priority.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = "^([a-z]|_?[0-9A-Za-z*#+\\[\\]!.-]{1,80})$"))]
    pub exten: Option<String>,
    /// Priority label, so other lines can `Goto` it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = "^[A-Za-z][A-Za-z0-9_]{0,39}$"))]
    pub label: Option<String>,
    /// Application name, e.g. `Answer`, `Playback`, `Dial`.
    #[schemars(regex(pattern = "^[A-Za-z][A-Za-z0-9_]{0,39}$"))]
    pub app: String,
    /// Application arguments, one per entry; commas and semicolons inside an entry are
    /// escaped when rendered. Dialplan variables like `${EXTEN}` are allowed here.
    #[serde(default)]
    #[schemars(length(max = 32))]
    pub args: Vec<DialplanArg>,
}

/// One application argument (text or a number).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum DialplanArg {
    /// A number, written as is.
    Number(i64),
    /// Text.
    Text(#[schemars(length(max = 1024))] String),
}

impl DialplanArg {
    pub fn to_text(&self) -> String {
        match self {
            DialplanArg::Number(n) => n.to_string(),
            DialplanArg::Text(s) => s.clone(),
        }
    }
}

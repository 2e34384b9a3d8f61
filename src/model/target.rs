//! Where a call goes: the typed destination of menus, routes, forwards and queue overflow.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::names::{DialNumber, Name, PhoneNumber};

/// A call destination. Exactly one of the forms below; never a free string, so every
/// destination can be checked to exist on the same server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Target {
    /// Hang up the call.
    Hangup,
    /// Ring an extension by its number: `{extension: "101"}`.
    Extension(DialNumber),
    /// Send the call into a queue by its name: `{queue: sales}`.
    Queue(Name),
    /// Play an IVR menu by its name: `{menu: main}`.
    Menu(Name),
    /// Ring a ring group by its name: `{ring_group: support}`.
    RingGroup(Name),
    /// Leave a voicemail in an extension's mailbox: `{voicemail: "101"}`.
    Voicemail(DialNumber),
    /// Jump to a custom dialplan context by its name: `{dialplan: wakeup}`.
    Dialplan(Name),
    /// Dial an outside number through the server's outbound routes: `{external: "+74951234567"}`.
    External(PhoneNumber),
}

impl Target {
    /// The kind keyword as written in YAML, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Target::Hangup => "hangup",
            Target::Extension(_) => "extension",
            Target::Queue(_) => "queue",
            Target::Menu(_) => "menu",
            Target::RingGroup(_) => "ring_group",
            Target::Voicemail(_) => "voicemail",
            Target::Dialplan(_) => "dialplan",
            Target::External(_) => "external",
        }
    }
}

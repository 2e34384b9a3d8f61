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
    /// Join a conference room as a participant: `{conference: team}`.
    Conference(Name),
    /// Play an announcement, then go where it says: `{announcement: holiday-notice}`.
    Announcement(Name),
    /// Park the call in a parking lot (the next free slot): `{parking: main}`.
    Parking(Name),
    /// The company directory: the caller spells a name (`directory`).
    Directory,
    /// Leave a voicemail in an extension's mailbox: `{voicemail: "101"}`.
    Voicemail(DialNumber),
    /// Jump to a custom dialplan context by its name: `{dialplan: wakeup}`.
    Dialplan(Name),
    /// Dial an outside number through the server's outbound routes: `{external: "+74951234567"}`.
    External(PhoneNumber),
    /// One destination while a time frame is open, another while it is closed:
    /// `{schedule: {timeframe: business-hours, open: {menu: main}, closed: {voicemail: "100"}}}`.
    Schedule(Box<Schedule>),
}

/// A time condition: where a call goes depends on a time frame (and its override).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    /// The time frame that decides, by name.
    pub timeframe: Name,
    /// Where the call goes while the time frame is open.
    pub open: Target,
    /// Where the call goes while it is closed (outside its periods, or on a holiday).
    pub closed: Target,
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
            Target::Conference(_) => "conference",
            Target::Announcement(_) => "announcement",
            Target::Parking(_) => "parking",
            Target::Directory => "directory",
            Target::Voicemail(_) => "voicemail",
            Target::Dialplan(_) => "dialplan",
            Target::External(_) => "external",
            Target::Schedule(_) => "schedule",
        }
    }

    /// This destination and every destination inside it (a schedule's branches), depth
    /// first.
    pub fn visit<'t>(&'t self, f: &mut impl FnMut(&'t Target)) {
        f(self);
        if let Target::Schedule(s) = self {
            s.open.visit(f);
            s.closed.visit(f);
        }
    }
}

//! Which YAML entity each part of a generated file comes from: the console's config
//! viewer links every section (and mailbox and extension line) back to the place in the
//! repo that defines it.
//!
//! Read off the rendered text by the names the views give things (an endpoint's section
//! is its extension's number, a queue's context is `<prefix>-queue-<name>`, ...), so
//! the templates stay free of bookkeeping and a custom template keeps its links where it
//! keeps the names.

use std::collections::HashMap;

use crate::model::index::ServerEntities;
use crate::model::{Fleet, Origin, Sourced};
use crate::render::ConfKind;

/// A line of a generated file (1-based) and the entity it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link<'a> {
    pub line: usize,
    pub origin: &'a Origin,
}

/// Finds the links of a fleet's generated files (its entities grouped by server once,
/// for every file of every server).
pub struct Provenance<'a> {
    fleet: &'a Fleet,
    index: HashMap<&'a str, ServerEntities<'a>>,
    empty: ServerEntities<'a>,
}

impl<'a> Provenance<'a> {
    pub fn new(fleet: &'a Fleet) -> Provenance<'a> {
        Provenance {
            fleet,
            index: crate::model::index::by_server(fleet),
            empty: ServerEntities::default(),
        }
    }

    /// The links of one generated file of `server`.
    pub fn links(&self, server: &str, file: &str, text: &str) -> Vec<Link<'a>> {
        let entities = self.index.get(server).unwrap_or(&self.empty);
        links(self.fleet, entities, server, file, text)
    }
}

fn links<'a>(
    fleet: &'a Fleet,
    entities: &ServerEntities<'a>,
    server: &str,
    file: &str,
    text: &str,
) -> Vec<Link<'a>> {
    let Some(kind) = ConfKind::of_file(file) else {
        return Vec::new();
    };
    let server_origin = fleet
        .servers
        .iter()
        .find(|s| s.name.as_str() == server)
        .map(|s| &s.origin);
    let prefix = fleet.project.suffix();
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        let origin = if let Some(section) = section_name(line) {
            section_origin(fleet, entities, kind, prefix, section).or(server_origin)
        } else {
            line_origin(entities, kind, line)
        };
        if let Some(origin) = origin {
            out.push(Link {
                line: i + 1,
                origin,
            });
        }
    }
    out
}

/// `[name]`, `[name](template)`, `[name](!)`: the name.
fn section_name(line: &str) -> Option<&str> {
    let rest = line.strip_prefix('[')?;
    let end = rest.find(']')?;
    Some(&rest[..end])
}

fn find<'a, T>(
    list: &[&'a Sourced<T>],
    wanted: &str,
    name: impl Fn(&T) -> &str,
) -> Option<&'a Origin> {
    list.iter()
        .find(|x| name(&x.item) == wanted)
        .map(|x| &x.origin)
}

fn section_origin<'a>(
    fleet: &'a Fleet,
    e: &ServerEntities<'a>,
    kind: ConfKind,
    prefix: &str,
    section: &str,
) -> Option<&'a Origin> {
    match kind {
        ConfKind::Pjsip => e
            .extension_by_number
            .get(section)
            .map(|x| &x.origin)
            .or_else(|| find(&e.trunks, section, |t| t.name.as_str())),
        ConfKind::Queues => find(&e.queues, section, |q| q.name.as_str()),
        ConfKind::Parking => {
            let name = section.strip_prefix(prefix)?.strip_prefix('-')?;
            find(&e.parking_lots, name, |l| l.name.as_str())
        }
        ConfKind::Confbridge => {
            // `<prefix>-bridge-<name>`, `<prefix>-user-<name>`, `<prefix>-admin-<name>`.
            let rest = section.strip_prefix(prefix)?.strip_prefix('-')?;
            let (_, name) = rest.split_once('-')?;
            find(&e.conferences, name, |c| c.name.as_str())
        }
        ConfKind::MusicOnHold => fleet
            .music_on_hold
            .iter()
            .find(|m| m.name.as_str() == section)
            .map(|m| &m.origin),
        ConfKind::Dialplan => {
            let rest = section.strip_prefix(prefix)?.strip_prefix('-')?;
            if let Some(menu) = rest.strip_prefix("menu-") {
                find(&e.menus, menu, |m| m.name.as_str())
            } else if let Some(group) = rest
                .strip_prefix("ringgroup-")
                .or_else(|| rest.strip_prefix("ringmembers-"))
            {
                find(&e.ring_groups, group, |g| g.name.as_str())
            } else if let Some(l) = rest.strip_prefix("parkreturn-") {
                find(&e.parking_lots, l, |x| x.name.as_str())
            } else if let Some(a) = rest.strip_prefix("announcement-") {
                find(&e.announcements, a, |x| x.name.as_str())
            } else if let Some(room) = rest.strip_prefix("conference-") {
                find(&e.conferences, room, |c| c.name.as_str())
            } else if let Some(queue) = rest.strip_prefix("queue-") {
                find(&e.queues, queue, |q| q.name.as_str())
            } else if let Some(dialplan) = rest.strip_prefix("custom-") {
                find(&e.dialplans, dialplan, |d| d.name.as_str())
            } else if let Some(route) = rest.strip_prefix("outbound-") {
                find(&e.outbound_routes, route, |r| r.name.as_str())
            } else if let Some(trunk) = rest.strip_prefix("inbound-") {
                find(&e.trunks, trunk, |t| t.name.as_str())
            } else {
                None
            }
        }
        ConfKind::Voicemail | ConfKind::Agent => None,
    }
}

/// Lines inside a section that belong to one entity: a mailbox (`101 => PIN,...`) and
/// an extension's `exten => 101,1,...` in the dialplan.
fn line_origin<'a>(e: &ServerEntities<'a>, kind: ConfKind, line: &str) -> Option<&'a Origin> {
    let number = match kind {
        ConfKind::Voicemail => line.split_once("=>")?.0.trim(),
        ConfKind::Dialplan => {
            let rest = line
                .strip_prefix("exten")?
                .trim_start()
                .strip_prefix("=>")?;
            let (number, priority) = rest.trim_start().split_once(',')?;
            // Only the first priority: one link per extension.
            if priority.split(',').next()?.trim() != "1" {
                return None;
            }
            number.trim()
        }
        _ => return None,
    };
    e.extension_by_number.get(number).map(|x| &x.origin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_section_name_is_read_with_or_without_a_template() {
        assert_eq!(section_name("[101]"), Some("101"));
        assert_eq!(section_name("[phone](!)"), Some("phone"));
        assert_eq!(section_name("exten => 101,1,Dial(PJSIP/101)"), None);
    }
}

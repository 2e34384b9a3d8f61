//! References: a name used by one entity (its server, a queue, an extension, a
//! transport, an address list, a call destination) must name something defined.

use crate::model::{Extension, Kind, Name, Origin, Sourced, Target};
use crate::source::Segment;
use crate::validate::suggest::did_you_mean;

use super::Checker;

impl<'a> Checker<'a> {
    /// Checks that `server: NAME` names a server; returns whether it does.
    pub(super) fn server_ref(&mut self, origin: &Origin, name: &Name) -> bool {
        if self.idx.servers.contains_key(name.as_str()) {
            return true;
        }
        if self.fleet.is_broken(Kind::Server, None, name.as_str()) {
            return false;
        }
        let names: Vec<&str> = self.fleet.servers.iter().map(|s| s.name.as_str()).collect();
        let hint = match did_you_mean(name.as_str(), names.iter().copied()) {
            Some(s) => format!("did you mean `{s}`?"),
            None if names.is_empty() => {
                "no servers are defined yet; add one under `servers:`".into()
            }
            None => format!("known servers: {}", names.join(", ")),
        };
        self.error(
            "unknown-reference",
            self.loc.value(origin),
            format!("unknown server `{name}`"),
            hint,
        );
        false
    }

    /// Checks a reference to a server-scoped entity by name.
    pub(super) fn scoped_ref(
        &mut self,
        kind: Kind,
        origin: &Origin,
        server: &str,
        name: &str,
    ) -> bool {
        let map = match kind {
            Kind::Queue => &self.idx.queues,
            Kind::Menu => &self.idx.menus,
            Kind::RingGroup => &self.idx.ring_groups,
            Kind::Conference => &self.idx.conferences,
            Kind::Announcement => &self.idx.announcements,
            Kind::ParkingLot => &self.idx.parking_lots,
            Kind::Dialplan => &self.idx.dialplans,
            Kind::Trunk => &self.idx.trunks,
            _ => unreachable!("not a server-scoped kind"),
        };
        if map.contains_key(&(server, name)) || self.fleet.is_broken(kind, Some(server), name) {
            return true;
        }
        let candidates: Vec<&str> = map
            .keys()
            .filter(|(s, _)| *s == server)
            .map(|(_, n)| *n)
            .collect();
        let elsewhere: Vec<&str> = map
            .keys()
            .filter(|(s, n)| *n == name && *s != server)
            .map(|(s, _)| *s)
            .collect();
        let hint = if let Some(s) = did_you_mean(name, candidates.iter().copied()) {
            format!("did you mean `{s}`?")
        } else if !elsewhere.is_empty() {
            format!(
                "a {} `{name}` exists on server `{}`, but references must stay on the same server",
                kind.noun(),
                elsewhere.join("`, `")
            )
        } else {
            format!("define it under `{}:` with `server: {server}`", kind.key())
        };
        self.error(
            "unknown-reference",
            self.loc.value(origin),
            format!("no {} `{name}` on server `{server}`", kind.noun()),
            hint,
        );
        false
    }

    pub(super) fn extension_ref(
        &mut self,
        origin: &Origin,
        server: &str,
        number: &str,
    ) -> Option<&'a Sourced<Extension>> {
        if let Some(e) = self.idx.extensions.get(&(server, number)).copied() {
            if !e.enabled {
                self.warning(
                    "disabled-reference",
                    self.loc.value(origin),
                    format!("extension {number} is disabled"),
                    "calls sent there will fail; point this elsewhere or enable the extension",
                );
            }
            return Some(e);
        }
        if !self.fleet.is_broken(Kind::Extension, Some(server), number) {
            let elsewhere: Vec<&str> = self
                .idx
                .extensions
                .keys()
                .filter(|(s, n)| *n == number && *s != server)
                .map(|(s, _)| *s)
                .collect();
            let hint = if elsewhere.is_empty() {
                format!("define it under `extensions:` with `server: {server}`")
            } else {
                format!(
                    "extension {number} exists on server `{}`, but references must stay on the same server",
                    elsewhere.join("`, `")
                )
            };
            self.error(
                "unknown-reference",
                self.loc.value(origin),
                format!("no extension {number} on server `{server}`"),
                hint,
            );
        }
        None
    }

    /// Checks a call destination; `origin` points at the target mapping.
    pub(super) fn target(&mut self, origin: &Origin, server: &str, target: &Target) {
        let inner = origin.field(target.kind());
        match target {
            Target::Hangup => {}
            Target::Directory => {
                let listed = self.fleet.extensions.iter().any(|e| {
                    e.server.as_str() == server
                        && e.enabled
                        && e.voicemail
                            .as_ref()
                            .is_some_and(|v| v.enabled && v.in_directory)
                });
                if !listed {
                    self.warning(
                        "empty-directory",
                        self.loc.value(origin),
                        format!("the company directory of server `{server}` lists nobody"),
                        "set `voicemail.in_directory: true` on the extensions callers may find by name",
                    );
                }
            }
            Target::Extension(n) => {
                self.extension_ref(&inner, server, n.as_str());
            }
            Target::Voicemail(n) => {
                if let Some(e) = self.extension_ref(&inner, server, n.as_str())
                    && !e.voicemail.as_ref().is_some_and(|v| v.enabled)
                {
                    self.error(
                        "no-mailbox",
                        self.loc.value(&inner),
                        format!("extension {n} has no voicemail box"),
                        format!("add `voicemail: {{pin: ...}}` to extension {n}, or send the call elsewhere"),
                    );
                }
            }
            Target::Queue(name) => {
                self.scoped_ref(Kind::Queue, &inner, server, name.as_str());
            }
            Target::Menu(name) => {
                self.scoped_ref(Kind::Menu, &inner, server, name.as_str());
            }
            Target::RingGroup(name) => {
                self.scoped_ref(Kind::RingGroup, &inner, server, name.as_str());
            }
            Target::Conference(name) => {
                self.scoped_ref(Kind::Conference, &inner, server, name.as_str());
            }
            Target::Announcement(name) => {
                self.scoped_ref(Kind::Announcement, &inner, server, name.as_str());
            }
            Target::Parking(name) => {
                self.scoped_ref(Kind::ParkingLot, &inner, server, name.as_str());
            }
            Target::Dialplan(name) => {
                if self.scoped_ref(Kind::Dialplan, &inner, server, name.as_str())
                    && let Some(d) = self
                        .fleet
                        .dialplans
                        .iter()
                        .find(|d| d.server.as_str() == server && d.name == *name)
                    && d.entry().is_none()
                {
                    let first = d.lines.first().and_then(|l| l.exten.as_deref());
                    match first {
                        Some(exten) if exten.starts_with('_') => self.error(
                            "pattern-target",
                            self.loc.value(&inner),
                            format!("dialplan `{name}` starts with the pattern `{exten}`, which a call cannot be sent to"),
                            "start that dialplan with a plain extension such as `exten: s`",
                        ),
                        _ => self.error(
                            "no-entry",
                            self.loc.value(&inner),
                            format!(
                                "dialplan `{name}` has no `s` extension, and its first extension `{}` is one Asterisk runs on its own: a call sent there is dropped",
                                first.unwrap_or("")
                            ),
                            "add lines with `exten: s` where calls sent to this dialplan start",
                        ),
                    }
                }
            }
            Target::Schedule(schedule) => {
                self.timeframe_ref(&inner.field("timeframe"), &schedule.timeframe);
                self.target(&inner.field("open"), server, &schedule.open);
                self.target(&inner.field("closed"), server, &schedule.closed);
            }
            Target::External(number) => {
                let routed = self.fleet.outbound_routes.iter().any(|r| {
                    r.server.as_str() == server
                        && r.patterns.iter().any(|p| {
                            crate::model::dialing::matches(p.pattern.as_str(), number.as_str())
                        })
                });
                if !routed
                    && !self
                        .fleet
                        .broken
                        .iter()
                        .any(|b| b.kind == Kind::OutboundRoute)
                {
                    self.warning(
                        "unrouted-number",
                        self.loc.value(&inner),
                        format!("no outbound route on server `{server}` matches {number}"),
                        "the call would fail; add an outbound route whose pattern matches this number",
                    );
                }
            }
        }
    }

    /// A music-on-hold class (fleet-wide; `default` is Asterisk's own).
    pub(super) fn music_ref(&mut self, origin: &Origin, class: &Name) {
        if class.as_str() != "default"
            && !self.fleet.music_on_hold.iter().any(|m| m.name == *class)
            && !self
                .fleet
                .is_broken(Kind::MusicOnHold, None, class.as_str())
        {
            self.error(
                "unknown-reference",
                self.loc.value(origin),
                format!("unknown music-on-hold class `{class}`"),
                "define it under `music_on_hold:` or use `default`",
            );
        }
    }

    /// A time frame named by a menu or a schedule (time frames are fleet-wide).
    pub(super) fn timeframe_ref(&mut self, origin: &Origin, tf: &Name) {
        let known = self.fleet.timeframes.iter().any(|t| t.name == *tf)
            || self.fleet.is_broken(Kind::Timeframe, None, tf.as_str());
        if known {
            return;
        }
        let all = self.fleet.timeframes.iter().map(|t| t.name.as_str());
        let hint = match did_you_mean(tf.as_str(), all) {
            Some(s) => format!("did you mean `{s}`?"),
            None => "define it under `timeframes:`".into(),
        };
        self.error(
            "unknown-reference",
            self.loc.value(origin),
            format!("unknown time frame `{tf}`"),
            hint,
        );
    }

    pub(super) fn transport_ref(&mut self, origin: &Origin, server: &str, name: &Name) {
        let Some(s) = self.idx.servers.get(server).copied() else {
            return;
        };
        if s.transports.iter().any(|t| t.name == *name) {
            return;
        }
        let names: Vec<&str> = s.transports.iter().map(|t| t.name.as_str()).collect();
        let hint = if names.is_empty() {
            format!("server `{server}` declares no transports; add it under `servers[].transports`")
        } else {
            format!("transports of `{server}`: {}", names.join(", "))
        };
        self.error(
            "unknown-reference",
            self.loc.value(origin),
            format!("no transport `{name}` on server `{server}`"),
            hint,
        );
    }

    pub(super) fn address_list_refs(&mut self, origin: &Origin, names: &[Name]) {
        for (i, name) in names.iter().enumerate() {
            let known = self.fleet.address_lists.iter().any(|l| l.name == *name)
                || self.fleet.is_broken(Kind::AddressList, None, name.as_str());
            if !known {
                let all: Vec<&str> = self
                    .fleet
                    .address_lists
                    .iter()
                    .map(|l| l.name.as_str())
                    .collect();
                let hint = match did_you_mean(name.as_str(), all.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => "define it under `address_lists:`".into(),
                };
                self.error(
                    "unknown-reference",
                    self.loc.value(&origin.at(&[Segment::Index(i)])),
                    format!("unknown address list `{name}`"),
                    hint,
                );
            }
        }
    }
}

//! Queues and menus: members, music classes, overflow and key destinations, time frames.

use std::collections::HashMap;

use crate::diagnostics::Diagnostic;
use crate::model::Target;
use crate::source::Segment;

use super::Checker;

impl<'a> Checker<'a> {
    pub(super) fn queues(&mut self) {
        for q in &self.fleet.queues {
            let o = &q.origin;
            let server = q.server.as_str();
            if !self.server_ref(&o.field("server"), &q.server) {
                continue;
            }
            let mut seen: HashMap<&str, usize> = HashMap::new();
            for (i, m) in q.members.iter().enumerate() {
                let mo = o.field("members").at(&[Segment::Index(i)]);
                let number = m.extension().as_str();
                if let Some(first) = seen.insert(number, i) {
                    let d = Diagnostic::error(
                        "duplicate-member",
                        format!("extension {number} is a member of queue `{}` twice", q.name),
                    )
                    .at(self.loc.value(&mo))
                    .related(
                        self.loc
                            .value(&o.field("members").at(&[Segment::Index(first)])),
                        "first listed here",
                    )
                    .hint("list each member once");
                    self.out.push(d);
                    continue;
                }
                let at = if matches!(m, crate::model::queue::Member::Detailed(_)) {
                    mo.field("extension")
                } else {
                    mo
                };
                self.extension_ref(&at, server, number);
            }
            self.queue_agents(q);
            if let Some(class) = &q.music_class {
                self.music_ref(&o.field("music_class"), class);
            }
            if let Some(g) = &q.greeting {
                self.sound(&o.field("greeting"), &g.0);
            }
            for (key, target) in [
                ("on_timeout", &q.on_timeout),
                ("on_full", &q.on_full),
                ("on_empty", &q.on_empty),
            ] {
                if let Some(t) = target {
                    if matches!(t, Target::Queue(n) if *n == q.name) {
                        self.error(
                            "forward-loop",
                            self.loc.value(&o.field(key)),
                            format!("queue `{}` overflows into itself", q.name),
                            "send the caller elsewhere (voicemail, another queue, hangup)",
                        );
                        continue;
                    }
                    self.target(&o.field(key), server, t);
                }
            }
            if q.on_timeout.is_some() && q.max_wait.is_none() {
                self.warning(
                    "unused-setting",
                    self.loc.key(&o.field("on_timeout")),
                    "`on_timeout` never applies without `max_wait`".into(),
                    "set `max_wait` (seconds) so callers leave the queue",
                );
            }
        }
    }

    pub(super) fn menus(&mut self) {
        for m in &self.fleet.menus {
            let o = &m.origin;
            let server = m.server.as_str();
            if !self.server_ref(&o.field("server"), &m.server) {
                continue;
            }
            for (key, target) in m.keys.iter() {
                self.target(&o.field("keys").field(key), server, target);
            }
            for (i, p) in m.prompts.iter().enumerate() {
                self.sound(&o.field("prompts").at(&[Segment::Index(i)]), &p.0);
            }
            if let Some(p) = &m.invalid_prompt {
                self.sound(&o.field("invalid_prompt"), &p.0);
            }
            for (key, target) in [
                ("invalid", &m.invalid),
                ("timeout", &m.timeout),
                ("after_hours", &m.after_hours),
            ] {
                if let Some(t) = target {
                    self.target(&o.field(key), server, t);
                }
            }
            match (&m.timeframe, &m.after_hours) {
                (Some(tf), after) => {
                    self.timeframe_ref(&o.field("timeframe"), tf);
                    if after.is_none() {
                        self.error(
                            "missing-field",
                            self.loc.key(&o.field("timeframe")),
                            format!(
                                "menu `{}` has a time frame but no `after_hours` destination",
                                m.name
                            ),
                            "add `after_hours:` (e.g. `{voicemail: \"100\"}` or `hangup`)",
                        );
                    }
                }
                (None, Some(_)) => self.warning(
                    "unused-setting",
                    self.loc.key(&o.field("after_hours")),
                    "`after_hours` never applies without `timeframe`".into(),
                    "add `timeframe:` with the business hours",
                ),
                (None, None) => {}
            }
            if m.keys.iter().next().is_none() && !m.direct_dial {
                self.warning(
                    "empty-menu",
                    self.loc.value(&o.field("name")),
                    format!("menu `{}` has no keys and no direct dial", m.name),
                    "callers can only wait for the timeout; add `keys:`",
                );
            }
        }
    }
}

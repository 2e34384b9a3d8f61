//! Ring groups: members on the same server, listed once, delays that leave them time to
//! ring, outside members with a route, and where an unanswered call goes.

use std::collections::HashMap;

use crate::diagnostics::Diagnostic;
use crate::model::Target;
use crate::model::names::PhoneNumber;
use crate::model::ring_group::{RingMember, RingStrategy};
use crate::source::Segment;

use super::Checker;

impl<'a> Checker<'a> {
    pub(super) fn ring_groups(&mut self) {
        for g in &self.fleet.ring_groups {
            let o = &g.origin;
            let server = g.server.as_str();
            if !self.server_ref(&o.field("server"), &g.server) {
                continue;
            }
            let ring_time = g.ring_time();
            let mut seen: HashMap<&str, usize> = HashMap::new();
            for (i, m) in g.members.iter().enumerate() {
                let mo = o.field("members").at(&[Segment::Index(i)]);
                let number = m.number();
                if let Some(first) = seen.insert(number, i) {
                    let d = Diagnostic::error(
                        "duplicate-member",
                        format!("{number} is a member of ring group `{}` twice", g.name),
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
                match m {
                    RingMember::Extension(n) => {
                        self.extension_ref(&mo, server, n.as_str());
                    }
                    RingMember::Phone(p) => {
                        self.extension_ref(&mo.field("extension"), server, p.extension.as_str());
                    }
                    RingMember::Outside(out) => {
                        // Dialled through `<prefix>-outbound`, as a forward would be.
                        self.target(
                            &mo,
                            server,
                            &Target::External(PhoneNumber(out.external.0.clone())),
                        );
                    }
                }
                if m.delay() >= ring_time {
                    self.error(
                        "member-never-rings",
                        self.loc.value(&mo.field("delay")),
                        format!(
                            "member {number} of ring group `{}` waits {} s, but the group rings only {ring_time} s{}",
                            g.name,
                            m.delay(),
                            if g.strategy == RingStrategy::RingAll { "" } else { " per step" }
                        ),
                        "make the delay shorter than `ring_time`, or raise `ring_time`",
                    );
                }
            }
            if let Some(p) = &g.confirm_prompt {
                self.sound(&o.field("confirm_prompt"), &p.0);
                if !g.members.iter().any(RingMember::confirms) {
                    self.warning(
                        "unused-setting",
                        self.loc.key(&o.field("confirm_prompt")),
                        format!(
                            "ring group `{}` has no outside member that confirms",
                            g.name
                        ),
                        "`confirm_prompt` is only played to outside members (`external:`)",
                    );
                }
            }
            if let Some(t) = &g.no_answer {
                let at = o.field("no_answer");
                if matches!(t, Target::RingGroup(n) if *n == g.name) {
                    // With every member unregistered, Dial fails at once: it would spin.
                    self.error(
                        "forward-loop",
                        self.loc.value(&at),
                        format!("ring group `{}` goes to itself when nobody answers", g.name),
                        "send the caller elsewhere (voicemail, a queue, hangup)",
                    );
                } else {
                    self.target(&at, server, t);
                }
            }
        }
    }
}

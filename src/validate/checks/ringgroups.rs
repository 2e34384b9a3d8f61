//! Ring groups and follow-me: members on the same server, listed once, delays that
//! leave them time to ring, outside members with a route, and where an unanswered call
//! goes.

use std::collections::HashMap;

use crate::diagnostics::Diagnostic;
use crate::model::Origin;
use crate::model::Target;
use crate::model::names::{PhoneNumber, SoundFile};
use crate::model::ring_group::{RingMember, RingStrategy};
use crate::source::Segment;

use super::Checker;

/// The members of one ring group or follow-me, for their checks.
struct MemberList<'m> {
    /// `ring group \`sales\``, `the follow-me of 101`: how messages name the owner.
    owner: String,
    /// The pointer to the members list.
    at: Origin,
    server: &'m str,
    members: &'m [RingMember],
    strategy: RingStrategy,
    ring_time: u32,
}

impl<'a> Checker<'a> {
    pub(super) fn ring_groups(&mut self) {
        for g in &self.fleet.ring_groups {
            let o = &g.origin;
            let server = g.server.as_str();
            if !self.server_ref(&o.field("server"), &g.server) {
                continue;
            }
            self.members(MemberList {
                owner: format!("ring group `{}`", g.name),
                at: o.field("members"),
                server,
                members: &g.members,
                strategy: g.strategy,
                ring_time: g.ring_time(),
            });
            self.confirm_prompt(
                &o.field("confirm_prompt"),
                g.confirm_prompt.as_ref(),
                &g.members,
                &format!("ring group `{}`", g.name),
            );
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

    /// Follow-me of each extension: its numbers are checked as a ring group's members;
    /// the extension itself is not one of them, and a forward of every call makes it moot.
    pub(super) fn follow_me(&mut self) {
        for e in &self.fleet.extensions {
            let Some(f) = e.follow_me.as_deref() else {
                continue;
            };
            let o = e.origin.field("follow_me");
            let n = e.number.as_str();
            let owner = format!("the follow-me of {n}");
            if let Some(i) = f
                .numbers
                .iter()
                .position(|m| m.extension().is_some_and(|x| x.as_str() == n))
            {
                self.error(
                    "follow-me-self",
                    self.loc.value(&o.field("numbers").at(&[Segment::Index(i)])),
                    format!("{owner} lists extension {n} itself"),
                    "the desk phone always rings; list the other numbers (a mobile, a second desk)",
                );
            }
            if f.enabled && e.forwarding().always.is_some() {
                self.warning(
                    "unused-setting",
                    self.loc.key(&o),
                    format!("extension {n} forwards every call, so its follow-me never rings"),
                    "remove `forward.always`, or the follow-me",
                );
            }
            self.members(MemberList {
                owner: owner.clone(),
                at: o.field("numbers"),
                server: e.server.as_str(),
                members: &f.numbers,
                strategy: f.strategy,
                ring_time: f.ring_time(),
            });
            self.confirm_prompt(
                &o.field("confirm_prompt"),
                f.confirm_prompt.as_ref(),
                &f.numbers,
                &owner,
            );
        }
    }

    fn members(&mut self, list: MemberList) {
        let MemberList {
            owner,
            at,
            server,
            members,
            strategy,
            ring_time,
        } = list;
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (i, m) in members.iter().enumerate() {
            let mo = at.at(&[Segment::Index(i)]);
            let number = m.number();
            if let Some(first) = seen.insert(number, i) {
                let d = Diagnostic::error(
                    "duplicate-member",
                    format!("{number} is a member of {owner} twice"),
                )
                .at(self.loc.value(&mo))
                .related(
                    self.loc.value(&at.at(&[Segment::Index(first)])),
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
                        "member {number} of {owner} waits {} s, but it rings only {ring_time} s{}",
                        m.delay(),
                        if strategy == RingStrategy::RingAll {
                            ""
                        } else {
                            " per step"
                        }
                    ),
                    "make the delay shorter than `ring_time`, or raise `ring_time`",
                );
            }
        }
    }

    fn confirm_prompt(
        &mut self,
        at: &Origin,
        prompt: Option<&SoundFile>,
        members: &[RingMember],
        owner: &str,
    ) {
        let Some(p) = prompt else { return };
        self.sound(at, &p.0);
        if !members.iter().any(RingMember::confirms) {
            self.warning(
                "unused-setting",
                self.loc.key(at),
                format!("{owner} has no outside member that confirms"),
                "`confirm_prompt` is only played to outside members (`external:`)",
            );
        }
    }
}

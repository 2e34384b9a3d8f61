//! Queue agents: extensions of the queue's server, each listed once and not also a static
//! member, on a queue with a number (their login code ends with it).

use std::collections::HashSet;

use crate::model::queue::Member;
use crate::model::{Queue, Sourced};
use crate::source::Segment;

use super::Checker;

impl<'a> Checker<'a> {
    pub(super) fn queue_agents(&mut self, q: &Sourced<Queue>) {
        let o = &q.origin;
        if !q.agents.is_empty() && q.number.is_none() {
            self.error(
                "missing-field",
                self.loc.key(&o.field("agents")),
                format!("queue `{}` has agents but no number: their login code is the agent_login code followed by it", q.name),
                "give the queue a `number:`",
            );
        }
        let members: HashSet<&str> = q.members.iter().map(|m| m.extension().as_str()).collect();
        let mut seen = HashSet::new();
        for (i, a) in q.agents.iter().enumerate() {
            let ao = o.field("agents").at(&[Segment::Index(i)]);
            let at = if matches!(a, Member::Detailed(_)) {
                ao.field("extension")
            } else {
                ao
            };
            let number = a.extension().as_str();
            if members.contains(number) {
                self.error(
                    "duplicate-member",
                    self.loc.value(&at),
                    format!(
                        "extension {number} is both a static member and an agent of queue `{}`",
                        q.name
                    ),
                    "keep it under `members` (always in the queue) or under `agents` (logs in)",
                );
            } else if !seen.insert(number) {
                self.error(
                    "duplicate-member",
                    self.loc.value(&at),
                    format!("extension {number} is an agent of queue `{}` twice", q.name),
                    "list each agent once",
                );
            } else {
                self.extension_ref(&at, q.server.as_str(), number);
            }
        }
    }
}

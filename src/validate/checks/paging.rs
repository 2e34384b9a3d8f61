//! Paging groups: their server and members exist, each member once.

use std::collections::HashSet;

use crate::source::Segment;

use super::Checker;

impl<'a> Checker<'a> {
    pub(super) fn paging_groups(&mut self) {
        for g in &self.fleet.paging_groups {
            let o = &g.origin;
            if !self.server_ref(&o.field("server"), &g.server) {
                continue;
            }
            let mut seen = HashSet::new();
            for (i, m) in g.members.iter().enumerate() {
                let at = o.field("members").at(&[Segment::Index(i)]);
                if !seen.insert(m.as_str()) {
                    self.error(
                        "duplicate-member",
                        self.loc.value(&at),
                        format!("extension {m} is paged twice by group `{}`", g.name),
                        "list each extension once",
                    );
                    continue;
                }
                self.extension_ref(&at, g.server.as_str(), m.as_str());
            }
        }
    }
}

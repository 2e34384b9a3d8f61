//! Announcements: their server, prompts and destination, and no announcement that
//! sends the caller back to itself.

use crate::model::Target;
use crate::source::Segment;

use super::Checker;

impl<'a> Checker<'a> {
    pub(super) fn announcements(&mut self) {
        for a in &self.fleet.announcements {
            let o = &a.origin;
            if !self.server_ref(&o.field("server"), &a.server) {
                continue;
            }
            for (i, p) in a.prompts.iter().enumerate() {
                self.sound(&o.field("prompts").at(&[Segment::Index(i)]), &p.0);
            }
            let Some(then) = &a.then else {
                continue;
            };
            if matches!(then, Target::Announcement(n) if *n == a.name) {
                self.error(
                    "forward-loop",
                    self.loc.value(&o.field("then")),
                    format!("announcement `{}` plays itself again, for ever", a.name),
                    "send the caller on (a menu, a queue, hangup); use `repeat` to play it more than once",
                );
            } else {
                self.target(&o.field("then"), a.server.as_str(), then);
            }
        }
    }
}

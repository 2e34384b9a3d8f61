//! Block lists: their servers exist, their callers are numbers or patterns Asterisk
//! reads, and a message is a sound.

use crate::model::blocklist::BlockAction;
use crate::source::Segment;
use crate::validate::patterns::check_dial_pattern;

use super::Checker;

impl<'a> Checker<'a> {
    pub(super) fn block_lists(&mut self) {
        for b in &self.fleet.block_lists {
            let o = &b.origin;
            for (i, server) in b.servers.iter().enumerate() {
                self.server_ref(&o.field("servers").at(&[Segment::Index(i)]), server);
            }
            for (i, caller) in b.callers.iter().enumerate() {
                if let Err(why) = check_dial_pattern(caller.0.as_str()) {
                    self.error(
                        "invalid-pattern",
                        self.loc.value(&o.field("callers").at(&[Segment::Index(i)])),
                        format!("caller {} of block list `{}`: {why}", caller.0, b.name),
                        "write a number (`+74951112233`) or a pattern (`_8800XXXXXXX`)",
                    );
                }
            }
            if let BlockAction::Message(sound) = &b.action {
                self.sound(&o.field("action").field("message"), &sound.0);
            }
        }
    }
}

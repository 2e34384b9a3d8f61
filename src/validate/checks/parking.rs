//! Parking lots: a real slot range that holds neither the park number nor any number
//! of the server's dial space, and lots that do not share slots.

use crate::diagnostics::Diagnostic;

use super::Checker;

/// Most slots in one lot: each is an extension and a hint in Asterisk.
const MAX_SLOTS: u64 = 1000;

impl<'a> Checker<'a> {
    pub(super) fn parking_lots(&mut self) {
        let f = self.fleet;
        if f.parking_lots.is_empty() {
            return;
        }
        let numbered = self.dial_numbers();
        for (i, l) in f.parking_lots.iter().enumerate() {
            let o = &l.origin;
            if !self.server_ref(&o.field("server"), &l.server) {
                continue;
            }
            let slots = o.field("slots");
            if l.slots.is_empty() || l.slots.len() > MAX_SLOTS {
                self.error(
                    "invalid-value",
                    self.loc.value(&slots),
                    format!(
                        "parking lot `{}` has slots {}-{}: {} slots",
                        l.name,
                        l.slots.first,
                        l.slots.last,
                        l.slots.len()
                    ),
                    format!("give `first` no greater than `last`, at most {MAX_SLOTS} slots"),
                );
                continue;
            }
            if l.slots.contains(l.park_number.as_str()) {
                self.error(
                    "slot-collision",
                    self.loc.value(&o.field("park_number")),
                    format!(
                        "park number {} of lot `{}` is one of its own slots",
                        l.park_number, l.name
                    ),
                    "pick a park number outside the slots (e.g. the number before the first slot)",
                );
            }
            // Every number of the server's dial space that falls in the slots (its own
            // park number is reported above).
            let server = l.server.as_str();
            let taken = numbered
                .iter()
                .filter(|n| n.server.as_str() == server && !n.is(o, "park_number"));
            for n in taken {
                let number = n.number;
                if l.slots.contains(number.as_str()) {
                    let what = if n.kind == "extension" {
                        format!("extension {number}")
                    } else {
                        format!("number {number} of {} `{}`", n.kind, n.name)
                    };
                    let d = Diagnostic::error(
                        "slot-collision",
                        format!(
                            "{what} is inside the slots {}-{} of parking lot `{}`",
                            l.slots.first, l.slots.last, l.name
                        ),
                    )
                    .at(self.loc.value(&n.origin()))
                    .related(self.loc.value(&slots), "the slots")
                    .hint("slots are dialled to take calls back: move the slots or the number");
                    self.out.push(d);
                }
            }
            for other in f.parking_lots[..i].iter().filter(|x| x.server == l.server) {
                if l.slots.first <= other.slots.last && other.slots.first <= l.slots.last {
                    let d = Diagnostic::error(
                        "slot-collision",
                        format!(
                            "the slots of parking lots `{}` and `{}` overlap",
                            other.name, l.name
                        ),
                    )
                    .at(self.loc.value(&slots))
                    .related(
                        self.loc.value(&other.origin.field("slots")),
                        "the other lot's slots",
                    )
                    .hint("give each lot its own range");
                    self.out.push(d);
                }
            }
            if let Some(t) = &l.timeout_to {
                self.target(&o.field("timeout_to"), server, t);
            }
        }
    }
}

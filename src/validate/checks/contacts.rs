//! The phonebook: each contact's servers exist, and no number belongs to two contacts
//! on one server (which name would the phone show?).

use std::collections::HashMap;

use crate::diagnostics::{Diagnostic, quote};
use crate::model::Origin;
use crate::source::Segment;

use super::Checker;

impl Checker<'_> {
    pub(super) fn contacts(&mut self) {
        // Numbers of contacts on every server, and of contacts on some servers.
        let mut everywhere: HashMap<&str, (Origin, &str)> = HashMap::new();
        let mut scoped: HashMap<(&str, &str), (Origin, &str)> = HashMap::new();
        // The first scoped contact of each number, for a contact on every server.
        let mut scoped_any: HashMap<&str, (Origin, &str)> = HashMap::new();
        for c in &self.fleet.contacts {
            for (i, s) in c.servers.iter().enumerate() {
                let at = c.origin.field("servers").at(&[Segment::Index(i)]);
                self.server_ref(&at, s);
            }
            for (i, number) in c.numbers.iter().enumerate() {
                let at = c.origin.field("numbers").at(&[Segment::Index(i)]);
                let number = number.as_str();
                let clash = everywhere.get(number).or_else(|| {
                    if c.servers.is_empty() {
                        scoped_any.get(number)
                    } else {
                        c.servers
                            .iter()
                            .find_map(|s| scoped.get(&(s.as_str(), number)))
                    }
                });
                if let Some((first, name)) = clash {
                    let d = Diagnostic::error(
                        "duplicate-contact-number",
                        format!("{} is already the number of {}", quote(number), quote(name)),
                    )
                    .at(self.loc.value(&at))
                    .related(self.loc.value(first), "first given here")
                    .hint("a number shows one name: keep it on one contact");
                    self.out.push(d);
                    continue;
                }
                if c.servers.is_empty() {
                    everywhere.insert(number, (at, c.name.as_str()));
                } else {
                    for s in &c.servers {
                        scoped.insert((s.as_str(), number), (at.clone(), c.name.as_str()));
                    }
                    scoped_any
                        .entry(number)
                        .or_insert_with(|| (at.clone(), c.name.as_str()));
                }
            }
        }
    }
}

//! The phonebook: each contact's servers exist, and no number belongs to two contacts
//! on one server (which name would the phone show?).

use std::collections::HashMap;

use crate::diagnostics::{Diagnostic, Location, quote};
use crate::source::Segment;

use super::Checker;

impl Checker<'_> {
    pub(super) fn contacts(&mut self) {
        if let Some(project) = &self.fleet.project_origin {
            for (i, book) in self.fleet.project.phonebooks.iter().enumerate() {
                let book_at = project.field("phonebooks").at(&[Segment::Index(i)]);
                for (j, s) in book.servers.iter().enumerate() {
                    let at = book_at.field("servers").at(&[Segment::Index(j)]);
                    self.server_ref(&at, s);
                }
            }
        }
        // Numbers of contacts on every server, and of contacts on some servers.
        let mut everywhere: HashMap<&str, First> = HashMap::new();
        let mut scoped: HashMap<(&str, &str), First> = HashMap::new();
        // The first scoped contact of each number, for a contact on every server.
        let mut scoped_any: HashMap<&str, First> = HashMap::new();
        for c in &self.fleet.contacts {
            let from_phonebook = !c.number_spans.is_empty();
            // A phonebook's servers are checked once, at the line that names them.
            if !from_phonebook {
                for (i, s) in c.servers.iter().enumerate() {
                    let at = c.origin.field("servers").at(&[Segment::Index(i)]);
                    self.server_ref(&at, s);
                }
            }
            for (i, number) in c.numbers.iter().enumerate() {
                let at = match c.number_spans.get(i) {
                    Some(span) => Location::new(c.origin.file, *span, None),
                    None => self
                        .loc
                        .value(&c.origin.field("numbers").at(&[Segment::Index(i)])),
                };
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
                if let Some(first) = clash {
                    let message = format!(
                        "{} is already the number of {}",
                        quote(number),
                        quote(first.name)
                    );
                    // Exports often give one switchboard number to several people: a
                    // clash a phonebook makes keeps the first name rather than block.
                    let d = if from_phonebook || first.from_phonebook {
                        Diagnostic::warning(
                            "duplicate-contact-number",
                            message + "; the first is kept",
                        )
                    } else {
                        Diagnostic::error("duplicate-contact-number", message)
                    };
                    self.out.push(
                        d.at(at)
                            .related(first.at.clone(), "first given here")
                            .hint("a number shows one name: keep it on one contact"),
                    );
                    continue;
                }
                let first = First {
                    at,
                    name: c.name.as_str(),
                    from_phonebook,
                };
                if c.servers.is_empty() {
                    everywhere.insert(number, first);
                } else {
                    for s in &c.servers {
                        scoped.insert((s.as_str(), number), first.clone());
                    }
                    scoped_any.entry(number).or_insert(first);
                }
            }
        }
    }
}

/// The first contact seen with a number.
#[derive(Clone)]
struct First<'a> {
    at: Location,
    name: &'a str,
    from_phonebook: bool,
}

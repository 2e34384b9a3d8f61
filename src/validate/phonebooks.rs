//! Phonebook files (`project.phonebooks`): each record of a CRM's or address book's
//! export becomes a contact. Exports are messy, so a record is cleaned rather than
//! refused: a name keeps the characters phones may show, and a number that cannot be
//! made E.164 is left out with a warning at its cell (`--deny-warnings` makes that an
//! error in CI). A file that cannot be read at all is an error.

use crate::diagnostics::{Diagnostic, Location, quote};
use crate::model::contact::{self, Contact, Phonebook};
use crate::model::{Fleet, Origin, Sourced};
use crate::source::{Format, Pointer, Segment, Sources, phonebook};

use super::Locator;

/// Reads every phonebook the project names into the fleet's contacts, after the
/// contacts of the YAML files (so on a number both give, the YAML one is kept).
pub(super) fn load(sources: &Sources, fleet: &mut Fleet, out: &mut Vec<Diagnostic>) {
    let Some(project_origin) = fleet.project_origin.clone() else {
        return;
    };
    let phonebooks = fleet.project.phonebooks.clone();
    for (i, book) in phonebooks.iter().enumerate() {
        let at = project_origin
            .field("phonebooks")
            .at(&[Segment::Index(i)])
            .field("file");
        load_one(sources, fleet, book, &at, out);
    }
}

fn load_one(
    sources: &Sources,
    fleet: &mut Fleet,
    book: &Phonebook,
    at: &Origin,
    out: &mut Vec<Diagnostic>,
) {
    let Some((rel, format)) = phonebook::repo_path(&book.file) else {
        out.push(
            Diagnostic::error(
                "outside-repo",
                format!(
                    "phonebook {} is outside the repository (paths are relative to the repo root)",
                    quote(&book.file)
                ),
            )
            .at(Locator.value(at))
            .hint("export the phonebook into the repository and name it by its path there"),
        );
        return;
    };
    let Some(id) = sources
        .ids()
        .find(|id| sources.file(*id).rel == rel && sources.file(*id).format != Format::Yaml)
    else {
        out.push(
            Diagnostic::error(
                "phonebook-missing",
                format!("phonebook {} does not exist", quote(&book.file)),
            )
            .at(Locator.value(at))
            .hint("export it to this path (relative to the repo root), or fix the path"),
        );
        return;
    };
    let file = sources.file(id);
    if let Some(e) = file.read_error() {
        let mut d =
            Diagnostic::error("phonebook", e.message.clone()).at(Location::new(id, e.span, None));
        if let Some(h) = &e.hint {
            d = d.hint(h.clone());
        }
        out.push(d);
        return;
    }
    let records = match phonebook::parse(format, &file.text) {
        Ok(records) => records,
        Err(e) => {
            out.push(
                Diagnostic::error("phonebook", e.message)
                    .at(Location::new(id, e.span, None))
                    .hint(e.hint),
            );
            return;
        }
    };
    let numbering = fleet.project.numbering.clone();
    for (r, record) in records.into_iter().enumerate() {
        let name = record
            .name
            .as_ref()
            .and_then(|n| contact::display_name(&n.text));
        let Some(name) = name else {
            if !record.numbers.is_empty() {
                out.push(
                    Diagnostic::warning(
                        "phonebook-name",
                        "this record has numbers but no name; it is left out",
                    )
                    .at(Location::new(id, record.span, None))
                    .hint("give it a name (letters or digits) in the name column or `FN`"),
                );
            }
            continue;
        };
        let mut numbers = Vec::new();
        let mut number_spans = Vec::new();
        for cell in &record.numbers {
            match contact::e164(&cell.text, numbering.as_ref()) {
                Ok(n) if numbers.contains(&n) => {}
                Ok(n) => {
                    numbers.push(n);
                    number_spans.push(cell.span);
                }
                Err(why) => out.push(
                    Diagnostic::warning(
                        "phonebook-number",
                        format!(
                            "{} of {} is left out: {why}",
                            quote(&cell.text),
                            quote(&name)
                        ),
                    )
                    .at(Location::new(id, cell.span, None))
                    .hint(
                        "write it as +<country code><number> (spaces, dashes and brackets \
                         are fine), or set `project.numbering` for national numbers",
                    ),
                ),
            }
        }
        if numbers.is_empty() {
            continue;
        }
        let company = record
            .company
            .as_ref()
            .and_then(|c| contact::display_name(&c.text));
        fleet.contacts.push(Box::new(Sourced {
            origin: Origin {
                file: id,
                pointer: Pointer::root().index(r),
            },
            item: Contact {
                name,
                company,
                numbers,
                servers: book.servers.clone(),
                number_spans,
            },
        }));
    }
}

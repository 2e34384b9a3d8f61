//! What an import did with each section and line it read.

use serde::Serialize;

use super::gather::ConfSet;
use super::objects::Origin;

/// What became of a section (or a dialplan extension).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Became a typed entity in the YAML.
    Imported,
    /// Kept verbatim as a custom dialplan.
    Raw,
    /// Not imported: it stays in the base files as it is.
    Left,
    /// A file or line that could not be read as Asterisk would.
    Problem,
}

impl Outcome {
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Imported => "imported",
            Outcome::Raw => "kept raw",
            Outcome::Left => "left in base",
            Outcome::Problem => "problem",
        }
    }
}

/// One line of the report.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    /// The file, as shown (relative to the conf dir).
    pub file: String,
    pub line: usize,
    /// The section (`[101]`, `[from-internal]`), or the dialplan extension
    /// (`from-internal/101`).
    pub section: String,
    pub outcome: Outcome,
    /// What it became (`extension 101`) or why not.
    pub what: String,
    /// Settings that did not carry over, and other things to check.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// The lines it covers, for the migration.
    #[serde(skip)]
    pub origins: Vec<Origin>,
}

/// The whole report of one server's import.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub server: String,
    pub host: String,
    pub entries: Vec<Entry>,
}

impl Report {
    pub fn push(
        &mut self,
        set: &ConfSet,
        origin: Origin,
        section: impl Into<String>,
        outcome: Outcome,
        what: impl Into<String>,
    ) -> &mut Entry {
        self.push_all(set, vec![origin], section, outcome, what)
    }

    /// An entry covering several pieces (a section and its `(+)` additions, a dialplan
    /// extension's lines), shown at the first.
    pub fn push_all(
        &mut self,
        set: &ConfSet,
        origins: Vec<Origin>,
        section: impl Into<String>,
        outcome: Outcome,
        what: impl Into<String>,
    ) -> &mut Entry {
        let first = origins[0];
        self.entries.push(Entry {
            file: set.files[first.file].name.clone(),
            line: first.first_line,
            section: section.into(),
            outcome,
            what: what.into(),
            notes: Vec::new(),
            origins,
        });
        self.entries.last_mut().expect("just pushed")
    }

    /// How many entries had each outcome.
    pub fn count(&self, outcome: Outcome) -> usize {
        self.entries.iter().filter(|e| e.outcome == outcome).count()
    }

    /// The report as text: one line per entry, grouped by file, then the counts.
    pub fn text(&self) -> String {
        let mut entries: Vec<&Entry> = self.entries.iter().collect();
        entries.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
        let mut out = String::new();
        let mut file = None;
        for e in entries {
            if file != Some(&e.file) {
                out.push_str(&format!("{}:\n", e.file));
                file = Some(&e.file);
            }
            out.push_str(&format!(
                "  {:>5}  {:<28} {:<13} {}\n",
                e.line,
                e.section,
                e.outcome.label(),
                e.what
            ));
            for n in &e.notes {
                out.push_str(&format!("{:>9}note: {n}\n", ""));
            }
        }
        out.push_str(&format!(
            "{}: {} imported, {} kept raw, {} left in base, {} problems\n",
            self.server,
            self.count(Outcome::Imported),
            self.count(Outcome::Raw),
            self.count(Outcome::Left),
            self.count(Outcome::Problem),
        ));
        out
    }
}

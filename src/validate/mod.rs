//! `validate`: the schema check, then the meaning checks, over every file of a repo.
//!
//! Every problem is collected (nothing stops at the first), each positioned at a file,
//! line, column and YAML path. Finding and reading the files is `source`'s job
//! ([`source::read_repo`], [`source::read_revision`]); this module checks what was read.

mod checks;
mod patterns;
mod phonebooks;
pub mod schema;
mod suggest;
mod text;
mod time;

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value as Json;

use crate::diagnostics::{self, Diagnostic, Location, Place};
use crate::model::{BrokenEntity, Fleet, Kind, Origin, Project};
use crate::source::{self, FileId, Pointer, ROOT_FILE, Segment, SourceError, Sources, Span};

pub(crate) use checks::leaves_repo;
pub use patterns::check_dial_pattern;
pub use text::{check_balanced, check_dialplan_text, check_name};

/// The outcome of validating a repo: its files, the merged fleet (every entity that
/// passed the schema check) and every problem found.
#[derive(Debug)]
pub struct Report {
    pub sources: Sources,
    pub fleet: Fleet,
    pub diagnostics: Vec<Diagnostic>,
}

impl Report {
    pub fn errors(&self) -> usize {
        diagnostics::counts(&self.diagnostics).0
    }

    pub fn warnings(&self) -> usize {
        diagnostics::counts(&self.diagnostics).1
    }

    /// Valid: no errors, and no warnings either when `deny_warnings`.
    pub fn is_valid(&self, deny_warnings: bool) -> bool {
        self.errors() == 0 && !(deny_warnings && self.warnings() > 0)
    }
}

/// Reads and validates the repo at `root` (the directory holding `astbase.yaml`).
pub fn validate_repo(root: &Path) -> Result<Report, SourceError> {
    Ok(check(source::read_repo(root)?))
}

/// Validates the repo at `root` as it is in a git revision (commit or index). Files are
/// shown as `REV:path`, the way git names them.
pub fn validate_revision(
    root: &Path,
    revision: &source::git::Revision,
    shown_as: &str,
) -> Result<Report, SourceError> {
    Ok(check(source::read_revision(root, revision, shown_as)?))
}

/// Validates files already read (from disk, a git revision or a test). The first file is
/// the root `astbase.yaml`.
pub fn check(sources: Sources) -> Report {
    let ids: Vec<FileId> = sources.ids().collect();
    let loaded = crate::parallel::map(&ids, |id| {
        let mut fleet = Fleet::default();
        let mut out = Vec::new();
        // Phonebooks are read once the project (their numbering) is known.
        if sources.file(*id).format != source::Format::Yaml {
            return (fleet, out, 0);
        }
        let omitted = load_file(&sources, *id, &mut fleet, &mut out);
        (fleet, out, omitted)
    });
    let mut parts = Vec::with_capacity(loaded.len());
    let mut out = Vec::new();
    let mut omitted = HashMap::new();
    for ((part, diagnostics, schema_omitted), id) in loaded.into_iter().zip(&ids) {
        parts.push(part);
        out.extend(diagnostics);
        if schema_omitted > 0 {
            omitted.insert(*id, schema_omitted);
        }
    }
    let mut fleet = Fleet::merge_all(parts);
    phonebooks::load(&sources, &mut fleet, &mut out);
    checks::run(&sources, &fleet, &mut out);
    // Before the spans are looked up: that parses each file again.
    diagnostics::keep_per_file(&mut out, &omitted);
    resolve_spans(&sources, &mut out);
    diagnostics::sort(&mut out);
    Report {
        sources,
        fleet,
        diagnostics: out,
    }
}

/// Parses, schema-checks and merges one file into the fleet. Returns how many schema
/// errors were counted but not made into diagnostics (past the per-file cap).
fn load_file(sources: &Sources, id: FileId, fleet: &mut Fleet, out: &mut Vec<Diagnostic>) -> usize {
    let file = sources.file(id);
    // Parsed here and dropped once read: see `SourceFile::secret_spans`.
    let tree = match file.parse_tree() {
        Ok(Some(tree)) => tree,
        Ok(None) => return 0,
        Err(e) => {
            yaml_error(id, &e, fleet, out);
            return 0;
        }
    };
    let first_text_error = out.len();
    text::check_tree(id, &tree, out);
    let unsafe_spans: Vec<_> = out[first_text_error..]
        .iter()
        .filter_map(|d| d.location.as_ref().map(|l| l.span))
        .collect();
    // Nearly every file has no problem, and then its tree is needed no further: the JSON
    // takes the tree's strings rather than copying them. A file the schema refuses is
    // parsed once more, to say where.
    let (value, tree) = if unsafe_spans.is_empty() {
        let value = tree.into_json();
        if schema::is_valid(&value) {
            (value, None)
        } else {
            // The same text parses to the same tree; were it somehow not to, the errors
            // are still found, only placed at the top of the file.
            let again = file.parse_tree().ok().flatten();
            (value, Some(again.unwrap_or_else(source::Node::placeholder)))
        }
    } else {
        (tree.to_json(), Some(tree))
    };
    let schema::SchemaCheck {
        diagnostics: schema_errors,
        failed,
        omitted,
    } = match &tree {
        Some(tree) => schema::check(id, tree, &value),
        None => schema::SchemaCheck::default(),
    };
    // A value with a line break also fails its format; the line break is the real news.
    out.extend(schema_errors.into_iter().filter(|d| {
        d.location
            .as_ref()
            .is_none_or(|l| !unsafe_spans.contains(&l.span))
    }));
    if !out.is_empty() {
        // Their snippets mask plaintext secrets: keep where those are rather than
        // parse the file again to print them.
        file.remember_secret_spans(file.secret_spans_in(tree.as_ref()));
    }
    drop(tree);
    load_entities(file, id, value, &failed, fleet, out);
    omitted
}

/// A file that is not YAML: its error, and a fleet that knows it is incomplete.
fn yaml_error(id: FileId, e: &source::YamlError, fleet: &mut Fleet, out: &mut Vec<Diagnostic>) {
    fleet.unreadable_files += 1;
    let mut d = Diagnostic::error("yaml", e.message.clone()).at(Location {
        file: id,
        span: e.span,
        path: None,
        pending: None,
    });
    if let Some(h) = &e.hint {
        d = d.hint(h.clone());
    }
    if let Some(related) = &e.related {
        let (span, msg) = related.as_ref();
        d = d.related(
            Location {
                file: id,
                span: *span,
                path: None,
                pending: None,
            },
            msg.clone(),
        );
    }
    out.push(d);
}

/// Merges the entities of a schema-checked file into the fleet, leaving out those under
/// `failed` (remembered by name, so references to them are not reported again).
fn load_entities(
    file: &source::SourceFile,
    id: FileId,
    value: Json,
    failed: &[Pointer],
    fleet: &mut Fleet,
    out: &mut Vec<Diagnostic>,
) {
    let failed_under = |p: &Pointer| failed.iter().any(|f| f.starts_with(p) || p.starts_with(f));
    // Which list items failed, as a set: a fleet with many errors stays linear.
    let mut failed_items = std::collections::HashSet::new();
    let mut failed_whole = std::collections::HashSet::new();
    for f in failed {
        match f.segments() {
            [Segment::Key(k)] => {
                failed_whole.insert(k.as_ref());
            }
            [Segment::Key(k), Segment::Index(i), ..] => {
                failed_items.insert((k.as_ref(), *i));
            }
            _ => {}
        }
    }
    let Json::Object(mut map) = value else {
        return;
    };

    if let Some(project) = map.get("project") {
        let origin = Origin {
            file: id,
            pointer: Pointer::root().field("project"),
        };
        if file.rel != ROOT_FILE {
            out.push(
                Diagnostic::error(
                    "project-outside-root",
                    "`project` settings are only read from the root astbase.yaml",
                )
                .at(Locator.key(&origin))
                .hint("move this block into astbase.yaml at the repository root"),
            );
        } else if !failed_under(&origin.pointer)
            && let Ok(p) = serde_json::from_value::<Project>(project.clone())
        {
            fleet.project = p;
            fleet.project_origin = Some(origin);
        }
    }

    for kind in Kind::ALL {
        let Some(Json::Array(items)) = map.remove(kind.key()) else {
            continue;
        };
        for (index, item) in items.into_iter().enumerate() {
            let pointer = Pointer::root().field(kind.key()).index(index);
            if failed_items.contains(&(kind.key(), index)) || failed_whole.contains(&kind.key()) {
                fleet.broken.push(BrokenEntity {
                    kind,
                    server: item.get("server").and_then(Json::as_str).map(str::to_owned),
                    name: item
                        .get("name")
                        .or_else(|| item.get("number"))
                        .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned)),
                });
                continue;
            }
            let origin = Origin { file: id, pointer };
            if let Err(e) = fleet.add(kind, origin.clone(), item) {
                // The schema accepted what serde refused: a gap in the schema. Report it
                // rather than losing the entity silently.
                out.push(
                    Diagnostic::error("model", format!("cannot read this {}: {e}", kind.noun()))
                        .at(Locator.value(&origin)),
                );
            }
        }
    }
}

/// Locations of model origins for the meaning checks. They are only paths at first:
/// [`resolve_spans`] parses each file that has something to report once, at the end.
pub(crate) struct Locator;

impl Locator {
    /// The value node at an origin.
    pub fn value(&self, origin: &Origin) -> Location {
        Self::pending(origin, Place::Value)
    }

    /// The key node at an origin (the value when there is no key, e.g. a list item).
    pub fn key(&self, origin: &Origin) -> Location {
        Self::pending(origin, Place::Key)
    }

    fn pending(origin: &Origin, place: Place) -> Location {
        Location {
            file: origin.file,
            span: source::Span::default(),
            path: Some(origin.pointer.clone()),
            pending: Some(place),
        }
    }
}

/// Fills in the spans of pending locations: each file concerned is parsed once (files in
/// parallel), its locations resolved, its secret spans kept for display, its tree dropped.
fn resolve_spans(sources: &Sources, diagnostics: &mut [Diagnostic]) {
    let mut files: Vec<FileId> = diagnostics
        .iter()
        .flat_map(|d| {
            d.location
                .iter()
                .chain(d.related.iter().map(|r| &r.location))
        })
        .filter(|l| l.pending.is_some())
        .map(|l| l.file)
        .collect();
    files.sort_unstable();
    files.dedup();
    let mut wanted: HashMap<FileId, Vec<(Pointer, Place)>> = HashMap::new();
    for l in diagnostics.iter().flat_map(|d| {
        d.location
            .iter()
            .chain(d.related.iter().map(|r| &r.location))
    }) {
        if let (Some(place), Some(path)) = (l.pending, &l.path) {
            wanted
                .entry(l.file)
                .or_default()
                .push((path.clone(), place));
        }
    }
    let resolved: Vec<HashMap<(Pointer, Place), Span>> = crate::parallel::map(&files, |id| {
        let file = sources.file(*id);
        let parsed = file.parse();
        let mut spans = HashMap::new();
        if let Some(tree) = &parsed.tree {
            for (path, place) in wanted.get(id).into_iter().flatten() {
                let (node, key) = tree.lookup(path.segments());
                let span = match (place, key) {
                    (Place::Key, Some(k)) => k.span,
                    _ => node.span,
                };
                spans.insert((path.clone(), *place), span);
            }
        }
        file.remember_secret_spans(parsed.secret_spans);
        spans
    });
    let by_file: HashMap<FileId, HashMap<(Pointer, Place), Span>> =
        files.into_iter().zip(resolved).collect();
    for d in diagnostics.iter_mut() {
        for l in d
            .location
            .iter_mut()
            .chain(d.related.iter_mut().map(|r| &mut r.location))
        {
            if let (Some(place), Some(path)) = (l.pending, &l.path)
                && let Some(span) = by_file
                    .get(&l.file)
                    .and_then(|m| m.get(&(path.clone(), place)))
            {
                l.span = *span;
                l.pending = None;
            }
        }
    }
}

/// Where each origin is written (its value's span), parsing each file involved once:
/// for outputs that name YAML places outside diagnostics (e.g. `trace`).
pub fn locate(sources: &Sources, origins: &[&Origin]) -> Vec<Span> {
    let mut files: Vec<FileId> = origins.iter().map(|o| o.file).collect();
    files.sort_unstable();
    files.dedup();
    let trees: HashMap<FileId, Option<source::Node>> = files
        .into_iter()
        .map(|id| (id, sources.file(id).parse().tree))
        .collect();
    origins
        .iter()
        .map(|o| match trees.get(&o.file) {
            Some(Some(tree)) => tree.lookup(o.pointer.segments()).0.span,
            _ => Span::default(),
        })
        .collect()
}

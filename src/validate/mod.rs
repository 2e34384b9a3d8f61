//! `validate`: the schema check, then the meaning checks, over every file of a repo.
//!
//! Every problem is collected (nothing stops at the first), each positioned at a file,
//! line, column and YAML path.

mod checks;
mod patterns;
pub mod schema;
mod suggest;
mod text;
mod time;

use std::path::Path;

use serde_json::Value as Json;

use crate::diagnostics::{self, Diagnostic, Location, Severity};
use crate::model::{BrokenEntity, Fleet, Kind, Origin, Project};
use crate::source::{
    self, FileFilter, FileId, Pointer, ROOT_FILE, SourceError, SourceFile, Sources,
};

pub use patterns::check_dial_pattern;
pub use text::{check_dialplan_text, check_name};

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
    let mut sources = Sources {
        root: root.to_path_buf(),
        files: Vec::new(),
    };
    let root_file = source::read_file(root, ROOT_FILE, source::display_path(root, ROOT_FILE))?;
    let (files, exclude) = file_globs(&root_file);
    sources.push(root_file);
    let filter = FileFilter::new(&files, &exclude)?;
    for rel in source::list_files(root, &filter)? {
        let display = source::display_path(root, &rel);
        sources.push(source::read_file(root, &rel, display)?);
    }
    Ok(check(sources))
}

/// The `project.files` / `project.exclude` globs, read leniently: the schema check
/// reports any problem with them later.
fn file_globs(root_file: &SourceFile) -> (Vec<String>, Vec<String>) {
    let project = root_file
        .tree
        .as_ref()
        .map(|t| t.to_json())
        .and_then(|v| v.get("project").cloned());
    let strings = |key: &str| -> Vec<String> {
        project
            .as_ref()
            .and_then(|p| p.get(key))
            .and_then(Json::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    (strings("files"), strings("exclude"))
}

/// Validates files already read (from disk, a git revision or a test). The first file is
/// the root `astbase.yaml`.
pub fn check(sources: Sources) -> Report {
    let mut fleet = Fleet::default();
    let mut out = Vec::new();
    for id in sources.ids() {
        load_file(&sources, id, &mut fleet, &mut out);
    }
    checks::run(&sources, &fleet, &mut out);
    diagnostics::sort(&mut out);
    Report {
        sources,
        fleet,
        diagnostics: out,
    }
}

/// Parses, schema-checks and merges one file into the fleet.
fn load_file(sources: &Sources, id: FileId, fleet: &mut Fleet, out: &mut Vec<Diagnostic>) {
    let file = sources.file(id);
    if let Some(e) = &file.error {
        let mut d = Diagnostic::error("yaml", e.message.clone()).at(Location {
            file: id,
            span: e.span,
            path: None,
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
                },
                msg.clone(),
            );
        }
        out.push(d);
        return;
    }
    let Some(tree) = &file.tree else { return };
    let first_text_error = out.len();
    text::check_tree(id, tree, out);
    let unsafe_spans: Vec<_> = out[first_text_error..]
        .iter()
        .filter_map(|d| d.location.as_ref().map(|l| l.span))
        .collect();
    let value = tree.to_json();
    let (schema_errors, failed) = schema::check(id, tree, &value);
    // A value with a line break also fails its format; the line break is the real news.
    out.extend(schema_errors.into_iter().filter(|d| {
        d.location
            .as_ref()
            .is_none_or(|l| !unsafe_spans.contains(&l.span))
    }));
    let failed_under = |p: &Pointer| failed.iter().any(|f| f.starts_with(p) || p.starts_with(f));
    let Json::Object(map) = value else { return };

    if let Some(project) = map.get("project") {
        let origin = Origin {
            file: id,
            pointer: Pointer::root().key("project"),
        };
        if file.rel != ROOT_FILE {
            let (_, key) = tree.lookup(origin.pointer.segments());
            out.push(
                Diagnostic::error(
                    "project-outside-root",
                    "`project` settings are only read from the root astbase.yaml",
                )
                .at(Location {
                    file: id,
                    span: key.map_or(tree.span, |k| k.span),
                    path: Some(origin.pointer.clone()),
                })
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
        let Some(Json::Array(items)) = map.get(kind.key()) else {
            continue;
        };
        for (index, item) in items.iter().enumerate() {
            let pointer = Pointer::root().key(kind.key()).index(index);
            if failed_under(&pointer) {
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
            if let Err(e) = fleet.add(kind, origin.clone(), item.clone()) {
                // The schema accepted what serde refused: a gap in the schema. Report it
                // rather than losing the entity silently.
                let (node, _) = tree.lookup(origin.pointer.segments());
                out.push(
                    Diagnostic::error("model", format!("cannot read this {}: {e}", kind.noun()))
                        .at(Location {
                            file: id,
                            span: node.span,
                            path: Some(origin.pointer),
                        }),
                );
            }
        }
    }
}

/// Positions of model origins, for the meaning checks.
pub(crate) struct Locator<'a> {
    sources: &'a Sources,
}

impl<'a> Locator<'a> {
    /// The value node at an origin.
    pub fn value(&self, origin: &Origin) -> Location {
        self.locate(origin, false)
    }

    /// The key node at an origin (the value when there is no key, e.g. a list item).
    pub fn key(&self, origin: &Origin) -> Location {
        self.locate(origin, true)
    }

    fn locate(&self, origin: &Origin, key: bool) -> Location {
        let file = self.sources.file(origin.file);
        let span = match &file.tree {
            Some(tree) => {
                let (node, key_node) = tree.lookup(origin.pointer.segments());
                match (key, key_node) {
                    (true, Some(k)) => k.span,
                    _ => node.span,
                }
            }
            None => source::Span::default(),
        };
        Location {
            file: origin.file,
            span,
            path: Some(origin.pointer.clone()),
        }
    }
}

/// Whether any diagnostic is an error.
pub fn has_errors(diagnostics: &[Diagnostic]) -> bool {
    diagnostics.iter().any(|d| d.severity == Severity::Error)
}

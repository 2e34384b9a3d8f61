//! Finding and reading every fleet file of a repo, from the working tree or from a git
//! revision: the root `astbase.yaml` first, then the files its `project.files` and
//! `project.exclude` globs select.

use std::path::Path;

use serde_json::Value as Json;

use super::git::Revision;
use super::{FileFilter, PhonebookFormat, ROOT_FILE, SourceError, SourceFile, Sources};

/// Reads the repo at `root` (the directory holding `astbase.yaml`) from the working tree.
pub fn read_repo(root: &Path) -> Result<Sources, SourceError> {
    let mut sources = Sources {
        root: root.to_path_buf(),
        files: Vec::new(),
    };
    let root_file = super::read_file(root, ROOT_FILE, super::display_path(root, ROOT_FILE))?;
    let settings = RootSettings::of(&root_file);
    sources.push(root_file);
    let Some(filter) = filter_or_root_only(&settings.files, &settings.exclude)? else {
        return Ok(sources);
    };
    let rels = super::list_files(root, &filter)?;
    let files = crate::parallel::map(&rels, |rel| {
        super::read_file(root, rel, super::display_path(root, rel))
    });
    for file in files {
        sources.push(file?);
    }
    for (rel, format) in settings.phonebooks() {
        let path = root.join(&rel);
        // A missing phonebook is validate's to report, at the line that names it.
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if meta.file_type().is_symlink() {
            let target = std::fs::canonicalize(&path).ok();
            let inside = std::fs::canonicalize(root)
                .ok()
                .zip(target.as_ref())
                .is_some_and(|(r, t)| t.starts_with(r));
            if !inside {
                return Err(SourceError::Link {
                    path,
                    why: "outside the repository (or to nothing)".into(),
                });
            }
        }
        let display = super::display_path(root, &rel);
        push_phonebook(&mut sources, super::read_file(root, &rel, display)?, format);
    }
    Ok(sources)
}

/// Adds a phonebook file unless `project.phonebooks` names it twice.
fn push_phonebook(sources: &mut Sources, file: SourceFile, format: PhonebookFormat) {
    if !sources.files.iter().any(|f| f.rel == file.rel) {
        sources.push(file.as_phonebook(format));
    }
}

/// Reads the repo at `root` as it is in a git revision (commit or index). Files are
/// shown as `REV:path`, the way git names them.
pub fn read_revision(
    root: &Path,
    revision: &Revision,
    shown_as: &str,
) -> Result<Sources, SourceError> {
    let mut sources = Sources {
        root: root.to_path_buf(),
        files: Vec::new(),
    };
    let display = |rel: &str| format!("{shown_as}:{rel}");
    let file = |rel: &str, bytes: &[u8]| super::file_from_blob(rel, display(rel), bytes);
    let root_bytes = revision
        .files
        .get(ROOT_FILE)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let root_file = file(ROOT_FILE, root_bytes);
    let settings = RootSettings::of(&root_file);
    sources.push(root_file);
    let Some(filter) = filter_or_root_only(&settings.files, &settings.exclude)? else {
        return Ok(sources);
    };
    if let Some(link) = revision.outside_links.iter().find(|l| filter.accepts(l)) {
        return Err(SourceError::Link {
            path: display(link).into(),
            why: "to no file of the repository at this revision".into(),
        });
    }
    for (rel, bytes) in &revision.files {
        if rel != ROOT_FILE && filter.accepts(rel) {
            sources.push(file(rel, bytes));
        }
    }
    for (rel, format) in settings.phonebooks() {
        if revision.outside_links.contains(&rel) {
            return Err(SourceError::Link {
                path: display(&rel).into(),
                why: "to no file of the repository at this revision".into(),
            });
        }
        if let Some(bytes) = revision.files.get(&rel) {
            push_phonebook(&mut sources, file(&rel, bytes), format);
        }
    }
    Ok(sources)
}

/// The filter of the repo's globs; `None` when one is invalid: then only the root file is
/// read, and validate reports the glob at its line in it (which files it meant cannot
/// be known).
fn filter_or_root_only(
    files: &[String],
    exclude: &[String],
) -> Result<Option<FileFilter>, SourceError> {
    match FileFilter::new(files, exclude) {
        Ok(filter) => Ok(Some(filter)),
        Err(SourceError::Glob { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// What the root file says about which files to read, read leniently: the schema check
/// reports any problem with these settings later.
struct RootSettings {
    /// `project.files` and `project.exclude`: the fleet's YAML files.
    files: Vec<String>,
    exclude: Vec<String>,
    /// `project.phonebooks[].file`.
    phonebooks: Vec<String>,
}

impl RootSettings {
    fn of(root_file: &SourceFile) -> RootSettings {
        let project = root_file
            .parse()
            .tree
            .map(|t| t.to_json())
            .and_then(|v| v.get("project").cloned());
        let list = |key: &str| -> Vec<Json> {
            project
                .as_ref()
                .and_then(|p| p.get(key))
                .and_then(Json::as_array)
                .cloned()
                .unwrap_or_default()
        };
        let strings = |items: Vec<Json>| -> Vec<String> {
            items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        };
        RootSettings {
            files: strings(list("files")),
            exclude: strings(list("exclude")),
            phonebooks: strings(
                list("phonebooks")
                    .iter()
                    .filter_map(|p| p.get("file").cloned())
                    .collect(),
            ),
        }
    }

    /// The phonebooks' paths in the repo, those that are in it.
    fn phonebooks(&self) -> Vec<(String, PhonebookFormat)> {
        self.phonebooks
            .iter()
            .filter_map(|p| super::phonebook::repo_path(p))
            .collect()
    }
}

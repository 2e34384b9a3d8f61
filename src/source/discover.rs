//! Finding and reading every fleet file of a repo, from the working tree or from a git
//! revision: the root `astbase.yaml` first, then the files its `project.files` and
//! `project.exclude` globs select.

use std::path::Path;

use serde_json::Value as Json;

use super::git::Revision;
use super::{FileFilter, ROOT_FILE, SourceError, SourceFile, Sources};

/// Reads the repo at `root` (the directory holding `astbase.yaml`) from the working tree.
pub fn read_repo(root: &Path) -> Result<Sources, SourceError> {
    let mut sources = Sources {
        root: root.to_path_buf(),
        files: Vec::new(),
    };
    let root_file = super::read_file(root, ROOT_FILE, super::display_path(root, ROOT_FILE))?;
    let (files, exclude) = file_globs(&root_file);
    sources.push(root_file);
    let Some(filter) = filter_or_root_only(&files, &exclude)? else {
        return Ok(sources);
    };
    let rels = super::list_files(root, &filter)?;
    let files = crate::parallel::map(&rels, |rel| {
        super::read_file(root, rel, super::display_path(root, rel))
    });
    for file in files {
        sources.push(file?);
    }
    Ok(sources)
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
    let (files, exclude) = file_globs(&root_file);
    sources.push(root_file);
    let Some(filter) = filter_or_root_only(&files, &exclude)? else {
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

/// The `project.files` / `project.exclude` globs, read leniently: the schema check
/// reports any problem with them later.
fn file_globs(root_file: &SourceFile) -> (Vec<String>, Vec<String>) {
    let project = root_file
        .parse()
        .tree
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

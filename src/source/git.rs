//! The repo as git has it: the files of a commit or of the index (staged content), read
//! through libgit2 (no checkout, no temporary clone), and the state of the working tree.
//!
//! The config repo may be a directory inside a larger git repository: paths are taken
//! relative to that directory, and only files below it are read.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use git2::{ObjectType, Repository, StatusOptions, TreeWalkMode, TreeWalkResult};

use super::ROOT_FILE;

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("{dir} is not inside a git repository")]
    NotARepository { dir: PathBuf },
    #[error("`{rev}` is not a commit in {repo}: {message}")]
    UnknownRevision {
        rev: String,
        repo: String,
        message: String,
    },
    #[error("{repo}: {message}")]
    Git { repo: String, message: String },
    #[error("{path} is not in {rev}: the config repository did not exist at that revision")]
    NoConfigRepo { path: String, rev: String },
}

impl GitError {
    pub fn hint(&self) -> Option<String> {
        match self {
            GitError::NotARepository { .. } => {
                Some("--rev and --staged need a git repository (git init; git add; git commit)".into())
            }
            GitError::UnknownRevision { .. } => Some(
                "use a branch, tag or commit id (`git log --oneline` lists them), e.g. main, HEAD~1, origin/main".into(),
            ),
            _ => None,
        }
    }
}

/// Where files were read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Snapshot {
    /// A commit: its full id.
    Commit(String),
    /// The index (what `git commit` would record).
    Index,
}

/// The config repo's files at a revision: paths relative to the config root.
#[derive(Debug, Clone)]
pub struct Revision {
    pub snapshot: Snapshot,
    /// Every regular file, and every symbolic link to one of them (under the link's
    /// name, with its target's content).
    pub files: BTreeMap<String, Vec<u8>>,
    /// Symbolic links that lead to no file of the revision (outside the repository,
    /// or nowhere): reading must refuse them rather than leave them out.
    pub outside_links: Vec<String>,
}

impl Revision {
    /// How outputs name it: the commit id, or `index`.
    pub fn label(&self) -> String {
        match &self.snapshot {
            Snapshot::Commit(id) => id.clone(),
            Snapshot::Index => "index (staged changes)".into(),
        }
    }
}

/// The git repository around `root`, and `root` relative to its work tree (`""` when
/// they are the same, else `a/b/`).
fn open(root: &Path) -> Result<(Repository, String), GitError> {
    let repo = Repository::discover(root).map_err(|_| GitError::NotARepository {
        dir: root.to_path_buf(),
    })?;
    let workdir = repo
        .workdir()
        .ok_or_else(|| GitError::Git {
            repo: repo.path().display().to_string(),
            message: "a bare repository has no working tree to find the config in".into(),
        })?
        .to_path_buf();
    let canonical = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let prefix = canonical(root)
        .strip_prefix(canonical(&workdir))
        .map(|p| {
            p.components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .map(|c| c + "/")
                .collect::<String>()
        })
        .unwrap_or_default();
    Ok((repo, prefix))
}

/// How errors name a repository: its work tree (its git dir when bare).
fn repo_name(repo: &Repository) -> String {
    repo.workdir()
        .unwrap_or_else(|| repo.path())
        .display()
        .to_string()
}

fn git_error(repo: &Repository, e: git2::Error) -> GitError {
    GitError::Git {
        repo: repo_name(repo),
        message: e.message().to_owned(),
    }
}

/// Whether a path below the config root is one astbase reads (the same rule as the
/// working-tree walk: no hidden directories, no `target/`, no nested config repos).
fn skipped(rel: &str, nested_roots: &[String]) -> bool {
    let mut parts: Vec<&str> = rel.split('/').collect();
    parts.pop();
    parts.iter().any(|d| d.starts_with('.') || *d == "target")
        || nested_roots.iter().any(|n| rel.starts_with(n.as_str()))
}

/// Directories (below the root) that hold their own astbase.yaml: other config repos.
fn nested_roots<'a>(paths: impl Iterator<Item = &'a String>) -> Vec<String> {
    paths
        .filter_map(|p| p.strip_suffix(ROOT_FILE))
        .filter(|dir| !dir.is_empty() && dir.ends_with('/'))
        .map(str::to_owned)
        .collect()
}

fn keep(mut all: BTreeMap<String, Vec<u8>>) -> BTreeMap<String, Vec<u8>> {
    let nested = nested_roots(all.keys());
    all.retain(|rel, _| !skipped(rel, &nested));
    all
}

/// Reads the config repo at `root` as it is in commit `rev` (any revision git accepts:
/// `main`, `HEAD~1`, a tag, a commit id).
pub fn read_commit(root: &Path, rev: &str) -> Result<Revision, GitError> {
    let (repo, prefix) = open(root)?;
    let unknown = |e: git2::Error| GitError::UnknownRevision {
        rev: rev.to_owned(),
        repo: repo_name(&repo),
        message: e.message().to_owned(),
    };
    let commit = repo
        .revparse_single(rev)
        .and_then(|o| o.peel_to_commit())
        .map_err(unknown)?;
    let tree = commit.tree().map_err(|e| git_error(&repo, e))?;
    let tree = if prefix.is_empty() {
        tree
    } else {
        let entry = tree
            .get_path(Path::new(prefix.trim_end_matches('/')))
            .map_err(|_| GitError::NoConfigRepo {
                path: prefix.clone(),
                rev: rev.to_owned(),
            })?;
        repo.find_tree(entry.id())
            .map_err(|_| GitError::NoConfigRepo {
                path: prefix.clone(),
                rev: rev.to_owned(),
            })?
    };
    let mut files = BTreeMap::new();
    let mut links = Vec::new();
    let mut failure = None;
    tree.walk(TreeWalkMode::PreOrder, |dir, entry| {
        // Regular files and links (resolved below); submodules are not fleet files.
        let mode = entry.filemode() as u32;
        if entry.kind() != Some(ObjectType::Blob) || !(is_regular(mode) || is_link(mode)) {
            return TreeWalkResult::Ok;
        }
        let Some(name) = entry.name() else {
            return TreeWalkResult::Ok;
        };
        match repo.find_blob(entry.id()) {
            Ok(blob) => {
                let rel = format!("{dir}{name}");
                if is_link(mode) {
                    links.push((rel, String::from_utf8_lossy(blob.content()).into_owned()));
                } else {
                    files.insert(rel, blob.content().to_vec());
                }
                TreeWalkResult::Ok
            }
            Err(e) => {
                failure = Some(git_error(&repo, e));
                TreeWalkResult::Abort
            }
        }
    })
    .map_err(|e| git_error(&repo, e))?;
    if let Some(e) = failure {
        return Err(e);
    }
    if !files.contains_key(ROOT_FILE) {
        return Err(GitError::NoConfigRepo {
            path: format!("{prefix}{ROOT_FILE}"),
            rev: rev.to_owned(),
        });
    }
    let outside_links = resolve_links(&mut files, links);
    Ok(Revision {
        snapshot: Snapshot::Commit(commit.id().to_string()),
        files: keep(files),
        outside_links,
    })
}

/// `100644` or `100755`: a regular file in git's modes.
fn is_regular(mode: u32) -> bool {
    mode & 0o170000 == 0o100000
}

/// `120000`: a symbolic link, whose blob is the target path.
fn is_link(mode: u32) -> bool {
    mode & 0o170000 == 0o120000
}

/// Gives each link (repo-relative path, target as written) the content of the file it
/// leads to when that is a file of the revision, as the working tree would read it;
/// returns the links that lead elsewhere.
fn resolve_links(
    files: &mut BTreeMap<String, Vec<u8>>,
    links: Vec<(String, String)>,
) -> Vec<String> {
    let mut outside = Vec::new();
    for (rel, target) in links {
        let dir = rel.rsplit_once('/').map_or("", |(d, _)| d);
        let resolved = (!target.starts_with('/'))
            .then(|| super::normal_path(&format!("{dir}/{target}")))
            .filter(|p| !p.starts_with("../") && p != "..");
        match resolved.and_then(|p| files.get(&p).cloned()) {
            Some(content) => {
                files.insert(rel, content);
            }
            None => outside.push(rel),
        }
    }
    outside
}

/// Reads the config repo as staged in the index: what the next commit will contain.
/// Inside a hook, git may point `GIT_INDEX_FILE` at a temporary index (`git commit -a`,
/// `git commit PATH`): that one is what will be committed.
pub fn read_index(root: &Path) -> Result<Revision, GitError> {
    let (repo, prefix) = open(root)?;
    let index = match std::env::var_os("GIT_INDEX_FILE") {
        Some(file) => {
            let file = PathBuf::from(file);
            let file = if file.is_absolute() {
                file
            } else {
                repo.workdir().unwrap_or_else(|| repo.path()).join(file)
            };
            git2::Index::open(&file).map_err(|e| git_error(&repo, e))?
        }
        None => repo.index().map_err(|e| git_error(&repo, e))?,
    };
    let mut files = BTreeMap::new();
    let mut links = Vec::new();
    for entry in index.iter() {
        if !(is_regular(entry.mode) || is_link(entry.mode)) {
            continue;
        }
        let path = String::from_utf8_lossy(&entry.path).into_owned();
        let Some(rel) = path.strip_prefix(&prefix) else {
            continue;
        };
        let blob = repo.find_blob(entry.id).map_err(|e| git_error(&repo, e))?;
        if is_link(entry.mode) {
            links.push((
                rel.to_owned(),
                String::from_utf8_lossy(blob.content()).into_owned(),
            ));
        } else {
            files.insert(rel.to_owned(), blob.content().to_vec());
        }
    }
    if !files.contains_key(ROOT_FILE) {
        return Err(GitError::NoConfigRepo {
            path: format!("{prefix}{ROOT_FILE}"),
            rev: "the index".into(),
        });
    }
    let outside_links = resolve_links(&mut files, links);
    Ok(Revision {
        snapshot: Snapshot::Index,
        files: keep(files),
        outside_links,
    })
}

/// The working tree's relation to git, for labels and `--require-clean`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkTree {
    /// HEAD's commit id (none in a repository without commits).
    pub head: Option<String>,
    /// Files under the config root that differ from HEAD (modified, staged, untracked).
    pub changed: Vec<String>,
}

impl WorkTree {
    /// How outputs name the working tree: `<commit>` when clean, `<commit> + uncommitted
    /// changes` otherwise.
    pub fn label(&self) -> String {
        match (&self.head, self.changed.is_empty()) {
            (Some(id), true) => id.clone(),
            (Some(id), false) => format!("{id} + uncommitted changes"),
            (None, _) => "working tree (no commit yet)".into(),
        }
    }
}

/// The state of the working tree under `root`, or `None` outside git.
pub fn work_tree(root: &Path) -> Option<WorkTree> {
    let (repo, prefix) = open(root).ok()?;
    let head = repo
        .head()
        .ok()
        .and_then(|h| h.peel_to_commit().ok())
        .map(|c| c.id().to_string());
    let mut options = StatusOptions::new();
    options
        .include_untracked(true)
        .recurse_untracked_dirs(true)
        .include_ignored(false);
    if !prefix.is_empty() {
        options.pathspec(&prefix);
    }
    let changed = repo
        .statuses(Some(&mut options))
        .map(|statuses| {
            statuses
                .iter()
                .filter(|s| !s.status().is_empty() && !s.status().is_ignored())
                .filter_map(|s| s.path().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    Some(WorkTree { head, changed })
}

/// Where a repository's hooks live (`core.hooksPath` if set, else `.git/hooks`) and the
/// config root relative to the work tree (`""` or `a/b/`).
pub fn hooks_dir(root: &Path) -> Result<(PathBuf, String), GitError> {
    let (repo, prefix) = open(root)?;
    let configured = repo
        .config()
        .ok()
        .and_then(|c| c.get_path("core.hooksPath").ok());
    let dir = match configured {
        Some(p) if p.is_absolute() => p,
        Some(p) => repo.workdir().unwrap_or_else(|| repo.path()).join(p),
        // A linked worktree's own git dir has no hooks: git runs the common ones.
        None => repo.commondir().join("hooks"),
    };
    Ok((dir, prefix))
}

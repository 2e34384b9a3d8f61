//! The config repository as files: finding its root, listing its YAML files, reading
//! them into position-keeping trees.

mod discover;
pub mod git;
pub mod phonebook;
pub mod pointer;
pub mod yaml;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use globset::{Glob, GlobSet, GlobSetBuilder};

pub use discover::{read_repo, read_revision};
pub use phonebook::PhonebookFormat;
pub use pointer::{Pointer, Segment};
pub use yaml::{Node, Pos, Span, YamlError};

/// The file that marks a repo root.
pub const ROOT_FILE: &str = "astbase.yaml";
/// Largest YAML file read.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;
/// Default globs of fleet files.
pub const DEFAULT_FILES: [&str; 2] = ["**/*.yaml", "**/*.yml"];

/// Index of a file in [`Sources::files`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub usize);

/// Failures that stop before any file can be checked.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("no {ROOT_FILE} found in {start} or any parent directory")]
    RootNotFound { start: PathBuf },
    #[error("{dir} is not an astbase repository: it has no {ROOT_FILE}")]
    NotARepo { dir: PathBuf },
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is a symbolic link {why}")]
    Link { path: PathBuf, why: String },
    #[error("invalid glob `{glob}` in {ROOT_FILE}: {source}")]
    Glob {
        glob: String,
        #[source]
        source: globset::Error,
    },
}

impl SourceError {
    /// What the user can do about it.
    pub fn hint(&self) -> Option<String> {
        match self {
            SourceError::RootNotFound { .. } | SourceError::NotARepo { .. } => Some(format!(
                "run astbase inside a config repository, pass `--repo DIR`, or create an \
                 empty {ROOT_FILE} at the repository root"
            )),
            SourceError::Glob { .. } => {
                Some("fix the pattern under `project.files` or `project.exclude`".into())
            }
            SourceError::Io { .. } => None,
            SourceError::Link { .. } => Some(
                "a repo's files must be in the repo: replace the link with the file, or \
                 link to a file inside the repository"
                    .into(),
            ),
        }
    }
}

/// Finds the repo root: `dir` itself when given (it must hold `astbase.yaml`), otherwise
/// the nearest ancestor of `start` that holds one.
pub fn find_root(dir: Option<&Path>, start: &Path) -> Result<PathBuf, SourceError> {
    if let Some(dir) = dir {
        if dir.join(ROOT_FILE).is_file() {
            return Ok(dir.to_path_buf());
        }
        return Err(SourceError::NotARepo {
            dir: dir.to_path_buf(),
        });
    }
    start
        .ancestors()
        .find(|d| d.join(ROOT_FILE).is_file())
        .map(Path::to_path_buf)
        .ok_or_else(|| SourceError::RootNotFound {
            start: start.to_path_buf(),
        })
}

/// One file of the repo as read.
#[derive(Debug)]
pub struct SourceFile {
    /// Path relative to the repo root, with `/` separators (stable across machines).
    pub rel: String,
    /// Path as shown to the user (relative to the current directory when possible).
    pub display: String,
    /// The text (a lossy copy when the file is not valid UTF-8).
    pub text: String,
    /// What the file holds: fleet YAML, or a phonebook `project.phonebooks` names.
    pub format: Format,
    /// Byte offset of the start of each line, found when a line is first shown (most
    /// files never are, and a large fleet's offsets would be a third of its text's size).
    line_starts: OnceLock<Vec<u32>>,
    /// Why the file could not be read as text (size, encoding); parse errors are in
    /// [`Parsed`].
    read_error: Option<YamlError>,
    /// Where plaintext secrets are, found on first need. Trees are never kept: a large
    /// fleet's trees would cost many times the YAML's size, so validation parses each file
    /// once, and a file with something to report once more to locate it.
    secret_spans: OnceLock<Vec<Span>>,
}

/// What a file of the repo holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Phonebook(PhonebookFormat),
}

/// A file's parse: its tree, or why it has none, and where its plaintext secrets are.
#[derive(Debug)]
pub struct Parsed {
    pub tree: Option<Node>,
    pub error: Option<YamlError>,
    /// Where plaintext secrets are written, so no output ever shows them.
    pub secret_spans: Vec<Span>,
}

impl SourceFile {
    /// A file from its bytes; encoding errors are kept, not returned.
    pub fn from_bytes(rel: String, display: String, bytes: Vec<u8>) -> SourceFile {
        let (text, read_error) = match String::from_utf8(bytes) {
            Ok(text) => (text, None),
            Err(e) => {
                let bytes = e.as_bytes();
                let valid = e.utf8_error().valid_up_to();
                let before = String::from_utf8_lossy(&bytes[..valid]);
                let line = before.matches('\n').count() + 1;
                let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
                let error = YamlError {
                    span: Span::point(Pos { line, col }),
                    message: "file is not valid UTF-8".into(),
                    hint: Some("save the file as UTF-8".into()),
                    related: None,
                };
                // Keep a lossy copy so the diagnostic can still show the line.
                (String::from_utf8_lossy(bytes).into_owned(), Some(error))
            }
        };
        let text = match text.strip_prefix('\u{feff}') {
            Some(rest) => rest.to_owned(),
            None => text,
        };
        SourceFile {
            rel,
            display,
            line_starts: OnceLock::new(),
            text,
            format: Format::Yaml,
            read_error,
            secret_spans: OnceLock::new(),
        }
    }

    /// The same file read as a phonebook.
    pub fn as_phonebook(mut self, format: PhonebookFormat) -> SourceFile {
        self.format = Format::Phonebook(format);
        self
    }

    /// Why the file could not be read as text (its size or encoding).
    pub fn read_error(&self) -> Option<&YamlError> {
        self.read_error.as_ref()
    }

    /// Parses the file now, without keeping the result. A phonebook has no YAML tree
    /// and no secrets.
    pub fn parse(&self) -> Parsed {
        if self.format != Format::Yaml {
            return Parsed {
                tree: None,
                error: None,
                secret_spans: Vec::new(),
            };
        }
        let (tree, error) = match self.parse_tree() {
            Ok(tree) => (tree, None),
            Err(e) => (None, Some(e)),
        };
        let secret_spans = self.secret_spans_in(tree.as_ref());
        Parsed {
            tree,
            error,
            secret_spans,
        }
    }

    /// The YAML tree alone (`None` for an empty file), for a caller that finds secret
    /// spans only if it has something to show ([`SourceFile::secret_spans_in`]).
    pub fn parse_tree(&self) -> Result<Option<Node>, YamlError> {
        match &self.read_error {
            Some(e) => Err(e.clone()),
            None => yaml::parse(&self.text),
        }
    }

    /// Where plaintext secrets are in this file's tree; without one (the file did not
    /// parse), conservatively by line: anything after a secret-like key.
    pub fn secret_spans_in(&self, tree: Option<&Node>) -> Vec<Span> {
        match tree {
            Some(tree) => secret_spans(tree),
            None => secret_lines(&self.text),
        }
    }

    /// Where plaintext secrets are written (parses the file if nobody has yet).
    pub fn secret_spans(&self) -> &[Span] {
        self.secret_spans.get_or_init(|| self.parse().secret_spans)
    }

    /// Keeps the secret spans of a parse made elsewhere, so they are not parsed again.
    pub fn remember_secret_spans(&self, spans: Vec<Span>) {
        let _ = self.secret_spans.set(spans);
    }

    /// Sets the size error of a file too large to read.
    fn with_read_error(mut self, error: YamlError) -> SourceFile {
        self.read_error = Some(error);
        self
    }

    /// The text of a 1-based line, without its line break.
    pub fn line(&self, line: usize) -> Option<&str> {
        let starts = self.line_starts.get_or_init(|| line_starts(&self.text));
        let start = *starts.get(line.checked_sub(1)?)? as usize;
        let end = starts.get(line).map_or(self.text.len(), |&s| s as usize);
        Some(self.text[start..end].trim_end_matches(['\n', '\r']))
    }
}

/// Keys whose plain value is a secret.
pub const SECRET_KEYS: [&str; 4] = ["secret", "pin", "password", "passwd"];

fn secret_spans(tree: &Node) -> Vec<Span> {
    let mut spans = Vec::new();
    tree.walk_scalars(&mut |path, node, is_key| {
        if !is_key
            && let Some(yaml::PathStep::Key(k)) = path.last()
            && SECRET_KEYS.iter().any(|s| s.eq_ignore_ascii_case(k))
        {
            spans.push(node.span);
        }
    });
    spans
}

fn secret_lines(text: &str) -> Vec<Span> {
    let mut spans = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start().trim_start_matches("- ");
        if let Some((key, value)) = trimmed.split_once(':')
            && SECRET_KEYS.contains(&key.trim().to_ascii_lowercase().as_str())
            && !value.trim_start().starts_with('{')
        {
            let colon = line.find(':').map_or(0, |c| line[..c].chars().count());
            let end = line.chars().count();
            spans.push(Span {
                start: Pos {
                    line: i + 1,
                    col: colon + 2,
                },
                end: Pos {
                    line: i + 1,
                    col: end + 1,
                },
            });
        }
    }
    spans
}

/// Offsets fit in `u32`: files are at most `MAX_FILE_BYTES`.
const _: () = assert!(MAX_FILE_BYTES <= u32::MAX as u64);

fn line_starts(text: &str) -> Vec<u32> {
    std::iter::once(0)
        .chain(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i as u32 + 1))
        .collect()
}

/// Every YAML file of a repo, `astbase.yaml` first, then in path order.
#[derive(Debug, Default)]
pub struct Sources {
    pub root: PathBuf,
    pub files: Vec<SourceFile>,
}

impl Sources {
    pub fn file(&self, id: FileId) -> &SourceFile {
        &self.files[id.0]
    }

    pub fn ids(&self) -> impl Iterator<Item = FileId> + use<> {
        (0..self.files.len()).map(FileId)
    }

    /// Adds a file read elsewhere (a git blob, a test string).
    pub fn push(&mut self, file: SourceFile) -> FileId {
        self.files.push(file);
        FileId(self.files.len() - 1)
    }
}

/// Which files below the root belong to the fleet.
pub struct FileFilter {
    include: GlobSet,
    exclude: GlobSet,
}

impl FileFilter {
    pub fn new(files: &[String], exclude: &[String]) -> Result<FileFilter, SourceError> {
        fn build<'a>(globs: impl Iterator<Item = &'a str>) -> Result<GlobSet, SourceError> {
            let mut b = GlobSetBuilder::new();
            for g in globs {
                b.add(Glob::new(g).map_err(|source| SourceError::Glob {
                    glob: g.to_owned(),
                    source,
                })?);
            }
            b.build().map_err(|source| SourceError::Glob {
                glob: String::new(),
                source,
            })
        }
        let include = if files.is_empty() {
            build(DEFAULT_FILES.into_iter())?
        } else {
            build(files.iter().map(String::as_str))?
        };
        Ok(FileFilter {
            include,
            exclude: build(exclude.iter().map(String::as_str))?,
        })
    }

    pub fn accepts(&self, rel: &str) -> bool {
        self.include.is_match(rel) && !self.exclude.is_match(rel)
    }
}

/// Lists the fleet files below `root` (relative paths, sorted, `astbase.yaml` excluded).
/// Hidden directories, `target/` and nested repos (a directory with its own
/// `astbase.yaml`) are skipped.
pub fn list_files(root: &Path, filter: &FileFilter) -> Result<Vec<String>, SourceError> {
    let mut out = Vec::new();
    let walker = walkdir::WalkDir::new(root)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            if e.depth() == 0 || !e.file_type().is_dir() {
                return true;
            }
            let name = e.file_name().to_string_lossy();
            !(name.starts_with('.') || name == "target" || e.path().join(ROOT_FILE).is_file())
        });
    for entry in walker {
        let entry = entry.map_err(|e| SourceError::Io {
            path: e
                .path()
                .map_or_else(|| root.to_path_buf(), Path::to_path_buf),
            source: e
                .into_io_error()
                .unwrap_or_else(|| std::io::Error::other("walk failed")),
        })?;
        let Ok(rel) = entry.path().strip_prefix(root) else {
            continue;
        };
        let rel = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        if entry.path_is_symlink() {
            // Never skipped without a word: a file left out is entities removed from
            // the PBX at the next apply.
            check_link(root, entry.path(), &rel, filter)?;
        } else if !entry.file_type().is_file() {
            continue;
        }
        if rel != ROOT_FILE && filter.accepts(&rel) && !entry.file_type().is_dir() {
            out.push(rel);
        }
    }
    Ok(out)
}

/// A link among a repo's files is read when it is a link to a file inside the repo; a
/// link out of the repo, a broken one, or one to a directory whose files would count is
/// an error.
fn check_link(root: &Path, path: &Path, rel: &str, filter: &FileFilter) -> Result<(), SourceError> {
    let link = |why: &str| SourceError::Link {
        path: path.to_path_buf(),
        why: why.to_owned(),
    };
    let target = std::fs::canonicalize(path).map_err(|_| link("to nothing (broken)"))?;
    let inside = std::fs::canonicalize(root).is_ok_and(|r| target.starts_with(r));
    if target.is_dir() {
        return if filter.accepts(&format!("{rel}/x.yaml")) {
            Err(link("to a directory, which astbase does not follow"))
        } else {
            Ok(())
        };
    }
    if filter.accepts(rel) && !inside {
        return Err(link(&format!(
            "to {}, outside the repository",
            target.display()
        )));
    }
    Ok(())
}

/// A path spelled one way: no `.` components, no repeated or trailing `/`, `..` taken
/// lexically (`/etc/asterisk/`, `/etc//asterisk` and `/etc/x/../asterisk` are one place;
/// so are `hosts/pbx` and `./hosts/pbx`).
pub fn normal_path(path: &str) -> String {
    let absolute = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            ".." if absolute => {}
            p => parts.push(p),
        }
    }
    let joined = parts.join("/");
    if absolute {
        format!("/{joined}")
    } else {
        joined
    }
}

/// Reads one file of the repo; oversize files become a file-level error.
pub fn read_file(root: &Path, rel: &str, display: String) -> Result<SourceFile, SourceError> {
    let path = root.join(rel);
    let io = |source| SourceError::Io {
        path: path.clone(),
        source,
    };
    let len = std::fs::metadata(&path).map_err(io)?.len();
    if len > MAX_FILE_BYTES {
        return Ok(too_large(rel, display, len));
    }
    let bytes = std::fs::read(&path).map_err(io)?;
    Ok(SourceFile::from_bytes(rel.to_owned(), display, bytes))
}

/// A file read from git (a commit or the index); oversize files become a file-level error.
pub fn file_from_blob(rel: &str, display: String, bytes: &[u8]) -> SourceFile {
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return too_large(rel, display, bytes.len() as u64);
    }
    SourceFile::from_bytes(rel.to_owned(), display, bytes.to_vec())
}

fn too_large(rel: &str, display: String, len: u64) -> SourceFile {
    SourceFile::from_bytes(rel.to_owned(), display, Vec::new()).with_read_error(YamlError {
        span: Span::point(Pos { line: 1, col: 1 }),
        message: format!("file is {len} bytes, more than the {MAX_FILE_BYTES}-byte limit"),
        hint: Some("split the fleet into several files".into()),
        related: None,
    })
}

/// How to show a repo file's path: relative to the current directory when below it.
pub fn display_path(root: &Path, rel: &str) -> String {
    let full = root.join(rel);
    let shown = match std::env::current_dir() {
        Ok(cwd) => full
            .strip_prefix(&cwd)
            .map(Path::to_path_buf)
            .unwrap_or(full),
        Err(_) => full,
    };
    shown.to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::normal_path;

    #[test]
    fn paths_that_name_one_place_are_spelled_one_way() {
        assert_eq!(normal_path("/etc/asterisk/"), "/etc/asterisk");
        assert_eq!(normal_path("/etc//asterisk"), "/etc/asterisk");
        assert_eq!(normal_path("/etc/x/../asterisk"), "/etc/asterisk");
        assert_eq!(normal_path("./hosts/pbx"), "hosts/pbx");
        assert_eq!(normal_path("hosts/pbx/."), "hosts/pbx");
        assert_eq!(normal_path("/../etc"), "/etc");
        assert_eq!(normal_path("../a"), "../a");
    }
}

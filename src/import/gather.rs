//! Reading a server's Asterisk configuration for import: the files of the modules the
//! model covers and everything they include (`#include`, `#tryinclude`, globs), one
//! round trip per level of includes, read only.

use crate::conf::{self, ConfFile, DirectiveKind};
use crate::transport::{Host, TransportError};

/// The files Asterisk's modules read first, whose objects the model can express (or,
/// for `sip.conf`, must report).
pub const MODULE_FILES: [&str; 7] = [
    "pjsip.conf",
    "pjsip_wizard.conf",
    "extensions.conf",
    "voicemail.conf",
    "queues.conf",
    "musiconhold.conf",
    "sip.conf",
];

/// Includes nest at most this deep (Asterisk has no limit; a loop would never end).
const MAX_DEPTH: usize = 10;
/// More files than a PBX has; a glob matching more is a mistake worth stopping.
const MAX_FILES: usize = 2000;

/// One file read from the host.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// As shown to people: relative to the conf dir when inside it, else absolute.
    pub name: String,
    /// The path on the host.
    pub path: String,
    pub content: Content,
    /// SHA-256 of the bytes read, hex: the migration edits the file only if it is
    /// still what was imported.
    pub sha256: String,
    /// The module file it belongs to (`pjsip.conf` for itself and what it includes).
    pub module: String,
    /// The text as read (absent when not UTF-8).
    pub text: Option<String>,
}

#[derive(Debug, Clone)]
pub enum Content {
    Parsed(ConfFile),
    /// Not UTF-8: Asterisk would read it, but nothing in it can be imported safely.
    NotText,
}

/// Every file read, the module files first; includes point into the list.
#[derive(Debug, Clone, Default)]
pub struct ConfSet {
    pub conf_dir: String,
    pub files: Vec<SourceFile>,
    /// (file index, directive line) → the files it included, in order.
    pub includes: Vec<Include>,
    /// Includes that matched nothing (a `#include` Asterisk would complain about).
    pub missing: Vec<Missing>,
}

#[derive(Debug, Clone)]
pub struct Include {
    pub from: usize,
    pub line: usize,
    pub files: Vec<usize>,
}

#[derive(Debug, Clone)]
pub struct Missing {
    pub from: usize,
    pub line: usize,
    pub pattern: String,
    pub kind: DirectiveKind,
}

#[derive(Debug, thiserror::Error)]
pub enum GatherError {
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error("{host}: includes nest deeper than {MAX_DEPTH} levels below {file}")]
    TooDeep { host: String, file: String },
    #[error("{host}: the includes name more than {MAX_FILES} files")]
    TooMany { host: String },
}

impl ConfSet {
    /// The index of a file read by its name, e.g. `pjsip.conf`.
    pub fn module(&self, name: &str) -> Option<usize> {
        self.files.iter().position(|f| f.name == name)
    }

    /// The files a directive at `line` of file `from` included.
    pub fn included(&self, from: usize, line: usize) -> &[usize] {
        self.includes
            .iter()
            .find(|i| i.from == from && i.line == line)
            .map_or(&[], |i| i.files.as_slice())
    }
}

/// The directive that named a file: (file index, line, kind).
type IncludedBy = (usize, usize, DirectiveKind);

/// Reads the module files under `conf_dir` and what they include.
pub fn gather(host: &mut Host, conf_dir: &str) -> Result<ConfSet, GatherError> {
    let conf_dir = conf_dir.trim_end_matches('/').to_owned();
    let mut set = ConfSet {
        conf_dir: conf_dir.clone(),
        ..ConfSet::default()
    };
    // (pattern, from file, directive line, kind); the module files come from nowhere.
    let mut wanted: Vec<(String, Option<IncludedBy>)> = MODULE_FILES
        .iter()
        .map(|f| (format!("{conf_dir}/{f}"), None))
        .collect();
    for depth in 0..=MAX_DEPTH {
        if wanted.is_empty() {
            return Ok(set);
        }
        if depth == MAX_DEPTH {
            let file = wanted[0]
                .1
                .map_or(String::new(), |(f, _, _)| set.files[f].name.clone());
            return Err(GatherError::TooDeep {
                host: host.describe(),
                file,
            });
        }
        let patterns: Vec<String> = wanted.iter().map(|(p, _)| p.clone()).collect();
        let matches = host.read_matching(&patterns)?;
        let first_new = set.files.len();
        for ((pattern, from), found) in wanted.iter().zip(matches) {
            let mut indexes = Vec::new();
            for (path, bytes) in found {
                // A file included twice is read once; Asterisk would read it twice,
                // and the import reports its objects once.
                let index = match set.files.iter().position(|f| f.path == path) {
                    Some(i) => i,
                    None => {
                        let name = display_name(&conf_dir, &path);
                        let module = match from {
                            Some((f, _, _)) => set.files[*f].module.clone(),
                            None => name.clone(),
                        };
                        let text = String::from_utf8(bytes.clone()).ok();
                        set.files.push(SourceFile {
                            name,
                            sha256: hex_sha256(&bytes),
                            content: match &text {
                                Some(text) => Content::Parsed(conf::parse(text)),
                                None => Content::NotText,
                            },
                            module,
                            text,
                            path,
                        });
                        set.files.len() - 1
                    }
                };
                indexes.push(index);
            }
            if set.files.len() > MAX_FILES {
                return Err(GatherError::TooMany {
                    host: host.describe(),
                });
            }
            if let Some((file, line, kind)) = *from {
                if indexes.is_empty() {
                    set.missing.push(Missing {
                        from: file,
                        line,
                        pattern: pattern.clone(),
                        kind,
                    });
                }
                set.includes.push(Include {
                    from: file,
                    line,
                    files: indexes,
                });
            }
        }
        wanted = Vec::new();
        for index in first_new..set.files.len() {
            let Content::Parsed(parsed) = &set.files[index].content else {
                continue;
            };
            for d in &parsed.directives {
                if d.kind == DirectiveKind::Exec {
                    continue;
                }
                let argument = d
                    .argument
                    .trim()
                    .trim_matches(|c| c == '"' || c == '<' || c == '>');
                let pattern = if argument.starts_with('/') {
                    argument.to_owned()
                } else {
                    format!("{conf_dir}/{argument}")
                };
                wanted.push((pattern, Some((index, d.line, d.kind))));
            }
        }
    }
    Ok(set)
}

fn display_name(conf_dir: &str, path: &str) -> String {
    path.strip_prefix(conf_dir)
        .and_then(|p| p.strip_prefix('/'))
        .map_or_else(|| path.to_owned(), str::to_owned)
}

pub fn hex_sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

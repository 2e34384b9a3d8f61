//! What the repo says the agent should do on this server: `astbase_<suffix>.conf`, which
//! `astbase apply` writes into Asterisk's conf dir beside the `*_odoo.conf` files (with
//! the same backups, atomic switch and plan diffs). The librarian looks at it every
//! round and takes a change as soon as it sees one, so an apply needs no agent restart.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The settings the repo gives.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RepoSettings {
    /// The file they were read from (none: no file, so nothing is set).
    pub file: Option<PathBuf>,
    /// `[recordings] keep_days`.
    pub recordings_keep_days: Option<u32>,
    /// Lines of the file that could not be used, as `line N: why`.
    pub problems: Vec<String>,
}

/// Reads the settings file again when it appears, changes or goes.
pub struct Watcher {
    dir: PathBuf,
    /// The file seen last: its path, modification time, length and inode (apply
    /// replaces the file by a rename, so a new inode says it changed).
    seen: Option<(PathBuf, SystemTime, u64, u64)>,
}

impl Watcher {
    pub fn new(conf_dir: &Path) -> Watcher {
        Watcher {
            dir: conf_dir.to_path_buf(),
            seen: None,
        }
    }

    /// The settings now, when they may differ from the last call's (`None`: unchanged).
    /// The first call always reads.
    pub fn poll(&mut self, first: bool) -> Option<RepoSettings> {
        let found = settings_file(&self.dir).and_then(|path| {
            let meta = std::fs::metadata(&path).ok()?;
            Some((path, meta.modified().ok()?, meta.len(), meta.ino()))
        });
        if !first && found == self.seen {
            return None;
        }
        self.seen = found.clone();
        Some(match found {
            None => RepoSettings::default(),
            Some((path, ..)) => read(&path),
        })
    }
}

/// `astbase_*.conf` in the conf dir (the suffix is the repo's); the first by name when,
/// oddly, there are several.
fn settings_file(dir: &Path) -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("astbase_") && n.ends_with(".conf"))
        })
        .collect();
    found.sort();
    found.into_iter().next()
}

/// Reads one settings file (a file that cannot be read sets nothing, and says why).
pub fn read(path: &Path) -> RepoSettings {
    let mut settings = RepoSettings {
        file: Some(path.to_path_buf()),
        ..RepoSettings::default()
    };
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => {
            settings.problems.push(format!("cannot read it: {e}"));
            return settings;
        }
    };
    let conf = crate::conf::parse(&text);
    for section in conf.sections.iter().filter(|s| s.name == "recordings") {
        for var in section.vars.iter().filter(|v| v.key == "keep_days") {
            match var.value.parse::<u32>() {
                Ok(days) if days > 0 => settings.recordings_keep_days = Some(days),
                _ => settings.problems.push(format!(
                    "line {}: keep_days = {:?} is not a number of days",
                    var.line, var.value
                )),
            }
        }
    }
    settings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rendered_file_sets_the_retention_and_a_change_is_seen_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut watcher = Watcher::new(dir.path());
        assert_eq!(watcher.poll(true), Some(RepoSettings::default()));
        assert_eq!(watcher.poll(false), None);
        let file = dir.path().join("astbase_odoo.conf");
        std::fs::write(&file, "; header\n\n[recordings]\nkeep_days = 90\n").unwrap();
        let read = watcher.poll(false).unwrap();
        assert_eq!(read.recordings_keep_days, Some(90));
        assert_eq!(read.file.as_deref(), Some(file.as_path()));
        assert_eq!(watcher.poll(false), None);
        std::fs::write(&file, "[recordings]\nkeep_days = 7x\n").unwrap();
        let read = watcher.poll(false).unwrap();
        assert_eq!(read.recordings_keep_days, None);
        assert_eq!(
            read.problems,
            ["line 2: keep_days = \"7x\" is not a number of days"]
        );
        std::fs::remove_file(&file).unwrap();
        assert_eq!(watcher.poll(false), Some(RepoSettings::default()));
    }
}

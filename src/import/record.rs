//! The migration record: exactly which lines of which base files an import took, so
//! that the first apply after it removes them there (and nothing else), and only while
//! each file is still what was imported.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::gather::ConfSet;
use super::objects::Assembled;
use super::report::{Outcome, Report};

/// Where migration records live in the repository (`<server>.json`).
pub const MIGRATIONS_DIR: &str = ".astbase/migrations";

/// The record of `server` under the repository root.
pub fn record_path(root: &std::path::Path, server: &str) -> std::path::PathBuf {
    root.join(MIGRATIONS_DIR).join(format!("{server}.json"))
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Migration {
    /// What this file is, for whoever opens it.
    #[serde(default)]
    pub note: String,
    pub server: String,
    /// `pending` until an apply has removed the lines, then `done`.
    pub status: MigrationStatus,
    pub files: Vec<FileRemoval>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MigrationStatus {
    Pending,
    Done,
}

/// The lines to remove from one base file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRemoval {
    /// Path on the host.
    pub path: String,
    /// The module it belongs to (`voicemail.conf`), for masking its secrets in diffs.
    pub module: String,
    /// SHA-256 of the file when it was imported.
    pub sha256: String,
    /// SHA-256 of the file without the lines: how a plan knows the migration happened.
    pub after_sha256: String,
    /// Line ranges, first and last line inclusive, in order, not overlapping.
    pub lines: Vec<[usize; 2]>,
}

/// The migration of an import: every line imported or kept raw, the headers of
/// sections left empty by that, and templates only imported objects used.
pub fn migration(
    set: &ConfSet,
    report: &Report,
    modules: &[&Assembled],
    server: &str,
) -> Migration {
    let mut lines: BTreeMap<usize, BTreeSet<usize>> = BTreeMap::new();
    let taken: BTreeSet<_> = report
        .entries
        .iter()
        .filter(|e| matches!(e.outcome, Outcome::Imported | Outcome::Raw))
        .flat_map(|e| e.origins.iter().copied())
        .collect();
    for o in &taken {
        lines
            .entry(o.file)
            .or_default()
            .extend(o.first_line..=o.last_line);
    }
    for module in modules {
        for t in &module.templates {
            let users: Vec<_> = module
                .objects
                .iter()
                .filter(|o| o.templates.contains(&t.name))
                .collect();
            if !users.is_empty() && users.iter().all(|u| taken.contains(&u.origin())) {
                for o in &t.origins {
                    lines
                        .entry(o.file)
                        .or_default()
                        .extend(o.first_line..=o.last_line);
                }
            }
        }
        // A section whose every line is taken goes with its header.
        for object in &module.objects {
            let own =
                |file: usize, line: usize| lines.get(&file).is_some_and(|l| l.contains(&line));
            let all_taken = object.origins.iter().all(|origin| {
                object
                    .settings
                    .iter()
                    .filter(|s| {
                        s.file == origin.file
                            && (origin.first_line..=origin.last_line).contains(&s.line)
                    })
                    .all(|s| own(s.file, s.line))
            });
            let any_taken = object.settings.iter().any(|s| own(s.file, s.line));
            if all_taken && any_taken {
                for origin in &object.origins {
                    lines
                        .entry(origin.file)
                        .or_default()
                        .extend(origin.first_line..=origin.last_line);
                }
            }
        }
    }
    let files = lines
        .into_iter()
        .map(|(file, set_lines)| {
            let mut ranges: Vec<[usize; 2]> = Vec::new();
            for line in set_lines {
                match ranges.last_mut() {
                    Some(r) if r[1] + 1 == line => r[1] = line,
                    _ => ranges.push([line, line]),
                }
            }
            let f = &set.files[file];
            let after = without_lines(f.text.as_deref().unwrap_or(""), &ranges);
            FileRemoval {
                path: f.path.clone(),
                module: f.module.clone(),
                sha256: f.sha256.clone(),
                after_sha256: super::gather::hex_sha256(after.as_bytes()),
                lines: ranges,
            }
        })
        .collect();
    Migration {
        note: format!(
            "Lines `astbase import` took from the base files of {server}: the first apply \
             removes them there (after a backup), then marks this record done."
        ),
        server: server.to_owned(),
        status: MigrationStatus::Pending,
        files,
    }
}

impl Migration {
    /// The record as the repository keeps it.
    pub fn json(&self) -> String {
        let pretty = serde_json::to_string_pretty(self).expect("a record serializes");
        // Each line range on one line (`[3, 20]`): a record stays readable in a diff.
        let mut text = String::with_capacity(pretty.len());
        let mut lines = pretty.lines().peekable();
        while let Some(line) = lines.next() {
            let pair = line.trim_end().ends_with('[')
                && lines
                    .peek()
                    .is_some_and(|l| l.trim().trim_end_matches(',').parse::<usize>().is_ok());
            if !pair {
                text.push_str(line);
                text.push('\n');
                continue;
            }
            let first = lines
                .next()
                .unwrap_or_default()
                .trim()
                .trim_end_matches(',')
                .to_owned();
            let second = lines.next().unwrap_or_default().trim().to_owned();
            let close = lines.next().unwrap_or_default().trim().to_owned();
            text.push_str(&format!("{}{first}, {second}{}\n", line.trim_end(), close));
        }
        text
    }

    pub fn parse(text: &str) -> Result<Migration, serde_json::Error> {
        serde_json::from_str(text)
    }
}

/// The text without the lines of `ranges` (1-based, inclusive): what the migration
/// leaves of a base file. Lines keep their endings; nothing else changes.
pub fn without_lines(text: &str, ranges: &[[usize; 2]]) -> String {
    text.split_inclusive('\n')
        .enumerate()
        .filter(|(i, _)| !ranges.iter().any(|[a, b]| (*a..=*b).contains(&(i + 1))))
        .map(|(_, l)| l)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_reads_back_as_written_with_each_range_on_one_line() {
        let record = Migration {
            note: "n".into(),
            server: "office".into(),
            status: MigrationStatus::Pending,
            files: vec![FileRemoval {
                path: "/etc/asterisk/pjsip.conf".into(),
                module: "pjsip.conf".into(),
                sha256: "a".into(),
                after_sha256: "b".into(),
                lines: vec![[2, 5], [7, 20]],
            }],
        };
        let text = record.json();
        assert!(
            text.contains("      \"lines\": [\n        [2, 5],\n        [7, 20]\n      ]\n"),
            "{text}"
        );
        assert_eq!(Migration::parse(&text).unwrap(), record);
    }

    #[test]
    fn the_migration_removes_exactly_the_recorded_lines() {
        let text = "[general]\nstatic=yes\n\n[101]\ntype=endpoint\n\n[102]\ntype=endpoint";
        assert_eq!(
            without_lines(text, &[[4, 5], [7, 8]]),
            "[general]\nstatic=yes\n\n\n"
        );
    }
}

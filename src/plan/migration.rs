//! The one time astbase edits a base file beyond its include line: after an import,
//! the first apply removes from the base files exactly the lines the import took (its
//! migration record), so that Asterisk does not read the same objects twice. Only
//! while each file is still what was imported; a plan refuses otherwise.

use serde::{Deserialize, Serialize};

use crate::import::record::{Migration, without_lines};
use crate::render::ConfKind;
use crate::textdiff::hash;

/// The removal a plan makes from one base file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct BaseEdit {
    /// The base file, relative to the conf dir.
    pub base: String,
    /// The module it belongs to (`pjsip.conf`), whose reload takes it.
    pub module: String,
    /// sha256 of the file now (what the import read).
    pub before: String,
    /// Line ranges removed, first and last inclusive.
    pub lines: Vec<[usize; 2]>,
    /// Unified diff, secrets masked.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub diff: String,
}

impl BaseEdit {
    /// How many lines go.
    pub fn removed(&self) -> usize {
        self.lines.iter().map(|[a, b]| b + 1 - a).sum()
    }

    /// The file's text after the edit.
    pub fn apply(&self, text: &str) -> String {
        without_lines(text, &self.lines)
    }

    pub fn kind(&self) -> Option<ConfKind> {
        // The wizard's objects are PJSIP's: res_pjsip's reload reads its file again.
        if self.module == "pjsip_wizard.conf" {
            return Some(ConfKind::Pjsip);
        }
        ConfKind::ALL
            .iter()
            .copied()
            .find(|k| k.base_file() == Some(self.module.as_str()))
    }
}

/// A pending migration record, as a plan carries it out.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct MigrationPlan {
    /// The record, relative to the repository root.
    pub record: String,
    /// The edits still to make; none when the host already has them all (an apply
    /// made them; the record is marked done by the next apply).
    pub edits: Vec<BaseEdit>,
}

/// Why a pending migration cannot be carried out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MigrationError {
    #[error(
        "{base} is outside the conf dir {conf_dir}: remove the lines the record {record} lists by hand, then mark it done"
    )]
    Outside {
        base: String,
        conf_dir: String,
        record: String,
    },
    #[error(
        "{base} is gone since the import (record {record}): import the server again (`astbase import --overwrite`)"
    )]
    Gone { base: String, record: String },
    #[error(
        "{base} changed on the host since the import (record {record}): the imported lines cannot be removed safely; \
         import the server again (`astbase import --overwrite`), or undo the change"
    )]
    Changed { base: String, record: String },
}

/// The server's migration record when one is pending, with its path in the repo.
pub fn pending(
    root: &std::path::Path,
    server: &str,
) -> Result<Option<(Migration, String)>, super::PlanError> {
    use crate::import::record::{self, MigrationStatus};
    let path = record::record_path(root, server);
    let label = format!("{}/{server}.json", record::MIGRATIONS_DIR);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(super::PlanError::Record {
                record: label,
                message: e.to_string(),
            });
        }
    };
    let migration = Migration::parse(&text).map_err(|e| super::PlanError::Record {
        record: label.clone(),
        message: e.to_string(),
    })?;
    Ok(
        (migration.status == MigrationStatus::Pending && migration.server == server)
            .then_some((migration, label)),
    )
}

/// The paths a migration reads, in the order [`plan`] wants their contents.
pub fn paths(migration: &Migration) -> Vec<String> {
    migration.files.iter().map(|f| f.path.clone()).collect()
}

/// Plans the pending `migration` (`record`: its path in the repo) against the base
/// files' current contents, in [`paths`] order.
pub fn plan(
    migration: &Migration,
    record: &str,
    conf_dir: &str,
    current: &[Option<Vec<u8>>],
) -> Result<MigrationPlan, MigrationError> {
    let mut edits = Vec::new();
    for (file, now) in migration.files.iter().zip(current) {
        let base = file
            .path
            .strip_prefix(conf_dir)
            .and_then(|p| p.strip_prefix('/'))
            .ok_or_else(|| MigrationError::Outside {
                base: file.path.clone(),
                conf_dir: conf_dir.to_owned(),
                record: record.to_owned(),
            })?
            .to_owned();
        let Some(now) = now else {
            return Err(MigrationError::Gone {
                base,
                record: record.to_owned(),
            });
        };
        let text = String::from_utf8_lossy(now);
        if hash(now) != file.sha256 {
            // Already migrated: what is left is the migrated text, maybe with the include
            // lines the same apply appended.
            let mut lines: Vec<&str> = text.split_inclusive('\n').collect();
            while lines.last().is_some_and(|l| is_astbase_include(l)) {
                lines.pop();
            }
            let without_includes: String = lines.concat();
            if hash(text.as_bytes()) == file.after_sha256
                || hash(without_includes.as_bytes()) == file.after_sha256
            {
                continue;
            }
            return Err(MigrationError::Changed {
                base,
                record: record.to_owned(),
            });
        }
        let mut edit = BaseEdit {
            base: base.clone(),
            module: file.module.clone(),
            before: file.sha256.clone(),
            lines: file.lines.clone(),
            diff: String::new(),
        };
        let after = edit.apply(&text);
        let masked_as = masking_name(&file.module);
        edit.diff = crate::textdiff::unified(&base, &text, &after, |l| {
            super::diff::mask_line(&masked_as, l)
        });
        edits.push(edit);
    }
    Ok(MigrationPlan {
        record: record.to_owned(),
        edits,
    })
}

/// A line astbase appends at the end of a base file: `#tryinclude pjsip_odoo.conf`.
fn is_astbase_include(line: &str) -> bool {
    let line = line.trim();
    line.starts_with("#tryinclude ") || line.starts_with("#include ")
}

/// The generated file of the module, whose masking rules fit its base files too.
fn masking_name(module: &str) -> String {
    ConfKind::ALL
        .iter()
        .find(|k| k.base_file() == Some(module))
        .map_or_else(|| module.to_owned(), |k| k.file_name("odoo"))
}

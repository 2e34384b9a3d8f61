//! A plan saved with `plan --out FILE` and read back by `apply FILE`: its own type,
//! holding only what the file holds (hashes, not contents: a saved plan never contains a
//! secret). `apply` makes a fresh plan and applies it only when it is the same as the
//! saved one, so a saved plan can never be applied with missing content.

use serde::Deserialize;

use super::{IncludePlan, MigrationPlan, Plan, ServerPlan};

/// What `apply FILE` reads back.
#[derive(Debug, Clone, Deserialize)]
pub struct SavedPlan {
    pub astbase_version: String,
    pub source: String,
    pub servers: Vec<SavedServer>,
}

/// One server of a saved plan.
#[derive(Debug, Clone, Deserialize)]
pub struct SavedServer {
    pub server: String,
    pub files: Vec<SavedFile>,
    pub includes: Vec<IncludePlan>,
    #[serde(default)]
    pub migration: Option<MigrationPlan>,
    #[serde(default)]
    pub firewall: Option<SavedFirewall>,
}

/// One generated file of a saved plan: its hashes before and after.
#[derive(Debug, Clone, Deserialize)]
pub struct SavedFile {
    pub name: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// A saved plan's firewall: the hash of what it asked for.
#[derive(Debug, Clone, Deserialize)]
pub struct SavedFirewall {
    pub hash: String,
}

/// Why a saved plan no longer describes what an apply would do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StalePlan {
    #[error("server `{0}` is not in scope now")]
    OutOfScope(String),
    #[error("the repository now renders different files for `{0}`")]
    Rendered(String),
    #[error("the repository now asks for a different firewall on `{0}`")]
    Firewall(String),
    #[error("files on `{0}` changed since the plan was made")]
    Host(String),
}

impl SavedPlan {
    /// Parses a saved plan file.
    pub fn parse(text: &str) -> Result<SavedPlan, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// Whether `now`, a fresh plan of the same scope, is what this plan saw: the repo
    /// renders the same files and firewall, and each host still has what it had.
    pub fn check_against(&self, now: &Plan) -> Result<(), StalePlan> {
        for old in &self.servers {
            let Some(new) = now.servers.iter().find(|s| s.server == old.server) else {
                return Err(StalePlan::OutOfScope(old.server.clone()));
            };
            old.check_against(new)?;
        }
        Ok(())
    }
}

impl SavedServer {
    fn check_against(&self, new: &ServerPlan) -> Result<(), StalePlan> {
        let stale = |kind: fn(String) -> StalePlan| Err(kind(self.server.clone()));
        let rendered_now = new.files.iter().map(|f| (&f.name, &f.after));
        if self
            .files
            .iter()
            .map(|f| (&f.name, &f.after))
            .ne(rendered_now)
        {
            return stale(StalePlan::Rendered);
        }
        let firewall_now = new.firewall.as_ref().map(|f| &f.hash);
        if self.firewall.as_ref().map(|f| &f.hash) != firewall_now {
            return stale(StalePlan::Firewall);
        }
        let host_now = new.files.iter().map(|f| &f.before);
        if self.files.iter().map(|f| &f.before).ne(host_now)
            || self.includes != new.includes
            || self.migration != new.migration
        {
            return stale(StalePlan::Host);
        }
        Ok(())
    }
}

//! The blast radius of a server's plan: how many configuration objects (the sections of
//! the generated files: endpoints, auths, AORs, queues, contexts, mailboxes) it adds,
//! changes and removes, and whether that is over the server's limits.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::FilePlan;
use crate::model::rollout::{Limits, MIN_OBJECTS_LIMITED};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct BlastRadius {
    /// Objects on the host before.
    pub objects: usize,
    pub added: usize,
    pub changed: usize,
    pub removed: usize,
}

/// Each object of a file: (section name, its `type=`) -> its settings in order.
fn objects(text: &str) -> BTreeMap<(String, String), Vec<(String, String)>> {
    let mut out = BTreeMap::new();
    for s in crate::conf::parse(text).sections {
        let kind = s.get("type").unwrap_or("").to_owned();
        let vars = s.vars.into_iter().map(|v| (v.key, v.value)).collect();
        out.insert((s.name, kind), vars);
    }
    out
}

/// Measures what the files of a plan do to the host's objects.
pub fn measure(files: &[FilePlan]) -> BlastRadius {
    let mut b = BlastRadius::default();
    for f in files {
        let before = f.previous.as_deref().map(objects).unwrap_or_default();
        // A file to remove (no content) takes its objects with it; an unchanged one
        // keeps them.
        let after = match (&f.content, f.action) {
            (_, super::Action::Unchanged) => before.clone(),
            (Some(c), _) => objects(c),
            (None, _) => BTreeMap::new(),
        };
        b.objects += before.len();
        for (key, vars) in &before {
            match after.get(key) {
                None => b.removed += 1,
                Some(v) if v != vars => b.changed += 1,
                Some(_) => {}
            }
        }
        b.added += after.keys().filter(|k| !before.contains_key(*k)).count();
    }
    b
}

impl BlastRadius {
    /// Why the plan is over the limits, naming the limit and the numbers.
    pub fn over(&self, limits: Limits) -> Option<String> {
        if self.objects < MIN_OBJECTS_LIMITED {
            return None;
        }
        let percent = |n: usize| n * 100 / self.objects;
        let removed = percent(self.removed);
        if limits.max_remove_percent > 0 && removed > limits.max_remove_percent as usize {
            return Some(format!(
                "removes {} of {} configuration objects ({removed}%), over max_remove_percent {}",
                self.removed, self.objects, limits.max_remove_percent
            ));
        }
        let touched = percent(self.removed + self.changed);
        if limits.max_change_percent > 0 && touched > limits.max_change_percent as usize {
            return Some(format!(
                "changes or removes {} of {} configuration objects ({touched}%), over max_change_percent {}",
                self.removed + self.changed,
                self.objects,
                limits.max_change_percent
            ));
        }
        None
    }
}

impl std::fmt::Display for BlastRadius {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} objects: {} added, {} changed, {} removed",
            self.objects, self.added, self.changed, self.removed
        )
    }
}

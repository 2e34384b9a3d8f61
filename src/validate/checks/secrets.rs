//! Secrets: plaintext in the repo (one warning per file that holds any), and `{file:}`
//! references that would read outside the repository.

use std::collections::HashMap;
use std::path::{Component, Path};

use crate::diagnostics::{Diagnostic, quote};
use crate::model::Origin;
use crate::model::secret::Secret;

use super::Checker;

impl<'a> Checker<'a> {
    /// Every secret of the fleet with the place it was written.
    fn secrets(&self) -> impl Iterator<Item = (Origin, &'a Secret)> {
        let f = self.fleet;
        f.extensions
            .iter()
            .flat_map(|e| {
                let mut v = vec![(e.origin.field("secret"), &e.secret)];
                if let Some(vm) = &e.voicemail {
                    v.push((e.origin.field("voicemail").field("pin"), &vm.pin));
                }
                v
            })
            .chain(
                f.trunks
                    .iter()
                    .filter_map(|t| t.secret.as_ref().map(|s| (t.origin.field("secret"), s))),
            )
            .chain(f.conferences.iter().flat_map(|c| {
                [("pin", &c.pin), ("admin_pin", &c.admin_pin)]
                    .into_iter()
                    .filter_map(|(field, pin)| pin.as_ref().map(|p| (c.origin.field(field), p)))
            }))
    }

    /// One warning per file, so a demo repo full of plaintext secrets stays readable.
    pub(super) fn plaintext_secrets(&mut self) {
        let mut per_file: HashMap<crate::source::FileId, Vec<Origin>> = HashMap::new();
        for (origin, secret) in self.secrets() {
            if secret.is_plain() {
                per_file.entry(origin.file).or_default().push(origin);
            }
        }
        let mut files: Vec<_> = per_file.into_iter().collect();
        files.sort_by_key(|(file, _)| *file);
        for (_, origins) in files {
            let first = self.loc.value(&origins[0]);
            let message = if origins.len() == 1 {
                "plaintext secret in the repository".to_owned()
            } else {
                format!("{} plaintext secrets in this file", origins.len())
            };
            let mut d = Diagnostic::warning("plaintext-secret", message).at(first).hint(
                "anyone with the repo can read it; write `{env: NAME}` or `{file: path}` and keep the value out of git",
            );
            for o in &origins[1..] {
                d = d.related(self.loc.value(o), "also plaintext");
            }
            self.out.push(d);
        }
    }
}

impl<'a> Checker<'a> {
    /// A `{file:}` secret is read relative to the repository root and must stay inside
    /// it: otherwise a change to the repo could copy any file the operator can read (an
    /// SSH key, `/etc/shadow`) into a PBX's configuration. Links leading outside are
    /// refused when the file is read (render).
    pub(super) fn secret_files(&mut self) {
        let outside: Vec<(Origin, String)> = self
            .secrets()
            .filter_map(|(origin, secret)| match secret {
                Secret::File(f) => leaves_repo(&f.file).map(|why| (origin.field("file"), why)),
                _ => None,
            })
            .collect();
        for (origin, why) in outside {
            self.error(
                "outside-repo",
                self.loc.value(&origin),
                why,
                "keep the file inside the repository and out of git (e.g. `secrets/provider` \
                 with `secrets/` in .gitignore), or pass the value as `{env: NAME}`",
            );
        }
    }
}

/// Why a `{file:}` path would be read outside the repository, if it would.
pub(crate) fn leaves_repo(path: &str) -> Option<String> {
    let p = Path::new(path);
    if p.is_absolute() || path.starts_with('~') {
        return Some(format!(
            "secret file {} is outside the repository (paths are relative to the repo root)",
            quote(path)
        ));
    }
    let mut depth = 0usize;
    for part in p.components() {
        match part {
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            Component::ParentDir if depth > 0 => depth -= 1,
            _ => {
                return Some(format!(
                    "secret file {} climbs out of the repository with `..`",
                    quote(path)
                ));
            }
        }
    }
    None
}

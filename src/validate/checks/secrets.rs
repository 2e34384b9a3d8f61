//! Plaintext secrets in the repo: one warning per file that holds any.

use std::collections::HashMap;

use crate::diagnostics::Diagnostic;
use crate::model::Origin;

use super::Checker;

impl<'a> Checker<'a> {
    /// One warning per file, so a demo repo full of plaintext secrets stays readable.
    pub(super) fn plaintext_secrets(&mut self) {
        let mut per_file: HashMap<crate::source::FileId, Vec<Origin>> = HashMap::new();
        let f = self.fleet;
        let secrets = f
            .extensions
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
            );
        for (origin, secret) in secrets {
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

//! Feature codes: every code a phone can dial (`*97`, time frame overrides) is one
//! thing, and an override code is only worth having where something asks its time frame.

use std::collections::HashMap;

use crate::diagnostics::Diagnostic;
use crate::model::{Origin, Target};

use super::Checker;

/// The code of the caller's own mailbox, built into every server's `<prefix>-features`.
pub(crate) const VOICEMAIL_MAIN: &str = "*97";

impl<'a> Checker<'a> {
    pub(super) fn feature_codes(&mut self) {
        let mut seen: HashMap<&str, (&str, &Origin)> = HashMap::new();
        for t in &self.fleet.timeframes {
            let Some(code) = &t.override_code else {
                continue;
            };
            let at = t.origin.field("override_code");
            if code.as_str() == VOICEMAIL_MAIN {
                self.error(
                    "duplicate-feature-code",
                    self.loc.value(&at),
                    format!("{code} is the voicemail code of every server"),
                    "pick another code, e.g. \"*2701\"",
                );
                continue;
            }
            match seen.get(code.as_str()) {
                None => {
                    seen.insert(code.as_str(), (t.name.as_str(), &t.origin));
                }
                Some((first, first_origin)) => {
                    let d = Diagnostic::error(
                        "duplicate-feature-code",
                        format!(
                            "override code {code} of time frame `{}` is already the override code of `{first}`",
                            t.name
                        ),
                    )
                    .at(self.loc.value(&at))
                    .related(
                        self.loc.value(&first_origin.field("override_code")),
                        "first used here",
                    )
                    .hint("give each time frame its own code");
                    self.out.push(d);
                }
            }
            if !self.timeframe_is_asked(t.name.as_str()) {
                self.warning(
                    "unused-setting",
                    self.loc.key(&at),
                    format!(
                        "no menu or schedule uses time frame `{}`, so its override code is on no server",
                        t.name
                    ),
                    "use the time frame in a `{schedule: ...}` destination or a menu's `timeframe:`",
                );
            }
        }
    }

    /// Whether a menu or a schedule destination anywhere asks this time frame.
    fn timeframe_is_asked(&self, name: &str) -> bool {
        let f = self.fleet;
        if f.menus
            .iter()
            .any(|m| m.timeframe.as_ref().is_some_and(|t| t.as_str() == name))
        {
            return true;
        }
        crate::model::index::by_server(f).values().any(|e| {
            e.targets()
                .iter()
                .any(|t| matches!(t, Target::Schedule(s) if s.timeframe.as_str() == name))
        })
    }
}

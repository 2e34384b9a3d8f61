//! Feature codes: on each server, every code a phone can dial (the feature codes, each
//! extension's do-not-disturb BLF code, the override codes of the time frames it asks)
//! reaches one thing; and an override code is only worth having where something asks
//! its time frame.

use std::collections::HashMap;

use crate::diagnostics::Diagnostic;
use crate::model::features::Feature;
use crate::model::index::{ServerEntities, by_server};
use crate::model::{Origin, Target};

use super::Checker;

/// One dialable code and what it reaches, for messages.
struct Code {
    code: String,
    what: String,
    at: Origin,
}

impl<'a> Checker<'a> {
    pub(super) fn feature_codes(&mut self) {
        let index = by_server(self.fleet);
        let empty = ServerEntities::default();
        for server in &self.fleet.servers {
            let entities = index.get(server.name.as_str()).unwrap_or(&empty);
            let codes = self.codes_of(server, entities);
            let mut seen: HashMap<&str, &Code> = HashMap::new();
            for c in &codes {
                let Some(first) = seen.get(c.code.as_str()) else {
                    seen.insert(c.code.as_str(), c);
                    continue;
                };
                let d = Diagnostic::error(
                    "duplicate-feature-code",
                    format!(
                        "{} on server `{}` is both {} and {}",
                        c.code, server.name, first.what, c.what
                    ),
                )
                .at(self.loc.value(&c.at))
                .related(self.loc.value(&first.at), "first used here")
                .hint("give each its own code, or turn the feature off with `false`");
                self.out.push(d);
            }
        }
        for t in &self.fleet.timeframes {
            if t.override_code.is_some() && !self.timeframe_is_asked(&index, t.name.as_str()) {
                self.warning(
                    "unused-setting",
                    self.loc.key(&t.origin.field("override_code")),
                    format!(
                        "no menu or schedule uses time frame `{}`, so its override code is on no server",
                        t.name
                    ),
                    "use the time frame in a `{schedule: ...}` destination or a menu's `timeframe:`",
                );
            }
        }
    }

    /// The codes phones of `server` can dial, in the order they are defined: a default
    /// code is placed at the server's name.
    fn codes_of(
        &self,
        server: &crate::model::Sourced<crate::model::Server>,
        entities: &ServerEntities,
    ) -> Vec<Code> {
        let project = &self.fleet.project;
        let resolved = server.codes(project);
        let mut out = Vec::new();
        for (f, code) in &resolved.codes {
            let (at, default) = if server.feature_codes.get(*f).is_some() {
                (server.origin.field("feature_codes").field(f.key()), "")
            } else if let (Some(_), Some(p)) =
                (project.feature_codes.get(*f), &self.fleet.project_origin)
            {
                (p.field("feature_codes").field(f.key()), "")
            } else {
                (server.origin.field("name"), ", by default")
            };
            out.push(Code {
                code: code.to_string(),
                what: format!("`{}` ({}{default})", f.key(), f.what()),
                at,
            });
        }
        if let Some(toggle) = resolved.code(Feature::DndToggle) {
            // Two extensions with one number are reported as such, not as their keys.
            let mut numbers = std::collections::HashSet::new();
            for e in entities.extensions.iter().filter(|e| e.enabled) {
                if !numbers.insert(e.number.as_str()) {
                    continue;
                }
                out.push(Code {
                    code: format!("{toggle}{}", e.number),
                    what: format!("the do-not-disturb key of extension {}", e.number),
                    at: e.origin.field("number"),
                });
            }
        }
        if let Some(login) = resolved.code(Feature::AgentLogin) {
            for q in entities.queues.iter().filter(|q| !q.agents.is_empty()) {
                if let Some(n) = &q.number {
                    out.push(Code {
                        code: format!("{login}{n}"),
                        what: format!("the agent login code of queue `{}`", q.name),
                        at: q.origin.field("number"),
                    });
                }
            }
        }
        let asked = asked_timeframes(entities);
        for t in &self.fleet.timeframes {
            if let Some(code) = &t.override_code
                && asked.contains(&t.name.as_str())
            {
                out.push(Code {
                    code: code.to_string(),
                    what: format!("the override code of time frame `{}`", t.name),
                    at: t.origin.field("override_code"),
                });
            }
        }
        out
    }

    /// Whether a menu or a schedule destination on any server asks this time frame.
    fn timeframe_is_asked(&self, index: &HashMap<&str, ServerEntities>, name: &str) -> bool {
        index.values().any(|e| asked_timeframes(e).contains(&name))
    }
}

/// The time frames a server's menus and schedules ask.
fn asked_timeframes<'e>(entities: &'e ServerEntities) -> Vec<&'e str> {
    let menus = entities
        .menus
        .iter()
        .filter_map(|m| m.timeframe.as_ref().map(|t| t.as_str()));
    let schedules = entities.targets().into_iter().filter_map(|t| match t {
        Target::Schedule(s) => Some(s.timeframe.as_str()),
        _ => None,
    });
    menus.chain(schedules).collect()
}

//! What a change does to callers: the probes of a server (see `probes`) traced on the
//! old and the new fleet, and those whose end differs, in words.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::{Outcome, Probe, Simulator, When};
use crate::model::Fleet;

/// Calls to one number (at one time, when time matters) that now end elsewhere: the
/// probes that differ only in caller, trunk or keys and change the same way are one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BehaviourChange {
    /// The number and, when the call meets a time frame, the time:
    /// `+74951234500, Mon 2026-06-01 17:59`.
    pub call: String,
    /// How many probed calls change this way (callers, trunks, keys).
    pub calls: usize,
    pub before: String,
    pub after: String,
}

/// A server's behaviour changes, over how many probes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerBehaviour {
    pub server: String,
    pub probes: usize,
    pub changes: Vec<BehaviourChange>,
}

/// The behaviour changes of every server present in both fleets (`servers`: only
/// these, when not empty), in server order.
pub fn compare(old: &Fleet, new: &Fleet, servers: &[String]) -> Vec<ServerBehaviour> {
    let (before, after) = (Simulator::all(old), Simulator::all(new));
    let names: Vec<&String> = after
        .keys()
        .filter(|n| before.contains_key(*n))
        .filter(|n| servers.is_empty() || servers.contains(n))
        .collect();
    crate::parallel::map(&names, |name| {
        let (a, b) = (&before[name.as_str()], &after[name.as_str()]);
        server_changes(name, a, b)
    })
}

fn server_changes(server: &str, old: &Simulator, new: &Simulator) -> ServerBehaviour {
    let mut seen = HashSet::new();
    let probes: Vec<Probe> = old
        .probes()
        .into_iter()
        .chain(new.probes())
        .filter(|p| seen.insert(p.clone()))
        .collect();
    let mut changes: Vec<BehaviourChange> = Vec::new();
    for p in &probes {
        let (Ok(a), Ok(b)) = (old.trace(p), new.trace(p)) else {
            continue;
        };
        if a.outcome == b.outcome {
            continue;
        }
        let call = match p.at {
            When::At(t) if a.timeframe().is_some() || b.timeframe().is_some() => {
                format!("{}, {}", p.number, t.strftime("%a %Y-%m-%d %H:%M"))
            }
            _ => p.number.clone(),
        };
        let (before, after) = words(&a.outcome, &b.outcome);
        match changes
            .iter_mut()
            .find(|c| c.call == call && c.before == before && c.after == after)
        {
            Some(c) => c.calls += 1,
            None => changes.push(BehaviourChange {
                call,
                calls: 1,
                before,
                after,
            }),
        }
    }
    ServerBehaviour {
        server: server.to_owned(),
        probes: probes.len(),
        changes,
    }
}

/// Two ends in words; a queue's members are named when only they differ.
fn words(a: &Outcome, b: &Outcome) -> (String, String) {
    let (x, y) = (a.to_string(), b.to_string());
    if x != y {
        return (x, y);
    }
    let members = |o: &Outcome| match o {
        Outcome::Queue { members, .. } if members.is_empty() => {
            format!("{o} (no member can answer)")
        }
        Outcome::Queue { members, .. } => format!("{o} (members {})", members.join(", ")),
        _ => o.to_string(),
    };
    (members(a), members(b))
}

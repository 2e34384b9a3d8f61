//! Calls that never end: cycles of immediate transfers. Each edge is a transfer that
//! happens with no caller action and no wait: an extension's `always` forward, its
//! `busy` and `unavailable` forwards (taken at once when the phone is busy or not
//! registered), a menu's `after_hours` (taken at once when closed), a queue's `on_full`
//! and `on_empty`, a ring group's `no_answer` (taken at once when no member's phone is
//! registered). A cycle of them spins the dialplan as fast as Asterisk runs it
//! (about 100,000 steps in 3 s per call). Transfers after ringing (`no_answer`), after a
//! wait (`on_timeout`, a menu's timeout) or a key press are not edges: they cannot spin.

use std::collections::HashMap;

use crate::diagnostics::{Diagnostic, Location};
use crate::model::{Name, Origin, Target};

use super::Checker;

/// A place a call can be in, on one server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Node<'a> {
    Extension(&'a str),
    Queue(&'a str),
    Menu(&'a str),
    RingGroup(&'a str),
}

impl std::fmt::Display for Node<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Node::Extension(n) => write!(f, "extension {n}"),
            Node::Queue(n) => write!(f, "queue `{n}`"),
            Node::Menu(n) => write!(f, "menu `{n}`"),
            Node::RingGroup(n) => write!(f, "ring group `{n}`"),
        }
    }
}

/// One immediate transfer: where to, when, and where the YAML says so.
struct Edge<'a> {
    to: Node<'a>,
    when: String,
    at: Origin,
}

/// The immediate transfers of one destination: none, one, or, for a schedule, those of
/// both its branches (the clock or an override picks one with no caller action).
fn edges<'a>(target: &'a Target, when: &str, at: Origin, out: &mut Vec<Edge<'a>>) {
    if let Target::Schedule(s) = target {
        let inner = at.field("schedule");
        for (branch, t) in [("open", &s.open), ("closed", &s.closed)] {
            let when = format!("{when}, while `{}` is {branch}", s.timeframe);
            edges(t, &when, inner.field(branch), out);
        }
    } else if let Some(to) = node(target) {
        out.push(Edge {
            to,
            when: when.to_owned(),
            at,
        });
    }
}

fn node(target: &Target) -> Option<Node<'_>> {
    match target {
        Target::Extension(n) => Some(Node::Extension(n.as_str())),
        Target::Queue(q) => Some(Node::Queue(q.as_str())),
        Target::Menu(m) => Some(Node::Menu(m.as_str())),
        Target::RingGroup(g) => Some(Node::RingGroup(g.as_str())),
        _ => None,
    }
}

impl<'a> Checker<'a> {
    pub(super) fn call_loops(&mut self) {
        // Per server, the immediate transfers out of every place.
        let mut graphs: HashMap<&'a str, HashMap<Node<'a>, Vec<Edge<'a>>>> = HashMap::new();
        let mut add = |server: &'a Name, from: Node<'a>, edges: Vec<Edge<'a>>| {
            if !edges.is_empty() {
                graphs
                    .entry(server.as_str())
                    .or_default()
                    .entry(from)
                    .or_default()
                    .extend(edges);
            }
        };
        let edge = |t: &'a Option<Target>, when: &'static str, at: Origin| {
            let mut out = Vec::new();
            if let Some(t) = t {
                edges(t, when, at, &mut out);
            }
            out
        };
        for e in self.fleet.extensions.iter().filter(|e| e.enabled) {
            let from = Node::Extension(e.number.as_str());
            let fo = e.origin.field("forward");
            let f = e.forwarding();
            add(
                &e.server,
                from,
                edge(&f.always, "always", fo.field("always")),
            );
            // `always` wins over the others: they never apply with it.
            if f.always.is_none() {
                add(
                    &e.server,
                    from,
                    edge(&f.busy, "when busy", fo.field("busy")),
                );
                add(
                    &e.server,
                    from,
                    edge(
                        &f.unavailable,
                        "when not registered",
                        fo.field("unavailable"),
                    ),
                );
            }
        }
        for q in &self.fleet.queues {
            let from = Node::Queue(q.name.as_str());
            add(
                &q.server,
                from,
                edge(&q.on_full, "when full", q.origin.field("on_full")),
            );
            add(
                &q.server,
                from,
                edge(&q.on_empty, "when empty", q.origin.field("on_empty")),
            );
        }
        for g in &self.fleet.ring_groups {
            let at = g.origin.field("no_answer");
            let when = "when no member can ring";
            add(
                &g.server,
                Node::RingGroup(g.name.as_str()),
                edge(&g.no_answer, when, at),
            );
        }
        for m in self.fleet.menus.iter().filter(|m| m.timeframe.is_some()) {
            let from = Node::Menu(m.name.as_str());
            let at = m.origin.field("after_hours");
            add(&m.server, from, edge(&m.after_hours, "when closed", at));
        }
        let mut servers: Vec<_> = graphs.into_iter().collect();
        servers.sort_by_key(|(s, _)| *s);
        for (server, graph) in servers {
            for cycle in cycles(&graph) {
                self.report_loop(server, &graph, &cycle);
            }
        }
    }

    fn report_loop(&mut self, server: &str, graph: &HashMap<Node, Vec<Edge>>, cycle: &[Node]) {
        // A place that transfers to itself is reported where it is checked.
        if let [Node::Extension(_) | Node::Queue(_) | Node::RingGroup(_)] = cycle {
            return;
        }
        let steps: Vec<(&Node, &Edge)> = cycle
            .iter()
            .enumerate()
            .filter_map(|(i, from)| {
                let to = cycle[(i + 1) % cycle.len()];
                graph
                    .get(from)?
                    .iter()
                    .find(|e| e.to == to)
                    .map(|e| (from, e))
            })
            .collect();
        let Some((_, first)) = steps.first() else {
            return;
        };
        let path: Vec<String> = steps
            .iter()
            .map(|(from, e)| format!("{from} → {} ({})", e.to, e.when))
            .collect();
        let mut d = Diagnostic::error(
            "call-loop",
            format!(
                "calls loop on server `{server}` with no caller action or wait to end it: {}",
                path.join(", ")
            ),
        )
        .at(self.loc.value(&first.at))
        .hint(
            "send one of these to voicemail, another destination or hangup; a caller caught \
             here ties up Asterisk until it hangs up",
        );
        for (from, e) in steps.iter().skip(1) {
            let location: Location = self.loc.value(&e.at);
            d = d.related(location, format!("{from} → {}", e.to));
        }
        self.out.push(d);
    }
}

/// The cycles of a graph, each once, starting at its smallest place, in a stable order.
fn cycles<'a>(graph: &HashMap<Node<'a>, Vec<Edge<'a>>>) -> Vec<Vec<Node<'a>>> {
    let mut starts: Vec<Node> = graph.keys().copied().collect();
    starts.sort();
    let mut found: Vec<Vec<Node>> = Vec::new();
    // Every simple cycle through `start` that visits only places after it: each cycle
    // is found once, from its smallest place. Fleets are small and edges few (at most
    // three out of a place), so the search stays cheap; it is bounded all the same.
    let mut budget: usize = 100_000;
    for (i, &start) in starts.iter().enumerate() {
        let allowed = |n: &Node| starts[i..].contains(n);
        let mut path = vec![start];
        let mut stack: Vec<std::vec::IntoIter<Node>> = vec![next(graph, start)];
        while let Some(iter) = stack.last_mut() {
            budget = budget.saturating_sub(1);
            if budget == 0 {
                return found;
            }
            match iter.next() {
                Some(n) if n == start => found.push(path.clone()),
                Some(n) if allowed(&n) && !path.contains(&n) => {
                    path.push(n);
                    stack.push(next(graph, n));
                }
                Some(_) => {}
                None => {
                    stack.pop();
                    path.pop();
                }
            }
        }
    }
    found
}

fn next<'a>(
    graph: &HashMap<Node<'a>, Vec<Edge<'a>>>,
    from: Node<'a>,
) -> std::vec::IntoIter<Node<'a>> {
    let mut to: Vec<Node> = graph
        .get(&from)
        .map(|edges| edges.iter().map(|e| e.to).collect())
        .unwrap_or_default();
    to.sort();
    to.dedup();
    to.into_iter()
}

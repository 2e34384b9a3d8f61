//! The walk of one call, destination by destination, as `extensions_odoo.conf` runs it:
//! how the call enters (a trunk's inbound context, a phone's context) and each transfer;
//! the queue and menu applications are in [`apps`].

mod apps;
mod ends;
mod phone;
mod ringgroup;

use std::collections::VecDeque;

use super::Simulator;

use super::contexts::{self, RoutePattern};
use super::{Caller, EntityRef, Outcome, Probe, Step, Stop, Trace, TraceError};
use crate::model::calltest::Reach;
use crate::model::features::ServerCodes;
use crate::model::index::ServerEntities;
use crate::model::layout;
use crate::model::{DialNumber, Extension, Fleet, Kind, Origin, Server, Sourced, Target};

/// Most transfers one call may make before it is called a loop: far more than any
/// real flow (every key press and retry is one), far fewer than a spinning call.
const MAX_TRANSFERS: usize = 200;

pub(super) struct Walk<'a> {
    fleet: &'a Fleet,
    probe: &'a Probe,
    server: &'a Sourced<Server>,
    entities: &'a ServerEntities<'a>,
    codes: &'a ServerCodes,
    prefix: &'a str,
    keys: VecDeque<&'a str>,
    steps: Vec<Step>,
    stops: Vec<Stop>,
    passed: Vec<Reach>,
    /// Each transfer's destination and the keys left then: the same pair twice is a
    /// loop (nothing the caller does differs the second time).
    visited: Vec<(String, usize)>,
}

impl<'a> Walk<'a> {
    pub fn new(sim: &'a Simulator<'a>, probe: &'a Probe) -> Walk<'a> {
        Walk {
            fleet: sim.fleet,
            probe,
            server: sim.server,
            entities: &sim.entities,
            codes: &sim.codes,
            prefix: sim.fleet.project.suffix(),
            keys: probe.keys.iter().map(String::as_str).collect(),
            steps: Vec::new(),
            stops: Vec::new(),
            passed: Vec::new(),
            visited: Vec::new(),
        }
    }

    pub fn run(mut self) -> Result<Trace, TraceError> {
        let outcome = match &self.probe.from {
            Caller::Outside { callerid, trunk } => {
                self.inbound(callerid.as_deref(), trunk.as_deref())?
            }
            Caller::Extension(number) => self.internal(number)?,
        };
        // Each end is an application of its own, written where the walk decided it.
        match &outcome {
            Outcome::Busy => self.stops.push(Stop::Busy),
            Outcome::Hangup => self.stops.push(Stop::Hangup),
            Outcome::External { sent, trunks, .. } => self.stops.push(Stop::Dial {
                number: sent.clone(),
                trunk: trunks.first().cloned().unwrap_or_default(),
            }),
            Outcome::Voicemail { mailbox } => self.stops.push(Stop::Voicemail {
                mailbox: mailbox.clone(),
            }),
            Outcome::Dialplan { name } => self.stops.push(Stop::Dialplan { name: name.clone() }),
            Outcome::Conference { name } => {
                self.stops.push(Stop::Conference { name: name.clone() })
            }
            Outcome::Parked { lot } => self.stops.push(Stop::Parked { lot: lot.clone() }),
            Outcome::Extension { .. }
            | Outcome::Queue { .. }
            | Outcome::RingGroup { .. }
            | Outcome::FollowMe { .. }
            | Outcome::NoRoute { .. }
            | Outcome::Feature { .. }
            | Outcome::Loop { .. } => {}
        }
        Ok(Trace {
            steps: self.steps,
            stops: self.stops,
            passed: self.passed,
            outcome,
        })
    }

    fn step(&mut self, text: String, entity: Option<EntityRef>) {
        self.steps.push(Step { text, entity });
    }

    fn entity(kind: Kind, name: &str, origin: &Origin) -> Option<EntityRef> {
        Some(EntityRef {
            kind,
            name: name.to_owned(),
            origin: origin.clone(),
        })
    }

    fn extension(&self, number: &str) -> Option<&'a Sourced<Extension>> {
        // The first extension with a number is the one rendered (validate refuses two).
        self.entities
            .extension_by_number
            .get(number)
            .copied()
            .filter(|e| e.enabled)
    }

    /// A call from a trunk: its context's routes, then those of every trunk.
    fn inbound(
        &mut self,
        callerid: Option<&str>,
        trunk: Option<&str>,
    ) -> Result<Outcome, TraceError> {
        let number = self.probe.number.clone();
        let trunk = match trunk {
            Some(t) => {
                let found = self.entities.trunks.iter().find(|x| x.name.as_str() == t);
                let Some(found) = found else {
                    return Err(TraceError::UnknownTrunk {
                        server: self.probe.server.clone(),
                        trunk: t.to_owned(),
                    });
                };
                Some(found.name.as_str())
            }
            None if self.entities.trunks.len() == 1 => Some(self.entities.trunks[0].name.as_str()),
            None => None,
        };
        let from =
            callerid.map_or_else(|| "an unknown caller".to_owned(), |c| format!("caller {c}"));
        let context = match trunk {
            Some(t) => format!("{}-inbound-{t}", self.prefix),
            None => format!("{}-inbound", self.prefix),
        };
        self.step(
            match trunk {
                Some(t) => format!("call to {number} from {from} arrives on trunk {t}"),
                None => format!("call to {number} from {from} arrives (the routes of every trunk)"),
            },
            None,
        );
        let routes = &self.entities.inbound_routes;
        let mut contexts = vec![layout::inbound_context(routes, trunk)];
        if trunk.is_some() {
            contexts.push(layout::inbound_context(routes, None));
        }
        let picked = contexts
            .iter()
            .find_map(|entries| contexts::pick_inbound(entries, &number, callerid))
            .map(|e| (e.route, e.exten, e.callerid));
        let Some((route, exten, cid)) = picked else {
            return Ok(Outcome::NoRoute { number, context });
        };
        let how = match (cid, exten.starts_with('_') || exten == "s") {
            (Some(c), _) => format!(
                "inbound route {} takes it (caller id matches {c})",
                route.name
            ),
            (None, true) => format!(
                "inbound route {} takes it (any number, {exten})",
                route.name
            ),
            (None, false) => format!("inbound route {} takes it (DID {exten})", route.name),
        };
        self.step(
            how,
            Self::entity(Kind::InboundRoute, route.name.as_str(), &route.origin),
        );
        self.passed.push(Reach::InboundRoute {
            inbound_route: route.name.clone(),
        });
        if let Some(outcome) = self.blocked(callerid) {
            return Ok(outcome);
        }
        self.go(&route.target)
    }

    /// A call from a phone: internal numbers first, then the routes it may use.
    fn internal(&mut self, caller: &str) -> Result<Outcome, TraceError> {
        let Some(e) = self.extension(caller) else {
            return Err(TraceError::UnknownCaller {
                server: self.probe.server.clone(),
                number: caller.to_owned(),
            });
        };
        let number = self.probe.number.clone();
        self.step(
            format!("extension {caller} ({}) dials {number}", e.name),
            Self::entity(Kind::Extension, caller, &e.origin),
        );
        if let Some(outcome) = self.feature_code(caller, &number) {
            return Ok(outcome);
        }
        if let Some(g) = self
            .entities
            .paging_groups
            .iter()
            .find(|g| g.number.as_str() == number)
        {
            let members: Vec<&str> = g.members.iter().map(|m| m.as_str()).collect();
            let way = if g.duplex { "two-way" } else { "one-way" };
            self.step(
                format!(
                    "pages {} ({way}, answered on their speakers)",
                    members.join(", ")
                ),
                Self::entity(Kind::PagingGroup, g.name.as_str(), &g.origin),
            );
            return Ok(Outcome::Feature {
                code: number,
                feature: "paging_group".into(),
            });
        }
        if let Some(l) = self
            .entities
            .parking_lots
            .iter()
            .find(|l| l.slots.contains(&number))
        {
            self.step(
                format!(
                    "takes back the call parked in slot {number} of lot {}",
                    l.name
                ),
                Self::entity(Kind::ParkingLot, l.name.as_str(), &l.origin),
            );
            return Ok(Outcome::Feature {
                code: number,
                feature: "parked_call".into(),
            });
        }
        if let Some(target) = self.internal_number(&number) {
            return self.go(&target);
        }
        let allowed = contexts::allowed_routes(&self.entities.outbound_routes, e);
        match contexts::pick_outbound(&allowed, &number) {
            Some(rp) => Ok(self.external(&number, rp)),
            None => {
                if allowed.len() < self.entities.outbound_routes.len() {
                    self.step(
                        format!(
                            "extension {caller} may use {} of the server's {} outbound routes",
                            allowed.len(),
                            self.entities.outbound_routes.len()
                        ),
                        None,
                    );
                }
                Ok(Outcome::NoRoute {
                    number,
                    context: format!("the phones' context of extension {caller}"),
                })
            }
        }
    }

    /// What a number of `<prefix>-internal` reaches: an extension, queue, menu, ring
    /// group or custom dialplan.
    fn internal_number(&self, number: &str) -> Option<Target> {
        if self.extension(number).is_some() {
            return Some(Target::Extension(DialNumber(number.to_owned())));
        }
        if let Some(q) = self
            .entities
            .queues
            .iter()
            .find(|q| q.number.as_ref().is_some_and(|n| n.as_str() == number))
        {
            return Some(Target::Queue(q.name.clone()));
        }
        if let Some(m) = self
            .entities
            .menus
            .iter()
            .find(|m| m.number.as_ref().is_some_and(|n| n.as_str() == number))
        {
            return Some(Target::Menu(m.name.clone()));
        }
        if let Some(g) = self
            .entities
            .ring_groups
            .iter()
            .find(|g| g.number.as_ref().is_some_and(|n| n.as_str() == number))
        {
            return Some(Target::RingGroup(g.name.clone()));
        }
        if let Some(l) = self
            .entities
            .parking_lots
            .iter()
            .find(|l| l.park_number.as_str() == number)
        {
            return Some(Target::Parking(l.name.clone()));
        }
        if let Some(a) = self
            .entities
            .announcements
            .iter()
            .find(|a| a.number.as_ref().is_some_and(|n| n.as_str() == number))
        {
            return Some(Target::Announcement(a.name.clone()));
        }
        if let Some(c) = self.entities.conferences.iter().find(|c| {
            c.number.as_str() == number
                || c.admin_number
                    .as_ref()
                    .is_some_and(|n| n.as_str() == number)
        }) {
            return Some(Target::Conference(c.name.clone()));
        }
        self.entities
            .dialplans
            .iter()
            .find(|d| d.number.as_ref().is_some_and(|n| n.as_str() == number))
            .map(|d| Target::Dialplan(d.name.clone()))
    }

    fn external(&mut self, number: &str, rp: RoutePattern<'a>) -> Outcome {
        let sent = contexts::sent_number(rp.pattern, number);
        let r = rp.route;
        self.passed.push(Reach::OutboundRoute {
            outbound_route: r.name.clone(),
        });
        self.step(
            format!(
                "outbound route {} takes it (pattern {}){}",
                r.name,
                rp.pattern.pattern.as_str(),
                if sent == number {
                    String::new()
                } else {
                    format!(", sent as {sent}")
                }
            ),
            Self::entity(Kind::OutboundRoute, r.name.as_str(), &r.origin),
        );
        Outcome::External {
            number: number.to_owned(),
            sent,
            route: r.name.to_string(),
            trunks: r.trunks.iter().map(ToString::to_string).collect(),
        }
    }

    /// Follows one destination.
    fn go(&mut self, target: &Target) -> Result<Outcome, TraceError> {
        let label = label(target);
        let state = (label.clone(), self.keys.len());
        if let Some(first) = self.visited.iter().position(|v| *v == state) {
            let mut cycle: Vec<String> = self.visited[first..]
                .iter()
                .map(|(l, _)| l.clone())
                .collect();
            cycle.push(label);
            return Ok(Outcome::Loop { cycle });
        }
        if self.visited.len() >= MAX_TRANSFERS {
            let cycle = self
                .visited
                .iter()
                .rev()
                .take(4)
                .rev()
                .map(|(l, _)| l.clone())
                .collect();
            return Ok(Outcome::Loop { cycle });
        }
        self.visited.push(state);
        match target {
            Target::Hangup => Ok(Outcome::Hangup),
            Target::Extension(n) => self.ring(n.as_str()),
            Target::Queue(q) => self.queue(q.as_str()),
            Target::Menu(m) => self.menu(m.as_str()),
            Target::RingGroup(g) => self.ring_group(g.as_str()),
            Target::Schedule(s) => self.schedule(s),
            Target::Conference(c) => Ok(self.conference(c.as_str())),
            Target::Announcement(a) => self.announcement(a.as_str()),
            Target::Parking(l) => Ok(self.park(l.as_str())),
            Target::Directory => {
                self.step(
                    "the company directory: the caller spells a name".into(),
                    None,
                );
                Ok(Outcome::Feature {
                    code: "directory".into(),
                    feature: "directory".into(),
                })
            }
            Target::Voicemail(n) => Ok(self.voicemail(n.as_str())),
            Target::Dialplan(d) => {
                let origin = self
                    .entities
                    .dialplans
                    .iter()
                    .find(|x| x.name.as_str() == d.as_str())
                    .map(|x| x.origin.clone());
                let entity = origin.and_then(|o| Self::entity(Kind::Dialplan, d.as_str(), &o));
                self.step(format!("custom dialplan {d} (not simulated)"), entity);
                Ok(Outcome::Dialplan {
                    name: d.to_string(),
                })
            }
            Target::External(n) => {
                let number = n.0.clone();
                match contexts::pick_outbound(&self.entities.outbound_routes, &number) {
                    Some(rp) => Ok(self.external(&number, rp)),
                    None => Ok(Outcome::NoRoute {
                        number,
                        context: format!("{}-outbound", self.prefix),
                    }),
                }
            }
        }
    }

    fn voicemail(&mut self, number: &str) -> Outcome {
        match self.extension(number) {
            Some(e) if e.voicemail.as_ref().is_some_and(|v| v.enabled) => {
                self.passed.push(Reach::Voicemail {
                    voicemail: DialNumber(number.to_owned()),
                });
                self.step(
                    format!("voicemail box {number}"),
                    Self::entity(Kind::Extension, number, &e.origin),
                );
                Outcome::Voicemail {
                    mailbox: number.to_owned(),
                }
            }
            _ => Outcome::NoRoute {
                number: number.to_owned(),
                context: format!("{}-voicemail", self.prefix),
            },
        }
    }
}

/// A destination in words, for loops.
fn label(target: &Target) -> String {
    match target {
        Target::Hangup => "hangup".into(),
        Target::Extension(n) => format!("extension {n}"),
        Target::Queue(q) => format!("queue {q}"),
        Target::Menu(m) => format!("menu {m}"),
        Target::RingGroup(g) => format!("ring group {g}"),
        Target::Conference(c) => format!("conference {c}"),
        Target::Announcement(a) => format!("announcement {a}"),
        Target::Parking(l) => format!("parking lot {l}"),
        Target::Directory => "the company directory".into(),
        Target::Voicemail(n) => format!("voicemail {n}"),
        Target::Dialplan(d) => format!("dialplan {d}"),
        Target::External(n) => format!("external {}", n.0),
        Target::Schedule(s) => format!(
            "schedule on {} ({} / {})",
            s.timeframe,
            label(&s.open),
            label(&s.closed)
        ),
    }
}

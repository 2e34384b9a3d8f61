//! A ring group: each step of its strategy rings some members together; the first step
//! in which a member answers ends the walk, else the caller goes to `no_answer`.

use super::Walk;
use crate::callflow::{EntityRef, Outcome, PhoneStatus, Stop, TraceError};
use crate::model::calltest::Reach;
use crate::model::ring_group::RingMember;
use crate::model::{Kind, Name};

/// Who rings in one walk of steps (a ring group's, or an extension's follow-me).
pub(super) struct Ringing<'s> {
    /// `ring group sales`, `follow-me of 101`: how the steps read.
    pub who: String,
    /// The numbers rung together at each step.
    pub steps: Vec<Vec<&'s str>>,
    pub ring_time: u32,
    pub entity: Option<EntityRef>,
}

/// Dropping steps whose members all are disabled extensions (not rendered either).
pub(super) fn rung_steps<'s>(
    walk: &Walk,
    steps: Vec<&'s [RingMember]>,
    first: Option<&'s str>,
) -> Vec<Vec<&'s str>> {
    steps
        .into_iter()
        .map(|step| {
            first
                .into_iter()
                .chain(
                    step.iter()
                        .filter(|m| {
                            m.extension()
                                .is_none_or(|n| walk.extension(n.as_str()).is_some())
                        })
                        .map(RingMember::number),
                )
                .collect()
        })
        .filter(|step: &Vec<&str>| !step.is_empty())
        .collect()
}

impl<'a> Walk<'a> {
    pub(super) fn ring_group(&mut self, name: &str) -> Result<Outcome, TraceError> {
        let Some(g) = self
            .entities
            .ring_groups
            .iter()
            .copied()
            .find(|g| g.name.as_str() == name)
        else {
            return Ok(Outcome::NoRoute {
                number: name.to_owned(),
                context: format!("{}-ringgroup-{name}", self.prefix),
            });
        };
        self.passed.push(Reach::RingGroup {
            ring_group: Name(name.to_owned()),
        });
        let ringing = Ringing {
            who: format!("ring group {name}"),
            steps: rung_steps(self, g.steps(), None),
            ring_time: g.ring_time(),
            entity: Self::entity(Kind::RingGroup, name, &g.origin),
        };
        let stop = |members| Stop::RingGroup {
            name: name.to_owned(),
            members,
        };
        match self.ring_steps(ringing, stop) {
            Ok(members) => Ok(Outcome::RingGroup {
                name: name.to_owned(),
                members,
            }),
            Err(_) => self.go_or_hangup(&g.no_answer),
        }
    }

    /// Rings each step in turn: who answers in the first step someone does, else the
    /// status of the last step's `Dial()` (`BUSY` when all were busy or unregistered and
    /// one busy, `CHANUNAVAIL` when all unregistered, else `NOANSWER`).
    /// `stop` is the stop one step's `Dial()` is, from its numbers.
    pub(super) fn ring_steps(
        &mut self,
        r: Ringing,
        stop: impl Fn(Vec<String>) -> Stop,
    ) -> Result<Vec<String>, PhoneStatus> {
        let mut last = PhoneStatus::NoAnswer;
        for members in r.steps {
            self.stops
                .push(stop(members.iter().map(|m| (*m).to_owned()).collect()));
            let status = |m: &str| {
                self.probe
                    .status
                    .get(m)
                    .copied()
                    .unwrap_or(PhoneStatus::Answers)
            };
            let answering: Vec<String> = members
                .iter()
                .filter(|m| status(m) == PhoneStatus::Answers)
                .map(|m| (*m).to_owned())
                .collect();
            let rings = format!(
                "{} rings {} for up to {} s",
                r.who,
                members.join(", "),
                r.ring_time
            );
            if !answering.is_empty() {
                self.step(
                    format!("{rings}; {} answers", answering.join(" or ")),
                    r.entity.clone(),
                );
                return Ok(answering);
            }
            last = if members
                .iter()
                .all(|m| status(m) == PhoneStatus::Unavailable)
            {
                PhoneStatus::Unavailable
            } else if members.iter().all(|m| status(m) != PhoneStatus::NoAnswer) {
                PhoneStatus::Busy
            } else {
                PhoneStatus::NoAnswer
            };
            self.step(format!("{rings}; nobody answers"), r.entity.clone());
        }
        Err(last)
    }
}

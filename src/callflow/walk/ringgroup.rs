//! A ring group: each step of its strategy rings some members together; the first step
//! in which a member answers ends the walk, else the caller goes to `no_answer`.

use super::Walk;
use crate::callflow::{Outcome, PhoneStatus, Stop, TraceError};
use crate::model::calltest::Reach;
use crate::model::ring_group::RingMember;
use crate::model::{Kind, Name};

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
        let ring_time = g.ring_time();
        // A disabled extension is not rendered into the group's Dial().
        let rung = |m: &&RingMember| {
            m.extension()
                .is_none_or(|n| self.extension(n.as_str()).is_some())
        };
        let steps: Vec<Vec<&str>> = g
            .steps()
            .into_iter()
            .map(|step| step.iter().filter(rung).map(RingMember::number).collect())
            .filter(|step: &Vec<&str>| !step.is_empty())
            .collect();
        for members in steps {
            let entity = Self::entity(Kind::RingGroup, name, &g.origin);
            self.stops.push(Stop::RingGroup {
                name: name.to_owned(),
                members: members.iter().map(|m| (*m).to_owned()).collect(),
            });
            let answering: Vec<String> = members
                .iter()
                .filter(|m| {
                    self.probe
                        .status
                        .get(**m)
                        .copied()
                        .unwrap_or(PhoneStatus::Answers)
                        == PhoneStatus::Answers
                })
                .map(|m| (*m).to_owned())
                .collect();
            let rings = format!(
                "ring group {name} rings {} for up to {ring_time} s",
                members.join(", ")
            );
            if !answering.is_empty() {
                self.step(
                    format!("{rings}; {} answers", answering.join(" or ")),
                    entity,
                );
                return Ok(Outcome::RingGroup {
                    name: name.to_owned(),
                    members: answering,
                });
            }
            self.step(format!("{rings}; nobody answers"), entity);
        }
        self.go_or_hangup(&g.no_answer)
    }
}

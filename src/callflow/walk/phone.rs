//! An extension's phone: a forward of every call, the desk phone and its follow-me
//! numbers (after it or with it), and where the call goes when the phone is busy, does
//! not answer or is not registered.

use super::Walk;
use super::ringgroup::{Ringing, rung_steps};
use crate::callflow::{Outcome, PhoneStatus, Stop, TraceError};
use crate::model::calltest::Reach;
use crate::model::defaults::DEFAULT_RING_TIMEOUT;
use crate::model::follow_me::FollowOrder;
use crate::model::{DialNumber, Kind};

impl<'a> Walk<'a> {
    /// Rings an extension, or takes its forward for the phone's status.
    pub(super) fn ring(&mut self, number: &str) -> Result<Outcome, TraceError> {
        let Some(e) = self.extension(number) else {
            return Ok(Outcome::NoRoute {
                number: number.to_owned(),
                context: format!("{}-internal", self.prefix),
            });
        };
        let entity = Self::entity(Kind::Extension, number, &e.origin);
        self.passed.push(Reach::Extension {
            extension: DialNumber(number.to_owned()),
        });
        let forward = e.forwarding();
        if let Some(always) = &forward.always {
            self.step(format!("extension {number} forwards every call"), entity);
            return self.go(always);
        }
        let ring = e
            .ring_timeout
            .or(self.server.defaults.ring_timeout)
            .or(self.fleet.project.defaults.ring_timeout)
            .unwrap_or(DEFAULT_RING_TIMEOUT);
        let mailbox = e.voicemail.as_ref().is_some_and(|v| v.enabled);
        // A follow-me none of whose numbers is rendered (all disabled extensions) is none.
        let follow = e
            .follow_me()
            .map(|f| (f, rung_steps(self, f.steps(), None)))
            .filter(|(_, steps)| !steps.is_empty());
        let with_desk = follow
            .as_ref()
            .map(|(f, _)| *f)
            .filter(|f| f.order == FollowOrder::WithDesk);
        let status = match with_desk {
            Some(f) => {
                // The desk rings in every step of the follow-me, in one Dial() each.
                let ringing = Ringing {
                    who: format!("follow-me of {number}"),
                    steps: rung_steps(self, f.steps(), Some(number)),
                    ring_time: f.ring_time(),
                    entity: entity.clone(),
                };
                match self.follow_me(number, ringing) {
                    Ok(outcome) => return Ok(outcome),
                    Err(status) => status,
                }
            }
            None => self
                .probe
                .status
                .get(number)
                .copied()
                .unwrap_or(PhoneStatus::Answers),
        };
        if with_desk.is_none() && status != PhoneStatus::Unavailable {
            // An unregistered phone is not dialled at all (DEVICE_STATE is checked first).
            self.stops.push(Stop::Ring {
                extension: number.to_owned(),
            });
        }
        let (why, next, otherwise) = match status {
            PhoneStatus::Answers => {
                self.step(
                    format!("rings extension {number} ({}) for up to {ring} s", e.name),
                    entity,
                );
                return Ok(Outcome::Extension {
                    number: number.to_owned(),
                });
            }
            PhoneStatus::Busy => ("is busy", &forward.busy, Outcome::Busy),
            PhoneStatus::NoAnswer => ("does not answer", &forward.no_answer, Outcome::Hangup),
            PhoneStatus::Unavailable => {
                ("is not registered", &forward.unavailable, Outcome::Hangup)
            }
        };
        let after = if status == PhoneStatus::NoAnswer && with_desk.is_none() {
            format!(" within {ring} s")
        } else {
            String::new()
        };
        self.step(
            format!("extension {number} ({}) {why}{after}", e.name),
            entity.clone(),
        );
        if status != PhoneStatus::Busy
            && let Some((f, steps)) = follow.filter(|(f, _)| f.order == FollowOrder::AfterDesk)
        {
            let ringing = Ringing {
                who: format!("follow-me of {number}"),
                steps,
                ring_time: f.ring_time(),
                entity,
            };
            if let Ok(outcome) = self.follow_me(number, ringing) {
                return Ok(outcome);
            }
        }
        match (next, mailbox) {
            (Some(t), _) => self.go(t),
            (None, true) => Ok(self.voicemail(number)),
            (None, false) => Ok(otherwise),
        }
    }

    /// Rings the follow-me of extension `number`: who answers, or how its last step
    /// ended. The desk phone answering is the extension answering.
    fn follow_me(&mut self, number: &str, ringing: Ringing) -> Result<Outcome, PhoneStatus> {
        self.passed.push(Reach::FollowMe {
            follow_me: DialNumber(number.to_owned()),
        });
        let stop = |members| Stop::FollowMe {
            extension: number.to_owned(),
            members,
        };
        let answering = self.ring_steps(ringing, stop)?;
        Ok(if answering.iter().any(|m| m == number) {
            Outcome::Extension {
                number: number.to_owned(),
            }
        } else {
            Outcome::FollowMe {
                extension: number.to_owned(),
                members: answering,
            }
        })
    }
}

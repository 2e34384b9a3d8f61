//! Where a call ends that is neither a phone nor an application with a wait: block
//! lists, feature codes, announcements, parking and conference rooms.

use super::Walk;
use crate::callflow::{Outcome, TraceError};
use crate::model::Kind;
use crate::model::blocklist::{BlockAction, blocked_on};
use crate::model::calltest::Reach;
use crate::model::dialing::best;
use crate::model::features::Feature;

impl Walk<'_> {
    /// A caller a block list refuses, checked first on every inbound route.
    pub(super) fn blocked(&mut self, callerid: Option<&str>) -> Option<Outcome> {
        let callerid = callerid?;
        let lists = blocked_on(&self.fleet.block_lists, self.server.name.as_str());
        let (pattern, list) = best(callerid, lists.iter().map(|(p, l)| (p.0.as_str(), *l)))?;
        let (what, outcome) = match &list.action {
            BlockAction::Hangup => ("hung up on".to_owned(), Outcome::Hangup),
            BlockAction::Busy => ("given a busy tone".to_owned(), Outcome::Busy),
            BlockAction::Message(m) => (format!("played {} and hung up on", m.0), Outcome::Hangup),
        };
        self.step(
            format!(
                "caller {callerid} is on block list {} ({pattern}): {what}",
                list.name
            ),
            Self::entity(Kind::BlockList, list.name.as_str(), &list.origin),
        );
        Some(outcome)
    }

    /// A feature code the caller's phone dials (`<prefix>-features`, which phones'
    /// contexts include first). The state it sets is the user's: not simulated.
    pub(super) fn feature_code(&mut self, caller: &str, number: &str) -> Option<Outcome> {
        let (code, feature) = match self.codes.feature_of(number) {
            Some(f) => (number.to_owned(), f),
            None => {
                // The code followed by a number: directed pickup, or an extension's
                // do-not-disturb key.
                [
                    Feature::DirectedPickup,
                    Feature::Intercom,
                    Feature::AgentLogin,
                    Feature::DndToggle,
                ]
                .into_iter()
                .find_map(|f| {
                    let prefix = self.codes.code(f)?;
                    let rest = number.strip_prefix(prefix)?;
                    let digits = !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit());
                    let known = f.takes_a_number() || self.extension(rest).is_some();
                    (digits && known).then(|| (number.to_owned(), f))
                })?
            }
        };
        self.step(format!("feature code {code}: {}", feature.what()), None);
        if feature == Feature::Voicemail {
            return Some(Outcome::Voicemail {
                mailbox: caller.to_owned(),
            });
        }
        Some(Outcome::Feature {
            code,
            feature: feature.key().to_owned(),
        })
    }

    pub(super) fn announcement(&mut self, name: &str) -> Result<Outcome, TraceError> {
        let Some(a) = self
            .entities
            .announcements
            .iter()
            .find(|a| a.name.as_str() == name)
        else {
            return Ok(Outcome::NoRoute {
                number: "s".into(),
                context: format!("{}-announcement-{name}", self.prefix),
            });
        };
        let prompts: Vec<&str> = a.prompts.iter().map(|p| p.0.as_str()).collect();
        let times = match a.repeat.unwrap_or(1) {
            1 => String::new(),
            n => format!(" {n} times"),
        };
        self.step(
            format!("announcement {name} plays {}{times}", prompts.join(", ")),
            Self::entity(Kind::Announcement, name, &a.origin),
        );
        self.go_or_hangup(&a.then)
    }

    pub(super) fn park(&mut self, name: &str) -> Outcome {
        let Some(l) = self
            .entities
            .parking_lots
            .iter()
            .find(|l| l.name.as_str() == name)
        else {
            return Outcome::NoRoute {
                number: "s".into(),
                context: format!("{}-parkedcalls-{name}", self.prefix),
            };
        };
        self.passed.push(Reach::Parking {
            parking: l.name.clone(),
        });
        self.step(
            format!(
                "the call is parked in lot {name}, slots {}-{}",
                l.slots.first, l.slots.last
            ),
            Self::entity(Kind::ParkingLot, name, &l.origin),
        );
        Outcome::Parked {
            lot: name.to_owned(),
        }
    }

    pub(super) fn conference(&mut self, name: &str) -> Outcome {
        let Some(c) = self
            .entities
            .conferences
            .iter()
            .find(|c| c.name.as_str() == name)
        else {
            return Outcome::NoRoute {
                number: "s".into(),
                context: format!("{}-conference-{name}", self.prefix),
            };
        };
        self.passed.push(Reach::Conference {
            conference: c.name.clone(),
        });
        let pin = if c.pin.is_some() {
            ", after its PIN"
        } else {
            ""
        };
        self.step(
            format!("the caller joins conference {name}{pin}"),
            Self::entity(Kind::Conference, name, &c.origin),
        );
        Outcome::Conference {
            name: name.to_owned(),
        }
    }
}

//! The applications a call can wait in: a queue (with its overflow) and a menu (time
//! frame, prompts, keys, retries); and time frames as menus and schedules ask them.

use super::Walk;
use crate::callflow::clock::{Hours, hours};
use crate::callflow::{Outcome, Override, PhoneStatus, Stop, TraceError};
use crate::model::calltest::Reach;
use crate::model::defaults::{DEFAULT_DIGIT_TIMEOUT, DEFAULT_MAX_RETRIES};
use crate::model::target::Schedule;
use crate::model::{DialNumber, Kind, Menu, Name, Queue, Sourced, Target, Timeframe};

impl<'a> Walk<'a> {
    pub(super) fn queue(&mut self, name: &str) -> Result<Outcome, TraceError> {
        let Some(q): Option<&Sourced<Queue>> = self
            .entities
            .queues
            .iter()
            .copied()
            .find(|q| q.name.as_str() == name)
        else {
            return Ok(Outcome::NoRoute {
                number: name.to_owned(),
                context: format!("{}-queue-{name}", self.prefix),
            });
        };
        let entity = Self::entity(Kind::Queue, name, &q.origin);
        self.stops.push(Stop::Queue {
            name: name.to_owned(),
        });
        self.passed.push(Reach::Queue {
            queue: Name(name.to_owned()),
        });
        // A member counts for app_queue unless its phone is unavailable or it is not a
        // (rendered) extension at all.
        let available: Vec<String> = q
            .members
            .iter()
            .map(|m| m.extension().as_str())
            .filter(|n| {
                self.extension(n).is_some()
                    && self.probe.status.get(*n) != Some(&PhoneStatus::Unavailable)
            })
            .map(str::to_owned)
            .collect();
        if !available.is_empty() {
            self.step(
                format!("queue {name} rings its members ({})", available.join(", ")),
                entity,
            );
            return Ok(Outcome::Queue {
                name: name.to_owned(),
                members: available,
            });
        }
        let join_empty = q.join_when_empty.unwrap_or(true);
        let leave_empty = q.leave_when_empty.unwrap_or(false);
        if !join_empty || leave_empty {
            self.step(
                format!("queue {name}: no member can answer, so the caller may not wait"),
                entity,
            );
            return self.go_or_hangup(&q.on_empty);
        }
        match q.max_wait {
            Some(wait) => {
                self.step(
                    format!("queue {name}: no member can answer; the caller waits {wait} s"),
                    entity,
                );
                self.go_or_hangup(&q.on_timeout)
            }
            None => {
                self.step(
                    format!("queue {name}: no member can answer; the caller waits with no limit"),
                    entity,
                );
                Ok(Outcome::Queue {
                    name: name.to_owned(),
                    members: Vec::new(),
                })
            }
        }
    }

    pub(super) fn go_or_hangup(&mut self, target: &Option<Target>) -> Result<Outcome, TraceError> {
        match target {
            Some(t) => self.go(t),
            None => Ok(Outcome::Hangup),
        }
    }

    pub(super) fn menu(&mut self, name: &str) -> Result<Outcome, TraceError> {
        let Some(m): Option<&Sourced<Menu>> = self
            .entities
            .menus
            .iter()
            .copied()
            .find(|m| m.name.as_str() == name)
        else {
            return Ok(Outcome::NoRoute {
                number: "s".into(),
                context: format!("{}-menu-{name}", self.prefix),
            });
        };
        let entity = Self::entity(Kind::Menu, name, &m.origin);
        self.passed.push(Reach::Menu {
            menu: Name(name.to_owned()),
        });
        if let Some(tf) = m
            .timeframe
            .as_ref()
            .and_then(|n| self.fleet.timeframes.iter().find(|t| t.name == *n))
            && !self.clock(tf, &format!("menu {name}"))?
        {
            return self.go_or_hangup(&m.after_hours);
        }
        let wait = m.digit_timeout.unwrap_or(DEFAULT_DIGIT_TIMEOUT);
        let retries = m.max_retries.unwrap_or(DEFAULT_MAX_RETRIES);
        let prompts: Vec<&str> = m.prompts.iter().map(|p| p.0.as_str()).collect();
        let mut tries = 0;
        self.stops.push(Stop::Menu {
            name: name.to_owned(),
        });
        loop {
            self.step(
                format!(
                    "menu {name} plays {} and waits {wait} s for a key",
                    prompts.join(", ")
                ),
                entity.clone(),
            );
            match self.keys.pop_front() {
                Some(key) => {
                    if let Some((_, target)) = m.keys.iter().find(|(k, _)| *k == key) {
                        self.step(format!("caller presses {key}"), None);
                        return self.go(target);
                    }
                    if m.direct_dial && self.extension(key).is_some() {
                        self.step(format!("caller dials extension {key} directly"), None);
                        return self.go(&Target::Extension(DialNumber(key.to_owned())));
                    }
                    tries += 1;
                    self.step(
                        format!("caller presses {key}, which is not an option"),
                        None,
                    );
                    if tries > retries {
                        self.step(format!("menu {name}: too many invalid keys"), None);
                        return self.go_or_hangup(&m.invalid);
                    }
                }
                None => {
                    // The rest of the prompts, all unanswered, read better as one step.
                    let played = retries + 1 - tries;
                    self.step(
                        format!(
                            "no key pressed: the prompts play {played} time(s), {wait} s wait each"
                        ),
                        None,
                    );
                    return self.go_or_hangup(&m.timeout);
                }
            }
        }
    }
}

impl Walk<'_> {
    /// Whether a time frame is open at the probe's time, written as a step about
    /// `subject` (the override a phone may have set is not known offline: the clock
    /// decides).
    pub(super) fn clock(
        &mut self,
        tf: &Sourced<Timeframe>,
        subject: &str,
    ) -> Result<bool, TraceError> {
        let entity = Self::entity(Kind::Timeframe, tf.name.as_str(), &tf.origin);
        if let Some(o) = self.probe.overrides.get(tf.name.as_str()) {
            let code = tf.override_code.as_ref().map_or("", |c| c.as_str());
            let open = *o == Override::Open;
            let state = if open { "open" } else { "closed" };
            self.step(
                format!("{subject}: {state}, {} overridden with {code}", tf.name),
                entity,
            );
            return Ok(open);
        }
        let state = hours(tf, &self.probe.at).map_err(|source| TraceError::Time {
            timeframe: tf.name.to_string(),
            source,
        })?;
        let unless = tf
            .override_code
            .as_ref()
            .map(|c| format!(" (unless {c} overrides it)"))
            .unwrap_or_default();
        let (open, text) = match state {
            Hours::Open(period) => (
                true,
                format!("{subject}: open ({} {period}){unless}", tf.name),
            ),
            Hours::Holiday(day) => (
                false,
                format!("{subject}: closed, holiday {day} ({}){unless}", tf.name),
            ),
            Hours::Closed => (
                false,
                format!("{subject}: closed, outside {}{unless}", tf.name),
            ),
        };
        self.step(text, entity);
        Ok(open)
    }

    /// A `{schedule: ...}` destination: its time frame picks the branch.
    pub(super) fn schedule(&mut self, s: &Schedule) -> Result<Outcome, TraceError> {
        let Some(tf) = self.fleet.timeframes.iter().find(|t| t.name == s.timeframe) else {
            return Ok(Outcome::NoRoute {
                number: "s".into(),
                context: format!("{}-timeframe-{}", self.prefix, s.timeframe),
            });
        };
        if self.clock(tf, "schedule")? {
            self.go(&s.open)
        } else {
            self.go(&s.closed)
        }
    }
}

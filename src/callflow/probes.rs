//! The calls that show what a server's dialplan does: every DID and inbound pattern from
//! every trunk, with every caller-id rule, at representative times (each period's
//! opening and closing minute, nights, weekends, each holiday), each key of the menus
//! they reach, and from each group of phones every internal number and outbound
//! pattern. Bounded: at most [`MAX_INTERNAL_NUMBERS`] extension numbers per group of
//! phones, so a server with thousands of extensions stays a few hundred probes.

use std::collections::BTreeSet;

use jiff::civil::{Date, DateTime, Weekday};

use super::contexts::allowed_routes;
use super::{Caller, Probe, Simulator, Stop, When};
use crate::model::dialing::example;
use crate::model::timeframe::{day_index, minute_of_day};

/// Most extension numbers probed from one group of phones (spread over the list).
pub const MAX_INTERNAL_NUMBERS: usize = 50;

/// A caller id no rule of the examples is written for.
const ORDINARY_CALLER: &str = "+15550001234";
/// A DID no route names, for the catch-all routes.
const UNLISTED_DID: &str = "+15550109999";

impl<'a> Simulator<'a> {
    /// The probes of this server (see the module); deterministic.
    pub fn probes(&self) -> Vec<Probe> {
        let times = self.representative_times();
        let mut probes = Vec::new();
        let e = &self.entities;
        let server = self.server.name.to_string();
        let probe = |number: &str, from: Caller, at: When, keys: Vec<String>| Probe {
            server: server.clone(),
            number: number.to_owned(),
            from,
            at,
            keys,
            status: Default::default(),
            overrides: Default::default(),
        };

        // Inbound: each trunk's context (and the shared one when a call cannot be told
        // apart by its trunk), each number, each caller.
        let mut trunks: Vec<Option<String>> =
            e.trunks.iter().map(|t| Some(t.name.to_string())).collect();
        if e.trunks.len() != 1 {
            trunks.push(None);
        }
        let mut dids: BTreeSet<String> = e
            .inbound_routes
            .iter()
            .filter_map(|r| r.did.as_ref().map(|d| example(d.as_str())))
            .collect();
        dids.insert(UNLISTED_DID.to_owned());
        let mut callers: BTreeSet<Option<String>> = e
            .inbound_routes
            .iter()
            .filter_map(|r| r.callerid.as_ref().map(|c| Some(example(c.as_str()))))
            .collect();
        callers.insert(None);
        callers.insert(Some(ORDINARY_CALLER.to_owned()));
        for trunk in &trunks {
            for did in &dids {
                for callerid in &callers {
                    let from = Caller::Outside {
                        callerid: callerid.clone(),
                        trunk: trunk.clone(),
                    };
                    self.with_times_and_keys(
                        &mut probes,
                        &times,
                        probe(did, from, When::Now, Vec::new()),
                    );
                }
            }
        }

        // Internal: one phone of each group that may use the same routes.
        let mut groups: BTreeSet<Vec<&str>> = BTreeSet::new();
        let enabled: Vec<_> = e.extensions.iter().filter(|x| x.enabled).collect();
        let step = enabled.len().div_ceil(MAX_INTERNAL_NUMBERS).max(1);
        let mut numbers: Vec<String> = enabled
            .iter()
            .step_by(step)
            .map(|x| x.number.to_string())
            .collect();
        numbers.extend(
            e.queues
                .iter()
                .filter_map(|q| q.number.as_ref().map(ToString::to_string)),
        );
        numbers.extend(
            e.menus
                .iter()
                .filter_map(|m| m.number.as_ref().map(ToString::to_string)),
        );
        numbers.extend(
            e.ring_groups
                .iter()
                .filter_map(|g| g.number.as_ref().map(ToString::to_string)),
        );
        numbers.extend(
            e.announcements
                .iter()
                .filter_map(|a| a.number.as_ref().map(ToString::to_string)),
        );
        numbers.extend(e.conferences.iter().flat_map(|c| {
            std::iter::once(c.number.to_string())
                .chain(c.admin_number.as_ref().map(ToString::to_string))
        }));
        numbers.extend(
            e.dialplans
                .iter()
                .filter_map(|d| d.number.as_ref().map(ToString::to_string)),
        );
        let patterns: BTreeSet<String> = e
            .outbound_routes
            .iter()
            .flat_map(|r| r.patterns.iter().map(|p| example(p.pattern.as_str())))
            .collect();
        numbers.extend(patterns);
        for caller in &enabled {
            let routes: Vec<&str> = allowed_routes(&e.outbound_routes, caller)
                .iter()
                .map(|r| r.name.as_str())
                .collect();
            if !groups.insert(routes) {
                continue;
            }
            for number in &numbers {
                let from = Caller::Extension(caller.number.to_string());
                self.with_times_and_keys(
                    &mut probes,
                    &times,
                    probe(number, from, When::Now, Vec::new()),
                );
            }
        }
        probes
    }

    /// Adds the probe at each time if its call meets a time frame (else once), and once
    /// more for each key of the first menu it reaches.
    fn with_times_and_keys(&self, probes: &mut Vec<Probe>, times: &[When], base: Probe) {
        // A call that meets no time frame is probed once, at an ordinary weekday noon
        // (never "now": the answer must not depend on when the probes run).
        let first = When::At(self.ordinary_noon());
        let at_first = Probe {
            at: first,
            ..base.clone()
        };
        let Ok(trace) = self.trace(&at_first) else {
            return;
        };
        let at: Vec<When> = if trace.timeframe().is_some() {
            times.to_vec()
        } else {
            vec![first]
        };
        for when in at {
            let p = Probe {
                at: when,
                ..base.clone()
            };
            let menu = self.trace(&p).ok().and_then(|t| {
                t.stops.iter().find_map(|s| match s {
                    Stop::Menu { name } => Some(name.clone()),
                    _ => None,
                })
            });
            if let Some(m) =
                menu.and_then(|m| self.entities.menus.iter().find(|x| x.name.as_str() == m))
            {
                for (key, _) in m.keys.iter() {
                    probes.push(Probe {
                        keys: vec![key.to_owned()],
                        ..p.clone()
                    });
                }
            }
            probes.push(p);
        }
    }

    /// Wednesday noon of the week the probes use.
    fn ordinary_noon(&self) -> DateTime {
        let frames = self.frames();
        quiet_week(&frames)
            .checked_add(jiff::Span::new().days(2))
            .unwrap_or(Date::constant(2026, 6, 3))
            .at(12, 0, 0, 0)
    }

    /// The time frames of this server's menus.
    fn frames(&self) -> Vec<&'a crate::model::Sourced<crate::model::Timeframe>> {
        self.entities
            .menus
            .iter()
            .filter_map(|m| m.timeframe.as_ref())
            .filter_map(|n| self.fleet.timeframes.iter().find(|t| t.name == *n))
            .map(|t| &**t)
            .collect()
    }

    /// Wall-clock times that tell a server's time frames apart: in a week without
    /// holidays, each period's first minute, its last and the minute it closes on its
    /// first day, Wednesday 03:00 and Sunday 12:00; and each holiday's first day at noon.
    pub fn representative_times(&self) -> Vec<When> {
        let frames = self.frames();
        let week = quiet_week(&frames);
        let mut times: BTreeSet<DateTime> = BTreeSet::new();
        let at = |day: Weekday, minute: u32| -> DateTime {
            let date = week
                .checked_add(jiff::Span::new().days(i64::from(day.to_monday_zero_offset())))
                .unwrap_or(week);
            date.at((minute / 60) as i8, (minute % 60) as i8, 0, 0)
        };
        times.insert(at(Weekday::Wednesday, 3 * 60));
        times.insert(at(Weekday::Sunday, 12 * 60));
        for tf in &frames {
            for p in &tf.periods {
                // The days are Monday-based indexes, as Weekday offsets are.
                let first_day = p
                    .days
                    .split([',', '-'])
                    .next()
                    .and_then(day_index)
                    .and_then(|i| Weekday::from_monday_zero_offset(i as i8).ok())
                    .unwrap_or(Weekday::Monday);
                let (Some(from), Some(to)) = (minute_of_day(&p.from), minute_of_day(&p.to)) else {
                    continue;
                };
                times.insert(at(first_day, from));
                times.insert(at(first_day, to.saturating_sub(1)));
                if to < 24 * 60 {
                    times.insert(at(first_day, to));
                }
            }
            for h in &tf.holidays {
                if let Ok(date) = h.date.parse::<Date>() {
                    times.insert(date.at(12, 0, 0, 0));
                }
            }
        }
        times.into_iter().map(When::At).collect()
    }
}

/// The Monday of the first week from June 2026 in which no holiday of these time
/// frames falls (weekly probes must not land on a holiday by chance).
fn quiet_week(frames: &[&crate::model::Sourced<crate::model::Timeframe>]) -> Date {
    let start = Date::constant(2026, 6, 1);
    (0..104)
        .filter_map(|w| start.checked_add(jiff::Span::new().weeks(w)).ok())
        .find(|monday| {
            (0..7).all(|d| {
                let day = monday
                    .checked_add(jiff::Span::new().days(d))
                    .unwrap_or(*monday);
                let noon = When::At(day.at(12, 0, 0, 0));
                frames.iter().all(|tf| {
                    !matches!(
                        super::clock::hours(tf, &noon),
                        Ok(super::clock::Hours::Holiday(_))
                    )
                })
            })
        })
        .unwrap_or(start)
}

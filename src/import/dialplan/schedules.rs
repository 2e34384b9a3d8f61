//! Contexts that are exactly a time condition: `s` runs `GotoIfTime(times,days,*,*?ctx,s,1)`
//! (one or more, all to the same place), then one destination for the rest of the
//! time. They become a time frame and a schedule destination
//! (`{schedule: {timeframe, open, closed}}`) wherever a route or a menu key went to
//! them. `GotoIfTime` counts the end minute in (`09:00-17:59` is open until 18:00), so
//! the period's `to` is one minute after the range's end.

use super::phones::is_app;
use super::raw::split_args;
use super::targets::Targets;
use super::{Context, Step};
use crate::model::names::Name;
use crate::model::target::{Schedule, Target};
use crate::model::timeframe::{Period, Timeframe};

/// A time condition's parts: its periods, where they go, and where the rest goes.
pub(super) struct TimeCondition<'a> {
    pub periods: Vec<Period>,
    /// `ctx` of `?ctx,s,1` (or of `?phones,N,1`: then with its number).
    pub open: Step,
    pub closed: &'a Step,
}

/// The time condition a context is, by its shape alone.
pub(super) fn shaped<'c>(c: &'c Context<'_>) -> Option<TimeCondition<'c>> {
    if c.extens.len() != 1
        || c.extens[0].name != "s"
        || !c.includes.is_empty()
        || !c.other.is_empty()
    {
        return None;
    }
    let steps = c.extens[0].working();
    let (tail, checks) = match steps.split_last()? {
        (last, rest) if is_app(last, "hangup") && !rest.is_empty() => rest.split_last()?,
        split => split,
    };
    let closed = *tail;
    if checks.is_empty() {
        return None;
    }
    let mut periods = Vec::new();
    let mut open: Option<String> = None;
    for check in checks {
        if !is_app(check, "gotoiftime") {
            return None;
        }
        let (spec, branch) = check.data.split_once('?')?;
        // One branch only: `?true` (no `:false`).
        if branch.contains(':') || open.as_deref().is_some_and(|o| o != branch) {
            return None;
        }
        open = Some(branch.to_owned());
        periods.push(period(spec)?);
    }
    Some(TimeCondition {
        periods,
        open: Step {
            app: "Goto".into(),
            data: open?,
            ..closed.clone()
        },
        closed,
    })
}

/// `09:00-17:59,mon-fri,*,*` → a period, when nothing but times and days is set.
fn period(spec: &str) -> Option<Period> {
    let args: Vec<String> = split_args(spec)
        .into_iter()
        .map(|a| a.trim().to_owned())
        .collect();
    let [times, days, mdays, months] = args.as_slice() else {
        return None;
    };
    if mdays != "*" || months != "*" {
        return None;
    }
    let (from, to) = match times.as_str() {
        "*" => ("00:00".to_owned(), "24:00".to_owned()),
        range => {
            let (a, b) = range.split_once('-')?;
            let (from, last) = (minutes(a)?, minutes(b)?);
            if last < from {
                return None; // across midnight: two periods in the model, not one
            }
            (clock(from), clock(last + 1))
        }
    };
    let days = match days.as_str() {
        "*" => "mon-sun".to_owned(),
        d => d.replace('&', ","),
    };
    let known = |d: &str| crate::model::timeframe::DAYS.contains(&d);
    if !days.split([',', '-']).all(known) {
        return None;
    }
    Some(Period { days, from, to })
}

fn minutes(hhmm: &str) -> Option<u32> {
    let (h, m) = hhmm.trim().split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}

fn clock(minutes: u32) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// The time frame's name for a context of `server`: time frames are named fleet-wide.
pub(super) fn timeframe_name(server: &str, context: &str) -> Option<Name> {
    let name = format!("{server}-{context}");
    crate::import::pjsip::name(&name).ok()
}

/// The schedule destination and its time frame, when both branches map.
pub(super) fn schedule(c: &Context, targets: &Targets) -> Option<(Target, Timeframe)> {
    let condition = shaped(c)?;
    let name = timeframe_name(targets.known.server, &c.object.name)?;
    let open = targets.of(&condition.open)?;
    let closed = targets.of(condition.closed)?;
    let timeframe = Timeframe {
        name: name.clone(),
        timezone: None,
        periods: condition.periods,
        holidays: Vec::new(),
        override_code: None,
    };
    let target = Target::Schedule(Box::new(Schedule {
        timeframe: name,
        open,
        closed,
    }));
    Some((target, timeframe))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gotoiftime_range_becomes_a_period_ending_a_minute_after_its_last_minute() {
        let p = period("09:00-17:59,mon-fri,*,*").unwrap();
        assert_eq!(
            (p.days.as_str(), p.from.as_str(), p.to.as_str()),
            ("mon-fri", "09:00", "18:00")
        );
        let p = period("*,sat&sun,*,*").unwrap();
        assert_eq!(
            (p.days.as_str(), p.from.as_str(), p.to.as_str()),
            ("sat,sun", "00:00", "24:00")
        );
        assert!(period("22:00-06:00,*,*,*").is_none(), "across midnight");
        assert!(
            period("09:00-18:00,mon-fri,1,*").is_none(),
            "a day of the month"
        );
    }
}

//! Time frames and schedules: one subroutine per time frame a server uses, answering
//! `open` or `closed` (its override first, then holidays, then the weekly periods); one
//! context per distinct `{schedule: ...}` destination; and the override codes.

use std::collections::HashSet;

use minijinja::Value;
use serde::Serialize;

use super::super::{Ctx, FileOrigins, arg, safe, short_hash};
use crate::model::target::Schedule;
use crate::model::timeframe::{Holiday, minute_of_day};
use crate::model::{Sourced, Target, Timeframe};
use crate::render::RenderError;
use crate::render::kind::ConfKind;

/// A time frame's subroutine: `Gosub(<context>,s,1)` returns `open` or `closed` in
/// `GOSUB_RETVAL`; `Gosub(<context>,clock,1)` the same without the override.
#[derive(Debug, Serialize)]
pub struct TimeframeView {
    /// `<prefix>-timeframe-<name>`.
    pub context: Value,
    /// The time frame's name.
    pub name: Value,
    /// Conditions (`$[...]` expressions) true on a holiday.
    pub holidays: Vec<Value>,
    /// `GotoIfTime()` specs of the open periods (`09:00-17:59,mon-fri,*,*[,zone]`).
    pub periods: Vec<Value>,
    /// The override, when the time frame has an override code.
    pub forced: Option<OverrideView>,
}

/// A time frame's manual override: its feature code, where it is kept, and its BLF.
#[derive(Debug, Serialize)]
pub struct OverrideView {
    /// The feature code (`*2701`), in `<prefix>-features`.
    pub code: Value,
    /// The AstDB `family/key` holding `open` or `closed` while overridden.
    pub db_key: Value,
    /// The custom device state a BLF key watches: `Custom:<prefix>-timeframe-<name>`
    /// (`INUSE` while overridden, `NOT_INUSE` when the clock decides).
    pub device: Value,
}

/// A `{schedule: ...}` destination's context.
#[derive(Debug, Serialize)]
pub struct ScheduleView {
    /// `<prefix>-schedule-<time frame>-<hash of the two destinations>`.
    pub context: Value,
    /// The time frame's name.
    pub timeframe: Value,
    /// Its subroutine's context.
    pub check: Value,
    /// Where the call goes while open, and while closed (dialplan applications).
    pub open: Value,
    pub closed: Value,
}

/// The context a schedule's destination enters: the same two branches on the same time
/// frame share it, wherever they are written.
pub(in crate::render::view) fn schedule_context(prefix: &str, s: &Schedule) -> String {
    let branches = serde_json::to_string(&(&s.open, &s.closed)).unwrap_or_default();
    format!(
        "{prefix}-schedule-{}-{}",
        s.timeframe,
        short_hash(&branches)
    )
}

/// The server's time frames (those its menus and schedules use, in fleet order), and its
/// schedules (in the order their destinations are written).
pub(super) fn build(
    ctx: &Ctx,
    origins: &mut FileOrigins,
) -> Result<(Vec<TimeframeView>, Vec<ScheduleView>), RenderError> {
    let schedules: Vec<&Schedule> = ctx
        .entities
        .targets()
        .into_iter()
        .filter_map(|t| match t {
            Target::Schedule(s) => Some(&**s),
            _ => None,
        })
        .collect();
    let used: HashSet<&str> = ctx
        .entities
        .menus
        .iter()
        .filter_map(|m| m.timeframe.as_ref().map(|t| t.as_str()))
        .chain(schedules.iter().map(|s| s.timeframe.as_str()))
        .collect();
    let mut timeframes = Vec::new();
    for tf in ctx.fleet.timeframes.iter() {
        if used.contains(tf.name.as_str()) {
            origins.add(ConfKind::Dialplan, &tf.origin);
            timeframes.push(timeframe(ctx, tf)?);
        }
    }
    let mut seen = HashSet::new();
    let mut views = Vec::new();
    for s in schedules {
        let context = schedule_context(ctx.prefix, s);
        if !seen.insert(context.clone()) {
            continue;
        }
        let entity = format!("schedule on time frame {}", s.timeframe);
        views.push(ScheduleView {
            context: safe(context),
            timeframe: safe(s.timeframe.to_string()),
            check: safe(ctx.context("timeframe", s.timeframe.as_str())),
            open: ctx.target(&s.open, &entity, "open")?,
            closed: ctx.target(&s.closed, &entity, "closed")?,
        });
    }
    Ok((timeframes, views))
}

fn timeframe(ctx: &Ctx, tf: &Sourced<Timeframe>) -> Result<TimeframeView, RenderError> {
    let entity = format!("time frame {}", tf.name);
    let tz = tf
        .timezone
        .as_deref()
        .map(|z| arg(z, ctx, &entity, "timezone"))
        .transpose()?;
    let holidays = tf
        .holidays
        .iter()
        .map(|h| safe(holiday_condition(h, tz.as_deref().unwrap_or(""))))
        .collect();
    let periods = tf
        .periods
        .iter()
        .map(|period| {
            let to = last_open_minute(&period.to);
            let days = period.days.replace(',', "&");
            let mut spec = format!("{}-{to},{days},*,*", period.from);
            if let Some(tz) = &tz {
                spec.push(',');
                spec.push_str(tz);
            }
            safe(spec)
        })
        .collect();
    let context = ctx.context("timeframe", tf.name.as_str());
    let forced = match &tf.override_code {
        None => None,
        Some(code) => Some(OverrideView {
            code: safe(arg(code.as_str(), ctx, &entity, "override_code")?),
            db_key: safe(format!("{}/{}", ctx.context("", "timeframe"), tf.name)),
            device: safe(format!("Custom:{context}")),
        }),
    };
    Ok(TimeframeView {
        context: safe(context),
        name: safe(tf.name.to_string()),
        holidays,
        periods,
        forced,
    })
}

/// The last minute a period is open: `GotoIfTime` counts its end minute in (`09:00-18:30`
/// is open until 18:30:59), while a time frame's `to` is when it closes.
fn last_open_minute(to: &str) -> String {
    let last = minute_of_day(to).unwrap_or(0).saturating_sub(1);
    format!("{:02}:{:02}", last / 60, last % 60)
}

/// A dialplan condition that is true on a holiday, in the time frame's zone.
fn holiday_condition(h: &Holiday, tz: &str) -> String {
    let digits = |d: &str| d.replace('-', "");
    let (from, to) = (
        h.date.as_str(),
        h.until.as_deref().unwrap_or(h.date.as_str()),
    );
    if h.yearly {
        let today = format!("${{STRFTIME(${{EPOCH}},{tz},%m%d)}}");
        let (f, t) = (digits(&from[5..]), digits(&to[5..]));
        if f <= t {
            format!("$[{today} >= {f} & {today} <= {t}]")
        } else {
            // Crosses the new year, e.g. 12-31 to 01-02.
            format!("$[{today} >= {f} | {today} <= {t}]")
        }
    } else {
        let today = format!("${{STRFTIME(${{EPOCH}},{tz},%Y%m%d)}}");
        format!("$[{today} >= {} & {today} <= {}]", digits(from), digits(to))
    }
}

#[cfg(test)]
mod tests {
    use super::last_open_minute;

    #[test]
    fn a_period_closing_at_18_30_is_open_until_18_29_59() {
        assert_eq!(last_open_minute("18:30"), "18:29");
        assert_eq!(last_open_minute("24:00"), "23:59");
        assert_eq!(last_open_minute("10:00"), "09:59");
    }
}

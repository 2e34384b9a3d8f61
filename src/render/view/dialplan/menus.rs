//! IVR menus: business hours and holidays, prompts, keys, retries.

use minijinja::Value;
use serde::Serialize;

use super::super::{Ctx, DEFAULT_DIGIT_TIMEOUT, DEFAULT_MAX_RETRIES, FileOrigins, arg, safe};
use crate::model::timeframe::{Holiday, minute_of_day};
use crate::model::{Menu, Sourced};
use crate::render::RenderError;
use crate::render::escape;
use crate::render::kind::ConfKind;

/// An IVR menu's context.
#[derive(Debug, Serialize)]
pub struct MenuView {
    /// `<prefix>-menu-<name>`.
    pub context: Value,
    /// The menu's name, for comments and `NoOp()`.
    pub name: Value,
    /// Conditions (`$[...]` expressions) true on a holiday of the menu's time frame.
    pub holidays: Vec<Value>,
    /// `GotoIfTime()` specs of the open periods (`09:00-18:00,mon-fri,*,*[,zone]`).
    pub periods: Vec<Value>,
    /// Where calls go outside the time frame (only with a time frame).
    pub after_hours: Option<Value>,
    /// The prompts for `Background()`, joined with `&`.
    pub prompts: Value,
    /// Seconds to wait for a key after the prompts.
    pub digit_timeout: u32,
    /// How many invalid keys or timeouts before giving up.
    pub max_retries: u32,
    /// The keys and where each goes.
    pub keys: Vec<MenuKeyView>,
    /// Where the caller goes after too many invalid keys / timeouts.
    pub invalid: Value,
    pub timeout: Value,
    /// The prompt played after an invalid key.
    pub invalid_prompt: Value,
    /// Whether callers may dial an extension number directly (includes `<prefix>-direct`).
    pub direct: bool,
}

/// One key of a menu.
#[derive(Debug, Serialize)]
pub struct MenuKeyView {
    /// The key (`0`-`9`, `*`, `#`).
    pub key: Value,
    /// Where it goes, a dialplan application.
    pub target: Value,
}

pub(super) fn build(ctx: &Ctx, origins: &mut FileOrigins) -> Result<Vec<MenuView>, RenderError> {
    let mut menus = Vec::new();
    for m in ctx.entities.menus.iter().copied() {
        origins.add(ConfKind::Dialplan, &m.origin);
        menus.push(menu(ctx, m, origins)?);
    }
    Ok(menus)
}

fn menu(ctx: &Ctx, m: &Sourced<Menu>, origins: &mut FileOrigins) -> Result<MenuView, RenderError> {
    let entity = format!("menu {}", m.name);
    let (mut holidays, mut periods) = (Vec::new(), Vec::new());
    let mut after_hours = None;
    if let Some(tf) = m
        .timeframe
        .as_ref()
        .and_then(|n| ctx.fleet.timeframes.iter().find(|t| t.name == *n))
    {
        origins.add(ConfKind::Dialplan, &tf.origin);
        let tz = tf
            .timezone
            .as_deref()
            .map(|z| arg(z, ctx, &entity, "timezone"))
            .transpose()?;
        for h in &tf.holidays {
            holidays.push(safe(holiday_condition(h, tz.as_deref().unwrap_or(""))));
        }
        for period in &tf.periods {
            let to = last_open_minute(&period.to);
            let days = period.days.replace(',', "&");
            let mut spec = format!("{}-{to},{days},*,*", period.from);
            if let Some(tz) = &tz {
                spec.push(',');
                spec.push_str(tz);
            }
            periods.push(safe(spec));
        }
        after_hours = Some(ctx.target_or_hangup(&m.after_hours, &entity, "after_hours")?);
    }
    let prompts = m
        .prompts
        .iter()
        .map(|s| arg(&s.0, ctx, &entity, "prompts"))
        .collect::<Result<Vec<_>, _>>()?
        .join("&");
    let keys = m
        .keys
        .iter()
        .map(|(k, t)| {
            Ok(MenuKeyView {
                key: safe(k.to_owned()),
                target: ctx.target(t, &entity, "keys")?,
            })
        })
        .collect::<Result<Vec<_>, RenderError>>()?;
    Ok(MenuView {
        context: safe(ctx.context("menu", m.name.as_str())),
        name: safe(escape::comment(m.name.as_str())),
        holidays,
        periods,
        after_hours,
        prompts: safe(prompts),
        digit_timeout: m.digit_timeout.unwrap_or(DEFAULT_DIGIT_TIMEOUT),
        max_retries: m.max_retries.unwrap_or(DEFAULT_MAX_RETRIES),
        keys,
        invalid: ctx.target_or_hangup(&m.invalid, &entity, "invalid")?,
        timeout: ctx.target_or_hangup(&m.timeout, &entity, "timeout")?,
        invalid_prompt: safe(match &m.invalid_prompt {
            Some(p) => arg(&p.0, ctx, &entity, "invalid_prompt")?,
            None => "option-is-invalid".to_owned(),
        }),
        direct: m.direct_dial,
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

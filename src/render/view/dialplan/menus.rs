//! IVR menus (business hours, prompts, keys, retries) and announcements (prompts, then
//! a destination).

use minijinja::Value;
use serde::Serialize;

use super::super::{Ctx, DEFAULT_DIGIT_TIMEOUT, DEFAULT_MAX_RETRIES, FileOrigins, arg, safe};
use crate::model::announcement::Announcement;
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
    /// The subroutine of the menu's time frame (`<prefix>-timeframe-<name>`), if it has one.
    pub timeframe: Option<Value>,
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

/// An announcement's context, `<prefix>-announcement-<name>`.
#[derive(Debug, Serialize)]
pub struct AnnouncementView {
    pub context: Value,
    pub name: Value,
    /// The prompts for `Playback()`, joined with `&`, once per repeat.
    pub plays: Vec<Value>,
    /// Where the call goes afterwards (a dialplan application).
    pub then: Value,
}

pub(super) fn announcements(
    ctx: &Ctx,
    origins: &mut FileOrigins,
) -> Result<Vec<AnnouncementView>, RenderError> {
    let mut out = Vec::new();
    for a in ctx.entities.announcements.iter().copied() {
        origins.add(ConfKind::Dialplan, &a.origin);
        out.push(announcement(ctx, a)?);
    }
    Ok(out)
}

fn announcement(ctx: &Ctx, a: &Sourced<Announcement>) -> Result<AnnouncementView, RenderError> {
    let entity = format!("announcement {}", a.name);
    let prompts = a
        .prompts
        .iter()
        .map(|s| arg(&s.0, ctx, &entity, "prompts"))
        .collect::<Result<Vec<_>, _>>()?
        .join("&");
    let times = a.repeat.unwrap_or(1) as usize;
    Ok(AnnouncementView {
        context: safe(ctx.context("announcement", a.name.as_str())),
        name: safe(escape::comment(a.name.as_str())),
        plays: vec![safe(prompts); times],
        then: ctx.target_or_hangup(&a.then, &entity, "then")?,
    })
}

pub(super) fn build(ctx: &Ctx, origins: &mut FileOrigins) -> Result<Vec<MenuView>, RenderError> {
    let mut menus = Vec::new();
    for m in ctx.entities.menus.iter().copied() {
        origins.add(ConfKind::Dialplan, &m.origin);
        menus.push(menu(ctx, m)?);
    }
    Ok(menus)
}

fn menu(ctx: &Ctx, m: &Sourced<Menu>) -> Result<MenuView, RenderError> {
    let entity = format!("menu {}", m.name);
    let mut timeframe = None;
    let mut after_hours = None;
    if let Some(tf) = &m.timeframe {
        timeframe = Some(safe(ctx.context("timeframe", tf.as_str())));
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
        timeframe,
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

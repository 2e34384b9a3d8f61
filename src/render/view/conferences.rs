//! `confbridge_odoo.conf`: one bridge profile and one or two user profiles per
//! conference room; the same view gives each room its `<prefix>-conference-<name>`
//! context in `extensions_odoo.conf`.

use minijinja::Value;
use serde::Serialize;

use super::{Ctx, FileOrigins, arg, safe};
use crate::model::conference::Conference;
use crate::model::{Sourced, secret::Secret};
use crate::render::RenderError;
use crate::render::escape::EscapeError;
use crate::render::kind::ConfKind;

/// A conference room: its profiles and its dialplan context.
#[derive(Debug, Serialize)]
pub struct ConferenceView {
    /// The room's name, for comments.
    pub name: String,
    /// `<prefix>-conference-<name>`: `s` joins as a participant, `admin` as organiser.
    pub context: Value,
    /// The ConfBridge conference (`<prefix>-<name>`), as an argument of `ConfBridge()`.
    pub room: Value,
    /// Profile section names: `<prefix>-bridge-<name>`, `<prefix>-user-<name>` and, with
    /// an organiser, `<prefix>-admin-<name>`.
    pub bridge: String,
    pub user: String,
    pub admin: Option<String>,
    /// `max_members=`.
    pub max_members: Option<u32>,
    /// `record_conference=yes`.
    pub record: bool,
    /// Participants' and organiser's `pin=` (digits; masked in plans).
    pub pin: Option<String>,
    pub admin_pin: Option<String>,
    /// `music_on_hold_class=` heard while alone.
    pub music: Option<String>,
    /// Participants wait for the organiser and leave with them (`wait_marked`,
    /// `end_marked`).
    pub wait_for_admin: bool,
}

pub(super) fn build(
    ctx: &Ctx,
    origins: &mut FileOrigins,
) -> Result<Vec<ConferenceView>, RenderError> {
    let mut out = Vec::new();
    for c in ctx.entities.conferences.iter().copied() {
        origins.add(ConfKind::Confbridge, &c.origin);
        origins.add(ConfKind::Dialplan, &c.origin);
        out.push(conference(ctx, c)?);
    }
    Ok(out)
}

fn conference(ctx: &Ctx, c: &Sourced<Conference>) -> Result<ConferenceView, RenderError> {
    let entity = format!("conference {}", c.name);
    let pin = |field: &str, secret: &Option<Secret>| -> Result<Option<String>, RenderError> {
        let Some(secret) = secret else {
            return Ok(None);
        };
        let value = ctx.secret(&entity, field, secret)?;
        // Typed on a keypad: anything else could never be entered.
        if value.is_empty() || value.len() > 20 || !value.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ctx.unsafe_value(&entity, field, EscapeError::NotDigits));
        }
        Ok(Some(value))
    };
    let name = c.name.as_str();
    let section = |kind: &str| format!("{}-{kind}-{name}", ctx.prefix);
    let admin = c.admin_number.as_ref().map(|_| section("admin"));
    Ok(ConferenceView {
        name: name.to_owned(),
        context: safe(ctx.context("conference", name)),
        room: safe(arg(
            &format!("{}-{name}", ctx.prefix),
            ctx,
            &entity,
            "name",
        )?),
        bridge: section("bridge"),
        user: section("user"),
        max_members: c.max_members,
        record: c.record,
        pin: pin("pin", &c.pin)?,
        admin_pin: match admin {
            Some(_) => pin("admin_pin", &c.admin_pin)?,
            None => None,
        },
        admin,
        music: c.music_when_alone.as_ref().map(ToString::to_string),
        wait_for_admin: c.wait_for_admin && c.admin_number.is_some(),
    })
}

//! Ring groups: one `Dial()` per step of the strategy, ringing the caller back (`r`)
//! instead of answering; members that wait (`delay`) or are outside numbers ring through
//! a Local channel into the group's members context, where an outside member must press
//! 1 (`U()` gosub into `<prefix>-confirm`) before it is bridged.

use minijinja::Value;
use serde::Serialize;

use super::super::{Ctx, FileOrigins, arg, exten, safe};
use crate::model::ring_group::{DEFAULT_CONFIRM_PROMPT, RingMember};
use crate::model::{RingGroup, Sourced};
use crate::render::RenderError;
use crate::render::escape;
use crate::render::kind::ConfKind;

/// A ring group's contexts.
#[derive(Debug, Serialize)]
pub struct RingGroupView {
    /// `<prefix>-ringgroup-<name>`: where calls to the group enter (at `s`).
    pub context: Value,
    /// `<prefix>-ringmembers-<name>`: the members that ring through a Local channel, by
    /// number.
    pub members_context: Value,
    /// The group's name, for comments and `NoOp()`.
    pub name: Value,
    /// `ring_all`, `hunt` or `memory_hunt`, for the comment above the context.
    pub strategy: Value,
    /// The caller-id name prefix, escaped for `Set()`.
    pub callerid_prefix: Option<Value>,
    /// Seconds each `Dial()` rings.
    pub ring_time: u32,
    /// The devices of each step, joined with `&` (`PJSIP/101&Local/102@...-members`).
    pub steps: Vec<Value>,
    /// The members rung through a Local channel.
    pub locals: Vec<LocalMember>,
    /// Where the caller goes when nobody answers.
    pub no_answer: Value,
}

/// A member rung through the members context.
#[derive(Debug, Serialize)]
pub struct LocalMember {
    /// The extension there: the member's number.
    pub exten: Value,
    /// Seconds to wait before ringing (0: none).
    pub delay: u32,
    /// The `Dial()` arguments that ring the member.
    pub dial: Value,
}

/// The ring groups of the server, and whether any has an outside member that confirms
/// (then `<prefix>-confirm` is written).
pub(super) fn build(
    ctx: &Ctx,
    origins: &mut FileOrigins,
) -> Result<(Vec<RingGroupView>, bool), RenderError> {
    let mut groups = Vec::new();
    let mut confirm = false;
    for g in ctx.entities.ring_groups.iter().copied() {
        origins.add(ConfKind::Dialplan, &g.origin);
        confirm |= g.members.iter().any(RingMember::confirms);
        groups.push(group(ctx, g)?);
    }
    Ok((groups, confirm))
}

fn group(ctx: &Ctx, g: &Sourced<RingGroup>) -> Result<RingGroupView, RenderError> {
    let entity = format!("ring group {}", g.name);
    let context = ctx.context("ringgroup", g.name.as_str());
    let members_context = ctx.context("ringmembers", g.name.as_str());
    let prompt = g
        .confirm_prompt
        .as_ref()
        .map_or(DEFAULT_CONFIRM_PROMPT, |p| p.0.as_str());
    // U() runs the gosub from `s,1` of the context; what follows `^` are its arguments.
    let confirm = format!(
        "U({}^{})",
        ctx.context("", "confirm"),
        arg(prompt, ctx, &entity, "confirm_prompt")?
    );
    // Members whose extension is disabled are not rendered: dialling them would fail.
    let rung = |m: &RingMember| match m.extension() {
        Some(n) => ctx
            .entities
            .extension_by_number
            .get(n.as_str())
            .is_some_and(|e| e.enabled),
        None => true,
    };
    let device = |m: &RingMember| -> Result<String, RenderError> {
        let number = exten(m.number(), ctx, &entity, "members")?;
        Ok(match m {
            RingMember::Extension(_) | RingMember::Phone(_) if m.delay() == 0 => {
                format!("PJSIP/{number}")
            }
            _ => format!("Local/{number}@{members_context}"),
        })
    };
    let mut steps = Vec::new();
    for step in g.steps() {
        let devices = step
            .iter()
            .filter(|m| rung(m))
            .map(device)
            .collect::<Result<Vec<_>, _>>()?;
        if !devices.is_empty() {
            steps.push(safe(devices.join("&")));
        }
    }
    let mut locals = Vec::new();
    for m in g.members.iter().filter(|m| rung(m)) {
        let number = exten(m.number(), ctx, &entity, "members")?;
        let dial = match m {
            RingMember::Outside(_) if m.confirms() => {
                format!("Local/{number}@{},,{confirm}", ctx.context("", "outbound"))
            }
            RingMember::Outside(_) => format!("Local/{number}@{}", ctx.context("", "outbound")),
            _ if m.delay() > 0 => format!("PJSIP/{number}"),
            _ => continue,
        };
        locals.push(LocalMember {
            exten: safe(number),
            delay: m.delay(),
            dial: safe(dial),
        });
    }
    Ok(RingGroupView {
        name: safe(g.name.to_string()),
        strategy: safe(g.strategy.keyword().to_owned()),
        callerid_prefix: g
            .callerid_prefix
            .as_deref()
            .map(|p| {
                escape::set_value(p)
                    .map(safe)
                    .map_err(|e| ctx.unsafe_value(&entity, "callerid_prefix", e))
            })
            .transpose()?,
        ring_time: g.ring_time(),
        steps,
        locals,
        no_answer: ctx.target_or_hangup(&g.no_answer, &entity, "no_answer")?,
        context: safe(context),
        members_context: safe(members_context),
    })
}

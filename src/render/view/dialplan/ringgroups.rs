//! Ring groups and follow-me: one `Dial()` per step of the strategy, ringing the caller
//! back (`r`) instead of answering; members that wait (`delay`) or are outside numbers
//! ring through a Local channel into a members context, where an outside member must
//! press 1 (`U()` gosub into `<prefix>-confirm`) before it is bridged.

use minijinja::Value;
use serde::Serialize;

use super::super::{Ctx, FileOrigins, arg, exten, safe};
use crate::model::extension::Extension;
use crate::model::follow_me::{FollowMe, FollowOrder};
use crate::model::names::SoundFile;
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

/// An extension's follow-me: a subroutine the extension's dialling calls (with the desk
/// phone in every step for `with_desk`); it returns when nobody answers.
#[derive(Debug, Serialize)]
pub struct FollowMeView {
    /// `<prefix>-followme-<number>`, entered at `s` with `Gosub`.
    pub context: Value,
    /// `<prefix>-followmembers-<number>`: its numbers that ring through a Local channel.
    pub members_context: Value,
    /// The extension's number.
    pub extension: Value,
    /// `after_desk` or `with_desk`, and the strategy, for the comment above the context.
    pub order: Value,
    pub strategy: Value,
    /// Seconds each `Dial()` rings.
    pub ring_time: u32,
    /// The devices of each step, joined with `&`.
    pub steps: Vec<Value>,
    /// The numbers rung through a Local channel.
    pub locals: Vec<LocalMember>,
}

/// How an extension's dialling uses its follow-me.
#[derive(Debug, Serialize)]
pub struct FollowCall {
    /// The follow-me subroutine's context.
    pub context: Value,
    /// The subroutine rings the desk phone too (instead of the extension's own `Dial`).
    pub with_desk: bool,
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

/// The ring groups and follow-me of the server, and whether any has an outside member
/// that confirms (then `<prefix>-confirm` is written).
pub(super) struct Ringing {
    pub ring_groups: Vec<RingGroupView>,
    pub follow_me: Vec<FollowMeView>,
    pub has_confirm: bool,
}

pub(super) fn build(ctx: &Ctx, origins: &mut FileOrigins) -> Result<Ringing, RenderError> {
    let mut ring_groups = Vec::new();
    let mut has_confirm = false;
    for g in ctx.entities.ring_groups.iter().copied() {
        origins.add(ConfKind::Dialplan, &g.origin);
        has_confirm |= g.members.iter().any(RingMember::confirms);
        ring_groups.push(group(ctx, g)?);
    }
    let mut follow_me = Vec::new();
    for e in ctx.extensions() {
        if let Some(f) = rendered_follow_me(ctx, e) {
            has_confirm |= f.numbers.iter().any(RingMember::confirms);
            follow_me.push(follow_me_view(ctx, e, f)?);
        }
    }
    Ok(Ringing {
        ring_groups,
        follow_me,
        has_confirm,
    })
}

/// An extension's follow-me, when it is enabled and has a number to ring (one whose
/// numbers are all disabled extensions is not rendered).
fn rendered_follow_me<'e>(ctx: &Ctx, e: &'e Extension) -> Option<&'e FollowMe> {
    e.follow_me()
        .filter(|f| f.numbers.iter().any(|m| rung(ctx, m)))
}

/// The follow-me an extension's dialling calls, when it has one.
pub(super) fn follow_call(ctx: &Ctx, e: &Extension) -> Option<FollowCall> {
    let f = rendered_follow_me(ctx, e)?;
    Some(FollowCall {
        context: safe(ctx.context("followme", e.number.as_str())),
        with_desk: f.order == FollowOrder::WithDesk,
    })
}

fn follow_me_view(
    ctx: &Ctx,
    e: &Sourced<Extension>,
    f: &FollowMe,
) -> Result<FollowMeView, RenderError> {
    let n = e.number.as_str();
    let entity = format!("extension {n}");
    let members_context = ctx.context("followmembers", n);
    let members = Members::new(
        ctx,
        &entity,
        members_context.clone(),
        f.confirm_prompt.as_ref(),
    )?;
    let desk = match f.order {
        FollowOrder::WithDesk => Some(format!("PJSIP/{}", exten(n, ctx, &entity, "number")?)),
        FollowOrder::AfterDesk => None,
    };
    let steps = members.steps(f.steps(), desk.as_deref())?;
    Ok(FollowMeView {
        context: safe(ctx.context("followme", n)),
        members_context: safe(members_context),
        extension: safe(exten(n, ctx, &entity, "number")?),
        order: safe(f.order.keyword().to_owned()),
        strategy: safe(f.strategy.keyword().to_owned()),
        ring_time: f.ring_time(),
        steps,
        locals: members.locals(&f.numbers)?,
    })
}

fn group(ctx: &Ctx, g: &Sourced<RingGroup>) -> Result<RingGroupView, RenderError> {
    let entity = format!("ring group {}", g.name);
    let context = ctx.context("ringgroup", g.name.as_str());
    let members_context = ctx.context("ringmembers", g.name.as_str());
    let members = Members::new(
        ctx,
        &entity,
        members_context.clone(),
        g.confirm_prompt.as_ref(),
    )?;
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
        steps: members.steps(g.steps(), None)?,
        locals: members.locals(&g.members)?,
        no_answer: ctx.target_or_hangup(&g.no_answer, &entity, "no_answer")?,
        context: safe(context),
        members_context: safe(members_context),
    })
}

/// Members whose extension is disabled are not rendered: dialling them would fail.
fn rung(ctx: &Ctx, m: &RingMember) -> bool {
    match m.extension() {
        Some(n) => ctx
            .entities
            .extension_by_number
            .get(n.as_str())
            .is_some_and(|e| e.enabled),
        None => true,
    }
}

/// How the members of one ring group or follow-me ring.
struct Members<'c> {
    ctx: &'c Ctx<'c>,
    entity: &'c str,
    /// Where members that wait or are outside numbers ring from.
    context: String,
    /// The `U()` option of a confirming outside member's `Dial()`.
    confirm: String,
}

impl<'c> Members<'c> {
    fn new(
        ctx: &'c Ctx<'c>,
        entity: &'c str,
        context: String,
        prompt: Option<&SoundFile>,
    ) -> Result<Self, RenderError> {
        let prompt = prompt.map_or(DEFAULT_CONFIRM_PROMPT, |p| p.0.as_str());
        // U() runs the gosub from `s,1` of the context; what follows `^` are its arguments.
        let confirm = format!(
            "U({}^{})",
            ctx.context("", "confirm"),
            arg(prompt, ctx, entity, "confirm_prompt")?
        );
        Ok(Members {
            ctx,
            entity,
            context,
            confirm,
        })
    }

    fn device(&self, m: &RingMember) -> Result<String, RenderError> {
        let number = exten(m.number(), self.ctx, self.entity, "members")?;
        Ok(match m {
            RingMember::Extension(_) | RingMember::Phone(_) if m.delay() == 0 => {
                format!("PJSIP/{number}")
            }
            _ => format!("Local/{number}@{}", self.context),
        })
    }

    /// The devices of each step joined with `&`, after `first` (the desk phone of a
    /// follow-me that rings with it); steps left empty are dropped.
    fn steps(
        &self,
        steps: Vec<&[RingMember]>,
        first: Option<&str>,
    ) -> Result<Vec<Value>, RenderError> {
        let mut out = Vec::new();
        for step in steps {
            let mut devices: Vec<String> = first.into_iter().map(str::to_owned).collect();
            for m in step.iter().filter(|m| rung(self.ctx, m)) {
                devices.push(self.device(m)?);
            }
            if !devices.is_empty() {
                out.push(safe(devices.join("&")));
            }
        }
        Ok(out)
    }

    /// The entries of the members context: outside numbers (through `<prefix>-outbound`)
    /// and phones that wait.
    fn locals(&self, members: &[RingMember]) -> Result<Vec<LocalMember>, RenderError> {
        let outbound = self.ctx.context("", "outbound");
        let mut locals = Vec::new();
        for m in members.iter().filter(|m| rung(self.ctx, m)) {
            let number = exten(m.number(), self.ctx, self.entity, "members")?;
            let dial = match m {
                RingMember::Outside(_) if m.confirms() => {
                    format!("Local/{number}@{outbound},,{}", self.confirm)
                }
                RingMember::Outside(_) => format!("Local/{number}@{outbound}"),
                _ if m.delay() > 0 => format!("PJSIP/{number}"),
                _ => continue,
            };
            locals.push(LocalMember {
                exten: safe(number),
                delay: m.delay(),
                dial: safe(dial),
            });
        }
        Ok(locals)
    }
}

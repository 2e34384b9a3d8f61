//! Outbound routes (one context per route, trunk failover) and inbound routes (one
//! context for all trunks, one per trunk for trunk-only routes), and the callers block
//! lists refuse on every inbound route.

use minijinja::Value;
use serde::Serialize;

use super::super::{Ctx, DEFAULT_DIAL_TIMEOUT, FileOrigins, arg, exten, safe};
use super::RouteGoto;
use crate::model::blocklist::{BlockAction, blocked_on};
use crate::model::{InboundRoute, Sourced, layout};
use crate::render::RenderError;
use crate::render::escape;
use crate::render::kind::ConfKind;

/// An outbound route's context.
#[derive(Debug, Serialize)]
pub struct OutboundView {
    /// `<prefix>-outbound-<route>`.
    pub context: Value,
    /// The route's name, for comments and `NoOp()`.
    pub name: Value,
    /// The dial patterns it matches.
    pub patterns: Vec<OutboundPatternView>,
    /// The trunks tried in order.
    pub trunks: Vec<OutboundTrunkView>,
    /// Seconds each trunk's `Dial()` may take.
    pub timeout: u32,
}

/// One dial pattern of an outbound route.
#[derive(Debug, Serialize)]
pub struct OutboundPatternView {
    /// The extension pattern (`_9XXXXXXX`).
    pub exten: Value,
    /// The number sent to the trunk: prefix and `${EXTEN}` with the strip applied.
    pub number: Value,
}

/// One trunk of an outbound route, a step of the failover.
#[derive(Debug, Serialize)]
pub struct OutboundTrunkView {
    /// The trunk's endpoint name.
    pub id: Value,
    /// This step's priority label (`trunk1`, `trunk2`, ...) and the next step's
    /// (`failed` after the last).
    pub label: Value,
    pub next: Value,
    /// The trunk's outbound caller id number, used when the phone sets none.
    pub callerid: Option<Value>,
    /// The most simultaneous calls on the trunk (`GROUP_COUNT`).
    pub max_channels: Option<u32>,
}

/// An inbound context.
#[derive(Debug, Serialize)]
pub struct InboundContext {
    /// `<prefix>-inbound` or `<prefix>-inbound-<trunk>`.
    pub context: Value,
    /// A trunk's context includes `<prefix>-inbound` (the routes of every trunk).
    pub include: Option<Value>,
    /// The routes, caller-id routes first.
    pub routes: Vec<InboundLine>,
}

/// One inbound route in one context.
#[derive(Debug, Clone, Serialize)]
pub struct InboundLine {
    /// The route's name, for comments and `NoOp()`.
    pub name: Value,
    /// The extensions it matches: DIDs (`_X.`, `_+X.` and `s` for any), with
    /// `/callerid` when it matches a caller.
    pub extens: Vec<Value>,
    /// Where the call goes, a dialplan application.
    pub target: Value,
}

/// The patterns of the named routes as `Goto`s to their contexts, as
/// [`layout::outbound_context`] orders them.
pub(super) fn gotos(ctx: &Ctx, routes: &[&str]) -> Result<Vec<RouteGoto>, RenderError> {
    let named = ctx
        .entities
        .outbound_routes
        .iter()
        .copied()
        .filter(|r| routes.contains(&r.name.as_str()));
    layout::outbound_context(named)
        .into_iter()
        .map(|(pat, r)| {
            let entity = format!("outbound route {}", r.name);
            Ok(RouteGoto {
                pattern: safe(exten(pat.pattern.as_str(), ctx, &entity, "match")?),
                context: safe(ctx.context("outbound", r.name.as_str())),
            })
        })
        .collect()
}

/// The routes' contexts.
pub(super) fn outbound(
    ctx: &Ctx,
    origins: &mut FileOrigins,
) -> Result<Vec<OutboundView>, RenderError> {
    let routes = &ctx.entities.outbound_routes;
    let mut outbound = Vec::new();
    for r in routes.iter() {
        origins.add(ConfKind::Dialplan, &r.origin);
        let entity = format!("outbound route {}", r.name);
        let mut patterns = Vec::new();
        for pat in &r.patterns {
            let prefix = pat.prefix.as_deref().unwrap_or("");
            let number = if pat.strip > 0 {
                format!(
                    "{}${{EXTEN:{}}}",
                    arg(prefix, ctx, &entity, "prefix").unwrap_or_default(),
                    pat.strip
                )
            } else {
                format!(
                    "{}${{EXTEN}}",
                    arg(prefix, ctx, &entity, "prefix").unwrap_or_default()
                )
            };
            patterns.push(OutboundPatternView {
                exten: safe(exten(pat.pattern.as_str(), ctx, &entity, "match")?),
                number: safe(number),
            });
        }
        let mut out_trunks = Vec::new();
        for (i, name) in r.trunks.iter().enumerate() {
            let trunk = ctx.entities.trunks.iter().find(|t| t.name == *name);
            out_trunks.push(OutboundTrunkView {
                id: safe(arg(name.as_str(), ctx, &entity, "trunks")?),
                label: safe(format!("trunk{}", i + 1)),
                next: safe(if i + 1 == r.trunks.len() {
                    "failed".to_owned()
                } else {
                    format!("trunk{}", i + 2)
                }),
                callerid: trunk
                    .and_then(|t| t.callerid.as_ref())
                    .and_then(|c| c.number.as_ref())
                    .map(|n| arg(n, ctx, &entity, "callerid").map(safe))
                    .transpose()?,
                max_channels: trunk.and_then(|t| t.max_channels),
            });
        }
        outbound.push(OutboundView {
            context: safe(ctx.context("outbound", r.name.as_str())),
            name: safe(escape::comment(r.name.as_str())),
            patterns,
            trunks: out_trunks,
            timeout: r.dial_timeout.unwrap_or(DEFAULT_DIAL_TIMEOUT),
        });
    }
    Ok(outbound)
}

/// The inbound contexts: `<prefix>-inbound` with the routes of every trunk, then one
/// context per trunk with its own routes, which includes `<prefix>-inbound`; which
/// route goes where is [`layout::inbound_context`].
/// A caller pattern of `<prefix>-blocked` and what it gets.
#[derive(Debug, Serialize)]
pub struct BlockedCaller {
    /// The pattern or number (`_8800XXXXXXX`).
    pub caller: Value,
    /// The block list, for the `NoOp()`.
    pub list: Value,
    /// The applications it runs (`Hangup()`; `Busy(10)`; `Answer()`, `Playback(...)`).
    pub steps: Vec<Value>,
}

/// The callers the server's block lists refuse (see `model::blocklist::blocked_on`).
pub(super) fn blocked(
    ctx: &Ctx,
    origins: &mut FileOrigins,
) -> Result<Vec<BlockedCaller>, RenderError> {
    let mut out = Vec::new();
    for (caller, list) in blocked_on(&ctx.fleet.block_lists, ctx.name()) {
        origins.add(ConfKind::Dialplan, &list.origin);
        let entity = format!("block list {}", list.name);
        let steps = match &list.action {
            BlockAction::Hangup => vec!["Hangup()".to_owned()],
            BlockAction::Busy => vec!["Busy(10)".to_owned()],
            BlockAction::Message(sound) => vec![
                "Answer()".to_owned(),
                format!("Playback({})", arg(&sound.0, ctx, &entity, "action")?),
                "Hangup()".to_owned(),
            ],
        };
        out.push(BlockedCaller {
            caller: safe(exten(caller.0.as_str(), ctx, &entity, "callers")?),
            list: safe(list.name.to_string()),
            steps: steps.into_iter().map(safe).collect(),
        });
    }
    Ok(out)
}

pub(super) fn inbound(
    ctx: &Ctx,
    origins: &mut FileOrigins,
) -> Result<Vec<InboundContext>, RenderError> {
    let p = ctx.prefix;
    let routes = &ctx.entities.inbound_routes;
    // Every route's name and target, escaped once (an error is reported whatever
    // context the route lands in).
    let mut escaped = Vec::with_capacity(routes.len());
    for r in routes.iter().copied() {
        origins.add(ConfKind::Dialplan, &r.origin);
        let entity = format!("inbound route {}", r.name);
        escaped.push((
            safe(escape::comment(r.name.as_str())),
            ctx.target(&r.target, &entity, "target")?,
        ));
    }
    let lines = |trunk: Option<&str>| -> Result<Vec<InboundLine>, RenderError> {
        let mut lines: Vec<(&Sourced<InboundRoute>, InboundLine)> = Vec::new();
        for e in layout::inbound_context(routes, trunk) {
            let entity = format!("inbound route {}", e.route.name);
            let mut text = exten(e.exten, ctx, &entity, "did")?;
            if let Some(c) = e.callerid {
                text = format!("{text}/{}", exten(c, ctx, &entity, "callerid")?);
            }
            // The entries of one route come together: one line, its extensions.
            match lines.last_mut() {
                Some((r, line)) if std::ptr::eq(*r, e.route) => line.extens.push(safe(text)),
                _ => {
                    let i = routes
                        .iter()
                        .position(|r| std::ptr::eq(*r, e.route))
                        .expect("an entry's route is one of the server's");
                    let (name, target) = escaped[i].clone();
                    lines.push((
                        e.route,
                        InboundLine {
                            name,
                            extens: vec![safe(text)],
                            target,
                        },
                    ));
                }
            }
        }
        Ok(lines.into_iter().map(|(_, l)| l).collect())
    };
    let mut contexts = vec![InboundContext {
        context: safe(ctx.context("inbound", "").trim_end_matches('-').to_owned()),
        include: None,
        routes: lines(None)?,
    }];
    for t in ctx.entities.trunks.iter().copied() {
        contexts.push(InboundContext {
            context: safe(ctx.context("inbound", t.name.as_str())),
            include: Some(safe(format!("{p}-inbound"))),
            routes: lines(Some(t.name.as_str()))?,
        });
    }
    Ok(contexts)
}

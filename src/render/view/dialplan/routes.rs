//! Outbound routes (one context per route, trunk failover) and inbound routes (one
//! context for all trunks, one per trunk for trunk-only routes).

use minijinja::Value;
use serde::Serialize;

use super::super::{Ctx, DEFAULT_DIAL_TIMEOUT, FileOrigins, arg, safe};
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

/// The routes' contexts, and the list of those contexts that `<prefix>-outbound`
/// includes.
pub(super) fn outbound(
    ctx: &Ctx,
    origins: &mut FileOrigins,
) -> Result<(Vec<OutboundView>, Vec<Value>), RenderError> {
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
                exten: safe(arg(pat.pattern.as_str(), ctx, &entity, "match")?),
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
    let contexts = routes
        .iter()
        .map(|r| safe(ctx.context("outbound", r.name.as_str())))
        .collect();
    Ok((outbound, contexts))
}

pub(super) fn inbound(
    ctx: &Ctx,
    origins: &mut FileOrigins,
) -> Result<Vec<InboundContext>, RenderError> {
    let p = ctx.prefix;
    let mut inbound = vec![InboundContext {
        context: safe(ctx.context("inbound", "").trim_end_matches('-').to_owned()),
        include: None,
        routes: Vec::new(),
    }];
    for t in ctx.entities.trunks.iter().copied() {
        inbound.push(InboundContext {
            context: safe(ctx.context("inbound", t.name.as_str())),
            include: Some(safe(format!("{p}-inbound"))),
            routes: Vec::new(),
        });
    }
    // Routes with a caller-id pattern first: Asterisk prefers them anyway, and reading
    // block rules first is what an admin expects.
    let mut inbound_routes = ctx.entities.inbound_routes.clone();
    inbound_routes.sort_by_key(|r| r.callerid.is_none());
    for r in inbound_routes {
        origins.add(ConfKind::Dialplan, &r.origin);
        let entity = format!("inbound route {}", r.name);
        let dids: Vec<String> = match &r.did {
            Some(d) => vec![arg(d.as_str(), ctx, &entity, "did")?],
            None => vec!["_X.".to_owned(), "_+X.".to_owned(), "s".to_owned()],
        };
        let extens = dids
            .into_iter()
            .map(|d| match &r.callerid {
                Some(c) => {
                    arg(c.as_str(), ctx, &entity, "callerid").map(|c| safe(format!("{d}/{c}")))
                }
                None => Ok(safe(d)),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let line = InboundLine {
            name: safe(escape::comment(r.name.as_str())),
            extens,
            target: ctx.target(&r.target, &entity, "target")?,
        };
        if r.trunks.is_empty() {
            inbound[0].routes.push(line);
        } else {
            for t in &r.trunks {
                let context = ctx.context("inbound", t.as_str());
                if let Some(c) = inbound
                    .iter_mut()
                    .find(|c| c.context.as_str() == Some(context.as_str()))
                {
                    c.routes.push(line.clone());
                }
            }
        }
    }
    Ok(inbound)
}

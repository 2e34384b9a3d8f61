//! Outbound routes (one context per route, trunk failover) and inbound routes (one
//! context for all trunks, one per trunk for trunk-only routes).

use minijinja::Value;
use serde::Serialize;

use super::super::{Ctx, DEFAULT_DIAL_TIMEOUT, FileOrigins, arg, exten, safe};
use super::RouteGoto;
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

/// The patterns of the named routes (in route order) as `Goto`s to their contexts. A
/// pattern a route earlier in the list already has is left out: Asterisk would refuse
/// the duplicate extension, and the earlier route takes those numbers (validate warns).
pub(super) fn gotos(ctx: &Ctx, routes: &[&str]) -> Result<Vec<RouteGoto>, RenderError> {
    let mut gotos: Vec<RouteGoto> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for r in ctx
        .entities
        .outbound_routes
        .iter()
        .filter(|r| routes.contains(&r.name.as_str()))
    {
        let entity = format!("outbound route {}", r.name);
        for pat in &r.patterns {
            if !seen.insert(pat.pattern.as_str()) {
                continue;
            }
            gotos.push(RouteGoto {
                pattern: safe(exten(pat.pattern.as_str(), ctx, &entity, "match")?),
                context: safe(ctx.context("outbound", r.name.as_str())),
            });
        }
    }
    Ok(gotos)
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
/// context per trunk with its own routes, which includes `<prefix>-inbound`.
///
/// Asterisk takes an exact number (`+74951234500`) before a pattern (`_X.`) whatever
/// the caller, and a context's own extensions before those of what it includes; only
/// for one extension name does a caller-id match win over none. So a caller-id rule
/// (a block list) is written once per number it must beat: its own DID or the catch-all
/// patterns, and every DID that the context (or, for a rule of every trunk, each trunk's
/// context) routes without a caller id.
pub(super) fn inbound(
    ctx: &Ctx,
    origins: &mut FileOrigins,
) -> Result<Vec<InboundContext>, RenderError> {
    let p = ctx.prefix;
    let mut routes = Vec::new();
    for r in ctx.entities.inbound_routes.iter().copied() {
        origins.add(ConfKind::Dialplan, &r.origin);
        routes.push(Inbound::of(ctx, r)?);
    }
    // Caller-id rules first: they are what an admin reads first.
    routes.sort_by_key(|r| r.callerid.is_none());
    let mut contexts = vec![InboundContext {
        context: safe(ctx.context("inbound", "").trim_end_matches('-').to_owned()),
        include: None,
        routes: lines(&routes, None),
    }];
    for t in ctx.entities.trunks.iter().copied() {
        contexts.push(InboundContext {
            context: safe(ctx.context("inbound", t.name.as_str())),
            include: Some(safe(format!("{p}-inbound"))),
            routes: lines(&routes, Some(t.name.as_str())),
        });
    }
    Ok(contexts)
}

/// An inbound route, escaped.
struct Inbound<'a> {
    route: &'a crate::model::InboundRoute,
    name: Value,
    /// The numbers it takes: its DID, or the catch-all patterns.
    dids: Vec<String>,
    callerid: Option<String>,
    target: Value,
}

impl<'a> Inbound<'a> {
    fn of(ctx: &Ctx, r: &'a crate::model::InboundRoute) -> Result<Inbound<'a>, RenderError> {
        let entity = format!("inbound route {}", r.name);
        Ok(Inbound {
            route: r,
            name: safe(escape::comment(r.name.as_str())),
            dids: match &r.did {
                Some(d) => vec![exten(d.as_str(), ctx, &entity, "did")?],
                None => vec!["_X.".to_owned(), "_+X.".to_owned(), "s".to_owned()],
            },
            callerid: r
                .callerid
                .as_ref()
                .map(|c| exten(c.as_str(), ctx, &entity, "callerid"))
                .transpose()?,
            target: ctx.target(&r.target, &entity, "target")?,
        })
    }

    /// Whether it belongs to the context of `trunk` (`None`: the context of every trunk).
    fn home(&self, trunk: Option<&str>) -> bool {
        match trunk {
            None => self.route.trunks.is_empty(),
            Some(t) => self.route.trunks.iter().any(|x| x.as_str() == t),
        }
    }
}

/// The lines of the context of `trunk` (`None`: every trunk's).
fn lines(routes: &[Inbound], trunk: Option<&str>) -> Vec<InboundLine> {
    let own: Vec<&Inbound> = routes.iter().filter(|r| r.home(trunk)).collect();
    // The numbers this context itself routes without a caller id: these shadow a
    // caller-id rule written only as a pattern, or only in the included context.
    let routed: Vec<&str> = own
        .iter()
        .filter(|r| r.callerid.is_none())
        .flat_map(|r| r.dids.iter().map(String::as_str))
        .collect();
    let inherited = routes
        .iter()
        .filter(|r| trunk.is_some() && r.callerid.is_some() && r.home(None));
    let mut seen = std::collections::HashSet::new();
    let mut lines = Vec::new();
    for (r, is_own) in own
        .iter()
        .copied()
        .map(|r| (r, true))
        .chain(inherited.map(|r| (r, false)))
    {
        let mut dids: Vec<&str> = Vec::new();
        if is_own {
            dids.extend(r.dids.iter().map(String::as_str));
        }
        if r.callerid.is_some() {
            match &r.route.did {
                // A rule for any number must beat every number routed here.
                None => dids.extend(routed.iter().copied()),
                // A rule for one number, inherited: only where this context routes it.
                Some(_) if !is_own => dids.extend(
                    r.dids
                        .iter()
                        .map(String::as_str)
                        .filter(|d| routed.contains(d)),
                ),
                Some(_) => {}
            }
        }
        let extens: Vec<Value> = dids
            .into_iter()
            .filter_map(|d| {
                let text = match &r.callerid {
                    Some(c) => format!("{d}/{c}"),
                    None => d.to_owned(),
                };
                // One extension name and caller match once per context: Asterisk drops
                // a duplicate with a warning, and the first (the more specific) wins.
                seen.insert(text.clone()).then(|| safe(text))
            })
            .collect();
        if !extens.is_empty() {
            lines.push(InboundLine {
                name: r.name.clone(),
                extens,
                target: r.target.clone(),
            });
        }
    }
    lines
}

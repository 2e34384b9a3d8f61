//! `extensions_odoo.conf`: extension dialing, the phones' contexts, queue and menu
//! numbers, mailboxes as destinations, custom dialplans; outbound and inbound routes in
//! [`routes`], IVR menus in [`menus`].

mod features;
mod menus;
mod ringgroups;
mod routes;
mod schedules;

use std::collections::HashMap;

use minijinja::Value;
use serde::Serialize;

use super::{Ctx, DEFAULT_RING_TIMEOUT, FileOrigins, arg, exten, safe, short_hash};
use crate::model::extension::Recording;
use crate::model::features::Feature;
use crate::model::{Extension, Sourced, Target};
use crate::render::RenderError;
use crate::render::escape;
use crate::render::kind::ConfKind;

pub use features::{FeaturesView, UserState};
pub use menus::MenuView;
pub use ringgroups::{FollowCall, FollowMeView, RingGroupView};
pub use routes::{BlockedCaller, InboundContext, OutboundView};
pub(super) use schedules::schedule_context;
pub use schedules::{ScheduleView, TimeframeView};

/// How one extension is dialled in `<prefix>-internal`.
#[derive(Debug, Serialize)]
pub struct ExtensionDial {
    /// The extension number.
    pub number: Value,
    /// Its display name, escaped for a `NoOp()` argument.
    pub name: Value,
    /// The device to ring: `PJSIP/<number>`.
    pub device: Value,
    /// Seconds to ring before the no-answer destination.
    pub ring_timeout: u32,
    /// Forward every call here instead of ringing (a dialplan application).
    pub always: Option<Value>,
    /// Where a call goes when the phone is busy, does not answer, or is not registered:
    /// dialplan applications (the forward, else the mailbox, else `Busy(10)`/`Hangup()`).
    pub busy: Value,
    pub no_answer: Value,
    pub unavailable: Value,
    /// `never`, `always` or `external` (only calls from trunks).
    pub record: &'static str,
    /// What its dialling checks of the state its user set with feature codes.
    pub user: UserState,
    /// Its follow-me, when it has one.
    pub follow_me: Option<FollowCall>,
}

/// A dial number of a queue or menu in `<prefix>-internal`.
#[derive(Debug, Serialize)]
pub struct NumberGoto {
    /// The number.
    pub number: Value,
    /// What it reaches, as text (`queue sales`).
    pub what: Value,
    /// The `Goto()` to it.
    pub goto: Value,
}

/// A phones' context: internal calls plus the outbound routes a group of phones may use.
#[derive(Debug, Serialize)]
pub struct Profile {
    /// `<prefix>-phones` (all routes) or `<prefix>-phones-<hash of the route names>`.
    pub context: Value,
    /// `<context>-routes`: the patterns of those routes, all in one context, which the
    /// phones' context includes after `<prefix>-internal` (extension numbers first).
    pub routes_context: Value,
    /// The patterns of those routes, each a `Goto` to its route's context. In one
    /// context Asterisk tries the most specific pattern first, so the narrowest route
    /// wins whatever the order of the routes.
    pub dial: Vec<RouteGoto>,
    /// What the phones may dial, for the comment above the context.
    pub comment: Value,
}

/// A dial pattern that sends the call to the outbound route that takes it.
#[derive(Debug, Clone, Serialize)]
pub struct RouteGoto {
    /// The pattern (`_+79XXXXXXXXX`).
    pub pattern: Value,
    /// The route's context.
    pub context: Value,
}

/// A custom dialplan context, verbatim from the repo.
#[derive(Debug, Serialize)]
pub struct CustomView {
    /// `<prefix>-custom-<name>`.
    pub context: Value,
    /// Other custom contexts it includes.
    pub includes: Vec<Value>,
    /// Finished `exten =>` / ` same =>` lines.
    pub lines: Vec<Value>,
}

/// The `extensions` template's part of a server's view (with the queues and the
/// mailboxes' numbers, which it shares with other templates).
#[derive(Debug, Serialize)]
pub struct Dialplan {
    /// The feature codes, in `<prefix>-features` (phones' contexts include it).
    pub features: FeaturesView,
    /// How each enabled extension is dialled in `<prefix>-internal`.
    pub internal: Vec<ExtensionDial>,
    /// The dial numbers of queues and menus in `<prefix>-internal`.
    pub numbers: Vec<NumberGoto>,
    /// The phones' contexts, one per set of outbound routes phones may use, sorted by
    /// context name.
    pub profiles: Vec<Profile>,
    /// One context per outbound route.
    pub outbound: Vec<OutboundView>,
    /// The patterns of every outbound route, in `<prefix>-outbound` (where forwards to
    /// outside numbers go), each a `Goto` to its route's context.
    pub outbound_dial: Vec<RouteGoto>,
    /// `<prefix>-inbound` first, then one context per trunk.
    pub inbound: Vec<InboundContext>,
    /// The callers block lists refuse (`<prefix>-blocked`), checked first on every
    /// inbound route.
    pub blocked: Vec<BlockedCaller>,
    /// The IVR menus.
    pub menus: Vec<MenuView>,
    /// The announcements.
    pub announcements: Vec<menus::AnnouncementView>,
    /// The paging groups; with them or an intercom code, `<prefix>-autoanswer` adds the
    /// headers that make phones answer on their own.
    pub paging: Vec<features::PagingView>,
    pub has_autoanswer: bool,
    /// The ring groups.
    pub ring_groups: Vec<RingGroupView>,
    /// The extensions' follow-me subroutines.
    pub follow_me: Vec<FollowMeView>,
    /// The time frames the server's menus and schedules use, as subroutines; those with
    /// an override code also have it in `<prefix>-features`.
    pub timeframes: Vec<TimeframeView>,
    /// The distinct `{schedule: ...}` destinations of the server.
    pub schedules: Vec<ScheduleView>,
    /// Whether an outside member of a ring group or follow-me must press 1
    /// (`<prefix>-confirm`).
    pub has_confirm: bool,
    /// The custom dialplans, verbatim.
    pub custom: Vec<CustomView>,
    /// The extension numbers callers may dial from a menu (empty unless a menu allows
    /// direct dialling).
    pub direct: Vec<Value>,
    /// Whether any menu allows direct dialling (`<prefix>-direct` exists).
    pub has_direct: bool,
    /// The phonebook of this server, by number.
    pub cidnames: Vec<CidName>,
    /// The agent's FastAGI URL for callers the phonebook does not know (`caller_lookup`).
    pub cidname_agi: Option<Value>,
    /// Whether inbound calls go through `<prefix>-cidname`: a phonebook or a lookup.
    pub cidname_context: bool,
    /// How a caller's number is turned into E.164 before the phonebook is asked: the
    /// international prefix first (it may begin with the trunk prefix, as `810` does `8`).
    pub cidname_prefixes: Vec<PrefixRule>,
}

/// A number that starts with `prefix` is looked up as `replacement` + the rest.
#[derive(Debug, Serialize)]
pub struct PrefixRule {
    pub label: Value,
    pub prefix: Value,
    pub len: Value,
    pub replacement: Value,
}

fn prefix_rules(ctx: &Ctx) -> Vec<PrefixRule> {
    let Some(n) = ctx.server.numbering(&ctx.fleet.project) else {
        return Vec::new();
    };
    // The schema allows digits only in all three: nothing here needs escaping.
    let rule = |label: &str, prefix: &str, replacement: String| PrefixRule {
        label: safe(label.to_owned()),
        len: safe(prefix.len().to_string()),
        prefix: safe(prefix.to_owned()),
        replacement: safe(replacement),
    };
    let mut rules = Vec::new();
    if let Some(p) = &n.international_prefix {
        rules.push(rule("international", p, "+".to_owned()));
    }
    if let Some(p) = &n.trunk_prefix {
        rules.push(rule("national", p, format!("+{}", n.country_code)));
    }
    rules
}

/// One number of the phonebook and the name a call from it gets.
#[derive(Debug, Serialize)]
pub struct CidName {
    pub number: Value,
    pub name: Value,
}

/// The contacts on this server, one line per number, sorted by number.
fn cidnames(ctx: &Ctx, origins: &mut FileOrigins) -> Result<Vec<CidName>, RenderError> {
    let server = ctx.server.name.as_str();
    let mut out: Vec<(String, CidName)> = Vec::new();
    for c in ctx.fleet.contacts.iter().filter(|c| c.on(server)) {
        origins.add(ConfKind::Dialplan, &c.origin);
        let entity = format!("contact {}", c.name);
        let name =
            escape::set_value(&c.display()).map_err(|e| ctx.unsafe_value(&entity, "name", e))?;
        for number in &c.numbers {
            out.push((
                number.clone(),
                CidName {
                    number: safe(exten(number, ctx, &entity, "numbers")?),
                    name: safe(name.clone()),
                },
            ));
        }
    }
    // Stable: among contacts giving one number (a phonebook's clash, which validate
    // warns about), the first defined is kept.
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out.dedup_by(|later, first| later.0 == first.0);
    Ok(out.into_iter().map(|(_, c)| c).collect())
}

/// The phones' contexts of a server, and which one each enabled extension gets: the
/// outbound routes an extension may use decide its context.
pub(super) struct PhoneContexts {
    profiles: Vec<Profile>,
    by_number: HashMap<String, String>,
}

impl PhoneContexts {
    pub fn of(ctx: &Ctx) -> Result<PhoneContexts, RenderError> {
        let routes = &ctx.entities.outbound_routes;
        let p = ctx.prefix;
        let mut profiles: Vec<Profile> = Vec::new();
        let mut by_number = HashMap::new();
        for e in ctx.extensions() {
            let allowed: Vec<&str> = routes
                .iter()
                .filter(|r| r.allows(e))
                .map(|r| r.name.as_str())
                .collect();
            let context = if allowed.len() == routes.len() {
                format!("{p}-phones")
            } else {
                format!("{p}-phones-{}", short_hash(&allowed.join(",")))
            };
            if !profiles
                .iter()
                .any(|pr| pr.context.as_str() == Some(context.as_str()))
            {
                profiles.push(Profile {
                    routes_context: safe(format!("{context}-routes")),
                    context: safe(context.clone()),
                    dial: routes::gotos(ctx, &allowed)?,
                    comment: safe(if allowed.is_empty() {
                        "internal calls only".to_owned()
                    } else {
                        format!("outbound routes: {}", allowed.join(", "))
                    }),
                });
            }
            by_number.insert(e.number.as_str().to_owned(), context);
        }
        profiles.sort_by(|a, b| a.context.as_str().cmp(&b.context.as_str()));
        Ok(PhoneContexts {
            profiles,
            by_number,
        })
    }

    /// The context of an enabled extension's endpoint.
    pub fn context_of(&self, e: &Extension) -> &str {
        self.by_number
            .get(e.number.as_str())
            .map_or("", String::as_str)
    }
}

pub(super) fn build(
    ctx: &Ctx,
    phones: PhoneContexts,
    origins: &mut FileOrigins,
) -> Result<Dialplan, RenderError> {
    let codes = ctx.server.codes(&ctx.fleet.project);
    let features = features::build(ctx, &codes)?;
    let mut internal = Vec::new();
    let mut direct = Vec::new();
    for e in ctx.extensions() {
        origins.add(ConfKind::Dialplan, &e.origin);
        let user = features::user_state(ctx, &codes, e, phones.context_of(e));
        internal.push(extension_dial(ctx, e, user)?);
        direct.push(safe(e.number.as_str().to_owned()));
    }
    let numbers = numbers(ctx)?;
    let outbound = routes::outbound(ctx, origins)?;
    let every_route: Vec<&str> = ctx
        .entities
        .outbound_routes
        .iter()
        .map(|r| r.name.as_str())
        .collect();
    let outbound_dial = routes::gotos(ctx, &every_route)?;
    let inbound = routes::inbound(ctx, origins)?;
    let blocked = routes::blocked(ctx, origins)?;
    let menus = menus::build(ctx, origins)?;
    let announcements = menus::announcements(ctx, origins)?;
    let paging = features::paging(ctx)?;
    for g in ctx.entities.paging_groups.iter() {
        origins.add(ConfKind::Dialplan, &g.origin);
    }
    let has_autoanswer = !paging.is_empty() || codes.code(Feature::Intercom).is_some();
    let ringgroups::Ringing {
        ring_groups,
        follow_me,
        has_confirm,
    } = ringgroups::build(ctx, origins)?;
    let (timeframes, schedules) = schedules::build(ctx, origins)?;
    let has_direct = menus.iter().any(|m| m.direct);
    let custom = custom(ctx, origins)?;
    let cidnames = cidnames(ctx, origins)?;
    let cidname_agi = ctx
        .server
        .caller_lookup(&ctx.fleet.project)
        .map(|l| safe(l.agi_url()));
    let cidname_context = !cidnames.is_empty() || cidname_agi.is_some();
    Ok(Dialplan {
        cidname_prefixes: if cidname_context {
            prefix_rules(ctx)
        } else {
            Vec::new()
        },
        cidnames,
        cidname_agi,
        cidname_context,
        features,
        internal,
        numbers,
        profiles: phones.profiles,
        outbound,
        outbound_dial,
        inbound,
        blocked,
        menus,
        announcements,
        paging,
        has_autoanswer,
        ring_groups,
        follow_me,
        timeframes,
        schedules,
        has_confirm,
        custom,
        direct: if has_direct { direct } else { Vec::new() },
        has_direct,
    })
}

fn extension_dial(
    ctx: &Ctx,
    e: &Sourced<Extension>,
    user: UserState,
) -> Result<ExtensionDial, RenderError> {
    let defaults = &ctx.server.defaults;
    let pdefaults = &ctx.fleet.project.defaults;
    let n = e.number.as_str();
    let entity = format!("extension {n}");
    let mailbox = e.voicemail.as_ref().filter(|v| v.enabled);
    let vm_context = super::voicemail::context(ctx);
    // An unset forward goes to the mailbox when there is one.
    let fallback = |t: &Option<Target>,
                    field: &str,
                    vm_flag: &str,
                    otherwise: &str|
     -> Result<Value, RenderError> {
        match (t, mailbox) {
            (Some(t), _) => ctx.target(t, &entity, field),
            (None, Some(_)) => Ok(safe(format!("VoiceMail({n}@{vm_context},{vm_flag})"))),
            (None, None) => Ok(safe(otherwise.to_owned())),
        }
    };
    Ok(ExtensionDial {
        number: safe(arg(n, ctx, &entity, "number")?),
        name: safe(escape::set_value(&e.name).map_err(|er| ctx.unsafe_value(&entity, "name", er))?),
        device: safe(format!("PJSIP/{}", arg(n, ctx, &entity, "number")?)),
        ring_timeout: e
            .ring_timeout
            .or(defaults.ring_timeout)
            .or(pdefaults.ring_timeout)
            .unwrap_or(DEFAULT_RING_TIMEOUT),
        always: e
            .forwarding()
            .always
            .as_ref()
            .map(|t| ctx.target(t, &entity, "forward.always"))
            .transpose()?,
        busy: fallback(&e.forwarding().busy, "forward.busy", "b", "Busy(10)")?,
        no_answer: fallback(
            &e.forwarding().no_answer,
            "forward.no_answer",
            "u",
            "Hangup()",
        )?,
        unavailable: fallback(
            &e.forwarding().unavailable,
            "forward.unavailable",
            "u",
            "Hangup()",
        )?,
        record: match e.recording {
            Recording::Never => "never",
            Recording::Always => "always",
            Recording::External => "external",
        },
        user,
        follow_me: ringgroups::follow_call(ctx, e),
    })
}

/// The dial numbers of queues, then of menus, ring groups and custom dialplans.
fn numbers(ctx: &Ctx) -> Result<Vec<NumberGoto>, RenderError> {
    let numbered = ctx
        .entities
        .queues
        .iter()
        .filter_map(|q| {
            q.number
                .as_ref()
                .map(|n| (n, Target::Queue(q.name.clone())))
        })
        .chain(
            ctx.entities
                .menus
                .iter()
                .filter_map(|m| m.number.as_ref().map(|n| (n, Target::Menu(m.name.clone())))),
        )
        .chain(ctx.entities.ring_groups.iter().filter_map(|g| {
            g.number
                .as_ref()
                .map(|n| (n, Target::RingGroup(g.name.clone())))
        }))
        .chain(
            ctx.entities
                .conferences
                .iter()
                .map(|c| (&c.number, Target::Conference(c.name.clone()))),
        )
        .chain(ctx.entities.announcements.iter().filter_map(|a| {
            a.number
                .as_ref()
                .map(|n| (n, Target::Announcement(a.name.clone())))
        }))
        .chain(ctx.entities.dialplans.iter().filter_map(|d| {
            d.number
                .as_ref()
                .map(|n| (n, Target::Dialplan(d.name.clone())))
        }));
    let mut numbers = Vec::new();
    for (number, target) in numbered {
        let (Target::Queue(name)
        | Target::Menu(name)
        | Target::RingGroup(name)
        | Target::Conference(name)
        | Target::Announcement(name)
        | Target::Dialplan(name)) = &target
        else {
            unreachable!(
                "only queues, menus, ring groups, conferences and dialplans are numbered here"
            )
        };
        let entity = format!("{} {name}", target.kind().replace('_', " "));
        numbers.push(NumberGoto {
            number: safe(arg(number.as_str(), ctx, &entity, "number")?),
            what: safe(entity.clone()),
            goto: ctx.target(&target, &entity, "number")?,
        });
    }
    for g in ctx.entities.paging_groups.iter() {
        let entity = format!("paging group {}", g.name);
        numbers.push(NumberGoto {
            number: safe(arg(g.number.as_str(), ctx, &entity, "number")?),
            what: safe(entity),
            goto: safe(format!(
                "Goto({},s,1)",
                ctx.context("paging", g.name.as_str())
            )),
        });
    }
    // An organiser's number enters the room's context at `admin`.
    for c in ctx.entities.conferences.iter() {
        if let Some(n) = &c.admin_number {
            let entity = format!("conference {}", c.name);
            numbers.push(NumberGoto {
                number: safe(arg(n.as_str(), ctx, &entity, "admin_number")?),
                what: safe(format!("{entity}, organiser")),
                goto: safe(format!(
                    "Goto({},admin,1)",
                    ctx.context("conference", c.name.as_str())
                )),
            });
        }
    }
    Ok(numbers)
}

fn custom(ctx: &Ctx, origins: &mut FileOrigins) -> Result<Vec<CustomView>, RenderError> {
    let mut custom = Vec::new();
    for d in ctx.entities.dialplans.iter().copied() {
        origins.add(ConfKind::Dialplan, &d.origin);
        let entity = format!("dialplan {}", d.name);
        let mut lines = Vec::new();
        for (i, line) in d.lines.iter().enumerate() {
            let args = line
                .args
                .iter()
                .map(|a| {
                    escape::raw_arg(&a.to_text())
                        .map_err(|er| ctx.unsafe_value(&entity, &format!("lines[{i}].args"), er))
                })
                .collect::<Result<Vec<_>, _>>()?
                .join(",");
            let label = line
                .label
                .as_ref()
                .map(|l| format!("({l})"))
                .unwrap_or_default();
            let text = match &line.exten {
                Some(exten) => format!(
                    "exten => {},1{label},{}({args})",
                    arg(exten, ctx, &entity, "exten")?,
                    line.app
                ),
                None => format!(" same => n{label},{}({args})", line.app),
            };
            lines.push(safe(text));
        }
        custom.push(CustomView {
            context: safe(ctx.context("custom", d.name.as_str())),
            includes: d
                .includes
                .iter()
                .map(|i| safe(ctx.context("custom", i.as_str())))
                .collect(),
            lines,
        });
    }
    Ok(custom)
}

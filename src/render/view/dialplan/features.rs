//! `<prefix>-features`: the codes phones dial (see `model::features`), and what each
//! extension's dialling checks of the state users set with them (do not disturb, the
//! three forwards), which lives in AstDB in FreePBX's families.

use minijinja::Value;
use serde::Serialize;

use super::super::{Ctx, arg, safe};
use crate::model::features::{Feature, ForwardReach, ServerCodes};
use crate::model::{Extension, Sourced};
use crate::render::RenderError;

/// The feature codes of a server, each `None` when turned off.
#[derive(Debug, Serialize)]
pub struct FeaturesView {
    /// The caller's own mailbox.
    pub voicemail: Option<Value>,
    /// Any mailbox (VoiceMailMain asks for it).
    pub voicemail_any: Option<Value>,
    /// Do not disturb, when any of its codes is on.
    pub dnd: Option<DndView>,
    /// The forwards users set (all, busy, no answer), those with a code on.
    pub forwards: Vec<ForwardCodes>,
    /// The context a number entered for a forward must exist in: the caller's phone
    /// context (`${CONTEXT}`, forward_reach `routes`) or `<prefix>-internal`.
    pub forward_check: Value,
    /// Group pickup.
    pub pickup: Option<Value>,
    /// Directed pickup: the code as a pattern prefix, and its length (`${EXTEN:len}`).
    pub directed_pickup: Option<PrefixCode>,
    pub echo_test: Option<Value>,
    pub speaking_clock: Option<Value>,
    /// Intercom: the code as a pattern prefix, and its length.
    pub intercom: Option<PrefixCode>,
    /// Queue agents pause and end their pause, in every queue.
    pub agent_pause: Option<Value>,
    pub agent_unpause: Option<Value>,
    /// Per queue with agents (and a number), its login code and who may log in.
    pub agent_queues: Vec<AgentQueue>,
    /// The company directory's code (`<prefix>-directory` exists either way).
    pub directory: Option<Value>,
}

/// The agents of one queue: `<login code><queue number>` toggles the caller in or out.
#[derive(Debug, Serialize)]
pub struct AgentQueue {
    /// The dialled code (`*45500`).
    pub code: Value,
    /// `<prefix>-agents-<queue>`: one extension per agent that may log in.
    pub context: Value,
    /// The queue, as an argument of `AddQueueMember()`.
    pub queue: Value,
    pub agents: Vec<AgentView>,
}

/// One agent: its extension, interface, penalty and name.
#[derive(Debug, Serialize)]
pub struct AgentView {
    pub number: Value,
    pub interface: Value,
    pub penalty: u32,
    pub name: Value,
}

fn agent_queues(ctx: &Ctx, codes: &ServerCodes) -> Result<Vec<AgentQueue>, RenderError> {
    let Some(login) = codes.code(Feature::AgentLogin) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for q in ctx.entities.queues.iter().copied() {
        let Some(number) = &q.number else { continue };
        if q.agents.is_empty() {
            continue;
        }
        let entity = format!("queue {}", q.name);
        let mut agents = Vec::new();
        for a in &q.agents {
            let Some(e) = ctx.entities.extension_by_number.get(a.extension().as_str()) else {
                continue;
            };
            if !e.enabled {
                continue;
            }
            let n = arg(e.number.as_str(), ctx, &entity, "agents")?;
            agents.push(AgentView {
                interface: safe(format!("PJSIP/{n}")),
                number: safe(n),
                penalty: a.penalty(),
                name: safe(
                    crate::render::escape::raw_arg(&e.name)
                        .map_err(|er| ctx.unsafe_value(&entity, "agents", er))?,
                ),
            });
        }
        out.push(AgentQueue {
            code: safe(format!(
                "{login}{}",
                arg(number.as_str(), ctx, &entity, "number")?
            )),
            context: safe(ctx.context("agents", q.name.as_str())),
            queue: safe(arg(q.name.as_str(), ctx, &entity, "name")?),
            agents,
        });
    }
    Ok(out)
}

/// A paging group's context, `<prefix>-paging-<name>`.
#[derive(Debug, Serialize)]
pub struct PagingView {
    pub context: Value,
    pub name: Value,
    /// The members' devices joined with `&` (enabled extensions only).
    pub devices: Value,
    /// `Page()` options: `i` (ignore forwards), `d` when duplex, and the header gosub.
    pub options: Value,
}

/// The paging groups of a server.
pub(super) fn paging(ctx: &Ctx) -> Result<Vec<PagingView>, RenderError> {
    let mut out = Vec::new();
    for g in ctx.entities.paging_groups.iter().copied() {
        let entity = format!("paging group {}", g.name);
        let mut devices = Vec::new();
        for m in &g.members {
            if ctx
                .entities
                .extension_by_number
                .get(m.as_str())
                .is_some_and(|e| e.enabled)
            {
                devices.push(format!(
                    "PJSIP/{}",
                    arg(m.as_str(), ctx, &entity, "members")?
                ));
            }
        }
        let duplex = if g.duplex { "d" } else { "" };
        out.push(PagingView {
            context: safe(ctx.context("paging", g.name.as_str())),
            name: safe(g.name.to_string()),
            devices: safe(devices.join("&")),
            options: safe(format!(
                "i{duplex}b({}^{}^1)",
                ctx.context("", "autoanswer"),
                g.auto_answer.exten()
            )),
        });
    }
    Ok(out)
}

/// Do not disturb's codes; `toggle` also gives every extension a BLF code
/// (`<toggle><ext>`, hint `Custom:DND<ext>`).
#[derive(Debug, Serialize)]
pub struct DndView {
    pub toggle: Option<Value>,
    pub on: Option<Value>,
    pub off: Option<Value>,
}

/// One forward's codes and where its number is kept.
#[derive(Debug, Serialize)]
pub struct ForwardCodes {
    /// AstDB family (`CF`, `CFB`, `CFU`).
    pub family: Value,
    /// Which forward, as its prompt says it (`call-fwd-unconditional`).
    pub prompt: Value,
    pub on: Option<Value>,
    pub off: Option<Value>,
}

/// A code followed by a number.
#[derive(Debug, Serialize)]
pub struct PrefixCode {
    pub code: Value,
    pub len: usize,
}

/// What one extension's dialling checks of the state its user set.
#[derive(Debug, Default, Serialize)]
pub struct UserState {
    /// `Custom:DND<ext>` and its BLF code (`*76101`), when DND can be toggled.
    pub dnd_blf: Option<Value>,
    /// Whether DND can be set (the call then goes where a busy one goes).
    pub dnd: bool,
    /// Whether each forward can be set (`CF/<ext>`, `CFB/<ext>`, `CFU/<ext>`).
    pub cf: bool,
    pub cfb: bool,
    pub cfu: bool,
    /// The context a forward set on the phone dials its number in: the phone's own
    /// (`routes`) or `<prefix>-internal`.
    pub forward_context: Option<Value>,
    /// The forwards that can be set: the label their check jumps to and their family.
    pub forwards: Vec<UserForward>,
}

/// One forward a user can set on an extension.
#[derive(Debug, Serialize)]
pub struct UserForward {
    /// `cf`, `cfb` or `cfu`: the priority label of the extension that dials it.
    pub label: Value,
    /// `CF`, `CFB` or `CFU`: its AstDB family.
    pub family: Value,
}

const FORWARDS: [(Feature, Feature, &str, &str); 3] = [
    (
        Feature::ForwardAllOn,
        Feature::ForwardAllOff,
        "CF",
        "call-fwd-unconditional",
    ),
    (
        Feature::ForwardBusyOn,
        Feature::ForwardBusyOff,
        "CFB",
        "call-fwd-on-busy",
    ),
    (
        Feature::ForwardNoAnswerOn,
        Feature::ForwardNoAnswerOff,
        "CFU",
        "call-fwd-no-ans",
    ),
];

pub(super) fn build(ctx: &Ctx, codes: &ServerCodes) -> Result<FeaturesView, RenderError> {
    let code = |f: Feature| -> Result<Option<Value>, RenderError> {
        codes
            .code(f)
            .map(|c| Ok(safe(arg(c, ctx, "feature codes", f.key())?)))
            .transpose()
    };
    let dnd = DndView {
        toggle: code(Feature::DndToggle)?,
        on: code(Feature::DndOn)?,
        off: code(Feature::DndOff)?,
    };
    let dnd = (dnd.toggle.is_some() || dnd.on.is_some() || dnd.off.is_some()).then_some(dnd);
    let mut forwards = Vec::new();
    for (on, off, family, prompt) in FORWARDS {
        let (on, off) = (code(on)?, code(off)?);
        if on.is_some() || off.is_some() {
            forwards.push(ForwardCodes {
                family: safe(family.to_owned()),
                prompt: safe(prompt.to_owned()),
                on,
                off,
            });
        }
    }
    let directed_pickup = codes
        .code(Feature::DirectedPickup)
        .map(|c| {
            Ok::<_, RenderError>(PrefixCode {
                code: safe(arg(c, ctx, "feature codes", "directed_pickup")?),
                len: c.len(),
            })
        })
        .transpose()?;
    Ok(FeaturesView {
        voicemail: code(Feature::Voicemail)?,
        voicemail_any: code(Feature::VoicemailAny)?,
        dnd,
        forwards,
        forward_check: safe(match codes.forward_reach {
            ForwardReach::Routes => "${CONTEXT}".to_owned(),
            ForwardReach::Internal => ctx.context("", "internal"),
        }),
        pickup: code(Feature::Pickup)?,
        directed_pickup,
        echo_test: code(Feature::EchoTest)?,
        speaking_clock: code(Feature::SpeakingClock)?,
        agent_pause: code(Feature::AgentPause)?,
        agent_unpause: code(Feature::AgentUnpause)?,
        agent_queues: agent_queues(ctx, codes)?,
        directory: code(Feature::Directory)?,
        intercom: codes
            .code(Feature::Intercom)
            .map(|c| {
                Ok::<_, RenderError>(PrefixCode {
                    code: safe(arg(c, ctx, "feature codes", "intercom")?),
                    len: c.len(),
                })
            })
            .transpose()?,
    })
}

/// What the dialling of `e` checks; `phone_context` is its endpoint's context.
pub(super) fn user_state(
    ctx: &Ctx,
    codes: &ServerCodes,
    e: &Sourced<Extension>,
    phone_context: &str,
) -> UserState {
    let on = |f: Feature| codes.code(f).is_some();
    let dnd = on(Feature::DndToggle) || on(Feature::DndOn);
    let (cf, cfb, cfu) = (
        on(Feature::ForwardAllOn),
        on(Feature::ForwardBusyOn),
        on(Feature::ForwardNoAnswerOn),
    );
    let forward_context = (cf || cfb || cfu).then(|| {
        safe(match codes.forward_reach {
            ForwardReach::Routes => phone_context.to_owned(),
            ForwardReach::Internal => ctx.context("", "internal"),
        })
    });
    let forwards = [(cf, "CF"), (cfb, "CFB"), (cfu, "CFU")]
        .into_iter()
        .filter(|(on, _)| *on)
        .map(|(_, family)| UserForward {
            label: safe(family.to_lowercase()),
            family: safe(family.to_owned()),
        })
        .collect();
    UserState {
        forwards,
        dnd_blf: codes
            .code(Feature::DndToggle)
            .map(|t| safe(format!("{t}{}", e.number))),
        dnd,
        cf,
        cfb,
        cfu,
        forward_context,
    }
}

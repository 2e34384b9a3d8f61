//! The prepared view of one server that templates render: effective settings resolved,
//! secrets read, and every piece of user text already escaped for the exact place it goes.
//!
//! One module per generated file builds that file's part of the view: [`pjsip`],
//! [`dialplan`] (with its routes and menus), [`queues`], [`voicemail`] and [`moh`]. This
//! module holds what they share: the [`Ctx`] they read from, call destinations as
//! dialplan applications, and the [`ServerView`] every template receives.
//!
//! Convention: a `String` field is a config value (`key=value` lines), escaped by the
//! template formatter with [`escape::conf_value`]; a [`Value`] field is a finished
//! dialplan or mailbox fragment, escaped here with the function for its context and
//! marked safe. The dialplan template accepts nothing else (see `render::environment`).
//!
//! The doc comment of every field a template sees is the contract of a template
//! override (`project.templates_dir`); `templates/README.md` lists them per template.

mod conferences;
mod dialplan;
mod moh;
mod parking;
mod pjsip;
mod queues;
mod voicemail;

use std::collections::BTreeSet;

use minijinja::Value;
use serde::Serialize;

use super::RenderError;
use super::escape::{self, EscapeError};
use super::kind::ConfKind;
use super::secrets::SecretSource;
use crate::model::index::ServerEntities;
use crate::model::{Extension, Fleet, Name, Origin, Server, Sourced, Target};

pub use moh::MohView;
pub use queues::QueueView;

pub use crate::model::defaults::*;

fn safe(text: String) -> Value {
    Value::from_safe_string(text)
}

/// Escapes an identifier that the schema already restricted (names, numbers, patterns).
fn arg(text: &str, ctx: &Ctx, entity: &str, field: &str) -> Result<String, RenderError> {
    escape::app_arg(text).map_err(|e| ctx.unsafe_value(entity, field, e))
}

/// Checks an extension name or dial pattern (the left of `exten =>`).
fn exten(text: &str, ctx: &Ctx, entity: &str, field: &str) -> Result<String, RenderError> {
    escape::exten(text).map_err(|e| ctx.unsafe_value(entity, field, e))
}

/// What every template of one server receives: a few names, and each generated file's
/// part, flattened (a template sees `endpoints`, not `pjsip.endpoints`). The fields of
/// each part are documented in its module.
#[derive(Debug, Serialize)]
pub struct ServerView {
    /// The server's name in the repo.
    pub server: String,
    /// The prefix of every generated context and of the mailbox context (`project.suffix`,
    /// default `odoo`): contexts are `<prefix>-internal`, `<prefix>-menu-<name>`, ...
    pub prefix: Value,
    /// The voicemail context holding the server's mailboxes (the prefix).
    pub vm_context: Value,
    #[serde(flatten)]
    pub pjsip: pjsip::Pjsip,
    #[serde(flatten)]
    pub dialplan: dialplan::Dialplan,
    /// `queues` and `extensions`: the queues (their settings, and their dialplan context).
    pub queues: Vec<QueueView>,
    #[serde(flatten)]
    pub voicemail: voicemail::Mailboxes,
    /// `musiconhold`: the fleet's music-on-hold classes.
    pub moh: Vec<MohView>,
    /// `confbridge` and `extensions`: the conference rooms (profiles, and their context).
    pub conferences: Vec<conferences::ConferenceView>,
    /// `res_parking` and `extensions`: the parking lots.
    pub parking: Vec<parking::ParkingView>,
    /// `astbase`: the agent's settings; none when the repo sets none for this server.
    pub agent: Option<AgentView>,
}

/// What the agent beside Asterisk does, from the repo (`astbase_<suffix>.conf`).
#[derive(Debug, Serialize)]
pub struct AgentView {
    /// `recordings.keep_days`.
    pub recordings_keep_days: Option<u32>,
}

/// What every builder needs: the fleet, the server, names and secrets.
pub(super) struct Ctx<'a> {
    pub fleet: &'a Fleet,
    pub server: &'a Sourced<Server>,
    pub entities: &'a ServerEntities<'a>,
    pub prefix: &'a str,
    pub secrets: &'a SecretSource,
}

impl Ctx<'_> {
    fn name(&self) -> &str {
        self.server.name.as_str()
    }

    pub fn unsafe_value(&self, entity: &str, field: &str, error: EscapeError) -> RenderError {
        RenderError::Unsafe {
            server: self.name().to_owned(),
            entity: entity.to_owned(),
            field: field.to_owned(),
            source: error,
        }
    }

    fn secret(
        &self,
        entity: &str,
        field: &str,
        secret: &crate::model::secret::Secret,
    ) -> Result<String, RenderError> {
        let value = self
            .secrets
            .resolve(secret)
            .map_err(|source| RenderError::Secret {
                server: self.name().to_owned(),
                entity: entity.to_owned(),
                field: field.to_owned(),
                source: Box::new(source),
            })?;
        escape::conf_value(&value).map_err(|e| self.unsafe_value(entity, field, e))?;
        Ok(value)
    }

    fn context(&self, kind: &str, name: &str) -> String {
        if kind.is_empty() {
            format!("{}-{name}", self.prefix)
        } else {
            format!("{}-{kind}-{name}", self.prefix)
        }
    }

    /// A call destination as a dialplan application.
    pub fn target(&self, target: &Target, entity: &str, field: &str) -> Result<Value, RenderError> {
        let e = &self.entities;
        let text = match entry_point(self.prefix, e, target) {
            None => "Hangup()".to_owned(),
            Some((context, exten)) => format!(
                "Goto({},{},1)",
                arg(&context, self, entity, field)?,
                arg(&exten, self, entity, field)?
            ),
        };
        Ok(safe(text))
    }

    /// An optional destination; none means hang up.
    fn target_or_hangup(
        &self,
        target: &Option<Target>,
        entity: &str,
        field: &str,
    ) -> Result<Value, RenderError> {
        match target {
            Some(t) => self.target(t, entity, field),
            None => Ok(safe("Hangup()".to_owned())),
        }
    }

    /// The server's extensions that are enabled: disabled ones are not rendered at all.
    fn extensions(&self) -> impl Iterator<Item = &Sourced<Extension>> {
        self.entities
            .extensions
            .iter()
            .copied()
            .filter(|e| e.enabled)
    }
}

/// The files of the repo (indexes into `Sources::files`) that define what each generated
/// file contains, by kind: its header names them.
#[derive(Debug, Default)]
pub struct FileOrigins([BTreeSet<usize>; ConfKind::ALL.len()]);

impl FileOrigins {
    /// Records that `origin`'s file contributes to the generated file of `kind`.
    fn add(&mut self, kind: ConfKind, origin: &Origin) {
        self.0[kind as usize].insert(origin.file.0);
    }

    /// The files that contribute to the generated file of `kind`, in file order.
    pub fn of(&self, kind: ConfKind) -> &BTreeSet<usize> {
        &self.0[kind as usize]
    }
}

/// Builds the view of one server, and which repo files each generated file comes from.
pub(super) fn build(ctx: &Ctx) -> Result<(ServerView, FileOrigins), RenderError> {
    let mut origins = FileOrigins::default();
    origins.add(ConfKind::Pjsip, &ctx.server.origin);
    origins.add(ConfKind::Dialplan, &ctx.server.origin);

    let phones = dialplan::PhoneContexts::of(ctx)?;
    let pjsip = pjsip::build(ctx, &phones, &mut origins)?;
    let mailboxes = voicemail::build(ctx, &mut origins)?;
    let dialplan = dialplan::build(ctx, phones, &mut origins)?;
    let queues = queues::build(ctx, &mut origins)?;
    let moh = moh::build(ctx, &mut origins);
    let conferences = conferences::build(ctx, &mut origins)?;
    let parking = parking::build(ctx, &mut origins)?;

    let view = ServerView {
        server: ctx.name().to_owned(),
        prefix: safe(ctx.prefix.to_owned()),
        vm_context: safe(voicemail::context(ctx)),
        pjsip,
        dialplan,
        queues,
        voicemail: mailboxes,
        moh,
        conferences,
        parking,
        agent: agent(ctx, &mut origins),
    };
    Ok((view, origins))
}

/// The agent's settings, when the repo gives any for this server.
fn agent(ctx: &Ctx, origins: &mut FileOrigins) -> Option<AgentView> {
    let keep_days = ctx.server.recordings_keep_days(&ctx.fleet.project)?;
    origins.add(ConfKind::Agent, &ctx.server.origin);
    if let Some(project) = &ctx.fleet.project_origin {
        origins.add(ConfKind::Agent, project);
    }
    Some(AgentView {
        recordings_keep_days: Some(keep_days),
    })
}

/// A short stable hash for context names derived from lists (FNV-1a, 32 bits).
fn short_hash(text: &str) -> String {
    let mut h: u32 = 0x811c_9dc5;
    for b in text.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    format!("{h:08x}")
}

/// Where a call to a destination enters the rendered dialplan: its context and
/// extension (`None` for hangup). A queue or dialplan the server does not have (validate
/// refuses such a destination, and a dialplan without an entry) enters at `s`.
fn entry_point(
    prefix: &str,
    entities: &ServerEntities,
    target: &Target,
) -> Option<(String, String)> {
    let p = prefix;
    let (queues, dialplans, parking_lots) = (
        &entities.queues,
        &entities.dialplans,
        &entities.parking_lots,
    );
    Some(match target {
        Target::Hangup => return None,
        Target::Directory => (format!("{p}-directory"), "s".to_owned()),
        Target::Extension(n) => (format!("{p}-internal"), n.to_string()),
        Target::Voicemail(n) => (format!("{p}-voicemail"), n.to_string()),
        Target::External(n) => (format!("{p}-outbound"), n.0.clone()),
        Target::Menu(m) => (format!("{p}-menu-{m}"), "s".to_owned()),
        Target::RingGroup(g) => (format!("{p}-ringgroup-{g}"), "s".to_owned()),
        Target::Conference(c) => (format!("{p}-conference-{c}"), "s".to_owned()),
        Target::Announcement(a) => (format!("{p}-announcement-{a}"), "s".to_owned()),
        // The lot's park number, in the context res_parking creates for it.
        Target::Parking(l) => (
            format!("{p}-parkedcalls-{l}"),
            parking_lots
                .iter()
                .find(|x| x.name == *l)
                .map_or_else(|| "s".to_owned(), |x| x.park_number.to_string()),
        ),
        Target::Schedule(s) => (dialplan::schedule_context(p, s), "s".to_owned()),
        Target::Queue(q) => (
            format!("{p}-queue-{q}"),
            queues
                .iter()
                .find(|x| x.name == *q)
                .map_or_else(|| "s".to_owned(), |x| queues::queue_exten(x)),
        ),
        Target::Dialplan(d) => (
            format!("{p}-custom-{d}"),
            dialplans
                .iter()
                .find(|x| x.name == *d)
                .and_then(|x| x.entry())
                .unwrap_or("s")
                .to_owned(),
        ),
    })
}

/// Where a call to `target` starts in the rendered dialplan of `server`, as
/// `exten@context` (what a Local channel dials): the place `Ctx::target` sends a call
/// to. `None` for `hangup`.
pub fn dialplan_entry(fleet: &Fleet, server: &str, target: &Target) -> Option<String> {
    // Only what the entry point reads: the server's queues, dialplans and parking lots.
    let on_server = |s: &Name| s.as_str() == server;
    let entities = ServerEntities {
        queues: fleet
            .queues
            .iter()
            .map(|q| &**q)
            .filter(|q| on_server(&q.server))
            .collect(),
        dialplans: fleet
            .dialplans
            .iter()
            .map(|d| &**d)
            .filter(|d| on_server(&d.server))
            .collect(),
        parking_lots: fleet
            .parking_lots
            .iter()
            .map(|l| &**l)
            .filter(|l| on_server(&l.server))
            .collect(),
        ..ServerEntities::default()
    };
    entry_point(fleet.project.suffix(), &entities, target)
        .map(|(context, exten)| format!("{exten}@{context}"))
}

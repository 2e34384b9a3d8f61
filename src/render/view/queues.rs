//! `queues_odoo.conf`: one section per queue with its static members; the same view
//! gives each queue its dialplan context in `extensions_odoo.conf`.

use minijinja::Value;
use serde::Serialize;

use super::{Ctx, FileOrigins, arg, safe};
use crate::model::queue::Strategy;
use crate::model::{Queue, Sourced};
use crate::render::RenderError;
use crate::render::escape;
use crate::render::kind::ConfKind;

/// A queue: its `queues.conf` section and its `<prefix>-queue-<name>` context.
#[derive(Debug, Serialize)]
pub struct QueueView {
    /// Section name in `queues.conf`.
    pub name: String,
    /// `<prefix>-queue-<name>`: where calls for the queue go.
    pub context: Value,
    /// The extension calls enter the context at: the queue's number, else its name, so
    /// that a call's CDR says which queue was dialled (`dst`), not `s`.
    pub exten: Value,
    /// The queue name as an argument of `Queue()`.
    pub queue_arg: Value,
    /// `strategy=` in app_queue's words (`ringall`, `rrmemory`, ...).
    pub strategy: &'static str,
    /// Seconds a member's phone rings (`timeout=`), seconds before trying again
    /// (`retry=`), seconds after a call before the next (`wrapuptime=`).
    pub timeout: u32,
    pub retry: u32,
    pub wrapup: u32,
    /// The most callers waiting (`maxlen=`, 0: no limit).
    pub maxlen: u32,
    /// `musicclass=`, a music-on-hold class.
    pub musicclass: Option<String>,
    /// `joinempty=` and `leavewhenempty=` in app_queue's words.
    pub joinempty: &'static str,
    pub leavewhenempty: &'static str,
    /// `announce-frequency=` seconds (0: never) and `announce-holdtime=`.
    pub announce_frequency: u32,
    pub announce_holdtime: bool,
    /// `servicelevel=` seconds.
    pub servicelevel: Option<u32>,
    /// Whether calls are recorded.
    pub recording: bool,
    /// Finished `member =>` values (`PJSIP/101,penalty,Name,PJSIP/101`), enabled
    /// extensions only.
    pub members: Vec<Value>,
    /// A prompt played before the caller joins.
    pub greeting: Option<Value>,
    /// The longest a caller waits, seconds (the `Queue()` timeout).
    pub max_wait: Option<u32>,
    /// Where the caller goes when the wait is over, the queue is full, or no member can
    /// take calls: dialplan applications (`Hangup()` when not set).
    pub on_timeout: Value,
    pub on_full: Value,
    pub on_empty: Value,
}

/// The extension a queue's context answers at.
pub(super) fn queue_exten(q: &Queue) -> String {
    match &q.number {
        Some(n) => n.as_str().to_owned(),
        None => q.name.as_str().to_owned(),
    }
}

pub(super) fn build(ctx: &Ctx, origins: &mut FileOrigins) -> Result<Vec<QueueView>, RenderError> {
    let mut queues = Vec::new();
    for q in ctx.entities.queues.iter().copied() {
        origins.add(ConfKind::Queues, &q.origin);
        origins.add(ConfKind::Dialplan, &q.origin);
        queues.push(queue(ctx, q)?);
    }
    Ok(queues)
}

fn queue(ctx: &Ctx, q: &Sourced<Queue>) -> Result<QueueView, RenderError> {
    let entity = format!("queue {}", q.name);
    let mut members = Vec::new();
    for m in &q.members {
        let number = m.extension().as_str();
        let Some(ext) = ctx.entities.extension_by_number.get(number) else {
            continue;
        };
        if !ext.enabled {
            continue;
        }
        let number = arg(number, ctx, &entity, "members")?;
        let name = escape::queue_member_name(&ext.name)
            .map_err(|er| ctx.unsafe_value(&entity, "members", er))?;
        members.push(safe(format!(
            "PJSIP/{number},{},{name},PJSIP/{number}",
            m.penalty()
        )));
    }
    Ok(QueueView {
        name: q.name.to_string(),
        context: safe(ctx.context("queue", q.name.as_str())),
        exten: safe(super::exten(&queue_exten(q), ctx, &entity, "number")?),
        queue_arg: safe(arg(q.name.as_str(), ctx, &entity, "name")?),
        strategy: match q.strategy {
            Strategy::Ringall => "ringall",
            Strategy::Leastrecent => "leastrecent",
            Strategy::Fewestcalls => "fewestcalls",
            Strategy::Random => "random",
            Strategy::Rrmemory => "rrmemory",
            Strategy::Rrordered => "rrordered",
            Strategy::Linear => "linear",
            Strategy::Wrandom => "wrandom",
        },
        timeout: q.ring_timeout.unwrap_or(15),
        retry: q.retry.unwrap_or(5),
        wrapup: q.wrapup.unwrap_or(0),
        maxlen: q.max_length.unwrap_or(0),
        musicclass: q.music_class.as_ref().map(ToString::to_string),
        // app_queue's own words: the conditions under which callers cannot join / must leave.
        joinempty: if q.join_when_empty.unwrap_or(true) {
            "yes"
        } else {
            "penalty,paused,invalid,unavailable"
        },
        leavewhenempty: if q.leave_when_empty.unwrap_or(false) {
            "penalty,paused,invalid,unavailable"
        } else {
            "no"
        },
        announce_frequency: q.announce_frequency.unwrap_or(0),
        announce_holdtime: q.announce_holdtime,
        servicelevel: q.service_level,
        recording: q.recording,
        members,
        greeting: q
            .greeting
            .as_ref()
            .map(|g| arg(&g.0, ctx, &entity, "greeting").map(safe))
            .transpose()?,
        max_wait: q.max_wait,
        on_timeout: ctx.target_or_hangup(&q.on_timeout, &entity, "on_timeout")?,
        on_full: ctx.target_or_hangup(&q.on_full, &entity, "on_full")?,
        on_empty: ctx.target_or_hangup(&q.on_empty, &entity, "on_empty")?,
    })
}

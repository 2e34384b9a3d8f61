//! `voicemail_odoo.conf`: one mailbox line per enabled mailbox, its settings (server,
//! then project) written as per-mailbox options.

use minijinja::Value;
use serde::Serialize;

use super::{Ctx, FileOrigins, safe};
use crate::model::Extension;
use crate::model::extension::Mailbox;
use crate::render::RenderError;
use crate::render::escape::{self, EscapeError};
use crate::render::kind::ConfKind;

/// The voicemail part of a server's view.
#[derive(Debug, Serialize)]
pub struct Mailboxes {
    /// `voicemail`: one finished mailbox line (`101 => PIN,Name,email,,options`) per
    /// enabled mailbox.
    pub mailboxes: Vec<Value>,
    /// `extensions`: the numbers of the mailboxes, as destinations in
    /// `<prefix>-voicemail`.
    pub voicemail_targets: Vec<Value>,
}

/// The voicemail context of the server's mailboxes (`[odoo]` by default).
pub(super) fn context(ctx: &Ctx) -> String {
    ctx.prefix.to_owned()
}

pub(super) fn build(ctx: &Ctx, origins: &mut FileOrigins) -> Result<Mailboxes, RenderError> {
    let mut mailboxes = Mailboxes {
        mailboxes: Vec::new(),
        voicemail_targets: Vec::new(),
    };
    for e in ctx.extensions() {
        let Some(vm) = e.voicemail.as_ref().filter(|v| v.enabled) else {
            continue;
        };
        origins.add(ConfKind::Voicemail, &e.origin);
        origins.add(ConfKind::Voicemail, &ctx.server.origin);
        mailboxes.mailboxes.push(mailbox_line(ctx, e, vm)?);
        mailboxes
            .voicemail_targets
            .push(safe(e.number.as_str().to_owned()));
    }
    Ok(mailboxes)
}

/// `101 => PIN,Name,email,,option|option...`
fn mailbox_line(ctx: &Ctx, e: &Extension, vm: &Mailbox) -> Result<Value, RenderError> {
    let n = e.number.as_str();
    let entity = format!("extension {n}");
    let pin = ctx.secret(&entity, "voicemail.pin", &vm.pin)?;
    // An offline diff renders `{env}`/`{file}` secrets as the placeholder, which is no
    // PIN but is never written to a host (and is masked in diffs like any PIN).
    let placeholder = pin == crate::render::secrets::PLACEHOLDER && !vm.pin.is_plain();
    if !placeholder && (!pin.chars().all(|c| c.is_ascii_digit()) || pin.is_empty()) {
        return Err(ctx.unsafe_value(
            &entity,
            "voicemail.pin",
            EscapeError::Forbidden(pin.chars().find(|c| !c.is_ascii_digit()).unwrap_or(' ')),
        ));
    }
    let settings = &ctx.server.voicemail;
    let psettings = &ctx.fleet.project.voicemail;
    let vfield = |text: &str, field: &str| {
        escape::voicemail_field(text).map_err(|er| ctx.unsafe_value(&entity, field, er))
    };
    let vopt = |text: &str, field: &str| {
        escape::voicemail_option(text).map_err(|er| ctx.unsafe_value(&entity, field, er))
    };
    let email = vm.email.as_ref().or(e.email.as_ref());
    let mut options = Vec::new();
    let attach = vm
        .attach
        .or(settings.attach)
        .or(psettings.attach)
        .unwrap_or(true);
    options.push(format!("attach={}", if attach { "yes" } else { "no" }));
    options.push(format!(
        "delete={}",
        if vm.delete_after_email { "yes" } else { "no" }
    ));
    // The company directory lists only the mailboxes that opt in.
    if !vm.in_directory {
        options.push("hidefromdir=yes".to_owned());
    }
    if let Some(x) = settings.max_messages.or(psettings.max_messages) {
        options.push(format!("maxmsg={x}"));
    }
    if let Some(x) = settings
        .max_message_seconds
        .or(psettings.max_message_seconds)
    {
        options.push(format!("maxsecs={x}"));
    }
    if let Some(x) = settings
        .from_email
        .as_ref()
        .or(psettings.from_email.as_ref())
    {
        options.push(format!("serveremail={}", vopt(x, "voicemail.from_email")?));
    }
    if let Some(x) = settings
        .email_subject
        .as_ref()
        .or(psettings.email_subject.as_ref())
    {
        options.push(format!(
            "emailsubject={}",
            vopt(x, "voicemail.email_subject")?
        ));
    }
    if let Some(x) = settings
        .email_body
        .as_ref()
        .or(psettings.email_body.as_ref())
    {
        options.push(format!("emailbody={}", vopt(x, "voicemail.email_body")?));
    }
    Ok(safe(format!(
        "{n} => {pin},{},{},,{}",
        escape::voicemail_name(&e.name).map_err(|er| ctx.unsafe_value(&entity, "name", er))?,
        match email {
            Some(m) => vfield(m, "email")?,
            None => String::new(),
        },
        options.join("|")
    )))
}

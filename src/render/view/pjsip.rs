//! `pjsip_odoo.conf`: transports, one endpoint/auth/aor per extension, and per trunk its
//! endpoint, aor, auth, registration and identify.

use super::dialplan::PhoneContexts;
use super::{Ctx, DEFAULT_CODECS, DEFAULT_MAX_CONTACTS, FileOrigins, safe};
use crate::model::extension::{Codec, DtmfMode, Recording};
use crate::model::server::TransportProtocol;
use crate::model::trunk::TrunkKind;
use crate::render::RenderError;
use crate::render::escape;
use crate::render::kind::ConfKind;
use minijinja::Value;
use serde::Serialize;

/// A `type=transport` section.
#[derive(Debug, Serialize)]
pub struct TransportView {
    /// Section name, which endpoints name in `transport=`.
    pub name: String,
    /// `udp`, `tcp`, `tls`, `ws` or `wss`.
    pub protocol: &'static str,
    /// `bind=` address and port.
    pub bind: String,
    /// `external_media_address=` and `external_signaling_address=` (behind NAT).
    pub external_address: Option<String>,
    /// `local_net=` networks, one line each.
    pub local_net: Vec<String>,
    /// TLS certificate and key files.
    pub cert_file: Option<String>,
    pub priv_key_file: Option<String>,
}

/// An extension's endpoint, auth and aor, all three sections named `id`.
#[derive(Debug, Serialize)]
pub struct EndpointView {
    /// The extension number: the section name and the auth username.
    pub id: String,
    /// The SIP password (resolved secret; masked in every plan and diff).
    pub password: String,
    /// The phones' context of the routes this extension may dial (see `Profile`).
    pub context: String,
    /// `allow=` codec list (extension, server, project, then `ulaw,alaw`).
    pub codecs: String,
    /// `callerid=` as `"Name" <number>`, already escaped.
    pub callerid: Value,
    /// `mailboxes=` (`number@context`) when the extension has an enabled mailbox.
    pub mailboxes: Option<String>,
    /// `dtmf_mode=`.
    pub dtmf_mode: &'static str,
    /// Behind NAT: `direct_media=no`, `rtp_symmetric`, `force_rport`, `rewrite_contact`.
    pub nat: bool,
    /// `transport=`, when one is set.
    pub transport: Option<String>,
    /// The aor's `max_contacts=`.
    pub max_contacts: u32,
    /// `named_call_group=`/`named_pickup_group=`, comma-separated.
    pub pickup_groups: Option<String>,
    /// `language=` for prompts.
    pub language: Option<String>,
    /// `set_var=` lines (`ODOO_OUTCID=...` outbound caller id, `ODOO_RECORD=...`).
    pub set_vars: Vec<String>,
}

/// A trunk's sections, all named `id`.
#[derive(Debug, Serialize)]
pub struct TrunkView {
    /// The trunk's name.
    pub id: String,
    /// Whether astbase registers to the provider (`type=registration`).
    pub registration: bool,
    /// Where calls from the trunk go: `<prefix>-inbound-<trunk>`.
    pub context: String,
    /// `allow=` codec list.
    pub codecs: String,
    /// `dtmf_mode=`.
    pub dtmf_mode: &'static str,
    /// `transport=`, when one is set.
    pub transport: Option<String>,
    /// The account at the provider (`from_user`, auth `username`, `contact_user`).
    pub username: Option<String>,
    /// The account's password (resolved secret); no auth section without one.
    pub password: Option<String>,
    /// The aor's `contact=` (`sip:host[:port]`).
    pub contact: String,
    /// The registration's `server_uri=`.
    pub server_uri: String,
    /// The registration's `client_uri=` (`sip:user@host[:port]`).
    pub client_uri: Option<String>,
    /// `match=` addresses of the identify section (none: no identify section).
    pub matches: Vec<String>,
    /// Registration `expiration=` and `retry_interval=`, seconds.
    pub expiration: u32,
    pub retry_interval: u32,
}

/// The `pjsip` template's part of a server's view.
#[derive(Debug, Serialize)]
pub struct Pjsip {
    /// The server's transports.
    pub transports: Vec<TransportView>,
    /// One endpoint (with its auth and aor) per enabled extension.
    pub endpoints: Vec<EndpointView>,
    /// One endpoint, aor, auth, registration and identify per trunk.
    pub trunks: Vec<TrunkView>,
}

pub(super) fn build(
    ctx: &Ctx,
    phones: &PhoneContexts,
    origins: &mut FileOrigins,
) -> Result<Pjsip, RenderError> {
    let transports = ctx
        .server
        .transports
        .iter()
        .map(|t| TransportView {
            name: t.name.to_string(),
            protocol: match t.protocol {
                TransportProtocol::Udp => "udp",
                TransportProtocol::Tcp => "tcp",
                TransportProtocol::Tls => "tls",
                TransportProtocol::Ws => "ws",
                TransportProtocol::Wss => "wss",
            },
            bind: t.bind.clone(),
            external_address: t.external_address.clone(),
            local_net: t.local_net.iter().map(|c| c.0.clone()).collect(),
            cert_file: t.cert_file.clone(),
            priv_key_file: t.priv_key_file.clone(),
        })
        .collect();
    let mut endpoints = Vec::new();
    for e in ctx.extensions() {
        origins.add(ConfKind::Pjsip, &e.origin);
        endpoints.push(endpoint(ctx, e, phones)?);
    }
    let mut trunks = Vec::new();
    for t in ctx.entities.trunks.iter().copied() {
        origins.add(ConfKind::Pjsip, &t.origin);
        trunks.push(trunk(ctx, t)?);
    }
    Ok(Pjsip {
        transports,
        endpoints,
        trunks,
    })
}

fn endpoint(
    ctx: &Ctx,
    e: &crate::model::Extension,
    phones: &PhoneContexts,
) -> Result<EndpointView, RenderError> {
    let defaults = &ctx.server.defaults;
    let pdefaults = &ctx.fleet.project.defaults;
    let n = e.number.as_str();
    let entity = format!("extension {n}");
    let password = ctx.secret(&entity, "secret", &e.secret)?;
    let mailbox = e.voicemail.as_ref().filter(|v| v.enabled);
    let mut set_vars = Vec::new();
    if let Some(number) = e.callerid.as_ref().and_then(|c| c.number.as_ref()) {
        set_vars.push(format!("ODOO_OUTCID={number}"));
    }
    match e.recording {
        Recording::Never => {}
        Recording::Always => set_vars.push("ODOO_RECORD=always".to_owned()),
        Recording::External => set_vars.push("ODOO_RECORD=external".to_owned()),
    }
    let cid_name = e
        .callerid
        .as_ref()
        .and_then(|c| c.name.as_deref())
        .unwrap_or(&e.name);
    Ok(EndpointView {
        id: n.to_owned(),
        password,
        context: phones.context_of(e).to_owned(),
        codecs: codecs(
            e.codecs
                .as_ref()
                .or(defaults.codecs.as_ref())
                .or(pdefaults.codecs.as_ref()),
        ),
        callerid: safe(
            escape::callerid(Some(cid_name), n)
                .map_err(|er| ctx.unsafe_value(&entity, "name", er))?,
        ),
        mailboxes: mailbox.map(|_| format!("{n}@{}", super::voicemail::context(ctx))),
        dtmf_mode: dtmf(
            e.dtmf_mode
                .or(defaults.dtmf_mode)
                .or(pdefaults.dtmf_mode)
                .unwrap_or(DtmfMode::Rfc4733),
        ),
        nat: e.nat.or(defaults.nat).or(pdefaults.nat).unwrap_or(true),
        transport: e
            .transport
            .as_ref()
            .or(defaults.transport.as_ref())
            .or(pdefaults.transport.as_ref())
            .map(ToString::to_string),
        max_contacts: e
            .max_contacts
            .or(defaults.max_contacts)
            .or(pdefaults.max_contacts)
            .unwrap_or(DEFAULT_MAX_CONTACTS),
        pickup_groups: (!e.pickup_groups.is_empty()).then(|| {
            e.pickup_groups
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(",")
        }),
        language: e
            .language
            .clone()
            .or_else(|| defaults.language.clone())
            .or_else(|| pdefaults.language.clone()),
        set_vars,
    })
}

fn trunk(ctx: &Ctx, t: &crate::model::Trunk) -> Result<TrunkView, RenderError> {
    let entity = format!("trunk {}", t.name);
    let password = t
        .secret
        .as_ref()
        .map(|s| ctx.secret(&entity, "secret", s))
        .transpose()?;
    let hostport = match t.port {
        Some(port) => format!("{}:{port}", bracket_v6(&t.host)),
        None => bracket_v6(&t.host),
    };
    Ok(TrunkView {
        id: t.name.to_string(),
        registration: t.kind == TrunkKind::Registration,
        context: ctx.context("inbound", t.name.as_str()),
        codecs: codecs(t.codecs.as_ref()),
        dtmf_mode: dtmf(t.dtmf_mode.unwrap_or(DtmfMode::Rfc4733)),
        transport: t.transport.as_ref().map(ToString::to_string),
        username: t.username.clone(),
        password,
        contact: format!("sip:{hostport}"),
        server_uri: format!("sip:{hostport}"),
        client_uri: t.username.as_ref().map(|u| format!("sip:{u}@{hostport}")),
        matches: t.match_addresses.iter().map(|c| c.0.clone()).collect(),
        expiration: t.expiration.unwrap_or(3600),
        retry_interval: t.retry_interval.unwrap_or(60),
    })
}

fn bracket_v6(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_owned()
    }
}

fn dtmf(mode: DtmfMode) -> &'static str {
    match mode {
        DtmfMode::Rfc4733 => "rfc4733",
        DtmfMode::Inband => "inband",
        DtmfMode::Info => "info",
        DtmfMode::Auto => "auto",
        DtmfMode::AutoInfo => "auto_info",
    }
}

fn codecs(list: Option<&Vec<Codec>>) -> String {
    match list {
        Some(list) if !list.is_empty() => list
            .iter()
            .map(|c| {
                serde_json::to_value(c)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join(","),
        _ => DEFAULT_CODECS.to_owned(),
    }
}

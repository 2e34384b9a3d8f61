//! The prepared view of one server that templates render: effective settings resolved,
//! secrets read, and every piece of user text already escaped for the exact place it goes.
//!
//! Convention: a `String` field is a config value (`key=value` lines), escaped by the
//! template formatter with [`escape::conf_value`]; a [`Value`] field is a finished
//! dialplan or mailbox fragment, escaped here with the function for its context and
//! marked safe. The dialplan template accepts nothing else (see `render::environment`).

use std::collections::BTreeSet;

use minijinja::Value;
use serde::Serialize;

use super::RenderError;
use super::escape::{self, EscapeError};
use super::secrets::SecretSource;
use crate::model::extension::{DtmfMode, Recording};
use crate::model::index::ServerEntities;
use crate::model::queue::Strategy;
use crate::model::server::TransportProtocol;
use crate::model::trunk::TrunkKind;
use crate::model::{Extension, Fleet, Server, Sourced, Target};

/// Built-in defaults, used when neither the extension, its server nor the project says.
pub const DEFAULT_CODECS: &str = "ulaw,alaw";
pub const DEFAULT_RING_TIMEOUT: u32 = 20;
pub const DEFAULT_MAX_CONTACTS: u32 = 1;
pub const DEFAULT_DIGIT_TIMEOUT: u32 = 5;
pub const DEFAULT_MAX_RETRIES: u32 = 3;
pub const DEFAULT_DIAL_TIMEOUT: u32 = 60;

fn safe(text: String) -> Value {
    Value::from_safe_string(text)
}

/// Escapes an identifier that the schema already restricted (names, numbers, patterns).
fn arg(text: &str, ctx: &Ctx, entity: &str, field: &str) -> Result<String, RenderError> {
    escape::app_arg(text).map_err(|e| ctx.unsafe_value(entity, field, e))
}

#[derive(Debug, Serialize)]
pub struct ServerView {
    pub server: String,
    pub prefix: Value,
    pub vm_context: Value,
    pub transports: Vec<TransportView>,
    pub endpoints: Vec<EndpointView>,
    pub trunks: Vec<TrunkView>,
    pub internal: Vec<ExtensionDial>,
    pub numbers: Vec<NumberGoto>,
    pub profiles: Vec<Profile>,
    pub outbound: Vec<OutboundView>,
    pub outbound_contexts: Vec<Value>,
    pub inbound: Vec<InboundContext>,
    pub queues: Vec<QueueView>,
    pub menus: Vec<MenuView>,
    pub mailboxes: Vec<Value>,
    pub voicemail_targets: Vec<Value>,
    pub custom: Vec<CustomView>,
    pub direct: Vec<Value>,
    pub moh: Vec<MohView>,
    pub has_direct: bool,
}

#[derive(Debug, Serialize)]
pub struct TransportView {
    pub name: String,
    pub protocol: &'static str,
    pub bind: String,
    pub external_address: Option<String>,
    pub local_net: Vec<String>,
    pub cert_file: Option<String>,
    pub priv_key_file: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct EndpointView {
    pub id: String,
    pub password: String,
    pub context: String,
    pub codecs: String,
    pub callerid: Value,
    pub mailboxes: Option<String>,
    pub dtmf_mode: &'static str,
    pub nat: bool,
    pub transport: Option<String>,
    pub max_contacts: u32,
    pub pickup_groups: Option<String>,
    pub language: Option<String>,
    pub set_vars: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct TrunkView {
    pub id: String,
    pub registration: bool,
    pub context: String,
    pub codecs: String,
    pub dtmf_mode: &'static str,
    pub transport: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub contact: String,
    pub server_uri: String,
    pub client_uri: Option<String>,
    pub matches: Vec<String>,
    pub expiration: u32,
    pub retry_interval: u32,
}

#[derive(Debug, Serialize)]
pub struct ExtensionDial {
    pub number: Value,
    pub name: Value,
    pub device: Value,
    pub ring_timeout: u32,
    pub always: Option<Value>,
    pub busy: Value,
    pub no_answer: Value,
    pub unavailable: Value,
    pub record: &'static str,
}

#[derive(Debug, Serialize)]
pub struct NumberGoto {
    pub number: Value,
    pub what: Value,
    pub goto: Value,
}

#[derive(Debug, Serialize)]
pub struct Profile {
    pub context: Value,
    pub routes: Vec<Value>,
    pub comment: Value,
}

#[derive(Debug, Serialize)]
pub struct OutboundView {
    pub context: Value,
    pub name: Value,
    pub patterns: Vec<OutboundPatternView>,
    pub trunks: Vec<OutboundTrunkView>,
    pub timeout: u32,
}

#[derive(Debug, Serialize)]
pub struct OutboundPatternView {
    pub exten: Value,
    pub number: Value,
}

#[derive(Debug, Serialize)]
pub struct OutboundTrunkView {
    pub id: Value,
    pub label: Value,
    pub next: Value,
    pub callerid: Option<Value>,
    pub max_channels: Option<u32>,
}

#[derive(Debug, Serialize)]
pub struct InboundContext {
    pub context: Value,
    pub include: Option<Value>,
    pub routes: Vec<InboundLine>,
}

#[derive(Debug, Serialize)]
pub struct InboundLine {
    pub name: Value,
    pub extens: Vec<Value>,
    pub target: Value,
}

#[derive(Debug, Serialize)]
pub struct QueueView {
    pub name: String,
    pub context: Value,
    pub queue_arg: Value,
    pub strategy: &'static str,
    pub timeout: u32,
    pub retry: u32,
    pub wrapup: u32,
    pub maxlen: u32,
    pub musicclass: Option<String>,
    pub joinempty: &'static str,
    pub leavewhenempty: &'static str,
    pub announce_frequency: u32,
    pub announce_holdtime: bool,
    pub servicelevel: Option<u32>,
    pub recording: bool,
    pub members: Vec<Value>,
    pub greeting: Option<Value>,
    pub max_wait: Option<u32>,
    pub on_timeout: Value,
    pub on_full: Value,
    pub on_empty: Value,
}

#[derive(Debug, Serialize)]
pub struct MenuView {
    pub context: Value,
    pub name: Value,
    pub holidays: Vec<Value>,
    pub periods: Vec<Value>,
    pub after_hours: Option<Value>,
    pub prompts: Value,
    pub digit_timeout: u32,
    pub max_retries: u32,
    pub keys: Vec<MenuKeyView>,
    pub invalid: Value,
    pub timeout: Value,
    pub invalid_prompt: Value,
    pub direct: bool,
}

#[derive(Debug, Serialize)]
pub struct MenuKeyView {
    pub key: Value,
    pub target: Value,
}

#[derive(Debug, Serialize)]
pub struct CustomView {
    pub context: Value,
    pub includes: Vec<Value>,
    pub lines: Vec<Value>,
}

#[derive(Debug, Serialize)]
pub struct MohView {
    pub name: String,
    pub directory: String,
    pub sort: &'static str,
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
                source,
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
        let p = self.prefix;
        let text = match target {
            Target::Hangup => "Hangup()".to_owned(),
            Target::Extension(n) => format!(
                "Goto({p}-internal,{},1)",
                arg(n.as_str(), self, entity, field)?
            ),
            Target::Voicemail(n) => format!(
                "Goto({p}-voicemail,{},1)",
                arg(n.as_str(), self, entity, field)?
            ),
            Target::Queue(q) => format!(
                "Goto({},s,1)",
                arg(&self.context("queue", q.as_str()), self, entity, field)?
            ),
            Target::Menu(m) => format!(
                "Goto({},s,1)",
                arg(&self.context("menu", m.as_str()), self, entity, field)?
            ),
            Target::Dialplan(d) => {
                let first = self
                    .entities
                    .dialplans
                    .iter()
                    .find(|x| x.name == *d)
                    .and_then(|x| x.lines.first())
                    .and_then(|l| l.exten.clone())
                    .unwrap_or_else(|| "s".to_owned());
                format!(
                    "Goto({},{},1)",
                    arg(&self.context("custom", d.as_str()), self, entity, field)?,
                    arg(&first, self, entity, field)?
                )
            }
            Target::External(n) => format!(
                "Goto({p}-outbound,{},1)",
                arg(n.as_str(), self, entity, field)?
            ),
        };
        Ok(safe(text))
    }

    fn extensions(&self) -> impl Iterator<Item = &Sourced<Extension>> {
        self.entities
            .extensions
            .iter()
            .copied()
            .filter(|e| e.enabled)
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

fn codecs(list: Option<&Vec<crate::model::extension::Codec>>) -> String {
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

/// A short stable hash for context names derived from lists (FNV-1a, 32 bits).
fn short_hash(text: &str) -> String {
    let mut h: u32 = 0x811c_9dc5;
    for b in text.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    format!("{h:08x}")
}

/// The files of the repo that define what one generated file contains.
#[derive(Debug, Default)]
pub struct Sources {
    pub pjsip: BTreeSet<usize>,
    pub dialplan: BTreeSet<usize>,
    pub queues: BTreeSet<usize>,
    pub voicemail: BTreeSet<usize>,
    pub moh: BTreeSet<usize>,
}

pub(super) fn build(ctx: &Ctx) -> Result<(ServerView, Sources), RenderError> {
    let fleet = ctx.fleet;
    let server = ctx.server;
    let sname = server.name.as_str();
    let p = ctx.prefix;
    let project = &fleet.project;
    let defaults = &server.defaults;
    let pdefaults = &project.defaults;
    let vm_context = p.to_owned();
    let mut src = Sources::default();
    let here = |set: &mut BTreeSet<usize>, origin: &crate::model::Origin| {
        set.insert(origin.file.0);
    };
    here(&mut src.pjsip, &server.origin);
    here(&mut src.dialplan, &server.origin);

    let routes = &ctx.entities.outbound_routes;

    // ---- transports
    let transports = server
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

    // ---- extensions: endpoints, dialplan, mailboxes
    let mut endpoints = Vec::new();
    let mut internal = Vec::new();
    let mut mailboxes = Vec::new();
    let mut voicemail_targets = Vec::new();
    let mut profiles: Vec<Profile> = Vec::new();
    let mut direct = Vec::new();
    for e in ctx.extensions() {
        let n = e.number.as_str();
        let entity = format!("extension {n}");
        here(&mut src.pjsip, &e.origin);
        here(&mut src.dialplan, &e.origin);
        let password = ctx.secret(&entity, "secret", &e.secret)?;
        let nat = e.nat.or(defaults.nat).or(pdefaults.nat).unwrap_or(true);
        let mailbox = e.voicemail.as_ref().filter(|v| v.enabled);
        let record = match e.recording {
            Recording::Never => "never",
            Recording::Always => "always",
            Recording::External => "external",
        };

        // Outbound routes this extension may use decide its context.
        let allowed: Vec<&str> = routes
            .iter()
            .filter(|r| match &r.allow {
                None => true,
                Some(a) => {
                    a.extensions.contains(&e.number) || a.tags.iter().any(|t| e.tags.contains(t))
                }
            })
            .map(|r| r.name.as_str())
            .collect();
        let profile_context = if allowed.len() == routes.len() {
            format!("{p}-phones")
        } else {
            format!("{p}-phones-{}", short_hash(&allowed.join(",")))
        };
        if !profiles
            .iter()
            .any(|pr| pr.context.as_str() == Some(profile_context.as_str()))
        {
            profiles.push(Profile {
                context: safe(profile_context.clone()),
                routes: allowed
                    .iter()
                    .map(|r| safe(ctx.context("outbound", r)))
                    .collect(),
                comment: safe(if allowed.is_empty() {
                    "internal calls only".to_owned()
                } else {
                    format!("outbound routes: {}", allowed.join(", "))
                }),
            });
        }

        let mut set_vars = Vec::new();
        if let Some(number) = e.callerid.as_ref().and_then(|c| c.number.as_ref()) {
            set_vars.push(format!("ODOO_OUTCID={number}"));
        }
        if record != "never" {
            set_vars.push(format!("ODOO_RECORD={record}"));
        }
        let cid_name = e
            .callerid
            .as_ref()
            .and_then(|c| c.name.as_deref())
            .unwrap_or(&e.name);
        endpoints.push(EndpointView {
            id: n.to_owned(),
            password,
            context: profile_context,
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
            mailboxes: mailbox.map(|_| format!("{n}@{vm_context}")),
            dtmf_mode: dtmf(
                e.dtmf_mode
                    .or(defaults.dtmf_mode)
                    .or(pdefaults.dtmf_mode)
                    .unwrap_or(DtmfMode::Rfc4733),
            ),
            nat,
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
        });

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
        internal.push(ExtensionDial {
            number: safe(arg(n, ctx, &entity, "number")?),
            name: safe(
                escape::set_value(&e.name).map_err(|er| ctx.unsafe_value(&entity, "name", er))?,
            ),
            device: safe(format!("PJSIP/{}", arg(n, ctx, &entity, "number")?)),
            ring_timeout: e
                .ring_timeout
                .or(defaults.ring_timeout)
                .or(pdefaults.ring_timeout)
                .unwrap_or(DEFAULT_RING_TIMEOUT),
            always: e
                .forward
                .always
                .as_ref()
                .map(|t| ctx.target(t, &entity, "forward.always"))
                .transpose()?,
            busy: fallback(&e.forward.busy, "forward.busy", "b", "Busy(10)")?,
            no_answer: fallback(&e.forward.no_answer, "forward.no_answer", "u", "Hangup()")?,
            unavailable: fallback(
                &e.forward.unavailable,
                "forward.unavailable",
                "u",
                "Hangup()",
            )?,
            record,
        });
        direct.push(safe(n.to_owned()));

        if let Some(vm) = mailbox {
            here(&mut src.voicemail, &e.origin);
            here(&mut src.voicemail, &server.origin);
            let pin = ctx.secret(&entity, "voicemail.pin", &vm.pin)?;
            if !pin.chars().all(|c| c.is_ascii_digit()) || pin.is_empty() {
                return Err(ctx.unsafe_value(
                    &entity,
                    "voicemail.pin",
                    EscapeError::Forbidden(
                        pin.chars().find(|c| !c.is_ascii_digit()).unwrap_or(' '),
                    ),
                ));
            }
            let settings = &server.voicemail;
            let psettings = &project.voicemail;
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
            mailboxes.push(safe(format!(
                "{n} => {pin},{},{},,{}",
                vfield(&e.name, "name")?,
                match email {
                    Some(m) => vfield(m, "email")?,
                    None => String::new(),
                },
                options.join("|")
            )));
            voicemail_targets.push(safe(n.to_owned()));
        }
    }
    profiles.sort_by(|a, b| a.context.as_str().cmp(&b.context.as_str()));

    // ---- numbers of queues and menus in the internal context
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
        );
    let mut numbers = Vec::new();
    for (number, target) in numbered {
        let (Target::Queue(name) | Target::Menu(name)) = &target else {
            unreachable!("only queues and menus are numbered here")
        };
        let entity = format!("{} {name}", target.kind());
        numbers.push(NumberGoto {
            number: safe(arg(number.as_str(), ctx, &entity, "number")?),
            what: safe(entity.clone()),
            goto: ctx.target(&target, &entity, "number")?,
        });
    }

    // ---- trunks
    let mut trunks = Vec::new();
    for t in ctx.entities.trunks.iter().copied() {
        here(&mut src.pjsip, &t.origin);
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
        let registration = t.kind == TrunkKind::Registration;
        trunks.push(TrunkView {
            id: t.name.to_string(),
            registration,
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
        });
    }

    // ---- outbound routes
    let mut outbound = Vec::new();
    for r in routes.iter() {
        here(&mut src.dialplan, &r.origin);
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
    let outbound_contexts = routes
        .iter()
        .map(|r| safe(ctx.context("outbound", r.name.as_str())))
        .collect();

    // ---- inbound routes: one context for all trunks, one per trunk for trunk-only routes
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
        here(&mut src.dialplan, &r.origin);
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
                    c.routes.push(InboundLine {
                        name: line.name.clone(),
                        extens: line.extens.clone(),
                        target: line.target.clone(),
                    });
                }
            }
        }
    }

    // ---- queues
    let mut queues = Vec::new();
    for q in ctx.entities.queues.iter().copied() {
        here(&mut src.queues, &q.origin);
        here(&mut src.dialplan, &q.origin);
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
            // The member name is shown in `queue show`; a name with characters the member
            // line would split on is replaced by the number rather than escaped.
            let splits = |c: char| matches!(c, ',' | '\\' | '"' | '(' | ')' | '[' | ']' | ';');
            let display = if ext.name.chars().any(splits) {
                number.to_owned()
            } else {
                ext.name.clone()
            };
            let number = arg(number, ctx, &entity, "members")?;
            members.push(safe(format!(
                "PJSIP/{number},{},{},PJSIP/{number}",
                m.penalty(),
                escape::conf_value(&display)
                    .map_err(|er| ctx.unsafe_value(&entity, "members", er))?
            )));
        }
        let target = |t: &Option<Target>, field: &str| -> Result<Value, RenderError> {
            match t {
                Some(t) => ctx.target(t, &entity, field),
                None => Ok(safe("Hangup()".to_owned())),
            }
        };
        queues.push(QueueView {
            name: q.name.to_string(),
            context: safe(ctx.context("queue", q.name.as_str())),
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
            on_timeout: target(&q.on_timeout, "on_timeout")?,
            on_full: target(&q.on_full, "on_full")?,
            on_empty: target(&q.on_empty, "on_empty")?,
        });
    }

    // ---- menus
    let mut menus = Vec::new();
    let mut has_direct = false;
    for m in ctx.entities.menus.iter().copied() {
        here(&mut src.dialplan, &m.origin);
        let entity = format!("menu {}", m.name);
        let target = |t: &Option<Target>, field: &str| -> Result<Value, RenderError> {
            match t {
                Some(t) => ctx.target(t, &entity, field),
                None => Ok(safe("Hangup()".to_owned())),
            }
        };
        let (mut holidays, mut periods) = (Vec::new(), Vec::new());
        let mut after_hours = None;
        if let Some(tf) = m
            .timeframe
            .as_ref()
            .and_then(|n| fleet.timeframes.iter().find(|t| t.name == *n))
        {
            here(&mut src.dialplan, &tf.origin);
            let tz = tf
                .timezone
                .as_deref()
                .map(|z| arg(z, ctx, &entity, "timezone"))
                .transpose()?;
            for h in &tf.holidays {
                holidays.push(safe(holiday_condition(h, tz.as_deref().unwrap_or(""))));
            }
            for period in &tf.periods {
                let to = if period.to == "24:00" {
                    "23:59"
                } else {
                    period.to.as_str()
                };
                let days = period.days.replace(',', "&");
                let mut spec = format!("{}-{to},{days},*,*", period.from);
                if let Some(tz) = &tz {
                    spec.push(',');
                    spec.push_str(tz);
                }
                periods.push(safe(spec));
            }
            after_hours = Some(target(&m.after_hours, "after_hours")?);
        }
        let prompts = m
            .prompts
            .iter()
            .map(|s| arg(&s.0, ctx, &entity, "prompts"))
            .collect::<Result<Vec<_>, _>>()?
            .join("&");
        let keys = m
            .keys
            .iter()
            .map(|(k, t)| {
                Ok(MenuKeyView {
                    key: safe(k.to_owned()),
                    target: ctx.target(t, &entity, "keys")?,
                })
            })
            .collect::<Result<Vec<_>, RenderError>>()?;
        has_direct |= m.direct_dial;
        menus.push(MenuView {
            context: safe(ctx.context("menu", m.name.as_str())),
            name: safe(escape::comment(m.name.as_str())),
            holidays,
            periods,
            after_hours,
            prompts: safe(prompts),
            digit_timeout: m.digit_timeout.unwrap_or(DEFAULT_DIGIT_TIMEOUT),
            max_retries: m.max_retries.unwrap_or(DEFAULT_MAX_RETRIES),
            keys,
            invalid: target(&m.invalid, "invalid")?,
            timeout: target(&m.timeout, "timeout")?,
            invalid_prompt: safe(match &m.invalid_prompt {
                Some(p) => arg(&p.0, ctx, &entity, "invalid_prompt")?,
                None => "option-is-invalid".to_owned(),
            }),
            direct: m.direct_dial,
        });
    }

    // ---- custom dialplans
    let mut custom = Vec::new();
    for d in ctx.entities.dialplans.iter().copied() {
        here(&mut src.dialplan, &d.origin);
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

    // ---- music on hold (fleet-wide classes)
    let moh = fleet
        .music_on_hold
        .iter()
        .map(|m| {
            here(&mut src.moh, &m.origin);
            MohView {
                name: m.name.to_string(),
                directory: m.directory.clone(),
                sort: match m.sort {
                    crate::model::moh::MohSort::Random => "random",
                    crate::model::moh::MohSort::Alpha => "alpha",
                },
            }
        })
        .collect();

    let view = ServerView {
        server: sname.to_owned(),
        prefix: safe(p.to_owned()),
        vm_context: safe(vm_context),
        transports,
        endpoints,
        trunks,
        internal,
        numbers,
        profiles,
        outbound,
        outbound_contexts,
        inbound,
        queues,
        menus,
        mailboxes,
        voicemail_targets,
        custom,
        direct: if has_direct { direct } else { Vec::new() },
        moh,
        has_direct,
    };
    Ok((view, src))
}

fn bracket_v6(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_owned()
    }
}

/// A dialplan condition that is true on a holiday, in the time frame's zone.
fn holiday_condition(h: &crate::model::timeframe::Holiday, tz: &str) -> String {
    let digits = |d: &str| d.replace('-', "");
    let (from, to) = (
        h.date.as_str(),
        h.until.as_deref().unwrap_or(h.date.as_str()),
    );
    if h.yearly {
        let today = format!("${{STRFTIME(${{EPOCH}},{tz},%m%d)}}");
        let (f, t) = (digits(&from[5..]), digits(&to[5..]));
        if f <= t {
            format!("$[{today} >= {f} & {today} <= {t}]")
        } else {
            // Crosses the new year, e.g. 12-31 to 01-02.
            format!("$[{today} >= {f} | {today} <= {t}]")
        }
    } else {
        let today = format!("${{STRFTIME(${{EPOCH}},{tz},%Y%m%d)}}");
        format!("$[{today} >= {} & {today} <= {}]", digits(from), digits(to))
    }
}

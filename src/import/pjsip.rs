//! PJSIP objects into extensions, trunks and transports. An endpoint becomes an
//! extension only where the model renders the same thing: its id is its number and its
//! auth's user name, its aor has its id. Anything else stays in the base files, named
//! in the report with the reason.

use std::collections::{BTreeMap, HashSet};

use super::gather::ConfSet;
use super::objects::{Assembled, Object};
use super::report::{Outcome, Report};
use super::secrets::Secrets;
use crate::model::extension::{CallerId, Codec, DtmfMode, Extension, Recording};
use crate::model::firewall::Cidr;
use crate::model::names::{DialNumber, Name};
use crate::model::server::{Transport, TransportProtocol};
use crate::model::trunk::{Trunk, TrunkKind};

/// An imported extension and the dialplan context its endpoint used.
#[derive(Debug, Clone)]
pub struct PhoneImport {
    pub extension: Extension,
    pub context: String,
    /// `mailboxes=` of the endpoint (`101@default`), for the voicemail import.
    pub mailboxes: Option<String>,
}

#[derive(Debug, Clone)]
pub struct TrunkImport {
    pub trunk: Trunk,
    pub context: String,
}

#[derive(Debug, Clone, Default)]
pub struct PjsipImport {
    pub phones: Vec<PhoneImport>,
    pub trunks: Vec<TrunkImport>,
    pub transports: Vec<Transport>,
    /// Contexts named by endpoints left in the base files: they must stay there too.
    pub contexts_left: HashSet<String>,
}

/// Endpoint settings the model renders itself; anything else is named in a note.
const ENDPOINT_KEYS: [&str; 16] = [
    "type",
    "context",
    "disallow",
    "allow",
    "auth",
    "aors",
    "callerid",
    "mailboxes",
    "dtmf_mode",
    "direct_media",
    "rtp_symmetric",
    "force_rport",
    "rewrite_contact",
    "transport",
    "language",
    "outbound_auth",
];

/// `existing_transports`: the transports the server's entry in the repository
/// already has (`import --all`); only those are taken from the base files.
pub fn import(
    set: &ConfSet,
    pjsip: &Assembled,
    server: &str,
    existing_transports: Option<&[String]>,
    secrets: &mut Secrets,
    report: &mut Report,
) -> PjsipImport {
    let mut out = PjsipImport::default();
    let by_kind = |kind: &str| -> Vec<&Object> {
        pjsip
            .objects
            .iter()
            .filter(|o| o.kind().is_some_and(|k| k.eq_ignore_ascii_case(kind)))
            .collect()
    };
    let find = |kind: &str, name: &str| -> Option<&Object> {
        pjsip
            .objects
            .iter()
            .find(|o| o.name == name && o.kind().is_some_and(|k| k.eq_ignore_ascii_case(kind)))
    };
    for t in by_kind("transport") {
        let result = transport(t).and_then(|transport| match existing_transports {
            Some(names) if !names.contains(&t.name) => Err(NOT_IN_ENTRY.to_owned()),
            _ => Ok(transport),
        });
        match result {
            Ok(transport) => {
                report.push_all(
                    set,
                    t.origins.clone(),
                    format!("[{}]", t.name),
                    Outcome::Imported,
                    format!("transport {}", t.name),
                );
                out.transports.push(transport);
            }
            Err(why) => {
                report.push(set, t.origin(), format!("[{}]", t.name), Outcome::Left, why);
            }
        }
    }
    let registrations = by_kind("registration");
    let identifies = by_kind("identify");
    for e in by_kind("endpoint") {
        let section = format!("[{}]", e.name);
        let context = e.last("context").unwrap_or("default").to_owned();
        let registration = registrations.iter().find(|r| {
            r.last("endpoint") == Some(e.name.as_str())
                || (e.last("outbound_auth").is_some()
                    && r.last("outbound_auth") == e.last("outbound_auth"))
        });
        let identify: Vec<&&Object> = identifies
            .iter()
            .filter(|i| i.last("endpoint") == Some(e.name.as_str()))
            .collect();
        let is_trunk =
            registration.is_some() || !identify.is_empty() || e.last("outbound_auth").is_some();
        let result = if is_trunk {
            trunk(e, server, registration.copied(), &identify, &find, secrets).map(
                |(mut trunk, parts)| {
                    let entry = report.push_all(
                        set,
                        e.origins.clone(),
                        section.clone(),
                        Outcome::Imported,
                        format!("trunk {}", e.name),
                    );
                    // Every section of each object, its `(+)` additions too.
                    for p in parts {
                        entry.origins.extend(p.origins.iter().copied());
                    }
                    entry.notes = dropped(e);
                    if e.last("direct_media").is_none_or(truthy) {
                        entry.notes.push(RELAYS_MEDIA.into());
                    }
                    entry
                        .notes
                        .extend(known_transport(&mut trunk.transport, &out.transports));
                    out.trunks.push(TrunkImport {
                        trunk,
                        context: context.clone(),
                    });
                },
            )
        } else {
            phone(e, server, &find, secrets).map(|(mut extension, parts)| {
                let entry = report.push_all(
                    set,
                    e.origins.clone(),
                    section.clone(),
                    Outcome::Imported,
                    format!("extension {}", e.name),
                );
                for p in parts {
                    entry.origins.extend(p.origins.iter().copied());
                }
                entry.notes = dropped(e);
                entry
                    .notes
                    .extend(known_transport(&mut extension.transport, &out.transports));
                out.phones.push(PhoneImport {
                    extension,
                    context: context.clone(),
                    mailboxes: e.last("mailboxes").map(str::to_owned),
                });
            })
        };
        if let Err(why) = result {
            report.push(set, e.origin(), section, Outcome::Left, why);
            out.contexts_left.insert(context);
        }
    }
    // Auths, aors, registrations and identifies no imported endpoint took stay too.
    let taken: HashSet<_> = report
        .entries
        .iter()
        .filter(|e| e.outcome == Outcome::Imported)
        .flat_map(|e| e.origins.iter().copied())
        .collect();
    for o in &pjsip.objects {
        let kind = o.kind().unwrap_or("").to_ascii_lowercase();
        if matches!(kind.as_str(), "endpoint" | "transport") || taken.contains(&o.origin()) {
            continue;
        }
        let why = match kind.as_str() {
            "" => "no `type=`: Asterisk ignores it".to_owned(),
            "auth" | "aor" | "registration" | "identify" => {
                format!("{kind} that no imported endpoint uses")
            }
            other => format!("type={other} has no astbase equivalent"),
        };
        report.push(set, o.origin(), format!("[{}]", o.name), Outcome::Left, why);
    }
    out
}

const NOT_IN_ENTRY: &str = "the server's entry in the repository does not define it: \
    add it there (`transports:`) and import again with --overwrite to move it";

const RELAYS_MEDIA: &str =
    "astbase trunks relay media (direct_media=no, rtp_symmetric and force_rport on)";

/// An endpoint may name only a transport the YAML holds; one left in the base files
/// (its name is not an astbase name) is dropped with a note.
fn known_transport(transport: &mut Option<Name>, imported: &[Transport]) -> Option<String> {
    let name = transport.as_ref()?;
    if imported.iter().any(|t| t.name == *name) {
        return None;
    }
    let note = format!(
        "transport `{name}` stays in the base files and astbase cannot name it: \
         Asterisk picks the transport by the destination's address"
    );
    *transport = None;
    Some(note)
}

/// The endpoint settings that do not carry over.
fn dropped(e: &Object) -> Vec<String> {
    let mut seen = BTreeMap::new();
    for s in &e.settings {
        let key = s.key.to_ascii_lowercase();
        if !ENDPOINT_KEYS.contains(&key.as_str()) {
            seen.entry(key).or_insert_with(|| s.value.clone());
        }
    }
    seen.into_iter()
        .map(|(k, v)| format!("`{k}={v}` has no astbase field: not carried over"))
        .collect()
}

fn transport(t: &Object) -> Result<Transport, String> {
    let protocol = match t
        .last("protocol")
        .unwrap_or("udp")
        .to_ascii_lowercase()
        .as_str()
    {
        "udp" => TransportProtocol::Udp,
        "tcp" => TransportProtocol::Tcp,
        "tls" => TransportProtocol::Tls,
        "ws" => TransportProtocol::Ws,
        "wss" => TransportProtocol::Wss,
        other => return Err(format!("protocol={other} is not a transport astbase knows")),
    };
    let name = name(&t.name)?;
    let media = t.last("external_media_address");
    let signaling = t.last("external_signaling_address");
    if media != signaling {
        return Err("external_media_address and external_signaling_address differ; astbase sets both to one address".into());
    }
    Ok(Transport {
        name,
        protocol,
        bind: t.last("bind").unwrap_or("0.0.0.0").to_owned(),
        external_address: media.map(str::to_owned),
        local_net: t.all("local_net").map(|s| Cidr(s.value.clone())).collect(),
        cert_file: t.last("cert_file").map(str::to_owned),
        priv_key_file: t.last("priv_key_file").map(str::to_owned),
    })
}

pub fn name(text: &str) -> Result<Name, String> {
    let ok = text.len() <= 40
        && text
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(Name(text.to_owned()))
    } else {
        Err(format!(
            "`{text}` is not an astbase name (letters, digits, `_`, `-`; 40 at most)"
        ))
    }
}

type Find<'a> = dyn Fn(&str, &str) -> Option<&'a Object> + 'a;

fn phone<'a>(
    e: &'a Object,
    server: &str,
    find: &Find<'a>,
    secrets: &mut Secrets,
) -> Result<(Extension, Vec<&'a Object>), String> {
    let id = e.name.as_str();
    if !(1..=15).contains(&id.len()) || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err("endpoint id is not a number: astbase names extensions by their number".into());
    }
    let auth_name = e
        .last("auth")
        .ok_or("no `auth=`: astbase extensions authenticate")?;
    let auth = find("auth", auth_name).ok_or_else(|| format!("auth `{auth_name}` not found"))?;
    let username = auth.last("username").unwrap_or(&auth.name);
    if username != id {
        return Err(format!(
            "auth user name `{username}` is not the endpoint id {id}: the phone would have to be re-provisioned"
        ));
    }
    if auth
        .last("auth_type")
        .is_some_and(|t| !t.eq_ignore_ascii_case("userpass"))
    {
        return Err("auth_type is not userpass".into());
    }
    let password = auth.last("password").ok_or("the auth has no password")?;
    let aor_name = e.last("aors").unwrap_or("");
    if aor_name != id {
        return Err(format!("aors=`{aor_name}` is not the endpoint id {id}"));
    }
    let aor = find("aor", aor_name).ok_or_else(|| format!("aor `{aor_name}` not found"))?;
    if aor.last("contact").is_some() {
        return Err("the aor has a static contact: a trunk-like endpoint".into());
    }
    let (cid_name, cid_number) = callerid(e.last("callerid").unwrap_or(""));
    let callerid_number = cid_number.filter(|n| n != id);
    let max_contacts = aor
        .last("max_contacts")
        .and_then(|v| v.parse().ok())
        .filter(|n| *n != 1);
    let extension = Extension {
        number: DialNumber(id.to_owned()),
        server: Name(server.to_owned()),
        name: cid_name.clone().unwrap_or_else(|| id.to_owned()),
        secret: secrets.keep(server, &["ext", id, "secret"], password),
        enabled: true,
        email: None,
        codecs: Some(codecs(e)?),
        transport: e.last("transport").map(|t| Name(t.to_owned())),
        max_contacts,
        dtmf_mode: Some(dtmf(e.last("dtmf_mode").unwrap_or("rfc4733"))?),
        nat: Some(nat(e)),
        ring_timeout: None,
        callerid: callerid_number.map(|n| {
            Box::new(CallerId {
                name: None,
                number: Some(n),
            })
        }),
        voicemail: None,
        forward: None,
        follow_me: None,
        recording: Recording::default(),
        pickup_groups: Vec::new(),
        tags: Vec::new(),
        language: e.last("language").map(str::to_owned),
    };
    Ok((extension, vec![auth, aor]))
}

fn trunk<'a>(
    e: &'a Object,
    server: &str,
    registration: Option<&'a Object>,
    identify: &[&&'a Object],
    find: &Find<'a>,
    secrets: &mut Secrets,
) -> Result<(Trunk, Vec<&'a Object>), String> {
    let trunk_name = name(&e.name)?;
    let mut parts: Vec<&Object> = Vec::new();
    let auth = match e.last("outbound_auth") {
        Some(a) => Some(find("auth", a).ok_or_else(|| format!("outbound_auth `{a}` not found"))?),
        None => None,
    };
    parts.extend(auth);
    let aor = e.last("aors").and_then(|a| find("aor", a));
    parts.extend(aor);
    parts.extend(registration);
    parts.extend(identify.iter().map(|i| **i));
    let uri = registration
        .and_then(|r| r.last("server_uri"))
        .or_else(|| aor.and_then(|a| a.last("contact")))
        .ok_or("neither a registration nor an aor contact names the provider's host")?;
    let (host, port) = sip_host(uri).ok_or_else(|| format!("cannot read a host from `{uri}`"))?;
    let username = auth.and_then(|a| a.last("username")).map(str::to_owned);
    let secret = auth
        .and_then(|a| a.last("password"))
        .map(|p| secrets.keep(server, &["trunk", &e.name, "secret"], p));
    let kind = if registration.is_some() {
        TrunkKind::Registration
    } else if !identify.is_empty() {
        TrunkKind::Ip
    } else {
        return Err("an outbound_auth without a registration or an identify".into());
    };
    let match_addresses: Vec<Cidr> = identify
        .iter()
        .flat_map(|i| i.all("match"))
        .flat_map(|m| {
            m.value
                .split(',')
                .map(|v| Cidr(v.trim().to_owned()))
                .collect::<Vec<_>>()
        })
        .collect();
    let number =
        |o: Option<&Object>, key: &str| o.and_then(|o| o.last(key)).and_then(|v| v.parse().ok());
    let trunk = Trunk {
        name: trunk_name,
        server: Name(server.to_owned()),
        kind,
        host,
        port,
        username,
        secret,
        match_addresses,
        codecs: Some(codecs(e)?),
        dtmf_mode: Some(dtmf(e.last("dtmf_mode").unwrap_or("rfc4733"))?),
        transport: e.last("transport").map(|t| Name(t.to_owned())),
        callerid: None,
        max_channels: None,
        expiration: number(registration, "expiration"),
        retry_interval: number(registration, "retry_interval"),
    };
    Ok((trunk, parts))
}

/// `sip:host:port` (or `sip:user@host`) → host and port.
fn sip_host(uri: &str) -> Option<(String, Option<u16>)> {
    let rest = uri
        .trim()
        .strip_prefix("sip:")
        .or_else(|| uri.trim().strip_prefix("sips:"))?;
    let rest = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
    let rest = rest.split(';').next()?;
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => (h, Some(p.parse().ok()?)),
        _ => (rest, None),
    };
    (!host.is_empty()).then(|| (host.to_owned(), port.filter(|p| *p != 5060)))
}

/// `"Anna Petrova" <101>` → name and number.
pub fn callerid(text: &str) -> (Option<String>, Option<String>) {
    let text = text.trim();
    if text.is_empty() {
        return (None, None);
    }
    match text.split_once('<') {
        Some((name, rest)) => {
            let name = name.trim().trim_matches('"').trim();
            let number = rest.trim_end().trim_end_matches('>').trim();
            (
                (!name.is_empty()).then(|| name.to_owned()),
                (!number.is_empty()).then(|| number.to_owned()),
            )
        }
        None => (Some(text.trim_matches('"').to_owned()), None),
    }
}

/// The codecs after every `disallow`/`allow` in order, as Asterisk applies them.
fn codecs(e: &Object) -> Result<Vec<Codec>, String> {
    let mut list: Vec<Codec> = Vec::new();
    for s in &e.settings {
        let allow = match s.key.to_ascii_lowercase().as_str() {
            "allow" => true,
            "disallow" => false,
            _ => continue,
        };
        for word in s.value.split(',').map(str::trim).filter(|w| !w.is_empty()) {
            if word.eq_ignore_ascii_case("all") {
                if allow {
                    return Err("allow=all: astbase lists codecs by name".into());
                }
                list.clear();
                continue;
            }
            let codec = codec(word).ok_or_else(|| format!("codec `{word}` has no astbase name"))?;
            list.retain(|c| *c != codec);
            if allow {
                list.push(codec);
            }
        }
    }
    if list.is_empty() {
        return Err("no codec allowed".into());
    }
    Ok(list)
}

fn codec(word: &str) -> Option<Codec> {
    Some(match word.to_ascii_lowercase().as_str() {
        "ulaw" => Codec::Ulaw,
        "alaw" => Codec::Alaw,
        "g722" => Codec::G722,
        "g729" => Codec::G729,
        "opus" => Codec::Opus,
        "gsm" => Codec::Gsm,
        "ilbc" => Codec::Ilbc,
        "speex" => Codec::Speex,
        "g726" => Codec::G726,
        "slin" => Codec::Slin,
        "h264" => Codec::H264,
        "vp8" => Codec::Vp8,
        _ => return None,
    })
}

fn dtmf(word: &str) -> Result<DtmfMode, String> {
    Ok(match word.to_ascii_lowercase().as_str() {
        "rfc4733" => DtmfMode::Rfc4733,
        "inband" => DtmfMode::Inband,
        "info" => DtmfMode::Info,
        "auto" => DtmfMode::Auto,
        "auto_info" => DtmfMode::AutoInfo,
        other => return Err(format!("dtmf_mode={other} has no astbase equivalent")),
    })
}

/// NAT handling as the model writes it: all four settings, or direct media on.
fn nat(e: &Object) -> bool {
    let yes = |k: &str| e.last(k).is_some_and(truthy);
    !e.last("direct_media").is_none_or(truthy)
        || (yes("rtp_symmetric") && yes("force_rport") && yes("rewrite_contact"))
}

pub fn truthy(v: &str) -> bool {
    matches!(
        v.trim().to_ascii_lowercase().as_str(),
        "yes" | "true" | "y" | "t" | "1" | "on"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caller_id_splits_into_its_quoted_name_and_number() {
        assert_eq!(
            callerid("\"Anna P\" <101>"),
            (Some("Anna P".into()), Some("101".into()))
        );
        assert_eq!(callerid("Reception"), (Some("Reception".into()), None));
        assert_eq!(callerid("<+7495>"), (None, Some("+7495".into())));
    }

    #[test]
    fn a_sip_uri_gives_its_host_and_a_port_other_than_5060() {
        assert_eq!(
            sip_host("sip:sip.carrier.example:5080"),
            Some(("sip.carrier.example".into(), Some(5080)))
        );
        assert_eq!(
            sip_host("sip:user@10.0.0.1:5060"),
            Some(("10.0.0.1".into(), None))
        );
        assert_eq!(sip_host("http://x"), None);
    }
}

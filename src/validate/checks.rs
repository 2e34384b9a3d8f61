//! Meaning checks: uniqueness, references, Asterisk grammar, safety of text.
//!
//! They run on the merged fleet, so they see across files. Entities that failed the
//! schema check are absent from the fleet but remembered by name (`Fleet::broken`), so a
//! reference to them is not reported on top of the schema error.

use std::collections::HashMap;
use std::net::IpAddr;

use crate::diagnostics::{Diagnostic, Location, quote};
use crate::model::extension::CallerId;
use crate::model::firewall::{FirewallPolicy, PortSpec};
use crate::model::secret::Secret;
use crate::model::{Extension, Fleet, Kind, Name, Origin, Sourced, Target};
use crate::source::{Segment, Sources};

use super::suggest::did_you_mean;
use super::{Locator, patterns, text, time};

pub(super) fn run(sources: &Sources, fleet: &Fleet, out: &mut Vec<Diagnostic>) {
    let mut c = Checker::new(sources, fleet, out);
    c.unique_names();
    c.unique_numbers();
    c.unique_pjsip_ids();
    c.project();
    c.servers();
    c.extensions();
    c.queues();
    c.menus();
    c.timeframes();
    c.dialplans();
    c.trunks();
    c.inbound_routes();
    c.outbound_routes();
    c.address_lists();
    c.plaintext_secrets();
}

/// What an inbound route matches: (server, DID, caller id, sorted trunks).
type InboundKey<'a> = (&'a str, Option<&'a str>, Option<&'a str>, Vec<&'a str>);

/// Lookup key of a server-scoped entity: (server, name).
type Key<'a> = (&'a str, &'a str);

struct Checker<'a> {
    sources: &'a Sources,
    fleet: &'a Fleet,
    loc: Locator,
    out: &'a mut Vec<Diagnostic>,
    /// A file could not be read: what it defines is unknown, so "unknown X" would be noise.
    incomplete: bool,
    extensions: HashMap<Key<'a>, &'a Sourced<Extension>>,
    queues: HashMap<Key<'a>, Origin>,
    menus: HashMap<Key<'a>, Origin>,
    dialplans: HashMap<Key<'a>, Origin>,
    trunks: HashMap<Key<'a>, Origin>,
    servers: HashMap<&'a str, &'a Sourced<crate::model::Server>>,
}

impl<'a> Checker<'a> {
    fn new(sources: &'a Sources, fleet: &'a Fleet, out: &'a mut Vec<Diagnostic>) -> Self {
        fn index<'a, T>(
            list: &'a [Sourced<T>],
            key: impl Fn(&'a T) -> Key<'a>,
        ) -> HashMap<Key<'a>, Origin> {
            let mut map = HashMap::with_capacity(list.len());
            for e in list {
                map.entry(key(&e.item)).or_insert_with(|| e.origin.clone());
            }
            map
        }
        let mut extensions = HashMap::with_capacity(fleet.extensions.len());
        for e in &fleet.extensions {
            extensions
                .entry((e.server.as_str(), e.number.as_str()))
                .or_insert(e);
        }
        Checker {
            sources,
            fleet,
            loc: Locator,
            out,
            incomplete: fleet.unreadable_files > 0,
            extensions,
            queues: index(&fleet.queues, |q| (q.server.as_str(), q.name.as_str())),
            menus: index(&fleet.menus, |m| (m.server.as_str(), m.name.as_str())),
            dialplans: index(&fleet.dialplans, |d| (d.server.as_str(), d.name.as_str())),
            trunks: index(&fleet.trunks, |t| (t.server.as_str(), t.name.as_str())),
            servers: fleet.servers.iter().map(|s| (s.name.as_str(), s)).collect(),
        }
    }

    fn error(
        &mut self,
        code: &'static str,
        at: Location,
        message: String,
        hint: impl Into<String>,
    ) {
        if self.incomplete && code == "unknown-reference" {
            return;
        }
        let hint = hint.into();
        let mut d = Diagnostic::error(code, message).at(at);
        if !hint.is_empty() {
            d = d.hint(hint);
        }
        self.out.push(d);
    }

    fn warning(
        &mut self,
        code: &'static str,
        at: Location,
        message: String,
        hint: impl Into<String>,
    ) {
        if self.incomplete && code == "unrouted-number" {
            return;
        }
        let hint = hint.into();
        let mut d = Diagnostic::warning(code, message).at(at);
        if !hint.is_empty() {
            d = d.hint(hint);
        }
        self.out.push(d);
    }

    // ---- uniqueness ---------------------------------------------------------------

    fn unique_names(&mut self) {
        let f = self.fleet;
        self.unique(
            Kind::Server,
            f.servers.iter().map(|e| (None, &e.name, &e.origin)),
        );
        self.unique(
            Kind::Timeframe,
            f.timeframes.iter().map(|e| (None, &e.name, &e.origin)),
        );
        self.unique(
            Kind::MusicOnHold,
            f.music_on_hold.iter().map(|e| (None, &e.name, &e.origin)),
        );
        self.unique(
            Kind::AddressList,
            f.address_lists.iter().map(|e| (None, &e.name, &e.origin)),
        );
        self.unique(
            Kind::Queue,
            f.queues
                .iter()
                .map(|e| (Some(&e.server), &e.name, &e.origin)),
        );
        self.unique(
            Kind::Menu,
            f.menus
                .iter()
                .map(|e| (Some(&e.server), &e.name, &e.origin)),
        );
        self.unique(
            Kind::Dialplan,
            f.dialplans
                .iter()
                .map(|e| (Some(&e.server), &e.name, &e.origin)),
        );
        self.unique(
            Kind::Trunk,
            f.trunks
                .iter()
                .map(|e| (Some(&e.server), &e.name, &e.origin)),
        );
        self.unique(
            Kind::InboundRoute,
            f.inbound_routes
                .iter()
                .map(|e| (Some(&e.server), &e.name, &e.origin)),
        );
        self.unique(
            Kind::OutboundRoute,
            f.outbound_routes
                .iter()
                .map(|e| (Some(&e.server), &e.name, &e.origin)),
        );
    }

    /// Names are compared ignoring case: Asterisk looks sections up case-insensitively.
    fn unique<'b>(
        &mut self,
        kind: Kind,
        items: impl Iterator<Item = (Option<&'b Name>, &'b Name, &'b Origin)>,
    ) {
        let mut seen: HashMap<(String, String), (&Name, &Origin)> = HashMap::new();
        for (server, name, origin) in items {
            let key = (
                server
                    .map(|s| s.as_str().to_ascii_lowercase())
                    .unwrap_or_default(),
                name.as_str().to_ascii_lowercase(),
            );
            match seen.get(&key) {
                None => {
                    seen.insert(key, (name, origin));
                }
                Some((first_name, first)) => {
                    let scope = server
                        .map(|s| format!(" on server `{s}`"))
                        .unwrap_or_default();
                    let case = if first_name.as_str() == name.as_str() {
                        String::new()
                    } else {
                        format!(" (as `{first_name}`; names are compared ignoring case)")
                    };
                    let d = Diagnostic::error(
                        "duplicate-name",
                        format!("{} `{name}` is defined twice{scope}{case}", kind.noun()),
                    )
                    .at(self.loc.value(&origin.field("name")))
                    .related(self.loc.value(&first.field("name")), "first defined here")
                    .hint("rename or remove one of them");
                    self.out.push(d);
                }
            }
        }
    }

    /// Extensions, queues and menus share one dial space per server.
    fn unique_numbers(&mut self) {
        let f = self.fleet;
        let mut seen: HashMap<(&str, &str), (&'static str, String, &Origin)> = HashMap::new();
        let numbered = f
            .extensions
            .iter()
            .map(|e| {
                (
                    "extension",
                    e.number.to_string(),
                    &e.server,
                    &e.number,
                    &e.origin,
                )
            })
            .chain(f.queues.iter().filter_map(|q| {
                q.number
                    .as_ref()
                    .map(|n| ("queue", q.name.to_string(), &q.server, n, &q.origin))
            }))
            .chain(f.menus.iter().filter_map(|m| {
                m.number
                    .as_ref()
                    .map(|n| ("menu", m.name.to_string(), &m.server, n, &m.origin))
            }));
        for (kind, name, server, number, origin) in numbered {
            match seen.get(&(server.as_str(), number.as_str())) {
                None => {
                    seen.insert((server.as_str(), number.as_str()), (kind, name, origin));
                }
                Some((first_kind, first_name, first)) => {
                    let d = Diagnostic::error(
                        "duplicate-number",
                        format!("number {number} on server `{server}` is already taken by {first_kind} `{first_name}`"),
                    )
                    .at(self.loc.value(&origin.field("number")))
                    .related(self.loc.value(&first.field("number")), "first taken here")
                    .hint("extensions, queues and menus of a server share one dial space; pick a free number");
                    self.out.push(d);
                }
            }
        }
    }

    /// PJSIP rejects a whole pjsip_odoo.conf when two objects of one type share an id:
    /// transports, extension endpoints (their number) and trunk endpoints share one space.
    fn unique_pjsip_ids(&mut self) {
        let f = self.fleet;
        let mut seen: HashMap<(String, String), (String, Location)> = HashMap::new();
        let ids = f
            .servers
            .iter()
            .flat_map(|s| {
                s.transports.iter().enumerate().map(move |(i, t)| {
                    let o = s.origin.at(&[
                        Segment::Key("transports".into()),
                        Segment::Index(i),
                        Segment::Key("name".into()),
                    ]);
                    (s.name.as_str(), t.name.as_str(), "transport", o)
                })
            })
            .chain(f.extensions.iter().map(|e| {
                (
                    e.server.as_str(),
                    e.number.as_str(),
                    "extension",
                    e.origin.field("number"),
                )
            }))
            .chain(f.trunks.iter().map(|t| {
                (
                    t.server.as_str(),
                    t.name.as_str(),
                    "trunk",
                    t.origin.field("name"),
                )
            }));
        for (server, id, what, origin) in ids {
            let key = (server.to_owned(), id.to_ascii_lowercase());
            let here = self.loc.value(&origin);
            match seen.get(&key) {
                // Same-kind clashes are reported as duplicate numbers or names already.
                Some((first_what, first)) if what != first_what => {
                    let d = Diagnostic::error(
                        "duplicate-pjsip-id",
                        format!("{what} `{id}` has the same PJSIP id as {first_what} `{id}` on server `{server}`"),
                    )
                    .at(here)
                    .related(first.clone(), "the other object")
                    .hint("Asterisk rejects the whole pjsip file when two endpoints share an id; rename one");
                    self.out.push(d);
                }
                Some(_) => {} // duplicate transports are reported with the server
                None => {
                    seen.insert(key, (what.to_owned(), here));
                }
            }
        }
    }

    // ---- references -----------------------------------------------------------------

    /// Checks that `server: NAME` names a server; returns whether it does.
    fn server_ref(&mut self, origin: &Origin, name: &Name) -> bool {
        if self.servers.contains_key(name.as_str()) {
            return true;
        }
        if self.fleet.is_broken(Kind::Server, None, name.as_str()) {
            return false;
        }
        let names: Vec<&str> = self.fleet.servers.iter().map(|s| s.name.as_str()).collect();
        let hint = match did_you_mean(name.as_str(), names.iter().copied()) {
            Some(s) => format!("did you mean `{s}`?"),
            None if names.is_empty() => {
                "no servers are defined yet; add one under `servers:`".into()
            }
            None => format!("known servers: {}", names.join(", ")),
        };
        self.error(
            "unknown-reference",
            self.loc.value(origin),
            format!("unknown server `{name}`"),
            hint,
        );
        false
    }

    /// Checks a reference to a server-scoped entity by name.
    fn scoped_ref(&mut self, kind: Kind, origin: &Origin, server: &str, name: &str) -> bool {
        let map = match kind {
            Kind::Queue => &self.queues,
            Kind::Menu => &self.menus,
            Kind::Dialplan => &self.dialplans,
            Kind::Trunk => &self.trunks,
            _ => unreachable!("not a server-scoped kind"),
        };
        if map.contains_key(&(server, name)) || self.fleet.is_broken(kind, Some(server), name) {
            return true;
        }
        let candidates: Vec<&str> = map
            .keys()
            .filter(|(s, _)| *s == server)
            .map(|(_, n)| *n)
            .collect();
        let elsewhere: Vec<&str> = map
            .keys()
            .filter(|(s, n)| *n == name && *s != server)
            .map(|(s, _)| *s)
            .collect();
        let hint = if let Some(s) = did_you_mean(name, candidates.iter().copied()) {
            format!("did you mean `{s}`?")
        } else if !elsewhere.is_empty() {
            format!(
                "a {} `{name}` exists on server `{}`, but references must stay on the same server",
                kind.noun(),
                elsewhere.join("`, `")
            )
        } else {
            format!("define it under `{}:` with `server: {server}`", kind.key())
        };
        self.error(
            "unknown-reference",
            self.loc.value(origin),
            format!("no {} `{name}` on server `{server}`", kind.noun()),
            hint,
        );
        false
    }

    fn extension_ref(
        &mut self,
        origin: &Origin,
        server: &str,
        number: &str,
    ) -> Option<&'a Sourced<Extension>> {
        if let Some(e) = self.extensions.get(&(server, number)).copied() {
            if !e.enabled {
                self.warning(
                    "disabled-reference",
                    self.loc.value(origin),
                    format!("extension {number} is disabled"),
                    "calls sent there will fail; point this elsewhere or enable the extension",
                );
            }
            return Some(e);
        }
        if !self.fleet.is_broken(Kind::Extension, Some(server), number) {
            let elsewhere: Vec<&str> = self
                .extensions
                .keys()
                .filter(|(s, n)| *n == number && *s != server)
                .map(|(s, _)| *s)
                .collect();
            let hint = if elsewhere.is_empty() {
                format!("define it under `extensions:` with `server: {server}`")
            } else {
                format!(
                    "extension {number} exists on server `{}`, but references must stay on the same server",
                    elsewhere.join("`, `")
                )
            };
            self.error(
                "unknown-reference",
                self.loc.value(origin),
                format!("no extension {number} on server `{server}`"),
                hint,
            );
        }
        None
    }

    /// Checks a call destination; `origin` points at the target mapping.
    fn target(&mut self, origin: &Origin, server: &str, target: &Target) {
        let inner = origin.field(target.kind());
        match target {
            Target::Hangup => {}
            Target::Extension(n) => {
                self.extension_ref(&inner, server, n.as_str());
            }
            Target::Voicemail(n) => {
                if let Some(e) = self.extension_ref(&inner, server, n.as_str())
                    && !e.voicemail.as_ref().is_some_and(|v| v.enabled)
                {
                    self.error(
                        "no-mailbox",
                        self.loc.value(&inner),
                        format!("extension {n} has no voicemail box"),
                        format!("add `voicemail: {{pin: ...}}` to extension {n}, or send the call elsewhere"),
                    );
                }
            }
            Target::Queue(name) => {
                self.scoped_ref(Kind::Queue, &inner, server, name.as_str());
            }
            Target::Menu(name) => {
                self.scoped_ref(Kind::Menu, &inner, server, name.as_str());
            }
            Target::Dialplan(name) => {
                if self.scoped_ref(Kind::Dialplan, &inner, server, name.as_str())
                    && let Some(d) = self
                        .fleet
                        .dialplans
                        .iter()
                        .find(|d| d.server.as_str() == server && d.name == *name)
                    && let Some(exten) = d.lines.first().and_then(|l| l.exten.as_deref())
                    && exten.starts_with('_')
                {
                    self.error(
                        "pattern-target",
                        self.loc.value(&inner),
                        format!("dialplan `{name}` starts with the pattern `{exten}`, which a call cannot be sent to"),
                        "start that dialplan with a plain extension such as `exten: s`",
                    );
                }
            }
            Target::External(number) => {
                let routed = self.fleet.outbound_routes.iter().any(|r| {
                    r.server.as_str() == server
                        && r.patterns
                            .iter()
                            .any(|p| patterns::pattern_matches(p.pattern.as_str(), number.as_str()))
                });
                if !routed
                    && !self
                        .fleet
                        .broken
                        .iter()
                        .any(|b| b.kind == Kind::OutboundRoute)
                {
                    self.warning(
                        "unrouted-number",
                        self.loc.value(&inner),
                        format!("no outbound route on server `{server}` matches {number}"),
                        "the call would fail; add an outbound route whose pattern matches this number",
                    );
                }
            }
        }
    }

    fn transport_ref(&mut self, origin: &Origin, server: &str, name: &Name) {
        let Some(s) = self.servers.get(server).copied() else {
            return;
        };
        if s.transports.iter().any(|t| t.name == *name) {
            return;
        }
        let names: Vec<&str> = s.transports.iter().map(|t| t.name.as_str()).collect();
        let hint = if names.is_empty() {
            format!("server `{server}` declares no transports; add it under `servers[].transports`")
        } else {
            format!("transports of `{server}`: {}", names.join(", "))
        };
        self.error(
            "unknown-reference",
            self.loc.value(origin),
            format!("no transport `{name}` on server `{server}`"),
            hint,
        );
    }

    fn address_list_refs(&mut self, origin: &Origin, names: &[Name]) {
        for (i, name) in names.iter().enumerate() {
            let known = self.fleet.address_lists.iter().any(|l| l.name == *name)
                || self.fleet.is_broken(Kind::AddressList, None, name.as_str());
            if !known {
                let all: Vec<&str> = self
                    .fleet
                    .address_lists
                    .iter()
                    .map(|l| l.name.as_str())
                    .collect();
                let hint = match did_you_mean(name.as_str(), all.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => "define it under `address_lists:`".into(),
                };
                self.error(
                    "unknown-reference",
                    self.loc.value(&origin.at(&[Segment::Index(i)])),
                    format!("unknown address list `{name}`"),
                    hint,
                );
            }
        }
    }

    // ---- text that reaches the dialplan -------------------------------------------

    fn dialplan_text(&mut self, origin: &Origin, what: &str, value: &str) {
        if value.chars().any(char::is_control) {
            return; // already reported as `control-character` for every field
        }
        if let Err(why) = text::check_dialplan_text(value) {
            self.error(
                "unsafe-text",
                self.loc.value(origin),
                format!("{what} {} {why}", quote(value)),
                "names reach dialplan arguments and caller ids: use letters, digits, spaces and simple punctuation",
            );
        }
    }

    fn email(&mut self, origin: &Origin, value: &str) {
        if let Err(why) = text::check_email(value) {
            self.error(
                "invalid-email",
                self.loc.value(origin),
                format!("{} {why}", quote(value)),
                "write one address like `name@example.com`",
            );
        }
    }

    fn callerid(&mut self, origin: &Origin, callerid: &Option<CallerId>) {
        if let Some(name) = callerid.as_ref().and_then(|c| c.name.as_deref()) {
            self.dialplan_text(
                &origin.field("callerid").field("name"),
                "caller-id name",
                name,
            );
        }
    }

    fn cidr(&mut self, origin: &Origin, value: &str) {
        let (addr, prefix) = match value.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (value, None),
        };
        let Ok(ip) = addr.parse::<IpAddr>() else {
            self.error(
                "invalid-address",
                self.loc.value(origin),
                format!("{} is not an IPv4 or IPv6 address", quote(value)),
                "write an address like 203.0.113.7 or a network like 203.0.113.0/24",
            );
            return;
        };
        let max = if ip.is_ipv4() { 32 } else { 128 };
        let Some(prefix) = prefix else { return };
        let Ok(bits) = prefix
            .parse::<u32>()
            .map_err(drop)
            .and_then(|b| if b <= max { Ok(b) } else { Err(()) })
        else {
            self.error(
                "invalid-address",
                self.loc.value(origin),
                format!("{} has an invalid prefix length (0 to {max})", quote(value)),
                "",
            );
            return;
        };
        let host_bits_set = match ip {
            IpAddr::V4(v4) => bits < 32 && u32::from(v4) & (u32::MAX >> bits) != 0,
            IpAddr::V6(v6) => bits < 128 && u128::from(v6) & (u128::MAX >> bits) != 0,
        };
        if host_bits_set {
            let network = match ip {
                IpAddr::V4(v4) => IpAddr::from(
                    (u32::from(v4) & !(u32::MAX.checked_shr(bits).unwrap_or(0))).to_be_bytes(),
                ),
                IpAddr::V6(v6) => IpAddr::from(
                    (u128::from(v6) & !(u128::MAX.checked_shr(bits).unwrap_or(0))).to_be_bytes(),
                ),
            };
            self.warning(
                "host-bits-set",
                self.loc.value(origin),
                format!("{} has host bits set", quote(value)),
                format!("did you mean {network}/{bits}?"),
            );
        }
    }

    fn dial_pattern(&mut self, origin: &Origin, value: &str) {
        if let Err(why) = patterns::check_dial_pattern(value) {
            self.error(
                "invalid-pattern",
                self.loc.value(origin),
                format!("invalid dial pattern {}: {why}", quote(value)),
                "patterns start with `_`: X = 0-9, Z = 1-9, N = 2-9, [1-5] = a set, `.` or `!` at the end",
            );
        }
    }

    // ---- entities -----------------------------------------------------------------

    fn project(&mut self) {
        let Some(origin) = self.fleet.project_origin.clone() else {
            return;
        };
        let project = &self.fleet.project;
        if let Some(dir) = &project.templates_dir {
            let path = self.sources.root.join(dir);
            if !path.is_dir() {
                self.error(
                    "missing-directory",
                    self.loc.value(&origin.field("templates_dir")),
                    format!("templates directory {} does not exist", quote(dir)),
                    "create it (relative to the repo root) or remove `templates_dir`",
                );
            }
        }
        if let Some(dir) = &project.conf_dir
            && !dir.starts_with('/')
            && let Some(remote) = self
                .fleet
                .servers
                .iter()
                .find(|s| !s.is_local() && s.asterisk.conf_dir.is_none())
        {
            self.error(
                "relative-conf-dir",
                self.loc.value(&origin.field("conf_dir")),
                format!("conf_dir {} is relative, but remote server `{}` uses it", quote(dir), remote.name),
                "write an absolute path such as /etc/asterisk (relative paths only work for `host: local`)",
            );
        }
        self.firewall_policy(&origin.field("firewall"), &project.firewall);
        self.voicemail_settings(&origin.field("voicemail"), &project.voicemail);
        if let Some(t) = &project.defaults.transport {
            for s in &self.fleet.servers {
                if !s.transports.iter().any(|x| x.name == *t) && s.defaults.transport.is_none() {
                    self.error(
                        "unknown-reference",
                        self.loc.value(&origin.field("defaults").field("transport")),
                        format!("default transport `{t}` is not declared on server `{}`", s.name),
                        "declare it under that server's `transports`, or set `defaults.transport` per server",
                    );
                    break;
                }
            }
        }
    }

    fn servers(&mut self) {
        let fleet = self.fleet;
        let mut systemnames: HashMap<String, &Origin> = HashMap::new();
        let mut targets: HashMap<(String, String), &Sourced<crate::model::Server>> = HashMap::new();
        for s in &fleet.servers {
            let o = &s.origin;
            let conf_dir = s
                .asterisk
                .conf_dir
                .clone()
                .or_else(|| fleet.project.conf_dir.clone())
                .unwrap_or_else(|| crate::model::project::DEFAULT_CONF_DIR.to_owned());
            if let Some(dir) = &s.asterisk.conf_dir
                && !s.is_local()
                && !dir.starts_with('/')
            {
                self.error(
                    "relative-conf-dir",
                    self.loc.value(&o.field("asterisk").field("conf_dir")),
                    format!("conf_dir {} of remote server `{}` is not absolute", quote(dir), s.name),
                    "write an absolute path such as /etc/asterisk (relative paths only work for `host: local`)",
                );
            }
            if s.asterisk.binary.is_some() && s.asterisk.cli.is_some() {
                self.error(
                    "ambiguous-cli",
                    self.loc.value(&o.field("asterisk").field("cli")),
                    format!("server `{}` sets both asterisk.binary and asterisk.cli", s.name),
                    "keep one: `cli` is the whole command (e.g. [sudo, -n, asterisk, -rx]), `binary` only names the program",
                );
            }
            if let Some(first) = targets.get(&(s.host.clone(), conf_dir.clone())) {
                let d = Diagnostic::error(
                    "shared-conf-dir",
                    format!(
                        "servers `{}` and `{}` manage the same conf_dir {} on host `{}`",
                        first.name,
                        s.name,
                        quote(&conf_dir),
                        s.host
                    ),
                )
                .at(self.loc.value(&o.field("name")))
                .related(
                    self.loc.value(&first.origin.field("name")),
                    "the other server",
                )
                .hint("each server needs its own Asterisk configuration directory");
                self.out.push(d);
            } else {
                targets.insert((s.host.clone(), conf_dir), s);
            }
            let systemname = s
                .systemname
                .as_ref()
                .unwrap_or(&s.name)
                .as_str()
                .to_ascii_lowercase();
            if let Some(first) = systemnames.get(&systemname) {
                let d = Diagnostic::error(
                    "duplicate-systemname",
                    format!(
                        "server `{}` has the same systemname as another server",
                        s.name
                    ),
                )
                .at(self.loc.value(o))
                .related(self.loc.value(first), "the other server")
                .hint(
                    "systemname makes call ids unique across the fleet; give each server its own",
                );
                self.out.push(d);
            } else {
                systemnames.insert(systemname, o);
            }
            let mut transport_names: HashMap<String, usize> = HashMap::new();
            for (i, t) in s.transports.iter().enumerate() {
                let to = o.at(&[Segment::Key("transports".into()), Segment::Index(i)]);
                if let Some(first) = transport_names.insert(t.name.as_str().to_ascii_lowercase(), i)
                {
                    let d = Diagnostic::error(
                        "duplicate-name",
                        format!(
                            "transport `{}` is defined twice on server `{}`",
                            t.name, s.name
                        ),
                    )
                    .at(self.loc.value(&to.field("name")))
                    .related(
                        self.loc.value(&o.at(&[
                            Segment::Key("transports".into()),
                            Segment::Index(first),
                            Segment::Key("name".into()),
                        ])),
                        "first defined here",
                    );
                    self.out.push(d);
                }
                let tls = matches!(t.protocol, crate::model::server::TransportProtocol::Tls);
                if tls && (t.cert_file.is_none() || t.priv_key_file.is_none()) {
                    self.error(
                        "tls-needs-certificate",
                        self.loc.value(&to),
                        format!("TLS transport `{}` has no certificate", t.name),
                        "set `cert_file` and `priv_key_file`",
                    );
                }
                if let Some(port) = t.bind.rsplit_once(':').map(|(_, p)| p)
                    && !t.bind.ends_with(']')
                    && port.parse::<u16>().map_or(true, |p| p == 0)
                {
                    self.error(
                        "invalid-port",
                        self.loc.value(&to.field("bind")),
                        format!("port {} is not 1-65535", quote(port)),
                        "",
                    );
                }
                for (j, net) in t.local_net.iter().enumerate() {
                    self.cidr(&to.field("local_net").at(&[Segment::Index(j)]), &net.0);
                }
            }
            if let Some(t) = &s.defaults.transport {
                self.transport_ref(&o.field("defaults").field("transport"), s.name.as_str(), t);
            }
            if let Some(fw) = &s.firewall {
                self.firewall_policy(&o.field("firewall"), fw);
            }
            self.voicemail_settings(&o.field("voicemail"), &s.voicemail);
        }
    }

    fn voicemail_settings(
        &mut self,
        origin: &Origin,
        vm: &crate::model::server::VoicemailSettings,
    ) {
        if let Some(email) = &vm.from_email {
            self.email(&origin.field("from_email"), email);
        }
        for (key, text) in [
            ("email_subject", &vm.email_subject),
            ("email_body", &vm.email_body),
        ] {
            let Some(text) = text else { continue };
            if text.contains('|') || text.trim() != text {
                self.error(
                    "unsafe-text",
                    self.loc.value(&origin.field(key)),
                    format!("{key} {} has a `|` or spaces at its ends", quote(text)),
                    "voicemail.conf options are separated by `|` and Asterisk strips the ends; remove them",
                );
            }
        }
    }

    fn firewall_policy(&mut self, origin: &Origin, fw: &FirewallPolicy) {
        for (key, lists) in [
            ("allow", &fw.allow),
            ("deny", &fw.deny),
            ("management", &fw.management),
        ] {
            if let Some(lists) = lists {
                self.address_list_refs(&origin.field(key), lists);
            }
        }
        if let (Some(allow), Some(deny)) = (&fw.allow, &fw.deny) {
            for (i, name) in deny.iter().enumerate() {
                if allow.contains(name) {
                    self.error(
                        "conflicting-lists",
                        self.loc
                            .value(&origin.field("deny").at(&[Segment::Index(i)])),
                        format!("address list `{name}` is both allowed and denied"),
                        "remove it from one of `allow` and `deny`",
                    );
                }
            }
        }
        for (i, rule) in fw.protected_ports.iter().flatten().enumerate() {
            if let PortSpec::Range(range) = &rule.port {
                let ok = range
                    .split_once('-')
                    .and_then(|(a, b)| Some((a.parse::<u16>().ok()?, b.parse::<u16>().ok()?)))
                    .is_some_and(|(a, b)| a >= 1 && a <= b);
                if !ok {
                    self.error(
                        "invalid-port",
                        self.loc.value(
                            &origin
                                .field("protected_ports")
                                .at(&[Segment::Index(i), Segment::Key("port".into())]),
                        ),
                        format!(
                            "port range {} is not FROM-TO with 1 <= FROM <= TO <= 65535",
                            quote(range)
                        ),
                        "",
                    );
                }
            }
        }
    }

    fn extensions(&mut self) {
        for e in &self.fleet.extensions {
            let o = &e.origin;
            let server = e.server.as_str();
            if !self.server_ref(&o.field("server"), &e.server) {
                continue;
            }
            self.dialplan_text(&o.field("name"), "display name", &e.name);
            self.callerid(o, &e.callerid);
            if let Some(email) = &e.email {
                self.email(&o.field("email"), email);
            }
            if let Some(t) = &e.transport {
                self.transport_ref(&o.field("transport"), server, t);
            }
            if let Some(codecs) = &e.codecs {
                for (i, c) in codecs.iter().enumerate() {
                    if codecs[..i].contains(c) {
                        self.warning(
                            "duplicate-codec",
                            self.loc.value(&o.field("codecs").at(&[Segment::Index(i)])),
                            "codec listed twice".into(),
                            "",
                        );
                    }
                }
            }
            if let Some(vm) = &e.voicemail {
                let vo = o.field("voicemail");
                if vm.enabled && e.name.contains([',', '|']) {
                    self.error(
                        "unsafe-text",
                        self.loc.value(&o.field("name")),
                        format!("display name {} contains `,` or `|`", quote(&e.name)),
                        "voicemail.conf separates a mailbox's fields with `,` and `|` and cannot escape them; \
                         write the name without them",
                    );
                }
                if let Secret::Plain(pin) = &vm.pin
                    && (!pin.chars().all(|c| c.is_ascii_digit()) || !(4..=16).contains(&pin.len()))
                {
                    self.error(
                        "invalid-pin",
                        self.loc.value(&vo.field("pin")),
                        "voicemail PIN must be 4 to 16 digits".into(),
                        "phones can only send digits; quote it in YAML, e.g. pin: \"0420\"",
                    );
                }
                if let Some(email) = &vm.email {
                    self.email(&vo.field("email"), email);
                }
            }
            let fo = o.field("forward");
            for (key, target) in [
                ("always", &e.forward.always),
                ("busy", &e.forward.busy),
                ("no_answer", &e.forward.no_answer),
                ("unavailable", &e.forward.unavailable),
            ] {
                let Some(target) = target else { continue };
                let to = fo.field(key);
                if matches!(target, Target::Extension(n) if *n == e.number) {
                    self.error(
                        "forward-loop",
                        self.loc.value(&to),
                        format!("extension {} forwards to itself", e.number),
                        "forward to another extension, voicemail, or remove the forward",
                    );
                    continue;
                }
                self.target(&to, server, target);
            }
        }
    }

    fn queues(&mut self) {
        for q in &self.fleet.queues {
            let o = &q.origin;
            let server = q.server.as_str();
            if !self.server_ref(&o.field("server"), &q.server) {
                continue;
            }
            let mut seen: HashMap<&str, usize> = HashMap::new();
            for (i, m) in q.members.iter().enumerate() {
                let mo = o.field("members").at(&[Segment::Index(i)]);
                let number = m.extension().as_str();
                if let Some(first) = seen.insert(number, i) {
                    let d = Diagnostic::error(
                        "duplicate-member",
                        format!("extension {number} is a member of queue `{}` twice", q.name),
                    )
                    .at(self.loc.value(&mo))
                    .related(
                        self.loc
                            .value(&o.field("members").at(&[Segment::Index(first)])),
                        "first listed here",
                    )
                    .hint("list each member once");
                    self.out.push(d);
                    continue;
                }
                let at = if matches!(m, crate::model::queue::Member::Detailed(_)) {
                    mo.field("extension")
                } else {
                    mo
                };
                self.extension_ref(&at, server, number);
            }
            if let Some(class) = &q.music_class
                && class.as_str() != "default"
                && !self.fleet.music_on_hold.iter().any(|m| m.name == *class)
                && !self
                    .fleet
                    .is_broken(Kind::MusicOnHold, None, class.as_str())
            {
                self.error(
                    "unknown-reference",
                    self.loc.value(&o.field("music_class")),
                    format!("unknown music-on-hold class `{class}`"),
                    "define it under `music_on_hold:` or use `default`",
                );
            }
            for (key, target) in [
                ("on_timeout", &q.on_timeout),
                ("on_full", &q.on_full),
                ("on_empty", &q.on_empty),
            ] {
                if let Some(t) = target {
                    if matches!(t, Target::Queue(n) if *n == q.name) {
                        self.error(
                            "forward-loop",
                            self.loc.value(&o.field(key)),
                            format!("queue `{}` overflows into itself", q.name),
                            "send the caller elsewhere (voicemail, another queue, hangup)",
                        );
                        continue;
                    }
                    self.target(&o.field(key), server, t);
                }
            }
            if q.on_timeout.is_some() && q.max_wait.is_none() {
                self.warning(
                    "unused-setting",
                    self.loc.key(&o.field("on_timeout")),
                    "`on_timeout` never applies without `max_wait`".into(),
                    "set `max_wait` (seconds) so callers leave the queue",
                );
            }
        }
    }

    fn menus(&mut self) {
        for m in &self.fleet.menus {
            let o = &m.origin;
            let server = m.server.as_str();
            if !self.server_ref(&o.field("server"), &m.server) {
                continue;
            }
            for (key, target) in m.keys.iter() {
                self.target(&o.field("keys").field(key), server, target);
            }
            for (key, target) in [
                ("invalid", &m.invalid),
                ("timeout", &m.timeout),
                ("after_hours", &m.after_hours),
            ] {
                if let Some(t) = target {
                    self.target(&o.field(key), server, t);
                }
            }
            match (&m.timeframe, &m.after_hours) {
                (Some(tf), after) => {
                    let known = self.fleet.timeframes.iter().any(|t| t.name == *tf)
                        || self.fleet.is_broken(Kind::Timeframe, None, tf.as_str());
                    if !known {
                        let all: Vec<&str> = self
                            .fleet
                            .timeframes
                            .iter()
                            .map(|t| t.name.as_str())
                            .collect();
                        let hint = match did_you_mean(tf.as_str(), all.iter().copied()) {
                            Some(s) => format!("did you mean `{s}`?"),
                            None => "define it under `timeframes:`".into(),
                        };
                        self.error(
                            "unknown-reference",
                            self.loc.value(&o.field("timeframe")),
                            format!("unknown time frame `{tf}`"),
                            hint,
                        );
                    }
                    if after.is_none() {
                        self.error(
                            "missing-field",
                            self.loc.key(&o.field("timeframe")),
                            format!(
                                "menu `{}` has a time frame but no `after_hours` destination",
                                m.name
                            ),
                            "add `after_hours:` (e.g. `{voicemail: \"100\"}` or `hangup`)",
                        );
                    }
                }
                (None, Some(_)) => self.warning(
                    "unused-setting",
                    self.loc.key(&o.field("after_hours")),
                    "`after_hours` never applies without `timeframe`".into(),
                    "add `timeframe:` with the business hours",
                ),
                (None, None) => {}
            }
            if m.keys.iter().next().is_none() && !m.direct_dial {
                self.warning(
                    "empty-menu",
                    self.loc.value(&o.field("name")),
                    format!("menu `{}` has no keys and no direct dial", m.name),
                    "callers can only wait for the timeout; add `keys:`",
                );
            }
        }
    }

    fn timeframes(&mut self) {
        for t in &self.fleet.timeframes {
            let o = &t.origin;
            for (i, p) in t.periods.iter().enumerate() {
                let po = o.field("periods").at(&[Segment::Index(i)]);
                if let Err(why) = time::check_days(&p.days) {
                    self.error("invalid-time", self.loc.value(&po.field("days")), why, "");
                }
                let from = time::minutes(&p.from);
                let to = time::minutes(&p.to);
                if let Err(why) = &from {
                    self.error(
                        "invalid-time",
                        self.loc.value(&po.field("from")),
                        why.clone(),
                        "",
                    );
                }
                if let Err(why) = &to {
                    self.error(
                        "invalid-time",
                        self.loc.value(&po.field("to")),
                        why.clone(),
                        "",
                    );
                }
                if let (Ok(f), Ok(t_)) = (&from, &to)
                    && f >= t_
                {
                    self.error(
                        "invalid-time",
                        self.loc.value(&po.field("to")),
                        format!("period ends at {} but starts at {}", p.to, p.from),
                        "`to` must be later than `from`; for a period past midnight write two periods",
                    );
                }
                if from.as_ref().is_ok_and(|f| *f == 1440) {
                    self.error(
                        "invalid-time",
                        self.loc.value(&po.field("from")),
                        "a period cannot start at 24:00".into(),
                        "",
                    );
                }
            }
            for (i, h) in t.holidays.iter().enumerate() {
                let ho = o.field("holidays").at(&[Segment::Index(i)]);
                let start = time::date(&h.date);
                if let Err(why) = &start {
                    self.error(
                        "invalid-date",
                        self.loc.value(&ho.field("date")),
                        why.clone(),
                        "",
                    );
                }
                if let Some(until) = &h.until {
                    match (time::date(until), start) {
                        (Err(why), _) => {
                            self.error("invalid-date", self.loc.value(&ho.field("until")), why, "")
                        }
                        (Ok(end), Ok(begin)) if end < begin => self.error(
                            "invalid-date",
                            self.loc.value(&ho.field("until")),
                            format!("holiday ends ({until}) before it starts ({})", h.date),
                            "",
                        ),
                        _ => {}
                    }
                }
            }
        }
    }

    fn dialplans(&mut self) {
        for d in &self.fleet.dialplans {
            let o = &d.origin;
            let server = d.server.as_str();
            if !self.server_ref(&o.field("server"), &d.server) {
                continue;
            }
            for (i, inc) in d.includes.iter().enumerate() {
                let io = o.field("includes").at(&[Segment::Index(i)]);
                if *inc == d.name {
                    self.error(
                        "include-loop",
                        self.loc.value(&io),
                        format!("dialplan `{}` includes itself", d.name),
                        "",
                    );
                    continue;
                }
                self.scoped_ref(Kind::Dialplan, &io, server, inc.as_str());
            }
            if d.lines.first().is_some_and(|l| l.exten.is_none()) {
                self.error(
                    "missing-field",
                    self.loc.value(&o.field("lines").at(&[Segment::Index(0)])),
                    "the first dialplan line needs `exten`".into(),
                    "Asterisk skips a first line written `same =>`; add e.g. `exten: s`",
                );
            }
            for (i, line) in d.lines.iter().enumerate() {
                let lo = o.field("lines").at(&[Segment::Index(i)]);
                if let Some(exten) = &line.exten
                    && exten.starts_with('_')
                {
                    self.dial_pattern(&lo.field("exten"), exten);
                }
                for (j, arg) in line.args.iter().enumerate() {
                    if let Err(why) = text::check_balanced(&arg.to_text()) {
                        self.error(
                            "unbalanced-argument",
                            self.loc.value(&lo.field("args").at(&[Segment::Index(j)])),
                            format!("argument {} {why}", quote(&arg.to_text())),
                            "Asterisk splits arguments on commas outside (), [] and quotes; balance them, or escape them with a backslash",
                        );
                    }
                }
                let length = line.app.len()
                    + line
                        .args
                        .iter()
                        .map(|a| a.to_text().len() * 2 + 1)
                        .sum::<usize>()
                    + 120;
                if length > 8000 {
                    self.error(
                        "line-too-long",
                        self.loc.value(&lo),
                        format!("this line would render to about {length} bytes; Asterisk skips lines over 8192"),
                        "split the work over several lines",
                    );
                }
            }
        }
    }

    fn trunks(&mut self) {
        use crate::model::trunk::TrunkKind;
        for t in &self.fleet.trunks {
            let o = &t.origin;
            let server = t.server.as_str();
            if !self.server_ref(&o.field("server"), &t.server) {
                continue;
            }
            match t.kind {
                TrunkKind::Registration => {
                    for (field, missing) in [
                        ("username", t.username.is_none()),
                        ("secret", t.secret.is_none()),
                    ] {
                        if missing {
                            self.error(
                                "missing-field",
                                self.loc.value(&o.field("type")),
                                format!("registration trunk `{}` needs `{field}`", t.name),
                                format!("add `{field}:` with the provider account's {field}"),
                            );
                        }
                    }
                }
                TrunkKind::Ip => {
                    if t.match_addresses.is_empty() {
                        self.error(
                            "missing-field",
                            self.loc.value(&o.field("type")),
                            format!("IP trunk `{}` needs `match` addresses", t.name),
                            "list the provider's signalling addresses under `match:`",
                        );
                    }
                }
            }
            for (i, cidr) in t.match_addresses.iter().enumerate() {
                self.cidr(&o.field("match").at(&[Segment::Index(i)]), &cidr.0);
            }
            if let Some(tr) = &t.transport {
                self.transport_ref(&o.field("transport"), server, tr);
            }
            self.callerid(o, &t.callerid);
        }
    }

    fn inbound_routes(&mut self) {
        let mut seen: HashMap<InboundKey, &Origin> = HashMap::new();
        for r in &self.fleet.inbound_routes {
            let o = &r.origin;
            let server = r.server.as_str();
            if !self.server_ref(&o.field("server"), &r.server) {
                continue;
            }
            if let Some(did) = &r.did {
                self.dial_pattern(&o.field("did"), did.as_str());
            }
            if let Some(cid) = &r.callerid {
                self.dial_pattern(&o.field("callerid"), cid.as_str());
            }
            for (i, trunk) in r.trunks.iter().enumerate() {
                self.scoped_ref(
                    Kind::Trunk,
                    &o.field("trunks").at(&[Segment::Index(i)]),
                    server,
                    trunk.as_str(),
                );
            }
            self.target(&o.field("target"), server, &r.target);
            let mut trunks: Vec<&str> = r.trunks.iter().map(Name::as_str).collect();
            trunks.sort_unstable();
            let key = (
                server,
                r.did.as_ref().map(|d| d.as_str()),
                r.callerid.as_ref().map(|c| c.as_str()),
                trunks,
            );
            if let Some(first) = seen.get(&key) {
                let d = Diagnostic::error(
                    "duplicate-route",
                    format!(
                        "inbound route `{}` matches exactly the same calls as another route",
                        r.name
                    ),
                )
                .at(self.loc.value(&o.field("name")))
                .related(self.loc.value(&first.field("name")), "the other route")
                .hint("only one of them could ever apply; merge them or change `did`/`callerid`");
                self.out.push(d);
            } else {
                seen.insert(key, o);
            }
        }
    }

    fn outbound_routes(&mut self) {
        for r in &self.fleet.outbound_routes {
            let o = &r.origin;
            let server = r.server.as_str();
            if !self.server_ref(&o.field("server"), &r.server) {
                continue;
            }
            for (i, p) in r.patterns.iter().enumerate() {
                let po = o.field("patterns").at(&[Segment::Index(i)]);
                self.dial_pattern(&po.field("match"), p.pattern.as_str());
                let body = p
                    .pattern
                    .as_str()
                    .strip_prefix('_')
                    .unwrap_or(p.pattern.as_str());
                let fixed = body.chars().take_while(|c| !matches!(c, '.' | '!')).count();
                if p.strip as usize > fixed {
                    self.error(
                        "strip-too-long",
                        self.loc.value(&po.field("strip")),
                        format!(
                            "strip {} removes more digits than the pattern fixes ({fixed})",
                            p.strip
                        ),
                        "strip only the access digits the pattern starts with",
                    );
                }
            }
            for (i, trunk) in r.trunks.iter().enumerate() {
                let to = o.field("trunks").at(&[Segment::Index(i)]);
                if r.trunks[..i].contains(trunk) {
                    self.warning(
                        "duplicate-trunk",
                        self.loc.value(&to),
                        format!("trunk `{trunk}` is listed twice"),
                        "each trunk is tried once",
                    );
                    continue;
                }
                self.scoped_ref(Kind::Trunk, &to, server, trunk.as_str());
            }
            if let Some(allow) = &r.allow {
                let ao = o.field("allow");
                for (i, n) in allow.extensions.iter().enumerate() {
                    self.extension_ref(
                        &ao.field("extensions").at(&[Segment::Index(i)]),
                        server,
                        n.as_str(),
                    );
                }
                for (i, tag) in allow.tags.iter().enumerate() {
                    let used = self
                        .fleet
                        .extensions
                        .iter()
                        .any(|e| e.server == r.server && e.tags.contains(tag));
                    if !used {
                        self.warning(
                            "unused-tag",
                            self.loc.value(&ao.field("tags").at(&[Segment::Index(i)])),
                            format!("no extension on server `{server}` has the tag `{tag}`"),
                            "add the tag to the extensions that may use this route",
                        );
                    }
                }
            }
        }
    }

    fn address_lists(&mut self) {
        for l in &self.fleet.address_lists {
            for (i, a) in l.addresses.iter().enumerate() {
                let ao = l.origin.field("addresses").at(&[Segment::Index(i)]);
                self.cidr(&ao, &a.0);
                if l.addresses[..i].contains(a) {
                    self.warning(
                        "duplicate-address",
                        self.loc.value(&ao),
                        format!("{} is listed twice", quote(&a.0)),
                        "",
                    );
                }
            }
        }
    }

    /// One warning per file, so a demo repo full of plaintext secrets stays readable.
    fn plaintext_secrets(&mut self) {
        let mut per_file: HashMap<crate::source::FileId, Vec<Origin>> = HashMap::new();
        let f = self.fleet;
        let secrets = f
            .extensions
            .iter()
            .flat_map(|e| {
                let mut v = vec![(e.origin.field("secret"), &e.secret)];
                if let Some(vm) = &e.voicemail {
                    v.push((e.origin.field("voicemail").field("pin"), &vm.pin));
                }
                v
            })
            .chain(
                f.trunks
                    .iter()
                    .filter_map(|t| t.secret.as_ref().map(|s| (t.origin.field("secret"), s))),
            );
        for (origin, secret) in secrets {
            if secret.is_plain() {
                per_file.entry(origin.file).or_default().push(origin);
            }
        }
        let mut files: Vec<_> = per_file.into_iter().collect();
        files.sort_by_key(|(file, _)| *file);
        for (_, origins) in files {
            let first = self.loc.value(&origins[0]);
            let message = if origins.len() == 1 {
                "plaintext secret in the repository".to_owned()
            } else {
                format!("{} plaintext secrets in this file", origins.len())
            };
            let mut d = Diagnostic::warning("plaintext-secret", message).at(first).hint(
                "anyone with the repo can read it; write `{env: NAME}` or `{file: path}` and keep the value out of git",
            );
            for o in &origins[1..] {
                d = d.related(self.loc.value(o), "also plaintext");
            }
            self.out.push(d);
        }
    }
}

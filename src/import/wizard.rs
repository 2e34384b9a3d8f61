//! pjsip_wizard.conf: each `type=wizard` section stands for the objects
//! res_pjsip_config_wizard creates from it (an endpoint named like the section, its
//! aor, `<name>-iauth`, `<name>-oauth`, `<name>-reg`, `<name>-identify`). They are
//! built here as if written out, so the PJSIP import maps them like any others; each
//! carries the wizard section as its origin, so the migration removes the section.

use super::objects::{Assembled, Object, Setting};

/// The objects the wizard would create from every `type=wizard` section.
pub fn expand(wizard: &Assembled) -> Vec<Object> {
    let mut out = Vec::new();
    for w in wizard
        .objects
        .iter()
        .filter(|o| o.kind().is_some_and(|k| k.eq_ignore_ascii_case("wizard")))
    {
        let yes = |key: &str| w.last(key).is_some_and(super::pjsip::truthy);
        let name = w.name.as_str();
        let origin = w.origin();
        let setting = |key: &str, value: &str| Setting {
            key: key.to_owned(),
            value: value.to_owned(),
            file: origin.file,
            line: origin.first_line,
            arrow: false,
        };
        let prefixed = |prefix: &str| -> Vec<Setting> {
            w.settings
                .iter()
                .filter_map(|s| {
                    let key = s.key.strip_prefix(prefix)?.strip_prefix('/')?;
                    Some(Setting {
                        key: key.to_owned(),
                        ..s.clone()
                    })
                })
                .collect()
        };
        let object = |object_name: String, kind: &str, mut settings: Vec<Setting>| {
            settings.insert(0, setting("type", kind));
            Object {
                name: object_name,
                settings,
                origins: w.origins.clone(),
                templates: w.templates.clone(),
            }
        };
        let hosts: Vec<String> = w
            .last("remote_hosts")
            .map(|h| {
                h.split(',')
                    .map(|x| x.trim().to_owned())
                    .filter(|x| !x.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let mut endpoint = prefixed("endpoint");
        if let Some(t) = w.last("transport") {
            endpoint.push(setting("transport", t));
        }
        if yes("accepts_auth") {
            endpoint.push(setting("auth", &format!("{name}-iauth")));
            let mut auth = vec![setting("username", name)];
            auth.extend(prefixed("inbound_auth"));
            out.push(object(format!("{name}-iauth"), "auth", auth));
        }
        if yes("sends_auth") {
            endpoint.push(setting("outbound_auth", &format!("{name}-oauth")));
            out.push(object(
                format!("{name}-oauth"),
                "auth",
                prefixed("outbound_auth"),
            ));
        }
        if yes("accepts_registrations") || !hosts.is_empty() {
            endpoint.push(setting("aors", name));
            let mut aor = prefixed("aor");
            if !yes("accepts_registrations")
                && let Some(host) = hosts.first()
            {
                aor.push(setting("contact", &format!("sip:{host}")));
            }
            out.push(object(name.to_owned(), "aor", aor));
        }
        if yes("sends_registrations")
            && let Some(host) = hosts.first()
        {
            let mut reg = vec![
                setting("server_uri", &format!("sip:{host}")),
                setting("endpoint", name),
            ];
            if yes("sends_auth") {
                reg.push(setting("outbound_auth", &format!("{name}-oauth")));
            }
            reg.extend(prefixed("registration"));
            out.push(object(format!("{name}-reg"), "registration", reg));
        }
        if !hosts.is_empty() && !yes("sends_registrations") {
            let host_only: Vec<String> = hosts
                .iter()
                .map(|h| h.split(':').next().unwrap_or(h).to_owned())
                .collect();
            let mut identify = vec![
                setting("endpoint", name),
                setting("match", &host_only.join(",")),
            ];
            identify.extend(prefixed("identify"));
            out.push(object(format!("{name}-identify"), "identify", identify));
        }
        out.push(object(name.to_owned(), "endpoint", endpoint));
    }
    out
}

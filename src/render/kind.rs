//! The kinds of generated file, and every fact about each one: its template, its name,
//! the base file that includes it, how Asterisk reloads it and how astbase checks that
//! Asterisk loaded it. Every stage asks this enum instead of matching file names.

use serde::{Deserialize, Serialize};

/// One kind of generated file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConfKind {
    Pjsip,
    Dialplan,
    Queues,
    Voicemail,
    MusicOnHold,
    /// Conference rooms' bridge and user profiles (`confbridge_odoo.conf`).
    Confbridge,
    /// Call parking lots (`res_parking_odoo.conf`).
    Parking,
    /// Settings of the astbase agent beside Asterisk (`astbase_odoo.conf`): Asterisk
    /// does not read it, so no base file includes it and nothing is reloaded.
    Agent,
}

/// How to ask Asterisk whether it loaded one section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadCheck {
    /// A command about the section, and the words of its answer that mean it is missing.
    Show {
        command: String,
        missing: &'static [&'static str],
    },
    /// A PJSIP endpoint, by id: all of a reload's are looked for in one `pjsip show
    /// endpoints` listing (a command each would be one `asterisk -rx` process each, a
    /// thousand for a thousand new phones).
    Endpoint(String),
    /// A dialplan context, by name: all of a reload's are looked for in one `dialplan
    /// show` listing (a dozen for the contexts of one server), or in `dialplan show NAME`
    /// when it is the only one (a large hand-written dialplan is not listed for it).
    Context(String),
}

impl ConfKind {
    /// Every kind, in the order files are rendered, planned and reloaded.
    pub const ALL: [ConfKind; 8] = [
        ConfKind::Pjsip,
        ConfKind::Dialplan,
        ConfKind::Queues,
        ConfKind::Voicemail,
        ConfKind::MusicOnHold,
        ConfKind::Confbridge,
        ConfKind::Parking,
        ConfKind::Agent,
    ];

    /// The file name's stem: `pjsip` in `pjsip_odoo.conf` and `pjsip.conf`.
    pub fn stem(self) -> &'static str {
        match self {
            ConfKind::Pjsip => "pjsip",
            ConfKind::Dialplan => "extensions",
            ConfKind::Queues => "queues",
            ConfKind::Voicemail => "voicemail",
            ConfKind::MusicOnHold => "musiconhold",
            ConfKind::Confbridge => "confbridge",
            ConfKind::Parking => "res_parking",
            ConfKind::Agent => "astbase",
        }
    }

    /// The template's name, which an override in `templates_dir` must have.
    pub fn template(self) -> &'static str {
        match self {
            ConfKind::Pjsip => "pjsip.conf.j2",
            ConfKind::Dialplan => "extensions.conf.j2",
            ConfKind::Queues => "queues.conf.j2",
            ConfKind::Voicemail => "voicemail.conf.j2",
            ConfKind::MusicOnHold => "musiconhold.conf.j2",
            ConfKind::Confbridge => "confbridge.conf.j2",
            ConfKind::Parking => "res_parking.conf.j2",
            ConfKind::Agent => "astbase.conf.j2",
        }
    }

    /// The built-in template, compiled into the binary.
    pub fn builtin_template(self) -> &'static str {
        match self {
            ConfKind::Pjsip => include_str!("../../templates/pjsip.conf.j2"),
            ConfKind::Dialplan => include_str!("../../templates/extensions.conf.j2"),
            ConfKind::Queues => include_str!("../../templates/queues.conf.j2"),
            ConfKind::Voicemail => include_str!("../../templates/voicemail.conf.j2"),
            ConfKind::MusicOnHold => include_str!("../../templates/musiconhold.conf.j2"),
            ConfKind::Confbridge => include_str!("../../templates/confbridge.conf.j2"),
            ConfKind::Parking => include_str!("../../templates/res_parking.conf.j2"),
            ConfKind::Agent => include_str!("../../templates/astbase.conf.j2"),
        }
    }

    /// The generated file's name for a suffix: `pjsip_odoo.conf`.
    pub fn file_name(self, suffix: &str) -> String {
        format!("{}_{suffix}.conf", self.stem())
    }

    /// The base file that must include the generated one: `pjsip.conf`. None for a
    /// file Asterisk does not read.
    pub fn base_file(self) -> Option<&'static str> {
        Some(match self {
            ConfKind::Pjsip => "pjsip.conf",
            ConfKind::Dialplan => "extensions.conf",
            ConfKind::Queues => "queues.conf",
            ConfKind::Voicemail => "voicemail.conf",
            ConfKind::MusicOnHold => "musiconhold.conf",
            ConfKind::Confbridge => "confbridge.conf",
            ConfKind::Parking => "res_parking.conf",
            ConfKind::Agent => return None,
        })
    }

    /// The Asterisk CLI command that reloads what a file of this kind configures. None
    /// for the agent's file, which the agent reads again on its own when it changes.
    pub fn reload_command(self) -> Option<&'static str> {
        Some(match self {
            ConfKind::Pjsip => "module reload res_pjsip.so",
            ConfKind::Dialplan => "module reload pbx_config.so",
            ConfKind::Queues => "module reload app_queue.so",
            ConfKind::Voicemail => "module reload app_voicemail.so",
            ConfKind::MusicOnHold => "module reload res_musiconhold.so",
            ConfKind::Confbridge => "module reload app_confbridge.so",
            ConfKind::Parking => "module reload res_parking.so",
            ConfKind::Agent => return None,
        })
    }

    /// The dialplan: its template may only write values the view escaped for it.
    pub fn is_dialplan(self) -> bool {
        self == ConfKind::Dialplan
    }

    /// Whether `key => PIN,...` lines of this kind hold a secret (mailbox PINs).
    pub fn has_mailbox_pins(self) -> bool {
        self == ConfKind::Voicemail
    }

    /// Whether `pin=` lines of this kind hold a secret (conference PINs).
    pub fn has_pin_keys(self) -> bool {
        self == ConfKind::Confbridge
    }

    /// How to check that Asterisk loaded a section of this kind, if astbase checks it:
    /// every dialplan context, every endpoint and transport, every queue.
    pub fn load_check(self, section: &str, section_type: Option<&str>) -> Option<LoadCheck> {
        match self {
            ConfKind::Dialplan => Some(LoadCheck::Context(section.to_owned())),
            ConfKind::Pjsip if section_type == Some("endpoint") => {
                Some(LoadCheck::Endpoint(section.to_owned()))
            }
            // A transport Asterisk refuses (a TLS one whose certificate is missing) is not
            // created while the rest of the file loads.
            ConfKind::Pjsip if section_type == Some("transport") => Some(LoadCheck::Show {
                command: format!("pjsip show transport {section}"),
                missing: &["unable to find object"],
            }),
            ConfKind::Queues => Some(LoadCheck::Show {
                command: format!("queue show {section}"),
                missing: &["no such queue"],
            }),
            _ => None,
        }
    }

    /// The kind of a generated or base file, from its name (`pjsip_odoo.conf`,
    /// `extensions.conf`, `res_parking_odoo.conf`): its stem, then `_` or `.`.
    pub fn of_file(name: &str) -> Option<ConfKind> {
        ConfKind::ALL.into_iter().find(|k| {
            name.strip_prefix(k.stem())
                .is_some_and(|rest| rest.starts_with('_') || rest.starts_with('.'))
        })
    }

    /// The kind a template name belongs to.
    pub fn of_template(name: &str) -> Option<ConfKind> {
        ConfKind::ALL.into_iter().find(|k| k.template() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_name_tells_its_kind_whatever_the_suffix() {
        assert_eq!(ConfKind::of_file("pjsip_odoo.conf"), Some(ConfKind::Pjsip));
        assert_eq!(
            ConfKind::of_file("extensions_acme.conf"),
            Some(ConfKind::Dialplan)
        );
        assert_eq!(
            ConfKind::of_file("musiconhold.conf"),
            Some(ConfKind::MusicOnHold)
        );
        assert_eq!(ConfKind::of_file("sip_odoo.conf"), None);
        assert_eq!(
            ConfKind::of_file("res_parking_odoo.conf"),
            Some(ConfKind::Parking)
        );
        assert_eq!(
            ConfKind::of_file("res_parking.conf"),
            Some(ConfKind::Parking)
        );
        assert_eq!(ConfKind::of_file("res_pjsip.conf"), None);
    }

    #[test]
    fn a_kind_as_a_number_is_its_place_in_all() {
        for (i, kind) in ConfKind::ALL.into_iter().enumerate() {
            assert_eq!(kind as usize, i);
        }
    }

    #[test]
    fn every_kind_names_its_file_after_its_base_file() {
        for kind in ConfKind::ALL {
            let name = kind.file_name("odoo");
            assert_eq!(ConfKind::of_file(&name), Some(kind));
            if let Some(base) = kind.base_file() {
                assert_eq!(format!("{}.conf", kind.stem()), base);
            }
            assert_eq!(ConfKind::of_template(kind.template()), Some(kind));
        }
        assert_eq!(ConfKind::Agent.file_name("odoo"), "astbase_odoo.conf");
        assert_eq!(ConfKind::Agent.base_file(), None);
        assert_eq!(ConfKind::Agent.reload_command(), None);
    }
}

//! Extensions: display names, caller ids, codecs, voicemail boxes and forwards.

use crate::model::Target;
use crate::model::secret::Secret;
use crate::source::Segment;

use super::Checker;

impl<'a> Checker<'a> {
    pub(super) fn extensions(&mut self) {
        for e in &self.fleet.extensions {
            let o = &e.origin;
            let server = e.server.as_str();
            if !self.server_ref(&o.field("server"), &e.server) {
                continue;
            }
            self.dialplan_text(&o.field("name"), "display name", &e.name);
            self.callerid(o, e.callerid.as_deref());
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
                ("always", &e.forwarding().always),
                ("busy", &e.forwarding().busy),
                ("no_answer", &e.forwarding().no_answer),
                ("unavailable", &e.forwarding().unavailable),
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
}

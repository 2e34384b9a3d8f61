//! Conference rooms: their server and music class exist, PINs are digits, and the
//! organiser's settings come together.

use crate::model::secret::Secret;

use super::Checker;

impl<'a> Checker<'a> {
    pub(super) fn conferences(&mut self) {
        for c in &self.fleet.conferences {
            let o = &c.origin;
            if !self.server_ref(&o.field("server"), &c.server) {
                continue;
            }
            if let Some(class) = &c.music_when_alone {
                self.music_ref(&o.field("music_when_alone"), class);
            }
            for (field, pin) in [("pin", &c.pin), ("admin_pin", &c.admin_pin)] {
                // Secrets read at render time are checked there.
                if let Some(Secret::Plain(p)) = pin
                    && (!(1..=20).contains(&p.len()) || !p.bytes().all(|b| b.is_ascii_digit()))
                {
                    self.error(
                        "invalid-value",
                        self.loc.value(&o.field(field)),
                        format!(
                            "the {} of conference `{}` is not 1 to 20 digits",
                            field.replace('_', " "),
                            c.name
                        ),
                        "a PIN is typed on a phone's keypad: digits only",
                    );
                }
            }
            match (&c.admin_number, &c.admin_pin) {
                (Some(_), None) => self.error(
                    "missing-field",
                    self.loc.key(&o.field("admin_number")),
                    format!("conference `{}` has an admin number but no `admin_pin`: anyone dialling it could kick and mute", c.name),
                    "add `admin_pin: {env: NAME}`",
                ),
                (None, Some(_)) => self.warning(
                    "unused-setting",
                    self.loc.key(&o.field("admin_pin")),
                    format!("conference `{}` has an admin PIN but no `admin_number` to dial it", c.name),
                    "add `admin_number:` (the organiser's number)",
                ),
                _ => {}
            }
            if c.wait_for_admin && c.admin_number.is_none() {
                self.error(
                    "missing-field",
                    self.loc.key(&o.field("wait_for_admin")),
                    format!("participants of conference `{}` would wait for an organiser who cannot join", c.name),
                    "add `admin_number:` and `admin_pin:`, or remove `wait_for_admin`",
                );
            }
        }
    }
}

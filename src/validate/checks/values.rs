//! Single values that must be safe or well formed: text that reaches the dialplan,
//! e-mail addresses, caller-id names, addresses and networks, dial patterns.

use std::net::IpAddr;

use crate::diagnostics::quote;
use crate::model::Origin;
use crate::model::extension::CallerId;
use crate::validate::{patterns, text};

use super::Checker;

impl<'a> Checker<'a> {
    pub(super) fn dialplan_text(&mut self, origin: &Origin, what: &str, value: &str) {
        if value.chars().any(text::breaks_a_line) || value.trim() != value {
            // Already reported (`control-character`, `surrounding-space`) for every field.
            return;
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

    /// A host written as an address must be one: `999.1.1.1` looks like IPv4 and is
    /// not (Asterisk logs `Error parsing bind` and creates no transport), `[::1` is not
    /// IPv6. A host name is left alone.
    pub(super) fn address_literal(&mut self, origin: &Origin, host: &str) {
        let bracketed = host.strip_prefix('[').and_then(|h| h.strip_suffix(']'));
        let problem = match bracketed {
            Some(v6) if v6.parse::<std::net::Ipv6Addr>().is_err() => {
                Some(format!("{} is not an IPv6 address", quote(host)))
            }
            Some(_) => None,
            None if !host.is_empty()
                && host.contains('.')
                && host.chars().all(|c| c.is_ascii_digit() || c == '.')
                && host.parse::<std::net::Ipv4Addr>().is_err() =>
            {
                Some(format!(
                    "{} is not an IPv4 address (four numbers 0-255)",
                    quote(host)
                ))
            }
            None => None,
        };
        if let Some(message) = problem {
            self.error("invalid-address", self.loc.value(origin), message, "");
        }
    }

    /// A sound (prompt) name is a path under Asterisk's sounds directory: `..` would
    /// leave it (Playback of any file the asterisk user can read).
    pub(super) fn sound(&mut self, origin: &Origin, name: &str) {
        if name.split('/').any(|part| part == "..") {
            self.error(
                "unsafe-path",
                self.loc.value(origin),
                format!(
                    "sound {} climbs out of the sounds directory with `..`",
                    quote(name)
                ),
                "name the sound relative to the sounds directory, e.g. `custom/welcome`",
            );
        }
    }

    pub(super) fn email(&mut self, origin: &Origin, value: &str) {
        if let Err(why) = text::check_email(value) {
            self.error(
                "invalid-email",
                self.loc.value(origin),
                format!("{} {why}", quote(value)),
                "write one address like `name@example.com`",
            );
        }
    }

    pub(super) fn callerid(&mut self, origin: &Origin, callerid: Option<&CallerId>) {
        if let Some(name) = callerid.and_then(|c| c.name.as_deref()) {
            self.dialplan_text(
                &origin.field("callerid").field("name"),
                "caller-id name",
                name,
            );
        }
    }

    pub(super) fn cidr(&mut self, origin: &Origin, value: &str) {
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

    pub(super) fn dial_pattern(&mut self, origin: &Origin, value: &str) {
        if let Err(why) = patterns::check_dial_pattern(value) {
            self.error(
                "invalid-pattern",
                self.loc.value(origin),
                format!("invalid dial pattern {}: {why}", quote(value)),
                "patterns start with `_`: X = 0-9, Z = 1-9, N = 2-9, [1-5] = a set, `.` or `!` at the end",
            );
        }
    }
}

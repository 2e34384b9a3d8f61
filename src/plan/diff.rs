//! Unified diffs of generated files, with secrets masked: a plan is shown in terminals,
//! CI logs and merge requests, and must never reveal a password or PIN.

use crate::render::ConfKind;

/// The mask shown instead of a secret.
pub const MASK: &str = "********";

/// Masks the secret part of one config line of a generated file.
pub fn mask_line(file: &str, line: &str) -> String {
    let trimmed = line.trim_start();
    if let Some((key, _)) = trimmed.split_once('=') {
        let key = key.trim().trim_end_matches('+').to_ascii_lowercase();
        let pin = key == "pin" && ConfKind::of_file(file).is_some_and(ConfKind::has_pin_keys);
        if matches!(key.as_str(), "password" | "secret" | "md5_cred") || pin {
            let indent = &line[..line.len() - trimmed.len()];
            return format!("{indent}{key}={MASK}");
        }
    }
    // voicemail.conf mailbox lines: `101 => PIN,Name,...`.
    if ConfKind::of_file(file).is_some_and(ConfKind::has_mailbox_pins)
        && let Some((mailbox, rest)) = trimmed.split_once("=>")
        && mailbox.trim().chars().all(|c| c.is_ascii_digit())
        && !mailbox.trim().is_empty()
    {
        let after_pin = rest.split_once(',').map_or("", |(_, r)| r);
        return format!("{} => {MASK},{after_pin}", mailbox.trim());
    }
    line.to_owned()
}

/// Masks every line of a file.
pub fn mask(file: &str, text: &str) -> String {
    text.lines().map(|l| mask_line(file, l) + "\n").collect()
}

/// A unified diff (3 lines of context) from `before` to `after`, secrets masked.
pub fn unified(file: &str, before: &str, after: &str) -> String {
    crate::textdiff::unified(file, before, after, |line| mask_line(file, line))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked() {
        assert_eq!(
            mask_line("pjsip_odoo.conf", "password=s3cr3t"),
            "password=********"
        );
        assert_eq!(
            mask_line("pjsip_odoo.conf", "  Password = x"),
            "  password=********"
        );
        assert_eq!(
            mask_line(
                "voicemail_odoo.conf",
                "101 => 1234,Anna,a@example.com,,attach=yes"
            ),
            "101 => ********,Anna,a@example.com,,attach=yes"
        );
        assert_eq!(mask_line("pjsip_odoo.conf", "username=101"), "username=101");
    }

    #[test]
    fn diffs_show_changes_but_not_secrets() {
        let d = unified(
            "pjsip_odoo.conf",
            "[1]\npassword=old\nx=1\n",
            "[1]\npassword=new\nx=1\n",
        );
        assert!(
            d.contains("-password=********\n+password=********\n"),
            "{d}"
        );
        assert!(!d.contains("old") && !d.contains("new"), "{d}");
        assert_eq!(unified("a", "same\n", "same\n"), "");
    }
}

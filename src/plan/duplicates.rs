//! Objects a base file defines that its generated file defines too. Asterisk reads
//! both: a PJSIP id twice makes res_pjsip reject the whole file, a context or queue
//! twice merges them. A plan refuses that rather than let an apply find out.

use crate::conf;
use crate::render::ConfKind;

/// Sections that hold settings, not objects, in each module.
const SETTINGS: [&str; 4] = ["general", "globals", "zonemessages", "global"];

/// What both texts define, as `[name]` (with the PJSIP type: `[101] endpoint`).
pub fn between(kind: ConfKind, base: &str, generated: &str) -> Vec<String> {
    let keyed = matches!(
        kind,
        ConfKind::Pjsip
            | ConfKind::Dialplan
            | ConfKind::Queues
            | ConfKind::MusicOnHold
            | ConfKind::Voicemail
    );
    if !keyed {
        return Vec::new();
    }
    let objects = |text: &str| -> Vec<(String, Option<String>)> {
        conf::parse(text)
            .sections
            .into_iter()
            .filter(|s| !s.is_template && !SETTINGS.contains(&s.name.to_ascii_lowercase().as_str()))
            .map(|s| {
                // PJSIP ids are per type (an endpoint and its aor share a name).
                let kind_of = (kind == ConfKind::Pjsip)
                    .then(|| s.get("type").unwrap_or("").to_ascii_lowercase());
                (s.name.clone(), kind_of)
            })
            .collect()
    };
    let ours = objects(generated);
    let mut both: Vec<String> = objects(base)
        .into_iter()
        .filter(|o| ours.contains(o))
        .map(|(name, kind)| match kind {
            Some(k) if !k.is_empty() => format!("[{name}] {k}"),
            _ => format!("[{name}]"),
        })
        .collect();
    both.dedup();
    both
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pjsip_id_defined_in_both_files_is_found_with_its_type() {
        let base = "[transport-udp]\ntype=transport\n[101]\ntype=endpoint\n[101]\ntype=aor\n[tpl](!)\ntype=endpoint\n";
        let generated = "[101]\ntype=endpoint\n[102]\ntype=endpoint\n[tpl]\ntype=aor\n";
        assert_eq!(
            between(ConfKind::Pjsip, base, generated),
            vec!["[101] endpoint"]
        );
        assert_eq!(
            between(
                ConfKind::Dialplan,
                "[general]\n[odoo-phones]\n",
                "[general]\n[odoo-phones]\n"
            ),
            vec!["[odoo-phones]"]
        );
    }
}

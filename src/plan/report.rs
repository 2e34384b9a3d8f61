//! A plan as people and machines read it: text (terminal, CI log), Markdown (merge
//! request comment), JSON (stdout for tools). Diffs are already masked.

use super::{Action, Plan, ServerPlan};
use crate::callflow::ServerBehaviour;

pub fn symbol(action: Action) -> &'static str {
    match action {
        Action::Create => "+",
        Action::Change => "~",
        Action::Remove => "-",
        Action::Unchanged => "=",
    }
}

pub fn action_word(action: Action) -> &'static str {
    match action {
        Action::Create => "create",
        Action::Change => "change",
        Action::Remove => "remove",
        Action::Unchanged => "unchanged",
    }
}

/// Colours a unified diff for a terminal.
pub fn colour_diff(diff: &str) -> String {
    diff.lines()
        .map(|l| {
            let code = if l.starts_with("+++") || l.starts_with("---") {
                "1"
            } else if l.starts_with('+') {
                "32"
            } else if l.starts_with('-') {
                "31"
            } else if l.starts_with("@@") {
                "36"
            } else {
                return format!("{l}\n");
            };
            format!("\x1b[{code}m{l}\x1b[0m\n")
        })
        .collect()
}

fn server_text(s: &ServerPlan, color: bool, out: &mut String) {
    out.push_str(&format!("== {} ({}: {})\n", s.server, s.host, s.conf_dir));
    if let Some(e) = &s.error {
        out.push_str(&format!("  error: {e}\n"));
        // A server planned but refused (over a limit) still shows what it would do.
        if s.files.is_empty() {
            out.push('\n');
            return;
        }
    }
    for f in s.files.iter().filter(|f| f.action != Action::Unchanged) {
        out.push_str(&format!(
            "  {} {} ({})\n",
            symbol(f.action),
            f.name,
            action_word(f.action)
        ));
    }
    for i in &s.includes {
        let created = if i.base_exists { "" } else { " (file created)" };
        out.push_str(&format!("  ~ {}: append `{}`{created}\n", i.base, i.line));
    }
    if let Some(m) = s.migration.as_ref().filter(|m| !m.edits.is_empty()) {
        out.push_str(&format!("  ~ {}\n", migration_words(m)));
        for e in &m.edits {
            out.push_str(&format!(
                "  ~ {}: remove {} imported lines\n",
                e.base,
                e.removed()
            ));
        }
    }
    for f in s.drifted() {
        out.push_str(&format!(
            "  ! drift: {} was edited on the host since the last apply\n",
            f.name
        ));
    }
    for f in s.unconfirmed() {
        out.push_str(&format!(
            "  ! {} is in place but was never confirmed loaded (an earlier apply was interrupted): reload\n",
            f.name
        ));
    }
    if !s.reloads.is_empty() {
        out.push_str(&format!("  reloads: {}\n", s.reloads.join(", ")));
    }
    if let Some(b) = s.blast.filter(|_| s.has_changes()) {
        out.push_str(&format!("  {b}\n"));
    }
    for why in &s.restart {
        out.push_str(&format!(
            "  ! restart needed: {why} (PJSIP transports are not reloadable); `astbase apply --restart` restarts Asterisk once its calls have ended\n"
        ));
    }
    if let Some(fw) = &s.firewall {
        out.push_str(&firewall_text(fw));
    }
    if let Some(b) = &s.behaviour {
        out.push_str(&behaviour_text(b));
    }
    let migration_diffs = s.migration.iter().flat_map(|m| &m.edits).map(|e| &e.diff);
    for diff in s
        .files
        .iter()
        .map(|f| &f.diff)
        .chain(migration_diffs)
        .filter(|d| !d.is_empty())
    {
        out.push('\n');
        out.push_str(&if color {
            colour_diff(diff)
        } else {
            diff.clone()
        });
    }
    out.push_str(&format!("{}: {}\n\n", s.server, s.counts()));
}

/// The firewall part of a server's text.
fn firewall_text(fw: &crate::firewall::FirewallPlan) -> String {
    let mut out = String::new();
    if let Some(why) = &fw.skipped {
        out.push_str(&format!("  firewall: {why}\n"));
        return out;
    }
    for set in &fw.sets {
        let created = if set.create { ", created" } else { "" };
        out.push_str(&format!(
            "  ~ ipset {}: {} to add, {} to remove{created}\n",
            set.name,
            set.add.len(),
            set.remove.len()
        ));
        for m in set.add.iter().take(20) {
            out.push_str(&format!("      + {m}\n"));
        }
        for m in set.remove.iter().take(20) {
            out.push_str(&format!("      - {m}\n"));
        }
        let more = (set.add.len() + set.remove.len()).saturating_sub(40);
        if more > 0 {
            out.push_str(&format!("      ... and {more} more\n"));
        }
    }
    for chain in &fw.chains {
        let tool = match chain.family {
            crate::firewall::Family::Ipv4 => "iptables",
            crate::firewall::Family::Ipv6 => "ip6tables",
        };
        if !chain.diff.is_empty() {
            out.push_str(&format!("  ~ {tool} chain ASTBASE: rules change\n"));
        }
        if chain.add_jump {
            out.push_str(&format!("  + {tool} INPUT: jump to ASTBASE\n"));
        }
    }
    if fw.drift {
        out.push_str(
            "  ! drift: firewall sets or rules were changed on the host since the last apply\n",
        );
    }
    for (set, n) in &fw.banned {
        out.push_str(&format!(
            "  {set}: {n} address(es) banned by the agent (kept)\n"
        ));
    }
    if let Some(lockout) = &fw.lockout {
        out.push_str(&format!("  ! LOCKOUT: {lockout}\n"));
    }
    for chain in fw.chains.iter().filter(|c| !c.diff.is_empty()) {
        out.push('\n');
        out.push_str(&chain.diff);
    }
    out
}

/// Most behaviour changes listed per server in text and markdown (JSON lists all).
pub const MAX_LISTED_CHANGES: usize = 50;

/// ` (6 calls)` when several probed calls change the same way.
fn times(calls: usize) -> String {
    if calls > 1 {
        format!(" ({calls} calls)")
    } else {
        String::new()
    }
}

/// A server's behaviour changes, indented under its heading.
pub fn behaviour_text(b: &ServerBehaviour) -> String {
    let moved: usize = b.changes.iter().map(|c| c.calls).sum();
    if moved == 0 {
        return format!(
            "  call flow: no probed call ends elsewhere ({} probes)\n",
            b.probes
        );
    }
    let mut out = format!(
        "  call flow: {moved} of {} probed calls end elsewhere\n",
        b.probes
    );
    for c in b.changes.iter().take(MAX_LISTED_CHANGES) {
        out.push_str(&format!(
            "    {}{}: {} -> {}\n",
            c.call,
            times(c.calls),
            c.before,
            c.after
        ));
    }
    if b.changes.len() > MAX_LISTED_CHANGES {
        out.push_str(&format!(
            "    ... and {} more (`--format json` lists them all)\n",
            b.changes.len() - MAX_LISTED_CHANGES
        ));
    }
    out
}

/// A server's behaviour changes as a markdown table.
pub fn behaviour_markdown(b: &ServerBehaviour) -> String {
    let moved: usize = b.changes.iter().map(|c| c.calls).sum();
    if moved == 0 {
        return format!(
            "Call flow: no probed call ends elsewhere ({} probes).\n\n",
            b.probes
        );
    }
    let cell = |t: &str| t.replace('|', "\\|");
    let mut out = format!(
        "**Call flow: {moved} of {} probed calls end elsewhere**\n\n| call | before | after |\n|---|---|---|\n",
        b.probes
    );
    for c in b.changes.iter().take(MAX_LISTED_CHANGES) {
        out.push_str(&format!(
            "| {}{} | {} | {} |\n",
            cell(&c.call),
            times(c.calls),
            cell(&c.before),
            cell(&c.after)
        ));
    }
    if b.changes.len() > MAX_LISTED_CHANGES {
        out.push_str(&format!(
            "\n... and {} more.\n",
            b.changes.len() - MAX_LISTED_CHANGES
        ));
    }
    out.push('\n');
    out
}

/// Text for a terminal or log.
pub fn text(plan: &Plan, color: bool) -> String {
    let mut out = String::new();
    for s in &plan.servers {
        server_text(s, color, &mut out);
    }
    let failed = plan.servers.iter().filter(|s| s.error.is_some()).count();
    out.push_str(&format!("Plan: {}", plan.counts()));
    if failed > 0 {
        out.push_str(&format!(" {failed} server(s) could not be planned."));
    }
    out.push('\n');
    out
}

/// Markdown for a merge-request comment.
pub fn markdown(plan: &Plan) -> String {
    let mut out = format!("### astbase plan ({})\n\n", plan.source);
    out.push_str(&format!("**Plan: {}**\n\n", plan.counts()));
    out.push_str("| server | host | add | change | remove | drift | status |\n|---|---|---|---|---|---|---|\n");
    for s in &plan.servers {
        let c = s.counts();
        let status = match &s.error {
            Some(e) => format!("error: {}", e.replace('|', "\\|")),
            None if s.has_changes() => "changes".into(),
            None => "no changes".into(),
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {status} |\n",
            s.server,
            s.host,
            c.add,
            c.change,
            c.remove,
            s.drifted().count()
        ));
    }
    for s in plan.servers.iter().filter(|s| s.has_changes()) {
        out.push_str(&format!(
            "\n<details><summary>{}: {}</summary>\n\n",
            s.server,
            s.counts()
        ));
        for i in &s.includes {
            out.push_str(&format!("- `{}`: append `{}`\n", i.base, i.line));
        }
        if let Some(m) = s.migration.as_ref().filter(|m| !m.edits.is_empty()) {
            out.push_str(&format!("- **{}**\n", migration_words(m)));
            for e in &m.edits {
                out.push_str(&format!(
                    "  - `{}`: remove {} imported lines\n",
                    e.base,
                    e.removed()
                ));
            }
        }
        for f in s.unconfirmed() {
            out.push_str(&format!(
                "- `{}` is in place but was never confirmed loaded: reload\n",
                f.name
            ));
        }
        if !s.reloads.is_empty() {
            out.push_str(&format!("- reloads: `{}`\n", s.reloads.join("`, `")));
        }
        for why in &s.restart {
            out.push_str(&format!(
                "- **restart needed**: {why} (`astbase apply --restart`)\n"
            ));
        }
        if let Some(b) = &s.behaviour {
            out.push('\n');
            out.push_str(&behaviour_markdown(b));
        }
        if let Some(fw) = &s.firewall {
            out.push_str(&format!(
                "\n```text\n{}```\n",
                firewall_text(fw).replace("```", "` ` `")
            ));
        }
        for f in s.files.iter().filter(|f| !f.diff.is_empty()) {
            out.push_str(&format!(
                "\n```diff\n{}```\n",
                f.diff.replace("```", "` ` `")
            ));
        }
        out.push_str("\n</details>\n");
    }
    out
}

/// JSON for tools.
pub fn json(plan: &Plan) -> String {
    let mut value = serde_json::to_value(plan).expect("plan serializes");
    if let Some(obj) = value.as_object_mut() {
        obj.insert(
            "summary".into(),
            serde_json::to_value(plan.counts()).expect("counts serialize"),
        );
    }
    let mut text = serde_json::to_string_pretty(&value).expect("plan serializes");
    text.push('\n');
    text
}

/// What a migration does, in words: the one time astbase edits base files.
fn migration_words(m: &crate::plan::MigrationPlan) -> String {
    let lines: usize = m.edits.iter().map(crate::plan::BaseEdit::removed).sum();
    format!(
        "migration ({}): remove the {lines} lines `astbase import` took from {} base file{}, which astbase now generates; \
         the only time astbase edits a base file beyond its include line (backed up, rolled back on failure)",
        m.record,
        m.edits.len(),
        if m.edits.len() == 1 { "" } else { "s" }
    )
}

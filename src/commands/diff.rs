//! `astbase diff REV_A [REV_B]`: what a change does to each PBX, offline. Both
//! revisions are validated and rendered (secrets from the environment or files are not
//! looked up: they render as placeholders, and diffs mask secrets anyway), then the
//! generated files are compared server by server, ignoring the header lines that only
//! say which revision they came from.

use std::collections::{BTreeMap, BTreeSet};
use std::process::ExitCode;

use astbase::callflow::{self, ServerBehaviour};
use astbase::plan::{Action, diff, report};
use astbase::render::{SecretSource, body, render_fleet};

use super::{
    CliError, CommandResult, Loaded, Printer, Which, exit, find_root, load_from, require_valid,
};
use crate::cli::{DiffArgs, DiffFormat};

/// One server's generated files: name -> content.
type Files = BTreeMap<String, String>;

fn render(loaded: &Loaded, filter: &[String]) -> Result<BTreeMap<String, Files>, CliError> {
    let report = &loaded.report;
    let root = &report.sources.root;
    let servers: Vec<String> = report
        .fleet
        .servers
        .iter()
        .map(|s| s.name.to_string())
        .filter(|n| filter.is_empty() || filter.contains(n))
        .collect();
    if servers.is_empty() {
        return Ok(BTreeMap::new());
    }
    let options = loaded.render_options(servers, SecretSource::placeholders(root))?;
    Ok(render_fleet(&report.fleet, &report.sources, &options)?
        .into_iter()
        .map(|o| {
            let files = o.files.into_iter().map(|f| (f.name, f.content)).collect();
            (o.server, files)
        })
        .collect())
}

/// What changed on one server.
struct ServerDiff {
    server: String,
    /// `new server` / `server removed`, if the whole server comes or goes.
    note: Option<&'static str>,
    /// (file, what happens, unified diff)
    files: Vec<(String, Action, String)>,
}

fn compare(old: &BTreeMap<String, Files>, new: &BTreeMap<String, Files>) -> Vec<ServerDiff> {
    let empty = Files::new();
    let servers: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    let mut out = Vec::new();
    for server in servers {
        let (a, b) = (old.get(server), new.get(server));
        let note = match (a, b) {
            (None, Some(_)) => Some("new server"),
            (Some(_), None) => Some("server removed"),
            _ => None,
        };
        let (a, b) = (a.unwrap_or(&empty), b.unwrap_or(&empty));
        let names: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
        let mut files = Vec::new();
        for name in names {
            let (before, after) = (a.get(name).map(|t| body(t)), b.get(name).map(|t| body(t)));
            if before == after {
                continue;
            }
            let what = match (before, after) {
                (None, _) => Action::Create,
                (_, None) => Action::Remove,
                _ => Action::Change,
            };
            let text = diff::unified(name, before.unwrap_or(""), after.unwrap_or(""));
            files.push((name.clone(), what, text));
        }
        if !files.is_empty() || note.is_some() {
            out.push(ServerDiff {
                server: server.clone(),
                note,
                files,
            });
        }
    }
    out
}

pub fn run(args: &DiffArgs, printer: &Printer) -> CommandResult {
    let root = find_root(args.repo.as_deref())?;
    let old = require_valid(load_from(&root, &Which::Rev(&args.from))?, printer)?;
    let new = require_valid(
        match &args.to {
            Some(rev) => load_from(&root, &Which::Rev(rev))?,
            None => load_from(&root, &Which::WorkTree)?,
        },
        printer,
    )?;
    for name in &args.servers {
        if old.report.fleet.server(name).is_none() && new.report.fleet.server(name).is_none() {
            return Err(CliError::new(format!(
                "no server `{name}` in either revision"
            )));
        }
    }
    let changes = compare(&render(&old, &args.servers)?, &render(&new, &args.servers)?);
    let behaviour: BTreeMap<String, ServerBehaviour> =
        callflow::compare(&old.report.fleet, &new.report.fleet, &args.servers)
            .into_iter()
            .map(|b| (b.server.clone(), b))
            .collect();
    let moved: usize = behaviour
        .values()
        .flat_map(|b| &b.changes)
        .map(|c| c.calls)
        .sum();
    let to = args.to.clone().unwrap_or_else(|| "working tree".into());
    let title = format!("{}..{}", args.from, to);
    let files: usize = changes.iter().map(|c| c.files.len()).sum();
    let summary = if changes.is_empty() {
        "no server changes".to_owned()
    } else {
        format!(
            "{} server(s) change, {files} file(s): {}; {moved} probed call(s) end elsewhere",
            changes.len(),
            changes
                .iter()
                .map(|c| c.server.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let text = match args.format {
        DiffFormat::Text => {
            let mut out = String::new();
            for c in &changes {
                out.push_str(&format!(
                    "== {}{}\n",
                    c.server,
                    c.note.map(|n| format!(" ({n})")).unwrap_or_default()
                ));
                for (name, what, _) in &c.files {
                    out.push_str(&format!(
                        "  {} {name} ({})\n",
                        report::symbol(*what),
                        report::action_word(*what)
                    ));
                }
                if let Some(b) = behaviour.get(&c.server) {
                    out.push_str(&report::behaviour_text(b));
                }
                for (_, _, d) in &c.files {
                    out.push('\n');
                    out.push_str(&if printer.stdout_color() {
                        report::colour_diff(d)
                    } else {
                        d.clone()
                    });
                }
                out.push('\n');
            }
            out.push_str(&format!("Diff {title}: {summary}.\n"));
            out
        }
        DiffFormat::Markdown => {
            let mut out = format!("### astbase diff `{title}`\n\n**{summary}**\n");
            for c in &changes {
                out.push_str(&format!(
                    "\n<details><summary>{}{}: {} file(s)</summary>\n\n",
                    c.server,
                    c.note.map(|n| format!(" ({n})")).unwrap_or_default(),
                    c.files.len()
                ));
                if let Some(b) = behaviour.get(&c.server) {
                    out.push_str(&report::behaviour_markdown(b));
                }
                for (name, what, d) in &c.files {
                    out.push_str(&format!("- `{name}`: {}\n", report::action_word(*what)));
                    if !d.is_empty() {
                        out.push_str(&format!("\n```diff\n{}```\n\n", d.replace("```", "` ` `")));
                    }
                }
                out.push_str("</details>\n");
            }
            out
        }
        DiffFormat::Json => {
            let servers: Vec<serde_json::Value> = changes
                .iter()
                .map(|c| {
                    serde_json::json!({
                        "server": c.server,
                        "note": c.note,
                        "files": c.files.iter().map(|(name, what, d)| serde_json::json!({
                            "name": name,
                            "action": report::action_word(*what),
                            "diff": d,
                        })).collect::<Vec<_>>(),
                        "behaviour": behaviour.get(&c.server),
                    })
                })
                .collect();
            let doc = serde_json::json!({
                "from": args.from,
                "to": to,
                "summary": summary,
                "servers": servers,
            });
            serde_json::to_string_pretty(&doc).expect("a diff serializes") + "\n"
        }
    };
    printer.out(&text)?;
    Ok(ExitCode::from(
        if args.detailed_exitcode && !changes.is_empty() {
            exit::CHANGES
        } else {
            exit::OK
        },
    ))
}

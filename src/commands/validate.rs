//! `astbase validate`: report every problem of the repo, offline.

use std::process::ExitCode;

use astbase::diagnostics;
use astbase::validate::Report;

use super::{CommandResult, Printer, exit};
use crate::cli::{Format, ValidateArgs};

pub fn run(args: &ValidateArgs, printer: &Printer) -> CommandResult {
    let report = super::load(&args.repo)?.report;
    let valid = report.is_valid(args.deny_warnings);
    match args.format {
        Format::Json => {
            let mut text = diagnostics::render_json(&report.sources, &report.diagnostics, valid);
            text.push('\n');
            printer.out(&text)?;
        }
        Format::Text => {
            let mut text = diagnostics::render_text(
                &report.sources,
                &report.diagnostics,
                printer.stdout_color(),
            );
            text.push_str(&summary(&report, valid, args.deny_warnings));
            text.push('\n');
            printer.out(&text)?;
        }
    }
    Ok(ExitCode::from(if valid { exit::OK } else { exit::ERROR }))
}

/// One closing line: the verdict, the counts, and what was checked.
fn summary(report: &Report, valid: bool, deny_warnings: bool) -> String {
    let (errors, warnings) = (report.errors(), report.warnings());
    let f = &report.fleet;
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let verdict = if valid {
        "valid"
    } else if errors == 0 && deny_warnings {
        "invalid (warnings denied)"
    } else {
        "invalid"
    };
    let ring_groups = if f.ring_groups.is_empty() {
        String::new()
    } else {
        format!(", {}", plural(f.ring_groups.len(), "ring group"))
    };
    let conferences = if f.conferences.is_empty() {
        String::new()
    } else {
        format!(", {}", plural(f.conferences.len(), "conference"))
    };
    let tests = if f.tests.is_empty() {
        String::new()
    } else {
        format!(", {}", plural(f.tests.len(), "call test"))
    };
    let contacts = if f.contacts.is_empty() {
        String::new()
    } else {
        format!(", {}", plural(f.contacts.len(), "contact"))
    };
    format!(
        "{verdict}: {}, {} in {} ({}, {}, {}, {}{ring_groups}{conferences}, {}, {}{tests}{contacts})",
        plural(errors, "error"),
        plural(warnings, "warning"),
        plural(report.sources.files.len(), "file"),
        plural(f.servers.len(), "server"),
        plural(f.extensions.len(), "extension"),
        plural(f.queues.len(), "queue"),
        plural(f.menus.len(), "menu"),
        plural(f.trunks.len(), "trunk"),
        plural(f.inbound_routes.len() + f.outbound_routes.len(), "route"),
    )
}

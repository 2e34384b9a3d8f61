//! Helpers: build a repo in memory and validate it.

use astbase::diagnostics::{Diagnostic, Severity};
use astbase::source::{SourceFile, Sources};
use astbase::validate::{Report, check};

/// Validates files given as (path, text); the first must be `astbase.yaml`.
pub fn validate_files(files: &[(&str, &str)]) -> Report {
    let mut sources = Sources {
        root: std::env::temp_dir(),
        files: Vec::new(),
    };
    for (rel, text) in files {
        sources.push(SourceFile::from_bytes(
            rel.to_string(),
            rel.to_string(),
            text.as_bytes().to_vec(),
        ));
    }
    check(sources)
}

/// Validates one fleet file (with an empty astbase.yaml).
pub fn validate(text: &str) -> Report {
    validate_files(&[("astbase.yaml", ""), ("fleet.yaml", text)])
}

pub const SERVER: &str = "servers:\n  - {name: msk, host: local, asterisk: {conf_dir: etc}}\n";

/// (code, line, column) of each error, for compact assertions.
pub fn errors(report: &Report) -> Vec<(&'static str, usize, usize)> {
    of(report, Severity::Error)
}

/// The messages of the diagnostics with `code`, in order.
pub fn messages<'r>(report: &'r Report, code: &str) -> Vec<&'r str> {
    report
        .diagnostics
        .iter()
        .filter(|d| d.code == code)
        .map(|d| d.message.as_str())
        .collect()
}

pub fn warnings(report: &Report) -> Vec<(&'static str, usize, usize)> {
    of(report, Severity::Warning)
}

fn of(report: &Report, severity: Severity) -> Vec<(&'static str, usize, usize)> {
    report
        .diagnostics
        .iter()
        .filter(|d| d.severity == severity)
        .map(|d: &Diagnostic| {
            let l = d.location.as_ref().expect("located");
            (d.code, l.span.start.line, l.span.start.col)
        })
        .collect()
}

/// A command's stdout then stderr, for assertions and failure messages.
pub fn text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

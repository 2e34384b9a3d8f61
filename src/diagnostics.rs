//! Diagnostics: what is wrong, where (file, line, column, YAML path), and how to fix it;
//! rendered as compiler-style text with the source line, or as JSON.

use std::collections::HashMap;

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};
use serde::Serialize;

use crate::source::{FileId, Pointer, Pos, Sources, Span};

/// How bad a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// A place in a source file.
#[derive(Debug, Clone, PartialEq)]
pub struct Location {
    pub file: FileId,
    pub span: Span,
    pub path: Option<Pointer>,
    /// Set while only the path is known; `validate` fills in `span` at the end.
    pub pending: Option<Place>,
}

/// Which node of a path a pending location points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Place {
    /// The value (a scalar, or the start of a mapping or list).
    Value,
    /// The key of the mapping entry holding the value.
    Key,
}

impl Location {
    pub fn new(file: FileId, span: Span, path: Option<Pointer>) -> Location {
        Location {
            file,
            span,
            path,
            pending: None,
        }
    }
}

/// A secondary place shown with a diagnostic ("first defined here").
#[derive(Debug, Clone, PartialEq)]
pub struct Related {
    pub location: Location,
    pub message: String,
}

/// One problem found in the repo.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Stable identifier of the kind of problem, e.g. `duplicate-number`.
    pub code: &'static str,
    pub message: String,
    pub hint: Option<String>,
    pub location: Option<Location>,
    pub related: Vec<Related>,
    /// For `too-many-problems`: how many problems of this severity it stands for.
    pub stands_for: usize,
}

impl Diagnostic {
    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            hint: None,
            location: None,
            related: Vec::new(),
            stands_for: 1,
        }
    }

    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message)
        }
    }

    pub fn at(mut self, location: Location) -> Self {
        self.location = Some(location);
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn related(mut self, location: Location, message: impl Into<String>) -> Self {
        self.related.push(Related {
            location,
            message: message.into(),
        });
        self
    }

    /// Sort key: file, line, column, then message, so output is stable.
    fn sort_key(&self) -> (Option<FileId>, usize, usize, &str) {
        match &self.location {
            Some(l) => (
                Some(l.file),
                l.span.start.line,
                l.span.start.col,
                &self.message,
            ),
            None => (None, 0, 0, &self.message),
        }
    }
}

/// Sorts diagnostics by place and drops exact duplicates.
pub fn sort(diagnostics: &mut Vec<Diagnostic>) {
    diagnostics.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    diagnostics.dedup();
}

/// Quotes a user value for a message: backticks, control characters escaped, long
/// values shortened.
pub fn quote(value: &str) -> String {
    const MAX: usize = 60;
    let escaped: String = value.escape_debug().collect();
    if escaped.chars().count() > MAX {
        let short: String = escaped.chars().take(MAX).collect();
        format!("`{short}…`")
    } else {
        format!("`{escaped}`")
    }
}

/// Counts of errors and warnings.
/// A `too-many-problems` diagnostic counts as the problems it stands for.
pub fn counts(diagnostics: &[Diagnostic]) -> (usize, usize) {
    diagnostics
        .iter()
        .fold((0, 0), |(errors, warnings), d| match d.severity {
            Severity::Error => (errors + d.stands_for, warnings),
            Severity::Warning => (errors, warnings + d.stands_for),
        })
}

/// Renders diagnostics as text, each with its source line and an underline.
pub fn render_text(sources: &Sources, diagnostics: &[Diagnostic], color: bool) -> String {
    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let mut out = String::new();
    // Shown per file; past the cap only counted. A snippet costs the length of its line,
    // and one generated line can hold thousands of mistakes: rendering each would make
    // the time grow with the square of the line.
    let mut shown: HashMap<Option<FileId>, usize> = HashMap::new();
    let mut omitted: Vec<(Option<FileId>, usize)> = Vec::new();
    for d in diagnostics {
        let file = d.location.as_ref().map(|l| l.file);
        let count = shown.entry(file).or_default();
        if *count >= MAX_SHOWN_PER_FILE {
            match omitted.iter_mut().find(|(f, _)| *f == file) {
                Some((_, n)) => *n += 1,
                None => omitted.push((file, 1)),
            }
            continue;
        }
        *count += 1;
        out.push_str(&render_one(&renderer, sources, d));
        out.push_str("\n\n");
    }
    for (file, n) in omitted {
        let place = file.map_or_else(
            || "without a file".to_owned(),
            |f| format!("in {}", sources.file(f).display),
        );
        out.push_str(&format!(
            "... and {n} more {place} (the first {MAX_SHOWN_PER_FILE} are shown; `--format json` lists up to {MAX_KEPT_PER_FILE})\n\n"
        ));
    }
    out
}

/// Most diagnostics shown with a snippet per file in text; the rest are counted.
pub const MAX_SHOWN_PER_FILE: usize = 50;

/// Most diagnostics kept per file (in every format); the rest are counted in one
/// `too-many-problems` diagnostic. A generated file with a million broken items would
/// otherwise cost a million messages in memory and output.
pub const MAX_KEPT_PER_FILE: usize = 1_000;

/// Keeps at most [`MAX_KEPT_PER_FILE`] diagnostics per file (the first ones made) and
/// says per file how many more there were, adding `omitted_before` (problems already
/// counted but never made, e.g. by the schema check).
pub fn keep_per_file(diagnostics: &mut Vec<Diagnostic>, omitted_errors: &HashMap<FileId, usize>) {
    let mut kept: HashMap<FileId, usize> = HashMap::new();
    // Per file: (errors, warnings) left out.
    let mut omitted: HashMap<FileId, (usize, usize)> = omitted_errors
        .iter()
        .map(|(file, n)| (*file, (*n, 0)))
        .collect();
    diagnostics.retain(|d| {
        let Some(file) = d.location.as_ref().map(|l| l.file) else {
            return true;
        };
        let count = kept.entry(file).or_default();
        if *count < MAX_KEPT_PER_FILE {
            *count += 1;
            return true;
        }
        let (errors, warnings) = omitted.entry(file).or_default();
        match d.severity {
            Severity::Error => *errors += 1,
            Severity::Warning => *warnings += 1,
        }
        false
    });
    let mut files: Vec<_> = omitted.into_iter().collect();
    files.sort_by_key(|(file, _)| *file);
    for (file, (errors, warnings)) in files {
        for (n, severity, noun) in [
            (errors, Severity::Error, "errors"),
            (warnings, Severity::Warning, "warnings"),
        ] {
            if n == 0 {
                continue;
            }
            let message = format!(
                "{n} more {noun} in this file are not listed (at most {MAX_KEPT_PER_FILE} problems per file are kept)"
            );
            let mut d = match severity {
                Severity::Error => Diagnostic::error("too-many-problems", message),
                Severity::Warning => Diagnostic::warning("too-many-problems", message),
            };
            d.stands_for = n;
            let start = Pos { line: 1, col: 1 };
            diagnostics.push(
                d.at(Location {
                    file,
                    span: Span { start, end: start },
                    path: None,
                    pending: None,
                })
                .hint("fix the problems listed and run again to see the rest"),
            );
        }
    }
}

/// The one-line form, `file:line:col: error[code]: message`, for logs and editors.
pub fn short_line(sources: &Sources, d: &Diagnostic) -> String {
    let level = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    match &d.location {
        Some(l) => format!(
            "{}:{}:{}: {level}[{}]: {}",
            sources.file(l.file).display,
            l.span.start.line,
            l.span.start.col,
            d.code,
            d.message
        ),
        None => format!("{level}[{}]: {}", d.code, d.message),
    }
}

fn render_one(renderer: &Renderer, sources: &Sources, d: &Diagnostic) -> String {
    let level = match d.severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
    };
    let title = level.primary_title(d.message.as_str()).id(d.code);
    let group = match &d.location {
        Some(loc) => {
            let label = loc
                .path
                .as_ref()
                .map(|p| format!("in {p}"))
                .unwrap_or_default();
            title.element(snippet(sources, loc, AnnotationKind::Primary, label))
        }
        None => Group::with_title(title),
    };
    let mut report: Vec<Group> = vec![group];
    // Many notes with one message in one file (e.g. every plaintext secret of a file)
    // read better as one line listing where they are than as a wall of snippets.
    let mut grouped: Vec<((FileId, &str), Vec<&Related>)> = Vec::new();
    for r in &d.related {
        let key = (r.location.file, r.message.as_str());
        match grouped.iter_mut().find(|(k, _)| *k == key) {
            Some((_, list)) => list.push(r),
            None => grouped.push((key, vec![r])),
        }
    }
    for ((file, message), list) in &grouped {
        if list.len() < 3 {
            continue;
        }
        let lines: Vec<String> = list
            .iter()
            .map(|r| r.location.span.start.line.to_string())
            .collect();
        let text = format!(
            "{message}: {} lines {}",
            sources.file(*file).display,
            lines.join(", ")
        );
        report.push(Group::with_title(Level::NOTE.secondary_title(text)));
    }
    let single: Vec<&Related> = grouped
        .iter()
        .filter(|(_, l)| l.len() < 3)
        .flat_map(|(_, l)| l.iter().copied())
        .collect();
    for r in single {
        report.push(
            Group::with_title(Level::NOTE.secondary_title(r.message.as_str())).element(snippet(
                sources,
                &r.location,
                AnnotationKind::Context,
                r.location
                    .path
                    .as_ref()
                    .map(|p| format!("in {p}"))
                    .unwrap_or_default(),
            )),
        );
    }
    if let Some(hint) = &d.hint {
        let last = report.pop().expect("report has a group");
        report.push(last.element(Level::HELP.message(hint.as_str())));
    }
    renderer.render(&report)
}

/// A snippet of the lines a location covers, with secrets masked.
fn snippet<'a>(
    sources: &'a Sources,
    loc: &Location,
    kind: AnnotationKind,
    label: String,
) -> Snippet<'a, annotate_snippets::Annotation<'a>> {
    let file = sources.file(loc.file);
    let first = loc.span.start.line.max(1);
    // Underline at most the first line: multi-line nodes read better that way.
    let text = mask_line(file, first);
    let start = byte_at(&text, loc.span.start.col);
    // Every offset is a char boundary: a span that would end inside a character (a
    // non-ASCII space such as U+00A0 right at the start, which `trim_end` removes) ends
    // after that character instead.
    let after_start = text[start..]
        .chars()
        .next()
        .map_or(start, |c| start + c.len_utf8());
    let end = if loc.span.end.line == first && loc.span.end.col > loc.span.start.col {
        byte_at(&text, loc.span.end.col)
    } else {
        text.trim_end().len()
    };
    let end = if end <= start { after_start } else { end };
    Snippet::source(text)
        .line_start(first)
        .path(file.display.as_str())
        .fold(false)
        .annotation(kind.span(start..end).label(label))
}

/// Byte offset of a 1-based character column (clamped to the line).
fn byte_at(line: &str, col: usize) -> usize {
    line.char_indices()
        .nth(col.saturating_sub(1))
        .map_or(line.len(), |(i, _)| i)
}

/// The text of a line (1-based) with plaintext secrets replaced by `*`.
pub fn masked_line(file: &crate::source::SourceFile, line: usize) -> String {
    mask_line(file, line)
}

/// The text of a line with plaintext secrets replaced by `*`.
fn mask_line(file: &crate::source::SourceFile, line: usize) -> String {
    let text = file.line(line).unwrap_or("");
    let mut chars: Vec<char> = text.chars().collect();
    for span in file.secret_spans() {
        if span.start.line > line || span.end.line < line {
            continue;
        }
        let from = if span.start.line == line {
            span.start.col - 1
        } else {
            0
        };
        let to = if span.end.line == line {
            span.end.col - 1
        } else {
            chars.len()
        };
        let to = to.min(chars.len());
        for c in chars.iter_mut().take(to).skip(from) {
            if !c.is_whitespace() {
                *c = '*';
            }
        }
    }
    chars.into_iter().collect()
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    severity: Severity,
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    hint: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    column: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_column: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<String>,
    related: Vec<JsonRelated<'a>>,
}

#[derive(Serialize)]
struct JsonRelated<'a> {
    message: &'a str,
    file: &'a str,
    line: usize,
    column: usize,
}

#[derive(Serialize)]
struct JsonReport<'a> {
    valid: bool,
    errors: usize,
    warnings: usize,
    diagnostics: Vec<JsonDiagnostic<'a>>,
}

/// Renders diagnostics as one JSON object: `{valid, errors, warnings, diagnostics: [...]}`.
pub fn render_json(sources: &Sources, diagnostics: &[Diagnostic], valid: bool) -> String {
    let (errors, warnings) = counts(diagnostics);
    let list = diagnostics
        .iter()
        .map(|d| {
            let loc = d.location.as_ref();
            JsonDiagnostic {
                severity: d.severity,
                code: d.code,
                message: &d.message,
                hint: d.hint.as_deref(),
                file: loc.map(|l| sources.file(l.file).display.as_str()),
                line: loc.map(|l| l.span.start.line),
                column: loc.map(|l| l.span.start.col),
                end_line: loc.map(|l| l.span.end.line),
                end_column: loc.map(|l| l.span.end.col),
                path: loc.and_then(|l| l.path.as_ref()).map(ToString::to_string),
                related: d
                    .related
                    .iter()
                    .map(|r| JsonRelated {
                        message: &r.message,
                        file: &sources.file(r.location.file).display,
                        line: r.location.span.start.line,
                        column: r.location.span.start.col,
                    })
                    .collect(),
            }
        })
        .collect();
    let report = JsonReport {
        valid,
        errors,
        warnings,
        diagnostics: list,
    };
    serde_json::to_string_pretty(&report).expect("diagnostics serialize")
}

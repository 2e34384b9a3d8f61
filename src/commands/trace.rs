//! `astbase trace`: where one call goes, step by step, from the repository alone.

use std::collections::BTreeMap;
use std::process::ExitCode;

use astbase::callflow::{self, Caller, Override, PhoneStatus, Probe, Trace, When};
use astbase::source::Sources;
use serde::Serialize;

use super::{CliError, CommandResult, Printer, check_server_names, exit, load_valid};
use crate::cli::{OutputFormat, TraceArgs};

pub fn run(args: &TraceArgs, printer: &Printer) -> CommandResult {
    let probe = probe(args)?;
    let loaded = load_valid(&args.repo, printer)?;
    let report = &loaded.report;
    check_server_names(&report.fleet, [&args.server])?;
    let trace = callflow::trace(&report.fleet, &probe).map_err(|e| {
        CliError::from_error(&e)
            .with_hint("check --server, --from-extension and --trunk against the repository")
    })?;
    let places = places(&report.sources, &trace);
    let text = match args.format {
        OutputFormat::Text => text(&probe, &trace, &places),
        OutputFormat::Json => json(&probe, &trace, &places),
    };
    printer.out(&text)?;
    Ok(ExitCode::from(exit::OK))
}

/// The probe the arguments describe; each bad value is named with the flag to fix.
pub fn probe(args: &TraceArgs) -> Result<Probe, CliError> {
    let at = When::parse(&args.at).map_err(|e| {
        CliError::from_error(&e).with_hint("--at takes the wall-clock time at the PBX")
    })?;
    let mut status = BTreeMap::new();
    for item in &args.status {
        let parsed = item
            .split_once('=')
            .and_then(|(ext, s)| PhoneStatus::parse(s.trim()).map(|s| (ext.trim().to_owned(), s)));
        let Some((ext, s)) = parsed else {
            return Err(CliError::new(format!("--status {item}: expected EXT=STATUS"))
                .with_hint("e.g. --status 101=busy,102=unavailable (answers, busy, no-answer, unavailable)"));
        };
        status.insert(ext, s);
    }
    let mut overrides = BTreeMap::new();
    for item in &args.overrides {
        let parsed = item.split_once('=').and_then(|(tf, o)| {
            let o = match o.trim() {
                "open" => Override::Open,
                "closed" => Override::Closed,
                _ => return None,
            };
            Some((tf.trim().to_owned(), o))
        });
        let Some((tf, o)) = parsed else {
            return Err(CliError::new(format!(
                "--override {item}: expected TIMEFRAME=open or TIMEFRAME=closed"
            ))
            .with_hint("e.g. --override business-hours=closed (as its override code sets it)"));
        };
        overrides.insert(tf, o);
    }
    let from = match &args.from_extension {
        Some(ext) => Caller::Extension(ext.clone()),
        None => Caller::Outside {
            callerid: args.from.clone(),
            trunk: args.trunk.clone(),
        },
    };
    Ok(Probe {
        server: args.server.clone(),
        number: args.number.clone(),
        from,
        at,
        keys: args
            .keys
            .iter()
            .map(|k| k.trim().to_owned())
            .filter(|k| !k.is_empty())
            .collect(),
        status,
        overrides,
    })
}

/// `file:line:col` of each step's entity (empty for steps without one).
fn places(sources: &Sources, trace: &Trace) -> Vec<String> {
    let origins: Vec<_> = trace
        .steps
        .iter()
        .filter_map(|s| s.entity.as_ref().map(|e| &e.origin))
        .collect();
    let mut spans = astbase::validate::locate(sources, &origins).into_iter();
    trace
        .steps
        .iter()
        .map(|s| match &s.entity {
            Some(e) => {
                let span = spans.next().unwrap_or_default();
                format!(
                    "{}:{}:{}",
                    sources.file(e.origin.file).display,
                    span.start.line,
                    span.start.col
                )
            }
            None => String::new(),
        })
        .collect()
}

fn describe(probe: &Probe) -> String {
    let from = match &probe.from {
        Caller::Extension(e) => format!("extension {e}"),
        Caller::Outside { callerid, trunk } => {
            let mut s = callerid
                .as_deref()
                .map_or("an unknown caller".to_owned(), |c| format!("caller {c}"));
            if let Some(t) = trunk {
                s.push_str(&format!(" on trunk {t}"));
            }
            s
        }
    };
    let at = match probe.at {
        When::Now => "now".to_owned(),
        When::At(t) => t.strftime("%a %Y-%m-%d %H:%M").to_string(),
    };
    format!(
        "{} from {from} on server {} at {at}",
        probe.number, probe.server
    )
}

fn text(probe: &Probe, trace: &Trace, places: &[String]) -> String {
    let mut out = format!("trace: {}\n", describe(probe));
    let width = trace
        .steps
        .iter()
        .map(|s| s.text.chars().count())
        .max()
        .unwrap_or(0);
    for (i, (step, place)) in trace.steps.iter().zip(places).enumerate() {
        if place.is_empty() {
            out.push_str(&format!("{:>3}. {}\n", i + 1, step.text));
        } else {
            out.push_str(&format!("{:>3}. {:<width$}  {place}\n", i + 1, step.text));
        }
    }
    out.push_str(&format!("=> {}\n", trace.outcome));
    out
}

#[derive(Serialize)]
struct JsonStep<'a> {
    #[serde(flatten)]
    step: &'a callflow::Step,
    #[serde(skip_serializing_if = "str::is_empty")]
    at: &'a str,
}

#[derive(Serialize)]
struct JsonTrace<'a> {
    call: String,
    steps: Vec<JsonStep<'a>>,
    outcome: &'a callflow::Outcome,
    summary: String,
}

fn json(probe: &Probe, trace: &Trace, places: &[String]) -> String {
    let doc = JsonTrace {
        call: describe(probe),
        steps: trace
            .steps
            .iter()
            .zip(places)
            .map(|(step, at)| JsonStep { step, at })
            .collect(),
        outcome: &trace.outcome,
        summary: trace.outcome.to_string(),
    };
    let mut text = serde_json::to_string_pretty(&doc).expect("a trace serializes");
    text.push('\n');
    text
}

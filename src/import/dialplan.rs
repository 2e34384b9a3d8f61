//! extensions.conf into the model: what phones dial (extension numbers, queue numbers,
//! outbound patterns), what trunks deliver (inbound routes), and every other context
//! verbatim as a custom dialplan. A dialplan extension becomes typed only when the
//! model renders the same routing; one that cannot be kept either way stays in the base
//! file, with the reason in the report.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::gather::ConfSet;
use super::objects::{Assembled, Object, Origin};
use super::report::{Outcome, Report};
use crate::conf::dialplan_step;
use crate::model::dialplan::{Dialplan, DialplanArg, DialplanLine};
use crate::model::names::{DialNumber, DialPattern, Name};
use crate::model::route::{InboundRoute, OutboundPattern, OutboundRoute};
use crate::model::target::Target;

/// One step of a dialplan extension, as written.
#[derive(Debug, Clone)]
pub struct Step {
    pub priority: String,
    pub label: Option<String>,
    pub app: String,
    pub data: String,
    pub file: usize,
    pub line: usize,
}

/// An extension of a context: all its steps, wherever they are written in the context.
#[derive(Debug, Clone)]
pub struct Exten {
    pub name: String,
    pub steps: Vec<Step>,
}

impl Exten {
    fn origins(&self) -> Vec<Origin> {
        self.steps
            .iter()
            .map(|s| Origin {
                file: s.file,
                first_line: s.line,
                last_line: s.line,
            })
            .collect()
    }

    fn origin(&self) -> Origin {
        self.origins()[0]
    }

    /// The steps that do something (`NoOp` is a comment).
    fn working(&self) -> Vec<&Step> {
        self.steps
            .iter()
            .filter(|s| !s.app.eq_ignore_ascii_case("noop"))
            .collect()
    }
}

/// A context read into extensions and includes.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    pub object: &'a Object,
    pub extens: Vec<Exten>,
    pub includes: Vec<(String, Origin)>,
    /// Lines that are neither (`switch =>`, `ignorepat =>`): the context cannot move.
    pub other: Vec<String>,
}

fn read_context(o: &Object) -> Context<'_> {
    let mut ctx = Context {
        object: o,
        extens: Vec::new(),
        includes: Vec::new(),
        other: Vec::new(),
    };
    let mut current: Option<usize> = None;
    for s in &o.settings {
        let key = s.key.to_ascii_lowercase();
        if key == "include" {
            ctx.includes.push((
                s.value.trim().to_owned(),
                Origin {
                    file: s.file,
                    first_line: s.line,
                    last_line: s.line,
                },
            ));
            continue;
        }
        let Some(step) = dialplan_step(&s.key, &s.value) else {
            ctx.other.push(format!("{} => {}", s.key, s.value));
            continue;
        };
        let index = match step.exten {
            Some(name) => match ctx.extens.iter().position(|e| e.name == name) {
                Some(i) => i,
                None => {
                    ctx.extens.push(Exten {
                        name,
                        steps: Vec::new(),
                    });
                    ctx.extens.len() - 1
                }
            },
            None => match current {
                Some(i) => i,
                None => {
                    ctx.other
                        .push(format!("same => {} before any exten", s.value));
                    continue;
                }
            },
        };
        current = Some(index);
        ctx.extens[index].steps.push(Step {
            priority: step.priority,
            label: step.label,
            app: step.app,
            data: step.data,
            file: s.file,
            line: s.line,
        });
    }
    ctx
}

/// What the rest of the import knows, for the dialplan to refer to.
pub struct Known<'a> {
    pub server: &'a str,
    /// `<suffix>`, e.g. `odoo`: generated contexts are `<suffix>-...`.
    pub prefix: &'a str,
    pub phone_numbers: &'a [String],
    /// Extension number → the context its endpoint used.
    pub phone_contexts: &'a HashMap<String, String>,
    /// Trunk name → the context its endpoint used.
    pub trunk_contexts: &'a BTreeMap<String, String>,
    pub queues: &'a [String],
    /// Numbers that have a mailbox.
    pub mailboxes: &'a HashSet<String>,
    /// Contexts that must stay (endpoints left in the base files use them).
    pub contexts_left: &'a HashSet<String>,
    /// voicemail.conf contexts of the imported mailboxes.
    pub voicemail_contexts: HashSet<String>,
}

/// What the dialplan import found.
#[derive(Debug, Clone, Default)]
pub struct DialplanImport {
    /// Extension number → ring timeout from its `Dial`.
    pub ring_timeouts: HashMap<String, u32>,
    /// Extensions whose dialplan never reaches their mailbox.
    pub no_voicemail: HashSet<String>,
    /// Queue name → number.
    pub queue_numbers: HashMap<String, String>,
    pub outbound: Vec<OutboundRoute>,
    pub inbound: Vec<InboundRoute>,
    pub dialplans: Vec<Dialplan>,
}

const SETTINGS_CONTEXTS: [&str; 2] = ["general", "globals"];

pub fn import(
    set: &ConfSet,
    ext: &Assembled,
    known: &Known,
    report: &mut Report,
) -> DialplanImport {
    let mut out = DialplanImport::default();
    let contexts: Vec<Context> = ext.objects.iter().map(read_context).collect();
    let by_name: HashMap<&str, &Context> = contexts
        .iter()
        .map(|c| (c.object.name.as_str(), c))
        .collect();
    // Phone contexts and what they include, transitively.
    let mut phone: Vec<String> = known
        .phone_contexts
        .values()
        .cloned()
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    phone.sort();
    let mut i = 0;
    while i < phone.len() {
        if let Some(c) = by_name.get(phone[i].as_str()) {
            for (inc, _) in &c.includes {
                if !phone.contains(inc) && by_name.contains_key(inc.as_str()) {
                    phone.push(inc.clone());
                }
            }
        }
        i += 1;
    }
    let trunk_contexts: HashSet<&str> = known.trunk_contexts.values().map(String::as_str).collect();
    // Contexts that stay: settings, those of endpoints left behind, bad names, and
    // (until nothing changes) those that what stays refers to.
    let mut left: HashSet<String> = known.contexts_left.iter().cloned().collect();
    for c in &contexts {
        let name = &c.object.name;
        let raw_candidate = !phone.contains(name) && !trunk_contexts.contains(name.as_str());
        if SETTINGS_CONTEXTS.contains(&name.to_ascii_lowercase().as_str())
            || (raw_candidate
                && (raw_name(name).is_err()
                    || !c.other.is_empty()
                    || raw_lines(c, &Renames::default()).is_err()))
        {
            left.insert(name.clone());
        }
    }
    loop {
        let before = left.len();
        let named: Vec<String> = contexts
            .iter()
            .filter(|c| left.contains(&c.object.name))
            .flat_map(|c| referenced(c, &by_name))
            .collect();
        left.extend(named);
        // A custom dialplan includes custom dialplans only.
        for c in &contexts {
            let name = &c.object.name;
            let raw = !left.contains(name)
                && !phone.contains(name)
                && !trunk_contexts.contains(name.as_str());
            let stray = c.includes.iter().any(|(i, _)| {
                left.contains(i)
                    || phone.contains(i)
                    || trunk_contexts.contains(i.as_str())
                    || !by_name.contains_key(i.as_str())
            });
            if raw && stray {
                left.insert(name.clone());
            }
        }
        if left.len() == before {
            break;
        }
    }
    // The new name of every context that moves.
    let mut renamed = Renames {
        contexts: HashMap::new(),
        voicemail_contexts: known.voicemail_contexts.clone(),
        mailbox_context: known.prefix.to_owned(),
    };
    for p in &phone {
        if !left.contains(p) {
            renamed
                .contexts
                .insert(p.clone(), format!("{}-phones", known.prefix));
        }
    }
    for c in &contexts {
        let name = &c.object.name;
        if !left.contains(name) && !phone.contains(name) && !trunk_contexts.contains(name.as_str())
        {
            renamed
                .contexts
                .insert(name.clone(), format!("{}-custom-{name}", known.prefix));
        }
    }
    let mut raw_numbers: HashMap<String, String> = HashMap::new();
    for p in &phone {
        if let Some(c) = by_name.get(p.as_str()) {
            phone_context(
                set,
                c,
                known,
                &renamed,
                &mut out,
                &mut raw_numbers,
                report,
                left.contains(p),
            );
        }
    }
    for t in &trunk_contexts {
        if let Some(c) = by_name.get(t) {
            let trunks: Vec<Name> = known
                .trunk_contexts
                .iter()
                .filter(|(_, ctx)| ctx == t)
                .map(|(n, _)| Name(n.clone()))
                .collect();
            let every = trunks.len() == known.trunk_contexts.len();
            inbound_context(
                set,
                c,
                known,
                &renamed,
                &raw_numbers,
                if every { Vec::new() } else { trunks },
                &mut out,
                report,
            );
        }
    }
    for c in &contexts {
        let name = &c.object.name;
        if phone.contains(name) || trunk_contexts.contains(name.as_str()) {
            continue;
        }
        let section = format!("[{name}]");
        if left.contains(name) {
            let why = if SETTINGS_CONTEXTS.contains(&name.to_ascii_lowercase().as_str()) {
                "dialplan settings: left as they are".to_owned()
            } else if known.contexts_left.contains(name) {
                "used by an endpoint left in the base files".to_owned()
            } else if let Err(e) = raw_name(name) {
                e
            } else if !c.other.is_empty() {
                format!("`{}` has no astbase equivalent", c.other[0])
            } else if let Err(e) = raw_lines(c, &Renames::default()) {
                e
            } else {
                "a context left in the base files refers to it".to_owned()
            };
            report.push(set, c.object.origin(), section, Outcome::Left, why);
            continue;
        }
        let lines = raw_lines(c, &renamed).expect("checked above");
        let includes: Vec<Name> = c.includes.iter().map(|(i, _)| Name(i.clone())).collect();
        let entry = report.push(
            set,
            c.object.origin(),
            section,
            Outcome::Raw,
            format!("dialplan {name}"),
        );
        entry.origins = c.object.origins.clone();
        for (inc, _) in &c.includes {
            if !renamed.contexts.contains_key(inc) {
                entry.notes.push(format!(
                    "includes `{inc}`, which is not a custom dialplan after the import: check it"
                ));
            }
        }
        out.dialplans.push(Dialplan {
            name: Name(name.clone()),
            server: Name(known.server.to_owned()),
            number: None,
            includes,
            lines,
        });
    }
    out
}

/// Contexts named by a context's lines (`Goto`, `Gosub`, `include`, `@context`).
fn referenced(c: &Context, by_name: &HashMap<&str, &Context>) -> Vec<String> {
    let mut out: Vec<String> = c.includes.iter().map(|(i, _)| i.clone()).collect();
    for e in &c.extens {
        for s in &e.steps {
            for name in by_name.keys() {
                if mentions(&s.data, name) {
                    out.push((*name).to_owned());
                }
            }
        }
    }
    out
}

/// Whether `data` names the context `name` where a context goes: first of three
/// comma-separated words, or after `@`.
fn mentions(data: &str, name: &str) -> bool {
    let bytes = data.as_bytes();
    let mut start = 0;
    while let Some(pos) = data[start..].find(name) {
        let at = start + pos;
        let end = at + name.len();
        let before = if at == 0 { None } else { Some(bytes[at - 1]) };
        let after = bytes.get(end).copied();
        let boundary_before = matches!(before, None | Some(b'@' | b'?' | b':' | b'(' | b','));
        let boundary_after = matches!(after, None | Some(b',' | b')' | b'/' | b'&'));
        if boundary_before && boundary_after {
            return true;
        }
        start = at + 1;
    }
    false
}

/// The names a context's lines must use after the import.
#[derive(Debug, Clone, Default)]
struct Renames {
    /// Old context → new context.
    contexts: HashMap<String, String>,
    /// The voicemail.conf contexts of the imported mailboxes...
    voicemail_contexts: HashSet<String>,
    /// ... and the one astbase keeps them in.
    mailbox_context: String,
}

impl Renames {
    /// An application's data with context names, and for the voicemail applications
    /// the mailbox context (`201@default` → `201@odoo`), rewritten.
    fn data(&self, app: &str, data: &str) -> String {
        let data = rewrite(data, &self.contexts);
        if !(app.eq_ignore_ascii_case("voicemail") || app.eq_ignore_ascii_case("voicemailmain")) {
            return data;
        }
        let mut args = split_args(&data);
        if let Some((mailbox, context)) = args[0].split_once('@')
            && self.voicemail_contexts.contains(context.trim())
        {
            args[0] = format!("{mailbox}@{}", self.mailbox_context);
        }
        args.join(",")
    }
}

/// Rewrites context names in `data` that `renamed` maps.
fn rewrite(data: &str, renamed: &HashMap<String, String>) -> String {
    let mut out = data.to_owned();
    // Longest names first, so `ivr` does not rewrite inside `ivr-main`.
    let mut names: Vec<(&String, &String)> = renamed.iter().collect();
    names.sort_by_key(|(n, _)| std::cmp::Reverse(n.len()));
    for (old, new) in names {
        if !mentions(&out, old) {
            continue;
        }
        let mut result = String::new();
        let mut rest = out.as_str();
        while let Some(pos) = rest.find(old.as_str()) {
            let candidate = format!("{}{}", &result, &rest[..pos]);
            let whole = format!("{candidate}{}", &rest[pos..]);
            let at = candidate.len();
            let bytes = whole.as_bytes();
            let before = if at == 0 { None } else { Some(bytes[at - 1]) };
            let after = bytes.get(at + old.len()).copied();
            let ok = matches!(before, None | Some(b'@' | b'?' | b':' | b'(' | b','))
                && matches!(after, None | Some(b',' | b')' | b'/' | b'&'));
            result = candidate;
            result.push_str(if ok { new } else { old });
            rest = &rest[pos + old.len()..];
        }
        result.push_str(rest);
        out = result;
    }
    out
}

fn raw_name(name: &str) -> Result<Name, String> {
    super::pjsip::name(name).and_then(|n| {
        if n.as_str().len() > 28 {
            Err(format!(
                "`{name}` is too long for a custom dialplan name (28 characters at most)"
            ))
        } else {
            Ok(n)
        }
    })
}

/// The context's lines as custom dialplan lines, context names rewritten.
fn raw_lines(c: &Context, renamed: &Renames) -> Result<Vec<DialplanLine>, String> {
    let mut lines = Vec::new();
    for e in &c.extens {
        lines.extend(exten_lines(e, renamed)?);
    }
    if lines.is_empty() {
        return Err("no dialplan lines".into());
    }
    Ok(lines)
}

fn exten_lines(e: &Exten, renamed: &Renames) -> Result<Vec<DialplanLine>, String> {
    let mut lines = Vec::new();
    for (i, s) in e.steps.iter().enumerate() {
        let sequential = if i == 0 {
            s.priority == "1"
        } else {
            s.priority == "n" || s.priority == (i + 1).to_string()
        };
        if !sequential {
            return Err(format!(
                "{}: priority `{}` out of sequence (astbase numbers lines 1, n, n, ...)",
                e.name, s.priority
            ));
        }
        let app_ok = s.app.len() <= 40
            && s.app
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic())
            && s.app.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !app_ok {
            return Err(format!(
                "{}: `{}` is not an application name",
                e.name, s.app
            ));
        }
        let args: Vec<DialplanArg> = if s.data.is_empty() {
            Vec::new()
        } else {
            split_args(&renamed.data(&s.app, &s.data))
                .into_iter()
                .map(|a| DialplanArg::Text(a.trim().to_owned()))
                .collect()
        };
        if args.len() > 32 {
            return Err(format!("{}: more than 32 arguments", e.name));
        }
        lines.push(DialplanLine {
            exten: (i == 0).then(|| e.name.clone()),
            label: s.label.clone(),
            app: s.app.clone(),
            args,
        });
    }
    Ok(lines)
}

/// Splits application data at the commas Asterisk splits at (outside parentheses,
/// brackets and quotes, not escaped), keeping every character.
fn split_args(data: &str) -> Vec<String> {
    let mut args = vec![String::new()];
    let (mut depth, mut quoted, mut escaped) = (0usize, false, false);
    for c in data.chars() {
        if escaped {
            escaped = false;
            args.last_mut().expect("non-empty").push(c);
            continue;
        }
        match c {
            '\\' => escaped = true,
            '"' => quoted = !quoted,
            '(' | '[' => depth += 1,
            ')' | ']' => depth = depth.saturating_sub(1),
            ',' if depth == 0 && !quoted => {
                args.push(String::new());
                continue;
            }
            _ => {}
        }
        args.last_mut().expect("non-empty").push(c);
    }
    args
}

/// Whether an Asterisk pattern (`_1XX`) matches a number.
fn pattern_matches(pattern: &str, number: &str) -> bool {
    let Some(p) = pattern.strip_prefix('_') else {
        return pattern == number;
    };
    let p: Vec<char> = p.chars().collect();
    let n: Vec<char> = number.chars().collect();
    let (mut i, mut j) = (0, 0);
    while i < p.len() {
        match p[i] {
            '.' => return j < n.len(),
            '!' => return true,
            _ if j >= n.len() => return false,
            'X' | 'x' => {
                if !n[j].is_ascii_digit() {
                    return false;
                }
            }
            'Z' | 'z' => {
                if !('1'..='9').contains(&n[j]) {
                    return false;
                }
            }
            'N' | 'n' => {
                if !('2'..='9').contains(&n[j]) {
                    return false;
                }
            }
            '[' => {
                let Some(close) = p[i..].iter().position(|c| *c == ']') else {
                    return false;
                };
                let class: Vec<char> = p[i + 1..i + close].to_vec();
                let mut hit = false;
                let mut k = 0;
                while k < class.len() {
                    if k + 2 < class.len() && class[k + 1] == '-' {
                        hit |= (class[k]..=class[k + 2]).contains(&n[j]);
                        k += 3;
                    } else {
                        hit |= class[k] == n[j];
                        k += 1;
                    }
                }
                if !hit {
                    return false;
                }
                i += close;
            }
            c => {
                if c != n[j] {
                    return false;
                }
            }
        }
        i += 1;
        j += 1;
    }
    j == n.len()
}

/// `Dial(PJSIP/101,20,tT)` → (device, timeout).
fn dial_parts(s: &Step) -> Option<(String, Option<u32>, String)> {
    if !s.app.eq_ignore_ascii_case("dial") {
        return None;
    }
    let args = split_args(&s.data);
    let timeout = match args.get(1).map(|t| t.trim()) {
        None | Some("") => None,
        Some(t) => Some(t.parse().ok()?),
    };
    Some((
        args[0].trim().to_owned(),
        timeout,
        args.get(2).map_or(String::new(), |o| o.trim().to_owned()),
    ))
}

fn is_app(s: &Step, app: &str) -> bool {
    s.app.eq_ignore_ascii_case(app)
}

#[allow(clippy::too_many_arguments)]
fn phone_context(
    set: &ConfSet,
    c: &Context,
    known: &Known,
    renamed: &Renames,
    out: &mut DialplanImport,
    raw_numbers: &mut HashMap<String, String>,
    report: &mut Report,
    stays: bool,
) {
    let ctx = &c.object.name;
    let own: HashSet<&str> = c.extens.iter().map(|e| e.name.as_str()).collect();
    for e in &c.extens {
        let section = format!("{ctx}/{}", e.name);
        let steps = e.working();
        let is_pattern = e.name.starts_with('_');
        // Dialling an extension: Dial of its own device, maybe its mailbox, hang up.
        let numbers: Vec<&String> = known
            .phone_numbers
            .iter()
            .filter(|n| {
                if is_pattern {
                    pattern_matches(&e.name, n) && !own.contains(n.as_str())
                } else {
                    **n == e.name
                }
            })
            .collect();
        let dial = steps.first().and_then(|s| dial_parts(s));
        if let Some((device, timeout, _)) = &dial
            && !numbers.is_empty()
            && (device == "PJSIP/${EXTEN}"
                || (!is_pattern && *device == format!("PJSIP/{}", e.name)))
        {
            let rest = &steps[1..];
            let voicemail = rest.first().filter(|s| is_app(s, "voicemail"));
            let after = &rest[usize::from(voicemail.is_some())..];
            if after.iter().all(|s| is_app(s, "hangup")) && after.len() <= 1 {
                for n in &numbers {
                    if let Some(t) = timeout {
                        out.ring_timeouts.insert((*n).clone(), *t);
                    }
                    if voicemail.is_none() && known.mailboxes.contains(*n) {
                        out.no_voicemail.insert((*n).clone());
                    }
                }
                let list: Vec<&str> = numbers.iter().map(|n| n.as_str()).collect();
                let entry = report.push(
                    set,
                    e.origin(),
                    section,
                    Outcome::Imported,
                    format!("dialling extension {}", list.join(", ")),
                );
                entry.origins = e.origins();
                keep_if(stays, entry);
                continue;
            }
        }
        // A queue's number.
        let queue = steps.iter().find(|s| is_app(s, "queue"));
        if let Some(q) = queue
            && !is_pattern
            && e.name.bytes().all(|b| b.is_ascii_digit())
            && steps
                .iter()
                .all(|s| is_app(s, "answer") || is_app(s, "queue") || is_app(s, "hangup"))
        {
            let name = split_args(&q.data)[0].trim().to_owned();
            if known.queues.contains(&name) {
                out.queue_numbers.insert(name.clone(), e.name.clone());
                let entry = report.push(
                    set,
                    e.origin(),
                    section,
                    Outcome::Imported,
                    format!("number of queue {name}"),
                );
                entry.origins = e.origins();
                keep_if(stays, entry);
                continue;
            }
        }
        // An outbound pattern: Dial through imported trunks.
        if is_pattern && let Some((pattern, trunks, timeout)) = outbound(e, &steps, known) {
            let name = format!(
                "out-{}",
                trunks
                    .iter()
                    .map(Name::as_str)
                    .collect::<Vec<_>>()
                    .join("-")
            );
            let name: String = name.chars().take(40).collect();
            match out.outbound.iter_mut().find(|r| r.name.as_str() == name) {
                Some(r) => r.patterns.push(pattern),
                None => out.outbound.push(OutboundRoute {
                    name: Name(name.clone()),
                    server: Name(known.server.to_owned()),
                    patterns: vec![pattern],
                    trunks,
                    allow: None,
                    dial_timeout: timeout,
                }),
            }
            let entry = report.push(
                set,
                e.origin(),
                section,
                Outcome::Imported,
                format!("outbound route {name}"),
            );
            entry.origins = e.origins();
            keep_if(stays, entry);
            continue;
        }
        // Any other number phones dial: a custom dialplan of its own, dialable.
        if !is_pattern && e.name.bytes().all(|b| b.is_ascii_digit()) && e.name.len() <= 15 {
            let name = format!("{ctx}-{}", e.name);
            if let (Ok(name), Ok(lines)) = (raw_name(&name), exten_lines(e, renamed)) {
                raw_numbers.insert(e.name.clone(), name.as_str().to_owned());
                let entry = report.push(
                    set,
                    e.origin(),
                    section,
                    Outcome::Raw,
                    format!("dialplan {name}, number {}", e.name),
                );
                entry.origins = e.origins();
                keep_if(stays, entry);
                out.dialplans.push(Dialplan {
                    name,
                    server: Name(known.server.to_owned()),
                    number: Some(DialNumber(e.name.clone())),
                    includes: Vec::new(),
                    lines,
                });
                continue;
            }
        }
        report.push(set, e.origin(), section, Outcome::Left,
            "no astbase equivalent: phones will not reach it after the migration (they dial in the generated context)");
    }
    for (inc, origin) in &c.includes {
        let entry = report.push(
            set,
            *origin,
            format!("{ctx}/include {inc}"),
            Outcome::Imported,
            "the contexts phones dial in are generated",
        );
        keep_if(stays, entry);
    }
    if !c.other.is_empty() {
        report.push(
            set,
            c.object.origin(),
            format!("[{ctx}]"),
            Outcome::Left,
            format!("`{}` has no astbase equivalent", c.other[0]),
        );
    }
}

/// A context that endpoints left in the base files still use keeps its lines: the
/// entry is imported, but the migration must not remove it.
fn keep_if(stays: bool, entry: &mut super::report::Entry) {
    if stays {
        entry.origins.clear();
        entry
            .notes
            .push("the context stays in the base file too: endpoints left there use it".into());
    }
}

/// `_9X.` → `Dial(PJSIP/${EXTEN:1}@carrier,60)` [then other trunks] [then Hangup or
/// Congestion]: the pattern, its trunks and the timeout.
fn outbound(
    e: &Exten,
    steps: &[&Step],
    known: &Known,
) -> Option<(OutboundPattern, Vec<Name>, Option<u32>)> {
    let mut trunks = Vec::new();
    let mut number: Option<(u32, Option<String>)> = None;
    let mut timeout = None;
    for s in steps {
        if let Some((device, t, _)) = dial_parts(s) {
            let rest = device.strip_prefix("PJSIP/")?;
            let (dialled, trunk) = rest.rsplit_once('@')?;
            if !known.trunk_contexts.contains_key(trunk) {
                return None;
            }
            let at = dialled.find("${EXTEN")?;
            let prefix = &dialled[..at];
            let var = &dialled[at..];
            let strip: u32 = match var {
                "${EXTEN}" => 0,
                _ => var
                    .strip_prefix("${EXTEN:")?
                    .strip_suffix('}')?
                    .parse()
                    .ok()?,
            };
            let this = (strip, (!prefix.is_empty()).then(|| prefix.to_owned()));
            if number.as_ref().is_some_and(|n| *n != this) || timeout.is_some_and(|x| Some(x) != t)
            {
                return None;
            }
            number = Some(this);
            timeout = t;
            trunks.push(Name(trunk.to_owned()));
        } else if !(is_app(s, "hangup") || is_app(s, "congestion")) || trunks.is_empty() {
            return None;
        }
    }
    let (strip, prefix) = number?;
    Some((
        OutboundPattern {
            pattern: DialPattern(e.name.clone()),
            strip,
            prefix,
        },
        trunks,
        timeout,
    ))
}

#[allow(clippy::too_many_arguments)]
fn inbound_context(
    set: &ConfSet,
    c: &Context,
    known: &Known,
    renamed: &Renames,
    raw_numbers: &HashMap<String, String>,
    trunks: Vec<Name>,
    out: &mut DialplanImport,
    report: &mut Report,
) {
    let ctx = &c.object.name;
    let queue_numbers: HashMap<String, String> = out
        .queue_numbers
        .iter()
        .map(|(q, n)| (n.clone(), q.clone()))
        .collect();
    for e in &c.extens {
        let section = format!("{ctx}/{}", e.name);
        let steps = e.working();
        let steps: Vec<&Step> = steps.into_iter().filter(|s| !is_app(s, "answer")).collect();
        let target = match steps.as_slice() {
            [one] | [one, _] if steps.len() == 1 || is_app(steps[1], "hangup") => {
                inbound_target(one, known, renamed, raw_numbers, &queue_numbers)
            }
            _ => None,
        };
        let did = match e.name.as_str() {
            "s" | "_X." | "_." | "_+X." | "_X!" | "_!" => None,
            d if d
                .trim_start_matches('+')
                .bytes()
                .all(|b| b.is_ascii_digit())
                || d.starts_with('_') =>
            {
                Some(DialPattern(d.to_owned()))
            }
            _ => {
                report.push(
                    set,
                    e.origin(),
                    section,
                    Outcome::Left,
                    "not a number astbase routes",
                );
                continue;
            }
        };
        let Some(target) = target else {
            report.push(
                set,
                e.origin(),
                section,
                Outcome::Left,
                "the steps have no astbase equivalent (a route sends a call to one destination)",
            );
            continue;
        };
        let label: String = e.name.chars().filter(char::is_ascii_alphanumeric).collect();
        let label = if label.is_empty() {
            "any".to_owned()
        } else {
            label
        };
        let name: String = format!("{ctx}-{label}").chars().take(40).collect();
        let entry = report.push(
            set,
            e.origin(),
            section,
            Outcome::Imported,
            format!("inbound route {name}"),
        );
        entry.origins = e.origins();
        out.inbound.push(InboundRoute {
            name: Name(name),
            server: Name(known.server.to_owned()),
            did,
            callerid: None,
            trunks: trunks.clone(),
            target,
        });
    }
    for (inc, origin) in &c.includes {
        report.push(
            set,
            *origin,
            format!("{ctx}/include {inc}"),
            Outcome::Left,
            "an include in a trunk's context has no astbase equivalent",
        );
    }
}

fn inbound_target(
    s: &Step,
    known: &Known,
    renamed: &Renames,
    raw_numbers: &HashMap<String, String>,
    queue_numbers: &HashMap<String, String>,
) -> Option<Target> {
    let args: Vec<String> = split_args(&s.data)
        .into_iter()
        .map(|a| a.trim().to_owned())
        .collect();
    let number_target = |n: &str| -> Option<Target> {
        if known.phone_numbers.iter().any(|x| x == n) {
            Some(Target::Extension(DialNumber(n.to_owned())))
        } else if let Some(q) = queue_numbers.get(n) {
            Some(Target::Queue(Name(q.clone())))
        } else {
            raw_numbers
                .get(n)
                .map(|d| Target::Dialplan(Name(d.clone())))
        }
    };
    match s.app.to_ascii_lowercase().as_str() {
        "goto" if args.len() == 3 && args[2] == "1" => {
            if known.phone_contexts.values().any(|p| *p == args[0]) {
                number_target(&args[1])
            } else if renamed
                .contexts
                .get(&args[0])
                .is_some_and(|n| n.contains("-custom-"))
                && args[1] == "s"
            {
                Some(Target::Dialplan(Name(args[0].clone())))
            } else {
                None
            }
        }
        "dial" if args.len() <= 2 => args[0]
            .strip_prefix("PJSIP/")
            .and_then(number_target)
            .filter(|t| matches!(t, Target::Extension(_))),
        "queue" if args.len() == 1 && known.queues.contains(&args[0]) => {
            Some(Target::Queue(Name(args[0].clone())))
        }
        "voicemail" => {
            let (number, _) = args[0].split_once('@').unwrap_or((&args[0], ""));
            known
                .mailboxes
                .contains(number)
                .then(|| Target::Voicemail(DialNumber(number.to_owned())))
        }
        "hangup" => Some(Target::Hangup),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pattern_matches_numbers_as_asterisk_reads_it() {
        assert!(pattern_matches("_1XX", "101"));
        assert!(!pattern_matches("_1XX", "1011"));
        assert!(pattern_matches("_9.", "912345"));
        assert!(!pattern_matches("_9.", "9"));
        assert!(pattern_matches("_[1-3]0X", "305"));
        assert!(!pattern_matches("_[1-3]0X", "405"));
        assert!(pattern_matches("101", "101"));
    }

    #[test]
    fn arguments_split_where_asterisk_splits_and_keep_every_character() {
        assert_eq!(
            split_args("a,${IF($[1=1]?x:y)},\"b,c\",d\\,e"),
            vec!["a", "${IF($[1=1]?x:y)}", "\"b,c\"", "d\\,e"]
        );
    }

    #[test]
    fn context_names_are_rewritten_only_where_a_context_goes() {
        let renamed: HashMap<String, String> =
            [("ivr".to_owned(), "odoo-custom-ivr".to_owned())].into();
        assert_eq!(rewrite("ivr,s,1", &renamed), "odoo-custom-ivr,s,1");
        assert_eq!(
            rewrite("Local/100@ivr", &renamed),
            "Local/100@odoo-custom-ivr"
        );
        assert_eq!(rewrite("ivr-main,s,1", &renamed), "ivr-main,s,1");
        assert_eq!(
            rewrite("$[${X}=1]?ivr,s,1:other,s,1", &renamed),
            "$[${X}=1]?odoo-custom-ivr,s,1:other,s,1"
        );
    }
}

//! extensions.conf into the model: what phones dial (extension numbers, queue numbers,
//! outbound patterns), what trunks deliver (inbound routes), and every other context
//! verbatim as a custom dialplan. A dialplan extension becomes typed only when the
//! model renders the same routing; one that cannot be kept either way stays in the base
//! file, with the reason in the report.

mod inbound;
mod menus;
mod phones;
mod raw;
mod schedules;
mod targets;

use std::collections::{BTreeMap, HashMap, HashSet};

use super::gather::ConfSet;
use super::objects::{Assembled, Object, Origin};
use super::report::{Outcome, Report};
use crate::conf::dialplan_step;
use crate::model::dialplan::Dialplan;
use crate::model::names::Name;
use crate::model::route::{InboundRoute, OutboundRoute};
use inbound::inbound_context;
use phones::phone_context;
use raw::{Renames, mentions, raw_lines, raw_name};
use targets::Targets;

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
    pub menus: Vec<crate::model::Menu>,
    pub timeframes: Vec<crate::model::Timeframe>,
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
    let raw_candidate = |name: &String| {
        !left.contains(name) && !phone.contains(name) && !trunk_contexts.contains(name.as_str())
    };
    // Menus: contexts of a menu's shape whose every destination maps (to the others
    // as menus, until that holds for all of them).
    let mut menus: HashSet<String> = contexts
        .iter()
        .filter(|c| raw_candidate(&c.object.name) && menus::shaped(c))
        .map(|c| c.object.name.clone())
        .collect();
    let mut schedules: HashSet<String> = contexts
        .iter()
        .filter(|c| raw_candidate(&c.object.name) && !menus.contains(&c.object.name))
        .filter(|c| schedules::shaped(c).is_some())
        .map(|c| c.object.name.clone())
        .collect();
    // What the phones' contexts give destinations (raw numbers, queue numbers, ring
    // times) does not depend on what any context is renamed to: read it once, in a
    // scratch report, before deciding which contexts are menus and schedules.
    let mut pre = DialplanImport::default();
    let mut raw_numbers: HashMap<String, String> = HashMap::new();
    let mut scratch = report.clone();
    for c in phone.iter().filter_map(|p| by_name.get(p.as_str())) {
        let renamed = Renames::default();
        phone_context(
            set,
            c,
            known,
            &renamed,
            &mut pre,
            &mut raw_numbers,
            &mut scratch,
            false,
        );
    }
    let queue_numbers: HashMap<String, String> = pre
        .queue_numbers
        .iter()
        .map(|(q, n)| (n.clone(), q.clone()))
        .collect();
    loop {
        let renamed = renames(known, &contexts, &phone, &left, &menus, &raw_candidate);
        let targets = Targets {
            known,
            renamed: &renamed,
            raw_numbers: &raw_numbers,
            queue_numbers: &queue_numbers,
            ring_timeouts: &pre.ring_timeouts,
            menus: &menus,
            schedules: &schedules,
            contexts: &by_name,
        };
        let kept: HashSet<String> = menus
            .iter()
            .filter(|m| {
                by_name
                    .get(m.as_str())
                    .is_some_and(|c| menus::menu(c, &targets).is_some())
            })
            .cloned()
            .collect();
        // A time condition goes away as a context: nothing that stays a context may
        // go to it.
        let typed =
            |n: &str| menus.contains(n) || schedules.contains(n) || trunk_contexts.contains(n);
        let mentioned: HashSet<String> = contexts
            .iter()
            .filter(|c| !typed(c.object.name.as_str()))
            .flat_map(|c| referenced(c, &by_name))
            .collect();
        let kept_schedules: HashSet<String> = schedules
            .iter()
            .filter(|s| !mentioned.contains(*s))
            .filter(|s| {
                by_name
                    .get(s.as_str())
                    .is_some_and(|c| schedules::schedule(c, &targets).is_some())
            })
            .cloned()
            .collect();
        if kept == menus && kept_schedules == schedules {
            break;
        }
        menus = kept;
        schedules = kept_schedules;
    }
    // The new name of every context that moves.
    let renamed = renames(known, &contexts, &phone, &left, &menus, &raw_candidate);
    for p in &phone {
        if let Some(c) = by_name.get(p.as_str()) {
            phone_context(
                set,
                c,
                known,
                &renamed,
                &mut out,
                &mut HashMap::new(),
                report,
                left.contains(p),
            );
        }
    }
    let targets = Targets {
        known,
        renamed: &renamed,
        raw_numbers: &raw_numbers,
        queue_numbers: &queue_numbers,
        ring_timeouts: &pre.ring_timeouts,
        menus: &menus,
        schedules: &schedules,
        contexts: &by_name,
    };
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
                &targets,
                if every { Vec::new() } else { trunks },
                &mut out,
                report,
            );
        }
    }
    for c in contexts.iter().filter(|c| menus.contains(&c.object.name)) {
        let menu = menus::menu(c, &targets).expect("kept above");
        report.push_all(
            set,
            c.object.origins.clone(),
            format!("[{}]", c.object.name),
            Outcome::Imported,
            format!("menu {}", c.object.name),
        );
        out.menus.push(menu);
    }
    for c in contexts
        .iter()
        .filter(|c| schedules.contains(&c.object.name))
    {
        let (_, timeframe) = schedules::schedule(c, &targets).expect("kept above");
        report.push_all(
            set,
            c.object.origins.clone(),
            format!("[{}]", c.object.name),
            Outcome::Imported,
            format!(
                "time frame {} (a schedule where calls went to it)",
                timeframe.name
            ),
        );
        out.timeframes.push(timeframe);
    }
    for c in &contexts {
        let name = &c.object.name;
        let typed = menus.contains(name) || schedules.contains(name);
        if phone.contains(name) || trunk_contexts.contains(name.as_str()) || typed {
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
        let entry = report.push_all(
            set,
            c.object.origins.clone(),
            section,
            Outcome::Raw,
            format!("dialplan {name}"),
        );
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

/// The name each context that moves has after the import: the phones' context is the
/// generated one, menus and custom dialplans get theirs.
fn renames(
    known: &Known,
    contexts: &[Context],
    phone: &[String],
    left: &HashSet<String>,
    menus: &HashSet<String>,
    raw_candidate: &dyn Fn(&String) -> bool,
) -> Renames {
    let mut renamed = Renames {
        contexts: HashMap::new(),
        voicemail_contexts: known.voicemail_contexts.clone(),
        mailbox_context: known.prefix.to_owned(),
    };
    for p in phone.iter().filter(|p| !left.contains(*p)) {
        renamed
            .contexts
            .insert(p.clone(), format!("{}-phones", known.prefix));
    }
    for c in contexts.iter().filter(|c| raw_candidate(&c.object.name)) {
        let name = &c.object.name;
        let kind = if menus.contains(name) {
            "menu"
        } else {
            "custom"
        };
        renamed
            .contexts
            .insert(name.clone(), format!("{}-{kind}-{name}", known.prefix));
    }
    renamed
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

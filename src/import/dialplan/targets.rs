//! One dialplan step that sends a call somewhere, as a destination of the model: what
//! an inbound route or a menu key holds. Only where the model renders the same thing.

use std::collections::{HashMap, HashSet};

use super::Known;
use super::Step;
use super::raw::{Renames, split_args};
use crate::model::names::{DialNumber, Name};
use crate::model::target::Target;

/// What destinations can name, once the phone contexts are read.
#[derive(Clone, Copy)]
pub(super) struct Targets<'a> {
    pub known: &'a Known<'a>,
    pub renamed: &'a Renames,
    /// Number → the custom dialplan that holds it.
    pub raw_numbers: &'a HashMap<String, String>,
    /// Number → queue.
    pub queue_numbers: &'a HashMap<String, String>,
    /// Extension → the ring time its dialling gives it.
    pub ring_timeouts: &'a HashMap<String, u32>,
    /// Contexts that become menus.
    pub menus: &'a HashSet<String>,
    /// Contexts that become schedules (time conditions), and every context by name.
    pub schedules: &'a HashSet<String>,
    pub contexts: &'a HashMap<&'a str, &'a super::Context<'a>>,
}

impl Targets<'_> {
    /// The destination of `s`, when it is exactly one.
    pub(super) fn of(&self, s: &Step) -> Option<Target> {
        let args: Vec<String> = split_args(&s.data)
            .into_iter()
            .map(|a| a.trim().to_owned())
            .collect();
        match s.app.to_ascii_lowercase().as_str() {
            "goto" if args.len() == 3 && args[2] == "1" => self.goto(&args[0], &args[1]),
            "dial" if args.len() <= 2 => {
                let number = args[0].strip_prefix("PJSIP/")?;
                let timeout = match args.get(1) {
                    Some(t) => Some(t.parse::<u32>().ok()?),
                    None => None,
                };
                // Only a phone that rings as its own dialling rings it, with no mailbox
                // to go on to: the model's extension destination does exactly that.
                let exact = self.known.phone_numbers.iter().any(|n| n == number)
                    && !self.known.mailboxes.contains(number)
                    && timeout == self.ring_timeouts.get(number).copied();
                exact.then(|| Target::Extension(DialNumber(number.to_owned())))
            }
            "queue" if args.len() == 1 && self.known.queues.contains(&args[0]) => {
                Some(Target::Queue(Name(args[0].clone())))
            }
            "voicemail" => {
                let (number, _) = args[0].split_once('@').unwrap_or((&args[0], ""));
                let flags = args.get(1).map_or("", String::as_str);
                (self.known.mailboxes.contains(number) && matches!(flags, "" | "u"))
                    .then(|| Target::Voicemail(DialNumber(number.to_owned())))
            }
            "hangup" if args.iter().all(String::is_empty) => Some(Target::Hangup),
            _ => None,
        }
    }

    /// `Goto(context,exten,1)`.
    fn goto(&self, context: &str, exten: &str) -> Option<Target> {
        if self.known.phone_contexts.values().any(|p| p == context) {
            return self.number(exten);
        }
        if exten != "s" {
            return None;
        }
        if self.menus.contains(context) {
            return Some(Target::Menu(Name(context.to_owned())));
        }
        if self.schedules.contains(context) {
            // A schedule's branches are not schedules themselves (the model nests them,
            // but a loop of time conditions would never end here).
            let inner = Targets {
                schedules: &HashSet::new(),
                ..*self
            };
            let c = self.contexts.get(context)?;
            return super::schedules::schedule(c, &inner).map(|(target, _)| target);
        }
        self.renamed
            .contexts
            .get(context)
            .filter(|n| n.contains("-custom-"))
            .map(|_| Target::Dialplan(Name(context.to_owned())))
    }

    /// What a number phones dial is.
    fn number(&self, n: &str) -> Option<Target> {
        if self.known.phone_numbers.iter().any(|x| x == n) {
            Some(Target::Extension(DialNumber(n.to_owned())))
        } else if let Some(q) = self.queue_numbers.get(n) {
            Some(Target::Queue(Name(q.clone())))
        } else {
            self.raw_numbers
                .get(n)
                .map(|d| Target::Dialplan(Name(d.clone())))
        }
    }
}

//! Contexts that are exactly an IVR menu of the model: `s` answers, plays prompts with
//! `Background` and waits with `WaitExten(N)`; each key, `i` and `t` sends the call to
//! one destination (or, absent, hangs up). The model's menu with no retries does the
//! same: an invalid key goes to `invalid`, silence to `timeout`. A menu that loops
//! (`i` plays a prompt and starts over) has no such equivalent and stays verbatim.

use super::Context;
use super::phones::is_app;
use super::raw::split_args;
use super::targets::Targets;
use crate::model::menu::{Menu, MenuKeys};
use crate::model::names::{Name, SoundFile};
use crate::model::target::Target;

/// The model's default wait for a key.
const DEFAULT_DIGIT_TIMEOUT: u32 = 5;

/// Whether the context has a menu's shape (destinations aside).
pub(super) fn shaped(c: &Context) -> bool {
    let keys_ok = c.extens.iter().all(|e| {
        let steps = e.working();
        match e.name.as_str() {
            "s" => prompts_and_wait(&steps).is_some(),
            "i" | "t" | "0" | "1" | "2" | "3" | "4" | "5" | "6" | "7" | "8" | "9" | "*" | "#" => {
                matches!(steps.len(), 1) || (steps.len() == 2 && is_app(steps[1], "hangup"))
            }
            _ => false,
        }
    });
    // An include (dialling extensions from the menu) reaches whatever the included
    // context holds, outbound routes too: not the model's direct dial.
    keys_ok && c.includes.is_empty() && c.other.is_empty() && c.extens.iter().any(|e| e.name == "s")
}

/// `[Answer] Background(p1&p2)... WaitExten(N)` → the prompts and N.
fn prompts_and_wait(steps: &[&super::Step]) -> Option<(Vec<SoundFile>, u32)> {
    let rest = match steps.first() {
        Some(s) if is_app(s, "answer") && s.data.is_empty() => &steps[1..],
        _ => steps,
    };
    let (wait, backgrounds) = rest.split_last()?;
    if !is_app(wait, "waitexten") || backgrounds.is_empty() {
        return None;
    }
    let seconds: u32 = wait
        .data
        .trim()
        .parse()
        .ok()
        .filter(|n| (1..=60).contains(n))?;
    let mut prompts = Vec::new();
    for b in backgrounds {
        let args = split_args(&b.data);
        if !is_app(b, "background") || args.len() != 1 {
            return None;
        }
        for p in args[0].split('&') {
            let ok = !p.is_empty()
                && p.len() <= 200
                && p.chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_./-".contains(c));
            if !ok {
                return None;
            }
            prompts.push(SoundFile(p.to_owned()));
        }
    }
    (prompts.len() <= 20).then_some((prompts, seconds))
}

/// The menu a shaped context is, when every destination maps.
pub(super) fn menu(c: &Context, targets: &Targets) -> Option<Menu> {
    let mut keys = MenuKeys::default();
    let (mut invalid, mut timeout, mut prompts, mut digit_timeout) = (None, None, Vec::new(), 0);
    for e in &c.extens {
        let steps = e.working();
        if e.name == "s" {
            (prompts, digit_timeout) = prompts_and_wait(&steps)?;
            continue;
        }
        let target: Target = targets.of(steps[0])?;
        let slot = match e.name.as_str() {
            "i" => &mut invalid,
            "t" => &mut timeout,
            "0" => &mut keys.k0,
            "1" => &mut keys.k1,
            "2" => &mut keys.k2,
            "3" => &mut keys.k3,
            "4" => &mut keys.k4,
            "5" => &mut keys.k5,
            "6" => &mut keys.k6,
            "7" => &mut keys.k7,
            "8" => &mut keys.k8,
            "9" => &mut keys.k9,
            "*" => &mut keys.star,
            "#" => &mut keys.hash,
            _ => return None,
        };
        *slot = Some(target);
    }
    Some(Menu {
        name: Name(c.object.name.clone()),
        number: None,
        server: Name(targets.known.server.to_owned()),
        prompts,
        keys,
        invalid: invalid.filter(|t| *t != Target::Hangup),
        timeout: timeout.filter(|t| *t != Target::Hangup),
        digit_timeout: (digit_timeout != DEFAULT_DIGIT_TIMEOUT).then_some(digit_timeout),
        // Once: the legacy menu went on at the first invalid key or silence.
        max_retries: Some(0),
        invalid_prompt: None,
        direct_dial: false,
        timeframe: None,
        after_hours: None,
    })
}

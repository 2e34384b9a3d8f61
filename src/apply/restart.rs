//! What a reload cannot do: PJSIP transports that Asterisk only takes at a restart
//! (`--restart` restarts it gracefully and waits), and the systemname of asterisk.conf,
//! which astbase checks but does not set.

use std::time::Duration;

use super::{ApplyError, ApplyOptions, verify};
use crate::plan::{Action, ServerPlan};
use crate::render::ConfKind;
use crate::transport::Host;

/// How long a graceful restart may take: calls up when it was asked for end first.
pub(super) const RESTART_WAIT: Duration = Duration::from_secs(300);

/// Restarts Asterisk once its calls have ended: new calls are refused meanwhile.
pub(super) const RESTART_COMMAND: &str = "core restart gracefully";

/// Whether Asterisk still runs something the files changed that only a restart takes.
pub(super) enum Restart {
    None,
    /// Not restarted (no `--restart`): what waits for one.
    Pending(Vec<String>),
    Done,
}

/// Whether this apply must ask Asterisk about its transports: only a PJSIP file it
/// (re)loads, or a restart left pending, can leave a transport behind, so an unchanged
/// server costs no round trip.
pub(super) fn transports_to_check(plan: &ServerPlan) -> bool {
    let pjsip_loaded = plan.files.iter().any(|f| {
        ConfKind::of_file(&f.name) == Some(ConfKind::Pjsip)
            && (matches!(f.action, Action::Create | Action::Change) || f.unconfirmed)
    });
    pjsip_loaded || !plan.restart.is_empty()
}

/// Whether Asterisk's transports are what the files say (`stale`: what the reload's
/// round trip already read, else they are asked now); if not, restarts it when
/// `--restart` was given and waits until they are.
pub(super) fn restart_step(
    host: &mut Host,
    plan: &ServerPlan,
    options: &ApplyOptions,
    stale: Option<Vec<String>>,
) -> Result<Restart, ApplyError> {
    if !transports_to_check(plan) {
        return Ok(Restart::None);
    }
    let stale = match stale {
        Some(stale) => stale,
        None => verify::transports_not_live(host, plan, options)?,
    };
    if stale.is_empty() {
        return Ok(Restart::None);
    }
    if !options.restart {
        return Ok(Restart::Pending(stale));
    }
    host.commands(&[options.cli_command(RESTART_COMMAND)])?;
    let deadline = std::time::Instant::now() + RESTART_WAIT;
    loop {
        std::thread::sleep(Duration::from_millis(500));
        // While Asterisk restarts its CLI answers nothing useful: keep asking.
        if let Ok(stale) = verify::transports_not_live(host, plan, options)
            && stale.is_empty()
        {
            return Ok(Restart::Done);
        }
        if std::time::Instant::now() > deadline {
            return Err(ApplyError::Verify(format!(
                "Asterisk did not restart within {} s (`{RESTART_COMMAND}` waits for calls to end): {}",
                RESTART_WAIT.as_secs(),
                stale.join("; ")
            )));
        }
    }
}

/// Whether Asterisk runs with the systemname the repo gives the server; if not, what to
/// do about it. asterisk.conf is read only at start and takes no `#include`, so astbase
/// cannot set it the way it sets everything else.
pub(super) fn systemname_warning(
    host: &mut Host,
    plan: &ServerPlan,
    options: &ApplyOptions,
) -> Vec<String> {
    if plan.systemname.is_none() {
        return Vec::new();
    }
    match host.commands(&[options.cli_command(SETTINGS_COMMAND)]) {
        Ok(mut results) => systemname_differs(plan, &results.remove(0).1),
        Err(_) => Vec::new(),
    }
}

/// The command whose output names the running system name.
pub(super) const SETTINGS_COMMAND: &str = "core show settings";

/// The warning when `core show settings` output names another system name than the
/// repo's (nothing when it names none: an Asterisk without one set).
pub(super) fn systemname_differs(plan: &ServerPlan, settings: &str) -> Vec<String> {
    let Some(wanted) = &plan.systemname else {
        return Vec::new();
    };
    // `  System name:                 msk-pbx`
    let Some(running) = settings.lines().find_map(|l| {
        l.trim_start()
            .strip_prefix("System name:")
            .map(|v| v.trim().to_owned())
    }) else {
        return Vec::new();
    };
    if running == *wanted {
        return Vec::new();
    }
    vec![format!(
        "Asterisk runs with systemname `{running}`, the repo says `{wanted}`: set \
         `systemname = {wanted}` in [options] of asterisk.conf and restart Asterisk \
         (until then its call ids are not unique across the fleet)"
    )]
}

//! The health gate: what Asterisk says about phones, trunks and calls before a server's
//! reload, and again once the reload has settled. Phones that do not come back, or a
//! trunk that no longer registers, roll the server back.

use std::collections::BTreeSet;
use std::time::Duration;

use super::{ApplyError, ApplyOptions};
use crate::conf;
use crate::plan::ServerPlan;
use crate::render::ConfKind;
use crate::transport::Host;

/// How the gate judges a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GateSettings {
    /// Wait this long after the reload before reading again.
    pub settle: Duration,
    /// The largest drop (percent) of registered phones accepted.
    pub max_phone_drop_percent: u32,
    /// With more channels up than this, the test call is skipped.
    pub max_channels_for_test_call: usize,
}

/// One reading of a server's health.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Health {
    /// Phones (AORs without a static contact) with a registered contact.
    pub phones: BTreeSet<String>,
    /// Outbound registrations that are `Registered`.
    pub registered: BTreeSet<String>,
    /// Every outbound registration.
    pub registrations: BTreeSet<String>,
    /// Channels up.
    pub channels: usize,
}

const CONTACTS: &str = "pjsip show contacts";
const REGISTRATIONS: &str = "pjsip show registrations";
const CHANNELS: &str = "core show channels count";

/// Which configuration a reading is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The host's files before the apply.
    Before,
    /// The files the apply wrote.
    After,
}

/// The AORs phones register to (those without a `contact=` of their own) in the PJSIP
/// file of one side. Asterisk keeps listing the stored contacts of an AOR it no longer
/// has, so a phone counts only while its AOR is in the configuration.
fn phone_aors(plan: &ServerPlan, side: Side) -> BTreeSet<String> {
    let mut aors = BTreeSet::new();
    for f in plan
        .files
        .iter()
        .filter(|f| ConfKind::of_file(&f.name) == Some(ConfKind::Pjsip))
    {
        let text = match side {
            Side::Before => f.previous.as_deref(),
            // An unchanged file has no new content: it stays as it was.
            Side::After => f.content.as_deref().or(f.previous.as_deref()),
        };
        for s in text
            .map(conf::parse)
            .map(|c| c.sections)
            .unwrap_or_default()
        {
            if s.get("type") == Some("aor") && s.get("contact").is_none() {
                aors.insert(s.name);
            }
        }
    }
    aors
}

/// Reads the server's health in one round trip.
pub fn read(
    host: &mut Host,
    plan: &ServerPlan,
    options: &ApplyOptions,
    side: Side,
) -> Result<Health, ApplyError> {
    let argv: Vec<Vec<String>> = [CONTACTS, REGISTRATIONS, CHANNELS]
        .iter()
        .map(|c| options.cli_command(c))
        .collect();
    let results = host.commands(&argv)?;
    let text = |i: usize| results.get(i).map(|(_, out)| out.as_str()).unwrap_or("");
    let aors = phone_aors(plan, side);
    let registrations = registrations(text(1));
    Ok(Health {
        phones: contacts(text(0))
            .into_iter()
            .filter(|(aor, _)| aors.contains(aor))
            .map(|(aor, _)| aor)
            .collect(),
        registered: registrations
            .iter()
            .filter(|(_, status)| status == "Registered")
            .map(|(name, _)| name.clone())
            .collect(),
        registrations: registrations.into_iter().map(|(name, _)| name).collect(),
        channels: channels(text(2)),
    })
}

/// `(aor, status)` of each registered contact of `pjsip show contacts` (reachable or
/// not: a phone that does not answer qualify pings is still registered):
/// `  Contact:  101/sip:101@127.0.0.1:5062   4a1c5e4d8c Avail   0.523`.
fn contacts(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            (words.next()? == "Contact:").then_some(())?;
            let (aor, _) = words.next()?.split_once('/')?;
            let status = words.nth(1)?;
            // The header row names its columns in `<...>`.
            let gone = status == "Removed" || aor.starts_with('<');
            (!gone).then(|| (aor.to_owned(), status.to_owned()))
        })
        .collect()
}

/// `(name, status)` of each outbound registration of `pjsip show registrations`:
/// ` provider/sip:sip.example.net   provider   Registered   (exp. 3587s)`.
fn registrations(text: &str) -> Vec<(String, String)> {
    const STATUSES: [&str; 5] = [
        "Registered",
        "Unregistered",
        "Rejected",
        "Stopped",
        "Unknown",
    ];
    text.lines()
        .filter_map(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            let (name, _) = words.first()?.split_once("/sip")?;
            if name.starts_with('<') {
                return None;
            }
            let status = words.iter().find(|w| STATUSES.contains(w))?;
            Some((name.to_owned(), (*status).to_owned()))
        })
        .collect()
}

/// `N active channels` of `core show channels count`.
fn channels(text: &str) -> usize {
    text.lines()
        .find_map(|l| {
            l.strip_suffix(" active channels")
                .or_else(|| l.strip_suffix(" active channel"))
        })
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

impl Health {
    /// Why `after` is worse than `self` beyond what the gate accepts, if it is.
    pub fn regressed(&self, after: &Health, settings: &GateSettings) -> Option<String> {
        let (before_n, after_n) = (self.phones.len(), after.phones.len());
        let allowed = before_n * settings.max_phone_drop_percent as usize / 100;
        if after_n + allowed < before_n {
            let gone: Vec<&str> = self
                .phones
                .difference(&after.phones)
                .take(5)
                .map(String::as_str)
                .collect();
            return Some(format!(
                "registered phones {before_n} -> {after_n} (more than {}% dropped; gone: {})",
                settings.max_phone_drop_percent,
                gone.join(", ")
            ));
        }
        let lost: Vec<&str> = self
            .registered
            .difference(&after.registered)
            .map(String::as_str)
            .collect();
        if !lost.is_empty() {
            return Some(format!("trunk registration lost: {}", lost.join(", ")));
        }
        None
    }

    /// The gate's result in one line: `phones 41 -> 41, trunks 2/2 registered, 3 calls up`.
    pub fn summary(&self, after: &Health) -> String {
        format!(
            "phones {} -> {}, trunks {}/{} registered, {} channel(s) up",
            self.phones.len(),
            after.phones.len(),
            after.registered.len(),
            after.registrations.len(),
            after.channels
        )
    }
}

/// The gate after a reload: the settle wait, the second reading compared with the
/// first, and the server's test call. The result line, or why to roll back.
pub fn check(
    host: &mut Host,
    plan: &ServerPlan,
    options: &ApplyOptions,
    settings: &GateSettings,
    before: &Health,
) -> Result<String, String> {
    std::thread::sleep(settings.settle);
    let after = read(host, plan, options, Side::After)
        .map_err(|e| format!("health gate: cannot read Asterisk: {e}"))?;
    if let Some(why) = before.regressed(&after, settings) {
        return Err(format!("health gate: {why}"));
    }
    let mut line = before.summary(&after);
    if let Some(entry) = &plan.test_call {
        if after.channels > settings.max_channels_for_test_call {
            line.push_str(&format!(
                ", test call skipped ({} channels up)",
                after.channels
            ));
        } else {
            let took = test_call(host, options, entry)
                .map_err(|why| format!("health gate: test call to {entry}: {why}"))?;
            line.push_str(&format!(", test call ok in {:.1} s", took.as_secs_f64()));
        }
    }
    Ok(line)
}

/// How long a test call may take to be answered.
const TEST_CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// Places a Local channel call to `entry` (`exten@context`) through the CLI. Its other
/// half, once answered, stores a mark in AstDB: the mark appearing is the answer (the
/// CLI's originate does not wait for one). Returns how long the answer took.
fn test_call(host: &mut Host, options: &ApplyOptions, entry: &str) -> Result<Duration, String> {
    let started = std::time::Instant::now();
    let key = format!(
        "testcall-{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos()
    );
    let originate = format!("channel originate Local/{entry} application Set DB(astbase/{key})=1");
    let out = host
        .command(&options.cli_command(&originate))
        .map_err(|e| e.to_string())?;
    if out.status != 0 {
        return Err(format!(
            "`{originate}` failed: {}",
            out.stdout_text().trim()
        ));
    }
    let get = options.cli_command(&format!("database get astbase {key}"));
    let answered = loop {
        let out = host.command(&get).map_err(|e| e.to_string())?;
        if out.stdout_text().contains("Value: 1") {
            break true;
        }
        if started.elapsed() > TEST_CALL_TIMEOUT {
            break false;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let _ = host.command(&options.cli_command(&format!("database del astbase {key}")));
    if answered {
        Ok(started.elapsed())
    } else {
        Err(format!(
            "not answered within {} s",
            TEST_CALL_TIMEOUT.as_secs()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contacts_registrations_and_channels_are_read_from_asterisks_listings() {
        let contacts_text = "
  Contact:  <Aor/ContactUri..............................> <Hash....> <Status> <RTT(ms)..>
==========================================================================================

  Contact:  101/sip:101@127.0.0.1:5062                     4a1c5e4d8c Avail         0.523
  Contact:  102/sip:102@127.0.0.1:5063                     5b2d6f5e9d Unavail       nan
  Contact:  103/sip:103@127.0.0.1:5064                     6c3e7a6f0e Unknown       nan

Objects found: 3
";
        assert_eq!(
            contacts(contacts_text),
            vec![
                ("101".to_owned(), "Avail".to_owned()),
                ("102".to_owned(), "Unavail".to_owned()),
                ("103".to_owned(), "Unknown".to_owned())
            ]
        );
        let regs = "
 <Registration/ServerURI..............................>  <Auth....................>  <Status.......>
==========================================================================================

 voip-provider/sip:sip.example.net                         voip-provider               Registered        (exp. 3587s)
 carrier/sip:10.0.0.1:5060                                 carrier                     Rejected

Objects found: 2
";
        assert_eq!(
            registrations(regs),
            vec![
                ("voip-provider".to_owned(), "Registered".to_owned()),
                ("carrier".to_owned(), "Rejected".to_owned())
            ]
        );
        assert_eq!(
            channels("2 active channels\n1 active call\n7 calls processed\n"),
            2
        );
    }

    #[test]
    fn a_drop_of_phones_over_the_threshold_or_a_lost_trunk_fails_the_gate() {
        let set = |names: &[&str]| names.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        let settings = GateSettings {
            settle: Duration::ZERO,
            max_phone_drop_percent: 10,
            max_channels_for_test_call: 20,
        };
        let before = Health {
            phones: set(&["101", "102"]),
            registered: set(&["provider"]),
            registrations: set(&["provider"]),
            channels: 0,
        };
        let same = before.clone();
        assert_eq!(before.regressed(&same, &settings), None);
        let fewer = Health {
            phones: set(&["101"]),
            ..before.clone()
        };
        assert_eq!(
            before.regressed(&fewer, &settings).as_deref(),
            Some("registered phones 2 -> 1 (more than 10% dropped; gone: 102)")
        );
        let lost = Health {
            registered: set(&[]),
            ..before.clone()
        };
        assert_eq!(
            before.regressed(&lost, &settings).as_deref(),
            Some("trunk registration lost: provider")
        );
        assert_eq!(
            before.summary(&same),
            "phones 2 -> 2, trunks 1/1 registered, 0 channel(s) up"
        );
    }
}

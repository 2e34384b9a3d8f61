//! The call-flow simulator agrees with a real Asterisk: each probe the simulator makes
//! for a server is placed on Asterisk 22 running that server's rendered files, and the
//! applications the call stops at (menu prompt, queue, dial, mailbox, busy, hangup) are
//! compared with the ones `trace` predicts.

use std::collections::BTreeMap;

use astbase::callflow::{Caller, PhoneStatus, Probe, Simulator, Stop, When};

use crate::asterisk::boot;
use crate::asterisk::calls::{Call, Trace, place};
use crate::needs::{self, require};

/// The stops of a real call, read from its dialplan steps.
fn real_stops(trace: &Trace, prefix: &str) -> Vec<Stop> {
    let mut stops: Vec<Stop> = Vec::new();
    let menu = format!("{prefix}-menu-");
    let custom = format!("{prefix}-custom-");
    // A menu counts once per entry (`s,1`), not once per repeat of its prompt.
    let mut entered_menu = false;
    let ring_group = format!("{prefix}-ringgroup-");
    let follow_me = format!("{prefix}-followme-");
    // Every device a ring group's or follow-me's Dial() rings, by number (a Local member
    // is `Local/NUMBER@<prefix>-ringmembers-<group>`).
    let members = |data: &str| -> Vec<String> {
        let devices = data.split(',').next().unwrap_or("");
        devices
            .split('&')
            .map(|d| {
                let d = d
                    .strip_prefix("PJSIP/")
                    .or_else(|| d.strip_prefix("Local/"));
                d.unwrap_or("").split('@').next().unwrap_or("").to_owned()
            })
            .collect()
    };
    for s in &trace.0 {
        if s.app.eq_ignore_ascii_case("Dial") {
            if let Some(name) = s.context.strip_prefix(&ring_group) {
                stops.push(Stop::RingGroup {
                    name: name.to_owned(),
                    members: members(&s.data),
                });
                continue;
            }
            if let Some(extension) = s.context.strip_prefix(&follow_me) {
                stops.push(Stop::FollowMe {
                    extension: extension.to_owned(),
                    members: members(&s.data),
                });
                continue;
            }
        }
        if s.context.starts_with(&menu) && s.exten == "s" && s.app.eq_ignore_ascii_case("NoOp") {
            entered_menu = true;
        }
        if let Some(name) = s.context.strip_prefix(&custom) {
            stops.push(Stop::Dialplan {
                name: name.to_owned(),
            });
            // A custom dialplan is not simulated past its entry.
            break;
        }
        let first_arg = s.data.split(',').next().unwrap_or("");
        let stop = match s.app.to_ascii_lowercase().as_str() {
            "background" if entered_menu => {
                entered_menu = false;
                s.context
                    .strip_prefix(&menu)
                    .map(|m| Stop::Menu { name: m.to_owned() })
            }
            "queue" => Some(Stop::Queue {
                name: first_arg.to_owned(),
            }),
            "voicemail" => Some(Stop::Voicemail {
                mailbox: first_arg.split('@').next().unwrap_or("").to_owned(),
            }),
            "dial" => first_arg
                .strip_prefix("PJSIP/")
                .map(|d| match d.split_once('@') {
                    Some((number, trunk)) => Stop::Dial {
                        number: number.to_owned(),
                        trunk: trunk.to_owned(),
                    },
                    None => Stop::Ring {
                        extension: d.to_owned(),
                    },
                }),
            // ConfBridge(<prefix>-<room>,...): the room by its name in the repo.
            "confbridge" => first_arg
                .strip_prefix(prefix)
                .and_then(|r| r.strip_prefix('-'))
                .map(|room| Stop::Conference {
                    name: room.to_owned(),
                }),
            "busy" => Some(Stop::Busy),
            "hangup" => Some(Stop::Hangup),
            _ => None,
        };
        let Some(stop) = stop else { continue };
        // The next trunk of a failover is the same stop.
        let same = matches!(
            (stops.last(), &stop),
            (Some(Stop::Dial { number: a, .. }), Stop::Dial { number: b, .. }) if a == b
        );
        if !same {
            stops.push(stop);
        }
    }
    stops
}

/// The generated context a probe's call starts in.
fn context(probe: &Probe, prefix: &str, endpoints: &BTreeMap<String, String>) -> String {
    match &probe.from {
        Caller::Outside { trunk: Some(t), .. } => format!("{prefix}-inbound-{t}"),
        Caller::Outside { trunk: None, .. } => format!("{prefix}-inbound"),
        Caller::Extension(e) => endpoints[e].clone(),
    }
}

/// A copy of the company example whose business hours are rewritten (`periods` and
/// `holidays` of the one time frame), so open and closed are both tested whatever the
/// time the suite runs.
fn company_with_hours(periods: &str, holidays: &str) -> tempfile::TempDir {
    let dir = crate::asterisk::company_copy();
    // Its call-path tests are about the hours as written.
    std::fs::remove_dir_all(dir.path().join("tests")).unwrap();
    std::fs::write(
        dir.path().join("timeframes.yaml"),
        format!(
            "timeframes:\n  - name: business-hours\n    timezone: Europe/Moscow\n    \
             periods: {periods}\n    holidays: {holidays}\n"
        ),
    )
    .unwrap();
    dir
}

/// Places every probe of `server` (at the current time; each key of a menu it reaches
/// pressed as DTMF) and returns (agreed, disagreements).
fn compare(repo: &str, server: &str, label: &str) -> (usize, Vec<String>) {
    let (report, ast) = boot(repo, server);
    let fleet = &report.fleet;
    let prefix = fleet.project.suffix();
    let sim = Simulator::new(fleet, server).unwrap();
    // Nothing is registered on this Asterisk: every phone is unavailable.
    let status: BTreeMap<String, PhoneStatus> = fleet
        .extensions
        .iter()
        .filter(|e| e.server.as_str() == server)
        .map(|e| (e.number.to_string(), PhoneStatus::Unavailable))
        // Nor can an outside number be reached from its network namespace.
        .chain(
            fleet
                .ring_groups
                .iter()
                .filter(|g| g.server.as_str() == server)
                .flat_map(|g| g.members.iter())
                .chain(
                    fleet
                        .extensions
                        .iter()
                        .filter(|e| e.server.as_str() == server)
                        .filter_map(|e| e.follow_me.as_deref())
                        .flat_map(|f| f.numbers.iter()),
                )
                .filter(|m| m.extension().is_none())
                .map(|m| (m.number().to_owned(), PhoneStatus::Unavailable)),
        )
        .collect();
    // Asterisk runs now: the probes at the current time; each distinct call once.
    let mut probes: Vec<Probe> = Vec::new();
    for p in sim.probes() {
        let p = Probe {
            at: When::Now,
            status: status.clone(),
            ..p
        };
        if !probes.contains(&p) {
            probes.push(p);
        }
    }
    assert!(probes.len() >= 10, "{server}: only {} probes", probes.len());
    let output = crate::asterisk::render(&report)
        .into_iter()
        .find(|o| o.server == server)
        .unwrap();
    let pjsip = output
        .files
        .iter()
        .find(|f| f.name.starts_with("pjsip"))
        .unwrap();
    let endpoints: BTreeMap<String, String> = astbase::conf::parse(&pjsip.content)
        .sections
        .iter()
        .filter(|s| s.get("type") == Some("endpoint"))
        .filter_map(|s| Some((s.name.clone(), s.get("context")?.to_owned())))
        .collect();
    let before: Vec<_> = probes.iter().map(|p| sim.trace(p).unwrap()).collect();
    let calls: Vec<Call> = probes
        .iter()
        .map(|p| {
            let caller = match &p.from {
                Caller::Outside { callerid, .. } => callerid.clone().unwrap_or_default(),
                Caller::Extension(e) => e.clone(),
            };
            Call::new(&context(p, prefix, &endpoints), &p.number, &caller)
                .pressing(&p.keys.concat())
        })
        .collect();
    let real = place(&ast, &calls, 2);
    ast.stop();
    let (mut agreed, mut disagreements) = (0, Vec::new());
    for ((probe, sim_trace), (call, real_trace)) in
        probes.iter().zip(&before).zip(calls.iter().zip(&real))
    {
        // A time frame that opened or closed while the calls ran says nothing.
        if sim.trace(probe).unwrap() != *sim_trace {
            continue;
        }
        let got = real_stops(real_trace, prefix);
        let expected = &sim_trace.stops;
        if std::env::var_os("ASTBASE_SHOW_PROBES").is_some() {
            eprintln!(
                "{label}: {} -> {}@{} keys {:?}: {got:?} / {expected:?}",
                call.caller, call.number, call.context, call.keys
            );
        }
        // The real call was cut after a few seconds: what it reached is the start of
        // what the simulator predicts, and it reached something if anything takes the
        // number.
        let agrees = got.len() <= expected.len()
            && got[..] == expected[..got.len()]
            && got.is_empty() == expected.is_empty();
        if agrees {
            agreed += 1;
        } else {
            disagreements.push(format!(
                "{label} {server}: call {} -> {}@{} keys {:?}\n  simulated: {expected:?} ({})\n  asterisk:  {got:?}\n{real_trace}",
                call.caller, call.number, call.context, call.keys, sim_trace.outcome
            ));
        }
    }
    (agreed, disagreements)
}

#[test]
fn the_simulator_agrees_with_asterisk_on_every_probe_of_the_company_example() {
    require!(needs::ROOT_FOR_NETNS, needs::IP, needs::ASTERISK);
    let today = jiff::ZonedDateTime::now()
        .with_time_zone(jiff::tz::TimeZone::get("Europe/Moscow").unwrap())
        .date();
    let open = company_with_hours("[{days: mon-sun, from: \"00:00\", to: \"24:00\"}]", "[]");
    let holiday = company_with_hours(
        "[{days: mon-sun, from: \"00:00\", to: \"24:00\"}]",
        &format!("[{{name: today, date: \"{today}\"}}]"),
    );
    let (open_dir, holiday_dir) = (
        open.path().to_str().unwrap().to_owned(),
        holiday.path().to_str().unwrap().to_owned(),
    );
    let runs = [
        ("examples/company", "msk", "as written"),
        ("examples/company", "spb", "as written"),
        (open_dir.as_str(), "msk", "open all day"),
        (holiday_dir.as_str(), "msk", "a holiday today"),
    ];
    let (mut agreed, mut disagreements) = (0, Vec::new());
    for (repo, server, label) in runs {
        let (a, d) = compare(repo, server, label);
        agreed += a;
        disagreements.extend(d);
    }
    eprintln!(
        "trace agreement with Asterisk: {agreed} of {} probes",
        agreed + disagreements.len()
    );
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
    assert!(agreed >= 150, "only {agreed} probes compared");
}

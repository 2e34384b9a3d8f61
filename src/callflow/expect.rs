//! Call-path tests against a trace: does the call end where the case says, passing
//! what it names on the way.

use super::{Caller, Outcome, Probe, Trace, When, WhenError};
use crate::model::calltest::{CallTest, EndWord, Reach};

impl Probe {
    /// The call a test case describes.
    pub fn of_test(test: &CallTest) -> Result<Probe, WhenError> {
        let at = match &test.at {
            Some(t) => When::parse(t)?,
            None => When::Now,
        };
        Ok(Probe {
            server: test.server.to_string(),
            number: test.number.clone(),
            from: match &test.from_extension {
                Some(e) => Caller::Extension(e.to_string()),
                None => Caller::Outside {
                    callerid: test.from.clone(),
                    trunk: test.trunk.as_ref().map(ToString::to_string),
                },
            },
            at,
            keys: test.keys.iter().map(|k| k.0.clone()).collect(),
            status: test
                .status
                .iter()
                .map(|(n, s)| (n.to_string(), *s))
                .collect(),
            overrides: test
                .overrides
                .iter()
                .map(|(n, o)| (n.to_string(), *o))
                .collect(),
        })
    }
}

/// A place in words, as a trace's outcome reads.
pub fn describe(reach: &Reach) -> String {
    match reach {
        Reach::End(EndWord::Hangup) => "hangup".into(),
        Reach::End(EndWord::Busy) => "busy tone".into(),
        Reach::End(EndWord::NoRoute) => "no route".into(),
        Reach::Extension { extension } => format!("extension {extension}"),
        Reach::Queue { queue } => format!("queue {queue}"),
        Reach::Voicemail { voicemail } => format!("voicemail {voicemail}"),
        Reach::Menu { menu } => format!("menu {menu}"),
        Reach::RingGroup { ring_group } => format!("ring group {ring_group}"),
        Reach::FollowMe { follow_me } => format!("follow-me of {follow_me}"),
        Reach::Conference { conference } => format!("conference {conference}"),
        Reach::Parking { parking } => format!("parking lot {parking}"),
        Reach::Dialplan { dialplan } => format!("dialplan {dialplan}"),
        Reach::External {
            external,
            trunk,
            route,
        } => {
            let mut s = format!("external {external}");
            if let Some(r) = route {
                s.push_str(&format!(" via route {r}"));
            }
            if let Some(t) = trunk {
                s.push_str(&format!(" on trunk {t}"));
            }
            s
        }
        Reach::InboundRoute { inbound_route } => format!("inbound route {inbound_route}"),
        Reach::OutboundRoute { outbound_route } => format!("outbound route {outbound_route}"),
    }
}

/// Whether a call can end at this place (a menu or a route is only on the way).
pub fn is_an_end(reach: &Reach) -> bool {
    !matches!(
        reach,
        Reach::Menu { .. } | Reach::InboundRoute { .. } | Reach::OutboundRoute { .. }
    )
}

/// Whether the call ended at `reach`.
pub fn ends_at(outcome: &Outcome, reach: &Reach) -> bool {
    match (reach, outcome) {
        (Reach::End(EndWord::Hangup), Outcome::Hangup) => true,
        (Reach::End(EndWord::Busy), Outcome::Busy) => true,
        (Reach::End(EndWord::NoRoute), Outcome::NoRoute { .. }) => true,
        (Reach::Extension { extension }, Outcome::Extension { number }) => {
            extension.as_str() == number
        }
        (Reach::Queue { queue }, Outcome::Queue { name, .. }) => queue.as_str() == name,
        (Reach::RingGroup { ring_group }, Outcome::RingGroup { name, .. }) => {
            ring_group.as_str() == name
        }
        (Reach::FollowMe { follow_me }, Outcome::FollowMe { extension, .. }) => {
            follow_me.as_str() == extension
        }
        (Reach::Conference { conference }, Outcome::Conference { name }) => {
            conference.as_str() == name
        }
        (Reach::Parking { parking }, Outcome::Parked { lot }) => parking.as_str() == lot,
        (Reach::Voicemail { voicemail }, Outcome::Voicemail { mailbox }) => {
            voicemail.as_str() == mailbox
        }
        (Reach::Dialplan { dialplan }, Outcome::Dialplan { name }) => dialplan.as_str() == name,
        (
            Reach::External {
                external,
                trunk,
                route: want_route,
            },
            Outcome::External {
                number,
                route,
                trunks,
                ..
            },
        ) => {
            external == number
                && trunk
                    .as_ref()
                    .is_none_or(|t| trunks.first().is_some_and(|f| f == t.as_str()))
                && want_route.as_ref().is_none_or(|r| r.as_str() == route)
        }
        _ => false,
    }
}

/// Why a trace does not meet a case, if it does not.
pub fn mismatch(trace: &Trace, test: &CallTest) -> Option<String> {
    if !ends_at(&trace.outcome, &test.expect.reaches) {
        return Some(format!(
            "the call ends at {}, not {}",
            trace.outcome,
            describe(&test.expect.reaches)
        ));
    }
    let mut rest = trace.passed.iter();
    for want in &test.expect.via {
        let found = rest.any(|p| via_matches(p, want));
        if !found {
            return Some(format!(
                "the call does not pass {} (in this order)",
                describe(want)
            ));
        }
    }
    None
}

fn via_matches(passed: &Reach, want: &Reach) -> bool {
    match want {
        // `via: [{external: ...}]` is about the end; anything else must be equal.
        Reach::External { .. } | Reach::End(_) | Reach::Dialplan { .. } => false,
        _ => passed == want,
    }
}

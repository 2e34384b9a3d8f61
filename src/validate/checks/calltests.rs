//! Call-path tests (`tests:`): each case's call is simulated and must end where it says.

use crate::callflow::expect::{describe, is_an_end, mismatch};
use crate::callflow::{Probe, Simulator, TraceError};
use crate::diagnostics::{Severity, quote};
use crate::source::Segment;

use super::Checker;

impl<'a> Checker<'a> {
    pub(super) fn call_tests(&mut self) {
        // A case says where calls of this fleet go: with errors elsewhere, the fleet is
        // not what would run, and its answer would only add noise.
        if self.fleet.tests.is_empty()
            || self.incomplete
            || self.out.iter().any(|d| d.severity == Severity::Error)
        {
            return;
        }
        // Every server's dialplan indexed once (the fleet grouped by server in one pass).
        let simulators = Simulator::all(self.fleet);
        for t in &self.fleet.tests {
            let o = &t.origin;
            let case = t
                .name
                .as_ref()
                .map_or_else(|| format!("call to {}", t.number), |n| quote(n));
            if !is_an_end(&t.expect.reaches) {
                self.error(
                    "invalid-call-test",
                    self.loc.value(&o.field("expect").field("reaches")),
                    format!("a call never ends at {}", describe(&t.expect.reaches)),
                    "name it under `via`, and say where the call ends under `reaches`",
                );
                continue;
            }
            let mut overrides_ok = true;
            for tf in t.overrides.keys() {
                let at = o
                    .field("overrides")
                    .at(&[Segment::Key(tf.to_string().into())]);
                match self.fleet.timeframes.iter().find(|x| x.name == *tf) {
                    None => {
                        self.timeframe_ref(&at, tf);
                        overrides_ok = false;
                    }
                    Some(x) if x.override_code.is_none() => {
                        self.error(
                            "invalid-call-test",
                            self.loc.key(&at),
                            format!("time frame `{tf}` has no override code, so no phone can override it"),
                            format!("give time frame `{tf}` an `override_code:` (e.g. \"*2701\"), or remove this override"),
                        );
                        overrides_ok = false;
                    }
                    Some(_) => {}
                }
            }
            if !overrides_ok {
                continue;
            }
            let probe = match Probe::of_test(t) {
                Ok(p) => p,
                Err(e) => {
                    self.error(
                        "invalid-call-test",
                        self.loc.value(&o.field("at")),
                        e.to_string(),
                        "",
                    );
                    continue;
                }
            };
            let trace = match simulators
                .get(t.server.as_str())
                .ok_or_else(|| TraceError::UnknownServer(t.server.to_string()))
                .and_then(|s| s.trace(&probe))
            {
                Ok(trace) => trace,
                Err(e) => {
                    let field = match &e {
                        TraceError::UnknownServer(_) => "server",
                        TraceError::UnknownCaller { .. } => "from_extension",
                        TraceError::UnknownTrunk { .. } => "trunk",
                        TraceError::Time { .. } => "at",
                    };
                    self.error(
                        "invalid-call-test",
                        self.loc.value(&o.field(field)),
                        e.to_string(),
                        "",
                    );
                    continue;
                }
            };
            let clock = trace
                .timeframe()
                .filter(|tf| !t.overrides.keys().any(|k| k.as_str() == *tf));
            if let (None, Some(tf)) = (&t.at, clock) {
                self.error(
                    "call-test-needs-time",
                    self.loc.key(o),
                    format!("{case}: the call meets time frame `{tf}`, so its end depends on when the test runs"),
                    "give the case a time: `at: \"2026-12-07 10:00\"` (wall clock at the PBX)",
                );
                continue;
            }
            if let Some(why) = mismatch(&trace, t) {
                let steps: Vec<String> = trace
                    .steps
                    .iter()
                    .enumerate()
                    .map(|(i, s)| format!("{}. {}", i + 1, s.text))
                    .collect();
                self.error(
                    "call-test-failed",
                    self.loc.value(&o.field("expect")),
                    format!("{case}: {why}"),
                    format!(
                        "the call as simulated: {} => {} (run `astbase trace` with the same call for the places in the repo)",
                        steps.join("; "),
                        trace.outcome
                    ),
                );
            }
        }
    }
}

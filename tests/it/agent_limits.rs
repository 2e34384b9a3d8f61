//! The agent's memory stays bounded whatever the server does: a `CoreShowChannels`
//! listing that never completes, under a flood of channel events, is given up on.

use crate::agent_process::{Agent, SECRET};
use crate::ami_double::{AmiDouble, Then, channel_flood, synthetic_cdr};

/// The agent's peak RSS (kB) and log after reading `calls` calls of a flood and one
/// CDR from a server that never completes a `CoreShowChannels` listing.
fn flooded_agent(calls: usize) -> (u64, String) {
    let double = AmiDouble::start(SECRET);
    double.endless_listings(true);
    // This test is about memory, not speed: on a loaded machine the writer can fall far
    // enough behind 300,000 events for the reader to pause past Asterisk's default
    // 100 ms writetimeout, which busy servers raise in manager.conf.
    double.write_timeout(std::time::Duration::from_secs(5));
    let mut feed = channel_flood(calls);
    feed.extend(synthetic_cdr(1).into_bytes());
    double.feed(feed, Then::Hold);
    let agent = Agent::start(&double, &["--no-bans"]);
    agent.wait_until("the CDR after the flood", |a| a.cdrs() == 1);
    (agent.peak_rss_kb(), agent.log())
}

#[test]
fn a_listing_that_never_completes_is_given_up_and_memory_stays_bounded() {
    let (baseline, _) = flooded_agent(10);
    let (peak, log) = flooded_agent(150_000);
    assert!(
        log.contains(
            "warning: Asterisk did not finish listing the channels up (10001 channels held"
        ),
        "{log}"
    );
    // 300,000 channel events held as messages were 15 MB over the agent's own size
    // here; the ids the cap holds are under 1 MB. (A debug build's code alone is over
    // 30 MB, hence the comparison with an agent that read a few calls; the release
    // agent peaks at ~16 MB under this flood, benches/agent.rs.)
    assert!(baseline > 0, "the agent's RSS is readable");
    assert!(
        peak.saturating_sub(baseline) < 4 * 1024,
        "the flood grew the agent from {baseline} kB to {peak} kB"
    );
}

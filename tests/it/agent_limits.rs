//! The agent's memory stays bounded whatever the server does: a `CoreShowChannels`
//! listing that never completes, under a flood of channel events, is given up on.

use crate::agent_process::{Agent, SECRET};
use crate::ami_double::{AmiDouble, Then, synthetic_cdr};

/// `n` calls that come and go: a Newchannel and a Hangup each.
fn channel_flood(n: usize) -> Vec<u8> {
    let mut text = String::with_capacity(n * 700);
    for i in 0..n {
        let id = format!("1795686785.{i}");
        text.push_str(&format!(
            "Event: Newchannel\r\nPrivilege: call,all\r\nChannel: PJSIP/101-{i:08x}\r\nChannelState: 0\r\n\
             ChannelStateDesc: Down\r\nCallerIDNum: 101\r\nCallerIDName: Anna\r\nConnectedLineNum: <unknown>\r\n\
             ConnectedLineName: <unknown>\r\nLanguage: en\r\nAccountCode: \r\nContext: odoo-phones\r\nExten: 102\r\n\
             Priority: 1\r\nUniqueid: {id}\r\nLinkedid: {id}\r\n\r\n\
             Event: Hangup\r\nPrivilege: call,all\r\nChannel: PJSIP/101-{i:08x}\r\nChannelState: 6\r\n\
             ChannelStateDesc: Up\r\nCallerIDNum: 101\r\nCallerIDName: Anna\r\nConnectedLineNum: 102\r\n\
             ConnectedLineName: Boris\r\nLanguage: en\r\nAccountCode: \r\nContext: odoo-internal\r\nExten: 102\r\n\
             Priority: 1\r\nUniqueid: {id}\r\nLinkedid: {id}\r\nCause: 16\r\nCause-txt: Normal Clearing\r\n\r\n"
        ));
    }
    text.into_bytes()
}

#[test]
fn a_listing_that_never_completes_is_given_up_and_memory_stays_bounded() {
    let double = AmiDouble::start(SECRET);
    double.endless_listings(true);
    // This test is about memory, not speed: on a loaded machine the writer can fall far
    // enough behind 300,000 events for the reader to pause past Asterisk's default
    // 100 ms writetimeout, which busy servers raise in manager.conf.
    double.write_timeout(std::time::Duration::from_secs(5));
    let mut feed = channel_flood(150_000);
    feed.extend(synthetic_cdr(1).into_bytes());
    double.feed(feed, Then::Hold);
    let agent = Agent::start(&double, &["--no-bans"]);
    agent.wait_until("the CDR after the flood", |a| a.cdrs() == 1);
    let log = agent.log();
    assert!(
        log.contains(
            "warning: Asterisk did not finish listing the channels up (20001 messages held"
        ),
        "{log}"
    );
    // 300,000 channel events held would be hundreds of MB; the cap keeps a few MB.
    let peak = agent.peak_rss_kb();
    assert!(peak > 0 && peak < 80 * 1024, "peak RSS {peak} kB");
}

//! AMI framing (main/manager.c): `Key: Value` lines ending in CRLF (a bare LF is
//! accepted), an empty line ends a message. The server opens with one banner line
//! (`Asterisk Call Manager/X.Y.Z`) that has no empty line after it.
//!
//! The decoder never panics and never trusts the peer: lines and messages have size
//! limits, an oversized message is skipped up to its end and reported, bytes that are
//! not UTF-8 are replaced, and a line without a colon is kept as a key with an empty
//! value (Asterisk 13's `Response: Follows` command output looks like that).

/// Limits on what the peer may send.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Bytes in one message (command output can be long: one `Output:` header per line).
    pub max_message: usize,
    /// Headers in one message.
    pub max_headers: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_message: 4 << 20,
            max_headers: 65_536,
        }
    }
}

/// One AMI message: headers in the order they came.
#[derive(Debug, Clone, Default)]
pub struct Message {
    text: String,
    headers: Vec<Header>,
}

/// Where one header's key and value are in its message's text. Offsets are `u32`: a
/// message is at most [`Limits::max_message`] bytes, and half the size of `usize`
/// ranges matters when thousands of messages are held.
#[derive(Debug, Clone, Copy, Default)]
struct Header {
    key: (u32, u32),
    value: (u32, u32),
}

impl Header {
    fn new(key: std::ops::Range<usize>, value: std::ops::Range<usize>) -> Header {
        // Limits::max_message is far below 4 GiB; clamp rather than wrap regardless.
        let at = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        Header {
            key: (at(key.start), at(key.end)),
            value: (at(value.start), at(value.end)),
        }
    }
}

/// Equal when the headers are (the storage layout does not matter).
impl PartialEq for Message {
    fn eq(&self, other: &Message) -> bool {
        self.headers().eq(other.headers())
    }
}

impl Eq for Message {}

/// What a message is, by its first header (an `OriginateResponse` event carries a
/// `Response:` header of its own, so the first line decides).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind<'a> {
    Response(&'a str),
    Event(&'a str),
    Other,
}

impl Message {
    /// Builds a message (an action) from pairs.
    pub fn new<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Message {
        let mut m = Message::default();
        for (k, v) in pairs {
            m.push(k, v);
        }
        m
    }

    pub fn push(&mut self, key: &str, value: &str) {
        let k = self.text.len()..self.text.len() + key.len();
        self.text.push_str(key);
        let v = self.text.len()..self.text.len() + value.len();
        self.text.push_str(value);
        self.headers.push(Header::new(k, v));
    }

    /// Headers in order.
    pub fn headers(&self) -> impl Iterator<Item = (&str, &str)> {
        self.headers.iter().map(|h| {
            let part = |(start, end): (u32, u32)| {
                self.text
                    .get(start as usize..end as usize)
                    .unwrap_or_default()
            };
            (part(h.key), part(h.value))
        })
    }

    pub fn len(&self) -> usize {
        self.headers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.headers.is_empty()
    }

    /// The first value of `key`, compared case-insensitively (`Cdr` says `UniqueID`,
    /// channel events say `Uniqueid`).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.headers()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    }

    /// Every value of `key` (e.g. `Output` lines of a command).
    pub fn all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers()
            .filter(move |(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    }

    pub fn kind(&self) -> Kind<'_> {
        match self.headers().next() {
            Some((k, v)) if k.eq_ignore_ascii_case("Response") => Kind::Response(v),
            Some((k, v)) if k.eq_ignore_ascii_case("Event") => Kind::Event(v),
            _ => Kind::Other,
        }
    }

    pub fn event(&self) -> Option<&str> {
        match self.kind() {
            Kind::Event(e) => Some(e),
            _ => None,
        }
    }

    pub fn action_id(&self) -> Option<&str> {
        self.get("ActionID")
    }

    /// The wire form: CRLF lines and the empty line. Values are sent as given; callers
    /// building actions from user input must refuse CR/LF in them ([`Message::is_safe`]).
    pub fn to_wire(&self) -> String {
        let mut out = String::with_capacity(self.text.len() + self.headers.len() * 4 + 2);
        for (k, v) in self.headers() {
            out.push_str(k);
            out.push_str(": ");
            out.push_str(v);
            out.push_str("\r\n");
        }
        out.push_str("\r\n");
        out
    }

    /// No header could end the message early or inject another header.
    pub fn is_safe(&self) -> bool {
        !self.text.contains(['\r', '\n', '\0'])
    }
}

/// `key` in ASCII lower case, in `buf` (no allocation: the agent matches every header
/// of every CDR and channel event this way); `None` for keys longer than any it knows.
pub fn lowercase_key<'a>(key: &str, buf: &'a mut [u8; 32]) -> Option<&'a str> {
    let lower = buf.get_mut(..key.len())?;
    lower.copy_from_slice(key.as_bytes());
    lower.make_ascii_lowercase();
    std::str::from_utf8(lower).ok()
}

/// A problem with the bytes received (the connection can go on).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("a message over {limit} bytes was skipped")]
    TooLarge { limit: usize },
    #[error("a message with over {limit} headers was skipped")]
    TooManyHeaders { limit: usize },
}

/// Splits a byte stream into the banner and messages.
#[derive(Debug)]
pub struct Decoder {
    buf: Vec<u8>,
    /// Where the first unconsumed byte is.
    start: usize,
    /// How far the current message has been scanned (lines before it are complete).
    scanned: usize,
    /// Complete lines of the current message so far.
    lines: usize,
    /// Their headers, relative to `start` (reused from message to message).
    headers: Vec<Header>,
    /// Which events are wanted (all when `None`); the others are passed over unbuilt.
    keep: Option<fn(&str) -> bool>,
    /// Passing over an unwanted event until its empty line.
    filtering: bool,
    banner_seen: bool,
    /// Skipping an oversized message until its empty line.
    skipping: bool,
    /// While skipping, the start of the current line was discarded (so its newline
    /// ends that line, not the message).
    in_discarded_line: bool,
    limits: Limits,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new(Limits::default())
    }
}

impl Decoder {
    pub fn new(limits: Limits) -> Decoder {
        Decoder {
            buf: Vec::with_capacity(64 * 1024),
            start: 0,
            scanned: 0,
            lines: 0,
            headers: Vec::with_capacity(64),
            keep: None,
            filtering: false,
            banner_seen: false,
            skipping: false,
            in_discarded_line: false,
            limits,
        }
    }

    /// A decoder for a stream whose banner was already read (or that has none).
    pub fn without_banner(limits: Limits) -> Decoder {
        Decoder {
            banner_seen: true,
            ..Decoder::new(limits)
        }
    }

    /// Appends received bytes.
    pub fn feed(&mut self, bytes: &[u8]) {
        if self.start > 0 && self.start == self.buf.len() {
            self.buf.clear();
            self.scanned -= self.start;
            self.start = 0;
        } else if self.start > 64 * 1024 && self.start * 2 > self.buf.len() {
            self.buf.drain(..self.start);
            self.scanned -= self.start;
            self.start = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// Builds only the events `keep` says yes to (by name), and every other message:
    /// a client that acts on a few events need not pay for the rest of the stream.
    pub fn keep_events(&mut self, keep: fn(&str) -> bool) {
        self.keep = Some(keep);
    }

    /// Bytes received but not yet part of a complete message.
    pub fn pending(&self) -> usize {
        self.buf.len() - self.start
    }

    /// The banner line, once it is complete.
    pub fn banner(&mut self) -> Option<String> {
        if self.banner_seen {
            return None;
        }
        let rest = &self.buf[self.start..];
        let end = memchr::memchr(b'\n', rest)?;
        let line = trim_cr(&rest[..end]);
        let banner = String::from_utf8_lossy(line).into_owned();
        self.start += end + 1;
        self.scanned = self.start;
        self.banner_seen = true;
        Some(banner)
    }

    /// The next complete message, `Ok(None)` if more bytes are needed.
    pub fn next_message(&mut self) -> Result<Option<Message>, FrameError> {
        if !self.banner_seen && self.banner().is_none() {
            return Ok(None);
        }
        loop {
            if self.filtering {
                if !self.pass_over_filtered() {
                    return Ok(None);
                }
                self.filtering = false;
            }
            let Some(newline) = memchr::memchr(b'\n', &self.buf[self.scanned..]) else {
                // A lone CR may be the first half of an empty line's CRLF: wait for what
                // follows before judging or discarding it.
                if &self.buf[self.scanned..] == b"\r" {
                    return Ok(None);
                }
                // An incomplete line: stop a peer that never ends one.
                if self.buf.len() - self.start > self.limits.max_message && !self.skipping {
                    self.skipping = true;
                    self.in_discarded_line = true;
                    self.lines = 0;
                    self.headers.clear();
                    self.start = self.buf.len();
                    self.scanned = self.start;
                    return Err(FrameError::TooLarge {
                        limit: self.limits.max_message,
                    });
                }
                if self.skipping && self.buf.len() > self.start {
                    self.in_discarded_line = true;
                    self.start = self.buf.len();
                    self.scanned = self.start;
                }
                return Ok(None);
            };
            let line_start = self.scanned;
            let line_end = self.scanned + newline;
            self.scanned = line_end + 1;
            let line = trim_cr(&self.buf[line_start..line_end]);
            let continues_discarded = std::mem::take(&mut self.in_discarded_line);
            if !line.is_empty() || continues_discarded {
                if self.skipping {
                    self.start = self.scanned;
                    continue;
                }
                self.lines += 1;
                if self.lines > self.limits.max_headers {
                    self.skipping = true;
                    self.lines = 0;
                    self.headers.clear();
                    self.start = self.scanned;
                    return Err(FrameError::TooManyHeaders {
                        limit: self.limits.max_headers,
                    });
                }
                if self.scanned - self.start > self.limits.max_message {
                    self.skipping = true;
                    self.lines = 0;
                    self.headers.clear();
                    self.start = self.scanned;
                    return Err(FrameError::TooLarge {
                        limit: self.limits.max_message,
                    });
                }
                if self.lines == 1 && self.keep.is_some_and(|keep| unwanted(line, keep)) {
                    self.filtering = true;
                    self.lines = 0;
                    continue;
                }
                // Split the line now, while it is in cache: the message is then one
                // copy away from done.
                self.headers.push(split_line(line, line_start - self.start));
                continue;
            }
            // The empty line: a message ends (or a skipped one, or stray blank lines).
            let body = self.start..line_start;
            self.start = self.scanned;
            let lines = std::mem::take(&mut self.lines);
            if self.skipping {
                self.skipping = false;
                continue;
            }
            if lines == 0 {
                continue;
            }
            let message = build(&self.buf[body], &self.headers);
            self.headers.clear();
            return Ok(Some(message));
        }
    }

    /// Passes over the rest of an unwanted event; true once past its empty line. Just
    /// after a line's LF, the empty line is an LF followed by CRLF or LF: found by
    /// searching, not line by line.
    fn pass_over_filtered(&mut self) -> bool {
        let from = self.scanned - 1;
        let rest = &self.buf[from..];
        let crlf = memchr::memmem::find(rest, b"\n\r\n");
        let lf = memchr::memmem::find(&rest[..crlf.map_or(rest.len(), |at| at + 1)], b"\n\n");
        let end = match (lf, crlf) {
            (Some(at), _) => Some(at + 2),
            (None, Some(at)) => Some(at + 3),
            (None, None) => None,
        };
        match end {
            Some(end) => {
                self.scanned = from + end;
                self.start = self.scanned;
                true
            }
            None => {
                // Keep from the last LF on: the empty line may be split across reads.
                let last = memchr::memrchr(b'\n', rest).unwrap_or(0);
                self.start = from + last;
                self.scanned = self.start + 1;
                false
            }
        }
    }
}

/// A first line that names an event `keep` does not want.
fn unwanted(line: &[u8], keep: fn(&str) -> bool) -> bool {
    let Some(name) = line
        .get(..6)
        .filter(|k| k.eq_ignore_ascii_case(b"Event:"))
        .and_then(|_| std::str::from_utf8(&line[6..]).ok())
    else {
        return false;
    };
    !keep(name.trim_start_matches(' '))
}

/// The header in one line (without its line end) that starts `at` bytes into its
/// message. A line without a colon is a key with an empty value.
fn split_line(line: &[u8], at: usize) -> Header {
    match memchr::memchr(b':', line) {
        Some(colon) => {
            let value_start = colon + 1;
            let skip = usize::from(line.get(value_start) == Some(&b' '));
            Header::new(at..at + colon, at + value_start + skip..at + line.len())
        }
        None => Header::new(at..at + line.len(), at + line.len()..at + line.len()),
    }
}

/// The message of complete header lines (each ending in LF) split into `headers`.
fn build(bytes: &[u8], headers: &[Header]) -> Message {
    match std::str::from_utf8(bytes) {
        Ok(text) => Message {
            text: text.to_owned(),
            headers: headers.to_vec(),
        },
        // Replacement characters move the offsets: split the repaired text again.
        Err(_) => reparse(String::from_utf8_lossy(bytes).into_owned()),
    }
}

fn reparse(text: String) -> Message {
    let mut headers = Vec::new();
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        let content = trim_cr(line.strip_suffix('\n').unwrap_or(line).as_bytes());
        headers.push(split_line(content, pos));
        pos += line.len();
    }
    Message { text, headers }
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(bytes: &[u8]) -> (Option<String>, Vec<Message>, Vec<FrameError>) {
        let mut d = Decoder::default();
        d.feed(bytes);
        let banner = d.banner();
        let (mut messages, mut errors) = (Vec::new(), Vec::new());
        loop {
            match d.next_message() {
                Ok(Some(m)) => messages.push(m),
                Ok(None) => break,
                Err(e) => errors.push(e),
            }
        }
        (banner, messages, errors)
    }

    #[test]
    fn banner_then_messages_crlf_and_lf() {
        let (banner, msgs, errors) = all(
            b"Asterisk Call Manager/11.0.0\r\nResponse: Success\r\nActionID: 1\r\nMessage: ok\r\n\r\nEvent: Cdr\nUniqueID: 1.2\nLastData: PJSIP/102,10,tT\nTime: 10:11:12\n\n",
        );
        assert_eq!(banner.as_deref(), Some("Asterisk Call Manager/11.0.0"));
        assert!(errors.is_empty());
        assert_eq!(msgs.len(), 2);
        assert_eq!(msgs[0].kind(), Kind::Response("Success"));
        assert_eq!(msgs[0].action_id(), Some("1"));
        assert_eq!(msgs[1].event(), Some("Cdr"));
        assert_eq!(msgs[1].get("uniqueid"), Some("1.2"));
        assert_eq!(msgs[1].get("Time"), Some("10:11:12"));
    }

    #[test]
    fn first_header_decides_the_kind() {
        let (_, msgs, _) = all(b"banner\r\nEvent: OriginateResponse\r\nResponse: Failure\r\n\r\n");
        assert_eq!(msgs[0].kind(), Kind::Event("OriginateResponse"));
    }

    #[test]
    fn byte_by_byte_equals_all_at_once() {
        let input = b"Asterisk Call Manager/2.10.4\r\nEvent: A\r\nX: 1\r\n\r\n\r\nEvent: B\r\nY:\r\nZ: a: b\r\n\r\n";
        let (_, whole, _) = all(input);
        let mut d = Decoder::default();
        let mut got = Vec::new();
        for b in input {
            d.feed(&[*b]);
            while let Ok(Some(m)) = d.next_message() {
                got.push(m);
            }
        }
        assert_eq!(got, whole);
        assert_eq!(got[1].get("Y"), Some(""));
        assert_eq!(got[1].get("Z"), Some("a: b"));
    }

    #[test]
    fn oversized_messages_are_skipped_and_the_stream_goes_on() {
        let mut d = Decoder::new(Limits {
            max_message: 64,
            max_headers: 3,
        });
        d.feed(b"banner\nEvent: A\nA: 1\nB: 2\nC: 3\nD: 4\n\nEvent: B\n\n");
        assert_eq!(
            d.next_message(),
            Err(FrameError::TooManyHeaders { limit: 3 })
        );
        assert_eq!(d.next_message().unwrap().unwrap().event(), Some("B"));
        d.feed(&[b'x'; 100]);
        assert_eq!(d.next_message(), Err(FrameError::TooLarge { limit: 64 }));
        d.feed(b"yyy\n\nEvent: C\n\n");
        assert_eq!(d.next_message().unwrap().unwrap().event(), Some("C"));
    }

    #[test]
    fn garbage_and_bad_utf8_never_panic() {
        let (_, msgs, _) = all(b"\xff\xfe\r\n\xff: \xc3\x28\r\nno colon here\r\n\r\n");
        assert_eq!(msgs.len(), 1);
        assert_eq!(msgs[0].kind(), Kind::Other);
    }

    #[test]
    fn bad_utf8_is_replaced_and_the_headers_after_it_keep_their_values() {
        let (_, msgs, _) = all(b"banner\r\nEvent: A\r\nX: \xff\xfe\r\nY: 2\r\n\r\n");
        assert_eq!(msgs[0].get("X"), Some("\u{fffd}\u{fffd}"));
        assert_eq!(msgs[0].get("Y"), Some("2"));
    }

    #[test]
    fn messages_split_across_compactions_keep_their_headers() {
        let mut d = Decoder::without_banner(Limits::default());
        let one = "Event: Newexten\r\nChannel: PJSIP/101-00000001\r\nAppData: a:b\r\n\r\n";
        let mut got = 0;
        // Enough messages, fed in odd pieces, for the buffer to be drained many times.
        let stream = one.repeat(5_000);
        for piece in stream.as_bytes().chunks(997) {
            d.feed(piece);
            while let Some(m) = d.next_message().unwrap() {
                assert_eq!(m.get("AppData"), Some("a:b"));
                assert_eq!(m.get("Channel"), Some("PJSIP/101-00000001"));
                got += 1;
            }
        }
        assert_eq!(got, 5_000);
    }

    #[test]
    fn unwanted_events_are_passed_over_whatever_the_pieces_they_arrive_in() {
        let stream: &[u8] = b"banner\r\nEvent: VarSet\r\nValue: x\r\n\r\nEvent: Cdr\r\nA: 1\r\n\r\n\
            Response: Success\r\nActionID: 7\r\n\r\nEvent: Newexten\nAppData: a\n\nEvent: cdr\nA: 2\n\n\
            Event: VarSet\r\n\r\nEvent:VarSet\r\nB: \r\n\r\n\r\nEvent: Cdr\r\nA: 3\r\n\r\n";
        let keep: fn(&str) -> bool = |e| e.eq_ignore_ascii_case("Cdr");
        let (_, everything, _) = all(stream);
        let wanted: Vec<Message> = everything
            .into_iter()
            .filter(|m| m.event().is_none_or(keep))
            .collect();
        assert_eq!(wanted.len(), 4);
        for piece in [1, 2, 3, 5, 7, 11, 64, stream.len()] {
            let mut d = Decoder::default();
            d.keep_events(keep);
            let mut got = Vec::new();
            for chunk in stream.chunks(piece) {
                d.feed(chunk);
                while let Some(m) = d.next_message().unwrap() {
                    got.push(m);
                }
            }
            assert_eq!(got, wanted, "in pieces of {piece} bytes");
            assert_eq!(d.pending(), 0);
        }
    }

    #[test]
    fn a_long_unwanted_event_does_not_grow_the_buffer() {
        let mut d = Decoder::without_banner(Limits::default());
        d.keep_events(|e| e == "Cdr");
        d.feed(b"Event: Big\r\n");
        for _ in 0..10_000 {
            d.feed(&[b'x'; 1000]);
            d.feed(b"\r\n");
            assert_eq!(d.next_message(), Ok(None));
            assert!(d.buf.len() < 200_000, "{}", d.buf.len());
        }
        d.feed(b"\r\nEvent: Cdr\r\nA: 1\r\n\r\n");
        assert_eq!(d.next_message().unwrap().unwrap().get("A"), Some("1"));
    }

    #[test]
    fn wire_form_round_trips() {
        let m = Message::new([("Action", "Login"), ("Username", "odoo"), ("Secret", "a:b")]);
        assert!(m.is_safe());
        let mut d = Decoder::without_banner(Limits::default());
        d.feed(m.to_wire().as_bytes());
        assert_eq!(d.next_message().unwrap().unwrap(), m);
        assert!(!Message::new([("Channel", "x\r\nAction: Hangup")]).is_safe());
    }
}

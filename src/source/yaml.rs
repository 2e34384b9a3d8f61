//! A YAML reader that keeps the position of every node.
//!
//! serde-based YAML crates lose positions once a value is deserialized; diagnostics need a
//! line and column for every schema and semantic error. So we build our own small tree from
//! `saphyr-parser` events (a maintained YAML 1.2 parser) and resolve scalars ourselves.
//!
//! The reader is hardened against hostile input: bounded nesting depth, bounded alias
//! expansion (the "billion laughs" bomb), bounded node count, no recursion deeper than the
//! depth bound, and every failure is a positioned [`YamlError`], never a panic.

use std::collections::{HashMap, HashSet};

use saphyr_parser::{Event, Parser, ScalarStyle, Span as RawSpan};
use serde_json::{Map as JsonMap, Number, Value as Json};

/// Deepest nesting accepted (a fleet file needs about 8).
pub const MAX_DEPTH: usize = 64;
/// Most nodes in one file, counting alias expansions.
pub const MAX_NODES: usize = 5_000_000;
/// Most nodes produced by alias expansion in one file.
pub const MAX_ALIAS_NODES: usize = 100_000;
/// Most bytes of text produced by alias expansion in one file: a few aliases of a huge
/// string are a bomb too, however few nodes they make.
pub const MAX_ALIAS_BYTES: usize = 4 * 1024 * 1024;

/// A position: 1-based line, 1-based column counted in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Pos {
    pub line: usize,
    pub col: usize,
}

/// A range of text; `end` is exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub start: Pos,
    pub end: Pos,
}

impl Span {
    fn from_raw(raw: RawSpan) -> Span {
        let pos = |m: saphyr_parser::Marker| Pos {
            line: m.line().max(1),
            col: m.col() + 1,
        };
        Span {
            start: pos(raw.start),
            end: pos(raw.end),
        }
    }

    pub fn point(pos: Pos) -> Span {
        Span {
            start: pos,
            end: pos,
        }
    }
}

/// A scalar as written: its text and whether it was plain (unquoted), which decides how
/// it resolves to a JSON value.
#[derive(Debug, Clone, PartialEq)]
pub struct Scalar {
    pub text: String,
    pub plain: bool,
    /// Forced to a string by a `!!str` tag.
    pub forced_str: bool,
}

/// A node of the tree.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeValue {
    Scalar(Scalar),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

/// A mapping entry; keys are always scalars.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: Node,
    pub value: Node,
}

impl Entry {
    pub fn key_text(&self) -> &str {
        match &self.key.value {
            NodeValue::Scalar(s) => &s.text,
            _ => "",
        }
    }
}

/// A YAML node with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub span: Span,
    pub value: NodeValue,
}

/// Why a file could not be read as YAML.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct YamlError {
    pub span: Span,
    pub message: String,
    pub hint: Option<String>,
    /// A second place involved (the first definition of a duplicate key).
    pub related: Option<Box<(Span, String)>>,
}

impl YamlError {
    fn new(span: Span, message: impl Into<String>) -> Self {
        YamlError {
            span,
            message: message.into(),
            hint: None,
            related: None,
        }
    }

    fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

enum Frame {
    Seq {
        start: Span,
        anchor: usize,
        items: Vec<Node>,
    },
    Map {
        start: Span,
        anchor: usize,
        entries: Vec<Entry>,
        pending_key: Option<Node>,
        seen: Option<HashSet<String>>,
    },
}

struct Anchored {
    node: Node,
    /// What one copy adds: nodes, bytes of text, levels of nesting.
    size: Size,
}

/// The size of a node: nodes, bytes of scalar text (keys included), nesting depth.
#[derive(Debug, Clone, Copy, Default)]
struct Size {
    nodes: usize,
    bytes: usize,
    depth: usize,
}

/// Parses one YAML document. An empty file gives `None`.
pub fn parse(text: &str) -> Result<Option<Node>, YamlError> {
    Builder::default().run(text)
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    anchors: HashMap<usize, Anchored>,
    nodes: usize,
    alias_nodes: usize,
    alias_bytes: usize,
    root: Option<Node>,
    documents: usize,
}

impl Builder {
    fn run(mut self, text: &str) -> Result<Option<Node>, YamlError> {
        let mut parser = Parser::new_from_str(text).keep_tags(true);
        while let Some(next) = parser.next_event() {
            let (event, raw_span) = next.map_err(|e| {
                let m = e.marker();
                let mut pos = Pos {
                    line: m.line().max(1),
                    col: m.col() + 1,
                };
                // The scanner marks where the scalar it was reading began; the tab it
                // found is further on (often on the next line): point at the tab.
                if e.info().contains("found a tab")
                    && let Some(tab) = tab_at_or_after(text, pos)
                {
                    pos = tab;
                }
                YamlError::new(Span::point(pos), format!("YAML syntax error: {}", e.info()))
                    .hint("check the indentation and quoting on this line and the one before")
            })?;
            let span = Span::from_raw(raw_span);
            match event {
                Event::StreamStart | Event::StreamEnd | Event::Nothing | Event::DocumentEnd => {}
                Event::DocumentStart(_) => {
                    self.documents += 1;
                    if self.documents > 1 {
                        return Err(YamlError::new(span, "more than one YAML document in this file")
                            .hint("keep one document per file: remove the `---` separator or split the file"));
                    }
                }
                Event::Scalar(value, style, anchor, tag) => {
                    let forced_str = match tag.as_deref() {
                        None => false,
                        Some(t) if t.is_yaml_core_schema() && t.suffix == "str" => true,
                        Some(t) => {
                            return Err(YamlError::new(span, format!("unsupported YAML tag `{t}`"))
                                .hint("astbase reads plain YAML only; for secrets write `{env: NAME}` or `{file: path}`"));
                        }
                    };
                    let node = Node {
                        span,
                        value: NodeValue::Scalar(Scalar {
                            text: value.into_owned(),
                            plain: style == ScalarStyle::Plain,
                            forced_str,
                        }),
                    };
                    self.count(1, span)?;
                    let size = measure(&node);
                    self.remember(anchor, &node, size);
                    self.complete(node)?;
                }
                Event::SequenceStart(anchor, ref tag) | Event::MappingStart(anchor, ref tag) => {
                    // Only the tag that says what it already is (`!!seq`, `!!map`): any
                    // other (`!!python/object/apply:...`) asks for something astbase
                    // will not do, and ignoring it would read something else.
                    let own = if matches!(event, Event::SequenceStart(..)) {
                        "seq"
                    } else {
                        "map"
                    };
                    if let Some(t) = tag.as_deref()
                        && !(t.is_yaml_core_schema() && t.suffix == own)
                    {
                        return Err(YamlError::new(span, format!("unsupported YAML tag `{t}`"))
                            .hint("astbase reads plain YAML only"));
                    }
                    if self.stack.len() >= MAX_DEPTH {
                        return Err(YamlError::new(
                            span,
                            format!("nesting deeper than {MAX_DEPTH} levels"),
                        )
                        .hint("a fleet file needs only a few levels; flatten this structure"));
                    }
                    self.count(1, span)?;
                    let is_seq = matches!(event, Event::SequenceStart(..));
                    let frame = if is_seq {
                        Frame::Seq {
                            start: span,
                            anchor,
                            items: Vec::new(),
                        }
                    } else {
                        Frame::Map {
                            start: span,
                            anchor,
                            entries: Vec::new(),
                            pending_key: None,
                            seen: None,
                        }
                    };
                    self.stack.push(frame);
                }
                Event::SequenceEnd | Event::MappingEnd => {
                    let Some(frame) = self.stack.pop() else {
                        return Err(YamlError::new(span, "unbalanced end of collection"));
                    };
                    let (node, anchor) = match frame {
                        Frame::Seq {
                            start,
                            anchor,
                            items,
                        } => (
                            Node {
                                span: Span {
                                    start: start.start,
                                    end: span.end.max(start.end),
                                },
                                value: NodeValue::Seq(items),
                            },
                            anchor,
                        ),
                        Frame::Map {
                            start,
                            anchor,
                            entries,
                            ..
                        } => (
                            Node {
                                span: Span {
                                    start: start.start,
                                    end: span.end.max(start.end),
                                },
                                value: NodeValue::Map(entries),
                            },
                            anchor,
                        ),
                    };
                    if anchor != 0 {
                        let size = measure(&node);
                        self.remember(anchor, &node, size);
                    }
                    self.complete(node)?;
                }
                Event::Alias(id) => {
                    let Some(anchored) = self.anchors.get(&id) else {
                        return Err(YamlError::new(span, "alias to an unknown anchor"));
                    };
                    let size = anchored.size;
                    if self.stack.len() + size.depth >= MAX_DEPTH {
                        return Err(YamlError::new(
                            span,
                            format!("alias expands deeper than {MAX_DEPTH} levels"),
                        ));
                    }
                    // Checked before the copy is made: a bomb never allocates.
                    self.alias_nodes += size.nodes;
                    self.alias_bytes += size.bytes;
                    if self.alias_nodes > MAX_ALIAS_NODES {
                        return Err(YamlError::new(
                            span,
                            format!("aliases expand to more than {MAX_ALIAS_NODES} nodes"),
                        )
                        .hint("this looks like an alias bomb; write the values out or use fewer nested aliases"));
                    }
                    if self.alias_bytes > MAX_ALIAS_BYTES {
                        return Err(YamlError::new(
                            span,
                            format!(
                                "aliases expand to more than {} MiB of text",
                                MAX_ALIAS_BYTES / (1024 * 1024)
                            ),
                        )
                        .hint("this looks like an alias bomb; write the values out or alias smaller ones"));
                    }
                    let mut node = anchored.node.clone();
                    self.count(size.nodes, span)?;
                    // The copy is reported where the alias is written.
                    relocate(&mut node, span);
                    self.complete(node)?;
                }
            }
        }
        Ok(self.root)
    }

    fn count(&mut self, n: usize, span: Span) -> Result<(), YamlError> {
        self.nodes += n;
        if self.nodes > MAX_NODES {
            return Err(YamlError::new(
                span,
                format!("more than {MAX_NODES} YAML nodes in one file"),
            )
            .hint("split the fleet into several files"));
        }
        Ok(())
    }

    fn remember(&mut self, anchor: usize, node: &Node, size: Size) {
        if anchor != 0 {
            self.anchors.insert(
                anchor,
                Anchored {
                    node: node.clone(),
                    size,
                },
            );
        }
    }

    /// Attaches a finished node to its parent (or makes it the root).
    fn complete(&mut self, node: Node) -> Result<(), YamlError> {
        match self.stack.last_mut() {
            None => {
                self.root = Some(node);
                Ok(())
            }
            Some(Frame::Seq { items, .. }) => {
                items.push(node);
                Ok(())
            }
            Some(Frame::Map {
                entries,
                pending_key,
                seen,
                ..
            }) => match pending_key.take() {
                None => {
                    let NodeValue::Scalar(scalar) = &node.value else {
                        return Err(
                            YamlError::new(node.span, "a mapping key must be plain text")
                                .hint("write the key as a word, e.g. `name:`"),
                        );
                    };
                    let text = scalar.text.clone();
                    let duplicate = match seen {
                        Some(set) => !set.insert(text.clone()),
                        None => entries.iter().any(|e| e.key_text() == text),
                    };
                    if duplicate {
                        let first = entries
                            .iter()
                            .find(|e| e.key_text() == text)
                            .map(|e| e.key.span)
                            .unwrap_or(node.span);
                        let mut err = YamlError::new(node.span, format!("duplicate key `{text}`"))
                            .hint("a key may appear once per mapping; remove or merge one of them");
                        err.related = Some(Box::new((first, "first defined here".to_owned())));
                        return Err(err);
                    }
                    if seen.is_none() && entries.len() >= 32 {
                        *seen = Some(entries.iter().map(|e| e.key_text().to_owned()).collect());
                        seen.as_mut().map(|s| s.insert(text));
                    }
                    *pending_key = Some(node);
                    Ok(())
                }
                Some(key) => {
                    entries.push(Entry { key, value: node });
                    Ok(())
                }
            },
        }
    }
}

/// Node count and depth of a subtree (bounded by MAX_DEPTH, so recursion is safe).
fn measure(node: &Node) -> Size {
    let key_bytes = |k: &Node| match &k.value {
        NodeValue::Scalar(s) => s.text.len(),
        _ => 0,
    };
    match &node.value {
        NodeValue::Scalar(s) => Size {
            nodes: 1,
            bytes: s.text.len(),
            depth: 0,
        },
        NodeValue::Seq(items) => items.iter().fold(
            Size {
                nodes: 1,
                bytes: 0,
                depth: 1,
            },
            |acc, i| {
                let si = measure(i);
                Size {
                    nodes: acc.nodes + si.nodes,
                    bytes: acc.bytes + si.bytes,
                    depth: acc.depth.max(si.depth + 1),
                }
            },
        ),
        NodeValue::Map(entries) => entries.iter().fold(
            Size {
                nodes: 1,
                bytes: 0,
                depth: 1,
            },
            |acc, e| {
                let si = measure(&e.value);
                Size {
                    nodes: acc.nodes + si.nodes + 1,
                    bytes: acc.bytes + si.bytes + key_bytes(&e.key),
                    depth: acc.depth.max(si.depth + 1),
                }
            },
        ),
    }
}

fn relocate(node: &mut Node, span: Span) {
    node.span = span;
    match &mut node.value {
        NodeValue::Scalar(_) => {}
        NodeValue::Seq(items) => items.iter_mut().for_each(|i| relocate(i, span)),
        NodeValue::Map(entries) => entries.iter_mut().for_each(|e| {
            relocate(&mut e.key, span);
            relocate(&mut e.value, span);
        }),
    }
}

impl Node {
    /// The JSON value the schema and serde see.
    ///
    /// Plain scalars resolve by YAML 1.2's core schema, with one deliberate exception:
    /// integers written with a leading `0` or `+`, or in hex or octal (`0x65`), stay text,
    /// because in a phone system `0101` and `+74951234567` are numbers to dial, not
    /// quantities.
    pub fn to_json(&self) -> Json {
        match &self.value {
            NodeValue::Scalar(s) => resolve_scalar(s),
            NodeValue::Seq(items) => Json::Array(items.iter().map(Node::to_json).collect()),
            NodeValue::Map(entries) => {
                let mut map = JsonMap::with_capacity(entries.len());
                for e in entries {
                    map.insert(e.key_text().to_owned(), e.value.to_json());
                }
                Json::Object(map)
            }
        }
    }

    /// The node at a path, or the deepest existing node on the way there. The second item
    /// is the key node when the path ends on a mapping entry.
    pub fn lookup(&self, path: &[super::Segment]) -> (&Node, Option<&Node>) {
        let mut node = self;
        let mut key = None;
        for segment in path {
            let next = match (&node.value, segment) {
                (NodeValue::Seq(items), super::Segment::Index(i)) => {
                    items.get(*i).map(|n| (n, None))
                }
                (NodeValue::Map(entries), super::Segment::Key(k)) => entries
                    .iter()
                    .find(|e| e.key_text() == k.as_ref())
                    .map(|e| (&e.value, Some(&e.key))),
                _ => None,
            };
            match next {
                Some((n, k)) => {
                    node = n;
                    key = k;
                }
                None => break,
            }
        }
        (node, key)
    }

    pub fn as_scalar(&self) -> Option<&Scalar> {
        match &self.value {
            NodeValue::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// Visits every scalar (keys included) with its path. The path is borrowed and only
    /// turned into an owned [`Pointer`](super::Pointer) by visitors that report something,
    /// so a walk over a large fleet allocates nothing. Recursion is bounded by MAX_DEPTH.
    pub fn walk_scalars<'a>(&'a self, visit: &mut impl FnMut(&[PathStep<'a>], &'a Node, bool)) {
        let mut path = Vec::with_capacity(16);
        self.walk(&mut path, visit);
    }

    fn walk<'a>(
        &'a self,
        path: &mut Vec<PathStep<'a>>,
        visit: &mut impl FnMut(&[PathStep<'a>], &'a Node, bool),
    ) {
        match &self.value {
            NodeValue::Scalar(_) => visit(path, self, false),
            NodeValue::Seq(items) => {
                for (i, item) in items.iter().enumerate() {
                    path.push(PathStep::Index(i));
                    item.walk(path, visit);
                    path.pop();
                }
            }
            NodeValue::Map(entries) => {
                for e in entries {
                    path.push(PathStep::Key(e.key_text()));
                    visit(path, &e.key, true);
                    e.value.walk(path, visit);
                    path.pop();
                }
            }
        }
    }
}

/// A borrowed step of a path during a walk.
#[derive(Debug, Clone, Copy)]
pub enum PathStep<'a> {
    Key(&'a str),
    Index(usize),
}

/// Turns a borrowed walk path into an owned pointer.
pub fn to_pointer(steps: &[PathStep<'_>]) -> super::Pointer {
    steps
        .iter()
        .map(|s| match s {
            PathStep::Key(k) => super::Segment::Key((*k).to_owned().into()),
            PathStep::Index(i) => super::Segment::Index(*i),
        })
        .collect()
}

fn resolve_scalar(s: &Scalar) -> Json {
    if !s.plain || s.forced_str {
        return Json::String(s.text.clone());
    }
    let t = s.text.as_str();
    match t {
        "" | "~" | "null" | "Null" | "NULL" => return Json::Null,
        "true" | "True" | "TRUE" => return Json::Bool(true),
        "false" | "False" | "FALSE" => return Json::Bool(false),
        _ => {}
    }
    if let Some(n) = resolve_int(t) {
        return Json::Number(n.into());
    }
    if looks_like_float(t)
        && let Ok(f) = t.parse::<f64>()
        && let Some(n) = Number::from_f64(f)
    {
        return Json::Number(n);
    }
    Json::String(s.text.clone())
}

/// The position of the first tab at or after `from` (1-based line and character column).
fn tab_at_or_after(text: &str, from: Pos) -> Option<Pos> {
    for (i, line) in text.split('\n').enumerate().skip(from.line - 1) {
        let skip = if i + 1 == from.line { from.col - 1 } else { 0 };
        if let Some(col) = line.chars().skip(skip).position(|c| c == '\t') {
            return Some(Pos {
                line: i + 1,
                col: skip + col + 1,
            });
        }
    }
    None
}

fn resolve_int(t: &str) -> Option<i64> {
    // `0x65` and `0o17` stay text like `0101`: a phone number is never written in hex,
    // and reading one as 101 would dial someone else.
    let digits = t.strip_prefix('-').unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if digits.len() > 1 && digits.starts_with('0') {
        return None;
    }
    t.parse().ok()
}

fn looks_like_float(t: &str) -> bool {
    let body = t.strip_prefix('-').unwrap_or(t);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let mut parts = mantissa.splitn(2, '.');
    let int = parts.next().unwrap_or("");
    let frac = parts.next();
    let digits_ok = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match frac {
        Some(f) => digits_ok(int) && digits_ok(f) && !(int.is_empty() && f.is_empty()),
        None => !int.is_empty() && digits_ok(int) && exponent.is_some(),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && digits_ok(e)
    });
    mantissa_ok && exponent_ok && !(int.len() > 1 && int.starts_with('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(text: &str) -> Json {
        parse(text).unwrap().unwrap().to_json()
    }

    #[test]
    fn resolves_scalars_like_yaml_1_2_but_keeps_dial_strings() {
        let v = json(
            "a: 101\nb: '101'\nc: 0101\nd: +74951234567\ne: yes\nf: true\ng: ~\nh: 1.5\ni: -3\nj: 1e3\nk: 09:00\n",
        );
        assert_eq!(v["a"], 101);
        assert_eq!(v["b"], "101");
        assert_eq!(v["c"], "0101");
        assert_eq!(v["d"], "+74951234567");
        assert_eq!(v["e"], "yes");
        assert_eq!(v["f"], true);
        assert_eq!(v["g"], Json::Null);
        assert_eq!(v["h"], 1.5);
        assert_eq!(v["i"], -3);
        assert_eq!(v["j"], 1000.0);
        assert_eq!(v["k"], "09:00");
    }

    #[test]
    fn integer_keys_are_text() {
        let v = json("keys:\n  1: a\n  \"*\": b\n");
        assert_eq!(v["keys"]["1"], "a");
        assert_eq!(v["keys"]["*"], "b");
    }

    #[test]
    fn positions_are_one_based() {
        let root = parse("servers:\n  - name: msk\n    host: local\n")
            .unwrap()
            .unwrap();
        let path = crate::source::Pointer::root()
            .key("servers")
            .index(0)
            .key("host");
        let (node, key) = root.lookup(path.segments());
        assert_eq!(node.span.start, Pos { line: 3, col: 11 });
        assert_eq!(key.unwrap().span.start, Pos { line: 3, col: 5 });
    }

    #[test]
    fn duplicate_keys_are_errors_with_both_places() {
        let err = parse("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(err.message, "duplicate key `a`");
        assert_eq!(err.span.start, Pos { line: 3, col: 1 });
        assert_eq!(err.related.unwrap().0.start, Pos { line: 1, col: 1 });
    }

    #[test]
    fn duplicate_keys_in_large_mappings() {
        let mut text: String = (0..100).map(|i| format!("k{i}: {i}\n")).collect();
        text.push_str("k7: again\n");
        let err = parse(&text).unwrap_err();
        assert_eq!(err.message, "duplicate key `k7`");
        assert_eq!(err.span.start.line, 101);
    }

    #[test]
    fn many_aliases_of_one_huge_string_are_refused_by_bytes_before_they_are_copied() {
        let mut text = format!("big: &big \"{}\"\nlist:\n", "x".repeat(100_000));
        for _ in 0..99_000 {
            text.push_str("  - *big\n");
        }
        let started = std::time::Instant::now();
        let err = parse(&text).unwrap_err();
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
        assert_eq!(err.message, "aliases expand to more than 4 MiB of text");
        // The 42nd alias (line 44) is the one over 4 MiB.
        assert_eq!(err.span.start.line, 44);
    }

    #[test]
    fn alias_bomb_is_refused() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let prev = format!("*a{}", i - 1);
            text.push_str(&format!(
                "a{i}: &a{i} [{}]\n",
                std::iter::repeat_n(prev.as_str(), 10)
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        let err = parse(&text).unwrap_err();
        assert!(err.message.contains("aliases expand"), "{}", err.message);
    }

    #[test]
    fn small_aliases_work() {
        let v = json("base: &b {codecs: [ulaw]}\nx: *b\n");
        assert_eq!(v["x"]["codecs"][0], "ulaw");
    }

    #[test]
    fn deep_nesting_is_refused_without_overflow() {
        let text = "[".repeat(100_000);
        assert!(parse(&text).is_err());
        let text = "a:\n".to_owned()
            + &(1..200)
                .map(|i| format!("{}b:\n", " ".repeat(i)))
                .collect::<String>();
        let err = parse(&text).unwrap_err();
        assert!(err.message.contains("nesting"), "{}", err.message);
    }

    #[test]
    fn second_document_is_refused() {
        let err = parse("a: 1\n---\nb: 2\n").unwrap_err();
        assert!(err.message.contains("more than one YAML document"));
    }

    #[test]
    fn custom_tags_are_refused() {
        let err = parse("secret: !env FOO\n").unwrap_err();
        assert!(err.message.contains("unsupported YAML tag"));
        assert_eq!(json("a: !!str 101\n")["a"], "101");
    }

    #[test]
    fn a_tag_on_a_sequence_or_mapping_other_than_its_own_is_refused() {
        let err = parse("a: !!python/object/apply:os.system [rm -rf /]\n").unwrap_err();
        assert!(
            err.message.starts_with("unsupported YAML tag"),
            "{}",
            err.message
        );
        assert!(
            err.message.contains("python/object/apply:os.system"),
            "{}",
            err.message
        );
        assert!(parse("a: !!python/object:x {b: 1}\n").is_err());
        assert_eq!(json("a: !!seq [1]\n")["a"][0], 1);
        assert_eq!(json("a: !!map {b: 1}\n")["a"]["b"], 1);
    }

    #[test]
    fn a_tab_in_the_indentation_is_reported_where_it_is() {
        let err = parse("servers:\n  - name: a\n\thost: local\n").unwrap_err();
        assert!(err.message.contains("found a tab"), "{}", err.message);
        assert_eq!((err.span.start.line, err.span.start.col), (3, 1));
    }

    #[test]
    fn hex_and_octal_numbers_stay_text() {
        assert_eq!(json("a: 0x65\n")["a"], "0x65");
        assert_eq!(json("a: 0o17\n")["a"], "0o17");
        assert_eq!(json("a: 101\n")["a"], 101);
    }

    #[test]
    fn empty_file_is_none() {
        assert_eq!(parse("").unwrap(), None);
        assert_eq!(parse("# only a comment\n").unwrap(), None);
    }
}

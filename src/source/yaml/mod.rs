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
use serde_json::{Map as JsonMap, Value as Json};

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

    /// An empty mapping at the top of the file: stands in for a tree that cannot be had.
    pub fn placeholder() -> Node {
        Node {
            span: Span::point(Pos { line: 1, col: 1 }),
            value: NodeValue::Map(Vec::new()),
        }
    }

    /// The same value, made by taking the tree apart: its strings move into the JSON
    /// instead of being copied (for a tree that is not needed afterwards).
    pub fn into_json(self) -> Json {
        match self.value {
            NodeValue::Scalar(s) => resolve::resolve_owned_scalar(s),
            NodeValue::Seq(items) => Json::Array(items.into_iter().map(Node::into_json).collect()),
            NodeValue::Map(entries) => {
                let mut map = JsonMap::with_capacity(entries.len());
                for e in entries {
                    let key = match e.key.value {
                        NodeValue::Scalar(s) => s.text,
                        _ => String::new(),
                    };
                    map.insert(key, e.value.into_json());
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

mod resolve;
#[cfg(test)]
mod tests;

use resolve::resolve_scalar;

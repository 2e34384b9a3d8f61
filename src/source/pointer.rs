//! Paths into a YAML document (`queues[2].members[0]`), shared by schema errors,
//! model origins and diagnostics.

use std::borrow::Cow;
use std::fmt;

use smallvec::SmallVec;

/// One step of a path: a mapping key or a sequence index.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Segment {
    /// Field names known at compile time borrow; keys read from files own.
    Key(Cow<'static, str>),
    Index(usize),
}

/// A path from the document root to a node. Inline up to 4 steps (an entity's field and
/// one level below, `extensions[3].voicemail.pin`), so the checks can build the origin
/// of each field they look at without allocating, while every entity of a large fleet
/// carries one (deeper paths, rarer, spill to the heap).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Pointer(SmallVec<[Segment; 4]>);

impl Pointer {
    pub fn root() -> Pointer {
        Pointer(SmallVec::new())
    }

    pub fn segments(&self) -> &[Segment] {
        &self.0
    }

    pub fn push(&mut self, segment: Segment) {
        self.0.push(segment);
    }

    pub fn key(mut self, key: &str) -> Pointer {
        self.0.push(Segment::Key(Cow::Owned(key.to_owned())));
        self
    }

    /// A key known at compile time (a list or field name): borrowed, so the origin of
    /// each of a fleet's entities costs no allocation for it.
    pub fn field(mut self, key: &'static str) -> Pointer {
        self.0.push(Segment::Key(Cow::Borrowed(key)));
        self
    }

    pub fn index(mut self, index: usize) -> Pointer {
        self.0.push(Segment::Index(index));
        self
    }

    pub fn starts_with(&self, prefix: &Pointer) -> bool {
        self.0.starts_with(&prefix.0)
    }

    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromIterator<Segment> for Pointer {
    fn from_iter<I: IntoIterator<Item = Segment>>(iter: I) -> Self {
        Pointer(iter.into_iter().collect())
    }
}

fn is_plain_key(key: &str) -> bool {
    !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Renders as users write it: `queues[2].members[0]`, `menus[0].keys["*"]`.
impl fmt::Display for Pointer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(document)");
        }
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Index(n) => write!(f, "[{n}]")?,
                Segment::Key(k)
                    if is_plain_key(k) && !k.starts_with(|c: char| c.is_ascii_digit()) =>
                {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(k)?;
                }
                Segment::Key(k) => write!(f, "[{k:?}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_like_yaml_paths() {
        let p = Pointer::root()
            .key("queues")
            .index(2)
            .key("members")
            .index(0);
        assert_eq!(p.to_string(), "queues[2].members[0]");
        let p = Pointer::root().key("menus").index(0).key("keys").key("*");
        assert_eq!(p.to_string(), "menus[0].keys[\"*\"]");
        let p = Pointer::root().key("menus").index(0).key("keys").key("1");
        assert_eq!(p.to_string(), "menus[0].keys[\"1\"]");
        assert_eq!(Pointer::root().to_string(), "(document)");
    }
}

//! Content hashes and unified diffs of text: utilities that `plan` (generated files) and
//! `firewall` (sets and rules) both use. A leaf module: it depends on nothing of astbase.

use sha2::{Digest, Sha256};
use similar::{ChangeTag, TextDiff};

/// sha256 of some bytes, in hex.
pub fn hash(data: &[u8]) -> String {
    let digest = Sha256::digest(data);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A unified diff (3 lines of context) from `before` to `after` under the name `label`,
/// each shown line passed through `show` (which masks what must not be printed).
pub fn unified(label: &str, before: &str, after: &str, show: impl Fn(&str) -> String) -> String {
    let mut out = String::new();
    if before == after {
        return out;
    }
    let diff = TextDiff::from_lines(before, after);
    out.push_str(&format!("--- a/{label}\n+++ b/{label}\n"));
    for hunk in diff.unified_diff().context_radius(3).iter_hunks() {
        out.push_str(&format!("{}\n", hunk.header()));
        for change in hunk.iter_changes() {
            let sign = match change.tag() {
                ChangeTag::Delete => '-',
                ChangeTag::Insert => '+',
                ChangeTag::Equal => ' ',
            };
            let line = change.value();
            let line = line.strip_suffix('\n').unwrap_or(line);
            out.push(sign);
            out.push_str(&show(line));
            out.push('\n');
            if change.missing_newline() {
                out.push_str("\\ No newline at end of file\n");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_texts_have_an_empty_diff() {
        assert_eq!(unified("a", "same\n", "same\n", str::to_owned), "");
    }

    #[test]
    fn a_changed_line_is_one_hunk_with_its_context() {
        assert_eq!(
            unified("f", "a\nb\nc\n", "a\nB\nc\n", str::to_owned),
            "--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"
        );
    }

    #[test]
    fn the_hash_is_sha256_in_hex() {
        assert_eq!(
            hash(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}

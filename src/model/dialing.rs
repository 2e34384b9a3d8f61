//! How Asterisk picks the extension a dialled number runs: which patterns match it, and
//! which of several matching ones wins (the most specific). Shared by the checks that
//! warn about shadowed patterns and by the call-flow simulator, so both read patterns
//! exactly as the dialplan Asterisk runs.

use std::cmp::Ordering;

/// Whether a (valid) pattern or literal matches a dialled number, as Asterisk would.
pub fn matches(pattern: &str, number: &str) -> bool {
    let Some(body) = pattern.strip_prefix('_') else {
        return pattern == number;
    };
    let p: Vec<char> = body.chars().collect();
    let n: Vec<char> = number.chars().collect();
    let (mut i, mut j) = (0, 0);
    while i < p.len() {
        match p[i] {
            '.' => return j < n.len(),
            '!' => return true,
            '[' => {
                let Some(close) = p[i..].iter().position(|&c| c == ']') else {
                    return false;
                };
                let set = &p[i + 1..i + close];
                let Some(&c) = n.get(j) else { return false };
                let mut k = 0;
                let mut hit = false;
                while k < set.len() {
                    if set.get(k + 1) == Some(&'-') && k + 2 < set.len() {
                        hit |= set[k] <= c && c <= set[k + 2];
                        k += 3;
                    } else {
                        hit |= set[k] == c;
                        k += 1;
                    }
                }
                if !hit {
                    return false;
                }
                i += close + 1;
                j += 1;
                continue;
            }
            pc => {
                let Some(&c) = n.get(j) else { return false };
                let ok = match pc {
                    'X' => c.is_ascii_digit(),
                    'Z' => ('1'..='9').contains(&c),
                    'N' => ('2'..='9').contains(&c),
                    other => other == c,
                };
                if !ok {
                    return false;
                }
            }
        }
        i += 1;
        j += 1;
    }
    j == n.len()
}

/// How many characters one position of a pattern accepts: a literal 1, a set its size,
/// `N` 8, `Z` 9, `X` 10, then `.` and `!` (any rest) after everything.
fn widths(pattern: &str) -> Vec<(u32, char)> {
    let Some(body) = pattern.strip_prefix('_') else {
        return pattern.chars().map(|c| (1, c)).collect();
    };
    let chars: Vec<char> = body.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let width = match c {
            'X' => (10, '0'),
            'Z' => (9, '1'),
            'N' => (8, '2'),
            '.' => (u32::MAX - 1, '.'),
            '!' => (u32::MAX, '!'),
            '[' => {
                let close = chars[i..].iter().position(|&c| c == ']').unwrap_or(0);
                let set = &chars[i + 1..i + close.max(1)];
                let mut size = 0;
                let mut low = char::MAX;
                let mut k = 0;
                while k < set.len() {
                    if set.get(k + 1) == Some(&'-') && k + 2 < set.len() {
                        size += (set[k + 2] as u32).saturating_sub(set[k] as u32) + 1;
                        low = low.min(set[k]);
                        k += 3;
                    } else {
                        size += 1;
                        low = low.min(set[k]);
                        k += 1;
                    }
                }
                i += close;
                (size, low)
            }
            other => (1, other),
        };
        out.push(width);
        i += 1;
    }
    out
}

/// Asterisk's order of extensions in a context: exact names before patterns; between
/// patterns, the first position where they differ decides, the one accepting fewer
/// characters there first (`_+79XXXXXXXXX` before `_+7XXXXXXXXXX`, `_X.` last). The
/// first in this order that matches a number is the one that runs.
pub fn specificity(a: &str, b: &str) -> Ordering {
    match (a.starts_with('_'), b.starts_with('_')) {
        (false, true) => return Ordering::Less,
        (true, false) => return Ordering::Greater,
        (false, false) => return a.cmp(b),
        (true, true) => {}
    }
    let (wa, wb) = (widths(a), widths(b));
    for (x, y) in wa.iter().zip(&wb) {
        match x.cmp(y) {
            Ordering::Equal => continue,
            other => return other,
        }
    }
    wa.len().cmp(&wb.len()).then_with(|| a.cmp(b))
}

/// A number the pattern matches (the lowest digit of each class, `5` for X, Z and N,
/// two digits for `.`): for probing what a pattern's calls do.
pub fn example(pattern: &str) -> String {
    let Some(body) = pattern.strip_prefix('_') else {
        return pattern.to_owned();
    };
    let chars: Vec<char> = body.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            'X' | 'Z' | 'N' => out.push('5'),
            '.' => out.push_str("55"),
            '!' => {}
            '[' => {
                let close = chars[i..].iter().position(|&c| c == ']').unwrap_or(1);
                if let Some(&first) = chars.get(i + 1) {
                    out.push(first);
                }
                i += close;
            }
            c => out.push(c),
        }
        i += 1;
    }
    out
}

/// The pattern among `patterns` that Asterisk runs for `number`, if any matches.
pub fn best<'p, T>(
    number: &str,
    patterns: impl IntoIterator<Item = (&'p str, T)>,
) -> Option<(&'p str, T)> {
    patterns
        .into_iter()
        .filter(|(p, _)| matches(p, number))
        .min_by(|(a, _), (b, _)| specificity(a, b))
}

#[cfg(test)]
mod matching_tests {
    use super::matches as pattern_matches;

    #[test]
    fn matches_like_asterisk() {
        assert!(pattern_matches("_9XXXXXXX", "91234567"));
        assert!(!pattern_matches("_9XXXXXXX", "9123456"));
        assert!(pattern_matches("_+7495XXXXXXX", "+74951234567"));
        assert!(pattern_matches("_8800.", "88001234"));
        assert!(!pattern_matches("_8800.", "8800"));
        assert!(pattern_matches("_8800!", "8800"));
        assert!(pattern_matches("_[1-5]XX", "301"));
        assert!(!pattern_matches("_[1-5]XX", "601"));
        assert!(pattern_matches("_NXX", "201"));
        assert!(!pattern_matches("_NXX", "101"));
        assert!(pattern_matches("101", "101"));
    }
}

#[cfg(test)]
mod order_tests {
    use super::{best, specificity};
    use std::cmp::Ordering;

    #[test]
    fn the_narrowest_pattern_wins_and_exact_names_beat_every_pattern() {
        assert_eq!(
            specificity("_+79XXXXXXXXX", "_+7XXXXXXXXXX"),
            Ordering::Less
        );
        assert_eq!(specificity("_9XXXXXXX", "_9X."), Ordering::Less);
        assert_eq!(specificity("_[1-69]X.", "_X."), Ordering::Less);
        assert_eq!(specificity("+74951234500", "_X."), Ordering::Less);
        assert_eq!(specificity("_NXX", "_ZXX"), Ordering::Less);
        assert_eq!(
            best(
                "+79161234567",
                [("_+7XXXXXXXXXX", 1), ("_+79XXXXXXXXX", 2), ("_X.", 3)]
            ),
            Some(("_+79XXXXXXXXX", 2))
        );
        assert_eq!(best("101", [("_9X.", 1)]), None);
    }

    #[test]
    fn an_example_number_matches_its_pattern() {
        use super::{example, matches};
        for p in [
            "_9XXXXXXX",
            "_+7495XXXXXXX",
            "_8800.",
            "_[2-5]NX!",
            "_+[1-69]X.",
            "101",
        ] {
            assert!(matches(p, &example(p)), "{p}: {}", example(p));
        }
        assert_eq!(example("_8800XXXXXXX"), "88005555555");
    }
}

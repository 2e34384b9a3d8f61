//! Asterisk dial patterns (pbx.c's extension matching grammar).
//!
//! A pattern starts with `_`; after it `X` is 0-9, `Z` 1-9, `N` 2-9, `[...]` a set of
//! digits with ranges, `.` one or more of anything and `!` zero or more (both only at the
//! end), and any other allowed character matches itself. Without `_` the string is a
//! literal number. We accept only what a phone number route can need.

/// Checks a pattern or literal number; the error says what is wrong.
pub fn check_dial_pattern(pattern: &str) -> Result<(), String> {
    let Some(body) = pattern.strip_prefix('_') else {
        return check_literal(pattern);
    };
    if body.is_empty() {
        return Err("a pattern needs something after `_`".into());
    }
    let chars: Vec<char> = body.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            'X' | 'Z' | 'N' | '0'..='9' | '*' | '#' => {}
            '+' if i == 0 => {}
            'x' | 'z' | 'n' => {
                return Err(format!(
                    "`{c}` at position {} is lower-case; write `{}`",
                    i + 2,
                    c.to_ascii_uppercase()
                ));
            }
            '.' | '!' => {
                if i + 1 != chars.len() {
                    return Err(format!(
                        "`{c}` at position {} must be the last character: it matches everything after it",
                        i + 2
                    ));
                }
            }
            '[' => {
                let close = chars[i + 1..]
                    .iter()
                    .position(|&c| c == ']')
                    .ok_or_else(|| format!("`[` at position {} is never closed with `]`", i + 2))?;
                check_set(&chars[i + 1..i + 1 + close], i + 2)?;
                i += close + 1;
            }
            ']' => return Err(format!("`]` at position {} has no opening `[`", i + 2)),
            other => {
                return Err(format!(
                    "{} at position {} is not allowed in a pattern (use digits, X, Z, N, [..], *, #, . or !)",
                    crate::diagnostics::quote(&other.to_string()),
                    i + 2
                ));
            }
        }
        i += 1;
    }
    Ok(())
}

fn check_set(set: &[char], position: usize) -> Result<(), String> {
    if set.is_empty() {
        return Err(format!("the set `[]` at position {position} is empty"));
    }
    let mut i = 0;
    while i < set.len() {
        let c = set[i];
        if !c.is_ascii_digit() && c != '*' && c != '#' {
            return Err(format!(
                "{} inside the set at position {position} is not a digit",
                crate::diagnostics::quote(&c.to_string())
            ));
        }
        if set.get(i + 1) == Some(&'-') {
            let Some(&end) = set.get(i + 2) else {
                return Err(format!(
                    "the range in the set at position {position} has no end"
                ));
            };
            if !c.is_ascii_digit() || !end.is_ascii_digit() || end < c {
                return Err(format!(
                    "the range `{c}-{end}` in the set at position {position} is not an ascending digit range"
                ));
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    Ok(())
}

fn check_literal(number: &str) -> Result<(), String> {
    if number.is_empty() {
        return Err("the number is empty".into());
    }
    for (i, c) in number.chars().enumerate() {
        let ok = c.is_ascii_digit() || c == '*' || c == '#' || (c == '+' && i == 0);
        if !ok {
            let hint = if matches!(c, 'X' | 'Z' | 'N' | '.' | '!' | '[') {
                "; a pattern must start with `_`"
            } else {
                ""
            };
            return Err(format!(
                "{} at position {} is not allowed in a number{hint}",
                crate::diagnostics::quote(&c.to_string()),
                i + 1
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_real_patterns() {
        for ok in [
            "_X.",
            "_9XXXXXXX",
            "_+7495XXXXXXX",
            "_[1-5]XX",
            "_8800.",
            "_NXXNXXXXXX",
            "_[13-5]X!",
            "_00X.",
            "+74951234567",
            "101",
            "*97",
            "_*X.",
            "_#",
        ] {
            assert!(
                check_dial_pattern(ok).is_ok(),
                "{ok}: {:?}",
                check_dial_pattern(ok)
            );
        }
    }

    #[test]
    fn refuses_broken_patterns_with_reasons() {
        let cases = [
            ("_", "needs something"),
            ("_x.", "lower-case"),
            ("_9X.X", "must be the last"),
            ("_[1-5XX", "never closed"),
            ("_[]X", "empty"),
            ("_[5-1]X", "ascending"),
            ("_[a]X", "not a digit"),
            ("_9X]", "no opening"),
            ("_9,X", "not allowed"),
            ("_9;X", "not allowed"),
            ("9XXX", "must start with `_`"),
            ("12 34", "not allowed in a number"),
            ("1+2", "not allowed in a number"),
            ("", "empty"),
        ];
        for (bad, why) in cases {
            let err = check_dial_pattern(bad).expect_err(bad);
            assert!(err.contains(why), "{bad}: {err}");
        }
    }
}

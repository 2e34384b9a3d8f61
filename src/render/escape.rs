//! One escaping function per place user text can land in an Asterisk config.
//!
//! Each returns the text as Asterisk must see it written, or refuses text that no escaping
//! can carry (a line break, an expression Asterisk would evaluate, a separator the field
//! cannot escape). Validation refuses such text earlier with a positioned message; these
//! functions are the last line of defence, and the only way user text reaches a `.conf`.
//!
//! What Asterisk does with a line (main/config.c, main/app.c):
//! - the config reader cuts the line at the first `;` not preceded by `\` (a comment) and
//!   turns `\;` into `;`; it strips white space at both ends; nothing else is special;
//! - an application argument list is split on `,` outside `()`, `[]` and `"..."`; the
//!   splitter drops the quotes and turns `\x` into `x`;
//! - `${...}` and `$[...]` are evaluated before the split and cannot be escaped.

use std::borrow::Cow;

use std::fmt::Write as _;

/// Why a value cannot be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EscapeError {
    #[error("contains the control character U+{0:04X}, which would break the config line")]
    Control(u32),
    #[error("starts or ends with white space, which Asterisk strips")]
    Whitespace,
    #[error("contains `${{` or `$[`, which Asterisk would evaluate as an expression")]
    Expression,
    #[error("contains `{0}`, which this field cannot hold")]
    Forbidden(char),
    #[error("is empty")]
    Empty,
    #[error("must be digits only")]
    NotDigits,
}

fn check_line(text: &str) -> Result<(), EscapeError> {
    if let Some(c) = text
        .chars()
        .find(|c| crate::model::names::breaks_a_line(*c))
    {
        return Err(EscapeError::Control(u32::from(c)));
    }
    if text.trim() != text {
        return Err(EscapeError::Whitespace);
    }
    Ok(())
}

fn check_no_expression(text: &str) -> Result<(), EscapeError> {
    if text.contains("${") || text.contains("$[") {
        return Err(EscapeError::Expression);
    }
    Ok(())
}

fn forbid(text: &str, chars: &[char]) -> Result<(), EscapeError> {
    match text.chars().find(|c| chars.contains(c)) {
        Some(c) => Err(EscapeError::Forbidden(c)),
        None => Ok(()),
    }
}

/// A value after `key=` in any config file: `;` becomes `\;`. A leading `>` would turn
/// `key=>value` into the `=>` operator, and has no escape.
pub fn conf_value(text: &str) -> Result<String, EscapeError> {
    conf_value_borrowed(text).map(Cow::into_owned)
}

/// [`conf_value`] without a copy when nothing needs escaping (nearly every value: the
/// formatter writes hundreds of thousands per fleet).
pub fn conf_value_borrowed(text: &str) -> Result<Cow<'_, str>, EscapeError> {
    check_line(text)?;
    if text.starts_with('>') {
        return Err(EscapeError::Forbidden('>'));
    }
    Ok(if text.contains(';') {
        Cow::Owned(text.replace(';', "\\;"))
    } else {
        Cow::Borrowed(text)
    })
}

/// The right-hand side of a dialplan `Set(NAME=value)`, which Asterisk takes verbatim
/// (no argument splitting, no backslash processing), after evaluating expressions.
pub fn set_value(text: &str) -> Result<String, EscapeError> {
    check_no_expression(text)?;
    conf_value(text)
}

/// One argument of a dialplan application that splits its arguments (Dial, Queue,
/// VoiceMail, Goto, Playback, ...): every character the splitter treats specially is
/// backslash-escaped, then `;` for the config reader.
pub fn app_arg(text: &str) -> Result<String, EscapeError> {
    check_line(text)?;
    check_no_expression(text)?;
    // `&` separates devices in Dial and files in Playback after the split: no escape
    // survives that, so it is refused rather than silently changing meaning.
    forbid(text, &['&'])?;
    let mut out = String::with_capacity(text.len() + 4);
    for c in text.chars() {
        match c {
            '\\' | ',' | '(' | ')' | '[' | ']' | '"' => {
                out.push('\\');
                out.push(c);
            }
            ';' => out.push_str("\\;"),
            c => out.push(c),
        }
    }
    Ok(out)
}

/// An extension name or dial pattern on the left of `exten =>` (`_+[1-69]X.`, `101`,
/// `+74951234500`), or after its `/` as a caller-id match. Asterisk reads it verbatim: a
/// backslash there is a literal character, so `[` of a character class must stay as it
/// is. Only what would end the name (`,`, `/`, `;`), change the line (`(`, `)`, quotes,
/// white space, control characters) or be evaluated (`$`) is refused.
pub fn exten(text: &str) -> Result<String, EscapeError> {
    check_line(text)?;
    if text.is_empty() {
        return Err(EscapeError::Empty);
    }
    forbid(
        text,
        &[
            ',', '/', ';', '(', ')', '"', '\'', '\\', '$', ' ', '\t', '&', '|',
        ],
    )?;
    Ok(text.to_owned())
}

/// A caller id value for pjsip.conf: `"Name" <number>`.
pub fn callerid(name: Option<&str>, number: &str) -> Result<String, EscapeError> {
    if number.is_empty() {
        return Err(EscapeError::Empty);
    }
    if let Some(c) = number
        .chars()
        .find(|c| !(c.is_ascii_digit() || matches!(c, '+' | '*' | '#')))
    {
        return Err(EscapeError::Forbidden(c));
    }
    match name {
        Some(name) => {
            check_line(name)?;
            forbid(name, &['"', '<', '>', '\\'])?;
            Ok(format!("\"{}\" <{number}>", name.replace(';', "\\;")))
        }
        None => Ok(format!("<{number}>")),
    }
}

/// A queue member's name (`member => PJSIP/101,0,NAME,PJSIP/101`): app_queue splits the
/// member line as application arguments (quotes, brackets and backslash escapes count),
/// so every character the splitter treats specially is backslash-escaped, then `;` for
/// the config reader.
pub fn queue_member_name(text: &str) -> Result<String, EscapeError> {
    check_line(text)?;
    let mut out = String::with_capacity(text.len() + 4);
    for c in text.chars() {
        match c {
            '\\' | ',' | '(' | ')' | '[' | ']' | '"' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            ';' => out.push_str("\\;"),
            c => out.push(c),
        }
    }
    Ok(out)
}

/// A person's name in a voicemail.conf mailbox line: the fields are split on `,` and
/// options on `|` with no escape for either, so each becomes a space (the name is
/// shown, and spoken by the directory; it is never parsed back).
pub fn voicemail_name(text: &str) -> Result<String, EscapeError> {
    let plain: String = text
        .replace([',', '|'], " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    voicemail_field(&plain)
}

/// A field of a voicemail.conf mailbox line (`PIN,Full Name,email,pager,options`):
/// the fields are split on `,` and options on `|`, with no escape for either.
pub fn voicemail_field(text: &str) -> Result<String, EscapeError> {
    forbid(text, &[',', '|'])?;
    conf_value(text)
}

/// The value of a mailbox option (`attach=yes|emailsubject=...`): split on `|` only.
pub fn voicemail_option(text: &str) -> Result<String, EscapeError> {
    forbid(text, &['|'])?;
    conf_value(text)
}

/// An argument of a custom dialplan line, written by an admin who may use `${EXTEN}` and
/// functions: kept verbatim except for what would change its meaning in the config file
/// (`;`) or split it into several arguments (a `,` outside parentheses, brackets and
/// quotes, counted as Asterisk's splitter counts them: brackets even inside quotes).
pub fn raw_arg(text: &str) -> Result<String, EscapeError> {
    if let Some(c) = text.chars().find(|c| c.is_control()) {
        return Err(EscapeError::Control(u32::from(c)));
    }
    if text.trim() != text {
        return Err(EscapeError::Whitespace);
    }
    let commas = crate::conf::argument_commas(text);
    if commas.dangling_escape {
        // A lone trailing backslash would escape the `,` that follows the argument.
        return Err(EscapeError::Forbidden('\\'));
    }
    let mut out = String::with_capacity(text.len() + 4);
    for (at, c) in text.char_indices() {
        match c {
            // `\;` from the admin keeps its backslash for the argument splitter; every
            // `;` is escaped for the config reader.
            ';' => out.push_str("\\;"),
            ',' if commas.offsets.contains(&at) => out.push_str("\\,"),
            c => out.push(c),
        }
    }
    Ok(out)
}

/// Text for a `;` comment line: control characters become `?` (a comment can hold
/// anything else).
pub fn comment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.push('?');
        } else {
            let _ = out.write_char(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conf_values() {
        assert_eq!(conf_value("a;b").unwrap(), "a\\;b");
        assert_eq!(conf_value("a\\;b").unwrap(), "a\\\\;b");
        assert_eq!(conf_value("x\ny"), Err(EscapeError::Control(10)));
        assert_eq!(conf_value(" x"), Err(EscapeError::Whitespace));
    }

    #[test]
    fn app_args() {
        assert_eq!(app_arg("custom/welcome").unwrap(), "custom/welcome");
        assert_eq!(app_arg("a,b(c)").unwrap(), "a\\,b\\(c\\)");
        assert_eq!(app_arg("${SHELL(x)}"), Err(EscapeError::Expression));
        assert_eq!(app_arg("a&b"), Err(EscapeError::Forbidden('&')));
    }

    #[test]
    fn an_extension_pattern_keeps_its_character_class_and_refuses_what_would_end_it() {
        assert_eq!(exten("_+[1-69]X.").unwrap(), "_+[1-69]X.");
        assert_eq!(exten("+74951234500").unwrap(), "+74951234500");
        assert_eq!(exten("_X./_8800XXXXXXX"), Err(EscapeError::Forbidden('/')));
        assert_eq!(exten("1,2"), Err(EscapeError::Forbidden(',')));
        assert_eq!(exten("_X${A}"), Err(EscapeError::Forbidden('$')));
        assert_eq!(exten(""), Err(EscapeError::Empty));
    }

    #[test]
    fn a_queue_member_name_keeps_every_character_escaped_for_the_member_line() {
        assert_eq!(
            queue_member_name("Smith, John (Sales) [x]; \"J\"").unwrap(),
            "Smith\\, John \\(Sales\\) \\[x\\]\\; \\\"J\\\""
        );
        assert_eq!(queue_member_name("a\nb"), Err(EscapeError::Control(10)));
    }

    #[test]
    fn a_voicemail_name_turns_field_separators_into_spaces() {
        assert_eq!(
            voicemail_name("Smith, John | Sales").unwrap(),
            "Smith John Sales"
        );
    }

    #[test]
    fn callerids() {
        assert_eq!(
            callerid(Some("Anna; B"), "101").unwrap(),
            "\"Anna\\; B\" <101>"
        );
        assert_eq!(callerid(None, "+7495").unwrap(), "<+7495>");
        assert!(callerid(Some("a\"b"), "1").is_err());
        assert!(callerid(Some("a"), "1 2").is_err());
    }

    #[test]
    fn raw_args_escape_only_top_level_commas() {
        assert_eq!(raw_arg("${CUT(a,-,1)}").unwrap(), "${CUT(a,-,1)}");
        assert_eq!(raw_arg("a,b").unwrap(), "a\\,b");
        assert_eq!(raw_arg("\"a,b\"").unwrap(), "\"a,b\"");
        assert_eq!(raw_arg("x;y").unwrap(), "x\\;y");
        assert_eq!(raw_arg("x\\;y").unwrap(), "x\\\\;y");
    }

    #[test]
    fn voicemail_fields() {
        assert!(voicemail_field("Petrova, Anna").is_err());
        assert!(voicemail_option("a|b").is_err());
        assert_eq!(
            voicemail_option("New message, ${VM_NAME}").unwrap(),
            "New message, ${VM_NAME}"
        );
    }
}

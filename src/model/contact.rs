//! The phonebook: people and companies that call in. An inbound call from one of their
//! numbers gets their name as its caller ID name (rendered into the dialplan, so plan
//! shows every change and apply keeps Asterisk in step); unknown callers keep what the
//! trunk sent.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Name;

/// E.164: `+`, a country code and the national number, 8 to 16 characters in all.
pub const E164_PATTERN: &str = "^\\+[1-9][0-9]{6,14}$";
/// What a name on a phone's display may hold: letters of any script, digits, spaces and
/// `. & ' / @ + _ -`; never `;`, `,`, quotes, brackets, `$`, backslashes or control
/// characters, which the dialplan or a SIP header would read as syntax. At most 60, said
/// by `maxLength` beside it: here and in every pattern of the schema a length is its own
/// keyword, since a bounded repeat (`{1,60}` of a Unicode class) compiles to an automaton
/// of tens of megabytes, built by every command that validates.
pub const DISPLAY_NAME_PATTERN: &str = "^[\\p{L}\\p{N} .&'/@+_-]+$";

/// One contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    /// The name shown on phones, e.g. `Ivan Petrov`.
    #[schemars(regex(pattern = DISPLAY_NAME_PATTERN), length(max = 60))]
    pub name: String,
    /// Shown after the name: `Ivan Petrov (Acme)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = DISPLAY_NAME_PATTERN), length(max = 60))]
    pub company: Option<String>,
    /// Their numbers in E.164 (`+74951234567`), as trunks deliver caller IDs.
    #[schemars(length(min = 1, max = 20), inner(regex(pattern = E164_PATTERN)))]
    pub numbers: Vec<String>,
    /// Only on these servers (default: every server).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub servers: Vec<Name>,
    /// For a contact read from a phonebook file: where each of its numbers is written
    /// there (a YAML contact's places are found through its origin instead).
    #[serde(skip)]
    #[schemars(skip)]
    pub number_spans: Vec<crate::source::Span>,
}

/// A phonebook file of the repo: a CRM's or address book's export, read as contacts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Phonebook {
    /// The file, relative to the repo root: `.csv` with a header row (a name column, one
    /// or more number columns, optionally a company column; `,` or `;` between fields),
    /// or `.vcf` vCards (`FN` or `N`, `ORG`, every `TEL`). Numbers may be formatted
    /// (`+7 (495) 123-45-67`); national numbers are made E.164 by `project.numbering`.
    #[schemars(regex(
        pattern = "^[^~/][^\\u0000]*\\.([Cc][Ss][Vv]|[Vv][Cc][Ff]|[Vv][Cc][Aa][Rr][Dd])$"
    ))]
    #[schemars(length(min = 5, max = 4096))]
    pub file: String,
    /// Only on these servers (default: every server).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub servers: Vec<Name>,
}

impl Contact {
    /// What phones show: the name, and the company in brackets, at most 60 characters.
    pub fn display(&self) -> String {
        shown_name(&self.name, self.company.as_deref())
    }

    pub fn on(&self, server: &str) -> bool {
        self.servers.is_empty() || self.servers.iter().any(|s| s.as_str() == server)
    }
}

/// How callers' numbers are written on this server's trunks, to find them in the
/// phonebook: `00`/`810` + country code + number for international calls, the trunk
/// prefix (`8`, `0`) + national number for national ones. Set under `project.numbering`
/// and per server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Numbering {
    /// The country's calling code, e.g. `7` (Russia), `44`, `1`.
    #[schemars(regex(pattern = "^[1-9][0-9]{0,2}$"))]
    pub country_code: String,
    /// What national numbers start with instead of the country code, e.g. `8` or `0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = "^[0-9]{1,2}$"))]
    pub trunk_prefix: Option<String>,
    /// What international numbers start with instead of `+`, e.g. `00` or `810`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = "^[0-9]{2,4}$"))]
    pub international_prefix: Option<String>,
}

/// Names for callers the phonebook does not know, looked up in a CRM by the astbase
/// agent: the dialplan asks the agent over FastAGI (`astbase agent --caller-lookup URL`)
/// and a caller the CRM does not know, or a CRM that is slow or down, keeps the name the
/// trunk sent. Set under `project.caller_lookup` and per server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CallerLookup {
    /// Where the agent's FastAGI server listens, as Asterisk reaches it (default
    /// `127.0.0.1`, the agent beside Asterisk).
    #[serde(default = "default_agi_host")]
    #[schemars(
        regex(pattern = "^([A-Za-z0-9][A-Za-z0-9.-]*|[0-9A-Fa-f:.]{2,45})$"),
        length(max = 253)
    )]
    pub host: String,
    /// Its port (default 4573, FastAGI's; `--caller-lookup-listen` of the agent).
    #[serde(default = "default_agi_port")]
    #[schemars(range(min = 1, max = 65535))]
    pub port: u16,
}

fn default_agi_host() -> String {
    "127.0.0.1".into()
}

fn default_agi_port() -> u16 {
    4573
}

impl CallerLookup {
    /// The dialplan's `AGI()` URL: `agi://127.0.0.1:4573/cidname`.
    pub fn agi_url(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        format!("agi://{host}:{}/cidname", self.port)
    }
}

/// What phones show for a name and company: `Name (Company)`, at most 60 characters.
pub fn shown_name(name: &str, company: Option<&str>) -> String {
    let full = match company {
        Some(c) => format!("{name} ({c})"),
        None => name.to_owned(),
    };
    full.chars().take(60).collect()
}

/// Why a phonebook number cannot be made E.164.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NumberProblem {
    #[error("it holds characters other than digits, `+` and spacing")]
    NotDigits,
    #[error("it is a national number and `project.numbering` is not set")]
    NoNumbering,
    #[error("it starts with neither `+`, the international prefix nor the trunk prefix")]
    NoPrefix,
    #[error("it is not 7 to 15 digits after the country code's `+`")]
    Length,
}

/// A phonebook number as E.164: spacing and punctuation (` -()./`) dropped, a `tel:`
/// scheme too; a number without `+` made international by `numbering` (the
/// international prefix becomes `+`, the trunk prefix `+` and the country code).
pub fn e164(raw: &str, numbering: Option<&Numbering>) -> Result<String, NumberProblem> {
    let raw = raw.trim();
    let raw = raw.strip_prefix("tel:").unwrap_or(raw);
    let mut kept = String::with_capacity(raw.len());
    for (i, c) in raw.chars().enumerate() {
        match c {
            '0'..='9' => kept.push(c),
            '+' if i == 0 => kept.push(c),
            ' ' | '-' | '(' | ')' | '.' | '/' | '\u{a0}' => {}
            _ => return Err(NumberProblem::NotDigits),
        }
    }
    let number = match kept.strip_prefix('+') {
        Some(_) => kept,
        None => {
            let n = numbering.ok_or(NumberProblem::NoNumbering)?;
            let international = n.international_prefix.as_deref();
            let national = n.trunk_prefix.as_deref();
            if let Some(rest) = international.and_then(|p| kept.strip_prefix(p)) {
                format!("+{rest}")
            } else if let Some(rest) = national.and_then(|p| kept.strip_prefix(p)) {
                format!("+{}{rest}", n.country_code)
            } else {
                return Err(NumberProblem::NoPrefix);
            }
        }
    };
    let digits = &number[1..];
    if !(7..=15).contains(&digits.len()) || digits.starts_with('0') {
        return Err(NumberProblem::Length);
    }
    Ok(number)
}

/// A name from a phonebook file, kept to the characters phones may show: anything
/// else (`,` `;` quotes brackets, control characters) becomes a space, spaces are
/// collapsed, and it is cut to 60 characters. `None` when nothing is left.
pub fn display_name(raw: &str) -> Option<String> {
    let kept: String = raw
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || " .&'/@+_-".contains(c) {
                c
            } else {
                ' '
            }
        })
        .collect();
    let name: String = kept
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(60)
        .collect();
    let name = name.trim_end().to_owned();
    (!name.is_empty()).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn russia() -> Numbering {
        Numbering {
            country_code: "7".into(),
            trunk_prefix: Some("8".into()),
            international_prefix: Some("810".into()),
        }
    }

    #[test]
    fn formatted_and_national_numbers_become_e164() {
        let n = russia();
        assert_eq!(e164("+7 (495) 123-45-67", None).unwrap(), "+74951234567");
        assert_eq!(e164("tel:+44-20-7946-0018", None).unwrap(), "+442079460018");
        assert_eq!(e164("8 916 000-00-01", Some(&n)).unwrap(), "+79160000001");
        assert_eq!(
            e164("810 44 20 7946 0018", Some(&n)).unwrap(),
            "+442079460018"
        );
    }

    #[test]
    fn numbers_that_cannot_be_matched_say_why() {
        let n = russia();
        assert_eq!(
            e164("ask reception", Some(&n)),
            Err(NumberProblem::NotDigits)
        );
        assert_eq!(e164("+7 495 1234 x12", None), Err(NumberProblem::NotDigits));
        assert_eq!(e164("84951234567", None), Err(NumberProblem::NoNumbering));
        assert_eq!(e164("4951234567", Some(&n)), Err(NumberProblem::NoPrefix));
        assert_eq!(e164("+7123", None), Err(NumberProblem::Length));
    }

    #[test]
    fn phonebook_names_keep_only_what_phones_may_show() {
        assert_eq!(display_name("Petrov, Ivan").unwrap(), "Petrov Ivan");
        assert_eq!(display_name("\"O'Neil\"; DROP").unwrap(), "O'Neil DROP");
        assert_eq!(display_name("Анна  Смирнова\n").unwrap(), "Анна Смирнова");
        assert_eq!(display_name(" ;;\t"), None);
        assert_eq!(display_name(&"x".repeat(80)).unwrap().len(), 60);
    }
}

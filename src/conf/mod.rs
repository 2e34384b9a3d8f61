//! A reader of Asterisk's config grammar (main/config.c), for checking what we render,
//! detecting drift on hosts and importing existing configs.
//!
//! It follows Asterisk line by line: `;` comments unless escaped `\;` (which becomes `;`),
//! `;-- ... --;` block comments (nesting, spanning lines), white space stripped at both
//! ends, `[section]` headers with `(!)`, `(+)`, `(tpl1,tpl2)` and `(+type=...)` options,
//! `key = value`, `key => value`, `key += value`, and `#include` / `#tryinclude` / `#exec`
//! directives. Lines Asterisk would skip or reject are reported as problems.

/// Asterisk's line buffer: longer lines are skipped with only a warning.
pub const MAX_LINE_BYTES: usize = 8191;

/// A parsed config file.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ConfFile {
    pub sections: Vec<Section>,
    pub directives: Vec<Directive>,
    pub problems: Vec<Problem>,
}

/// `[name](options)` and the variables under it.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    pub name: String,
    pub line: usize,
    /// `(!)`: a template.
    pub is_template: bool,
    /// `(+)`: appends to an earlier section of that name.
    pub append: bool,
    /// `(tpl1,tpl2)`: templates inherited.
    pub inherits: Vec<String>,
    pub vars: Vec<Var>,
}

impl Section {
    /// The first value of a key (keys compare case-insensitively, as in Asterisk).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.vars
            .iter()
            .find(|v| v.key.eq_ignore_ascii_case(key))
            .map(|v| v.value.as_str())
    }

    /// Every value of a key, in order.
    pub fn get_all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.vars
            .iter()
            .filter(move |v| v.key.eq_ignore_ascii_case(key))
            .map(|v| v.value.as_str())
    }
}

/// `key = value` (or `=>`, `+=`).
#[derive(Debug, Clone, PartialEq)]
pub struct Var {
    pub key: String,
    pub value: String,
    pub line: usize,
    /// Written with `=>` (dialplan style).
    pub arrow: bool,
    /// Written with `+=`.
    pub append: bool,
}

/// `#include`, `#tryinclude` or `#exec`.
#[derive(Debug, Clone, PartialEq)]
pub struct Directive {
    pub kind: DirectiveKind,
    pub argument: String,
    pub line: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirectiveKind {
    Include,
    TryInclude,
    Exec,
}

/// A line Asterisk would not read as written.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub line: usize,
    pub message: String,
}

/// Removes comments from one physical line, tracking block comments across lines.
/// `depth` is the block-comment nesting carried from the previous line.
fn strip_comments(raw: &str, depth: &mut usize) -> String {
    let bytes = raw.as_bytes();
    let mut out = String::with_capacity(raw.len());
    let mut i = 0;
    while i < bytes.len() {
        if *depth > 0 {
            if raw[i..].starts_with("--;") {
                *depth -= 1;
                i += 3;
            } else if raw[i..].starts_with(";--") {
                *depth += 1;
                i += 3;
            } else {
                i += raw[i..].chars().next().map_or(1, char::len_utf8);
            }
            continue;
        }
        if bytes[i] == b';' {
            if i > 0 && bytes[i - 1] == b'\\' {
                // `\;` is a literal `;`: drop the backslash we already copied.
                out.pop();
                out.push(';');
                i += 1;
                continue;
            }
            if raw[i..].starts_with(";--") {
                *depth += 1;
                i += 3;
                continue;
            }
            break; // a line comment: the rest is ignored
        }
        let c = raw[i..].chars().next().expect("in bounds");
        out.push(c);
        i += c.len_utf8();
    }
    out
}

/// Parses config text the way Asterisk's config reader does.
pub fn parse(text: &str) -> ConfFile {
    let mut file = ConfFile::default();
    let mut depth = 0usize;
    for (index, raw) in text.split('\n').enumerate() {
        let number = index + 1;
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        if raw.len() > MAX_LINE_BYTES {
            file.problems.push(Problem {
                line: number,
                message: format!(
                    "line is {} bytes; Asterisk skips lines over {MAX_LINE_BYTES}",
                    raw.len()
                ),
            });
            continue;
        }
        let line = strip_comments(raw, &mut depth);
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix('#') {
            parse_directive(rest, number, &mut file);
        } else if let Some(rest) = line.strip_prefix('[') {
            parse_section(rest, number, &mut file);
        } else {
            parse_var(line, number, &mut file);
        }
    }
    if depth > 0 {
        file.problems.push(Problem {
            line: text.split('\n').count(),
            message: "a `;--` block comment is never closed".into(),
        });
    }
    file
}

fn parse_directive(rest: &str, line: usize, file: &mut ConfFile) {
    let (word, argument) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let kind = match word.to_ascii_lowercase().as_str() {
        "include" => DirectiveKind::Include,
        "tryinclude" => DirectiveKind::TryInclude,
        "exec" => DirectiveKind::Exec,
        other => {
            file.problems.push(Problem {
                line,
                message: format!("unknown directive `#{other}`"),
            });
            return;
        }
    };
    let argument = argument.trim();
    let argument = argument
        .strip_prefix('"')
        .and_then(|a| a.strip_suffix('"'))
        .or_else(|| argument.strip_prefix('<').and_then(|a| a.strip_suffix('>')))
        .unwrap_or(argument);
    file.directives.push(Directive {
        kind,
        argument: argument.to_owned(),
        line,
    });
}

fn parse_section(rest: &str, line: usize, file: &mut ConfFile) {
    let Some(close) = rest.find(']') else {
        // Asterisk stops reading the file here.
        file.problems.push(Problem {
            line,
            message: "`[` without `]`: Asterisk drops the rest of the file".into(),
        });
        return;
    };
    let name = rest[..close].to_owned();
    let mut section = Section {
        name,
        line,
        is_template: false,
        append: false,
        inherits: Vec::new(),
        vars: Vec::new(),
    };
    let options = rest[close + 1..].trim();
    if let Some(options) = options.strip_prefix('(').and_then(|o| o.strip_suffix(')')) {
        for option in options.split(',').map(str::trim) {
            match option {
                "!" => section.is_template = true,
                "+" => section.append = true,
                o if o.starts_with('+') => section.append = true, // (+type=endpoint)
                o if o.contains('=') => {}                        // a type filter
                o if !o.is_empty() => section.inherits.push(o.to_owned()),
                _ => {}
            }
        }
    } else if !options.is_empty() {
        file.problems.push(Problem {
            line,
            message: format!("unexpected text after section header: `{options}`"),
        });
    }
    file.sections.push(section);
}

fn parse_var(line_text: &str, line: usize, file: &mut ConfFile) {
    let Some(eq) = line_text.find('=') else {
        file.problems.push(Problem {
            line,
            message: "no `=` in line; Asterisk ignores it".into(),
        });
        return;
    };
    let (mut key, mut value) = (&line_text[..eq], &line_text[eq + 1..]);
    let arrow = value.starts_with('>');
    if arrow {
        value = &value[1..];
    }
    let append = key.ends_with('+');
    if append {
        key = &key[..key.len() - 1];
    }
    let Some(section) = file.sections.last_mut() else {
        file.problems.push(Problem {
            line,
            message: "a key before any [section]; Asterisk rejects it (or, in an included file, \
                      silently adds it to the including file's last section)"
                .into(),
        });
        return;
    };
    section.vars.push(Var {
        key: key.trim().to_owned(),
        value: value.trim().to_owned(),
        line,
        arrow,
        append,
    });
}

/// Where application data splits into arguments, as Asterisk's splitter finds it: the
/// byte offsets of the commas outside parentheses and brackets (counted even inside
/// quotes) and outside quotes, not escaped with `\`. Splitting the data there and
/// escaping exactly those commas again are inverses, which the import and the
/// renderer rely on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgumentCommas {
    pub offsets: Vec<usize>,
    /// The data ends in a backslash that escapes nothing.
    pub dangling_escape: bool,
}

pub fn argument_commas(data: &str) -> ArgumentCommas {
    let mut offsets = Vec::new();
    let (mut depth, mut quoted, mut escaped) = (0usize, false, false);
    for (at, c) in data.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '"' => quoted = !quoted,
            '(' | '[' => depth += 1,
            ')' | ']' => depth = depth.saturating_sub(1),
            ',' if depth == 0 && !quoted => offsets.push(at),
            _ => {}
        }
    }
    ArgumentCommas {
        offsets,
        dangling_escape: escaped,
    }
}

/// Splits application arguments the way Asterisk's `ast_app_separate_args` does: on `,`
/// outside `()`, `[]` and double quotes; quotes are removed and `\x` becomes `x`.
pub fn separate_args(data: &str) -> Vec<String> {
    let mut args = vec![String::new()];
    let (mut paren, mut bracket, mut quote) = (0usize, 0usize, false);
    let mut chars = data.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(next) = chars.next() {
                    args.last_mut().expect("non-empty").push(next);
                }
                continue;
            }
            '"' => {
                quote = !quote;
                continue;
            }
            '(' => paren += 1,
            ')' => paren = paren.saturating_sub(1),
            '[' => bracket += 1,
            ']' => bracket = bracket.saturating_sub(1),
            ',' if paren == 0 && bracket == 0 && !quote => {
                args.push(String::new());
                continue;
            }
            _ => {}
        }
        args.last_mut().expect("non-empty").push(c);
    }
    args
}

/// A dialplan line's parts: `exten => EXTEN,PRIORITY[(label)],APP(DATA)`.
#[derive(Debug, Clone, PartialEq)]
pub struct DialplanStep {
    /// Extension (with `/callerid` if any); `None` for `same =>`.
    pub exten: Option<String>,
    pub priority: String,
    pub label: Option<String>,
    pub app: String,
    pub data: String,
}

/// Splits the value of an `exten =>` or `same =>` line the way pbx_config does: the first
/// fields by `,`, the application up to its first `(`, the data up to the last `)`.
pub fn dialplan_step(key: &str, value: &str) -> Option<DialplanStep> {
    let (exten, rest) = if key.eq_ignore_ascii_case("exten") {
        let (e, r) = value.split_once(',')?;
        (Some(e.trim().to_owned()), r)
    } else if key.eq_ignore_ascii_case("same") {
        (None, value)
    } else {
        return None;
    };
    let (priority, app) = rest.split_once(',').unwrap_or((rest, ""));
    let priority = priority.trim();
    let (priority, label) = match priority.split_once('(') {
        Some((p, l)) => (p.to_owned(), Some(l.trim_end_matches(')').to_owned())),
        None => (priority.to_owned(), None),
    };
    let app = app.trim();
    let (app_name, data) = match app.find('(') {
        Some(open) => {
            let close = app.rfind(')').filter(|c| *c > open).unwrap_or(app.len());
            (&app[..open], &app[open + 1..close])
        }
        None => (app, ""),
    };
    Some(DialplanStep {
        exten,
        priority,
        label,
        app: app_name.trim().to_owned(),
        data: data.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_grammar() {
        let text = "; header\n[general](+)\nstatic=yes ; comment\n[101](!)\ntype = endpoint\n\
                    [102](101,tpl2)\ncallerid=\"A\\;B\" <102>\n;-- block\n[hidden]\n--; after=1\n\
                    #tryinclude \"pjsip_odoo.conf\"\n#include <x.conf>\nexten => 100,1,Dial(PJSIP/100,20)\n";
        let f = parse(text);
        let names: Vec<&str> = f.sections.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, vec!["general", "101", "102"]);
        assert!(f.sections[0].append);
        assert!(f.sections[1].is_template);
        assert_eq!(f.sections[2].inherits, vec!["101", "tpl2"]);
        assert_eq!(f.sections[2].get("callerid"), Some("\"A;B\" <102>"));
        assert_eq!(f.sections[2].get("after"), Some("1"));
        assert_eq!(f.directives[0].kind, DirectiveKind::TryInclude);
        assert_eq!(f.directives[0].argument, "pjsip_odoo.conf");
        assert_eq!(f.directives[1].argument, "x.conf");
        let exten = f.sections[2].vars.last().unwrap();
        assert!(exten.arrow);
        assert_eq!(exten.value, "100,1,Dial(PJSIP/100,20)");
        assert!(f.problems.is_empty(), "{:?}", f.problems);
    }

    #[test]
    fn reports_what_asterisk_would_not_read() {
        let f = parse("key=before\n[ok]\nnovalue\n[broken\nx=1\n");
        assert_eq!(f.problems.len(), 3, "{:?}", f.problems);
        let f = parse(&format!("[a]\nx={}\n", "y".repeat(9000)));
        assert_eq!(f.problems[0].line, 2);
    }

    #[test]
    fn splits_arguments_like_asterisk() {
        assert_eq!(
            separate_args("PJSIP/100,20,tT"),
            vec!["PJSIP/100", "20", "tT"]
        );
        assert_eq!(separate_args("${CUT(a,-,1)},x"), vec!["${CUT(a,-,1)}", "x"]);
        assert_eq!(separate_args("a\\,b,\"c,d\""), vec!["a,b", "c,d"]);
        assert_eq!(separate_args("$[1 , 2]"), vec!["$[1 , 2]"]);
    }

    #[test]
    fn dialplan_steps() {
        let s = dialplan_step("exten", "_9X.,1(start),Dial(PJSIP/${EXTEN}@t,60)").unwrap();
        assert_eq!(s.exten.as_deref(), Some("_9X."));
        assert_eq!(s.label.as_deref(), Some("start"));
        assert_eq!(s.app, "Dial");
        assert_eq!(s.data, "PJSIP/${EXTEN}@t,60");
        let s = dialplan_step("same", "n,Hangup()").unwrap();
        assert_eq!(
            (s.exten, s.priority.as_str(), s.app.as_str()),
            (None, "n", "Hangup")
        );
        let s = dialplan_step("exten", "100,hint,PJSIP/100").unwrap();
        assert_eq!(s.priority, "hint");
    }
}

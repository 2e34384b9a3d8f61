//! The sections of one module's configuration as Asterisk assembles them: files in
//! include order, `(+)` additions joined to their section, templates `(!)` resolved
//! into the sections that inherit them `(tpl)`.

use std::collections::HashMap;

use super::gather::{ConfSet, Content};
use crate::conf::Section;

/// Where a piece of an object is written: its header line through its last line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Origin {
    pub file: usize,
    pub first_line: usize,
    pub last_line: usize,
}

/// One variable of an object, with where it was written (a template's variable
/// carries the template's line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub key: String,
    pub value: String,
    pub file: usize,
    pub line: usize,
    /// Written with `=>` (dialplan lines, queue members, mailboxes).
    pub arrow: bool,
}

/// A section after templates and additions: what the module reads.
#[derive(Debug, Clone)]
pub struct Object {
    pub name: String,
    pub settings: Vec<Setting>,
    /// The section itself and its `(+)` additions.
    pub origins: Vec<Origin>,
    /// The templates it inherits, by name (their own templates included).
    pub templates: Vec<String>,
}

impl Object {
    /// The value Asterisk keeps for a single-valued key: the last one set.
    pub fn last(&self, key: &str) -> Option<&str> {
        self.settings
            .iter()
            .rev()
            .find(|s| s.key.eq_ignore_ascii_case(key))
            .map(|s| s.value.as_str())
    }

    /// Every value of a key, in order.
    pub fn all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a Setting> + 'a {
        self.settings
            .iter()
            .filter(move |s| s.key.eq_ignore_ascii_case(key))
    }

    /// The `type=` of a PJSIP object.
    pub fn kind(&self) -> Option<&str> {
        self.last("type")
    }

    pub fn origin(&self) -> Origin {
        self.origins[0]
    }
}

/// A template and where it is written.
#[derive(Debug, Clone)]
pub struct Template {
    pub name: String,
    pub settings: Vec<Setting>,
    pub origins: Vec<Origin>,
    pub templates: Vec<String>,
}

/// A problem Asterisk itself would have with the sections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flaw {
    pub file: usize,
    pub line: usize,
    pub message: String,
}

#[derive(Debug, Clone, Default)]
pub struct Assembled {
    pub objects: Vec<Object>,
    pub templates: Vec<Template>,
    pub flaws: Vec<Flaw>,
}

/// The sections of the module whose first file is `module`, in the order Asterisk
/// reads them (an included file's sections where its `#include` stands).
pub fn placed<'a>(set: &'a ConfSet, module: &str) -> Vec<(usize, &'a Section)> {
    let mut out = Vec::new();
    if let Some(first) = set.module(module) {
        let mut stack = vec![first];
        place(set, first, &mut out, &mut stack);
    }
    out
}

fn place<'a>(
    set: &'a ConfSet,
    file: usize,
    out: &mut Vec<(usize, &'a Section)>,
    stack: &mut Vec<usize>,
) {
    let Content::Parsed(parsed) = &set.files[file].content else {
        return;
    };
    let mut directives = parsed.directives.iter().peekable();
    for section in &parsed.sections {
        while let Some(d) = directives.next_if(|d| d.line < section.line) {
            include(set, file, d.line, out, stack);
        }
        out.push((file, section));
    }
    for d in directives {
        include(set, file, d.line, out, stack);
    }
}

fn include<'a>(
    set: &'a ConfSet,
    file: usize,
    line: usize,
    out: &mut Vec<(usize, &'a Section)>,
    stack: &mut Vec<usize>,
) {
    for &child in set.included(file, line) {
        // A file including itself (directly or not) would loop: Asterisk stops too.
        if stack.contains(&child) {
            continue;
        }
        stack.push(child);
        place(set, child, out, stack);
        stack.pop();
    }
}

fn span(file: usize, section: &Section) -> Origin {
    let last_line = section
        .vars
        .iter()
        .map(|v| v.line)
        .max()
        .unwrap_or(section.line);
    Origin {
        file,
        first_line: section.line,
        last_line,
    }
}

/// Assembles the module's objects: templates resolved, additions joined.
pub fn assemble(set: &ConfSet, module: &str) -> Assembled {
    let mut out = Assembled::default();
    let mut template_index: HashMap<String, usize> = HashMap::new();
    for (file, section) in placed(set, module) {
        let own: Vec<Setting> = section
            .vars
            .iter()
            .map(|v| Setting {
                key: v.key.clone(),
                value: v.value.clone(),
                file,
                line: v.line,
                arrow: v.arrow,
            })
            .collect();
        let origin = span(file, section);
        if section.append {
            // `(+)` adds to the latest section of that name, template or not.
            let object = out
                .objects
                .iter_mut()
                .rev()
                .find(|o| o.name == section.name);
            if let Some(o) = object {
                o.settings.extend(own);
                o.origins.push(origin);
                continue;
            }
            if let Some(&t) = template_index.get(&section.name) {
                out.templates[t].settings.extend(own);
                out.templates[t].origins.push(origin);
                continue;
            }
        }
        let mut settings = Vec::new();
        let mut templates = Vec::new();
        for name in &section.inherits {
            match template_index.get(name) {
                Some(&t) => {
                    let t = &out.templates[t];
                    settings.extend(t.settings.iter().cloned());
                    templates.extend(t.templates.iter().cloned());
                    templates.push(t.name.clone());
                }
                None => out.flaws.push(Flaw {
                    file,
                    line: section.line,
                    message: format!(
                        "[{}] inherits `{name}`, which no earlier section defines",
                        section.name
                    ),
                }),
            }
        }
        settings.extend(own);
        if section.is_template {
            template_index.insert(section.name.clone(), out.templates.len());
            out.templates.push(Template {
                name: section.name.clone(),
                settings,
                origins: vec![origin],
                templates,
            });
        } else {
            out.objects.push(Object {
                name: section.name.clone(),
                settings,
                origins: vec![origin],
                templates,
            });
        }
    }
    out
}

//! Custom dialplans: includes, the first line, patterns, arguments Asterisk would split
//! wrongly, lines too long for Asterisk.

use crate::diagnostics::quote;
use crate::model::{Kind, Target};
use crate::source::Segment;
use crate::validate::text;

use super::Checker;

impl<'a> Checker<'a> {
    pub(super) fn dialplans(&mut self) {
        for d in &self.fleet.dialplans {
            let o = &d.origin;
            let server = d.server.as_str();
            if !self.server_ref(&o.field("server"), &d.server) {
                continue;
            }
            for (i, inc) in d.includes.iter().enumerate() {
                let io = o.field("includes").at(&[Segment::Index(i)]);
                if *inc == d.name {
                    self.error(
                        "include-loop",
                        self.loc.value(&io),
                        format!("dialplan `{}` includes itself", d.name),
                        "",
                    );
                    continue;
                }
                self.scoped_ref(Kind::Dialplan, &io, server, inc.as_str());
            }
            if d.number.is_some() {
                // Dialled, the call enters where a `{dialplan: name}` destination does.
                self.target(
                    &o.field("number"),
                    server,
                    &Target::Dialplan(d.name.clone()),
                );
            }
            if d.lines.first().is_some_and(|l| l.exten.is_none()) {
                self.error(
                    "missing-field",
                    self.loc.value(&o.field("lines").at(&[Segment::Index(0)])),
                    "the first dialplan line needs `exten`".into(),
                    "Asterisk skips a first line written `same =>`; add e.g. `exten: s`",
                );
            }
            for (i, line) in d.lines.iter().enumerate() {
                let lo = o.field("lines").at(&[Segment::Index(i)]);
                if let Some(exten) = &line.exten
                    && exten.starts_with('_')
                {
                    self.dial_pattern(&lo.field("exten"), exten);
                }
                for (j, arg) in line.args.iter().enumerate() {
                    if let Err(why) = text::check_balanced(&arg.to_text()) {
                        self.error(
                            "unbalanced-argument",
                            self.loc.value(&lo.field("args").at(&[Segment::Index(j)])),
                            format!("argument {} {why}", quote(&arg.to_text())),
                            "Asterisk splits arguments on commas outside (), [] and quotes; balance them, or escape them with a backslash",
                        );
                    }
                }
                let length = line.app.len()
                    + line
                        .args
                        .iter()
                        .map(|a| a.to_text().len() * 2 + 1)
                        .sum::<usize>()
                    + 120;
                if length > 8000 {
                    self.error(
                        "line-too-long",
                        self.loc.value(&lo),
                        format!("this line would render to about {length} bytes; Asterisk skips lines over 8192"),
                        "split the work over several lines",
                    );
                }
            }
        }
    }
}

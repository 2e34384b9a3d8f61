//! voicemail.conf, queues.conf and musiconhold.conf into mailboxes, queues and
//! music-on-hold classes.

use std::collections::HashMap;

use super::gather::ConfSet;
use super::objects::{Assembled, Origin};
use super::pjsip::truthy;
use super::report::{Outcome, Report};
use super::secrets::Secrets;
use crate::model::extension::Mailbox;
use crate::model::moh::{MohSort, MusicOnHold};
use crate::model::names::{DialNumber, Name};
use crate::model::queue::{Member, MemberDetail, Queue, Strategy};

/// A mailbox line `101 => 1234,Anna,anna@example.com,,attach=yes`, read.
#[derive(Debug, Clone)]
pub struct BoxImport {
    pub context: String,
    pub number: String,
    pub mailbox: Mailbox,
    pub name: Option<String>,
    pub origin: Origin,
}

/// Sections of voicemail.conf that hold settings, not mailboxes.
const VOICEMAIL_SETTINGS: [&str; 2] = ["general", "zonemessages"];

/// Every mailbox of voicemail.conf; the caller attaches them to extensions.
pub fn mailboxes(
    set: &ConfSet,
    vm: &Assembled,
    server: &str,
    secrets: &mut Secrets,
    report: &mut Report,
) -> Vec<BoxImport> {
    let mut out = Vec::new();
    for o in &vm.objects {
        if VOICEMAIL_SETTINGS.contains(&o.name.to_ascii_lowercase().as_str()) {
            report.push(
                set,
                o.origin(),
                format!("[{}]", o.name),
                Outcome::Left,
                "voicemail settings: astbase writes its own per mailbox and leaves these",
            );
            continue;
        }
        for s in &o.settings {
            let fields: Vec<&str> = s.value.split(',').collect();
            let origin = Origin {
                file: s.file,
                first_line: s.line,
                last_line: s.line,
            };
            let pin = fields[0].trim();
            let number = s.key.trim();
            let section = format!("{}/{}", o.name, number);
            if !number.bytes().all(|b| b.is_ascii_digit()) || number.is_empty() || pin.is_empty() {
                report.push(
                    set,
                    origin,
                    section,
                    Outcome::Left,
                    "not a mailbox astbase can hold (number and PIN of digits)",
                );
                continue;
            }
            let options: HashMap<String, String> = fields
                .get(4)
                .map(|o| {
                    o.split('|')
                        .filter_map(|kv| kv.split_once('='))
                        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
                        .collect()
                })
                .unwrap_or_default();
            let email = fields
                .get(2)
                .map(|e| e.trim())
                .filter(|e| !e.is_empty())
                .map(str::to_owned);
            let mailbox = Mailbox {
                enabled: true,
                pin: secrets.keep(server, &["vm", number, "pin"], pin),
                in_directory: !options.get("hidefromdir").is_some_and(|v| truthy(v)),
                email,
                attach: options.get("attach").map(|v| truthy(v)),
                delete_after_email: options.get("delete").is_some_and(|v| truthy(v)),
            };
            out.push(BoxImport {
                context: o.name.clone(),
                number: number.to_owned(),
                mailbox,
                name: fields
                    .get(1)
                    .map(|n| n.trim())
                    .filter(|n| !n.is_empty())
                    .map(str::to_owned),
                origin,
            });
        }
    }
    out
}

/// Queues with their static members (extensions of `numbers` only).
pub fn queues(
    set: &ConfSet,
    q: &Assembled,
    server: &str,
    numbers: &[String],
    report: &mut Report,
) -> Vec<Queue> {
    let mut out = Vec::new();
    for o in &q.objects {
        let section = format!("[{}]", o.name);
        if o.name.eq_ignore_ascii_case("general") {
            report.push(
                set,
                o.origin(),
                section,
                Outcome::Left,
                "queue settings of the module: left as they are",
            );
            continue;
        }
        let result = (|| -> Result<(Queue, Vec<String>), String> {
            let name = super::pjsip::name(&o.name)?;
            let mut notes = Vec::new();
            let mut members = Vec::new();
            for m in o.all("member") {
                let fields: Vec<&str> = m.value.split(',').map(str::trim).collect();
                let number = fields[0]
                    .strip_prefix("PJSIP/")
                    .filter(|n| numbers.iter().any(|x| x == n))
                    .ok_or_else(|| {
                        format!("member `{}` is not an imported extension", fields[0])
                    })?;
                let penalty: u32 = fields.get(1).filter(|p| !p.is_empty()).map_or(Ok(0), |p| {
                    p.parse()
                        .map_err(|_| format!("member penalty `{p}` is not a number"))
                })?;
                members.push(if penalty == 0 {
                    Member::Number(DialNumber(number.to_owned()))
                } else {
                    Member::Detailed(MemberDetail {
                        extension: DialNumber(number.to_owned()),
                        penalty,
                    })
                });
            }
            let strategy = match o
                .last("strategy")
                .unwrap_or("ringall")
                .to_ascii_lowercase()
                .as_str()
            {
                "ringall" => Strategy::Ringall,
                "leastrecent" => Strategy::Leastrecent,
                "fewestcalls" => Strategy::Fewestcalls,
                "random" => Strategy::Random,
                "rrmemory" => Strategy::Rrmemory,
                "rrordered" => Strategy::Rrordered,
                "linear" => Strategy::Linear,
                "wrandom" => Strategy::Wrandom,
                other => return Err(format!("strategy={other} has no astbase equivalent")),
            };
            let number = |key: &str| -> Result<Option<u32>, String> {
                o.last(key)
                    .map(|v| {
                        v.trim()
                            .parse()
                            .map_err(|_| format!("{key}={v} is not a number"))
                    })
                    .transpose()
            };
            let flag = |key: &str| -> Result<Option<bool>, String> {
                o.last(key)
                    .map(|v| match v.trim().to_ascii_lowercase().as_str() {
                        "yes" | "true" => Ok(true),
                        "no" | "false" => Ok(false),
                        other => Err(format!("{key}={other}: astbase has yes or no only")),
                    })
                    .transpose()
            };
            const KNOWN: [&str; 12] = [
                "member",
                "strategy",
                "timeout",
                "retry",
                "wrapuptime",
                "maxlen",
                "musicclass",
                "joinempty",
                "leavewhenempty",
                "announce-frequency",
                "announce-holdtime",
                "servicelevel",
            ];
            for s in &o.settings {
                let key = s.key.to_ascii_lowercase();
                if !KNOWN.contains(&key.as_str())
                    && !notes
                        .iter()
                        .any(|n: &String| n.contains(&format!("`{key}=")))
                {
                    notes.push(format!(
                        "`{key}={}` has no astbase field: not carried over",
                        s.value
                    ));
                }
            }
            let queue = Queue {
                name,
                number: None,
                server: Name(server.to_owned()),
                strategy,
                members,
                agents: Vec::new(),
                ring_timeout: number("timeout")?,
                retry: number("retry")?,
                wrapup: number("wrapuptime")?,
                max_length: number("maxlen")?,
                max_wait: None,
                music_class: o.last("musicclass").map(|m| Name(m.to_owned())),
                join_when_empty: flag("joinempty")?,
                leave_when_empty: flag("leavewhenempty")?,
                announce_frequency: number("announce-frequency")?,
                announce_holdtime: flag("announce-holdtime")?.unwrap_or(false),
                service_level: number("servicelevel")?,
                greeting: None,
                recording: false,
                on_timeout: None,
                on_full: None,
                on_empty: None,
            };
            Ok((queue, notes))
        })();
        match result {
            Ok((queue, notes)) => {
                let entry = report.push_all(
                    set,
                    o.origins.clone(),
                    section,
                    Outcome::Imported,
                    format!("queue {}", o.name),
                );
                entry.notes = notes;
                out.push(queue);
            }
            Err(why) => {
                report.push(set, o.origin(), section, Outcome::Left, why);
            }
        }
    }
    out
}

/// Music-on-hold classes that play files from a directory. Asterisk's own `default`
/// class as a stock install writes it stays where it is.
pub fn music(set: &ConfSet, moh: &Assembled, report: &mut Report) -> Vec<MusicOnHold> {
    let mut out = Vec::new();
    for o in &moh.objects {
        let section = format!("[{}]", o.name);
        let mode = o.last("mode").unwrap_or("files").to_ascii_lowercase();
        let directory = o.last("directory").unwrap_or("");
        if o.name.eq_ignore_ascii_case("general") {
            report.push(
                set,
                o.origin(),
                section,
                Outcome::Left,
                "module settings: left as they are",
            );
            continue;
        }
        if o.name == "default" && directory == "moh" && mode == "files" {
            report.push(
                set,
                o.origin(),
                section,
                Outcome::Left,
                "Asterisk's stock class: left as it is",
            );
            continue;
        }
        let result = (|| -> Result<MusicOnHold, String> {
            if mode != "files" {
                return Err(format!("mode={mode}: astbase classes play files"));
            }
            let sort = match o.last("sort").map(str::to_ascii_lowercase).as_deref() {
                None | Some("random") => MohSort::Random,
                Some("alpha") => MohSort::Alpha,
                Some(other) => return Err(format!("sort={other} has no astbase equivalent")),
            };
            if directory.is_empty() {
                return Err("no directory".into());
            }
            Ok(MusicOnHold {
                name: super::pjsip::name(&o.name)?,
                directory: directory.to_owned(),
                sort,
            })
        })();
        match result {
            Ok(class) => {
                report.push_all(
                    set,
                    o.origins.clone(),
                    section,
                    Outcome::Imported,
                    format!("music on hold {}", o.name),
                );
                out.push(class);
            }
            Err(why) => {
                report.push(set, o.origin(), section, Outcome::Left, why);
            }
        }
    }
    out
}

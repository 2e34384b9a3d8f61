//! Inbound and outbound routes: patterns, trunks, destinations, routes that match the
//! same calls, strip lengths, allow lists.

use std::collections::HashMap;

use crate::diagnostics::Diagnostic;
use crate::model::{Kind, Name, Origin};
use crate::source::Segment;

use super::Checker;

/// What an inbound route matches: (server, DID, caller id, sorted trunks).
type InboundKey<'a> = (&'a str, Option<&'a str>, Option<&'a str>, Vec<&'a str>);

impl<'a> Checker<'a> {
    pub(super) fn inbound_routes(&mut self) {
        let mut seen: HashMap<InboundKey, &Origin> = HashMap::new();
        for r in &self.fleet.inbound_routes {
            let o = &r.origin;
            let server = r.server.as_str();
            if !self.server_ref(&o.field("server"), &r.server) {
                continue;
            }
            if let Some(did) = &r.did {
                self.dial_pattern(&o.field("did"), did.as_str());
            }
            if let Some(cid) = &r.callerid {
                self.dial_pattern(&o.field("callerid"), cid.as_str());
            }
            for (i, trunk) in r.trunks.iter().enumerate() {
                self.scoped_ref(
                    Kind::Trunk,
                    &o.field("trunks").at(&[Segment::Index(i)]),
                    server,
                    trunk.as_str(),
                );
            }
            self.target(&o.field("target"), server, &r.target);
            let mut trunks: Vec<&str> = r.trunks.iter().map(Name::as_str).collect();
            trunks.sort_unstable();
            let key = (
                server,
                r.did.as_ref().map(|d| d.as_str()),
                r.callerid.as_ref().map(|c| c.as_str()),
                trunks,
            );
            if let Some(first) = seen.get(&key) {
                let d = Diagnostic::error(
                    "duplicate-route",
                    format!(
                        "inbound route `{}` matches exactly the same calls as another route",
                        r.name
                    ),
                )
                .at(self.loc.value(&o.field("name")))
                .related(self.loc.value(&first.field("name")), "the other route")
                .hint("only one of them could ever apply; merge them or change `did`/`callerid`");
                self.out.push(d);
            } else {
                seen.insert(key, o);
            }
        }
    }

    pub(super) fn outbound_routes(&mut self) {
        // The first route (in definition order) with each pattern, per server: the
        // phones' and forwards' contexts hold each pattern once, for that route.
        let mut first: HashMap<(&str, &str), (&str, Origin)> = HashMap::new();
        for r in &self.fleet.outbound_routes {
            let o = &r.origin;
            let server = r.server.as_str();
            if !self.server_ref(&o.field("server"), &r.server) {
                continue;
            }
            for (i, p) in r.patterns.iter().enumerate() {
                let po = o.field("patterns").at(&[Segment::Index(i)]);
                self.dial_pattern(&po.field("match"), p.pattern.as_str());
                let key = (server, p.pattern.as_str());
                match first.get(&key) {
                    Some((route, at)) => {
                        let d = Diagnostic::warning(
                            "shadowed-pattern",
                            format!(
                                "pattern `{}` of route `{}` is also in route `{route}`, \
                                 which takes every call it matches",
                                p.pattern.as_str(),
                                r.name
                            ),
                        )
                        .at(self.loc.value(&po.field("match")))
                        .related(self.loc.value(&at.field("match")), "taken here first")
                        .hint(
                            "remove one of them, or make this one more specific: \
                               Asterisk tries the most specific pattern first, whatever \
                               the order of the routes",
                        );
                        self.out.push(d);
                    }
                    None => {
                        first.insert(key, (r.name.as_str(), po.clone()));
                    }
                }
                let body = p
                    .pattern
                    .as_str()
                    .strip_prefix('_')
                    .unwrap_or(p.pattern.as_str());
                let fixed = body.chars().take_while(|c| !matches!(c, '.' | '!')).count();
                if p.strip as usize > fixed {
                    self.error(
                        "strip-too-long",
                        self.loc.value(&po.field("strip")),
                        format!(
                            "strip {} removes more digits than the pattern fixes ({fixed})",
                            p.strip
                        ),
                        "strip only the access digits the pattern starts with",
                    );
                }
            }
            for (i, trunk) in r.trunks.iter().enumerate() {
                let to = o.field("trunks").at(&[Segment::Index(i)]);
                if r.trunks[..i].contains(trunk) {
                    self.warning(
                        "duplicate-trunk",
                        self.loc.value(&to),
                        format!("trunk `{trunk}` is listed twice"),
                        "each trunk is tried once",
                    );
                    continue;
                }
                self.scoped_ref(Kind::Trunk, &to, server, trunk.as_str());
            }
            if let Some(allow) = &r.allow {
                let ao = o.field("allow");
                for (i, n) in allow.extensions.iter().enumerate() {
                    self.extension_ref(
                        &ao.field("extensions").at(&[Segment::Index(i)]),
                        server,
                        n.as_str(),
                    );
                }
                for (i, tag) in allow.tags.iter().enumerate() {
                    let used = self
                        .fleet
                        .extensions
                        .iter()
                        .any(|e| e.server == r.server && e.tags.contains(tag));
                    if !used {
                        self.warning(
                            "unused-tag",
                            self.loc.value(&ao.field("tags").at(&[Segment::Index(i)])),
                            format!("no extension on server `{server}` has the tag `{tag}`"),
                            "add the tag to the extensions that may use this route",
                        );
                    }
                }
            }
        }
    }
}

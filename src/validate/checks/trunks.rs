//! Trunks: what each kind of trunk needs, match addresses, transport, caller id.

use crate::source::Segment;

use super::Checker;

impl<'a> Checker<'a> {
    pub(super) fn trunks(&mut self) {
        use crate::model::trunk::TrunkKind;
        for t in &self.fleet.trunks {
            let o = &t.origin;
            let server = t.server.as_str();
            if !self.server_ref(&o.field("server"), &t.server) {
                continue;
            }
            self.address_literal(&o.field("host"), &t.host);
            match t.kind {
                TrunkKind::Registration => {
                    for (field, missing) in [
                        ("username", t.username.is_none()),
                        ("secret", t.secret.is_none()),
                    ] {
                        if missing {
                            self.error(
                                "missing-field",
                                self.loc.value(&o.field("type")),
                                format!("registration trunk `{}` needs `{field}`", t.name),
                                format!("add `{field}:` with the provider account's {field}"),
                            );
                        }
                    }
                }
                TrunkKind::Ip => {
                    if t.match_addresses.is_empty() {
                        self.error(
                            "missing-field",
                            self.loc.value(&o.field("type")),
                            format!("IP trunk `{}` needs `match` addresses", t.name),
                            "list the provider's signalling addresses under `match:`",
                        );
                    }
                }
            }
            for (i, cidr) in t.match_addresses.iter().enumerate() {
                self.cidr(&o.field("match").at(&[Segment::Index(i)]), &cidr.0);
            }
            if let Some(tr) = &t.transport {
                self.transport_ref(&o.field("transport"), server, tr);
            }
            self.callerid(o, t.callerid.as_ref());
        }
    }
}

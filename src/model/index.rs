//! The fleet grouped by server, built once: stages that work server by server (checks,
//! rendering) look entities up here instead of scanning the whole fleet each time.

use std::collections::HashMap;

use super::{
    Dialplan, Extension, Fleet, InboundRoute, Menu, OutboundRoute, Queue, RingGroup, Sourced,
    Target, Trunk,
};

/// Everything defined on one server, in definition order.
#[derive(Debug, Default)]
pub struct ServerEntities<'a> {
    pub extensions: Vec<&'a Sourced<Extension>>,
    pub extension_by_number: HashMap<&'a str, &'a Sourced<Extension>>,
    pub queues: Vec<&'a Sourced<Queue>>,
    pub menus: Vec<&'a Sourced<Menu>>,
    pub ring_groups: Vec<&'a Sourced<RingGroup>>,
    pub conferences: Vec<&'a Sourced<super::conference::Conference>>,
    pub announcements: Vec<&'a Sourced<super::announcement::Announcement>>,
    pub parking_lots: Vec<&'a Sourced<super::parking::ParkingLot>>,
    pub paging_groups: Vec<&'a Sourced<super::paging::PagingGroup>>,
    pub dialplans: Vec<&'a Sourced<Dialplan>>,
    pub trunks: Vec<&'a Sourced<Trunk>>,
    pub inbound_routes: Vec<&'a Sourced<InboundRoute>>,
    pub outbound_routes: Vec<&'a Sourced<OutboundRoute>>,
}

impl<'a> ServerEntities<'a> {
    /// Every destination the server's entities name, schedules' branches included, in
    /// definition order (extensions, menus, queues, ring groups, announcements, inbound
    /// routes).
    pub fn targets(&self) -> Vec<&'a Target> {
        let mut out = Vec::new();
        let mut add = |t: &'a Option<Target>| {
            if let Some(t) = t {
                t.visit(&mut |x| out.push(x));
            }
        };
        for e in &self.extensions {
            if let Some(f) = e.forward.as_deref() {
                for t in [&f.always, &f.busy, &f.no_answer, &f.unavailable] {
                    add(t);
                }
            }
        }
        for m in &self.menus {
            for t in [&m.invalid, &m.timeout, &m.after_hours] {
                add(t);
            }
        }
        for q in &self.queues {
            for t in [&q.on_timeout, &q.on_full, &q.on_empty] {
                add(t);
            }
        }
        for g in &self.ring_groups {
            add(&g.no_answer);
        }
        for a in &self.announcements {
            add(&a.then);
        }
        for p in &self.parking_lots {
            add(&p.timeout_to);
        }
        for m in &self.menus {
            for (_, t) in m.keys.iter() {
                t.visit(&mut |x| out.push(x));
            }
        }
        for r in &self.inbound_routes {
            r.target.visit(&mut |x| out.push(x));
        }
        out
    }
}

/// Groups a fleet's entities by the server they name.
pub fn by_server(fleet: &Fleet) -> HashMap<&str, ServerEntities<'_>> {
    let mut map: HashMap<&str, ServerEntities> = HashMap::with_capacity(fleet.servers.len());
    for e in &fleet.extensions {
        let s = map.entry(e.server.as_str()).or_default();
        s.extensions.push(e);
        s.extension_by_number.entry(e.number.as_str()).or_insert(e);
    }
    for q in &fleet.queues {
        map.entry(q.server.as_str()).or_default().queues.push(q);
    }
    for m in &fleet.menus {
        map.entry(m.server.as_str()).or_default().menus.push(m);
    }
    for g in &fleet.ring_groups {
        map.entry(g.server.as_str())
            .or_default()
            .ring_groups
            .push(g);
    }
    for g in &fleet.paging_groups {
        map.entry(g.server.as_str())
            .or_default()
            .paging_groups
            .push(g);
    }
    for p in &fleet.parking_lots {
        map.entry(p.server.as_str())
            .or_default()
            .parking_lots
            .push(p);
    }
    for a in &fleet.announcements {
        map.entry(a.server.as_str())
            .or_default()
            .announcements
            .push(a);
    }
    for c in &fleet.conferences {
        map.entry(c.server.as_str())
            .or_default()
            .conferences
            .push(c);
    }
    for d in &fleet.dialplans {
        map.entry(d.server.as_str()).or_default().dialplans.push(d);
    }
    for t in &fleet.trunks {
        map.entry(t.server.as_str()).or_default().trunks.push(t);
    }
    for r in &fleet.inbound_routes {
        map.entry(r.server.as_str())
            .or_default()
            .inbound_routes
            .push(r);
    }
    for r in &fleet.outbound_routes {
        map.entry(r.server.as_str())
            .or_default()
            .outbound_routes
            .push(r);
    }
    map
}

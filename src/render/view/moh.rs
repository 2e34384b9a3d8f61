//! `musiconhold_odoo.conf`: the fleet's music-on-hold classes (every server gets all).

use serde::Serialize;

use super::{Ctx, FileOrigins};
use crate::model::moh::MohSort;
use crate::render::kind::ConfKind;

/// A music-on-hold class in files mode.
#[derive(Debug, Serialize)]
pub struct MohView {
    /// The class name, which queues name in `musicclass=`.
    pub name: String,
    /// The directory of sound files on the host.
    pub directory: String,
    /// `random` or `alpha`.
    pub sort: &'static str,
}

pub(super) fn build(ctx: &Ctx, origins: &mut FileOrigins) -> Vec<MohView> {
    ctx.fleet
        .music_on_hold
        .iter()
        .map(|m| {
            origins.add(ConfKind::MusicOnHold, &m.origin);
            MohView {
                name: m.name.to_string(),
                directory: m.directory.clone(),
                sort: match m.sort {
                    MohSort::Random => "random",
                    MohSort::Alpha => "alpha",
                },
            }
        })
        .collect()
}

//! `res_parking_odoo.conf`: one parking lot per section (res_parking creates the park
//! number, the slots and their `park:` hints in the lot's context); the dialplan gets
//! the lots' contexts in the phones' contexts and where timed-out calls go.

use minijinja::Value;
use serde::Serialize;

use super::{Ctx, FileOrigins, arg};
use crate::model::Sourced;
use crate::model::parking::{DEFAULT_PARKING_TIME, ParkingLot};
use crate::render::RenderError;
use crate::render::kind::ConfKind;

/// A parking lot: its `res_parking` section and its dialplan parts.
#[derive(Debug, Serialize)]
pub struct ParkingView {
    /// The lot's name in the repo, for comments.
    pub name: String,
    /// Section name, the lot as `Park()` names it: `<prefix>-<name>`.
    pub lot: String,
    /// `context=`: `<prefix>-parkedcalls-<name>`, which the phones' contexts include.
    pub context: String,
    /// `parkext=` and `parkpos=` (`71-79`).
    pub park_number: String,
    pub slots: String,
    /// `parkingtime=` seconds.
    pub timeout: u32,
    /// `comebackcontext=` when timed-out calls go to `timeout_to` (`<prefix>-parkreturn-<name>`),
    /// else none: they ring whoever parked them (`comebacktoorigin=yes`).
    pub comeback: Option<String>,
    /// Where timed-out calls go, a dialplan application (with `comeback`).
    pub timeout_to: Option<Value>,
}

pub(super) fn build(ctx: &Ctx, origins: &mut FileOrigins) -> Result<Vec<ParkingView>, RenderError> {
    let mut out = Vec::new();
    for l in ctx.entities.parking_lots.iter().copied() {
        origins.add(ConfKind::Parking, &l.origin);
        origins.add(ConfKind::Dialplan, &l.origin);
        out.push(lot(ctx, l)?);
    }
    Ok(out)
}

fn lot(ctx: &Ctx, l: &Sourced<ParkingLot>) -> Result<ParkingView, RenderError> {
    let entity = format!("parking lot {}", l.name);
    let name = l.name.as_str();
    let timeout_to = l
        .timeout_to
        .as_ref()
        .map(|t| ctx.target(t, &entity, "timeout_to"))
        .transpose()?;
    Ok(ParkingView {
        name: name.to_owned(),
        lot: format!("{}-{name}", ctx.prefix),
        context: ctx.context("parkedcalls", name),
        park_number: arg(l.park_number.as_str(), ctx, &entity, "park_number")?,
        slots: format!("{}-{}", l.slots.first, l.slots.last),
        timeout: l.timeout.unwrap_or(DEFAULT_PARKING_TIME),
        comeback: timeout_to
            .is_some()
            .then(|| ctx.context("parkreturn", name)),
        timeout_to,
    })
}

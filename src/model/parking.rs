//! Call parking (res_parking): a lot has a number to park a call at (transfer it there)
//! and a range of slots the parked calls wait in, each dialable to take the call back
//! and watchable on a BLF key.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::names::{DialNumber, Name};
use super::target::Target;

/// Seconds a parked call waits before it comes back, when the YAML does not say.
pub const DEFAULT_PARKING_TIME: u32 = 45;

/// A parking lot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ParkingLot {
    /// Lot name, unique on its server.
    pub name: Name,
    /// The server this lot lives on.
    pub server: Name,
    /// Number a call is transferred to to park it (shares the server's dial space).
    pub park_number: DialNumber,
    /// The first and last slot (`first: 71, last: 79`): parked calls wait there, and
    /// dialling a slot takes its call back. The range shares the server's dial space.
    pub slots: SlotRange,
    /// Seconds a parked call waits before it comes back (default 45).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 5, max = 3600))]
    pub timeout: Option<u32>,
    /// Where a call nobody took back goes (default: it rings whoever parked it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_to: Option<Target>,
}

/// A range of parking slots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SlotRange {
    /// The first slot number.
    #[schemars(range(min = 0, max = 999_999_999))]
    pub first: u64,
    /// The last slot number (at least `first`).
    #[schemars(range(min = 0, max = 999_999_999))]
    pub last: u64,
}

impl SlotRange {
    /// How many slots, none when `last` is before `first`.
    pub fn len(&self) -> u64 {
        (self.last + 1).saturating_sub(self.first)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether a dialled number is one of the slots (as digits, without leading zeros).
    pub fn contains(&self, number: &str) -> bool {
        !number.starts_with('0')
            && number.len() <= 9
            && number
                .parse::<u64>()
                .is_ok_and(|n| (self.first..=self.last).contains(&n))
    }
}

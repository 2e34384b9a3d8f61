//! Time frames: business hours and holidays, used by menus and schedules.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::names::{FeatureCode, Name};

/// A named set of weekly opening periods with dated exceptions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Timeframe {
    /// Time frame name, unique in the fleet.
    pub name: Name,
    /// Time zone the times are in, e.g. `Europe/Moscow` (default: the server's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = "^[A-Za-z_]+(/[A-Za-z0-9_+-]+){0,2}$"))]
    pub timezone: Option<String>,
    /// Weekly periods when the time frame is open.
    #[schemars(length(min = 1, max = 50))]
    pub periods: Vec<Period>,
    /// Dates when it is closed all day although a period says open (holidays).
    #[serde(default)]
    pub holidays: Vec<Holiday>,
    /// Feature code that overrides the time frame on a server, e.g. `"*2701"`: dialled
    /// once it forces the opposite of what the clock says now (open in the evening, closed
    /// by day), dialled again it goes back to the clock. Its state is kept in the server's
    /// AstDB and shown on a BLF key subscribed to the code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub override_code: Option<FeatureCode>,
}

/// A manual override of a time frame on one server, as the override code sets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Override {
    /// Open whatever the clock says.
    Open,
    /// Closed whatever the clock says.
    Closed,
}

/// A weekly period, e.g. `days: mon-fri, from: "09:00", to: "18:00"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Period {
    /// Days: a range `mon-fri`, a list `mon,wed,fri`, or a single day `sat`.
    #[schemars(regex(pattern = "^[a-z]{3}([-,][a-z]{3})*$"))]
    pub days: String,
    /// Opening time, `HH:MM` (24-hour).
    #[schemars(regex(pattern = "^[0-9]{2}:[0-9]{2}$"))]
    pub from: String,
    /// Closing time, `HH:MM` (24-hour, later than `from`; `24:00` is the end of the day).
    #[schemars(regex(pattern = "^[0-9]{2}:[0-9]{2}$"))]
    pub to: String,
}

/// A closed day or range of days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Holiday {
    /// What the holiday is, for people reading the repo.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 80))]
    pub name: Option<String>,
    /// First closed day, `YYYY-MM-DD`.
    #[schemars(regex(pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"))]
    pub date: String,
    /// Last closed day, `YYYY-MM-DD` (default: `date`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"))]
    pub until: Option<String>,
    /// Closed on the same day(s) every year (the year is ignored).
    #[serde(default)]
    pub yearly: bool,
}

/// The days of the week as time frames write them, Monday first.
pub const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// Monday-based index (0-6) of a day as time frames write it (`mon`).
pub fn day_index(day: &str) -> Option<usize> {
    DAYS.iter().position(|d| *d == day)
}

/// Hours and minutes of `HH:MM`, unchecked (validate says which values are times).
pub fn hour_minute(time: &str) -> Option<(u32, u32)> {
    let (h, m) = time.split_once(':')?;
    Some((h.parse().ok()?, m.parse().ok()?))
}

/// Minutes since midnight of `HH:MM` (`24:00` is 1440).
pub fn minute_of_day(time: &str) -> Option<u32> {
    hour_minute(time).map(|(h, m)| h * 60 + m)
}

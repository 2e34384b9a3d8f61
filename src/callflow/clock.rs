//! Time frames at a moment, as the generated dialplan tests them: holidays first
//! (`STRFTIME` of the date in the frame's zone), then each period (`GotoIfTime`, the end
//! minute exclusive), else closed.

use jiff::civil::{DateTime, Weekday};

use crate::model::Timeframe;
use crate::model::timeframe::{day_index, minute_of_day};

/// When the call is placed: now, or a wall-clock time at the PBX. A time frame with a
/// time zone reads the wall clock of that zone; one without reads the host's clock,
/// which is taken to show the same wall-clock time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum When {
    Now,
    At(DateTime),
}

/// Why a moment could not be read or placed in a zone.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WhenError {
    #[error("`{0}` is not a time; write YYYY-MM-DD HH:MM, e.g. 2026-12-31 19:30")]
    Unreadable(String),
    #[error("unknown time zone `{0}`")]
    UnknownZone(String),
}

impl When {
    /// `now`, `YYYY-MM-DD HH:MM[:SS]` or `YYYY-MM-DDTHH:MM[:SS]`.
    pub fn parse(text: &str) -> Result<When, WhenError> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("now") {
            return Ok(When::Now);
        }
        text.replacen(' ', "T", 1)
            .parse::<DateTime>()
            .map(When::At)
            .map_err(|_| WhenError::Unreadable(text.to_owned()))
    }

    /// The wall-clock time in `zone` (none: the host's clock).
    pub fn wall_clock(&self, zone: Option<&str>) -> Result<DateTime, WhenError> {
        match (self, zone) {
            (When::At(at), _) => Ok(*at),
            (When::Now, None) => Ok(jiff::ZonedDateTime::now().datetime()),
            (When::Now, Some(z)) => {
                let tz =
                    jiff::tz::TimeZone::get(z).map_err(|_| WhenError::UnknownZone(z.to_owned()))?;
                Ok(jiff::ZonedDateTime::now().with_time_zone(tz).datetime())
            }
        }
    }
}

/// What a time frame says at a moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hours {
    /// A holiday (its name or date).
    Holiday(String),
    /// Inside a period (`mon-fri 09:00-18:00`).
    Open(String),
    /// Outside every period.
    Closed,
}

/// The time frame's state at `when`.
pub fn hours(tf: &Timeframe, when: &When) -> Result<Hours, WhenError> {
    let now = when.wall_clock(tf.timezone.as_deref())?;
    let date = now.date();
    let ymd = format!("{:04}{:02}{:02}", date.year(), date.month(), date.day());
    for h in &tf.holidays {
        let digits = |d: &str| d.replace('-', "");
        let until = h.until.as_deref().unwrap_or(&h.date);
        let inside = if h.yearly {
            let (from, to, today) = (digits(&h.date[5..]), digits(&until[5..]), &ymd[4..]);
            if from <= to {
                from.as_str() <= today && today <= to.as_str()
            } else {
                today >= from.as_str() || today <= to.as_str()
            }
        } else {
            digits(&h.date) <= ymd && ymd <= digits(until)
        };
        if inside {
            return Ok(Hours::Holiday(
                h.name.clone().unwrap_or_else(|| h.date.clone()),
            ));
        }
    }
    let minute = u32::from(now.hour().unsigned_abs()) * 60 + u32::from(now.minute().unsigned_abs());
    for p in &tf.periods {
        let (Some(from), Some(to)) = (minute_of_day(&p.from), minute_of_day(&p.to)) else {
            continue;
        };
        if day_in(&p.days, date.weekday()) && from <= minute && minute < to {
            return Ok(Hours::Open(format!("{} {}-{}", p.days, p.from, p.to)));
        }
    }
    Ok(Hours::Closed)
}

/// Whether a days expression (`mon-fri`, `fri-mon`, `mon,wed`) holds `day`.
fn day_in(days: &str, day: Weekday) -> bool {
    let today = day.to_monday_zero_offset() as usize;
    days.split(',').any(|part| match part.split_once('-') {
        Some((a, b)) => match (day_index(a), day_index(b)) {
            (Some(a), Some(b)) if a <= b => (a..=b).contains(&today),
            // A range may wrap past Sunday, as in GotoIfTime.
            (Some(a), Some(b)) => today >= a || today <= b,
            _ => false,
        },
        None => day_index(part) == Some(today),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::timeframe::{Holiday, Period};

    fn frame() -> Timeframe {
        Timeframe {
            name: crate::model::Name("hours".into()),
            timezone: None,
            periods: vec![Period {
                days: "mon-fri".into(),
                from: "09:00".into(),
                to: "18:00".into(),
            }],
            holidays: vec![Holiday {
                name: Some("New year".into()),
                date: "2026-12-31".into(),
                until: Some("2027-01-02".into()),
                yearly: false,
            }],
            override_code: None,
        }
    }

    fn at(text: &str) -> When {
        When::parse(text).unwrap()
    }

    #[test]
    fn a_period_is_open_from_its_start_until_the_minute_before_its_end() {
        let tf = frame();
        // 2026-12-02 is a Wednesday.
        assert_eq!(hours(&tf, &at("2026-12-02 08:59")).unwrap(), Hours::Closed);
        assert_eq!(
            hours(&tf, &at("2026-12-02 09:00")).unwrap(),
            Hours::Open("mon-fri 09:00-18:00".into())
        );
        assert_eq!(
            hours(&tf, &at("2026-12-02 17:59:59")).unwrap(),
            Hours::Open("mon-fri 09:00-18:00".into())
        );
        assert_eq!(hours(&tf, &at("2026-12-02 18:00")).unwrap(), Hours::Closed);
        assert_eq!(hours(&tf, &at("2026-12-05 10:00")).unwrap(), Hours::Closed);
    }

    #[test]
    fn a_holiday_closes_the_whole_day_through_its_last_date() {
        let tf = frame();
        assert_eq!(
            hours(&tf, &at("2027-01-01 10:00")).unwrap(),
            Hours::Holiday("New year".into())
        );
        assert_eq!(
            hours(&tf, &at("2027-01-04 10:00")).unwrap(),
            Hours::Open("mon-fri 09:00-18:00".into())
        );
    }

    #[test]
    fn day_ranges_wrap_past_sunday() {
        assert!(day_in("fri-mon", Weekday::Sunday));
        assert!(!day_in("fri-mon", Weekday::Wednesday));
        assert!(day_in("mon,wed", Weekday::Wednesday));
    }

    #[test]
    fn unreadable_times_are_refused_with_the_form_to_write() {
        assert_eq!(
            When::parse("31.12.2026").unwrap_err().to_string(),
            "`31.12.2026` is not a time; write YYYY-MM-DD HH:MM, e.g. 2026-12-31 19:30"
        );
        assert_eq!(When::parse("now").unwrap(), When::Now);
    }
}

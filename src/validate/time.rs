//! Time frame grammar: days (`mon-fri`, `mon,wed`), times (`HH:MM`) and dates.

use crate::model::timeframe::{DAYS, hour_minute};

/// Checks a days expression: a day, a range `mon-fri` (may wrap, `fri-mon`), or a
/// comma list of those.
pub fn check_days(days: &str) -> Result<(), String> {
    for part in days.split(',') {
        for day in part.split('-') {
            if !DAYS.contains(&day) {
                return Err(format!(
                    "`{day}` is not a day; use mon, tue, wed, thu, fri, sat, sun"
                ));
            }
        }
        if part.split('-').count() > 2 {
            return Err(format!(
                "`{part}` has more than one `-`; write a range as `mon-fri`"
            ));
        }
    }
    Ok(())
}

/// Minutes since midnight of `HH:MM`; `24:00` is allowed as the end of the day.
pub fn minutes(time: &str) -> Result<u32, String> {
    let (h, m) = hour_minute(time)
        .ok_or_else(|| format!("`{time}` is not a time; write HH:MM, e.g. 09:00"))?;
    if m > 59 || h > 24 || (h == 24 && m != 0) {
        return Err(format!("`{time}` is not a time of day (00:00 to 24:00)"));
    }
    Ok(h * 60 + m)
}

/// (year, month, day) of a real calendar date `YYYY-MM-DD`.
pub fn date(text: &str) -> Result<(u32, u32, u32), String> {
    let parts: Vec<&str> = text.split('-').collect();
    let bad = || format!("`{text}` is not a date; write YYYY-MM-DD, e.g. 2026-12-31");
    let [y, m, d] = parts.as_slice() else {
        return Err(bad());
    };
    let (y, m, d): (u32, u32, u32) = (
        y.parse().map_err(|_| bad())?,
        m.parse().map_err(|_| bad())?,
        d.parse().map_err(|_| bad())?,
    );
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days_in_month = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return Err(format!("`{text}` has no month {m}")),
    };
    if d == 0 || d > days_in_month {
        return Err(format!(
            "`{text}` is not a real date: month {m} of {y} has {days_in_month} days"
        ));
    }
    Ok((y, m, d))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days() {
        for ok in ["mon", "mon-fri", "sat,sun", "fri-mon", "mon,wed-fri"] {
            assert!(check_days(ok).is_ok(), "{ok}");
        }
        for bad in ["monday", "mon-", "mon-tue-wed", "Mon"] {
            assert!(check_days(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn times() {
        assert_eq!(minutes("09:30"), Ok(570));
        assert_eq!(minutes("24:00"), Ok(1440));
        for bad in ["24:01", "9", "12:60", "25:00", "ab:cd"] {
            assert!(minutes(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn dates() {
        assert_eq!(date("2028-02-29"), Ok((2028, 2, 29)));
        for bad in [
            "2026-02-29",
            "2026-13-01",
            "2026-04-31",
            "2026-00-10",
            "26-1-1-1",
            "2026-1",
        ] {
            assert!(date(bad).is_err(), "{bad}");
        }
    }
}

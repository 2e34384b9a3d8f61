//! Time frames: periods and holidays that are real times and dates, in order.

use crate::source::Segment;
use crate::validate::time;

use super::Checker;

impl<'a> Checker<'a> {
    /// A zone Asterisk knows: it falls back to GMT, silently, for one it does not. The
    /// tz database is the machine's (`/usr/share/zoneinfo`, which Asterisk reads too);
    /// without one nothing can be said.
    fn timezone(&mut self, origin: &crate::model::Origin, zone: &str) {
        let db = jiff::tz::db();
        if db.is_definitively_empty() || db.get(zone).is_ok() {
            return;
        }
        let names: Vec<String> = db.available().map(|n| n.to_string()).collect();
        let hint = match super::super::suggest::did_you_mean(zone, names.iter().map(String::as_str))
        {
            Some(near) => format!("did you mean `{near}`?"),
            None => "write a zone of the tz database, e.g. `Europe/Moscow` or `UTC`".to_owned(),
        };
        self.error(
            "unknown-timezone",
            self.loc.value(origin),
            format!("time zone `{zone}` is not in the tz database: Asterisk would use GMT"),
            hint,
        );
    }

    pub(super) fn timeframes(&mut self) {
        for t in &self.fleet.timeframes {
            let o = &t.origin;
            if let Some(zone) = &t.timezone {
                self.timezone(&o.field("timezone"), zone);
            }
            for (i, p) in t.periods.iter().enumerate() {
                let po = o.field("periods").at(&[Segment::Index(i)]);
                if let Err(why) = time::check_days(&p.days) {
                    self.error("invalid-time", self.loc.value(&po.field("days")), why, "");
                }
                let from = time::minutes(&p.from);
                let to = time::minutes(&p.to);
                if let Err(why) = &from {
                    self.error(
                        "invalid-time",
                        self.loc.value(&po.field("from")),
                        why.clone(),
                        "",
                    );
                }
                if let Err(why) = &to {
                    self.error(
                        "invalid-time",
                        self.loc.value(&po.field("to")),
                        why.clone(),
                        "",
                    );
                }
                if let (Ok(f), Ok(t_)) = (&from, &to)
                    && f >= t_
                {
                    self.error(
                        "invalid-time",
                        self.loc.value(&po.field("to")),
                        format!("period ends at {} but starts at {}", p.to, p.from),
                        "`to` must be later than `from`; for a period past midnight write two periods",
                    );
                }
                if from.as_ref().is_ok_and(|f| *f == 1440) {
                    self.error(
                        "invalid-time",
                        self.loc.value(&po.field("from")),
                        "a period cannot start at 24:00".into(),
                        "",
                    );
                }
            }
            for (i, h) in t.holidays.iter().enumerate() {
                let ho = o.field("holidays").at(&[Segment::Index(i)]);
                let start = time::date(&h.date);
                if let Err(why) = &start {
                    self.error(
                        "invalid-date",
                        self.loc.value(&ho.field("date")),
                        why.clone(),
                        "",
                    );
                }
                if let Some(until) = &h.until {
                    match (time::date(until), start) {
                        (Err(why), _) => {
                            self.error("invalid-date", self.loc.value(&ho.field("until")), why, "")
                        }
                        (Ok(end), Ok(begin)) if end < begin => self.error(
                            "invalid-date",
                            self.loc.value(&ho.field("until")),
                            format!("holiday ends ({until}) before it starts ({})", h.date),
                            "",
                        ),
                        _ => {}
                    }
                }
            }
        }
    }
}

//! Time frames: periods and holidays that are real times and dates, in order.

use crate::source::Segment;
use crate::validate::time;

use super::Checker;

impl<'a> Checker<'a> {
    pub(super) fn timeframes(&mut self) {
        for t in &self.fleet.timeframes {
            let o = &t.origin;
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

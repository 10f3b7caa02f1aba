//! Business hours: a weekly schedule in a time zone, with holidays, and the business time
//! between two instants (the clock stops outside hours).

use std::collections::BTreeSet;
use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::time::{day_start_ms, local_date, parse_date, Tz};

const DAY_NAMES: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// Most holidays one schedule takes.
pub const MAX_HOLIDAYS: usize = 1_000;

/// Longest text of a schedule or of its holidays, in bytes.
pub const MAX_TEXT: usize = 4_000;

/// Why a schedule was refused; the message names the piece at fault.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum HoursError {
    /// A piece of the weekly schedule could not be read.
    #[error(
        "business hours {piece:?}: {why} (write e.g. \"Mon-Fri 08:00-17:00, Sat 09:00-13:00\")"
    )]
    Schedule {
        /// The piece, as written.
        piece: String,
        /// What is wrong with it.
        why: String,
    },
    /// A holiday is not a `YYYY-MM-DD` date.
    #[error("holiday {0:?} is not a date (write YYYY-MM-DD, separated by commas)")]
    Holiday(String),
    /// The text is longer than [`MAX_TEXT`], or lists more than [`MAX_HOLIDAYS`] holidays.
    #[error("{0}")]
    TooLong(String),
}

/// A weekly schedule of open hours in a time zone, with days off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    /// The zone the hours are read in.
    #[serde(with = "crate::filters::tz_name")]
    pub tz: Tz,
    /// Open intervals per weekday (0 = Monday), minutes of the local day, sorted and disjoint.
    week: [Vec<(u16, u16)>; 7],
    /// Local dates on which nothing is open.
    holidays: BTreeSet<NaiveDate>,
}

impl Schedule {
    /// Open all the time: business time equals calendar time.
    pub fn always(tz: Tz) -> Schedule {
        Schedule {
            tz,
            week: std::array::from_fn(|_| vec![(0, 24 * 60)]),
            holidays: BTreeSet::new(),
        }
    }

    /// Reads a schedule such as `Mon-Fri 08:00-17:00, Sat 09:00-13:00` (a day may have several
    /// intervals, `Mon-Fri 08:00-12:00 13:00-17:00`; `24:00` ends a day; a range may wrap,
    /// `Fri-Mon`) and holidays `2025-12-25, 2026-01-01`.
    pub fn parse(hours: &str, holidays: &str, tz: Tz) -> Result<Schedule, HoursError> {
        if hours.len() > MAX_TEXT || holidays.len() > MAX_TEXT * 4 {
            return Err(HoursError::TooLong(format!(
                "business hours or holidays longer than {MAX_TEXT} characters"
            )));
        }
        let mut week: [Vec<(u16, u16)>; 7] = Default::default();
        for piece in hours
            .split([',', ';'])
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            let bad = |why: &str| HoursError::Schedule {
                piece: piece.to_owned(),
                why: why.to_owned(),
            };
            let mut words = piece.split_whitespace();
            let days = days_of(words.next().unwrap_or_default()).map_err(|w| bad(&w))?;
            let mut any = false;
            for w in words {
                let interval = interval_of(w).map_err(|w| bad(&w))?;
                for &d in &days {
                    week[d].push(interval);
                }
                any = true;
            }
            if !any {
                return Err(bad("no hours after the days"));
            }
        }
        for day in &mut week {
            *day = merged(std::mem::take(day));
        }
        let mut days_off = BTreeSet::new();
        for h in holidays
            .split([',', ';', ' ', '\n'])
            .map(str::trim)
            .filter(|h| !h.is_empty())
        {
            days_off.insert(parse_date(h).map_err(|_| HoursError::Holiday(h.to_owned()))?);
            if days_off.len() > MAX_HOLIDAYS {
                return Err(HoursError::TooLong(format!(
                    "more than {MAX_HOLIDAYS} holidays"
                )));
            }
        }
        Ok(Schedule {
            tz,
            week,
            holidays: days_off,
        })
    }

    /// Whether the schedule is open at every hour of every day (no holidays either).
    pub fn is_always(&self) -> bool {
        self.holidays.is_empty() && self.week.iter().all(|d| d == &[(0, 24 * 60)])
    }

    /// Open minutes in a week.
    pub fn weekly_minutes(&self) -> u32 {
        self.week
            .iter()
            .flatten()
            .map(|(a, b)| u32::from(b - a))
            .sum()
    }

    /// The holidays, in order.
    pub fn holidays(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        self.holidays.iter().copied()
    }

    /// Open intervals of local day `date`, as UTC epoch ms (empty on a holiday or a closed day).
    fn open_on(&self, date: NaiveDate) -> impl Iterator<Item = (i64, i64)> + '_ {
        let weekday = date.weekday().num_days_from_monday() as usize;
        let closed = self.holidays.contains(&date);
        let midnight = day_start_ms(date, Tz::UTC);
        self.week[weekday]
            .iter()
            .filter(move |_| !closed)
            .map(move |&(a, b)| {
                let at = |m: u16| {
                    // Local wall time, then the instant it is in the zone (DST gaps and
                    // repeats resolved as the rest of the crate does).
                    let local_secs = (midnight + i64::from(m) * 60_000) / 1000;
                    self.tz.local_to_utc(local_secs) * 1000
                };
                (at(a), at(b))
            })
    }

    /// Business milliseconds between two instants (0 when `to` is not after `from`).
    ///
    /// Walks the local days between them: bounded by the span, which the data's own range
    /// bounds; a report over many gaps uses [`Clock`] instead.
    pub fn business_ms(&self, from_ms: i64, to_ms: i64) -> i64 {
        if to_ms <= from_ms {
            return 0;
        }
        if self.is_always() {
            return to_ms - from_ms;
        }
        let (first, last) = (local_date(from_ms, self.tz), local_date(to_ms, self.tz));
        let mut total = 0;
        let mut d = first.pred_opt().unwrap_or(first);
        let end = last.succ_opt().unwrap_or(last);
        while d <= end {
            for (a, b) in self.open_on(d) {
                total += (b.min(to_ms) - a.max(from_ms)).max(0);
            }
            match d.succ_opt() {
                Some(n) => d = n,
                None => break,
            }
        }
        total
    }

    /// Whether the schedule is open at `ms`.
    pub fn is_open(&self, ms: i64) -> bool {
        self.business_ms(ms, ms + 1) == 1
    }
}

impl fmt::Display for Schedule {
    /// The schedule as [`Schedule::parse`] reads it, then the zone and the holidays.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_always() {
            return write!(f, "around the clock ({})", self.tz);
        }
        let mut pieces: Vec<String> = Vec::new();
        let mut d = 0;
        while d < 7 {
            let mut e = d;
            while e + 1 < 7 && self.week[e + 1] == self.week[d] {
                e += 1;
            }
            if !self.week[d].is_empty() {
                let days = if e == d {
                    DAY_NAMES[d].to_owned()
                } else {
                    format!("{}-{}", DAY_NAMES[d], DAY_NAMES[e])
                };
                let hours: Vec<String> = self.week[d]
                    .iter()
                    .map(|&(a, b)| format!("{}-{}", hhmm(a), hhmm(b)))
                    .collect();
                pieces.push(format!("{days} {}", hours.join(" ")));
            }
            d = e + 1;
        }
        if pieces.is_empty() {
            pieces.push("closed".to_owned());
        }
        write!(f, "{} ({})", pieces.join(", "), self.tz)?;
        if !self.holidays.is_empty() {
            let days: Vec<String> = self.holidays.iter().map(|d| d.to_string()).collect();
            write!(f, "; holidays {}", days.join(", "))?;
        }
        Ok(())
    }
}

fn hhmm(m: u16) -> String {
    format!("{:02}:{:02}", m / 60, m % 60)
}

fn day_of(w: &str) -> Result<usize, String> {
    let w3: String = w.chars().take(3).collect();
    DAY_NAMES
        .iter()
        .position(|d| d.eq_ignore_ascii_case(&w3) && w.len() >= 3)
        .ok_or_else(|| format!("{w:?} is not a day (Mon, Tue, ... Sun)"))
}

fn days_of(w: &str) -> Result<Vec<usize>, String> {
    if w.is_empty() {
        return Err("no days".to_owned());
    }
    match w.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (day_of(a)?, day_of(b)?);
            let mut days = vec![a];
            let mut d = a;
            while d != b {
                d = (d + 1) % 7;
                days.push(d);
            }
            Ok(days)
        }
        None => Ok(vec![day_of(w)?]),
    }
}

fn minute_of(w: &str) -> Result<u16, String> {
    let bad = || format!("{w:?} is not a time (HH:MM, 00:00 to 24:00)");
    let (h, m) = w.split_once(':').ok_or_else(bad)?;
    let (h, m): (u16, u16) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if m >= 60 || h > 24 || (h == 24 && m > 0) || w.len() > 5 {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

fn interval_of(w: &str) -> Result<(u16, u16), String> {
    let (a, b) = w
        .split_once('-')
        .ok_or_else(|| format!("{w:?} is not an interval (HH:MM-HH:MM)"))?;
    let (a, b) = (minute_of(a)?, minute_of(b)?);
    if b <= a {
        return Err(format!(
            "{w:?} ends before it starts (split an interval over midnight in two days)"
        ));
    }
    Ok((a, b))
}

fn merged(mut v: Vec<(u16, u16)>) -> Vec<(u16, u16)> {
    v.sort_unstable();
    let mut out: Vec<(u16, u16)> = Vec::with_capacity(v.len());
    for (a, b) in v {
        match out.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

/// Longest span of days a [`Clock`] tabulates (about 140 years); instants beyond are clamped.
pub const MAX_CLOCK_DAYS: i64 = 51_200;

/// A schedule's business time tabulated by local day, grown to the days asked about, so each
/// gap costs a lookup, not a walk over its days.
#[derive(Debug, Clone)]
pub struct Clock<'a> {
    schedule: &'a Schedule,
    first: NaiveDate,
    /// Business ms from the start of `first` to the start of each day after it.
    before_day: Vec<i64>,
}

impl<'a> Clock<'a> {
    /// A clock of `schedule`, with no day tabulated yet.
    pub fn new(schedule: &'a Schedule) -> Clock<'a> {
        Clock {
            schedule,
            first: NaiveDate::default(),
            before_day: Vec::new(),
        }
    }

    fn day_total(&self, d: NaiveDate) -> i64 {
        self.schedule.open_on(d).map(|(a, b)| b - a).sum()
    }

    /// Tabulates the days from `from` to `to` (at most [`MAX_CLOCK_DAYS`] in all).
    fn cover(&mut self, from: NaiveDate, to: NaiveDate) {
        if self.before_day.is_empty() {
            self.first = from;
            self.before_day.push(0);
        }
        let index = |first: NaiveDate, d: NaiveDate| (d - first).num_days();
        let from = from.min(self.first);
        if index(from, to) >= MAX_CLOCK_DAYS {
            return;
        }
        if from < self.first {
            // Prepend the missing days: everything after them moves by their total.
            let mut head = vec![0];
            let mut d = from;
            while d < self.first {
                head.push(head[head.len() - 1] + self.day_total(d));
                d = d + chrono::Days::new(1);
            }
            let shift = head.pop().unwrap_or(0);
            head.extend(self.before_day.iter().map(|v| v + shift));
            self.before_day = head;
            self.first = from;
        }
        while (self.before_day.len() as i64 - 1) < index(self.first, to) {
            let d = self.first + chrono::Days::new(self.before_day.len() as u64 - 1);
            let total = self.before_day[self.before_day.len() - 1] + self.day_total(d);
            self.before_day.push(total);
        }
    }

    /// Business ms from the start of the first tabulated day to `ms`.
    fn elapsed(&self, ms: i64) -> i64 {
        let date = local_date(ms, self.schedule.tz);
        let idx = (date - self.first).num_days();
        let i = idx.clamp(0, self.before_day.len() as i64 - 1);
        let within: i64 = if i == idx {
            self.schedule
                .open_on(date)
                .map(|(a, b)| (b.min(ms) - a).max(0))
                .sum()
        } else {
            0
        };
        self.before_day[i as usize] + within
    }

    /// Business ms between two instants (0 when `to` is not after `from`).
    pub fn business_ms(&mut self, from_ms: i64, to_ms: i64) -> i64 {
        if to_ms <= from_ms {
            return 0;
        }
        if self.schedule.is_always() {
            return to_ms - from_ms;
        }
        let tz = self.schedule.tz;
        self.cover(local_date(from_ms, tz), local_date(to_ms, tz));
        (self.elapsed(to_ms) - self.elapsed(from_ms)).max(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_timestamp;

    fn ms(s: &str) -> i64 {
        parse_timestamp(s).unwrap()
    }

    fn nairobi() -> Schedule {
        let tz = Tz::from_name("Africa/Nairobi").unwrap();
        Schedule::parse("Mon-Fri 08:00-17:00, Sat 09:00-13:00", "2025-12-25", tz).unwrap()
    }

    fn both(s: &Schedule, from: &str, to: &str) -> i64 {
        let (a, b) = (ms(from), ms(to));
        let walked = s.business_ms(a, b);
        let mut clock = Clock::new(s);
        assert_eq!(clock.business_ms(a, b), walked, "{from} .. {to}");
        // Asked again after the clock grew both ways, the same.
        clock.business_ms(a - 40 * 86_400_000, a - 39 * 86_400_000);
        clock.business_ms(b + 9 * 86_400_000, b + 10 * 86_400_000);
        assert_eq!(clock.business_ms(a, b), walked, "{from} .. {to}, grown");
        walked
    }

    const MIN: i64 = 60_000;

    #[test]
    fn the_clock_stops_at_night_and_at_the_weekend() {
        let s = nairobi();
        // Tue 2025-12-02, 16:50 local (13:50 UTC) to Wed 08:10 local: 10 + 10 minutes.
        assert_eq!(
            both(&s, "2025-12-02T13:50:00Z", "2025-12-03T05:10:00Z"),
            20 * MIN
        );
        // Within hours: calendar time.
        assert_eq!(
            both(&s, "2025-12-02T07:00:00Z", "2025-12-02T07:15:00Z"),
            15 * MIN
        );
        // Written at night, answered at night: no business time passed.
        assert_eq!(both(&s, "2025-12-02T18:00:00Z", "2025-12-02T20:00:00Z"), 0);
        // Sat 12:30 to Mon 08:30 local: 30 min on Saturday, none on Sunday, 30 on Monday.
        assert_eq!(
            both(&s, "2025-12-06T09:30:00Z", "2025-12-08T05:30:00Z"),
            60 * MIN
        );
        assert!(s.is_open(ms("2025-12-02T06:00:00Z")));
        assert!(!s.is_open(ms("2025-12-07T09:00:00Z")), "Sunday is closed");
    }

    #[test]
    fn holidays_are_closed() {
        let s = nairobi();
        // Wed 24 Dec 16:00 to Fri 26 Dec 09:00 local: 60 min + nothing on Christmas + 60 min.
        assert_eq!(
            both(&s, "2025-12-24T13:00:00Z", "2025-12-26T06:00:00Z"),
            120 * MIN
        );
        assert!(!s.is_open(ms("2025-12-25T07:00:00Z")));
    }

    #[test]
    fn dst_changes_move_the_hours_with_the_wall_clock() {
        // Europe/Berlin: 2025-03-30 the clocks go from 02:00 to 03:00; open 00:00-06:00 daily.
        let berlin = Tz::from_name("Europe/Berlin").unwrap();
        let s = Schedule::parse("Mon-Sun 00:00-06:00", "", berlin).unwrap();
        // That Sunday's 00:00-06:00 local holds only five real hours.
        assert_eq!(
            both(&s, "2025-03-29T23:00:00Z", "2025-03-30T04:00:00Z"),
            5 * 60 * MIN
        );
        // 2025-10-26 the clocks go back: six wall hours hold seven real ones.
        assert_eq!(
            both(&s, "2025-10-25T22:00:00Z", "2025-10-26T05:00:00Z"),
            7 * 60 * MIN
        );
        // A Monday-to-Friday day in summer (UTC+2) and in winter (UTC+1).
        let office = Schedule::parse("Mon-Fri 09:00-17:00", "", berlin).unwrap();
        assert!(office.is_open(ms("2025-07-01T07:00:00Z")));
        assert!(!office.is_open(ms("2025-07-01T06:59:00Z")));
        assert!(office.is_open(ms("2025-01-07T08:00:00Z")));
        assert!(!office.is_open(ms("2025-01-07T07:59:00Z")));
    }

    #[test]
    fn schedules_read_and_print_back() {
        let s = nairobi();
        assert_eq!(
            s.to_string(),
            "Mon-Fri 08:00-17:00, Sat 09:00-13:00 (Africa/Nairobi); holidays 2025-12-25"
        );
        assert_eq!(s.weekly_minutes(), 5 * 9 * 60 + 4 * 60);
        let again =
            Schedule::parse("Mon-Fri 08:00-17:00, Sat 09:00-13:00", "2025-12-25", s.tz).unwrap();
        assert_eq!(again, s);
        let split = Schedule::parse(
            "fri-mon 08:00-12:00 13:00-17:00, Mon 11:00-14:00",
            "",
            Tz::UTC,
        )
        .unwrap();
        assert_eq!(
            split.to_string(),
            "Mon 08:00-17:00, Fri-Sun 08:00-12:00 13:00-17:00 (UTC)"
        );
        assert!(Schedule::always(Tz::UTC).is_always());
        assert_eq!(Schedule::always(Tz::UTC).business_ms(0, 5), 5);
        assert_eq!(
            Schedule::parse("", "", Tz::UTC).unwrap().to_string(),
            "closed (UTC)"
        );
    }

    #[test]
    fn bad_schedules_say_what_is_wrong() {
        let err = |h: &str, d: &str| Schedule::parse(h, d, Tz::UTC).unwrap_err().to_string();
        assert!(err("Mon-Fry 08:00-17:00", "").contains("\"Fry\" is not a day"));
        assert!(err("Mon 17:00-08:00", "").contains("ends before it starts"));
        assert!(err("Mon 08:00-25:00", "").contains("\"25:00\" is not a time"));
        assert!(err("Mon", "").contains("no hours"));
        assert!(err("Mon 8-17", "").contains("not a time"));
        assert!(err("", "2025-13-01").contains("holiday \"2025-13-01\""));
        assert!(err(&"Mon 08:00-09:00, ".repeat(400), "").contains("longer than"));
    }
}

//! Periods: days, ISO weeks and months of the local calendar, the series of figures by period,
//! and the comparison of two periods (delta, direction, and whether the change is larger than
//! chance).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::filters::Filter;
use crate::metrics::CoreMetrics;
use crate::tally::Tally;
use crate::time::local_date;
use crate::Summary;

/// How a series is grouped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Period {
    /// Local calendar days.
    #[default]
    Day,
    /// ISO 8601 weeks (Monday to Sunday; week 1 holds the year's first Thursday).
    Week,
    /// Calendar months.
    Month,
}

impl Period {
    /// The period's name as written in parameters.
    pub fn as_str(self) -> &'static str {
        match self {
            Period::Day => "day",
            Period::Week => "week",
            Period::Month => "month",
        }
    }

    /// The first day of the period that holds `date`.
    pub fn start_of(self, date: NaiveDate) -> NaiveDate {
        match self {
            Period::Day => date,
            Period::Week => {
                date - chrono::Days::new(u64::from(date.weekday().num_days_from_monday()))
            }
            Period::Month => date.with_day(1).unwrap_or(date),
        }
    }

    /// The period's label: `2025-12-02`, `2025-W49` (the ISO week-numbering year), `2025-12`.
    pub fn label(self, date: NaiveDate) -> String {
        match self {
            Period::Day => date.to_string(),
            Period::Week => {
                let w = date.iso_week();
                format!("{}-W{:02}", w.year(), w.week())
            }
            Period::Month => format!("{}-{:02}", date.year(), date.month()),
        }
    }

    /// The start of the period before the one starting at `start`.
    pub fn previous(self, start: NaiveDate) -> NaiveDate {
        match self {
            Period::Day => start.pred_opt().unwrap_or(start),
            Period::Week => start - chrono::Days::new(7),
            Period::Month => start
                .checked_sub_months(chrono::Months::new(1))
                .unwrap_or(start),
        }
    }

    /// The start of the period a label names (as [`Period::label`] writes it).
    pub fn parse_label(self, label: &str) -> Option<NaiveDate> {
        match self {
            Period::Day => NaiveDate::parse_from_str(label, "%Y-%m-%d").ok(),
            Period::Week => {
                let (y, w) = label.split_once("-W")?;
                NaiveDate::from_isoywd_opt(y.parse().ok()?, w.parse().ok()?, chrono::Weekday::Mon)
            }
            Period::Month => NaiveDate::parse_from_str(&format!("{label}-01"), "%Y-%m-%d").ok(),
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Period {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "day" => Ok(Period::Day),
            "week" => Ok(Period::Week),
            "month" => Ok(Period::Month),
            _ => Err(format!("unknown period {s:?} (day, week or month)")),
        }
    }
}

/// The tallies of the selected conversations by the period their first message falls in
/// (local calendar of the filter's zone), keyed by the period's first day.
pub fn tallies_by_period<'a>(
    summaries: impl IntoIterator<Item = &'a Summary>,
    filter: &Filter,
    period: Period,
) -> BTreeMap<NaiveDate, Tally> {
    let range = filter.time_range();
    let mut out: BTreeMap<NaiveDate, Tally> = BTreeMap::new();
    for s in summaries {
        if filter.matches(s, range) {
            let start = period.start_of(local_date(s.first_message_ms, filter.tz));
            out.entry(start).or_default().add(s, 1);
        }
    }
    out
}

/// Which way a figure moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Direction {
    /// Larger than before.
    Up,
    /// Smaller than before.
    Down,
    /// The same.
    Flat,
    /// One side has no value.
    Unknown,
}

impl Direction {
    /// The arrow shown beside a delta.
    pub fn arrow(self) -> &'static str {
        match self {
            Direction::Up => "▲",
            Direction::Down => "▼",
            Direction::Flat => "=",
            Direction::Unknown => "–",
        }
    }
}

/// Whether a change is larger than chance.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Significance {
    /// Two-sided p below 0.05.
    Significant {
        /// The two-sided p-value.
        p: f64,
    },
    /// Two-sided p of 0.05 or more.
    NotSignificant {
        /// The two-sided p-value.
        p: f64,
    },
    /// Too few conversations for the test (fewer than 5 successes or failures on a side).
    TooFew,
    /// Not a share: no test is made.
    NotTested,
}

impl Significance {
    /// What a reader is told (empty when no test is made).
    pub fn verdict(&self) -> String {
        match self {
            Significance::Significant { p } => format!("significant (p = {p:.3})"),
            Significance::NotSignificant { p } => format!("not significant (p = {p:.2})"),
            Significance::TooFew => "too few to tell".to_owned(),
            Significance::NotTested => String::new(),
        }
    }
}

/// The two-sided p-value of the pooled two-proportion z-test of `x1` of `n1` against `x2` of
/// `n2`; [`Significance::TooFew`] when either side has fewer than 5 successes or 5 failures
/// (the normal approximation does not hold there).
pub fn two_proportion(x1: u64, n1: u64, x2: u64, n2: u64) -> Significance {
    let small = |x: u64, n: u64| x < 5 || n.saturating_sub(x) < 5;
    if n1 == 0 || n2 == 0 || small(x1, n1) || small(x2, n2) {
        return Significance::TooFew;
    }
    let (n1f, n2f) = (n1 as f64, n2 as f64);
    let pooled = (x1 + x2) as f64 / (n1f + n2f);
    let se = (pooled * (1.0 - pooled) * (1.0 / n1f + 1.0 / n2f)).sqrt();
    let z = (x1 as f64 / n1f - x2 as f64 / n2f) / se;
    let p = erfc(z.abs() / std::f64::consts::SQRT_2).min(1.0);
    if p < 0.05 {
        Significance::Significant { p }
    } else {
        Significance::NotSignificant { p }
    }
}

/// The complementary error function (the Chebyshev fit of Numerical Recipes' `erfcc`,
/// fractional error below 1.2e-7 everywhere: ample for a p-value; std has no `erfc`).
pub fn erfc(x: f64) -> f64 {
    const C: [f64; 10] = [
        -1.265_512_23,
        1.000_023_68,
        0.374_091_96,
        0.096_784_18,
        -0.186_288_06,
        0.278_868_07,
        -1.135_203_98,
        1.488_515_87,
        -0.822_152_23,
        0.170_872_77,
    ];
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = C.iter().rev().fold(0.0, |acc, c| c + t * acc);
    let ans = t * (-z * z + poly).exp();
    if x >= 0.0 {
        ans
    } else {
        2.0 - ans
    }
}

/// One figure of a period against another.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Change {
    /// The figure (`csat_percentage`, ...).
    pub kpi: String,
    /// This period's value.
    pub current: Option<f64>,
    /// The other period's value.
    pub previous: Option<f64>,
    /// current - previous.
    pub delta: Option<f64>,
    /// Which way it moved.
    pub direction: Direction,
    /// Whether the move is larger than chance (shares only).
    pub significance: Significance,
}

fn change(kpi: &str, current: Option<f64>, previous: Option<f64>, s: Significance) -> Change {
    let delta = current.zip(previous).map(|(c, p)| c - p);
    let direction = match delta {
        None => Direction::Unknown,
        Some(d) if d.abs() < 1e-9 => Direction::Flat,
        Some(d) if d > 0.0 => Direction::Up,
        Some(_) => Direction::Down,
    };
    Change {
        kpi: kpi.to_owned(),
        current,
        previous,
        delta,
        direction,
        significance: s,
    }
}

/// The successes behind a share given in percent of `n`.
fn successes(pct: f64, n: u64) -> u64 {
    (pct * n as f64 / 100.0).round() as u64
}

/// Every headline figure of `current` against `previous`, shares with the two-proportion test.
pub fn compare(current: &CoreMetrics, previous: &CoreMetrics) -> Vec<Change> {
    let share = |kpi: &str, c: f64, cn: u64, p: f64, pn: u64| {
        let value = |v: f64, n: u64| (n > 0).then_some(v);
        change(
            kpi,
            value(c, cn),
            value(p, pn),
            two_proportion(successes(c, cn), cn, successes(p, pn), pn),
        )
    };
    let (c, p) = (current, previous);
    let count = |v: u64| Some(v as f64);
    vec![
        share(
            "csat_percentage",
            c.csat_percentage,
            c.n.csat,
            p.csat_percentage,
            p.n.csat,
        ),
        share(
            "fcr_percentage",
            c.fcr_percentage,
            c.n.fcr,
            p.fcr_percentage,
            p.n.fcr,
        ),
        change(
            "avg_response_time_minutes",
            c.avg_response_time_minutes,
            p.avg_response_time_minutes,
            Significance::NotTested,
        ),
        change(
            "median_first_response_minutes",
            c.response_time.first_response.median,
            p.response_time.first_response.median,
            Significance::NotTested,
        ),
        change(
            "avg_sentiment_score",
            c.avg_sentiment_score,
            p.avg_sentiment_score,
            Significance::NotTested,
        ),
        change(
            "total_conversations",
            count(c.total_conversations),
            count(p.total_conversations),
            Significance::NotTested,
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn iso_weeks_at_year_ends() {
        // 2024-12-30 (a Monday) is in week 1 of 2025; 2021-01-03 (a Sunday) in week 53 of 2020.
        assert_eq!(Period::Week.label(d("2024-12-30")), "2025-W01");
        assert_eq!(Period::Week.label(d("2025-01-01")), "2025-W01");
        assert_eq!(Period::Week.label(d("2021-01-03")), "2020-W53");
        assert_eq!(Period::Week.label(d("2026-12-31")), "2026-W53");
        assert_eq!(Period::Week.start_of(d("2021-01-03")), d("2020-12-28"));
        assert_eq!(Period::Week.start_of(d("2025-01-01")), d("2024-12-30"));
        assert_eq!(Period::Week.parse_label("2020-W53"), Some(d("2020-12-28")));
        assert_eq!(Period::Week.parse_label("2025-W01"), Some(d("2024-12-30")));
        assert_eq!(Period::Week.parse_label("2025-W54"), None);
        assert_eq!(Period::Week.previous(d("2024-12-30")), d("2024-12-23"));
        assert_eq!(Period::Month.label(d("2025-12-31")), "2025-12");
        assert_eq!(Period::Month.start_of(d("2025-12-31")), d("2025-12-01"));
        assert_eq!(Period::Month.previous(d("2025-01-01")), d("2024-12-01"));
        assert_eq!(Period::Month.parse_label("2025-02"), Some(d("2025-02-01")));
        assert_eq!(Period::Day.previous(d("2025-01-01")), d("2024-12-31"));
        assert_eq!("Week".parse::<Period>(), Ok(Period::Week));
        assert!("fortnight"
            .parse::<Period>()
            .unwrap_err()
            .contains("day, week or month"));
    }

    #[test]
    fn erfc_matches_known_values() {
        for (x, want) in [
            (0.0, 1.0),
            (0.3, 0.671_373_240_540_872_8),
            (1.0, 0.157_299_207_050_285_1),
            (1.959_963_984_540_054 / std::f64::consts::SQRT_2, 0.05),
            (3.0, 2.209_049_699_858_544e-5),
            (5.0, 1.537_459_794_428_035e-12),
            (-1.0, 1.842_700_792_949_715),
        ] {
            let got = erfc(x);
            assert!(
                ((got - want) / want).abs() < 2e-7,
                "erfc({x}) = {got}, want {want}"
            );
        }
    }

    #[test]
    fn the_two_proportion_test_on_known_values() {
        // 45 of 100 against 60 of 100: z = -2.1240, p = 0.03367.
        match two_proportion(45, 100, 60, 100) {
            Significance::Significant { p } => assert!((p - 0.033_672).abs() < 1e-5, "{p}"),
            other => panic!("{other:?}"),
        }
        // 50 of 100 against 55 of 100: z = -0.7080, p = 0.4790.
        match two_proportion(50, 100, 55, 100) {
            Significance::NotSignificant { p } => assert!((p - 0.478_95).abs() < 1e-5, "{p}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(two_proportion(3, 10, 8, 10), Significance::TooFew);
        assert_eq!(two_proportion(5, 5, 5, 10), Significance::TooFew);
        assert_eq!(two_proportion(0, 0, 5, 10), Significance::TooFew);
    }

    #[test]
    fn period_deltas() {
        let mut a = CoreMetrics::default();
        let mut b = CoreMetrics::default();
        (a.csat_percentage, a.n.csat) = (60.0, 100);
        (b.csat_percentage, b.n.csat) = (45.0, 100);
        (a.fcr_percentage, a.n.fcr) = (50.0, 4);
        a.avg_response_time_minutes = Some(10.0);
        b.avg_response_time_minutes = Some(12.5);
        a.total_conversations = 120;
        b.total_conversations = 120;
        let changes = compare(&a, &b);
        let by = |k: &str| changes.iter().find(|c| c.kpi == k).unwrap().clone();
        let csat = by("csat_percentage");
        assert_eq!((csat.delta, csat.direction), (Some(15.0), Direction::Up));
        assert!(matches!(
            csat.significance,
            Significance::Significant { .. }
        ));
        let fcr = by("fcr_percentage");
        assert_eq!((fcr.previous, fcr.direction), (None, Direction::Unknown));
        assert_eq!(fcr.significance, Significance::TooFew);
        let rt = by("avg_response_time_minutes");
        assert_eq!((rt.delta, rt.direction), (Some(-2.5), Direction::Down));
        assert_eq!(rt.significance, Significance::NotTested);
        assert_eq!(by("total_conversations").direction, Direction::Flat);
    }
}

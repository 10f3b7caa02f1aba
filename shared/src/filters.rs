//! Filters of the dataset metrics and the conversation list (spec section 6): date range
//! inclusive in a time zone, agent, topic, satisfaction.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::conversation::Summary;
use crate::time::{day_start_ms, parse_date, parse_tz, Tz};

/// A filter as the API's query parameters, the CLI's flags and the app's controls give it: text
/// as typed, checked and turned into a [`Filter`] by [`FilterParams::to_filter`] alone.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
pub struct FilterParams {
    /// First day (YYYY-MM-DD, inclusive) of the conversations' first message.
    pub start_date: Option<String>,
    /// Last day (YYYY-MM-DD, inclusive).
    pub end_date: Option<String>,
    /// Time zone of the dates (IANA name; default the server's `TIMEZONE`, else UTC).
    pub tz: Option<String>,
    /// Only conversations this agent replied in.
    pub agent: Option<String>,
    /// Only conversations carrying this topic.
    pub topic: Option<String>,
    /// Only satisfied conversations (score 4 or 5).
    pub satisfied_only: Option<bool>,
    /// Lowest satisfaction score (1-5).
    pub min_satisfaction: Option<i64>,
    /// Highest satisfaction score (1-5).
    pub max_satisfaction: Option<i64>,
}

impl FilterParams {
    /// The filter, with `default_tz` where no time zone is given; the error names the parameter.
    pub fn to_filter(&self, default_tz: Option<&str>) -> Result<Filter, String> {
        let tz = self.tz.as_deref().or(default_tz);
        let mut f = Filter::from_params(
            self.start_date.as_deref(),
            self.end_date.as_deref(),
            tz,
            self.agent.as_deref(),
            self.topic.as_deref(),
        )?;
        f.satisfied_only = self.satisfied_only.unwrap_or(false);
        f.min_satisfaction = score("min_satisfaction", self.min_satisfaction)?;
        f.max_satisfaction = score("max_satisfaction", self.max_satisfaction)?;
        f.validate()?;
        Ok(f)
    }
}

impl From<&Filter> for FilterParams {
    /// The parameters that give back `f` (so a control can edit one of them).
    fn from(f: &Filter) -> Self {
        FilterParams {
            start_date: f.start_date.map(|d| d.to_string()),
            end_date: f.end_date.map(|d| d.to_string()),
            tz: Some(f.tz.name().to_owned()),
            agent: f.agent.clone(),
            topic: f.topic.clone(),
            satisfied_only: Some(f.satisfied_only),
            min_satisfaction: f.min_satisfaction.map(i64::from),
            max_satisfaction: f.max_satisfaction.map(i64::from),
        }
    }
}

/// A satisfaction bound: 1 to 5.
fn score(name: &str, v: Option<i64>) -> Result<Option<u8>, String> {
    match v {
        None => Ok(None),
        Some(v) => u8::try_from(v)
            .ok()
            .filter(|s| (1..=5).contains(s))
            .map(Some)
            .ok_or_else(|| format!("{name} must be between 1 and 5, got {v}")),
    }
}

/// A selection of conversations. The default selects everything, in UTC.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Filter {
    /// First day (inclusive) of the first message, in `tz`.
    pub start_date: Option<NaiveDate>,
    /// Last day (inclusive) of the first message, in `tz`.
    pub end_date: Option<NaiveDate>,
    /// The time zone days are counted in.
    #[serde(with = "tz_name")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "Africa/Nairobi"))]
    pub tz: Tz,
    /// Only conversations this agent replied in.
    pub agent: Option<String>,
    /// Only conversations carrying this topic.
    pub topic: Option<String>,
    /// Only satisfied conversations (score >= 4).
    pub satisfied_only: bool,
    /// Only scores >= this.
    pub min_satisfaction: Option<u8>,
    /// Only scores <= this.
    pub max_satisfaction: Option<u8>,
}

impl Default for Filter {
    fn default() -> Self {
        Self {
            start_date: None,
            end_date: None,
            tz: Tz::UTC,
            agent: None,
            topic: None,
            satisfied_only: false,
            min_satisfaction: None,
            max_satisfaction: None,
        }
    }
}

/// A zone written as its IANA name (serde `with`).
pub(crate) mod tz_name {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::time::Tz;

    pub fn serialize<S: Serializer>(tz: &Tz, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(tz.name())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Tz, D::Error> {
        let name = String::deserialize(d)?;
        crate::time::parse_tz(&name).map_err(serde::de::Error::custom)
    }
}

/// Epoch-millisecond bounds `[from, to)` of a filter's date range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    /// Inclusive lower bound.
    pub from_ms: i64,
    /// Exclusive upper bound.
    pub to_ms: i64,
}

impl Filter {
    /// Builds a filter from the text parameters of the API and CLI; each error names the
    /// parameter and its value.
    pub fn from_params(
        start_date: Option<&str>,
        end_date: Option<&str>,
        tz: Option<&str>,
        agent: Option<&str>,
        topic: Option<&str>,
    ) -> Result<Filter, String> {
        let tz = match tz.map(str::trim).filter(|t| !t.is_empty()) {
            Some(t) => parse_tz(t).map_err(|e| format!("tz: {e}"))?,
            None => Tz::UTC,
        };
        let date = |name: &str, v: Option<&str>| -> Result<Option<NaiveDate>, String> {
            v.map(str::trim)
                .filter(|v| !v.is_empty())
                .map(|v| parse_date(v).map_err(|e| format!("{name}: {e}")))
                .transpose()
        };
        let f = Filter {
            start_date: date("start_date", start_date)?,
            end_date: date("end_date", end_date)?,
            tz,
            agent: agent
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(str::to_owned),
            topic: topic
                .map(|t| t.trim().to_lowercase())
                .filter(|t| !t.is_empty()),
            ..Filter::default()
        };
        f.validate()?;
        Ok(f)
    }

    /// Checks that the parts agree (start before end, satisfaction bounds in 1..=5).
    pub fn validate(&self) -> Result<(), String> {
        if let (Some(a), Some(b)) = (self.start_date, self.end_date) {
            if a > b {
                return Err(format!("start_date {a} is after end_date {b}"));
            }
        }
        for (name, v) in [
            ("min_satisfaction", self.min_satisfaction),
            ("max_satisfaction", self.max_satisfaction),
        ] {
            if let Some(v) = v {
                if !(1..=5).contains(&v) {
                    return Err(format!("{name} must be between 1 and 5, got {v}"));
                }
            }
        }
        if let (Some(a), Some(b)) = (self.min_satisfaction, self.max_satisfaction) {
            if a > b {
                return Err(format!(
                    "min_satisfaction {a} is above max_satisfaction {b}"
                ));
            }
        }
        Ok(())
    }

    /// The date range as UTC instants (open-ended where a date is absent).
    pub fn time_range(&self) -> TimeRange {
        TimeRange {
            from_ms: self
                .start_date
                .map_or(i64::MIN, |d| day_start_ms(d, self.tz)),
            to_ms: self
                .end_date
                .and_then(|d| d.succ_opt())
                .map_or(i64::MAX, |d| day_start_ms(d, self.tz)),
        }
    }

    /// The lowest score selected: `min_satisfaction`, raised to the satisfied minimum by
    /// `satisfied_only` (the store's SQL asks the same).
    pub fn lowest_score(&self) -> Option<u8> {
        let satisfied = self
            .satisfied_only
            .then_some(crate::conversation::SATISFIED_MIN);
        self.min_satisfaction.max(satisfied)
    }

    /// Whether a conversation is selected; `range` is [`Filter::time_range`], computed once.
    pub fn matches(&self, s: &Summary, range: TimeRange) -> bool {
        if s.first_message_ms < range.from_ms || s.first_message_ms >= range.to_ms {
            return false;
        }
        if let Some(a) = &self.agent {
            if !s.has_agent(a) {
                return false;
            }
        }
        if let Some(t) = &self.topic {
            if !s.has_topic(t) {
                return false;
            }
        }
        self.selects_score(s.analysis.satisfaction_score)
    }

    /// Whether a conversation with this satisfaction score passes the score bounds.
    pub fn selects_score(&self, score: Option<u8>) -> bool {
        let above = self
            .lowest_score()
            .is_none_or(|min| score.is_some_and(|v| v >= min));
        let below = self
            .max_satisfaction
            .is_none_or(|max| score.is_some_and(|v| v <= max));
        above && below
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(first_ms: i64, score: Option<u8>, agents: &[&str], topics: &[&str]) -> Summary {
        let mut s = Summary {
            first_message_ms: first_ms,
            agents: agents.iter().map(|a| a.to_string()).collect(),
            ..Summary::default()
        };
        s.analysis.satisfaction_score = score;
        s.analysis.topics = topics.iter().map(|t| t.to_string()).collect();
        s
    }

    fn selects(f: &Filter, s: &Summary) -> bool {
        f.matches(s, f.time_range())
    }

    const DAY: i64 = 86_400_000;
    /// 2025-08-12T00:00:00Z.
    const AUG_12: i64 = 1_754_956_800_000;

    #[test]
    fn agent_and_topic_select_only_their_conversations() {
        let amina = summary(AUG_12, Some(4), &["amina"], &["outage"]);
        let brian = summary(AUG_12, Some(4), &["brian"], &["tokens"]);
        let f = Filter::from_params(None, None, None, Some("amina"), None).unwrap();
        assert!(selects(&f, &amina));
        assert!(!selects(&f, &brian));
        let f = Filter::from_params(None, None, None, None, Some(" Tokens ")).unwrap();
        assert!(!selects(&f, &amina));
        assert!(selects(&f, &brian));
    }

    #[test]
    fn satisfied_only_means_four_or_five() {
        let f = Filter {
            satisfied_only: true,
            ..Filter::default()
        };
        for (score, want) in [
            (None, false),
            (Some(1), false),
            (Some(3), false),
            (Some(4), true),
            (Some(5), true),
        ] {
            assert_eq!(
                selects(&f, &summary(AUG_12, score, &[], &[])),
                want,
                "{score:?}"
            );
        }
        assert!(selects(
            &Filter::default(),
            &summary(AUG_12, None, &[], &[])
        ));
    }

    #[test]
    fn date_ranges_include_their_first_and_last_instant_in_the_time_zone() {
        let f =
            Filter::from_params(Some("2025-08-12"), Some("2025-08-13"), None, None, None).unwrap();
        for (at, want) in [
            (AUG_12 - 1, false),
            (AUG_12, true),
            (AUG_12 + 2 * DAY - 1, true),
            (AUG_12 + 2 * DAY, false),
        ] {
            assert_eq!(selects(&f, &summary(at, None, &[], &[])), want, "{at}");
        }
        // Nairobi is UTC+3: its 12 August starts at 21:00 UTC on the 11th.
        let f = Filter::from_params(
            Some("2025-08-12"),
            Some("2025-08-12"),
            Some("Africa/Nairobi"),
            None,
            None,
        )
        .unwrap();
        let three_hours = 3 * 3_600_000;
        assert_eq!(f.time_range().from_ms, AUG_12 - three_hours);
        assert_eq!(f.time_range().to_ms, AUG_12 + DAY - three_hours);
        assert!(selects(&f, &summary(AUG_12 - three_hours, None, &[], &[])));
        assert!(!selects(
            &f,
            &summary(AUG_12 + DAY - three_hours, None, &[], &[])
        ));
    }

    #[test]
    fn a_filter_keeps_its_time_zone_through_serde() {
        // The app sends filters to its worker as JSON: the zone must survive the trip.
        let f = Filter::from_params(Some("2025-08-12"), None, Some("Africa/Nairobi"), None, None)
            .unwrap();
        let back: Filter = serde_json::from_str(&serde_json::to_string(&f).unwrap()).unwrap();
        assert_eq!(back, f);
        assert_eq!(back.tz.name(), "Africa/Nairobi");
        let bad = serde_json::to_string(&f)
            .unwrap()
            .replace("Africa/Nairobi", "Mars/Base");
        assert!(serde_json::from_str::<Filter>(&bad).is_err());
    }

    #[test]
    fn an_unknown_time_zone_is_an_error_not_utc() {
        let e = Filter::from_params(None, None, Some("Nairobi"), None, None).unwrap_err();
        assert!(e.starts_with("tz:"), "{e}");
        assert!(Filter::from_params(None, None, Some("Mars/Olympus"), None, None).is_err());
        assert_eq!(
            Filter::from_params(None, None, Some(" "), None, None)
                .unwrap()
                .tz,
            Tz::UTC
        );
    }

    #[test]
    fn satisfaction_bounds_select_inclusively_and_are_validated() {
        let f = Filter {
            min_satisfaction: Some(3),
            max_satisfaction: Some(4),
            ..Filter::default()
        };
        for (score, want) in [
            (None, false),
            (Some(2), false),
            (Some(3), true),
            (Some(4), true),
            (Some(5), false),
        ] {
            assert_eq!(
                selects(&f, &summary(AUG_12, score, &[], &[])),
                want,
                "{score:?}"
            );
        }
        let only_max = Filter {
            max_satisfaction: Some(2),
            ..Filter::default()
        };
        assert!(!selects(&only_max, &summary(AUG_12, None, &[], &[])));
        assert!(selects(&only_max, &summary(AUG_12, Some(2), &[], &[])));
        let check = |min: Option<u8>, max: Option<u8>| {
            Filter {
                min_satisfaction: min,
                max_satisfaction: max,
                ..Filter::default()
            }
            .validate()
        };
        assert!(check(Some(1), Some(5)).is_ok());
        assert!(check(Some(3), Some(3)).is_ok());
        for (min, max, needle) in [
            (
                Some(0),
                None,
                "min_satisfaction must be between 1 and 5, got 0",
            ),
            (
                Some(6),
                None,
                "min_satisfaction must be between 1 and 5, got 6",
            ),
            (
                None,
                Some(0),
                "max_satisfaction must be between 1 and 5, got 0",
            ),
            (
                None,
                Some(6),
                "max_satisfaction must be between 1 and 5, got 6",
            ),
            (
                Some(4),
                Some(3),
                "min_satisfaction 4 is above max_satisfaction 3",
            ),
        ] {
            assert_eq!(check(min, max).unwrap_err(), needle);
        }
        assert!(
            Filter::from_params(Some("2025-08-12"), Some("2025-08-12"), None, None, None).is_ok()
        );
        assert!(
            Filter::from_params(Some("2025-08-13"), Some("2025-08-12"), None, None, None)
                .unwrap_err()
                .contains("after")
        );
    }
}

//! Filters of the dataset metrics and the conversation list (spec section 6): date range
//! inclusive in a time zone, agent, topic, satisfaction.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::conversation::Summary;
use crate::time::{day_start_ms, parse_date, parse_tz, Tz};

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

mod tz_name {
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
        let score = s.analysis.satisfaction_score;
        if self.satisfied_only && score.is_none_or(|v| v < 4) {
            return false;
        }
        if let Some(min) = self.min_satisfaction {
            if score.is_none_or(|v| v < min) {
                return false;
            }
        }
        if let Some(max) = self.max_satisfaction {
            if score.is_none_or(|v| v > max) {
                return false;
            }
        }
        true
    }
}

//! Timestamps: a fast RFC 3339 parser, the one output format, and day boundaries in a time zone.
//!
//! Times are kept as milliseconds since the Unix epoch (UTC) so that sorting, gaps and date
//! filters are integer work, identical on native and wasm32.

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};

pub use crate::tz::Tz;

/// Milliseconds in a minute, for turning gaps into minutes.
pub const MS_PER_MINUTE: f64 = 60_000.0;

/// Parses an RFC 3339 timestamp (`2025-08-12T10:00:00.000Z`, `...+03:00`, any fraction) to epoch
/// milliseconds. Returns `None` for anything else: a bad timestamp is never replaced by "now".
pub fn parse_timestamp(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 {
        return None;
    }
    let year = digits(b, 0, 4)? as i64;
    let month = digits(b, 5, 2)?;
    let day = digits(b, 8, 2)?;
    let hour = digits(b, 11, 2)? as i64;
    let minute = digits(b, 14, 2)? as i64;
    let second = digits(b, 17, 2)? as i64;
    if b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    // 60 is allowed by RFC 3339 for leap seconds; it lands on the next minute's first second.
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut i = 19;
    let mut millis = 0i64;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            if i - start < 3 {
                millis = millis * 10 + (b[i] - b'0') as i64;
            }
            i += 1;
        }
        let n = i - start;
        if n == 0 {
            return None;
        }
        for _ in n..3 {
            millis *= 10;
        }
    }
    let offset_minutes = match b.get(i)? {
        b'Z' | b'z' if i + 1 == b.len() => 0,
        sign @ (b'+' | b'-') if i + 6 == b.len() && b[i + 3] == b':' => {
            let oh = digits(b, i + 1, 2)? as i64;
            let om = digits(b, i + 4, 2)? as i64;
            if oh > 23 || om > 59 {
                return None;
            }
            let total = oh * 60 + om;
            if *sign == b'-' {
                -total
            } else {
                total
            }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
    Some(secs * 1000 + millis)
}

fn digits(b: &[u8], at: usize, n: usize) -> Option<u32> {
    let mut v = 0u32;
    for &c in b.get(at..at + n)? {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (c - b'0') as u32;
    }
    Some(v)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(y) => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Formats epoch milliseconds as RFC 3339 UTC with milliseconds, the one format of every output.
pub fn format_timestamp(ms: i64) -> String {
    // Written out rather than through chrono's `format`: its pattern machinery is several KB of
    // the browser's download, for the one pattern we print.
    let Some(t) = DateTime::<Utc>::from_timestamp_millis(ms) else {
        return String::new();
    };
    let y = t.year();
    // `%Y`: four digits, a sign outside 0..=9999.
    let year = if (0..=9999).contains(&y) {
        format!("{y:04}")
    } else {
        format!("{y:+05}")
    };
    format!(
        "{year}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.timestamp_subsec_millis()
    )
}

/// Parses a time zone name (`UTC`, `Africa/Nairobi`); the error says which name was refused.
pub fn parse_tz(name: &str) -> Result<Tz, String> {
    Tz::from_name(name.trim()).ok_or_else(|| {
        format!("unknown time zone {name:?} (use an IANA name such as Africa/Nairobi)")
    })
}

/// Parses a `YYYY-MM-DD` date; the error names the value.
pub fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| format!("invalid date {s:?}: expected YYYY-MM-DD"))
}

/// The instant (epoch ms) at which local day `date` starts in `tz`.
///
/// Where midnight does not exist (a DST gap), the day starts at the first instant that does.
pub fn day_start_ms(date: NaiveDate, tz: Tz) -> i64 {
    let local = days_from_civil(i64::from(date.year()), date.month(), date.day()) * 86_400;
    tz.local_to_utc(local) * 1000
}

/// Local epoch seconds of an instant (UTC seconds shifted by the zone's offset).
fn local_secs(ms: i64, tz: Tz) -> i64 {
    let secs = ms.div_euclid(1000);
    secs + i64::from(tz.offset_at(secs))
}

/// The local calendar date of an instant in `tz`.
pub fn local_date(ms: i64, tz: Tz) -> NaiveDate {
    let days = local_secs(ms, tz).div_euclid(86_400);
    NaiveDate::from_num_days_from_ce_opt((days + 719_163) as i32).unwrap_or_default()
}

/// Local weekday (0 = Monday) and hour of an instant in `tz`.
pub fn local_weekday_hour(ms: i64, tz: Tz) -> (u8, u8) {
    let l = local_secs(ms, tz);
    let days = l.div_euclid(86_400);
    // 1970-01-01 was a Thursday (weekday 3 from Monday).
    let weekday = (days + 3).rem_euclid(7) as u8;
    let hour = (l.rem_euclid(86_400) / 3600) as u8;
    (weekday, hour)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_export_format() {
        assert_eq!(parse_timestamp("1970-01-01T00:00:00.000Z"), Some(0));
        assert_eq!(
            parse_timestamp("2025-08-12T10:00:00.000Z"),
            Some(
                DateTime::parse_from_rfc3339("2025-08-12T10:00:00Z")
                    .unwrap()
                    .timestamp_millis()
            )
        );
    }

    #[test]
    fn agrees_with_chrono_on_varied_forms() {
        for s in [
            "2025-08-12T05:48:34.000Z",
            "2025-08-12T05:48:34Z",
            "2025-08-12T05:48:34.5Z",
            "2025-08-12T05:48:34.123456789Z",
            "2025-08-12T08:48:34.000+03:00",
            "2025-08-12T01:48:34-04:00",
            "2024-02-29T23:59:59.999Z",
            "1969-12-31T23:59:59.000Z",
            "2000-03-01T00:00:00Z",
        ] {
            let ours = parse_timestamp(s).unwrap();
            let theirs = DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis();
            assert_eq!(ours, theirs, "{s}");
        }
    }

    #[test]
    fn rejects_what_is_not_rfc3339() {
        for s in [
            "",
            "2025-08-12",
            "2025-08-12T10:00:00",
            "2025-13-12T10:00:00Z",
            "2025-02-30T10:00:00Z",
            "2023-02-29T10:00:00Z",
            "2025-08-12T24:00:00Z",
            "2025-08-12T10:00:00.Z",
            "2025-08-12T10:00:00ZZ",
            "2025-08-12T10:00:00+0300",
            "12/08/2025 10:00",
            "2025-08-12T10:00:00.000Zjunk",
            "２０２５-08-12T10:00:00Z",
        ] {
            assert_eq!(parse_timestamp(s), None, "{s}");
        }
    }

    #[test]
    fn formats_back_to_the_export_format() {
        let ms = parse_timestamp("2025-08-12T08:48:34.120+03:00").unwrap();
        assert_eq!(format_timestamp(ms), "2025-08-12T05:48:34.120Z");
        // The same text as chrono's `%Y-%m-%dT%H:%M:%S%.3fZ`, far years and leap seconds' edges too.
        for ms in [
            0,
            -1,
            1_000,
            253_402_300_799_999,
            253_402_300_800_000,
            -62_167_219_200_001,
            8_210_266_876_799_999,
        ] {
            let chrono = DateTime::<Utc>::from_timestamp_millis(ms)
                .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
                .unwrap_or_default();
            assert_eq!(format_timestamp(ms), chrono, "{ms}");
        }
    }

    #[test]
    fn day_start_in_nairobi_is_three_hours_before_utc_midnight() {
        let tz = parse_tz("Africa/Nairobi").unwrap();
        let d = parse_date("2025-08-13").unwrap();
        assert_eq!(
            format_timestamp(day_start_ms(d, tz)),
            "2025-08-12T21:00:00.000Z"
        );
        assert_eq!(local_date(day_start_ms(d, tz), tz), d);
        assert!(parse_tz("Mars/Olympus").is_err());
        assert!(parse_date("2025-8-1x").is_err());
    }

    #[test]
    fn weekday_and_hour_are_local() {
        let tz = parse_tz("Africa/Nairobi").unwrap();
        // 2025-08-11 is a Monday; 22:30 UTC is 01:30 on Tuesday in Nairobi.
        let ms = parse_timestamp("2025-08-11T22:30:00Z").unwrap();
        assert_eq!(local_weekday_hour(ms, Tz::UTC), (0, 22));
        assert_eq!(local_weekday_hour(ms, tz), (1, 1));
        assert_eq!(local_date(ms, tz).to_string(), "2025-08-12");
        assert_eq!(local_date(-1, Tz::UTC).to_string(), "1969-12-31");
    }

    #[test]
    fn day_start_skips_a_dst_gap_at_midnight() {
        // Chile (America/Santiago) springs forward at 00:00 -> 01:00 in September.
        let tz = parse_tz("America/Santiago").unwrap();
        let d = parse_date("2024-09-08").unwrap();
        let start = day_start_ms(d, tz);
        assert_eq!(local_date(start, tz), d);
        assert_eq!(local_date(start - 1, tz), d.pred_opt().unwrap());
    }
}

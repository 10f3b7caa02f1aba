//! Number formatting for people (the data attributes keep the unrounded values).

/// `83.3%`.
pub fn pct(v: f64) -> String {
    format!("{:.1}%", v)
}

/// Minutes as `45 s`, `12.4 min` or `3 h 05 min`.
pub fn minutes(v: Option<f64>) -> String {
    match v {
        None => "n/a".into(),
        Some(m) if m < 1.0 => format!("{:.0} s", m * 60.0),
        Some(m) if m < 90.0 => format!("{m:.1} min"),
        Some(m) => {
            let total = m.round() as i64;
            format!("{} h {:02} min", total / 60, total % 60)
        }
    }
}

/// A sentiment score with its sign.
pub fn sentiment(v: Option<f64>) -> String {
    v.map_or("n/a".into(), |s| format!("{s:+.2}"))
}

/// `12,345`.
pub fn count(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// An RFC 3339 time shortened to `2025-08-12 10:04`.
pub fn time(s: &str) -> String {
    s.get(..16)
        .map(|t| t.replace('T', " "))
        .unwrap_or_else(|| s.to_owned())
}

/// A day as the charts label it, `12 Aug` (chrono's `%d %b`, without its pattern machinery).
pub fn day_month(d: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!("{:02} {}", d.day(), MONTHS[d.month0() as usize])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(count(1234567), "1,234,567");
        assert_eq!(count(12), "12");
        assert_eq!(minutes(Some(0.5)), "30 s");
        assert_eq!(minutes(Some(12.44)), "12.4 min");
        assert_eq!(minutes(Some(185.0)), "3 h 05 min");
        assert_eq!(minutes(None), "n/a");
        assert_eq!(pct(83.333), "83.3%");
        assert_eq!(time("2025-08-12T10:04:00.000Z"), "2025-08-12 10:04");
        for (y, m, d) in [(2025, 8, 2), (2024, 12, 31), (2026, 1, 10)] {
            let day = chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap();
            assert_eq!(day_month(day), day.format("%d %b").to_string());
        }
    }
}

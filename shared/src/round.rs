//! Rounding at the edge: values are computed unrounded and rounded only when serialized.

use serde::Serializer;

/// Rounds to `places` decimals, half away from zero.
pub fn round(x: f64, places: i32) -> f64 {
    let f = [1.0, 10.0, 100.0, 1000.0, 10000.0][places.clamp(0, 4) as usize];
    let r = (x * f).round() / f;
    // -0.0 would print as "-0"; a rounded zero is just zero.
    if r == 0.0 {
        0.0
    } else {
        r
    }
}

/// Serializes an `f64` with 2 decimals (percentages, minutes).
pub fn f2<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(round(*x, 2))
}

/// Serializes an `Option<f64>` with 2 decimals.
pub fn opt2<S: Serializer>(x: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match x {
        Some(v) => s.serialize_some(&round(*v, 2)),
        None => s.serialize_none(),
    }
}

/// Serializes an `Option<f64>` with 4 decimals (sentiment, confidence).
pub fn opt4<S: Serializer>(x: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match x {
        Some(v) => s.serialize_some(&round(*v, 4)),
        None => s.serialize_none(),
    }
}

/// Formats a rounded number for CSV (shortest form, e.g. `2.5`, `3`); empty for `None`.
pub fn cell(x: Option<f64>, places: i32) -> String {
    x.map(|v| round(v, places).to_string()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_and_never_prints_negative_zero() {
        assert_eq!(round(2.345678, 2), 2.35);
        assert_eq!(round(-0.00001, 4).to_string(), "0");
        assert_eq!(cell(Some(3.0), 2), "3");
        assert_eq!(cell(Some(0.12345), 4), "0.1235");
        assert_eq!(cell(None, 2), "");
    }
}

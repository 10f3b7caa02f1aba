//! The independent oracle of `tests/data/oracle/`: its expected figures, and comparisons that
//! list every value the oracle states and the code gives differently.

use std::path::PathBuf;

use serde_json::Value;

/// A file of the oracle's directory.
pub fn file(name: &str) -> PathBuf {
    crate::workspace().join("tests/data/oracle").join(name)
}

/// `expected.json`: what `oracle.py` worked out.
pub fn expected() -> Value {
    serde_json::from_str(&std::fs::read_to_string(file("expected.json")).unwrap()).unwrap()
}

/// Every value the oracle states is in `got` and equal (fields the oracle leaves out, such as
/// sentiment, are not compared); the differences, one per line, are pushed to `out`.
pub fn differences(want: &Value, got: &Value, path: &str, out: &mut Vec<String>) {
    match want {
        Value::Object(fields) => {
            for (k, v) in fields.iter().filter(|(k, _)| !k.starts_with('_')) {
                match got.get(k) {
                    Some(g) => differences(v, g, &format!("{path}.{k}"), out),
                    None => out.push(format!("{path}.{k}: missing")),
                }
            }
        }
        Value::Array(items) => match got.as_array() {
            Some(g) if g.len() == items.len() => {
                for (i, (w, g)) in items.iter().zip(g).enumerate() {
                    differences(w, g, &format!("{path}[{i}]"), out);
                }
            }
            _ => out.push(format!("{path}: want {} items, got {got}", items.len())),
        },
        Value::Number(n) => {
            if got.as_f64() != n.as_f64() {
                out.push(format!("{path}: want {want}, got {got}"));
            }
        }
        _ => {
            if want != got {
                out.push(format!("{path}: want {want}, got {got}"));
            }
        }
    }
}

/// Panics with every difference between the oracle's `want` and `got`.
pub fn assert_matches(what: &str, want: &Value, got: &Value) {
    let mut out = Vec::new();
    differences(want, got, what, &mut out);
    assert!(
        out.is_empty(),
        "{what} differs from the oracle:\n{}",
        out.join("\n")
    );
}

/// A CSV's rows as JSON objects, each cell read as the type the oracle gives it in `like` (the
/// same row and column): a number, a boolean, a string, and an empty cell as null. Cells the
/// oracle does not state stay strings.
pub fn csv_rows(csv: &[u8], like: &Value) -> Value {
    let mut r = csv::Reader::from_reader(csv);
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_owned).collect();
    let rows = r.records().enumerate().map(|(i, rec)| {
        let rec = rec.unwrap();
        let cells = header.iter().zip(rec.iter()).map(|(h, cell)| {
            let v = match (cell, &like[i][h.as_str()]) {
                ("", _) => Value::Null,
                (_, Value::Number(_)) => cell.parse::<f64>().map_or(Value::from(cell), Value::from),
                (_, Value::Bool(_)) => cell.parse::<bool>().map_or(Value::from(cell), Value::from),
                _ => Value::from(cell),
            };
            (h.clone(), v)
        });
        Value::Object(cells.collect())
    });
    Value::Array(rows.collect())
}

//! The VADER port against the reference implementation: `data/vader_reference.tsv` holds
//! sentences and the compound score vaderSentiment 3.3.2 gives them (`scripts/vader_reference.py`).

use powerpulse_shared::sentiment::SentimentAnalyzer;

#[test]
fn vader_port_matches_the_reference_implementation() {
    let data = include_str!("data/vader_reference.tsv");
    let vader = SentimentAnalyzer::vader();
    let mut checked = 0;
    let mut mismatches = Vec::new();
    for line in data.lines() {
        let (text, expected) = line.rsplit_once('\t').expect("text<TAB>score");
        let expected: f64 = expected.parse().expect("a number");
        let ours = vader.score(text).unwrap_or(0.0);
        // Both round to 4 decimals; allow one unit of rounding difference.
        if (ours - expected).abs() > 1.01e-4 {
            mismatches.push(format!("{text:?}: ours {ours}, reference {expected}"));
        }
        checked += 1;
    }
    assert!(checked > 1000, "only {checked} sentences");
    assert!(
        mismatches.is_empty(),
        "{} of {checked} differ:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

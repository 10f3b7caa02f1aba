//! The built-in analyzer against careful human labels of 280 real conversations (`eval/`, two
//! halves: `a` was used to build the rules, `b` only to check them). A regression guard: each
//! floor sits a little under what the analyzer reaches, so a change that makes the judgement
//! worse on real data fails here. The figures print with `--nocapture` (scripts/test does).

use powerpulse_shared::evaluate::{evaluate, parse_labels, predictions_of, Evaluation};
use powerpulse_shared::{process, Options};

struct Floors {
    kappa: f64,
    exact: f64,
    balanced_accuracy: f64,
    topic_hit: f64,
    sentiment_r: f64,
    /// Largest distance, in points, between the dataset's CSAT % from the analysis and from
    /// the labels.
    csat_points: f64,
    /// The same for FCR %.
    fcr_points: f64,
}

fn evaluation(export: &[u8], labels: &[u8]) -> Evaluation {
    let dataset = process(export, &Options::default()).expect("the real export parses");
    let labels = parse_labels(labels).expect("the labels parse");
    evaluate(&labels, &predictions_of(dataset.summaries()))
}

fn check(name: &str, e: &Evaluation, floors: &Floors) {
    println!("half {name}:\n{e}");
    let o = &e.overall;
    assert_eq!(e.missing, 0, "every labelled chat is in the export");
    assert_eq!(o.n, 140);
    let failures: Vec<String> = [
        ("satisfaction kappa", o.satisfaction.kappa, floors.kappa),
        ("satisfaction exact", o.satisfaction.exact, floors.exact),
        (
            "FCR balanced accuracy",
            o.fcr.balanced_accuracy,
            floors.balanced_accuracy,
        ),
        ("topic hit", o.topic_hit, floors.topic_hit),
        (
            "sentiment r",
            o.sentiment_r.unwrap_or(0.0),
            floors.sentiment_r,
        ),
        (
            "CSAT % closeness",
            -(o.csat.predicted - o.csat.labelled).abs(),
            -floors.csat_points,
        ),
        (
            "FCR % closeness",
            -(o.fcr_percentage.predicted - o.fcr_percentage.labelled).abs(),
            -floors.fcr_points,
        ),
    ]
    .into_iter()
    .filter(|(_, got, floor)| got < floor)
    .map(|(what, got, floor)| format!("{what}: {got:.3} below the floor {floor:.3}"))
    .collect();
    assert!(failures.is_empty(), "half {name}: {failures:?}");
    // Confidence means something: the sure band is right more often than the unsure one.
    let bands = &o.confidence_bands;
    let (low, high) = (&bands[0], &bands[2]);
    assert!(low.n > 0 && high.n > 0, "both bands are used: {bands:?}");
    assert!(
        high.exact.unwrap() > low.exact.unwrap(),
        "confidence >= 0.7 must be right more often than < 0.5: {bands:?}"
    );
}

#[test]
fn development_half_a() {
    let e = evaluation(
        include_bytes!("../../eval/kenya-a.json"),
        include_bytes!("../../eval/kenya-a.labels.json"),
    );
    check(
        "a (development)",
        &e,
        &Floors {
            kappa: 0.80,
            exact: 0.74,
            balanced_accuracy: 0.90,
            topic_hit: 0.92,
            sentiment_r: 0.75,
            csat_points: 3.0,
            fcr_points: 3.0,
        },
    );
}

#[test]
fn check_half_b() {
    let e = evaluation(
        include_bytes!("../../eval/kenya-b.json"),
        include_bytes!("../../eval/kenya-b.labels.json"),
    );
    check(
        "b (check)",
        &e,
        &Floors {
            kappa: 0.68,
            exact: 0.68,
            balanced_accuracy: 0.82,
            topic_hit: 0.92,
            sentiment_r: 0.62,
            csat_points: 5.0,
            fcr_points: 7.0,
        },
    );
}

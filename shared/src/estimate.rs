//! How far the analyzer agrees with a team's reviews, and the dataset's CSAT % and FCR %
//! corrected for the errors those reviews measure.
//!
//! Only reviews of randomly drawn conversations (`sampled`) measure the analyzer without bias;
//! the others (the least confident ones, say) still override their conversations' figures but
//! are left out here. The correction is the double-sampling estimator: with the analyzer's
//! apparent share `q` over the `N` conversations in view, and from the sample the share of its
//! "yes" calls the reviews confirm (PPV) and of its "no" calls they confirm (NPV),
//!
//! `p = q * PPV + (1 - q) * (1 - NPV)`,
//!
//! always within 0..1, defined when the analyzer never says yes (then `p` is the sample's own
//! share). Its 95 % interval is `p ± 1.96 * sd` (clamped to 0..1) with the delta method's
//! variance `(PPV + NPV - 1)² q(1-q)/N + q² PPV(1-PPV)/n₁ + (1-q)² NPV(1-NPV)/n₀`, where `n₁`
//! and `n₀` are the sampled yes and no calls; PPV and NPV enter the variance as
//! `(x + 1) / (n + 2)` so that a small sample that happens to agree everywhere does not claim
//! certainty, and a side the sample never saw counts as entirely unknown (0.5, n = 1).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::conversation::{satisfied, Analysis, Summary};
use crate::evaluate::{canonical_topic, fcr_scores, satisfaction_scores};
use crate::filters::Filter;
use crate::tally::Outcomes;

/// Below this many sampled reviews the figures are shown as not yet meaningful.
pub const MIN_SAMPLED: usize = 20;

/// The normal quantile of a two-sided 95 % interval.
const Z95: f64 = 1.959_963_984_540_054;

/// The analyzer's yes / no calls against the reviews', over a random sample.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Confusion {
    /// Analyzer yes, review yes.
    pub tp: usize,
    /// Analyzer yes, review no.
    pub fp: usize,
    /// Analyzer no, review yes.
    pub fn_: usize,
    /// Analyzer no, review no.
    pub tn: usize,
}

impl Confusion {
    /// Counts one (analyzer, review) pair.
    pub fn add(&mut self, analyzer: bool, review: bool) {
        match (analyzer, review) {
            (true, true) => self.tp += 1,
            (true, false) => self.fp += 1,
            (false, true) => self.fn_ += 1,
            (false, false) => self.tn += 1,
        }
    }

    /// Pairs counted.
    pub fn n(&self) -> usize {
        self.tp + self.fp + self.fn_ + self.tn
    }
}

/// A percentage corrected for the analyzer's measured errors, with its 95 % interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Estimate {
    /// The corrected percentage, 0..100.
    pub value: f64,
    /// Lower end of the 95 % interval.
    pub low: f64,
    /// Upper end of the 95 % interval.
    pub high: f64,
    /// The analyzer's own percentage over the same conversations.
    pub apparent: f64,
    /// Conversations the apparent percentage is over.
    pub n: u64,
    /// Sampled reviews the correction is measured on.
    pub n_reviews: usize,
}

/// `(x + 1) / (n + 2)` for the variance; a side never sampled is entirely unknown.
fn for_variance(x: usize, n: usize) -> (f64, f64) {
    if n == 0 {
        (0.5, 1.0)
    } else {
        ((x as f64 + 1.0) / (n as f64 + 2.0), n as f64)
    }
}

/// The corrected share of `positive` of `n` analyzer calls, measured on `sample`; `None`
/// without conversations or without a sample.
pub fn corrected(positive: u64, n: u64, sample: Confusion) -> Option<Estimate> {
    if n == 0 || sample.n() == 0 || positive > n {
        return None;
    }
    let q = positive as f64 / n as f64;
    let (n1, n0) = (sample.tp + sample.fp, sample.fn_ + sample.tn);
    // A side the sample never saw contributes nothing when the analyzer never takes it.
    let ppv = if n1 > 0 {
        sample.tp as f64 / n1 as f64
    } else {
        0.5
    };
    let npv = if n0 > 0 {
        sample.tn as f64 / n0 as f64
    } else {
        0.5
    };
    let p = q * ppv + (1.0 - q) * (1.0 - npv);
    let (ppv_v, n1_v) = for_variance(sample.tp, n1);
    let (npv_v, n0_v) = for_variance(sample.tn, n0);
    let variance = (ppv + npv - 1.0).powi(2) * q * (1.0 - q) / n as f64
        + q * q * ppv_v * (1.0 - ppv_v) / n1_v
        + (1.0 - q) * (1.0 - q) * npv_v * (1.0 - npv_v) / n0_v;
    let half = Z95 * variance.sqrt();
    Some(Estimate {
        value: 100.0 * p,
        low: 100.0 * (p - half).max(0.0),
        high: 100.0 * (p + half).min(1.0),
        apparent: 100.0 * q,
        n,
        n_reviews: sample.n(),
    })
}

/// The analyzer against a team's reviews, over the conversations in view.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReviewEvaluation {
    /// Reviewed conversations in view.
    pub reviews: usize,
    /// Of those, reviews of randomly drawn conversations: what the figures below are from.
    pub sampled: usize,
    /// Sampled reviews needed before the figures mean much ([`MIN_SAMPLED`]).
    pub min_sampled: usize,
    /// Whether there are that many.
    pub enough: bool,
    /// The analyzers the sampled reviews measure, with how many of them each.
    pub analyzers: BTreeMap<String, usize>,
    /// Satisfaction: quadratic-weighted kappa of the analyzer against the reviews.
    pub satisfaction_kappa: Option<f64>,
    /// Satisfaction: share of exact agreement, 0..1.
    pub satisfaction_exact: Option<f64>,
    /// Sampled reviews the analyzer scored.
    pub n_satisfaction: usize,
    /// FCR: balanced accuracy of the analyzer against the reviews.
    pub fcr_balanced_accuracy: Option<f64>,
    /// Sampled reviews with an FCR verdict.
    pub n_fcr: usize,
    /// Share of sampled reviews with topics where the analyzer named at least one of them.
    pub topic_hit: Option<f64>,
    /// Sampled reviews with topics.
    pub n_topics: usize,
    /// CSAT % corrected for the analyzer's errors.
    pub csat: Option<Estimate>,
    /// FCR % corrected for the analyzer's errors.
    pub fcr: Option<Estimate>,
}

/// The evaluation of the conversations in view: `in_view` counts them as every figure does
/// (reviews in place), `reviewed` are those of them that carry a review.
pub fn evaluate_reviews<'a>(
    in_view: Outcomes,
    reviewed: impl IntoIterator<Item = &'a Summary>,
) -> ReviewEvaluation {
    // The analyzer's own calls over everything in view: the reviews taken back out.
    let mut apparent = in_view;
    let mut e = ReviewEvaluation {
        min_sampled: MIN_SAMPLED,
        ..ReviewEvaluation::default()
    };
    let (mut scores, mut fcr_pairs, mut hits) = (Vec::new(), Vec::new(), 0usize);
    let (mut csat, mut fcr) = (Confusion::default(), Confusion::default());
    for s in reviewed {
        let Some(r) = &s.review else { continue };
        apparent.judged(&s.analysis, -1);
        apparent.judged(&r.analyzer, 1);
        e.reviews += 1;
        if !r.label.is_sampled() {
            continue;
        }
        e.sampled += 1;
        let a: &Analysis = &r.analyzer;
        *e.analyzers.entry(a.analyzer.clone()).or_default() += 1;
        if let Some(score) = a.satisfaction_score {
            scores.push((r.label.satisfaction, score));
            csat.add(satisfied(score), satisfied(r.label.satisfaction));
        }
        if let Some(truth) = r.label.fcr {
            fcr_pairs.push((truth, a.first_contact_resolution == Some(true)));
            if let Some(said) = a.first_contact_resolution {
                fcr.add(said, truth);
            }
        }
        if !r.label.topics.is_empty() {
            e.n_topics += 1;
            let wanted: Vec<String> = r.label.topics.iter().map(|t| canonical_topic(t)).collect();
            hits += usize::from(
                a.topics
                    .iter()
                    .any(|t| wanted.contains(&canonical_topic(t))),
            );
        }
    }
    e.enough = e.sampled >= MIN_SAMPLED;
    e.n_satisfaction = scores.len();
    if !scores.is_empty() {
        let s = satisfaction_scores(&scores);
        e.satisfaction_kappa = Some(s.kappa);
        e.satisfaction_exact = Some(s.exact);
    }
    e.n_fcr = fcr_pairs.len();
    if !fcr_pairs.is_empty() {
        e.fcr_balanced_accuracy = Some(fcr_scores(&fcr_pairs).balanced_accuracy);
    }
    e.topic_hit = (e.n_topics > 0).then(|| hits as f64 / e.n_topics as f64);
    let count = |v: i64| v.max(0) as u64;
    e.csat = corrected(count(apparent.satisfied), count(apparent.scored), csat);
    e.fcr = corrected(count(apparent.fcr_true), count(apparent.fcr_valued), fcr);
    e
}

/// The evaluation of the conversations `f` selects among `summaries` (the browser holds them
/// all; the server adds up its rollups instead).
pub fn evaluate_selected<'a>(
    summaries: impl Iterator<Item = &'a Summary>,
    f: &Filter,
) -> ReviewEvaluation {
    let range = f.time_range();
    let mut in_view = Outcomes::default();
    let mut reviewed = Vec::new();
    for s in summaries.filter(|s| f.matches(s, range)) {
        in_view.conversations += 1;
        in_view.judged(&s.analysis, 1);
        if s.review.is_some() {
            reviewed.push(s);
        }
    }
    evaluate_reviews(in_view, reviewed)
}

/// Which conversations to review next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Queue {
    /// A random sample: reviews of these measure the analyzer without bias.
    Sample,
    /// The ones the analyzer is least confident about (not counted in the estimates).
    Uncertain,
}

/// A chat's place in the random sample: FNV-1a of its id, which owes nothing to the content,
/// so every conversation is equally likely to come early, and the order is the same each time.
fn sample_rank(chat_id: &str) -> u64 {
    chat_id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Up to `n` unreviewed conversations `f` selects, in the queue's order.
pub fn queue<'a>(
    summaries: impl Iterator<Item = &'a Summary>,
    f: &Filter,
    kind: Queue,
    n: usize,
) -> Vec<String> {
    let range = f.time_range();
    let mut open: Vec<&Summary> = summaries
        .filter(|s| s.review.is_none() && f.matches(s, range))
        .collect();
    match kind {
        Queue::Sample => open.sort_by_key(|s| (sample_rank(&s.chat_id), s.chat_id.clone())),
        Queue::Uncertain => open.sort_by(|a, b| {
            let c = |s: &Summary| s.analysis.satisfaction_confidence.unwrap_or(0.0);
            c(a).total_cmp(&c(b))
                .then_with(|| a.chat_id.cmp(&b.chat_id))
        }),
    }
    open.into_iter()
        .take(n)
        .map(|s| s.chat_id.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluate::Label;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn a_perfect_analyzer_is_not_corrected_but_keeps_an_interval() {
        let c = Confusion {
            tp: 10,
            fp: 0,
            fn_: 0,
            tn: 30,
        };
        let e = corrected(250, 1000, c).unwrap();
        assert!(close(e.value, 25.0));
        assert!(close(e.apparent, 25.0));
        assert!(e.low < 25.0 && e.high > 25.0, "{e:?}");
        assert_eq!(e.n_reviews, 40);
    }

    #[test]
    fn a_known_confusion_moves_the_share_as_the_formula_says() {
        // The analyzer says yes to 40 %; of its yes calls the reviews confirm 3 in 4, of its
        // no calls 9 in 10: p = 0.4 * 0.75 + 0.6 * 0.1 = 0.36.
        let c = Confusion {
            tp: 15,
            fp: 5,
            fn_: 3,
            tn: 27,
        };
        let e = corrected(400, 1000, c).unwrap();
        assert!(close(e.value, 36.0), "{e:?}");
        // The variance by hand, PPV and NPV as (x+1)/(n+2) there.
        let (ppv, npv) = (16.0 / 22.0, 28.0 / 32.0);
        let v = (0.75f64 + 0.9 - 1.0).powi(2) * 0.24 / 1000.0
            + 0.16 * ppv * (1.0 - ppv) / 20.0
            + 0.36 * npv * (1.0 - npv) / 30.0;
        assert!(close(e.high - e.value, 100.0 * Z95 * v.sqrt()), "{e:?}");
        assert!(close(e.value - e.low, 100.0 * Z95 * v.sqrt()));
    }

    #[test]
    fn an_analyzer_that_never_says_yes_gives_the_samples_own_share() {
        let c = Confusion {
            tp: 0,
            fp: 0,
            fn_: 6,
            tn: 24,
        };
        let e = corrected(0, 500, c).unwrap();
        assert!(close(e.value, 20.0));
        assert!(close(e.apparent, 0.0));
        assert!(e.low > 0.0 && e.high < 100.0);
    }

    #[test]
    fn nothing_to_correct_gives_no_estimate_and_the_interval_stays_in_bounds() {
        assert_eq!(corrected(0, 0, Confusion::default()), None);
        assert_eq!(corrected(5, 10, Confusion::default()), None);
        let all = Confusion {
            tp: 3,
            ..Confusion::default()
        };
        let e = corrected(10, 10, all).unwrap();
        assert!(close(e.value, 100.0) && close(e.high, 100.0) && e.low < 100.0);
    }

    fn reviewed(
        analyzer: (u8, Option<bool>),
        review: (u8, Option<bool>),
        sampled: bool,
    ) -> Summary {
        let mut s = Summary {
            analysis: Analysis {
                analyzer: "builtin".into(),
                satisfaction_score: Some(analyzer.0),
                first_contact_resolution: analyzer.1,
                topics: vec!["outage".into()],
                ..Analysis::default()
            },
            ..Summary::default()
        };
        s.set_review(Some(Label {
            satisfaction: review.0,
            fcr: review.1,
            topics: vec!["outage".into()],
            customer_sentiment: None,
            language: None,
            note: String::new(),
            sampled: Some(sampled),
        }));
        s
    }

    #[test]
    fn the_evaluation_takes_the_reviews_out_of_the_apparent_share_and_counts_only_the_sample() {
        // 100 conversations in view, 60 scored satisfied by the analyzer outside the reviews.
        let reviews: Vec<Summary> = (0..24)
            .map(|i| {
                reviewed(
                    (5, Some(true)),
                    (if i < 18 { 5 } else { 2 }, Some(i < 18)),
                    true,
                )
            })
            .chain([reviewed((5, Some(true)), (1, Some(false)), false)])
            .collect();
        let mut in_view = Outcomes::default();
        for _ in 0..75 {
            in_view.conversations += 1;
            in_view.judged(
                &Analysis {
                    satisfaction_score: Some(if in_view.conversations <= 60 { 5 } else { 1 }),
                    first_contact_resolution: Some(false),
                    ..Analysis::default()
                },
                1,
            );
        }
        for s in &reviews {
            in_view.conversations += 1;
            in_view.judged(&s.analysis, 1);
        }
        let e = evaluate_reviews(in_view, &reviews);
        assert_eq!((e.reviews, e.sampled, e.enough), (25, 24, true));
        assert_eq!(e.analyzers.get("builtin"), Some(&24));
        let csat = e.csat.unwrap();
        // Apparent: the analyzer said satisfied to 60 + 25 of 100.
        assert!(close(csat.apparent, 85.0), "{csat:?}");
        // PPV 18/24; no "no" calls sampled: p = 0.85 * 0.75 + 0.15 * 0.5.
        assert!(
            close(csat.value, 100.0 * (0.85 * 0.75 + 0.15 * 0.5)),
            "{csat:?}"
        );
        assert_eq!(e.topic_hit, Some(1.0));
        assert_eq!(e.n_satisfaction, 24);
        assert!(e.fcr_balanced_accuracy.is_some());
    }

    #[test]
    fn the_queues_leave_out_reviewed_conversations_and_keep_their_order() {
        let mut all: Vec<Summary> = (0..50)
            .map(|i| Summary {
                chat_id: format!("c{i}"),
                analysis: Analysis {
                    satisfaction_confidence: Some(f64::from(i) / 50.0),
                    ..Analysis::default()
                },
                ..Summary::default()
            })
            .collect();
        all[0].set_review(reviewed((3, None), (3, None), true).review.map(|r| r.label));
        let f = Filter::default();
        let sample = queue(all.iter(), &f, Queue::Sample, 10);
        assert_eq!(sample.len(), 10);
        assert!(!sample.contains(&"c0".to_owned()));
        assert_eq!(sample, queue(all.iter().rev(), &f, Queue::Sample, 10));
        assert_ne!(sample, (1..11).map(|i| format!("c{i}")).collect::<Vec<_>>());
        let unsure = queue(all.iter(), &f, Queue::Uncertain, 3);
        assert_eq!(unsure, vec!["c1", "c2", "c3"]);
    }

    #[test]
    fn no_reviews_give_no_figures() {
        let e = evaluate_reviews(Outcomes::default(), []);
        assert_eq!((e.reviews, e.sampled, e.enough), (0, 0, false));
        assert_eq!((e.csat, e.fcr, e.satisfaction_kappa), (None, None, None));
    }
}

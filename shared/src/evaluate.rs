//! Evaluation: how far an analysis (the built-in analyzer's, or a stored AI analysis) agrees
//! with careful human labels of the same conversations.
//!
//! The measures are the ones the labelled set is published with: quadratic-weighted Cohen's
//! kappa and exact agreement for satisfaction, balanced accuracy for FCR, the share of
//! conversations with at least one right topic, the dataset's CSAT % and FCR % from both sides,
//! and Pearson's r of the conversation's sentiment against the labelled tone; each overall and
//! per language, each with its n.
//!
//! Choices where a measure needs one (also in `docs/definitions.md`):
//! - a labelled conversation that the analysis does not contain is counted as `missing` and
//!   left out of every measure;
//! - no predicted satisfaction (no customer message) leaves the conversation out of the
//!   satisfaction measures, counted in `unscored`;
//! - a predicted FCR of null where the label says true or false counts as "not resolved";
//! - a conversation without sentiment signal counts as 0 (neutral) in the correlation;
//! - topics are compared after [`canonical_topic`], one mapping for every analyzer.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::conversation::{satisfied, Summary};

/// The labelled set's topic labels.
pub const LABEL_TOPICS: &[&str] = &[
    "outage",
    "tokens",
    "billing",
    "meter",
    "connection",
    "account",
    "safety",
    "feedback",
    "other",
];

/// Maps a topic label of any analyzer (the default taxonomy, older taxonomies, an AI's wording)
/// to the labelled set's label; an unknown label is returned lowercased, as it is.
pub fn canonical_topic(label: &str) -> String {
    let l = label.trim().to_lowercase();
    let canonical = match l.as_str() {
        "outage" | "power outage" | "blackout" | "voltage" | "low voltage" | "surge"
        | "no power" | "power" | "supply" => "outage",
        "tokens" | "token" | "prepaid" | "units" | "vending" => "tokens",
        "billing" | "bill" | "bills" | "payment" | "payments" | "refund" | "refunds" | "tariff"
        | "tariffs" | "postpaid" => "billing",
        "meter" | "meters" | "ciu" | "kct" | "meter update" => "meter",
        "connection" | "new connection" | "connections" | "new supply" => "connection",
        "account" | "accounts" | "account details" => "account",
        "safety" | "danger" | "hazard" => "safety",
        "feedback" | "service" | "complaint" | "complaints" | "customer service"
        | "service quality" => "feedback",
        "other" | "self-service" | "general" | "greeting" | "spam" => "other",
        _ => return l,
    };
    canonical.to_owned()
}

/// One conversation's reference label, or a person's review of it (the same format).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Label {
    /// 1..=5 at the end of the conversation.
    pub satisfaction: u8,
    /// Solved on first contact; null when there was no actual issue.
    pub fcr: Option<bool>,
    /// 1-3 of [`LABEL_TOPICS`].
    #[serde(default)]
    pub topics: Vec<String>,
    /// The customer's overall tone, -1..1 (a review may leave it out).
    #[serde(default)]
    pub customer_sentiment: Option<f64>,
    /// `en`, `sw` or `mixed` (a review may leave it out).
    #[serde(default)]
    pub language: Option<String>,
    /// What happened, in one sentence.
    #[serde(default)]
    pub note: String,
    /// Whether the conversation was drawn at random (only such reviews measure an analyzer
    /// without bias); a labels file without the field is taken as a random sample.
    #[serde(default)]
    pub sampled: Option<bool>,
}

impl Label {
    /// Whether the label counts in the agreement and the corrected estimates.
    pub fn is_sampled(&self) -> bool {
        self.sampled.unwrap_or(true)
    }
}

/// Reference labels by chat id.
pub type Labels = BTreeMap<String, Label>;

/// Reads a labels file (chat id -> label); the error names the place or the chat.
pub fn parse_labels(bytes: &[u8]) -> Result<Labels, String> {
    // From text, as every other JSON the browser's worker reads: one deserializer in its wasm.
    let text = std::str::from_utf8(bytes).map_err(|e| format!("labels: not UTF-8 ({e})"))?;
    let labels: Labels = serde_json::from_str(text).map_err(|e| format!("labels: {e}"))?;
    for (id, l) in &labels {
        if !(1..=5).contains(&l.satisfaction) {
            return Err(format!(
                "labels: chat {id:?}: satisfaction {} is not in 1..5",
                l.satisfaction
            ));
        }
        if let Some(v) = l.customer_sentiment.filter(|v| !(-1.0..=1.0).contains(v)) {
            return Err(format!(
                "labels: chat {id:?}: customer_sentiment {v} is not in -1..1"
            ));
        }
    }
    Ok(labels)
}

/// What an analysis said about one conversation.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Prediction {
    /// 1..=5.
    pub satisfaction: Option<u8>,
    /// 0..=1.
    pub confidence: Option<f64>,
    /// First-contact resolution.
    pub fcr: Option<bool>,
    /// Topic labels as the analyzer wrote them.
    pub topics: Vec<String>,
    /// Mean customer-message sentiment.
    pub sentiment: Option<f64>,
}

impl From<&Summary> for Prediction {
    fn from(s: &Summary) -> Self {
        let a = &s.analysis;
        Self {
            satisfaction: a.satisfaction_score,
            confidence: a.satisfaction_confidence,
            fcr: a.first_contact_resolution,
            topics: a.topics.clone(),
            sentiment: a.avg_sentiment,
        }
    }
}

/// Predictions by chat id.
pub type Predictions = BTreeMap<String, Prediction>;

/// The predictions of a processed export's summaries.
pub fn predictions_of<'a>(summaries: impl Iterator<Item = &'a Summary>) -> Predictions {
    summaries
        .map(|s| (s.chat_id.clone(), Prediction::from(s)))
        .collect()
}

/// Reads the predictions of a conversations CSV as the server, the CLI and the app export it;
/// the error names the line and the column.
pub fn predictions_from_csv(bytes: &[u8]) -> Result<Predictions, String> {
    let mut reader = csv::ReaderBuilder::new().from_reader(bytes);
    let headers = reader
        .headers()
        .map_err(|e| format!("analysis CSV: {e}"))?
        .clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| format!("analysis CSV: no column {name:?}"))
    };
    let id = column("chat_id")?;
    let sat = column("satisfaction_score")?;
    let conf = column("satisfaction_confidence")?;
    let fcr = column("first_contact_resolution")?;
    let topics = column("common_topics")?;
    let sent = column("avg_sentiment")?;
    let mut out = Predictions::new();
    for (n, row) in reader.records().enumerate() {
        let line = n + 2;
        let row = row.map_err(|e| format!("analysis CSV line {line}: {e}"))?;
        let cell = |i: usize| row.get(i).unwrap_or("").trim();
        let bad = |name: &str, v: &str| format!("analysis CSV line {line}, {name}: {v:?}");
        let satisfaction = match cell(sat) {
            "" => None,
            v => Some(
                v.parse::<u8>()
                    .ok()
                    .filter(|s| (1..=5).contains(s))
                    .ok_or_else(|| bad("satisfaction_score", v))?,
            ),
        };
        let number = |i: usize, name: &str| match cell(i) {
            "" => Ok(None),
            v => v.parse::<f64>().map(Some).map_err(|_| bad(name, v)),
        };
        let fcr = match cell(fcr) {
            "" => None,
            "true" => Some(true),
            "false" => Some(false),
            v => return Err(bad("first_contact_resolution", v)),
        };
        out.insert(
            cell(id).to_owned(),
            Prediction {
                satisfaction,
                confidence: number(conf, "satisfaction_confidence")?,
                fcr,
                topics: cell(topics)
                    .split(';')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned)
                    .collect(),
                sentiment: number(sent, "avg_sentiment")?,
            },
        );
    }
    Ok(out)
}

/// Satisfaction agreement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SatisfactionScores {
    /// Conversations with both a label and a predicted score.
    pub n: usize,
    /// Quadratic-weighted Cohen's kappa (0 for a constant guess).
    pub kappa: f64,
    /// Share of exact agreement.
    pub exact: f64,
    /// `confusion[label - 1][predicted - 1]`.
    pub confusion: [[usize; 5]; 5],
}

/// FCR agreement over the conversations labelled true or false.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FcrScores {
    /// Conversations labelled true or false.
    pub n: usize,
    /// Mean of the recall of "resolved" and of "not resolved" (0.5 for a constant guess).
    pub balanced_accuracy: f64,
    /// Of the predicted "resolved", the share labelled resolved (null when none predicted).
    pub precision: Option<f64>,
    /// Of the labelled "resolved", the share predicted resolved (null when none labelled).
    pub recall: Option<f64>,
    /// `[[true positives, false negatives], [false positives, true negatives]]`.
    pub confusion: [[usize; 2]; 2],
}

/// A percentage from the analysis next to the same from the labels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Percentages {
    /// From the analysis.
    pub predicted: f64,
    /// From the labels.
    pub labelled: f64,
    /// Conversations the predicted figure is over.
    pub n_predicted: usize,
    /// Conversations the labelled figure is over.
    pub n_labelled: usize,
}

/// Satisfaction accuracy within a band of reported confidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfidenceBand {
    /// Lowest confidence in the band (inclusive).
    pub from: f64,
    /// Highest confidence (exclusive, except 1.0).
    pub to: f64,
    /// Conversations in the band.
    pub n: usize,
    /// Share of exact satisfaction agreement (null when the band is empty).
    pub exact: Option<f64>,
    /// Share of FCR agreement among those labelled true or false (null when none).
    pub fcr_agreement: Option<f64>,
}

/// Every measure over one group of conversations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    /// Labelled conversations the analysis contains.
    pub n: usize,
    /// Satisfaction.
    pub satisfaction: SatisfactionScores,
    /// First-contact resolution.
    pub fcr: FcrScores,
    /// Share of conversations with at least one predicted topic among the labelled ones.
    pub topic_hit: f64,
    /// CSAT % (score >= 4).
    pub csat: Percentages,
    /// FCR %.
    pub fcr_percentage: Percentages,
    /// Pearson's r of the conversation's sentiment against the labelled tone.
    pub sentiment_r: Option<f64>,
    /// Accuracy by reported confidence: below 0.5, 0.5 to 0.7, 0.7 and above.
    pub confidence_bands: Vec<ConfidenceBand>,
}

/// The evaluation of one analysis against one labels file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Labelled conversations.
    pub labelled: usize,
    /// Labelled conversations the analysis does not contain (left out of every measure).
    pub missing: usize,
    /// Of those evaluated, conversations with no predicted satisfaction.
    pub unscored: usize,
    /// Every conversation evaluated.
    pub overall: Scores,
    /// Per labelled language (`en`, `mixed`, `sw`).
    pub by_language: BTreeMap<String, Scores>,
    /// The dataset's CSAT % and FCR % corrected for the analyzer's errors as its labelled
    /// conversations measure them (the labels taken as reviews: [`labels_as_reviews`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub corrected: Option<crate::estimate::ReviewEvaluation>,
}

/// The evaluation the app's panel and `GET /api/evaluation` give when these labels are the
/// dataset's reviews: agreement over the sampled ones, CSAT % and FCR % corrected.
pub fn labels_as_reviews(
    summaries: &[Summary],
    labels: &Labels,
) -> crate::estimate::ReviewEvaluation {
    let reviewed: Vec<Summary> = summaries
        .iter()
        .map(|s| {
            let mut s = s.clone();
            if let Some(l) = labels.get(&s.chat_id) {
                s.set_review(Some(l.clone()));
            }
            s
        })
        .collect();
    crate::estimate::evaluate_selected(reviewed.iter(), &crate::Filter::default())
}

/// Scores `predictions` against `labels`.
pub fn evaluate(labels: &Labels, predictions: &Predictions) -> Evaluation {
    let pairs: Vec<(&Label, &Prediction)> = labels
        .iter()
        .filter_map(|(id, l)| predictions.get(id).map(|p| (l, p)))
        .collect();
    let mut languages: BTreeMap<String, Vec<(&Label, &Prediction)>> = BTreeMap::new();
    for &(l, p) in &pairs {
        languages
            .entry(l.language.clone().unwrap_or_else(|| "unknown".to_owned()))
            .or_default()
            .push((l, p));
    }
    Evaluation {
        labelled: labels.len(),
        missing: labels.len() - pairs.len(),
        unscored: pairs
            .iter()
            .filter(|(_, p)| p.satisfaction.is_none())
            .count(),
        overall: scores(&pairs),
        by_language: languages
            .into_iter()
            .map(|(lang, group)| (lang, scores(&group)))
            .collect(),
        corrected: None,
    }
}

fn ratio(num: usize, den: usize) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

fn scores(pairs: &[(&Label, &Prediction)]) -> Scores {
    let rated: Vec<(u8, u8)> = pairs
        .iter()
        .filter_map(|(l, p)| p.satisfaction.map(|s| (l.satisfaction, s)))
        .collect();
    let fcr_pairs: Vec<(bool, bool)> = pairs
        .iter()
        .filter_map(|(l, p)| l.fcr.map(|truth| (truth, p.fcr == Some(true))))
        .collect();
    let topic_hits = pairs
        .iter()
        .filter(|(l, p)| {
            p.topics
                .iter()
                .any(|t| l.topics.contains(&canonical_topic(t)))
        })
        .count();
    let predicted_scores: Vec<u8> = pairs.iter().filter_map(|(_, p)| p.satisfaction).collect();
    let predicted_fcr: Vec<bool> = pairs.iter().filter_map(|(_, p)| p.fcr).collect();
    let labelled_fcr: Vec<bool> = pairs.iter().filter_map(|(l, _)| l.fcr).collect();
    let sentiment: Vec<(f64, f64)> = pairs
        .iter()
        .filter_map(|(l, p)| Some((p.sentiment.unwrap_or(0.0), l.customer_sentiment?)))
        .collect();
    Scores {
        n: pairs.len(),
        satisfaction: satisfaction_scores(&rated),
        fcr: fcr_scores(&fcr_pairs),
        topic_hit: ratio(topic_hits, pairs.len()).unwrap_or(0.0),
        csat: Percentages {
            predicted: percent(
                predicted_scores.iter().filter(|&&s| satisfied(s)).count(),
                predicted_scores.len(),
            ),
            labelled: percent(
                pairs
                    .iter()
                    .filter(|(l, _)| satisfied(l.satisfaction))
                    .count(),
                pairs.len(),
            ),
            n_predicted: predicted_scores.len(),
            n_labelled: pairs.len(),
        },
        fcr_percentage: Percentages {
            predicted: percent(
                predicted_fcr.iter().filter(|&&b| b).count(),
                predicted_fcr.len(),
            ),
            labelled: percent(
                labelled_fcr.iter().filter(|&&b| b).count(),
                labelled_fcr.len(),
            ),
            n_predicted: predicted_fcr.len(),
            n_labelled: labelled_fcr.len(),
        },
        sentiment_r: pearson(&sentiment),
        confidence_bands: confidence_bands(pairs),
    }
}

fn percent(num: usize, den: usize) -> f64 {
    ratio(num, den).map_or(0.0, |r| r * 100.0)
}

/// Quadratic-weighted kappa, exact agreement and the confusion matrix of (label, predicted).
pub fn satisfaction_scores(pairs: &[(u8, u8)]) -> SatisfactionScores {
    let mut confusion = [[0usize; 5]; 5];
    for &(l, p) in pairs {
        confusion[usize::from(l) - 1][usize::from(p) - 1] += 1;
    }
    let exact = (0..5).map(|i| confusion[i][i]).sum::<usize>();
    SatisfactionScores {
        n: pairs.len(),
        kappa: quadratic_kappa(&confusion),
        exact: ratio(exact, pairs.len()).unwrap_or(0.0),
        confusion,
    }
}

/// Cohen's kappa with quadratic weights over a 5x5 confusion matrix: 1 for perfect agreement,
/// 0 for agreement no better than chance (a constant guess included).
pub fn quadratic_kappa(confusion: &[[usize; 5]; 5]) -> f64 {
    let n: usize = confusion.iter().flatten().sum();
    if n == 0 {
        return 0.0;
    }
    let rows: Vec<f64> = confusion
        .iter()
        .map(|r| r.iter().sum::<usize>() as f64)
        .collect();
    let cols: Vec<f64> = (0..5)
        .map(|j| confusion.iter().map(|r| r[j]).sum::<usize>() as f64)
        .collect();
    let (mut observed, mut expected) = (0.0, 0.0);
    for i in 0..5 {
        for j in 0..5 {
            let w = ((i as f64) - (j as f64)).powi(2) / 16.0;
            observed += w * confusion[i][j] as f64;
            expected += w * rows[i] * cols[j] / n as f64;
        }
    }
    if expected == 0.0 {
        // Both sides constant: perfect when they agree, chance otherwise.
        return if observed == 0.0 { 1.0 } else { 0.0 };
    }
    1.0 - observed / expected
}

/// Balanced accuracy, precision and recall of (truth, predicted) pairs, "resolved" positive.
pub fn fcr_scores(pairs: &[(bool, bool)]) -> FcrScores {
    let count = |t: bool, p: bool| pairs.iter().filter(|&&x| x == (t, p)).count();
    let (tp, fneg, fpos, tn) = (
        count(true, true),
        count(true, false),
        count(false, true),
        count(false, false),
    );
    let recall = ratio(tp, tp + fneg);
    let specificity = ratio(tn, tn + fpos);
    let balanced_accuracy = match (recall, specificity) {
        (Some(r), Some(s)) => (r + s) / 2.0,
        (Some(r), None) | (None, Some(r)) => r,
        (None, None) => 0.0,
    };
    FcrScores {
        n: pairs.len(),
        balanced_accuracy,
        precision: ratio(tp, tp + fpos),
        recall,
        confusion: [[tp, fneg], [fpos, tn]],
    }
}

/// Pearson's correlation of (x, y) pairs; null when either side has no spread.
pub fn pearson(pairs: &[(f64, f64)]) -> Option<f64> {
    let n = pairs.len() as f64;
    if pairs.len() < 2 {
        return None;
    }
    let mx = pairs.iter().map(|p| p.0).sum::<f64>() / n;
    let my = pairs.iter().map(|p| p.1).sum::<f64>() / n;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for &(x, y) in pairs {
        sxy += (x - mx) * (y - my);
        sxx += (x - mx).powi(2);
        syy += (y - my).powi(2);
    }
    (sxx > 0.0 && syy > 0.0).then(|| sxy / (sxx * syy).sqrt())
}

const BANDS: [(f64, f64); 3] = [(0.0, 0.5), (0.5, 0.7), (0.7, 1.0)];

fn confidence_bands(pairs: &[(&Label, &Prediction)]) -> Vec<ConfidenceBand> {
    BANDS
        .iter()
        .map(|&(from, to)| {
            let inside: Vec<&(&Label, &Prediction)> = pairs
                .iter()
                .filter(|(_, p)| {
                    p.satisfaction.is_some()
                        && p.confidence
                            .is_some_and(|c| c >= from && (c < to || to >= 1.0))
                })
                .collect();
            let exact = inside
                .iter()
                .filter(|(l, p)| p.satisfaction == Some(l.satisfaction))
                .count();
            let with_fcr: Vec<_> = inside
                .iter()
                .filter_map(|(l, p)| l.fcr.map(|t| (t, p.fcr == Some(true))))
                .collect();
            ConfidenceBand {
                from,
                to,
                n: inside.len(),
                exact: ratio(exact, inside.len()),
                fcr_agreement: ratio(
                    with_fcr.iter().filter(|(t, p)| t == p).count(),
                    with_fcr.len(),
                ),
            }
        })
        .collect()
}

fn opt3(v: Option<f64>) -> String {
    v.map_or("n/a".to_owned(), |v| format!("{v:.3}"))
}

impl fmt::Display for Scores {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.satisfaction;
        let r = &self.fcr;
        writeln!(
            f,
            "  satisfaction  kappa {:.3}  exact {:.1}%  (n={})",
            s.kappa,
            s.exact * 100.0,
            s.n
        )?;
        writeln!(
            f,
            "  FCR           balanced accuracy {:.3}  precision {}  recall {}  (n={})",
            r.balanced_accuracy,
            opt3(r.precision),
            opt3(r.recall),
            r.n
        )?;
        writeln!(
            f,
            "  topic hit     {:.1}%  (n={})",
            self.topic_hit * 100.0,
            self.n
        )?;
        writeln!(
            f,
            "  CSAT %        {:.1} predicted vs {:.1} labelled",
            self.csat.predicted, self.csat.labelled
        )?;
        writeln!(
            f,
            "  FCR %         {:.1} predicted vs {:.1} labelled",
            self.fcr_percentage.predicted, self.fcr_percentage.labelled
        )?;
        writeln!(
            f,
            "  sentiment r   {}  (n={})",
            opt3(self.sentiment_r),
            self.n
        )
    }
}

impl fmt::Display for Evaluation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Evaluation against {} labelled conversations ({} missing from the analysis, {} without a score)",
            self.labelled, self.missing, self.unscored
        )?;
        writeln!(f, "overall")?;
        write!(f, "{}", self.overall)?;
        writeln!(
            f,
            "  satisfaction confusion (rows: label 1-5, columns: predicted 1-5)"
        )?;
        for (i, row) in self.overall.satisfaction.confusion.iter().enumerate() {
            let cells: Vec<String> = row.iter().map(|c| format!("{c:4}")).collect();
            writeln!(f, "    {} |{}", i + 1, cells.join(""))?;
        }
        let c = self.overall.fcr.confusion;
        writeln!(
            f,
            "  FCR confusion  labelled true: {} predicted true, {} false; labelled false: {} predicted true, {} false",
            c[0][0], c[0][1], c[1][0], c[1][1]
        )?;
        writeln!(f, "  accuracy by confidence")?;
        for b in &self.overall.confidence_bands {
            writeln!(
                f,
                "    {:.1}-{:.1}  n={:3}  satisfaction exact {}  FCR agreement {}",
                b.from,
                b.to,
                b.n,
                b.exact
                    .map_or("n/a".into(), |e| format!("{:.1}%", e * 100.0)),
                b.fcr_agreement
                    .map_or("n/a".into(), |e| format!("{:.1}%", e * 100.0)),
            )?;
        }
        for (lang, s) in &self.by_language {
            writeln!(f, "language {lang} (n={})", s.n)?;
            write!(f, "{s}")?;
        }
        if let Some(c) = &self.corrected {
            writeln!(
                f,
                "corrected for the analyzer's errors (the {} sampled labels as reviews{})",
                c.sampled,
                if c.enough { "" } else { "; too few to trust" }
            )?;
            for (name, e) in [("CSAT", &c.csat), ("FCR", &c.fcr)] {
                match e {
                    Some(e) => writeln!(
                        f,
                        "  {name} {:.1}% (95% interval {:.1}-{:.1}%; the analyzer says {:.1}%)",
                        e.value, e.low, e.high, e.apparent
                    )?,
                    None => writeln!(f, "  {name} n/a")?,
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kappa_of_perfect_constant_and_inverted_predictors() {
        let truth = [1u8, 2, 3, 3, 4, 5, 2, 3];
        let perfect: Vec<(u8, u8)> = truth.iter().map(|&t| (t, t)).collect();
        let s = satisfaction_scores(&perfect);
        assert_eq!(s.kappa, 1.0);
        assert_eq!(s.exact, 1.0);
        let constant: Vec<(u8, u8)> = truth.iter().map(|&t| (t, 3)).collect();
        let s = satisfaction_scores(&constant);
        assert_eq!(s.kappa, 0.0);
        assert_eq!(s.exact, 3.0 / 8.0);
        assert_eq!(s.confusion[2][2], 3);
        let inverted: Vec<(u8, u8)> = truth.iter().map(|&t| (t, 6 - t)).collect();
        assert!(satisfaction_scores(&inverted).kappa < -0.5);
        // One step off costs less than four steps off.
        let near = satisfaction_scores(&[(1, 2), (2, 2), (3, 3), (4, 4), (5, 5)]).kappa;
        let far = satisfaction_scores(&[(1, 5), (2, 2), (3, 3), (4, 4), (5, 5)]).kappa;
        assert!(near > far && near < 1.0, "{near} {far}");
    }

    #[test]
    fn kappa_matches_a_worked_example() {
        // Labels 1,2,3 predicted 1,3,3: observed weight 1/16, expected 15/48 (each label
        // once, predicted {1: 1, 3: 2}), so kappa = 1 - 3/15 = 0.8.
        let s = satisfaction_scores(&[(1, 1), (2, 3), (3, 3)]);
        let expected = (4.0 * 1.0 + 1.0 * 2.0 + 0.0 + 1.0 * 1.0 + 0.0 + 4.0 * 2.0) / 16.0 / 3.0;
        let want = 1.0 - (1.0 / 16.0) / expected;
        assert!((s.kappa - want).abs() < 1e-12, "{} {want}", s.kappa);
    }

    #[test]
    fn balanced_accuracy_precision_recall() {
        let all_false = fcr_scores(&[(true, false), (false, false), (false, false)]);
        assert_eq!(all_false.balanced_accuracy, 0.5);
        assert_eq!(all_false.precision, None);
        assert_eq!(all_false.recall, Some(0.0));
        let s = fcr_scores(&[
            (true, true),
            (true, false),
            (false, true),
            (false, false),
            (false, false),
        ]);
        assert_eq!(s.confusion, [[1, 1], [1, 2]]);
        assert!((s.balanced_accuracy - (0.5 + 2.0 / 3.0) / 2.0).abs() < 1e-12);
        assert_eq!(s.precision, Some(0.5));
        assert_eq!(s.recall, Some(0.5));
    }

    #[test]
    fn topic_mapping_and_hits() {
        assert_eq!(canonical_topic("Payment"), "billing");
        assert_eq!(canonical_topic("voltage"), "outage");
        assert_eq!(canonical_topic("new connection"), "connection");
        assert_eq!(canonical_topic("service"), "feedback");
        assert_eq!(canonical_topic("self-service"), "other");
        assert_eq!(canonical_topic("Weather"), "weather");
        for t in LABEL_TOPICS {
            assert_eq!(canonical_topic(t), *t);
        }
        let labels: Labels = [("a", "outage"), ("b", "billing")]
            .into_iter()
            .map(|(id, t)| {
                (
                    id.to_owned(),
                    Label {
                        satisfaction: 3,
                        fcr: None,
                        topics: vec![t.to_owned()],
                        customer_sentiment: Some(0.0),
                        language: Some("en".into()),
                        note: String::new(),
                        sampled: None,
                    },
                )
            })
            .collect();
        let pred = |topics: &[&str]| Prediction {
            satisfaction: Some(3),
            topics: topics.iter().map(|t| t.to_string()).collect(),
            ..Prediction::default()
        };
        let predictions: Predictions = [
            ("a".to_owned(), pred(&["voltage", "meter"])),
            ("b".to_owned(), pred(&["tokens"])),
        ]
        .into_iter()
        .collect();
        let e = evaluate(&labels, &predictions);
        assert_eq!(e.overall.topic_hit, 0.5);
        assert_eq!(e.missing, 0);
    }

    #[test]
    fn pearson_of_lines_and_constants() {
        let up: Vec<(f64, f64)> = (0..5).map(|i| (i as f64, 2.0 * i as f64 + 1.0)).collect();
        assert!((pearson(&up).unwrap() - 1.0).abs() < 1e-12);
        let down: Vec<(f64, f64)> = (0..5).map(|i| (i as f64, -(i as f64))).collect();
        assert!((pearson(&down).unwrap() + 1.0).abs() < 1e-12);
        assert_eq!(pearson(&[(1.0, 2.0), (1.0, 3.0)]), None);
    }

    #[test]
    fn csv_predictions_and_their_errors() {
        let csv = "chat_id,satisfaction_score,satisfaction_confidence,avg_sentiment,first_contact_resolution,common_topics\n\
                   a,4,0.8,0.25,true,outage; tokens\n\
                   b,,,,,\n";
        let p = predictions_from_csv(csv.as_bytes()).unwrap();
        assert_eq!(p["a"].satisfaction, Some(4));
        assert_eq!(p["a"].fcr, Some(true));
        assert_eq!(p["a"].topics, vec!["outage", "tokens"]);
        assert_eq!(p["b"], Prediction::default());
        let bad = csv.replace(",4,", ",9,");
        assert!(predictions_from_csv(bad.as_bytes())
            .unwrap_err()
            .contains("line 2, satisfaction_score"));
        let missing = "chat_id,satisfaction_score\na,4\n";
        assert!(predictions_from_csv(missing.as_bytes())
            .unwrap_err()
            .contains("no column"));
    }

    #[test]
    fn labels_are_validated() {
        let ok = br#"{"x": {"satisfaction": 2, "fcr": null, "topics": ["outage"], "customer_sentiment": -0.5, "language": "en"}}"#;
        assert_eq!(parse_labels(ok).unwrap()["x"].satisfaction, 2);
        let bad = br#"{"x": {"satisfaction": 7, "fcr": null, "topics": [], "customer_sentiment": 0, "language": "en"}}"#;
        assert!(parse_labels(bad).unwrap_err().contains("chat \"x\""));
        assert!(parse_labels(b"[").unwrap_err().starts_with("labels:"));
    }
}

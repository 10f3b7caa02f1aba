//! Topics: a configurable keyword taxonomy with a default for utility and telecom care.

use serde::{Deserialize, Serialize};

/// Label given when no keyword of the taxonomy appears.
pub const FALLBACK_TOPIC: &str = "other";

/// Most topics a conversation carries (the spec allows five; the built-in analyzer names at most
/// three, as careful readers do).
pub const MAX_TOPICS: usize = 3;

/// The default taxonomy, in the text format [`Taxonomy::parse`] reads.
pub const DEFAULT_TAXONOMY: &str = "\
# label: keyword, keyword, ...   (matched as whole words, ignoring case)
# Labels follow the labelled real set (docs/definitions.md): outage includes low or dim voltage,
# surges and transformers; billing includes payments, refunds and tariffs; meter includes the
# CIU and KCT update codes; feedback is about the service itself.
outage: no power, power outage, outage, outages, blackout, black out, power cut, no electricity, no lights, no light, no supply, without power, without electricity, without supply, off supply, don't have power, dont have power, do not have power, don't have electricity, don't have lights, have no power, hakuna stima, hakuna umeme, hatuna stima, hatuna umeme, hamna stima, hamna sitima, hakuna sitima, hatuna sitima, sitima, stima, umeme, stima imepotea, stima imeenda, power is off, power went, went off, gone off, power failure, power interruption, restore power, restore electricity, restore supply, power supply, darkness, in the dark, giza, dim, low voltage, high voltage, voltage, fluctuation, fluctuating, surge, transformer, power back, power restored, power has been restored, power was restored, lights
tokens: token, tokens, tokeni, units, prepaid, recharge, buy power, kununua token, purchase, purchased, purchasing, bought, buy, vending, kplc prepaid, token message, token number, token numbers
billing: bill, bills, billing, postpaid, post paid, overcharged, overcharge, charges, arrears, statement, invoice, deni, high bill, estimated bill, rebill, re-bill, refund, reversal, reverse, reverted, balance, debt, debts, tariff, money, payment, pay bill, paybill
meter: meter, meters, mita, metre, meter box, token box, ciu, keypad, kct, update codes, update code, meter reading, reading, readings, tamper, inactive, blocked, meter update, switched off
connection: new connection, connection fee, apply for connection, quotation, kuunganishwa, supply application, new supply, last mile, applied for power, home electricity, drop electricity, connect electricity, connected to electricity, application
account: registered under, change of name, change name, account holder, registration, kyc, account details, find my account, which name, name of the account, account balance, my account
safety: fallen pole, sparks, spark, fire, live wire, wire, wires, cable cut, naked wire, electrocuted, electrocution, explosion, burning, leaning pole, hanging wire, danger, dangerous, hatari, snapped, ilikatika
feedback: rude, no response, not responding, don't respond, dont respond, not picking, not replying, customer care, customer service, ignored, nobody, no one, no body, useless, slowness, slow, empty promises, same response, poor service, what kind of a company, unfair, disappointing, disappointed, not serious, respond, response, do you guys really
";

/// One label and its keywords.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicRule {
    /// Lowercase label.
    pub label: String,
    /// Keywords, lowercase.
    pub keywords: Vec<String>,
}

/// A keyword taxonomy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Taxonomy {
    /// Labels in priority order (earlier wins ties).
    pub rules: Vec<TopicRule>,
}

impl Default for Taxonomy {
    fn default() -> Self {
        Self::parse(DEFAULT_TAXONOMY).expect("the default taxonomy parses")
    }
}

impl Taxonomy {
    /// Reads `label: kw, kw` lines (`#` comments, blank lines ignored); errors name the line.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut rules: Vec<TopicRule> = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((label, kws)) = line.split_once(':') else {
                return Err(format!(
                    "taxonomy line {}: expected `label: keyword, ...`",
                    n + 1
                ));
            };
            let label = label.trim().to_lowercase();
            if label.is_empty() {
                return Err(format!("taxonomy line {}: empty label", n + 1));
            }
            let keywords: Vec<String> = kws
                .split(',')
                .map(|k| k.trim().to_lowercase())
                .filter(|k| !k.is_empty())
                .collect();
            if keywords.is_empty() {
                return Err(format!(
                    "taxonomy line {}: label {label:?} has no keywords",
                    n + 1
                ));
            }
            match rules.iter_mut().find(|r| r.label == label) {
                Some(r) => r.keywords.extend(keywords),
                None => rules.push(TopicRule { label, keywords }),
            }
        }
        if rules.is_empty() {
            return Err("the taxonomy has no labels".into());
        }
        Ok(Self { rules })
    }
}

/// Picks up to [`MAX_TOPICS`] labels from per-label hit counts: most hits first, ties in
/// taxonomy order; [`FALLBACK_TOPIC`] when nothing matched.
pub fn rank_topics(taxonomy: &Taxonomy, hits: &[u32]) -> Vec<String> {
    let mut order: Vec<usize> = (0..hits.len()).filter(|&i| hits[i] > 0).collect();
    order.sort_by(|&a, &b| hits[b].cmp(&hits[a]).then(a.cmp(&b)));
    let topics: Vec<String> = order
        .into_iter()
        .take(MAX_TOPICS)
        .map(|i| taxonomy.rules[i].label.clone())
        .collect();
    if topics.is_empty() {
        vec![FALLBACK_TOPIC.to_owned()]
    } else {
        topics
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_reports_bad_lines() {
        let t = Taxonomy::parse("# c\nA: x, Y\n\nb: z\na: w").unwrap();
        assert_eq!(t.rules.len(), 2);
        assert_eq!(t.rules[0].keywords, vec!["x", "y", "w"]);
        assert!(Taxonomy::parse("nolabel").unwrap_err().contains("line 1"));
        assert!(Taxonomy::parse("a: ,").is_err());
        assert!(Taxonomy::parse("# only comments").is_err());
        assert_eq!(
            Taxonomy::default().rules.len(),
            8,
            "the labelled set's topics but the fallback"
        );
    }

    #[test]
    fn ranking_prefers_hits_then_order_and_falls_back() {
        let t = Taxonomy::parse("a: x\nb: y\nc: z").unwrap();
        assert_eq!(rank_topics(&t, &[1, 3, 1]), vec!["b", "a", "c"]);
        assert_eq!(rank_topics(&t, &[0, 0, 0]), vec![FALLBACK_TOPIC]);
    }
}

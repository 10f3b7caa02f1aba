//! The built-in analyzer: deterministic, offline satisfaction, first-contact resolution and
//! topics for a conversation (spec section 5), from the care sentiment and keyword signals.
//!
//! How it decides (also in the project's docs, `docs/definitions.md`):
//! - signals are phrases found in messages, whole words, ignoring case: customer thanks,
//!   confirmation that it works, "still not working", anger or insult, repeated failure,
//!   chasing; agent concrete fixes (a 16+ digit token, "restored", "resolved", ...) and
//!   complaint logging without a fix ("reference number", "escalated", ...);
//! - satisfaction follows the rubric from the end of the conversation backwards (anger or
//!   repeated failures weigh everywhere while the problem stands, only at the end once solved),
//!   FCR looks at the first segment and whether the customer came back;
//! - agreement with the rubric is measured on generated chats whose ending is known
//!   (`tests/analyzer_quality.rs`).

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

use crate::conversation::{Analysis, Message, Role, Summary};
use crate::sentiment::SentimentAnalyzer;
use crate::topics::{rank_topics, Taxonomy};

/// The analyzer label of the built-in analysis.
pub const BUILTIN: &str = "builtin";

/// Signal categories (bits of a per-message mask).
mod sig {
    pub const THANKS: u32 = 1;
    pub const CONFIRM: u32 = 1 << 1;
    pub const STILL: u32 = 1 << 2;
    pub const ANGER: u32 = 1 << 3;
    pub const REPEATED: u32 = 1 << 4;
    pub const CHASING: u32 = 1 << 5;
    pub const FIX: u32 = 1 << 6;
    pub const LOGGED: u32 = 1 << 7;
}

const SIGNALS: &[(u32, &[&str])] = &[
    (
        sig::THANKS,
        &[
            "thank",
            "thanks",
            "thank you",
            "thx",
            "asante",
            "asanteni",
            "ahsante",
            "shukran",
            "appreciate",
            "appreciated",
            "grateful",
            "nashukuru",
            "tunashukuru",
            "god bless",
            "mungu akubariki",
            "barikiwa",
            "ubarikiwe",
        ],
    ),
    (
        sig::CONFIRM,
        &[
            "it works",
            "it's working",
            "its working",
            "working now",
            "now working",
            "works now",
            "it worked",
            "that worked",
            "received",
            "nimepata",
            "imeingia",
            "imefika",
            "imerudi",
            "imewaka",
            "restored",
            "is back",
            "power back",
            "got it",
            "sorted",
            "solved",
            "resolved",
            "success",
            "successful",
            "umeme umerudi",
            "stima imerudi",
        ],
    ),
    (
        sig::STILL,
        &[
            "still",
            "bado",
            "not yet",
            "haijaingia",
            "haijafika",
            "sijapata",
            "hatujapata",
            "not working",
            "doesn't work",
            "does not work",
            "didn't work",
            "did not work",
            "haifanyi",
            "not received",
            "not been received",
            "received yet",
            "yet to receive",
            "haven't received",
            "have not received",
            "same problem",
            "imekataa",
            "imekwama",
            "failed",
            "not solved",
            "not resolved",
            "no power",
            "hakuna stima",
            "hakuna umeme",
        ],
    ),
    (
        sig::ANGER,
        &[
            "useless",
            "stupid",
            "idiot",
            "idiots",
            "nonsense",
            "rubbish",
            "thieves",
            "thief",
            "wezi",
            "mwizi",
            "fraud",
            "scam",
            "upuzi",
            "ujinga",
            "pumbavu",
            "mafala",
            "fala",
            "shame on",
            "aibu",
            "sue you",
            "court",
            "lawyer",
            "incompetent",
            "pathetic",
            "hopeless",
            "worst",
            "hate you",
            "nitawashtaki",
        ],
    ),
    (
        sig::REPEATED,
        &[
            "every time",
            "kila mara",
            "again and again",
            "third time",
            "many times",
            "mara ngapi",
            "how many times",
            "every month",
            "every week",
            "once again",
            "yet again",
            "second time",
            "in a row",
            "mara ya pili",
            "mara ya tatu",
        ],
    ),
    (
        sig::CHASING,
        &[
            "any update",
            "are you there",
            "uko wapi",
            "mko wapi",
            "why no response",
            "no response",
            "no reply",
            "still waiting",
            "nangoja",
            "tunangoja",
            "follow up",
            "following up",
            "any feedback",
            "anyone there",
            "hello??",
        ],
    ),
    (
        sig::FIX,
        &[
            "has been restored",
            "have been restored",
            "restored",
            "has been resolved",
            "resolved",
            "has been fixed",
            "fixed",
            "rectified",
            "has been reversed",
            "reversed",
            "has been credited",
            "credited",
            "has been updated",
            "your token is",
            "token yako ni",
            "token number is",
            "tokens are",
            "here is your",
            "here are your",
            "has been processed",
            "has been sorted",
            "has been replaced",
            "been replaced",
            "has replaced",
            "have replaced",
            "has corrected",
            "have corrected",
            "have refunded",
            "has refunded",
            "has been corrected",
            "been corrected",
            "been refunded",
            "successfully",
            "imerudishwa",
            "imeshughulikiwa",
        ],
    ),
    (
        sig::LOGGED,
        &[
            "reference number",
            "ref no",
            "ref number",
            "ticket",
            "complaint has been",
            "has been logged",
            "logged",
            "escalated",
            "forwarded",
            "has been raised",
            "our technical team",
            "technical team",
            "technicians will",
            "team will",
            "will be attended",
            "will be contacted",
            "will get back",
            "be patient",
        ],
    ),
];

/// Customer messages that carry no issue on their own (compared after trimming punctuation).
const TRIVIAL: &[&str] = &[
    "get started",
    "hi",
    "hello",
    "hey",
    "hallo",
    "habari",
    "habari yako",
    "niaje",
    "mambo",
    "sasa",
    "good morning",
    "good afternoon",
    "good evening",
    "morning",
    "ok",
    "okay",
    "sawa",
    "thanks",
    "thank you",
    "asante",
    "asante sana",
    "poa",
    "yes",
    "no",
    "hi there",
];

/// The built-in analyzer: one phrase automaton for signals and topics.
#[derive(Debug, Clone)]
pub struct BuiltinAnalyzer {
    taxonomy: Taxonomy,
    matcher: AhoCorasick,
    /// Per distinct phrase: its signal bits and the topics it counts for.
    meaning: Vec<(u32, Vec<u16>)>,
}

impl Default for BuiltinAnalyzer {
    fn default() -> Self {
        Self::new(Taxonomy::default())
    }
}

/// Per-message facts gathered in one pass.
struct MessageFacts {
    signals: u32,
}

impl BuiltinAnalyzer {
    /// An analyzer with this topic taxonomy.
    pub fn new(taxonomy: Taxonomy) -> Self {
        // One automaton for every phrase; a phrase that is both a signal and a keyword (or a
        // keyword of two labels) is one pattern with all its meanings.
        let mut patterns: Vec<String> = Vec::new();
        let mut meaning: Vec<(u32, Vec<u16>)> = Vec::new();
        let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        let mut slot = |p: &str, patterns: &mut Vec<String>, meaning: &mut Vec<(u32, Vec<u16>)>| {
            let p = p.to_lowercase();
            *index.entry(p.clone()).or_insert_with(|| {
                patterns.push(p);
                meaning.push((0, Vec::new()));
                meaning.len() - 1
            })
        };
        for (bit, phrases) in SIGNALS {
            for p in *phrases {
                let i = slot(p, &mut patterns, &mut meaning);
                meaning[i].0 |= bit;
            }
        }
        for (t, rule) in taxonomy.rules.iter().enumerate() {
            for k in &rule.keywords {
                let i = slot(k, &mut patterns, &mut meaning);
                if !meaning[i].1.contains(&(t as u16)) {
                    meaning[i].1.push(t as u16);
                }
            }
        }
        let matcher = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::DFA))
            .build(&patterns)
            .expect("literal patterns always build");
        Self {
            taxonomy,
            matcher,
            meaning,
        }
    }

    /// The taxonomy in use.
    pub fn taxonomy(&self) -> &Taxonomy {
        &self.taxonomy
    }

    /// Scores customer messages and fills the summary's sentiment counts and analysis.
    pub fn analyze(&self, messages: &mut [Message], summary: &mut Summary) {
        let sentiment = SentimentAnalyzer::care();
        let mut topic_hits = vec![0u32; self.taxonomy.rules.len()];
        let mut agent_topic_hits = vec![0u32; self.taxonomy.rules.len()];
        let mut facts = Vec::with_capacity(messages.len());
        for m in messages.iter_mut() {
            if m.role == Role::Customer {
                m.sentiment = sentiment.score(&m.text);
                summary.sentiment.add(m.sentiment);
            }
            // Bot messages are boilerplate: they carry neither signals nor topics.
            facts.push(match m.role {
                Role::Customer => self.scan(&m.text, &mut topic_hits),
                Role::Agent => self.scan(&m.text, &mut agent_topic_hits),
                Role::Bot => MessageFacts { signals: 0 },
            });
        }
        // Topics are what customers write about; agents' words count only when customers' say nothing.
        let hits = if topic_hits.iter().any(|h| *h > 0) {
            &topic_hits
        } else {
            &agent_topic_hits
        };
        let scores: Vec<f64> = messages.iter().filter_map(|m| m.sentiment).collect();
        let avg_sentiment =
            (!scores.is_empty()).then(|| scores.iter().sum::<f64>() / scores.len() as f64);
        let (satisfaction, confidence, fcr) = judge(messages, &facts, summary);
        summary.analysis = Analysis {
            analyzer: BUILTIN.to_owned(),
            avg_sentiment,
            satisfaction_score: satisfaction,
            satisfaction_confidence: confidence,
            first_contact_resolution: fcr,
            topics: if summary.customer_messages == 0 && summary.agent_messages == 0 {
                Vec::new()
            } else {
                rank_topics(&self.taxonomy, hits)
            },
        };
    }

    fn scan(&self, text: &str, topic_hits: &mut [u32]) -> MessageFacts {
        let mut signals = 0;
        let bytes = text.as_bytes();
        // Every whole-word occurrence, then the leftmost-longest of those that do not overlap:
        // a longer phrase glued to a word ("stima imerudi" in "stima imerudishwa") must not hide
        // the shorter or later phrases that are whole words.
        let mut found: Vec<(usize, usize, usize)> = self
            .matcher
            .find_overlapping_iter(text)
            .filter(|m| whole_word(bytes, m.start(), m.end()))
            .map(|m| (m.start(), m.end(), m.pattern().as_usize()))
            .collect();
        found.sort_unstable_by_key(|&(start, end, _)| (start, std::cmp::Reverse(end)));
        let mut taken_to = 0;
        for (start, end, pattern) in found {
            if start < taken_to {
                continue;
            }
            taken_to = end;
            let (bits, topics) = &self.meaning[pattern];
            signals |= bits;
            for t in topics {
                topic_hits[*t as usize] += 1;
            }
        }
        if has_token_number(text) {
            signals |= sig::FIX;
        }
        MessageFacts { signals }
    }
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b >= 0x80
}

/// Whether `[start, end)` is not glued to letters or digits on a side where it is a word itself.
fn whole_word(b: &[u8], start: usize, end: usize) -> bool {
    let left_ok = start == 0 || !is_word_byte(b[start]) || !is_word_byte(b[start - 1]);
    let right_ok = end == b.len() || !is_word_byte(b[end - 1]) || !is_word_byte(b[end]);
    left_ok && right_ok
}

/// A prepaid token: 16 or more digits, possibly grouped by spaces or dashes.
fn has_token_number(text: &str) -> bool {
    let mut digits = 0;
    for b in text.bytes() {
        match b {
            b'0'..=b'9' => {
                digits += 1;
                if digits >= 16 {
                    return true;
                }
            }
            b' ' | b'-' if digits > 0 => {}
            _ => digits = 0,
        }
    }
    false
}

fn is_trivial(text: &str) -> bool {
    let t: String = text
        .trim_matches(|c: char| !c.is_alphanumeric())
        .to_lowercase();
    let t = t.trim_end_matches(|c: char| !c.is_alphanumeric());
    t.is_empty() || TRIVIAL.contains(&t)
}

/// A customer message that needs no answer: a greeting or "ok", or thanks that neither asks
/// nor says it still fails. A bare "no" is an answer to the agent ("is it working now?").
fn acknowledges(m: &Message, f: &MessageFacts) -> bool {
    let no = m
        .text
        .trim_matches(|c: char| !c.is_alphanumeric())
        .eq_ignore_ascii_case("no");
    (is_trivial(&m.text) && !no)
        || (f.signals & sig::THANKS != 0 && f.signals & sig::STILL == 0 && !m.text.contains('?'))
}

/// Applies the rubric; returns (satisfaction 1..5, confidence, FCR).
fn judge(
    messages: &[Message],
    facts: &[MessageFacts],
    s: &Summary,
) -> (Option<u8>, Option<f64>, Option<bool>) {
    if s.customer_messages == 0 {
        return (None, None, None);
    }
    let has = |i: usize, bit: u32| facts[i].signals & bit != 0;
    let customer: Vec<usize> = (0..messages.len())
        .filter(|&i| messages[i].role == Role::Customer)
        .collect();
    let agent: Vec<usize> = (0..messages.len())
        .filter(|&i| messages[i].role == Role::Agent)
        .collect();
    let no_issue = customer.iter().all(|&i| is_trivial(&messages[i].text))
        && !agent.iter().any(|&i| has(i, sig::FIX));

    // The end of the conversation, as the customer left it: their messages after the last
    // agent reply; when an agent spoke last, their last two messages unless an agent's fix or
    // logged complaint came after them (then the end is silence after that answer, and the
    // problem description it answered is not the customer's closing mood).
    let last_agent = agent.last().copied();
    let last_answer = agent
        .iter()
        .rev()
        .copied()
        .find(|&i| has(i, sig::FIX) || has(i, sig::LOGGED));
    let tail: Vec<usize> = match last_agent {
        Some(a) if customer.iter().any(|&c| c > a) => {
            customer.iter().copied().filter(|&c| c > a).collect()
        }
        _ => customer
            .iter()
            .rev()
            .take(2)
            .rev()
            .copied()
            .filter(|&c| last_answer.is_none_or(|f| f < c))
            .collect(),
    };
    // What the customer said after the last agent reply, less acknowledgements ("Ok", "sawa",
    // "thank you") that need no answer: a "still failing" before that reply was answered by it.
    let after: Vec<usize> = customer
        .iter()
        .copied()
        .filter(|&c| last_agent.is_none_or(|a| c > a) && !acknowledges(&messages[c], &facts[c]))
        .collect();
    let unanswered_end = !after.is_empty();
    let any = |idx: &[usize], bit: u32| idx.iter().any(|&i| has(i, bit));
    let furious = |idx: &[usize]| {
        any(idx, sig::ANGER)
            || idx
                .iter()
                .any(|&i| messages[i].sentiment.is_some_and(|v| v <= -0.75))
    };
    let thanks_end = any(&tail, sig::THANKS);
    let still_end = any(&after, sig::STILL) && !any(&after, sig::CONFIRM);
    let confirm_end = any(&tail, sig::CONFIRM) && !any(&tail, sig::STILL);
    let fix = any(&agent, sig::FIX);
    let logged = any(&agent, sig::LOGGED);
    let angry = furious(&customer);
    let repeated = any(&customer, sig::REPEATED);
    let upset_end = furious(&tail) || any(&tail, sig::REPEATED);
    let chasing = any(&customer, sig::CHASING) || chased_by_silence(messages);
    let tail_scores: Vec<f64> = tail.iter().filter_map(|&i| messages[i].sentiment).collect();
    let end_sentiment = (!tail_scores.is_empty())
        .then(|| tail_scores.iter().sum::<f64>() / tail_scores.len() as f64);
    let solved = !still_end
        && (confirm_end
            || (fix && !unanswered_end)
            || (fix && thanks_end)
            || (!unanswered_end && thanks_end && !logged));

    // Anger or reported repeated failures: 1 while the problem stands; once solved, the end
    // decides, and upset words there hold the score below the top.
    let (score, confidence) = if !solved && (angry || repeated) {
        (1, if angry { 0.8 } else { 0.7 })
    } else if solved && upset_end {
        if thanks_end {
            (4, 0.55)
        } else {
            (3, 0.45)
        }
    } else if solved && thanks_end {
        let upset_before = angry || repeated;
        (
            5,
            if upset_before {
                0.6
            } else if confirm_end || fix {
                0.85
            } else {
                0.7
            },
        )
    } else if !solved
        && (still_end
            || chasing
            || (unanswered_end && !no_issue && end_sentiment.is_some_and(|v| v < -0.05))
            || end_sentiment.is_some_and(|v| v < -0.3))
    {
        (2, if still_end || chasing { 0.7 } else { 0.55 })
    } else if solved && end_sentiment.is_some_and(|v| v >= 0.5) {
        (5, 0.7)
    } else if solved && end_sentiment.is_none_or(|v| v >= -0.05) {
        (4, if confirm_end { 0.7 } else { 0.6 })
    } else if no_issue {
        (3, 0.5)
    } else {
        (3, 0.4)
    };

    let fcr = if no_issue {
        None
    } else {
        Some(!s.customer_came_back && resolved_in_first_segment(messages, facts))
    };
    (Some(score), Some(confidence), fcr)
}

/// FCR rule: within the first segment, the customer's last turn was answered, nothing says it
/// still fails, and the agent did more than log a complaint (or the customer confirmed).
fn resolved_in_first_segment(messages: &[Message], facts: &[MessageFacts]) -> bool {
    let first: Vec<usize> = (0..messages.len())
        .filter(|&i| messages[i].segment == 0)
        .collect();
    let has = |i: usize, bit: u32| facts[i].signals & bit != 0;
    let last_customer = first
        .iter()
        .rev()
        .find(|&&i| messages[i].role == Role::Customer);
    let last_agent = first
        .iter()
        .rev()
        .find(|&&i| messages[i].role == Role::Agent);
    let (Some(&c), Some(&a)) = (last_customer, last_agent) else {
        return false;
    };
    let customer_after_fix: Vec<usize> = first
        .iter()
        .copied()
        .filter(|&i| messages[i].role == Role::Customer)
        .rev()
        .take_while(|&i| i > a)
        .collect();
    let confirmed = first.iter().any(|&i| {
        messages[i].role == Role::Customer && has(i, sig::CONFIRM) && !has(i, sig::STILL)
    });
    let still = customer_after_fix.iter().any(|&i| has(i, sig::STILL))
        || (c < a && has(c, sig::STILL) && !first.iter().any(|&i| i > c && has(i, sig::FIX)));
    let fix = first
        .iter()
        .any(|&i| messages[i].role == Role::Agent && has(i, sig::FIX));
    let logged_only = first
        .iter()
        .any(|&i| messages[i].role == Role::Agent && has(i, sig::LOGGED))
        && !fix
        && !confirmed;
    // Thanks or an "ok" after the answer leave it answered.
    let answered = first
        .iter()
        .filter(|&&i| i > a && messages[i].role == Role::Customer)
        .all(|&i| acknowledges(&messages[i], &facts[i]));
    !still && !logged_only && (confirmed || fix || answered)
}

/// Three or more customer messages in a row over half an hour or more: the customer was kept
/// waiting (a quick burst that states the problem is not chasing).
fn chased_by_silence(messages: &[Message]) -> bool {
    let mut run: Option<(usize, i64)> = None;
    for m in messages {
        match m.role {
            Role::Customer => {
                let (n, since) = run.get_or_insert((0, m.time_ms));
                *n += 1;
                if *n >= 3 && m.time_ms - *since >= 30 * 60_000 {
                    return true;
                }
            }
            Role::Agent => run = None,
            Role::Bot => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_numbers_and_word_boundaries() {
        assert!(has_token_number("Your token: 1234 5678 9012 3456 7890"));
        assert!(has_token_number("1234-5678-9012-3456"));
        assert!(!has_token_number("call 0711 222 333"));
        assert!(whole_word(b"the app is down", 4, 7));
        assert!(!whole_word(b"happy", 1, 4));
        assert!(whole_word(b"dial *977#now", 5, 10));
    }

    #[test]
    fn trivial_messages() {
        assert!(is_trivial("Get Started"));
        assert!(is_trivial("Hi!!"));
        assert!(is_trivial("habari yako?"));
        assert!(!is_trivial("hi, no power since morning"));
    }
}

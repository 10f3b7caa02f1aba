//! Per-message sentiment: a faithful port of VADER (Hutto & Gilbert, 2014; vaderSentiment 3.3.2,
//! MIT licence, see `data/VADER-LICENSE.txt`) plus PowerPulse's care lexicon for Kenyan customers
//! (Swahili and Sheng words, Swahili negation and post-posed intensifiers, care phrases).
//!
//! [`SentimentAnalyzer::vader`] reproduces the reference implementation's compound score,
//! quirks included, so it can be checked against it; [`SentimentAnalyzer::care`] (the default
//! everywhere in PowerPulse) adds the extension on top.

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::sync::OnceLock;

use rustc_hash::FxHasher;

type Fx = BuildHasherDefault<FxHasher>;

const VADER_LEXICON: &str = include_str!("../data/vader_lexicon.tsv");
const VADER_EMOJI: &str = include_str!("../data/vader_emoji.tsv");
const CARE_LEXICON: &str = include_str!("../data/care_lexicon.tsv");

const B_INCR: f64 = 0.293;
const B_DECR: f64 = -0.293;
const C_INCR: f64 = 0.733;
const N_SCALAR: f64 = -0.74;

const NEGATE: &[&str] = &[
    "aint",
    "arent",
    "cannot",
    "cant",
    "couldnt",
    "darent",
    "didnt",
    "doesnt",
    "ain't",
    "aren't",
    "can't",
    "couldn't",
    "daren't",
    "didn't",
    "doesn't",
    "dont",
    "hadnt",
    "hasnt",
    "havent",
    "isnt",
    "mightnt",
    "mustnt",
    "neither",
    "don't",
    "hadn't",
    "hasn't",
    "haven't",
    "isn't",
    "mightn't",
    "mustn't",
    "neednt",
    "needn't",
    "never",
    "none",
    "nope",
    "nor",
    "not",
    "nothing",
    "nowhere",
    "oughtnt",
    "shant",
    "shouldnt",
    "uhuh",
    "wasnt",
    "werent",
    "oughtn't",
    "shan't",
    "shouldn't",
    "uh-uh",
    "wasn't",
    "weren't",
    "without",
    "wont",
    "wouldnt",
    "won't",
    "wouldn't",
    "rarely",
    "seldom",
    "despite",
];

const BOOSTERS: &[(&str, f64)] = &[
    ("absolutely", B_INCR),
    ("amazingly", B_INCR),
    ("awfully", B_INCR),
    ("completely", B_INCR),
    ("considerable", B_INCR),
    ("considerably", B_INCR),
    ("decidedly", B_INCR),
    ("deeply", B_INCR),
    ("effing", B_INCR),
    ("enormous", B_INCR),
    ("enormously", B_INCR),
    ("entirely", B_INCR),
    ("especially", B_INCR),
    ("exceptional", B_INCR),
    ("exceptionally", B_INCR),
    ("extreme", B_INCR),
    ("extremely", B_INCR),
    ("fabulously", B_INCR),
    ("flipping", B_INCR),
    ("flippin", B_INCR),
    ("frackin", B_INCR),
    ("fracking", B_INCR),
    ("fricking", B_INCR),
    ("frickin", B_INCR),
    ("frigging", B_INCR),
    ("friggin", B_INCR),
    ("fully", B_INCR),
    ("fuckin", B_INCR),
    ("fucking", B_INCR),
    ("fuggin", B_INCR),
    ("fugging", B_INCR),
    ("greatly", B_INCR),
    ("hella", B_INCR),
    ("highly", B_INCR),
    ("hugely", B_INCR),
    ("incredible", B_INCR),
    ("incredibly", B_INCR),
    ("intensely", B_INCR),
    ("major", B_INCR),
    ("majorly", B_INCR),
    ("more", B_INCR),
    ("most", B_INCR),
    ("particularly", B_INCR),
    ("purely", B_INCR),
    ("quite", B_INCR),
    ("really", B_INCR),
    ("remarkably", B_INCR),
    ("so", B_INCR),
    ("substantially", B_INCR),
    ("thoroughly", B_INCR),
    ("total", B_INCR),
    ("totally", B_INCR),
    ("tremendous", B_INCR),
    ("tremendously", B_INCR),
    ("uber", B_INCR),
    ("unbelievably", B_INCR),
    ("unusually", B_INCR),
    ("utter", B_INCR),
    ("utterly", B_INCR),
    ("very", B_INCR),
    ("almost", B_DECR),
    ("barely", B_DECR),
    ("hardly", B_DECR),
    ("just enough", B_DECR),
    ("kind of", B_DECR),
    ("kinda", B_DECR),
    ("kindof", B_DECR),
    ("kind-of", B_DECR),
    ("less", B_DECR),
    ("little", B_DECR),
    ("marginal", B_DECR),
    ("marginally", B_DECR),
    ("occasional", B_DECR),
    ("occasionally", B_DECR),
    ("partly", B_DECR),
    ("scarce", B_DECR),
    ("scarcely", B_DECR),
    ("slight", B_DECR),
    ("slightly", B_DECR),
    ("somewhat", B_DECR),
    ("sort of", B_DECR),
    ("sorta", B_DECR),
    ("sortof", B_DECR),
    ("sort-of", B_DECR),
];

/// A sentiment scorer; cheap to share (`&'static` from [`SentimentAnalyzer::care`]).
#[derive(Debug)]
pub struct SentimentAnalyzer {
    /// Everything known about a lowercase word, so each token costs one lookup.
    words: HashMap<String, Entry, Fx>,
    emoji: HashMap<char, &'static str, Fx>,
    has_after: bool,
    phrases: HashMap<String, f64, Fx>,
}

/// What a word is to the rules.
#[derive(Debug, Clone, Copy, Default)]
struct Entry {
    lex: Option<f64>,
    booster: Option<f64>,
    negation: Negation,
    after: Option<f64>,
}

/// How far a negation word reaches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Negation {
    #[default]
    None,
    /// Only the next word (Swahili "hakuna stima": there is no power).
    Next,
    /// VADER's window of up to three words.
    Window,
}

/// The facts of one token of the message being scored.
#[derive(Debug, Clone, Copy, Default)]
struct Info {
    lex: Option<f64>,
    booster: Option<f64>,
    negation: Negation,
    after: Option<f64>,
    upper: bool,
}

impl Info {
    /// Whether this token negates a sentiment word `distance` tokens after it.
    fn negates_at(&self, distance: usize) -> bool {
        match self.negation {
            Negation::None => false,
            Negation::Next => distance == 1,
            Negation::Window => true,
        }
    }
}

/// Per-token facts computed once per message.
#[derive(Default)]
struct Scratch {
    text: String,
    tokens: Tokens,
}

/// Tokens of the message being scored.
#[derive(Default)]
struct Tokens {
    lower: String,
    spans: Vec<(usize, usize)>,
    info: Vec<Info>,
    sentiments: Vec<f64>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

impl SentimentAnalyzer {
    fn base() -> Self {
        let mut words: HashMap<String, Entry, Fx> =
            HashMap::with_capacity_and_hasher(8200, Fx::default());
        for line in VADER_LEXICON.lines() {
            if let Some((w, v)) = line.split_once('\t') {
                if let Ok(v) = v.trim().parse::<f64>() {
                    words.entry(w.to_owned()).or_default().lex = Some(v);
                }
            }
        }
        for w in NEGATE {
            words.entry((*w).to_owned()).or_default().negation = Negation::Window;
        }
        for (w, b) in BOOSTERS {
            words.entry((*w).to_owned()).or_default().booster = Some(*b);
        }
        let emoji = VADER_EMOJI
            .lines()
            .filter_map(|l| {
                let (e, d) = l.split_once('\t')?;
                let mut chars = e.chars();
                let c = chars.next()?;
                chars.next().is_none().then_some((c, d))
            })
            .collect();
        Self {
            words,
            emoji,
            has_after: false,
            phrases: HashMap::default(),
        }
    }

    /// The reference VADER analyzer (English lexicon and rules only).
    pub fn vader() -> &'static SentimentAnalyzer {
        static VADER: OnceLock<SentimentAnalyzer> = OnceLock::new();
        VADER.get_or_init(SentimentAnalyzer::base)
    }

    /// VADER plus the care lexicon: the analyzer PowerPulse uses.
    pub fn care() -> &'static SentimentAnalyzer {
        static CARE: OnceLock<SentimentAnalyzer> = OnceLock::new();
        CARE.get_or_init(|| {
            let mut a = SentimentAnalyzer::base();
            for line in CARE_LEXICON.lines() {
                if line.starts_with('#') || line.trim().is_empty() {
                    continue;
                }
                let mut f = line.split('\t');
                let (kind, term, value) = (f.next(), f.next(), f.next());
                let value = value.and_then(|v| v.trim().parse::<f64>().ok());
                match (kind, term, value) {
                    (Some("word"), Some(t), Some(v)) => {
                        a.words.entry(t.to_owned()).or_default().lex = Some(v);
                    }
                    (Some("negation"), Some(t), _) => {
                        // Swahili negators govern the word that follows, not a three-word window.
                        a.words.entry(t.to_owned()).or_default().negation = Negation::Next;
                    }
                    (Some("after"), Some(t), Some(v)) => {
                        a.words.entry(t.to_owned()).or_default().after = Some(v);
                        a.has_after = true;
                    }
                    (Some("phrase"), Some(t), Some(v)) => {
                        a.phrases.insert(t.to_owned(), v);
                    }
                    _ => debug_assert!(false, "bad care lexicon line: {line}"),
                }
            }
            a
        })
    }

    /// Compound sentiment of `text` in -1..1, rounded to 4 decimals like VADER's output;
    /// `None` when no word of the text carries sentiment.
    pub fn score(&self, text: &str) -> Option<f64> {
        SCRATCH.with(|s| self.score_with(text, &mut s.borrow_mut()))
    }

    fn score_with(&self, text: &str, s: &mut Scratch) -> Option<f64> {
        let Scratch {
            text: buf,
            tokens: s,
        } = s;
        let text = self.replace_emoji(text, buf);
        self.tokenize(text, s);
        let n = s.spans.len();
        if n == 0 {
            return None;
        }
        let words: Vec<&str> = s.spans.iter().map(|&(a, b)| &s.lower[a..b]).collect();
        let info = &s.info;
        let allcaps = info.iter().filter(|t| t.upper).count();
        let cap_diff = allcaps > 0 && allcaps < n;
        s.sentiments.clear();
        for i in 0..n {
            let w = words[i];
            if info[i].booster.is_some() || (w == "kind" && i + 1 < n && words[i + 1] == "of") {
                s.sentiments.push(0.0);
                continue;
            }
            let v = self.valence(&words, info, cap_diff, i);
            s.sentiments.push(v);
        }
        if self.has_after {
            for i in 0..n.saturating_sub(1) {
                if let Some(b) = info[i + 1].after {
                    let v = s.sentiments[i];
                    if v != 0.0 {
                        s.sentiments[i] = v + if v > 0.0 { b } else { -b };
                    }
                }
            }
        }
        if !self.phrases.is_empty() {
            self.apply_phrases(&words, &mut s.sentiments);
        }
        but_check(&words, &mut s.sentiments);
        if s.sentiments.iter().all(|v| *v == 0.0) {
            return None;
        }
        let mut sum: f64 = s.sentiments.iter().sum();
        let amp = punctuation_emphasis(text);
        if sum > 0.0 {
            sum += amp;
        } else if sum < 0.0 {
            sum -= amp;
        }
        let compound = (sum / (sum * sum + 15.0).sqrt()).clamp(-1.0, 1.0);
        Some(crate::round::round(compound, 4))
    }

    /// VADER's tokens (whitespace-split, edge punctuation stripped unless that leaves at most
    /// two characters), lowercased, each looked up once.
    fn tokenize(&self, text: &str, s: &mut Tokens) {
        s.lower.clear();
        s.spans.clear();
        s.info.clear();
        if text.is_ascii() {
            for raw in text
                .as_bytes()
                .split(|b| is_py_space_byte(*b))
                .filter(|t| !t.is_empty())
            {
                // ASCII bytes split at ASCII bytes stay valid UTF-8.
                let raw = std::str::from_utf8(raw).unwrap_or_default();
                let stripped = raw.trim_matches(|c: char| c.is_ascii_punctuation());
                let token = if stripped.len() <= 2 { raw } else { stripped };
                let start = s.lower.len();
                s.lower.push_str(token);
                s.lower[start..].make_ascii_lowercase();
                self.push_token(token, start, s);
            }
        } else {
            for raw in text.split(is_py_space).filter(|t| !t.is_empty()) {
                let stripped = raw.trim_matches(|c: char| c.is_ascii_punctuation());
                let token = if stripped.chars().nth(2).is_none() {
                    raw
                } else {
                    stripped
                };
                let start = s.lower.len();
                s.lower.extend(token.chars().flat_map(char::to_lowercase));
                self.push_token(token, start, s);
            }
        }
    }

    fn push_token(&self, token: &str, start: usize, s: &mut Tokens) {
        let lower = &s.lower[start..];
        let e = self.words.get(lower).copied().unwrap_or_default();
        s.info.push(Info {
            lex: e.lex,
            booster: e.booster,
            negation: if lower.len() > 2 && lower.contains("n't") {
                Negation::Window
            } else {
                e.negation
            },
            after: e.after,
            upper: is_upper(token),
        });
        s.spans.push((start, s.lower.len()));
    }

    /// VADER's emoji step: each known emoji becomes its description (space before, none after).
    fn replace_emoji<'t>(&self, text: &'t str, buf: &'t mut String) -> &'t str {
        if text.is_ascii() {
            return text.trim();
        }
        buf.clear();
        let mut prev_space = true;
        for c in text.chars() {
            match self.emoji.get(&c) {
                Some(d) => {
                    if !prev_space {
                        buf.push(' ');
                    }
                    buf.push_str(d);
                    prev_space = false;
                }
                None => {
                    buf.push(c);
                    prev_space = c == ' ';
                }
            }
        }
        buf.trim()
    }

    fn valence(&self, words: &[&str], info: &[Info], cap_diff: bool, i: usize) -> f64 {
        let item = words[i];
        let Some(lex) = info[i].lex else {
            return 0.0;
        };
        let n = words.len();
        let mut valence = lex;
        if item == "no" && i != n - 1 && info[i + 1].lex.is_some() {
            valence = 0.0;
        }
        if (i > 0 && words[i - 1] == "no")
            || (i > 1 && words[i - 2] == "no")
            || (i > 2 && words[i - 3] == "no" && matches!(words[i - 1], "or" | "nor"))
        {
            valence = lex * N_SCALAR;
        }
        if info[i].upper && cap_diff {
            if valence > 0.0 {
                valence += C_INCR;
            } else {
                valence -= C_INCR;
            }
        }
        for start_i in 0..3 {
            if i > start_i && info[i - (start_i + 1)].lex.is_none() {
                let j = i - (start_i + 1);
                let mut s = scalar_inc_dec(&info[j], valence, cap_diff);
                if start_i == 1 && s != 0.0 {
                    s *= 0.95;
                }
                if start_i == 2 && s != 0.0 {
                    s *= 0.9;
                }
                valence += s;
                valence = negation_check(valence, words, info, start_i, i);
                if start_i == 2 {
                    valence = special_idioms_check(valence, words, i);
                }
            }
        }
        least_check(valence, words, info, i)
    }

    /// Care phrases, longest first, left to right, without overlap: the phrase's last word
    /// takes the phrase's valence.
    fn apply_phrases(&self, words: &[&str], sentiments: &mut [f64]) {
        let mut key = String::new();
        let mut i = 0;
        while i < words.len() {
            let mut matched = 0;
            for len in [3usize, 2] {
                if i + len > words.len() {
                    continue;
                }
                key.clear();
                for (k, w) in words[i..i + len].iter().enumerate() {
                    if k > 0 {
                        key.push(' ');
                    }
                    key.push_str(w);
                }
                if let Some(v) = self.phrases.get(key.as_str()) {
                    sentiments[i + len - 1] = *v;
                    matched = len;
                    break;
                }
            }
            i += matched.max(1);
        }
    }
}

fn scalar_inc_dec(t: &Info, valence: f64, cap_diff: bool) -> f64 {
    let Some(b) = t.booster else {
        return 0.0;
    };
    let mut scalar = if valence < 0.0 { -b } else { b };
    if t.upper && cap_diff {
        if valence > 0.0 {
            scalar += C_INCR;
        } else {
            scalar -= C_INCR;
        }
    }
    scalar
}

fn negation_check(valence: f64, w: &[&str], info: &[Info], start_i: usize, i: usize) -> f64 {
    match start_i {
        0 if info[i - 1].negates_at(1) => valence * N_SCALAR,
        1 => {
            if w[i - 2] == "never" && matches!(w[i - 1], "so" | "this") {
                valence * 1.25
            } else if w[i - 2] == "without" && w[i - 1] == "doubt" {
                valence
            } else if info[i - 2].negates_at(2) {
                valence * N_SCALAR
            } else {
                valence
            }
        }
        // The reference's operator precedence makes "so"/"this" just before the word
        // amplify on its own; kept as is for fidelity.
        2 => {
            if (w[i - 3] == "never" && matches!(w[i - 2], "so" | "this"))
                || matches!(w[i - 1], "so" | "this")
            {
                valence * 1.25
            } else if w[i - 3] == "without" && (w[i - 2] == "doubt" || w[i - 1] == "doubt") {
                valence
            } else if info[i - 3].negates_at(3) {
                valence * N_SCALAR
            } else {
                valence
            }
        }
        _ => valence,
    }
}

/// The reference's SPECIAL_CASES, as word sequences (it joins words with spaces; a single-word
/// entry such as "badass" can never match a joined sequence).
fn special_case(seq: &[&str]) -> Option<f64> {
    match seq {
        ["the", "shit"] | ["the", "bomb"] | ["to", "die", "for"] => Some(3.0),
        ["bad", "ass"] => Some(1.5),
        ["bus", "stop"] => Some(0.0),
        ["yeah", "right"] => Some(-2.0),
        ["kiss", "of", "death"] => Some(-1.5),
        ["beating", "heart"] => Some(3.5),
        _ => None,
    }
}

/// The reference's multi-word boosters, as word sequences.
fn booster_ngram(seq: &[&str]) -> Option<f64> {
    match seq {
        ["just", "enough"] | ["kind", "of"] | ["sort", "of"] => Some(B_DECR),
        _ => None,
    }
}

fn special_idioms_check(mut valence: f64, w: &[&str], i: usize) -> f64 {
    let n = w.len();
    let onezero = [w[i - 1], w[i]];
    let twoonezero = [w[i - 2], w[i - 1], w[i]];
    let twoone = [w[i - 2], w[i - 1]];
    let threetwoone = [w[i - 3], w[i - 2], w[i - 1]];
    let threetwo = [w[i - 3], w[i - 2]];
    let sequences: [&[&str]; 5] = [&onezero, &twoonezero, &twoone, &threetwoone, &threetwo];
    if let Some(v) = sequences.iter().find_map(|seq| special_case(seq)) {
        valence = v;
    }
    if n - 1 > i {
        if let Some(v) = special_case(&[w[i], w[i + 1]]) {
            valence = v;
        }
    }
    if n - 1 > i + 1 {
        if let Some(v) = special_case(&[w[i], w[i + 1], w[i + 2]]) {
            valence = v;
        }
    }
    let ngrams: [&[&str]; 3] = [&threetwoone, &threetwo, &twoone];
    for gram in ngrams {
        if let Some(b) = booster_ngram(gram) {
            valence += b;
        }
    }
    valence
}

fn least_check(valence: f64, w: &[&str], info: &[Info], i: usize) -> f64 {
    if i > 1 && info[i - 1].lex.is_none() && w[i - 1] == "least" {
        if w[i - 2] != "at" && w[i - 2] != "very" {
            return valence * N_SCALAR;
        }
    } else if i > 0 && info[i - 1].lex.is_none() && w[i - 1] == "least" {
        return valence * N_SCALAR;
    }
    valence
}

/// Python's `str.split()` separators: Unicode whitespace plus the ASCII separators 0x1C-0x1F.
fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

fn is_py_space_byte(b: u8) -> bool {
    matches!(b, b'\t'..=b'\r' | 0x1c..=b' ')
}

/// Python's `str.isupper`: at least one cased character and no lowercase one.
fn is_upper(token: &str) -> bool {
    let mut cased = false;
    for c in token.chars() {
        if c.is_lowercase() {
            return false;
        }
        if c.is_uppercase() {
            cased = true;
        }
    }
    cased
}

/// The reference's contrastive "but" rule, reproduced with its list-index quirk: each value is
/// looked up by its first equal occurrence, so repeated values are scaled at that position.
/// VADER's "but" rule, quirk included: for each position k in turn, the *first* position holding
/// the same value as position k (which may be an earlier one, changed by an earlier step) is
/// scaled, by 0.5 before the first "but" and 1.5 after it. The reference looks that position up
/// with a linear scan, which makes a long message quadratic; here each value keeps the sorted set
/// of positions holding it, so the cost is O(n log n) with the same result.
fn but_check(words: &[&str], sentiments: &mut [f64]) {
    let Some(bi) = words.iter().position(|w| *w == "but") else {
        return;
    };
    // Keys compare like `==` on the finite values VADER produces (0.0 and -0.0 alike).
    let key = |v: f64| if v == 0.0 { 0u64 } else { v.to_bits() };
    let mut holding: rustc_hash::FxHashMap<u64, std::collections::BTreeSet<usize>> =
        rustc_hash::FxHashMap::default();
    for (i, v) in sentiments.iter().enumerate() {
        holding.entry(key(*v)).or_default().insert(i);
    }
    for k in 0..sentiments.len() {
        let v = sentiments[k];
        let si = holding
            .get(&key(v))
            .and_then(|set| set.first().copied())
            .unwrap_or(k);
        let scaled = if si < bi {
            v * 0.5
        } else if si > bi {
            v * 1.5
        } else {
            continue;
        };
        if let Some(set) = holding.get_mut(&key(v)) {
            set.remove(&si);
        }
        sentiments[si] = scaled;
        holding.entry(key(scaled)).or_default().insert(si);
    }
}

fn punctuation_emphasis(text: &str) -> f64 {
    let ep = memchr::memchr_iter(b'!', text.as_bytes()).count().min(4) as f64 * 0.292;
    let qm = memchr::memchr_iter(b'?', text.as_bytes()).count();
    let qm_amp = match qm {
        0 | 1 => 0.0,
        2 | 3 => qm as f64 * 0.18,
        _ => 0.96,
    };
    ep + qm_amp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vader(t: &str) -> Option<f64> {
        SentimentAnalyzer::vader().score(t)
    }
    fn care(t: &str) -> Option<f64> {
        SentimentAnalyzer::care().score(t)
    }

    #[test]
    fn reference_examples_from_vader_readme() {
        assert_eq!(vader("VADER is smart, handsome, and funny."), Some(0.8316));
        assert_eq!(vader("VADER is smart, handsome, and funny!"), Some(0.8439));
        assert_eq!(
            vader("VADER is very smart, handsome, and funny."),
            Some(0.8545)
        );
        assert_eq!(
            vader("VADER is VERY SMART, handsome, and FUNNY."),
            Some(0.9227)
        );
        assert_eq!(
            vader("VADER is not smart, handsome, nor funny."),
            Some(-0.7424)
        );
        assert_eq!(vader("At least it isn't a horrible book."), Some(0.431));
        assert_eq!(vader("The book was only kind of good."), Some(0.3832));
        assert_eq!(vader("Today SUX!"), Some(-0.5461));
        assert_eq!(vader("Make sure you :) or :D today!"), Some(0.8633));
        assert_eq!(vader("Not bad at all"), Some(0.431));
    }

    #[test]
    fn no_signal_is_none_not_zero() {
        assert_eq!(vader("my meter is 12345"), None);
        assert_eq!(vader(""), None);
        assert_eq!(vader("   "), None);
        assert_eq!(care("Nimetuma meter 1234"), None);
    }

    #[test]
    fn care_lexicon_reads_swahili_and_sheng() {
        assert!(care("asante sana").unwrap() > care("asante").unwrap());
        assert!(care("asante").unwrap() > 0.3);
        assert!(care("hakuna stima tangu jana").unwrap() < -0.3);
        assert!(care("hakuna shida").unwrap() > 0.3);
        assert!(care("mnaboa sana, bado sijapata token").unwrap() < -0.5);
        // "hakuna" negates the next word only, not a complaint two words later.
        assert!(care("hakuna stima, mnaboa sana").unwrap() < -0.5);
        assert!(care("please help, no power since morning").unwrap() < 0.0);
        assert!(care("not working now").unwrap() < 0.0);
        assert!(care("Stima imerudi, poa").unwrap() > 0.5);
    }

    #[test]
    fn emoji_are_read_through_their_descriptions() {
        assert!(vader("😁").unwrap() > 0.3);
        assert!(vader("token imefika 😠").unwrap() < 0.0);
    }

    /// The reference's "but" rule, a linear scan per position (quadratic), kept to check the
    /// fast one against.
    fn but_check_reference(words: &[&str], sentiments: &mut [f64]) {
        let Some(bi) = words.iter().position(|w| *w == "but") else {
            return;
        };
        for k in 0..sentiments.len() {
            let v = sentiments[k];
            let si = sentiments.iter().position(|x| *x == v).unwrap_or(k);
            if si < bi {
                sentiments[si] = v * 0.5;
            } else if si > bi {
                sentiments[si] = v * 1.5;
            }
        }
    }

    #[test]
    fn but_rule_is_the_reference_on_random_inputs() {
        let mut rng = crate::synth::Rng::new(7);
        let values = [0.0, -0.0, 1.0, 0.5, 2.0, -1.5, 0.25, 3.0, -0.75, 1.9];
        for case in 0..3000 {
            let n = 1 + rng.below(24) as usize;
            let words: Vec<&str> = (0..n)
                .map(|_| if rng.chance(0.15) { "but" } else { "word" })
                .collect();
            let start: Vec<f64> = (0..n).map(|_| *rng.pick(&values)).collect();
            let (mut fast, mut slow) = (start.clone(), start.clone());
            but_check(&words, &mut fast);
            but_check_reference(&words, &mut slow);
            assert_eq!(fast, slow, "case {case}: {words:?} {start:?}");
        }
    }

    #[test]
    fn a_huge_message_with_but_is_linear_work() {
        // 80,000 words "but good good ...": the reference takes seconds (quadratic).
        let text = format!("but {}", "good ".repeat(80_000));
        let score = SentimentAnalyzer::care().score(&text).unwrap();
        assert!(score > 0.9, "{score}");
    }

    #[test]
    fn but_quirk_scales_first_equal_value() {
        let mut s = vec![1.0, 0.5, 0.0, 2.0];
        but_check(&["good", "okay", "but", "great"], &mut s);
        // Halving position 0 makes it equal to position 1's value, which is then found at 0.
        assert_eq!(s, vec![0.25, 0.5, 0.0, 3.0]);
    }
}

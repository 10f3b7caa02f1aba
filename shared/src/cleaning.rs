//! Cleaning (spec section 2): which messages are kept, under which role, and why the others
//! were dropped.

use std::collections::{HashMap, HashSet};
use std::hash::BuildHasherDefault;
use std::sync::Arc;

use aho_corasick::AhoCorasick;
use rustc_hash::FxHasher;
use serde::{Deserialize, Serialize};

use crate::conversation::{Message, Role};
use crate::export::{ChatValue, Item, RawExport, RawMessage};
use crate::time::parse_timestamp;

/// Timestamps PowerPulse accepts: from 2000-01-01 to the end of 2099 (UTC). Messenger did not
/// exist before; a date like 0001-01-01 or 9999-12-31 is a broken record, and counting it would
/// stretch every per-day series over millennia.
pub const PLAUSIBLE_MS: std::ops::Range<i64> = 946_684_800_000..4_102_444_800_000;

/// The default autoresponse pattern (the USSD self-service code the bots advertise).
pub const DEFAULT_AUTORESPONSE_PATTERN: &str = "*977#";

/// Messages dropped by reason, plus chats that gave no conversation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Filtered {
    /// No `DIRECTION` or no `SOCIAL_CREATE_TIME` (or not a message object at all).
    pub missing_field: u64,
    /// `DIRECTION` is neither `to_company` nor `to_client`.
    pub bad_direction: u64,
    /// `SOCIAL_CREATE_TIME` is not an RFC 3339 timestamp.
    pub bad_timestamp: u64,
    /// Content null, not text, or blank.
    pub empty_content: u64,
    /// Company message without agent identity that contains an autoresponse pattern.
    pub autoresponse: u64,
    /// Repeats an earlier kept message of the chat.
    pub duplicate: u64,
    /// Chats left with no message (not conversations).
    pub empty_chats: u64,
    /// Chats whose value is not an array (reported, not fatal).
    pub invalid_chats: u64,
}

impl Filtered {
    /// Messages dropped, all reasons together (chats not included).
    pub fn messages(&self) -> u64 {
        self.missing_field
            + self.bad_direction
            + self.bad_timestamp
            + self.empty_content
            + self.autoresponse
            + self.duplicate
    }

    /// Adds another report's counts.
    pub fn merge(&mut self, o: &Filtered) {
        self.missing_field += o.missing_field;
        self.bad_direction += o.bad_direction;
        self.bad_timestamp += o.bad_timestamp;
        self.empty_content += o.empty_content;
        self.autoresponse += o.autoresponse;
        self.duplicate += o.duplicate;
        self.empty_chats += o.empty_chats;
        self.invalid_chats += o.invalid_chats;
    }
}

/// A chat whose value was not an array of messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvalidChat {
    /// The chat id.
    pub chat_id: String,
    /// What was found instead.
    pub found: String,
}

/// What cleaning read, kept and dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CleaningReport {
    /// Chats (object keys, or distinct `FB_CHAT_ID`s of the flat form) read.
    pub chats_read: u64,
    /// Array elements read, message or not.
    pub messages_read: u64,
    /// Messages kept.
    pub messages_kept: u64,
    /// Drops by reason.
    pub filtered: Filtered,
    /// Kept messages longer than the analyzer reads ([`crate::analyzer::MAX_ANALYSED_BYTES`]):
    /// their judgement and sentiment come from their beginning only.
    #[serde(default)]
    pub truncated_messages: u64,
    /// The first few invalid chats, to name them in messages.
    pub invalid_chat_examples: Vec<InvalidChat>,
}

/// How many invalid chats are named in a report.
const MAX_INVALID_EXAMPLES: usize = 20;

/// Cleaning settings.
#[derive(Debug, Clone)]
pub struct CleaningOptions {
    patterns: Vec<String>,
    matcher: Option<AhoCorasick>,
}

impl Default for CleaningOptions {
    fn default() -> Self {
        Self::new(vec![DEFAULT_AUTORESPONSE_PATTERN.to_owned()])
    }
}

impl CleaningOptions {
    /// Settings with these autoresponse patterns (matched ignoring ASCII case; blanks ignored).
    pub fn new(patterns: Vec<String>) -> Self {
        let patterns: Vec<String> = patterns
            .into_iter()
            .map(|p| p.trim().to_owned())
            .filter(|p| !p.is_empty())
            .collect();
        let matcher = (!patterns.is_empty()).then(|| {
            AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(&patterns)
                .expect("literal patterns always build")
        });
        Self { patterns, matcher }
    }

    /// Parses a comma-separated pattern list (the `AUTORESPONSE_PATTERNS` setting).
    pub fn from_list(list: &str) -> Self {
        Self::new(list.split(',').map(str::to_owned).collect())
    }

    /// The patterns in use.
    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }

    fn is_autoresponse(&self, text: &str) -> bool {
        self.matcher.as_ref().is_some_and(|m| m.is_match(text))
    }
}

/// A chat after cleaning: kept messages sorted by time.
#[derive(Debug, Clone, PartialEq)]
pub struct CleanChat {
    /// The chat id.
    pub chat_id: String,
    /// Kept messages, sorted by time (stable).
    pub messages: Vec<Message>,
}

/// Why a message was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Drop {
    MissingField,
    BadDirection,
    BadTimestamp,
    EmptyContent,
    Autoresponse,
    Duplicate,
}

/// Cleans a parsed export: applies the drop rules in the spec's order, assigns roles, sorts.
pub fn clean(raw: &RawExport<'_>, opts: &CleaningOptions) -> (Vec<CleanChat>, CleaningReport) {
    gather(raw, clean_each(raw, opts))
}

/// Every chat of `raw` cleaned in order on this thread, for [`gather`].
pub fn clean_each<'r>(
    raw: &'r RawExport<'_>,
    opts: &'r CleaningOptions,
) -> impl Iterator<Item = CleanedChat> + 'r {
    let mut cleaner = ChatCleaner::new(opts);
    raw.chats
        .iter()
        .map(move |(id, value)| cleaner.clean(id, value))
}

/// One chat after cleaning: the conversation it gives, if any, and what was read and dropped.
#[derive(Debug, Default)]
pub struct CleanedChat {
    chat: Option<CleanChat>,
    report: CleaningReport,
}

/// Cleans chats one by one, reusing its scratch space; a thread's own.
pub struct ChatCleaner<'r> {
    opts: &'r CleaningOptions,
    agents: HashMap<String, Arc<str>, Fx>,
    seen_ids: HashSet<&'r str, Fx>,
    seen_keys: HashSet<(bool, &'r str, &'r str), Fx>,
}

impl<'r> ChatCleaner<'r> {
    /// A cleaner with these settings.
    pub fn new(opts: &'r CleaningOptions) -> Self {
        Self {
            opts,
            agents: HashMap::default(),
            seen_ids: HashSet::default(),
            seen_keys: HashSet::default(),
        }
    }

    /// Applies the drop rules in the spec's order to one chat, assigns roles, sorts by time.
    pub fn clean(&mut self, chat_id: &str, value: &'r ChatValue<'_>) -> CleanedChat {
        let mut report = CleaningReport {
            chats_read: 1,
            ..CleaningReport::default()
        };
        let items = match value {
            ChatValue::Messages(items) => items,
            ChatValue::NotArray(found) => {
                report.filtered.invalid_chats += 1;
                report.invalid_chat_examples.push(InvalidChat {
                    chat_id: chat_id.to_owned(),
                    found: (*found).to_owned(),
                });
                return CleanedChat { chat: None, report };
            }
        };
        self.seen_ids.clear();
        self.seen_keys.clear();
        let mut kept = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            report.messages_read += 1;
            let Item::Message(m) = item else {
                report.filtered.missing_field += 1;
                continue;
            };
            match check(m, self.opts, &mut self.seen_ids, &mut self.seen_keys) {
                Err(reason) => count(&mut report.filtered, reason),
                Ok(k) => {
                    let agent = k.agent.map(|a| self.agent(a));
                    let id = match m.unique_post_id.non_blank() {
                        Some(id) => id.to_owned(),
                        None => format!("{chat_id}#{}", index + 1),
                    };
                    kept.push(Message {
                        id,
                        time_ms: k.time_ms,
                        role: k.role,
                        agent,
                        text: k.text.to_owned(),
                        sentiment: None,
                        reply_gap_minutes: None,
                        segment: 0,
                    });
                }
            }
        }
        if kept.is_empty() {
            report.filtered.empty_chats += 1;
            return CleanedChat { chat: None, report };
        }
        report.messages_kept = kept.len() as u64;
        report.truncated_messages = kept
            .iter()
            .filter(|m| m.text.len() > crate::analyzer::MAX_ANALYSED_BYTES)
            .count() as u64;
        kept.sort_by_key(|m| m.time_ms);
        let chat = CleanChat {
            chat_id: chat_id.to_owned(),
            messages: kept,
        };
        CleanedChat {
            chat: Some(chat),
            report,
        }
    }

    /// One shared copy of each agent's name.
    fn agent(&mut self, a: &str) -> Arc<str> {
        match self.agents.get(a) {
            Some(arc) => arc.clone(),
            None => self
                .agents
                .entry(a.to_owned())
                .or_insert_with(|| Arc::from(a))
                .clone(),
        }
    }
}

/// The conversations of cleaned chats, in order, and the report of them all (with the
/// ungrouped messages of `raw`).
pub fn gather(
    raw: &RawExport<'_>,
    cleaned: impl IntoIterator<Item = CleanedChat>,
) -> (Vec<CleanChat>, CleaningReport) {
    let mut report = CleaningReport {
        messages_read: raw.ungrouped as u64,
        ..CleaningReport::default()
    };
    report.filtered.missing_field = raw.ungrouped as u64;
    let mut chats = Vec::with_capacity(raw.chats.len());
    for c in cleaned {
        report.add(c.report);
        chats.extend(c.chat);
    }
    (chats, report)
}

impl CleaningReport {
    /// Adds another report's counts; its invalid chats are named after this one's, up to the cap.
    fn add(&mut self, o: CleaningReport) {
        self.chats_read += o.chats_read;
        self.messages_read += o.messages_read;
        self.messages_kept += o.messages_kept;
        self.filtered.merge(&o.filtered);
        self.truncated_messages += o.truncated_messages;
        let room = MAX_INVALID_EXAMPLES.saturating_sub(self.invalid_chat_examples.len());
        self.invalid_chat_examples
            .extend(o.invalid_chat_examples.into_iter().take(room));
    }
}

/// A stored chat and a new export of it as one chat, as a server that keeps conversations across
/// uploads sees them: each of `new`'s messages is added unless it repeats one of `stored`, by the
/// rule within an export (the same `UNIQUE_POST_ID`; without one, the same direction, time and
/// text, where the stored side knows the time as an instant, not as the file wrote it). The
/// result is sorted by time (stable, stored messages first); added messages without an id are
/// numbered after the stored ones, so merging the same export again changes nothing. Returns
/// the chat and how many of `new`'s messages were repeats.
pub fn merge_chat(stored: CleanChat, new: &[Message]) -> (CleanChat, u64) {
    let chat_id = stored.chat_id;
    let synthesized = |id: &str| -> Option<u64> {
        let n = id.strip_prefix(chat_id.as_str())?.strip_prefix('#')?;
        n.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| n.parse().ok())?
    };
    let key = |m: &Message| (m.role == Role::Customer, m.time_ms, m.text.clone());
    let mut ids: HashSet<String> = HashSet::new();
    let mut keys: HashSet<(bool, i64, String)> = HashSet::new();
    let mut last = 0;
    for m in &stored.messages {
        match synthesized(&m.id) {
            Some(n) => last = last.max(n),
            None => {
                ids.insert(m.id.clone());
            }
        }
        keys.insert(key(m));
    }
    let mut messages = stored.messages;
    let mut repeats = 0;
    for m in new {
        let fresh = match synthesized(&m.id) {
            Some(_) => keys.insert(key(m)),
            None => {
                // An id decides alone, and guards its content against a later copy without one.
                let fresh = ids.insert(m.id.clone());
                keys.insert(key(m));
                fresh
            }
        };
        if !fresh {
            repeats += 1;
            continue;
        }
        let mut m = m.clone();
        if synthesized(&m.id).is_some() {
            last += 1;
            m.id = format!("{chat_id}#{last}");
        }
        messages.push(m);
    }
    for m in &mut messages {
        m.sentiment = None;
        m.reply_gap_minutes = None;
        m.segment = 0;
    }
    messages.sort_by_key(|m| m.time_ms);
    (CleanChat { chat_id, messages }, repeats)
}

type Fx = BuildHasherDefault<FxHasher>;

struct Kept<'m> {
    time_ms: i64,
    role: Role,
    agent: Option<&'m str>,
    text: &'m str,
}

fn check<'m>(
    m: &'m RawMessage<'_>,
    opts: &CleaningOptions,
    seen_ids: &mut HashSet<&'m str, Fx>,
    seen_keys: &mut HashSet<(bool, &'m str, &'m str), Fx>,
) -> Result<Kept<'m>, Drop> {
    if m.direction.is_absent() || m.time.is_absent() {
        return Err(Drop::MissingField);
    }
    let to_company = match m.direction.as_str() {
        Some("to_company") => true,
        Some("to_client") => false,
        _ => return Err(Drop::BadDirection),
    };
    let time_str = m.time.as_str().ok_or(Drop::BadTimestamp)?;
    let time_ms = parse_timestamp(time_str.trim())
        .filter(|t| PLAUSIBLE_MS.contains(t))
        .ok_or(Drop::BadTimestamp)?;
    let text = m.content.non_blank().ok_or(Drop::EmptyContent)?;
    let agent = m
        .agent_username
        .non_blank()
        .or_else(|| m.agent_email.non_blank());
    if !to_company && agent.is_none() && opts.is_autoresponse(text) {
        return Err(Drop::Autoresponse);
    }
    let fresh = match m.unique_post_id.non_blank() {
        Some(id) => seen_ids.insert(id),
        None => seen_keys.insert((to_company, time_str, text)),
    };
    if !fresh {
        return Err(Drop::Duplicate);
    }
    // Messages with an id also guard the content key, so a later id-less copy is a duplicate.
    if m.unique_post_id.non_blank().is_some() {
        seen_keys.insert((to_company, time_str, text));
    }
    let role = match (to_company, agent) {
        (true, _) => Role::Customer,
        (false, Some(_)) => Role::Agent,
        (false, None) => Role::Bot,
    };
    Ok(Kept {
        time_ms,
        role,
        agent: if role == Role::Agent { agent } else { None },
        text,
    })
}

fn count(f: &mut Filtered, reason: Drop) {
    let slot = match reason {
        Drop::MissingField => &mut f.missing_field,
        Drop::BadDirection => &mut f.bad_direction,
        Drop::BadTimestamp => &mut f.bad_timestamp,
        Drop::EmptyContent => &mut f.empty_content,
        Drop::Autoresponse => &mut f.autoresponse,
        Drop::Duplicate => &mut f.duplicate,
    };
    *slot += 1;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merging_reports_adds_each_count_to_its_own() {
        let a = Filtered {
            missing_field: 1,
            bad_direction: 2,
            bad_timestamp: 3,
            empty_content: 4,
            autoresponse: 5,
            duplicate: 6,
            empty_chats: 7,
            invalid_chats: 8,
        };
        let b = Filtered {
            missing_field: 10,
            bad_direction: 20,
            bad_timestamp: 30,
            empty_content: 40,
            autoresponse: 50,
            duplicate: 60,
            empty_chats: 70,
            invalid_chats: 80,
        };
        let mut total = a;
        total.merge(&b);
        assert_eq!(
            total,
            Filtered {
                missing_field: 11,
                bad_direction: 22,
                bad_timestamp: 33,
                empty_content: 44,
                autoresponse: 55,
                duplicate: 66,
                empty_chats: 77,
                invalid_chats: 88,
            }
        );
        assert_eq!(total.messages(), 11 + 22 + 33 + 44 + 55 + 66);
    }

    #[test]
    fn a_report_names_at_most_twenty_invalid_chats() {
        for (n, named) in [(20, 20), (21, 20)] {
            let chats: Vec<String> = (0..n).map(|i| format!("\"c{i}\": 7")).collect();
            let json = format!("{{{}}}", chats.join(", "));
            let raw = crate::export::parse_export(json.as_bytes()).unwrap();
            let (_, report) = clean(&raw, &CleaningOptions::default());
            assert_eq!(report.filtered.invalid_chats, n);
            assert_eq!(
                report.invalid_chat_examples.len(),
                named,
                "{n} invalid chats"
            );
        }
    }

    #[test]
    fn only_messages_longer_than_the_analysed_length_count_as_truncated() {
        let max = crate::analyzer::MAX_ANALYSED_BYTES;
        let json = format!(
            r#"{{"c": [{{"MESSAGE_CONTENT": "{}", "DIRECTION": "to_company", "SOCIAL_CREATE_TIME": "2025-08-12T10:00:00Z"}},
                       {{"MESSAGE_CONTENT": "{}", "DIRECTION": "to_company", "SOCIAL_CREATE_TIME": "2025-08-12T10:01:00Z"}}]}}"#,
            "a".repeat(max),
            "b".repeat(max + 1)
        );
        let raw = crate::export::parse_export(json.as_bytes()).unwrap();
        let (_, report) = clean(&raw, &CleaningOptions::default());
        assert_eq!(report.messages_kept, 2);
        assert_eq!(report.truncated_messages, 1);
    }

    #[test]
    fn patterns_are_the_trimmed_non_blank_entries_of_the_list() {
        let o = CleaningOptions::from_list(" *977# , ,Auto Reply");
        assert_eq!(o.patterns(), ["*977#", "Auto Reply"]);
        assert!(o.is_autoresponse("dial *977# now"));
        assert!(o.is_autoresponse("AUTO REPLY: we are closed"));
        assert!(!o.is_autoresponse("hello"));
        assert_eq!(CleaningOptions::default().patterns(), ["*977#"]);
        let none = CleaningOptions::from_list(" , ");
        assert!(none.patterns().is_empty());
        assert!(!none.is_autoresponse("*977#"));
    }
}

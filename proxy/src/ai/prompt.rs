//! What is sent to the AI and what is accepted back: a compact, trimmed, optionally redacted
//! transcript per conversation, one rubric per call, and strict validation of every result.

use serde_json::{json, Value};

/// Bumped whenever the instructions or the output format change: cached analyses made with
/// another version are not reused.
pub const PROMPT_VERSION: &str = "pp-3";

/// Messages kept from the start and from the end of a long conversation.
pub const KEEP_FIRST: usize = 4;
/// See [`KEEP_FIRST`].
pub const KEEP_LAST: usize = 8;
/// Characters kept of one message.
pub const MAX_MESSAGE_CHARS: usize = 600;

pub use powerpulse_shared::ai::{AiAnalysis, ConversationInput, Speaker, TurnText};

/// A conversation as it will be sent: trimmed, redacted, with the map back to its messages.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    /// The caller's id.
    pub id: String,
    /// The id the model sees (`c1`, `c2`, ...: short, unique in its call), given by the plan.
    pub short_id: String,
    /// The compact transcript lines (without the `### <short id>` header the call adds).
    pub text: String,
    /// For each customer message sent, its index among the conversation's customer messages.
    pub customer_sent: Vec<usize>,
    /// Messages left out by trimming.
    pub omitted: usize,
    /// Estimated input tokens of this conversation's part of the prompt.
    pub tokens: u32,
}

/// Rough token estimate (about four characters per token for English and Swahili text).
pub fn estimate_tokens(s: &str) -> u32 {
    (s.chars().count() as u32).div_ceil(4)
}

/// Replaces phone numbers, emails and long digit runs (meter, account, token numbers).
pub fn redact(text: &str) -> String {
    let words: Vec<&str> = text.split_inclusive(char::is_whitespace).collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < words.len() {
        if let Some((end, tail)) = spaced_phone(&words[i..]) {
            // A number written in groups ("0712 345 678", "+254 712 345678").
            out.push_str("[phone]");
            out.push_str(tail);
            i += end;
            continue;
        }
        let word = words[i];
        let core = word.trim_end();
        let tail = &word[core.len()..];
        let digits = core.chars().filter(char::is_ascii_digit).count();
        let is_email = core.contains('@') && core.contains('.') && !core.starts_with('@');
        if is_email {
            out.push_str("[email]");
        } else if digits >= 7 && digits * 2 >= core.chars().count() {
            out.push_str(if is_phone_prefix(core) {
                "[phone]"
            } else {
                "[number]"
            });
        } else {
            out.push_str(core);
        }
        out.push_str(tail);
        i += 1;
    }
    out
}

fn is_phone_prefix(s: &str) -> bool {
    ["+", "07", "01", "254"].iter().any(|p| s.starts_with(p))
}

/// A Kenyan phone number written in two or more groups of digits: how many words it spans and
/// what follows its last digit (punctuation, space).
fn spaced_phone<'a>(words: &[&'a str]) -> Option<(usize, &'a str)> {
    let group = |w: &'a str| -> Option<(&'a str, &'a str)> {
        let core = w.trim_end_matches(|c: char| c.is_whitespace() || ",.;:!?)".contains(c));
        let digits = core.strip_prefix('+').unwrap_or(core);
        (!digits.is_empty() && digits.len() <= 6 && digits.bytes().all(|b| b.is_ascii_digit()))
            .then(|| (digits, &w[core.len()..]))
    };
    let first = words.first()?.trim_end();
    if !is_phone_prefix(first) {
        return None;
    }
    let mut count = 0;
    let mut span = 0;
    let mut tail = "";
    for (k, w) in words.iter().enumerate() {
        let Some((digits, rest)) = group(w) else {
            break;
        };
        if count + digits.len() > 13 {
            break;
        }
        count += digits.len();
        span = k + 1;
        tail = rest;
        if !rest.chars().all(char::is_whitespace) {
            break; // punctuation ends the number
        }
    }
    (span >= 2 && (10..=13).contains(&count)).then_some((span, tail))
}

fn clip(s: &str) -> String {
    let one_line = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= MAX_MESSAGE_CHARS {
        one_line
    } else {
        let cut: String = one_line.chars().take(MAX_MESSAGE_CHARS).collect();
        format!("{cut}…")
    }
}

/// The header of one conversation in a call.
fn header(short_id: &str) -> String {
    format!("### {short_id}\n")
}

/// Prepares a conversation: first and last messages of long ones, one line per message.
pub fn prepare(c: &ConversationInput, redacting: bool) -> Prepared {
    let n = c.messages.len();
    let keep = |i: usize| n <= KEEP_FIRST + KEEP_LAST || i < KEEP_FIRST || i >= n - KEEP_LAST;
    let mut text = String::new();
    let mut customer_index = 0;
    let mut customer_sent = Vec::new();
    let mut omitted = 0;
    for (i, m) in c.messages.iter().enumerate() {
        if !keep(i) {
            if omitted == 0 {
                text.push_str(&format!(
                    "[… {} messages omitted …]\n",
                    n - KEEP_FIRST - KEEP_LAST
                ));
            }
            omitted += 1;
        } else {
            let body = clip(&m.text);
            let body = if redacting { redact(&body) } else { body };
            text.push_str(match m.role {
                Speaker::Customer => "C: ",
                Speaker::Agent => "A: ",
            });
            text.push_str(&body);
            text.push('\n');
            if m.role == Speaker::Customer {
                customer_sent.push(customer_index);
            }
        }
        if m.role == Speaker::Customer {
            customer_index += 1;
        }
    }
    // Counted with a header as long as the first plan's ids.
    let tokens = estimate_tokens(&(header("c") + &text));
    Prepared {
        id: c.id.clone(),
        short_id: String::new(),
        text,
        customer_sent,
        omitted,
        tokens,
    }
}

/// The instructions: the rubric of the metric definitions with the same decisions the built-in
/// analyzer takes (docs/definitions.md section 5), the same for every call, so that built-in and
/// AI answers mean the same thing.
pub const INSTRUCTIONS: &str = "You analyse customer-care chats of an electricity utility in Kenya (English, Swahili, Sheng). \
Each chat starts with '### <id>'; 'C:' lines are the customer, 'A:' lines the agent. For every chat return one result with: \
satisfaction_score (integer 1-5, judged from the situation at the end of the chat, not only the tone: \
5 = explicitly happy or thankful and the problem solved; \
4 = solved or fully answered, customer neutral to positive, including silence after a concrete fix such as a token delivered; \
3 = no clear signal: silence after a routine answer (such as being told which office, e-mail or WhatsApp handles a question), after a request for details or after a logged complaint, greetings only, thanks while the problem is not solved; \
2 = not solved and the customer is frustrated, kept waiting, chasing, repeating the message or coming back; \
1 = angry, insulting, threatening, or reporting repeated failures, or (even calmly) two days or more without power that are not solved), \
satisfaction_confidence (0-1: how sure you are), \
first_contact_resolution (true only when the issue was solved or fully answered at the first contact: a token or KCT code delivered, \
a question answered with the information asked for (to a question, telling where to go or whom to write is an answer), a fault fixed, or the customer confirms it works; \
false when the agent only asked for details (meter number, location), logged or forwarded a complaint, gave a reference number, \
promised follow-up, asked for patience, or met a reported failure by referring the customer to an office, e-mail or WhatsApp; \
false when no agent answered, when the customer says it still does not work, or when the customer comes back the next day or later; \
null: no actual issue - greetings only, 'Get started', spam), \
topics (1-3 of exactly these labels: outage (no power, low or dim voltage, surges, transformers), tokens, \
billing (bills, payments, refunds, tariffs, balances), meter (meter faults, CIU, KCT update codes), connection (new connections), \
account, safety, feedback (complaints about the service itself), other), \
sentiment (one number from -1 to 1 per 'C:' line, in order, for the customer's tone read in the light of the whole chat and how it ended: \
a polite request after days without power that were never fixed is negative; null when the line carries no sentiment, such as a number or a greeting). \
Answer with JSON only.";

/// The JSON schema of the answer (OpenAI strict structured output, Gemini responseSchema).
pub fn output_schema(gemini: bool) -> Value {
    let nullable_bool = if gemini {
        json!({"type": "boolean", "nullable": true})
    } else {
        json!({"type": ["boolean", "null"]})
    };
    let nullable_num = if gemini {
        json!({"type": "number", "nullable": true})
    } else {
        json!({"type": ["number", "null"]})
    };
    let mut item = json!({
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "satisfaction_score": {"type": "integer"},
            "satisfaction_confidence": {"type": "number"},
            "first_contact_resolution": nullable_bool,
            "topics": {"type": "array", "items": {"type": "string"}},
            "sentiment": {"type": "array", "items": nullable_num}
        },
        "required": ["id", "satisfaction_score", "satisfaction_confidence", "first_contact_resolution", "topics", "sentiment"]
    });
    let mut root = json!({
        "type": "object",
        "properties": {"results": {"type": "array", "items": item.clone()}},
        "required": ["results"]
    });
    if !gemini {
        item["additionalProperties"] = json!(false);
        root["properties"]["results"]["items"] = item;
        root["additionalProperties"] = json!(false);
    }
    root
}

/// The user part of a call: the batch's transcripts.
pub fn batch_text(batch: &[Prepared]) -> String {
    let mut s = String::new();
    for p in batch {
        s.push_str(&header(&p.short_id));
        s.push_str(&p.text);
    }
    s
}

/// Checks one returned item against the schema and ranges; the error says what is wrong.
pub fn validate(v: &Value, expected_sentiments: usize) -> Result<AiAnalysis, String> {
    let obj = v.as_object().ok_or("not an object")?;
    let score = obj
        .get("satisfaction_score")
        .and_then(Value::as_f64)
        .ok_or("satisfaction_score missing or not a number")?;
    if score.fract() != 0.0 || !(1.0..=5.0).contains(&score) {
        return Err(format!(
            "satisfaction_score {score} is not an integer from 1 to 5"
        ));
    }
    let conf = obj
        .get("satisfaction_confidence")
        .and_then(Value::as_f64)
        .ok_or("satisfaction_confidence missing or not a number")?;
    if !(0.0..=1.0).contains(&conf) {
        return Err(format!("satisfaction_confidence {conf} is outside 0-1"));
    }
    let fcr = match obj.get("first_contact_resolution") {
        Some(Value::Bool(b)) => Some(*b),
        Some(Value::Null) => None,
        _ => return Err("first_contact_resolution missing or not true/false/null".into()),
    };
    let topics: Vec<String> = obj
        .get("topics")
        .and_then(Value::as_array)
        .ok_or("topics missing or not an array")?
        .iter()
        .map(|t| {
            t.as_str()
                .map(|s| s.trim().to_lowercase())
                .ok_or("a topic is not a string")
        })
        .collect::<Result<_, _>>()?;
    if topics.is_empty()
        || topics.len() > 5
        || topics
            .iter()
            .any(|t| t.is_empty() || t.chars().count() > 40)
    {
        return Err(format!(
            "topics must be 1-5 labels of 1-40 characters, got {topics:?}"
        ));
    }
    let sentiment: Vec<Option<f64>> = obj
        .get("sentiment")
        .and_then(Value::as_array)
        .ok_or("sentiment missing or not an array")?
        .iter()
        .map(|s| match s {
            Value::Null => Ok(None),
            Value::Number(n) => match n.as_f64() {
                Some(x) if (-1.0..=1.0).contains(&x) => Ok(Some(x)),
                _ => Err(format!("sentiment {n} is outside -1..1")),
            },
            _ => Err("a sentiment is neither a number nor null".into()),
        })
        .collect::<Result<_, _>>()?;
    if sentiment.len() != expected_sentiments {
        return Err(format!(
            "sentiment has {} values for {expected_sentiments} customer messages",
            sentiment.len()
        ));
    }
    let mut unique = Vec::new();
    for t in topics {
        if !unique.contains(&t) {
            unique.push(t);
        }
    }
    Ok(AiAnalysis {
        satisfaction_score: score as u8,
        satisfaction_confidence: conf,
        first_contact_resolution: fcr,
        topics: unique,
        sentiment,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_instructions_state_the_builtin_analyzers_decisions() {
        for topic in powerpulse_shared::evaluate::LABEL_TOPICS {
            assert!(INSTRUCTIONS.contains(topic), "topic {topic} missing");
        }
        for decision in [
            "only asked for details",
            "gave a reference number",
            "promised follow-up",
            "referring the customer to an office",
            "telling where to go or whom to write is an answer",
            "no agent answered",
            "comes back the next day",
            "two days or more without power",
            "a token or KCT code delivered",
        ] {
            assert!(INSTRUCTIONS.contains(decision), "{decision:?} missing");
        }
    }

    fn conv(n: usize) -> ConversationInput {
        ConversationInput {
            id: "chat-1".into(),
            messages: (0..n)
                .map(|i| TurnText {
                    role: if i % 2 == 0 {
                        Speaker::Customer
                    } else {
                        Speaker::Agent
                    },
                    text: format!("message {i}"),
                })
                .collect(),
        }
    }

    #[test]
    fn long_conversations_keep_first_and_last_messages() {
        let p = prepare(&conv(30), false);
        assert_eq!(p.omitted, 30 - KEEP_FIRST - KEEP_LAST);
        assert!(
            p.text.contains("message 0")
                && p.text.contains("message 29")
                && !p.text.contains("message 10\n")
        );
        assert!(p.text.contains("[… 18 messages omitted …]"));
        // Customer messages 0,2 (first four) and 22..28 (last eight): indices among customers.
        assert_eq!(p.customer_sent, vec![0, 1, 11, 12, 13, 14]);
        let short = prepare(&conv(5), false);
        assert_eq!((short.omitted, short.customer_sent.len()), (0, 3));
    }

    #[test]
    fn redaction_hides_numbers_and_emails() {
        let r = redact(
            "call me on 0712345678 or +254712345678, meter 37145982216, mail me@x.co please",
        );
        assert_eq!(
            r,
            "call me on [phone] or [phone] meter [number] mail [email] please"
        );
        assert_eq!(redact("token 1234 5678"), "token 1234 5678");
    }

    #[test]
    fn redaction_hides_phone_numbers_written_in_groups() {
        assert_eq!(redact("call 0712 345 678 now"), "call [phone] now");
        assert_eq!(
            redact("my number +254 712 345678, thanks"),
            "my number [phone], thanks"
        );
        assert_eq!(redact("254 712 345 678"), "[phone]");
        assert_eq!(redact("0712-345-678"), "[phone]");
        // Not phones: a short group, a token in groups of four, an amount.
        assert_eq!(redact("07 12"), "07 12");
        assert_eq!(
            redact("Token: 1234 5678 9012 3456"),
            "Token: 1234 5678 9012 3456"
        );
        assert_eq!(redact("paid 1000 bob"), "paid 1000 bob");
    }

    #[test]
    fn validation_rejects_out_of_range_and_missing_values() {
        let ok = json!({"id": "c1", "satisfaction_score": 4, "satisfaction_confidence": 0.8,
            "first_contact_resolution": null, "topics": ["Tokens", "tokens", "meter"], "sentiment": [0.5, null]});
        let a = validate(&ok, 2).unwrap();
        assert_eq!(a.topics, vec!["tokens", "meter"]);
        for (field, bad) in [
            ("satisfaction_score", json!(6)),
            ("satisfaction_score", json!(3.5)),
            ("satisfaction_confidence", json!(1.2)),
            ("first_contact_resolution", json!("yes")),
            ("topics", json!([])),
            ("sentiment", json!([2.0, null])),
            ("sentiment", json!([0.1])),
        ] {
            let mut v = ok.clone();
            v[field] = bad;
            assert!(validate(&v, 2).is_err(), "{field}");
        }
        let mut missing = ok.clone();
        missing.as_object_mut().unwrap().remove("topics");
        assert!(validate(&missing, 2).unwrap_err().contains("topics"));
    }

    #[test]
    fn schemas_are_strict_for_openai() {
        let s = output_schema(false);
        assert_eq!(s["additionalProperties"], json!(false));
        assert_eq!(
            s["properties"]["results"]["items"]["additionalProperties"],
            json!(false)
        );
        assert_eq!(
            output_schema(true)["properties"]["results"]["items"]["properties"]
                ["first_contact_resolution"]["nullable"],
            json!(true)
        );
    }
}

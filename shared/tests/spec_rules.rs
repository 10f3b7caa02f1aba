//! One test per rule of the metric definitions (spec v1), each with a fixture written for it.

use powerpulse_shared::{process, Dataset, Filter, Options, Role};
use serde_json::{json, Value};

fn msg(dir: &str, time: &str, text: &str) -> Value {
    json!({"MESSAGE_CONTENT": text, "DIRECTION": dir, "SOCIAL_CREATE_TIME": time})
}
fn customer(time: &str, text: &str) -> Value {
    msg("to_company", &format!("2025-08-12T{time}:00.000Z"), text)
}
fn agent(time: &str, who: &str, text: &str) -> Value {
    let mut m = msg("to_client", &format!("2025-08-12T{time}:00.000Z"), text);
    m["AGENT_USERNAME"] = json!(who);
    m
}
fn bot(time: &str, text: &str) -> Value {
    msg("to_client", &format!("2025-08-12T{time}:00.000Z"), text)
}
fn run(export: Value) -> Dataset {
    process(export.to_string().as_bytes(), &Options::default()).expect("valid export")
}
fn one(export: Value) -> powerpulse_shared::Conversation {
    let d = run(export);
    assert_eq!(d.conversations.len(), 1);
    d.conversations.into_iter().next().unwrap()
}

// --- Section 2: cleaning, each reason ---

#[test]
fn missing_direction_or_time_is_missing_field() {
    let d = run(json!({"c": [
        {"MESSAGE_CONTENT": "no direction", "SOCIAL_CREATE_TIME": "2025-08-12T10:00:00.000Z"},
        {"MESSAGE_CONTENT": "no time", "DIRECTION": "to_company"},
        {"MESSAGE_CONTENT": "null time", "DIRECTION": "to_company", "SOCIAL_CREATE_TIME": null},
        42,
        customer("10:00", "kept"),
    ]}));
    assert_eq!(d.report.filtered.missing_field, 4);
    assert_eq!(d.report.messages_kept, 1);
}

#[test]
fn unknown_direction_is_bad_direction() {
    let d = run(
        json!({"c": [msg("inbound", "2025-08-12T10:00:00.000Z", "x"), msg("TO_COMPANY", "2025-08-12T10:00:00.000Z", "y"), customer("10:00", "kept")]}),
    );
    assert_eq!(d.report.filtered.bad_direction, 2);
}

#[test]
fn unparseable_time_is_bad_timestamp_never_now() {
    let d = run(json!({"c": [
        msg("to_company", "yesterday", "x"),
        msg("to_company", "2025-02-30T10:00:00.000Z", "y"),
        customer("10:00", "kept"),
    ]}));
    assert_eq!(d.report.filtered.bad_timestamp, 2);
    assert_eq!(
        d.conversations[0].messages[0].time(),
        "2025-08-12T10:00:00.000Z"
    );
}

#[test]
fn null_or_blank_content_is_empty_content() {
    let d = run(json!({"c": [
        {"DIRECTION": "to_company", "SOCIAL_CREATE_TIME": "2025-08-12T10:00:00.000Z", "MESSAGE_CONTENT": null},
        {"DIRECTION": "to_company", "SOCIAL_CREATE_TIME": "2025-08-12T10:00:00.000Z"},
        customer("10:01", "  \n\t "),
        customer("10:02", "kept"),
    ]}));
    assert_eq!(d.report.filtered.empty_content, 3);
}

#[test]
fn autoresponse_is_only_a_company_message_without_agent_identity() {
    let d = run(json!({"c": [
        bot("10:00", "Hi Amina, Thank you for reaching out! Did you know that you can now dial *977# ..."),
        customer("10:01", "I dialled *977# and it failed"),
        agent("10:02", "amina.k", "You can also dial *977# to check"),
        bot("10:03", "Planned maintenance on Sunday"),
    ]}));
    let c = &d.conversations[0];
    assert_eq!(d.report.filtered.autoresponse, 1);
    let roles: Vec<Role> = c.messages.iter().map(|m| m.role).collect();
    assert_eq!(roles, vec![Role::Customer, Role::Agent, Role::Bot]);
}

#[test]
fn autoresponse_patterns_are_configurable() {
    let opts = Options {
        cleaning: powerpulse_shared::CleaningOptions::from_list("AUTO-REPLY, *977#"),
        ..Options::default()
    };
    let e = json!({"c": [bot("10:00", "auto-reply: we are closed"), bot("10:01", "dial *977#"), customer("10:02", "hi")]});
    let d = process(e.to_string().as_bytes(), &opts).unwrap();
    assert_eq!(d.report.filtered.autoresponse, 2);
}

#[test]
fn duplicates_by_post_id_or_by_direction_time_and_text() {
    let mut a = customer("10:00", "first");
    a["UNIQUE_POST_ID"] = json!("m1");
    let mut a_again = customer("10:05", "edited copy");
    a_again["UNIQUE_POST_ID"] = json!("m1");
    let d = run(json!({"c": [
        a, a_again,
        customer("10:01", "same"), customer("10:01", "same"),
        agent("10:01", "x", "same"),
        customer("10:02", "same"),
    ]}));
    assert_eq!(d.report.filtered.duplicate, 2);
    assert_eq!(d.report.messages_kept, 4);
}

#[test]
fn a_message_failing_several_checks_counts_once_under_the_first() {
    let d = run(json!({"c": [
        {"DIRECTION": "sideways", "SOCIAL_CREATE_TIME": "never", "MESSAGE_CONTENT": null},
        {"DIRECTION": "to_client", "SOCIAL_CREATE_TIME": "never", "MESSAGE_CONTENT": "dial *977#"},
        customer("10:00", "ok"),
    ]}));
    let f = d.report.filtered;
    assert_eq!(
        (
            f.bad_direction,
            f.bad_timestamp,
            f.empty_content,
            f.autoresponse
        ),
        (1, 1, 0, 0)
    );
    assert_eq!(d.report.messages_read, 3);
}

#[test]
fn chats_left_empty_are_not_conversations_and_non_arrays_are_reported() {
    let d = run(
        json!({"a": [bot("10:00", "dial *977# for tokens")], "b": "oops", "c": [customer("10:00", "hi")]}),
    );
    assert_eq!(d.conversations.len(), 1);
    assert_eq!(d.report.filtered.empty_chats, 1);
    assert_eq!(d.report.filtered.invalid_chats, 1);
    assert_eq!(d.report.invalid_chat_examples[0].chat_id, "b");
}

#[test]
fn agent_identity_is_username_else_email() {
    let mut by_email = msg("to_client", "2025-08-12T10:01:00.000Z", "hello");
    by_email["AGENT_EMAIL"] = json!("felix@care.example");
    by_email["AGENT_USERNAME"] = json!("  ");
    let mut both = agent("10:02", "amina", "hi");
    both["AGENT_EMAIL"] = json!("amina@care.example");
    let c = one(json!({"c": [customer("10:00", "hi"), by_email, both]}));
    assert_eq!(c.summary.agents, vec!["felix@care.example", "amina"]);
}

// --- Section 3: time metrics ---

#[test]
fn consecutive_customer_messages_reply_gap_from_the_latest() {
    let c = one(
        json!({"c": [customer("10:00", "hello"), customer("10:04", "no power"), agent("10:10", "a", "on it")]}),
    );
    let s = &c.summary;
    assert_eq!(s.replies[0].gap, Some(6.0));
    // The turn starts at the first customer message.
    assert_eq!(s.turns[0].minutes, Some(10.0));
    assert_eq!(s.first_response_minutes(), Some(10.0));
}

#[test]
fn consecutive_agent_replies_each_measure_from_the_same_customer_message() {
    let c = one(
        json!({"c": [customer("10:00", "hello"), agent("10:02", "a", "hi"), agent("10:05", "b", "more")]}),
    );
    let gaps: Vec<_> = c.summary.replies.iter().map(|r| r.gap).collect();
    assert_eq!(gaps, vec![Some(2.0), Some(5.0)]);
    assert_eq!(c.summary.avg_response_time_minutes(), Some(3.5));
    // Only the first reply ends the turn.
    assert_eq!(c.summary.turns.len(), 1);
    assert_eq!(c.summary.turns[0].minutes, Some(2.0));
}

#[test]
fn agent_first_chats_have_no_reply_gap_for_the_opening_reply() {
    let c = one(
        json!({"c": [agent("10:00", "a", "Hello from the team"), customer("10:03", "hi"), agent("10:04", "a", "how can we help")]}),
    );
    let gaps: Vec<_> = c.summary.replies.iter().map(|r| r.gap).collect();
    assert_eq!(gaps, vec![None, Some(1.0)]);
    assert_eq!(c.summary.avg_response_time_minutes(), Some(1.0));
    assert_eq!(c.summary.first_response_minutes(), Some(1.0));
}

#[test]
fn no_reply_means_null_response_time_never_zero() {
    let c = one(json!({"c": [customer("10:00", "anyone?")]}));
    assert_eq!(c.summary.avg_response_time_minutes(), None);
    assert_eq!(c.summary.first_response_minutes(), None);
    assert_eq!(c.summary.turns[0].minutes, None);
    let m = run(json!({"c": [customer("10:00", "anyone?")]})).metrics(&Filter::default());
    assert_eq!(m.core.avg_response_time_minutes, None);
    assert_eq!(m.core.response_time.unanswered_turns, 1);
}

#[test]
fn bot_messages_are_never_replies_and_never_end_turns() {
    let c = one(
        json!({"c": [customer("10:00", "hi"), bot("10:01", "Our agents are busy"), agent("10:09", "a", "hello")]}),
    );
    assert_eq!(c.summary.replies.len(), 1);
    assert_eq!(c.summary.replies[0].gap, Some(9.0));
    assert_eq!(c.summary.turns[0].minutes, Some(9.0));
    assert_eq!((c.summary.bot_messages, c.summary.agent_messages), (1, 1));
}

#[test]
fn equal_timestamps_keep_file_order() {
    let c = one(
        json!({"c": [agent("10:00", "a", "first in file"), customer("10:00", "second in file")]}),
    );
    assert_eq!(c.messages[0].text, "first in file");
    // The agent message comes before the customer message: no reply gap, turn unanswered.
    assert_eq!(c.summary.replies[0].gap, None);
    assert_eq!(c.summary.turns[0].minutes, None);
}

#[test]
fn unsorted_input_is_sorted_by_time() {
    let c = one(
        json!({"c": [agent("10:05", "a", "reply"), customer("10:00", "question"), customer("10:10", "thanks")]}),
    );
    let texts: Vec<&str> = c.messages.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(texts, vec!["question", "reply", "thanks"]);
    assert_eq!(c.summary.replies[0].gap, Some(5.0));
    assert_eq!(c.summary.turns.len(), 2);
    assert_eq!(c.summary.turns[1].minutes, None);
}

#[test]
fn turn_statistics_use_nearest_rank_p90() {
    let mut msgs = Vec::new();
    for i in 0..10 {
        // Turn i waits i+1 minutes: 1..=10.
        msgs.push(customer(&format!("{:02}:00", 10 + i), "q"));
        msgs.push(agent(&format!("{:02}:{:02}", 10 + i, i + 1), "a", "r"));
    }
    let m = run(json!({ "c": msgs })).metrics(&Filter::default());
    let t = m.core.response_time.turn;
    assert_eq!(
        (t.n, t.median, t.p90, t.mean),
        (10, Some(5.5), Some(9.0), Some(5.5))
    );
}

// --- Section 4: segments ---

#[test]
fn a_gap_of_24_hours_or_more_starts_a_segment() {
    let c = one(json!({"c": [
        customer("10:00", "no power"),
        agent("10:05", "a", "restored"),
        msg("to_company", "2025-08-13T10:05:00.000Z", "it is off again"),
        msg("to_client", "2025-08-13T10:05:00.000Z", "auto: dial *977#"),
    ]}));
    assert_eq!(c.summary.segments, 2);
    assert!(c.summary.customer_came_back);
    assert_eq!(c.messages[2].segment, 1);
    assert_eq!(c.summary.analysis.first_contact_resolution, Some(false));
    let just_under = one(
        json!({"c": [customer("10:00", "a"), msg("to_company", "2025-08-13T09:59:59.999Z", "b")]}),
    );
    assert_eq!(just_under.summary.segments, 1);
}

#[test]
fn segment_gap_is_configurable() {
    let opts = Options {
        segment_gap_ms: 3600 * 1000,
        ..Options::default()
    };
    let e = json!({"c": [customer("10:00", "a"), customer("11:00", "b")]});
    let d = process(e.to_string().as_bytes(), &opts).unwrap();
    assert_eq!(d.conversations[0].summary.segments, 2);
}

// --- Section 6: dataset metrics and filters ---

fn day_export() -> Value {
    // Chat "late" starts 2025-08-12 22:30 UTC = 2025-08-13 01:30 in Nairobi (UTC+3).
    json!({
        "early": [msg("to_company", "2025-08-12T00:30:00.000Z", "hi"), msg("to_company", "2025-08-12T00:40:00.000Z", "no power")],
        "late": [msg("to_company", "2025-08-12T22:30:00.000Z", "token not received")],
        "next": [msg("to_company", "2025-08-13T20:59:59.000Z", "meter error")],
        "after": [msg("to_company", "2025-08-13T21:00:00.000Z", "bill")],
    })
}

#[test]
fn date_filters_are_inclusive_days_in_utc_by_default() {
    let d = run(day_export());
    let f = Filter::from_params(Some("2025-08-12"), Some("2025-08-12"), None, None, None).unwrap();
    assert_eq!(d.metrics(&f).core.total_conversations, 2);
    let f = Filter::from_params(Some("2025-08-13"), Some("2025-08-13"), None, None, None).unwrap();
    assert_eq!(d.metrics(&f).core.total_conversations, 2);
}

#[test]
fn date_filters_include_the_whole_last_day_in_a_non_utc_zone() {
    let d = run(day_export());
    let f = Filter::from_params(
        Some("2025-08-13"),
        Some("2025-08-13"),
        Some("Africa/Nairobi"),
        None,
        None,
    )
    .unwrap();
    let ids: Vec<String> = d.records(&f).into_iter().map(|r| r.fb_chat_id).collect();
    assert_eq!(ids, vec!["late", "next"]);
    let f =
        Filter::from_params(None, Some("2025-08-12"), Some("Africa/Nairobi"), None, None).unwrap();
    assert_eq!(d.metrics(&f).core.total_conversations, 1);
    assert!(Filter::from_params(Some("2025-08-14"), Some("2025-08-13"), None, None, None).is_err());
    assert!(
        Filter::from_params(Some("13/08/2025"), None, None, None, None)
            .unwrap_err()
            .contains("start_date")
    );
    assert!(Filter::from_params(None, None, Some("Nairobi"), None, None)
        .unwrap_err()
        .contains("tz"));
}

#[test]
fn agent_and_topic_filters() {
    let d = run(json!({
        "a": [customer("10:00", "no power here"), agent("10:01", "amina", "restored")],
        "b": [customer("10:00", "my bill is high"), agent("10:03", "brian", "corrected")],
    }));
    let f = Filter::from_params(None, None, None, Some("amina"), None).unwrap();
    assert_eq!(d.metrics(&f).core.total_conversations, 1);
    let f = Filter::from_params(None, None, None, None, Some("Billing")).unwrap();
    let r = d.records(&f);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].fb_chat_id, "b");
}

#[test]
fn topic_percentages_are_shares_of_conversations_with_topics_never_above_100() {
    let d = run(json!({
        "a": [customer("10:00", "no power and my token and my bill and the meter")],
        "b": [customer("10:00", "no power, token please")],
        "c": [customer("10:00", "hakuna stima")],
    }));
    let m = d.metrics(&Filter::default());
    let outage = m
        .most_common_topics
        .iter()
        .find(|t| t.topic == "outage")
        .unwrap();
    assert_eq!(outage.count, 3);
    assert_eq!(outage.percentage, 100.0);
    assert!(m.most_common_topics.iter().all(|t| t.percentage <= 100.0));
    let total: u64 = m.most_common_topics.iter().map(|t| t.count).sum();
    assert!(total > 3, "a conversation can carry several topics");
}

#[test]
fn csat_fcr_and_sentiment_follow_their_denominators() {
    let d = run(json!({
        "happy": [customer("10:00", "no power"), agent("10:02", "a", "Power has been restored"), customer("10:05", "It works, thank you!")],
        "angry": [customer("10:00", "no power"), agent("10:02", "a", "Complaint logged, ref number 123"), customer("15:00", "useless, still no power")],
        "greet": [customer("10:00", "Get started")],
    }));
    let m = d.metrics(&Filter::default());
    let c = &m.core;
    assert_eq!(c.n.csat, 3);
    assert!((c.csat_percentage - 100.0 / 3.0).abs() < 1e-9);
    // "greet" holds no issue: no FCR value.
    assert_eq!(c.n.fcr, 2);
    assert_eq!(c.fcr_percentage, 50.0);
    let satisfied = Filter {
        satisfied_only: true,
        ..Filter::default()
    };
    assert_eq!(d.metrics(&satisfied).core.total_conversations, 1);
    let json = serde_json::to_value(&m).unwrap();
    assert_eq!(json["definitions"], "v1");
    assert!(json["response_time"]["reply_gap"]["p90"].is_number());
}

#[test]
fn implausible_timestamps_are_bad_timestamps() {
    let d = run(json!({
        "ancient": [{"MESSAGE_CONTENT": "hi", "DIRECTION": "to_company", "SOCIAL_CREATE_TIME": "0001-01-01T00:00:00Z"}],
        "far": [{"MESSAGE_CONTENT": "hi", "DIRECTION": "to_company", "SOCIAL_CREATE_TIME": "9999-12-31T23:59:59Z"}],
        "ok": [{"MESSAGE_CONTENT": "no power", "DIRECTION": "to_company", "SOCIAL_CREATE_TIME": "2025-08-12T10:00:00Z"}],
        "edge": [{"MESSAGE_CONTENT": "no power", "DIRECTION": "to_company", "SOCIAL_CREATE_TIME": "2000-01-01T00:00:00Z"}],
    }));
    assert_eq!(d.report.filtered.bad_timestamp, 2);
    assert_eq!(d.conversations.len(), 2, "ok and edge are kept");
}

#[test]
fn per_day_series_stay_bounded_by_the_data() {
    let d = run(json!({
        "early": [{"MESSAGE_CONTENT": "no power", "DIRECTION": "to_company", "SOCIAL_CREATE_TIME": "2001-01-01T10:00:00Z"}],
        "late": [{"MESSAGE_CONTENT": "no power", "DIRECTION": "to_company", "SOCIAL_CREATE_TIME": "2099-12-31T10:00:00Z"}],
    }));
    let rows = powerpulse_shared::daily_metrics(d.summaries(), &Filter::default());
    assert_eq!(
        rows.len(),
        2,
        "a century apart: only the days with conversations"
    );
    let d = run(json!({
        "a": [{"MESSAGE_CONTENT": "no power", "DIRECTION": "to_company", "SOCIAL_CREATE_TIME": "2025-08-01T10:00:00Z"}],
        "b": [{"MESSAGE_CONTENT": "no power", "DIRECTION": "to_company", "SOCIAL_CREATE_TIME": "2025-08-31T10:00:00Z"}],
    }));
    let rows = powerpulse_shared::daily_metrics(d.summaries(), &Filter::default());
    assert_eq!(rows.len(), 31, "quiet days inside a short span are listed");
    assert_eq!(rows[15].core.total_conversations, 0);
}

#[test]
fn a_huge_message_is_judged_on_its_beginning_and_counted() {
    let huge = format!("no power here, but {}", "good ".repeat(80_000));
    let d = run(json!({
        "big": [customer("10:00", &huge), agent("10:05", "amina", "Kindly share your meter number.")],
        "small": [customer("10:00", "hatuna stima")],
    }));
    assert_eq!(d.report.truncated_messages, 1);
    let big = &d.conversations[0];
    assert_eq!(
        big.messages[0].text.len(),
        huge.trim().len(),
        "the message is kept whole"
    );
    assert!(big.summary.analysis.topics.contains(&"outage".to_owned()));
    assert_eq!(big.summary.analysis.first_contact_resolution, Some(false));
}

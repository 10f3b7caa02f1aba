//! The built-in analyzer against the rubric of spec section 5, one conversation per case.

use powerpulse_shared::{process, Analysis, Options};
use serde_json::{json, Value};

fn c(time: &str, text: &str) -> Value {
    json!({"MESSAGE_CONTENT": text, "DIRECTION": "to_company", "SOCIAL_CREATE_TIME": format!("2025-08-12T{time}:00.000Z")})
}
fn a(time: &str, text: &str) -> Value {
    json!({"MESSAGE_CONTENT": text, "DIRECTION": "to_client", "SOCIAL_CREATE_TIME": format!("2025-08-12T{time}:00.000Z"), "AGENT_USERNAME": "amina"})
}
fn analyse(messages: Vec<Value>) -> Analysis {
    let e = json!({ "chat": messages });
    let d = process(e.to_string().as_bytes(), &Options::default()).unwrap();
    d.conversations[0].summary.analysis.clone()
}

#[test]
fn five_thankful_and_solved() {
    let r = analyse(vec![
        c("10:00", "I paid for tokens but haven't received them"),
        a("10:05", "Your token is 1234 5678 9012 3456 7890"),
        c("10:07", "Imeingia, asante sana!"),
    ]);
    assert_eq!(r.satisfaction_score, Some(5));
    assert_eq!(r.first_contact_resolution, Some(true));
    assert!(r.topics.contains(&"tokens".to_owned()));
    assert!(r.satisfaction_confidence.unwrap() >= 0.8);
}

#[test]
fn four_silence_after_a_concrete_fix() {
    let r = analyse(vec![
        c("10:00", "Token haijaingia, nimelipa"),
        a("10:05", "Here is your token: 5521 0093 4412 8876 1204"),
    ]);
    assert_eq!(r.satisfaction_score, Some(4));
    assert_eq!(r.first_contact_resolution, Some(true));
}

#[test]
fn three_silence_after_a_routine_answer() {
    let r = analyse(vec![
        c("10:00", "How do I apply for a new connection?"),
        a(
            "10:05",
            "You can apply online through our portal or visit any of our offices.",
        ),
    ]);
    assert_eq!(r.satisfaction_score, Some(3));
    assert_eq!(
        r.first_contact_resolution,
        Some(true),
        "the question was answered"
    );
}

#[test]
fn three_and_no_fcr_for_greetings_only() {
    let r = analyse(vec![
        c("10:00", "Get Started"),
        c("10:00", "Hi"),
        a("10:10", "Hello, how may we help?"),
    ]);
    assert_eq!(r.satisfaction_score, Some(3));
    assert_eq!(r.first_contact_resolution, None);
}

#[test]
fn three_thanks_while_the_problem_is_not_solved() {
    let r = analyse(vec![
        c("10:00", "No power since morning"),
        a(
            "10:05",
            "Your complaint has been logged, reference number 4481992.",
        ),
        c("10:06", "Ok thanks"),
    ]);
    assert_eq!(r.satisfaction_score, Some(3));
    assert_eq!(
        r.first_contact_resolution,
        Some(false),
        "only a reference number, no fix"
    );
}

#[test]
fn two_still_not_working_and_chasing() {
    let r = analyse(vec![
        c("10:00", "No power in Umoja"),
        a(
            "10:05",
            "We have escalated this to the regional team, ref no 5520017.",
        ),
        c("14:00", "It is still not working"),
        c("15:00", "Any update?"),
    ]);
    assert_eq!(r.satisfaction_score, Some(2));
    assert_eq!(r.first_contact_resolution, Some(false));
}

#[test]
fn one_angry_or_insulting() {
    let r = analyse(vec![
        c("10:00", "Hakuna stima tangu jana"),
        a("10:05", "Ticket 7719023 has been raised."),
        c("13:00", "This is useless, you people are thieves!"),
    ]);
    assert_eq!(r.satisfaction_score, Some(1));
    assert_eq!(r.first_contact_resolution, Some(false));
}

#[test]
fn coming_back_a_day_later_is_not_fcr_even_if_solved_then() {
    let r = analyse(vec![
        c("10:00", "No power"),
        a("10:05", "Power has been restored in your area."),
        json!({"MESSAGE_CONTENT": "Off again today", "DIRECTION": "to_company", "SOCIAL_CREATE_TIME": "2025-08-14T09:00:00.000Z"}),
        json!({"MESSAGE_CONTENT": "Restored now", "DIRECTION": "to_client", "SOCIAL_CREATE_TIME": "2025-08-14T09:30:00.000Z", "AGENT_USERNAME": "brian"}),
        json!({"MESSAGE_CONTENT": "Thanks, it works", "DIRECTION": "to_company", "SOCIAL_CREATE_TIME": "2025-08-14T09:40:00.000Z"}),
    ]);
    assert_eq!(r.first_contact_resolution, Some(false));
    assert_eq!(
        r.satisfaction_score,
        Some(5),
        "satisfaction is judged at the end"
    );
}

#[test]
fn unanswered_issue_is_not_resolved() {
    let r = analyse(vec![c(
        "10:00",
        "There is a fallen pole with live wire near the school!",
    )]);
    assert_eq!(r.first_contact_resolution, Some(false));
    assert!(r.topics.contains(&"safety".to_owned()));
    assert!(r.satisfaction_score.unwrap() <= 3);
}

#[test]
fn avg_sentiment_is_the_mean_of_scored_customer_messages() {
    let e = json!({"chat": [c("10:00", "great service"), c("10:01", "meter 1234"), a("10:02", "terrible")]});
    let d = process(e.to_string().as_bytes(), &Options::default()).unwrap();
    let conv = &d.conversations[0];
    assert_eq!(conv.messages[1].sentiment, None);
    assert_eq!(
        conv.messages[2].sentiment, None,
        "agent messages are not scored"
    );
    assert_eq!(
        conv.summary.analysis.avg_sentiment,
        conv.messages[0].sentiment
    );
    assert_eq!(conv.summary.analysis.analyzer, "builtin");
}

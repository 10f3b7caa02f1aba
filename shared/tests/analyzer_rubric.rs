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
fn three_when_a_question_is_only_referred_elsewhere() {
    let r = analyse(vec![
        c(
            "10:00",
            "How do I get a summary of my bills for the last 3 months?",
        ),
        a(
            "10:05",
            "Kindly send an e-mail to our customer care address with your account number.",
        ),
    ]);
    // The labelled real set: telling where to go answers a question (FCR), but silence after
    // such a routine answer is no signal of satisfaction.
    assert_eq!(r.satisfaction_score, Some(3));
    assert_eq!(r.first_contact_resolution, Some(true));
}

#[test]
fn a_referral_does_not_resolve_a_failure() {
    let r = analyse(vec![
        c("10:00", "My meter is not working since morning"),
        a("10:05", "Kindly visit the nearest office for assistance."),
    ]);
    assert_eq!(r.first_contact_resolution, Some(false));
}

#[test]
fn four_when_a_question_is_answered() {
    let r = analyse(vec![
        c("10:00", "How do I apply for a new connection?"),
        a(
            "10:05",
            "Fill in the application form at any office and bring the following documents: your ID and KRA PIN.",
        ),
    ]);
    assert_eq!(r.satisfaction_score, Some(4));
    assert_eq!(r.first_contact_resolution, Some(true));
}

#[test]
fn logged_only_answers_are_not_resolutions() {
    for answer in [
        "Your complaint has been logged under reference number 45405271 and forwarded to our technical team.",
        "Kindly share your meter number so we can assist you further.",
        "We are following up with our technical team, kindly bear with us.",
    ] {
        let r = analyse(vec![c("10:00", "Hatuna stima since morning"), a("10:05", answer)]);
        assert_eq!(r.first_contact_resolution, Some(false), "{answer}");
        assert_eq!(r.satisfaction_score, Some(3), "{answer}");
        assert!(r.topics.contains(&"outage".to_owned()), "{answer}");
    }
}

#[test]
fn days_in_the_dark_unsolved_is_one_even_when_calm() {
    let r = analyse(vec![
        c("10:00", "Blackout for the past 3 days"),
        a(
            "10:09",
            "Hello, please provide your account number and location.",
        ),
    ]);
    assert_eq!(r.satisfaction_score, Some(1));
    assert_eq!(r.first_contact_resolution, Some(false));
}

#[test]
fn coming_back_the_next_morning_is_not_first_contact() {
    let e = json!({ "chat": [
        c("10:00", "Nimelipa token na sijapata"),
        a("10:05", "Kindly receive your token: 1668 1610 2476 9594 3313"),
        json!({"MESSAGE_CONTENT": "Paid again today and no token", "DIRECTION": "to_company", "SOCIAL_CREATE_TIME": "2025-08-13T08:00:00.000Z"}),
        json!({"MESSAGE_CONTENT": "Kindly share your meter number.", "DIRECTION": "to_client", "SOCIAL_CREATE_TIME": "2025-08-13T08:10:00.000Z", "AGENT_USERNAME": "amina"}),
    ]});
    let d = process(e.to_string().as_bytes(), &Options::default()).unwrap();
    let r = &d.conversations[0].summary.analysis;
    assert_eq!(r.first_contact_resolution, Some(false));
    assert_eq!(
        r.satisfaction_score,
        Some(1),
        "came back reporting the failure again"
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

#[test]
fn three_after_a_logged_complaint_whatever_the_problem_sounded_like() {
    // The problem was described in strong words, then logged: silence after the answer is no
    // clear signal; the description is not the closing mood.
    let r = analyse(vec![
        c(
            "10:00",
            "No electricity in our area since 6pm. What is happening?",
        ),
        a(
            "10:05",
            "Ticket 7719023 has been raised. Technicians will be dispatched.",
        ),
    ]);
    assert_eq!(r.satisfaction_score, Some(3));
    assert_eq!(r.first_contact_resolution, Some(false), "only logged");
}

#[test]
fn one_for_repeated_failures_while_unsolved_and_two_for_chasing() {
    let repeated = analyse(vec![
        c("10:00", "Hakuna stima tena, ni mara ya tatu wiki hii"),
        a(
            "10:05",
            "Your complaint has been logged, reference number 4481992.",
        ),
    ]);
    assert_eq!(repeated.satisfaction_score, Some(1));
    let chased = analyse(vec![
        c("10:00", "I bought tokens but have not received the token"),
        c("10:20", "Hello??"),
        a(
            "10:30",
            "We have forwarded the transaction to our vending team, ref number 8812201.",
        ),
    ]);
    assert_eq!(chased.satisfaction_score, Some(2));
}

#[test]
fn a_quick_burst_is_not_chasing_but_a_long_wait_is() {
    let burst = analyse(vec![
        c("10:00", "Hi"),
        c("10:01", "My meter shows an error"),
        c("10:02", "Meter number 37145982216"),
        a(
            "10:10",
            "Your complaint has been logged, reference number 4481992.",
        ),
    ]);
    assert_eq!(burst.satisfaction_score, Some(3));
    let waited = analyse(vec![
        c("10:00", "Hi"),
        c("10:01", "My meter shows an error"),
        c("10:50", "Meter number 37145982216"),
        a(
            "11:00",
            "Your complaint has been logged, reference number 4481992.",
        ),
    ]);
    assert_eq!(
        waited.satisfaction_score,
        Some(2),
        "kept waiting 50 minutes"
    );
}

#[test]
fn thanks_after_an_answer_leaves_it_answered_but_a_bare_no_does_not() {
    let thanked = analyse(vec![
        c("10:00", "How do I apply for a new connection?"),
        a("10:05", "Apply on the portal with your ID and KRA PIN."),
        c("10:07", "Great, thank you for the quick help"),
    ]);
    assert_eq!(thanked.satisfaction_score, Some(5));
    assert_eq!(thanked.first_contact_resolution, Some(true));
    let no = analyse(vec![
        c("10:00", "My meter is rejecting the token"),
        a("10:05", "Kindly try loading it again. Is it working now?"),
        c("10:07", "No"),
    ]);
    assert_eq!(
        no.first_contact_resolution,
        Some(false),
        "the answer did not settle it"
    );
    assert!(no.satisfaction_score.unwrap() <= 3);
}

#[test]
fn past_tense_fixes_count_and_promises_do_not() {
    let fixed = analyse(vec![
        c("10:00", "My bill is wrong"),
        a(
            "10:05",
            "We have reviewed it and the bill has been corrected to 2,150.",
        ),
    ]);
    assert_eq!(fixed.satisfaction_score, Some(4));
    assert_eq!(fixed.first_contact_resolution, Some(true));
    let promised = analyse(vec![
        c("10:00", "The meter at my house needs a check"),
        a("10:05", "The meter will be replaced next week."),
    ]);
    assert_eq!(
        promised.satisfaction_score,
        Some(3),
        "a promise is not a fix"
    );
}

//! Reviews over real HTTP on SQLite and PostgreSQL, on real labelled conversations
//! (`eval/kenya-a.json`): a review stands in for the analyzer in the figures, the list and the
//! CSV, outlives re-uploads, goes away cleanly; bad reviews change nothing; imported labels
//! give the agreement `powerpulse evaluate` prints, and the exported reviews give it back.

use powerpulse_e2e::api::{cli_evaluate, client, get_json, upload, without_last_updated, Backend};
use powerpulse_e2e::in_process::InProcess;
use powerpulse_e2e::{on_both_backends, TempDir};
use powerpulse_shared::evaluate::Label;
use powerpulse_shared::{Dataset, Filter, Summary};
use serde_json::{json, Value};

fn real_export() -> Vec<u8> {
    std::fs::read(powerpulse_e2e::workspace().join("eval/kenya-a.json")).unwrap()
}

fn real_labels() -> Vec<u8> {
    std::fs::read(powerpulse_e2e::workspace().join("eval/kenya-a.labels.json")).unwrap()
}

fn process(bytes: &[u8]) -> Dataset {
    powerpulse_shared::process(bytes, &Default::default()).unwrap()
}

/// A request with a JSON body; returns the status and the parsed answer.
async fn send(method: reqwest::Method, url: &str, body: Option<Vec<u8>>) -> (u16, Value) {
    let mut r = client().request(method, url);
    if let Some(b) = body {
        r = r.header("content-type", "application/json").body(b);
    }
    let r = r.send().await.expect("request");
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{url}: not JSON ({e}): {text}")),
    )
}

async fn put_review(base: &str, chat: &str, review: &Value) -> (u16, Value) {
    let url = format!("{base}/api/conversations/{chat}/review");
    send(
        reqwest::Method::PUT,
        &url,
        Some(review.to_string().into_bytes()),
    )
    .await
}

/// The server's dataset metrics, and the shared crate's over `d` with `reviews` in place.
async fn metrics_pair(base: &str, d: &Dataset, reviews: &[(&str, Label)]) -> (Value, Value) {
    let mut d = d.clone();
    for (id, l) in reviews {
        let c = d
            .conversations
            .iter_mut()
            .find(|c| c.summary.chat_id == *id)
            .unwrap();
        c.summary.set_review(Some(l.clone()));
    }
    let want = serde_json::to_value(d.metrics(&Filter::default())).unwrap();
    let got = get_json(&format!("{base}/api/metrics"), 200).await;
    // The server adds up what each upload's cleaning dropped; the shared crate sees one file.
    let figures = |v: Value| {
        let mut v = without_last_updated(v);
        v.as_object_mut().unwrap().remove("filtered");
        v
    };
    (figures(got), figures(want))
}

fn close_enough(a: &Value, b: &Value, figure: &str, part: &str) {
    let (Some(x), Some(y)) = (a.as_f64(), b.as_f64()) else {
        panic!("{figure} {part}: API {a}, CLI {b}");
    };
    assert!((x - y).abs() < 1e-9, "{figure} {part}: API {x}, CLI {y}");
}

fn label(v: &Value) -> Label {
    serde_json::from_value(v.clone()).unwrap()
}

/// The export with one chat's last message reworded (its content changes).
fn reworded(bytes: &[u8], chat: &str) -> Vec<u8> {
    let mut chats: serde_json::Map<String, Value> = serde_json::from_slice(bytes).unwrap();
    let last = chats[chat].as_array_mut().unwrap().last_mut().unwrap();
    last["MESSAGE_CONTENT"] = Value::from("Thank you, the token worked and power is back");
    // A message of its own, not a copy of the one it rewords.
    last["UNIQUE_POST_ID"] = Value::from("m-reworded");
    serde_json::to_vec(&chats).unwrap()
}

async fn a_review_stands_in_everywhere_and_outlives_reuploads(b: Backend<'_>) {
    let s = InProcess::start(b.options("review_stands_in")).await;
    let bytes = real_export();
    assert_eq!(upload(&s.url, bytes.clone(), None).await.status(), 200);
    let d = process(&bytes);
    let unhappy: &Summary = d
        .conversations
        .iter()
        .map(|c| &c.summary)
        .find(|s| {
            s.analysis.satisfaction_score.is_some_and(|v| v <= 2)
                && s.analysis.first_contact_resolution == Some(false)
                && !s.analysis.topics.contains(&"billing".to_owned())
        })
        .expect("an unhappy, unresolved conversation");
    let chat = unhappy.chat_id.as_str();
    let review = json!({"satisfaction": 5, "fcr": true, "topics": ["Billing"], "note": "paid; token delivered", "sampled": true});
    let (status, item) = put_review(&s.url, chat, &review).await;
    assert_eq!(status, 200, "{item}");
    assert_eq!(item["analyzer"], "review");
    assert_eq!(item["reviewed"], true);
    assert_eq!(item["satisfaction_score"], 5);
    assert_eq!(item["first_contact_resolution"], true);
    assert_eq!(item["topics"], json!(["billing"]));
    assert_eq!(item["review_note"], "paid; token delivered");
    let judged = &item["analyzer_judgement"];
    assert_eq!(judged["analyzer"], "builtin");
    assert_eq!(
        judged["satisfaction_score"].as_u64(),
        unhappy.analysis.satisfaction_score.map(u64::from)
    );
    assert_eq!(judged["topics"], json!(unhappy.analysis.topics));
    let mut stored = label(&review);
    stored.topics = vec!["billing".into()];

    // Every figure counts the review: equal to the shared crate's with it in place.
    let (got, want) = metrics_pair(&s.url, &d, &[(chat, stored.clone())]).await;
    assert_eq!(got, want);
    assert_eq!(got["analysis"]["by_analyzer"]["review"], 1, "{got}");
    let unreviewed = serde_json::to_value(d.metrics(&Filter::default())).unwrap();
    for figure in ["csat_percentage", "fcr_percentage"] {
        let (now, was) = (got[figure].as_f64(), unreviewed[figure].as_f64());
        assert!(
            now.is_some() && now > was,
            "the review lifts {figure}: {now:?} {was:?}"
        );
    }
    let listed = get_json(
        &format!("{}/api/conversations?topic=billing&page_size=100", s.url),
        200,
    )
    .await;
    assert!(listed["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["fb_chat_id"] == chat));
    let csv = client()
        .get(format!("{}/api/download?export_type=conversations", s.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut rows = csv::Reader::from_reader(csv.as_bytes());
    let headers = rows.headers().unwrap().clone();
    let at = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let row = rows
        .records()
        .map(Result::unwrap)
        .find(|r| &r[0] == chat)
        .unwrap();
    assert_eq!(&row[at("reviewed")], "true");
    assert_eq!(&row[at("analyzer")], "review");
    assert_eq!(&row[at("satisfaction_score")], "5");
    assert_eq!(
        row[at("analyzer_satisfaction_score")].parse::<u8>().ok(),
        unhappy.analysis.satisfaction_score
    );
    assert_eq!(&row[at("review_note")], "paid; token delivered");

    // A forced re-upload of the same export, then one that changes the chat: the review stays.
    assert_eq!(
        upload(&s.url, bytes.clone(), Some("true")).await.status(),
        200
    );
    let (got, want) = metrics_pair(&s.url, &d, &[(chat, stored.clone())]).await;
    assert_eq!(got, want, "after a forced re-upload");
    let changed = reworded(&bytes, chat);
    assert_eq!(upload(&s.url, changed.clone(), None).await.status(), 200);
    // The chat's new messages join its stored ones, as when both files are read together.
    let d2 = powerpulse_shared::process_merged(&[&bytes, &changed], &Default::default()).unwrap();
    let (got, want) = metrics_pair(&s.url, &d2, &[(chat, stored.clone())]).await;
    assert_eq!(got, want, "after the chat's content changed");
    let one = get_json(&format!("{}/api/conversations/{chat}", s.url), 200).await;
    assert_eq!(one["reviewed"], true);
    let reviews = get_json(&format!("{}/api/reviews", s.url), 200).await;
    assert_eq!(label(&reviews[chat]), stored);

    // Taken away: the analyzer's judgement counts again.
    let url = format!("{}/api/conversations/{chat}/review", s.url);
    let (status, item) = send(reqwest::Method::DELETE, &url, None).await;
    assert_eq!(status, 200, "{item}");
    assert_eq!(item["analyzer"], "builtin");
    assert_eq!(item["reviewed"], false);
    let (got, want) = metrics_pair(&s.url, &d2, &[]).await;
    assert_eq!(got, want, "after the review is removed");
    assert_eq!(
        get_json(&format!("{}/api/reviews", s.url), 200).await,
        json!({})
    );
}

async fn bad_reviews_are_refused_and_change_nothing(b: Backend<'_>) {
    let s = InProcess::start(b.options("bad_reviews")).await;
    let bytes = real_export();
    assert_eq!(upload(&s.url, bytes.clone(), None).await.status(), 200);
    let d = process(&bytes);
    let chat = d.conversations[0].summary.chat_id.clone();
    let before = get_json(&format!("{}/api/metrics", s.url), 200).await;
    let reviews_url = format!("{}/api/reviews", s.url);
    let unchanged = || async {
        assert_eq!(get_json(&reviews_url, 200).await, json!({}));
        assert_eq!(
            get_json(&format!("{}/api/metrics", s.url), 200).await,
            before
        );
    };
    let cases = [
        (
            json!({"satisfaction": 7, "fcr": true, "topics": []}),
            400,
            "satisfaction 7 is not in 1..5",
        ),
        (
            json!({"satisfaction": 3, "fcr": null, "topics": ["weather"]}),
            400,
            "topic \"weather\" is not in the taxonomy",
        ),
        (json!({"fcr": true}), 400, "missing field `satisfaction`"),
        (
            json!({"satisfaction": 3, "topics": ["outage", "outage"]}),
            400,
            "each once",
        ),
    ];
    for (body, status, says) in cases {
        let (got, e) = put_review(&s.url, &chat, &body).await;
        assert_eq!(got, status, "{body}: {e}");
        assert_eq!(e["code"], "invalid_review");
        let detail = e["detail"].as_str().unwrap();
        assert!(detail.contains(says) && detail.contains(&chat), "{detail}");
    }
    let url = format!("{}/api/conversations/{chat}/review", s.url);
    let (got, e) = send(reqwest::Method::PUT, &url, Some(b"{not json".to_vec())).await;
    assert_eq!((got, e["code"].as_str()), (400, Some("invalid_review")));
    let (got, e) = put_review(&s.url, "no-such-chat", &json!({"satisfaction": 4})).await;
    assert_eq!(got, 404);
    assert!(
        e["detail"].as_str().unwrap().contains("no-such-chat"),
        "{e}"
    );
    let url = format!("{}/api/conversations/no-such-chat/review", s.url);
    assert_eq!(send(reqwest::Method::DELETE, &url, None).await.0, 404);
    unchanged().await;

    // An import is all or nothing: one bad review, or one unknown chat, and nothing is written.
    let good = |id: &str| {
        (
            id.to_owned(),
            json!({"satisfaction": 4, "fcr": true, "topics": ["tokens"]}),
        )
    };
    let ids: Vec<String> = d.conversations[..3]
        .iter()
        .map(|c| c.summary.chat_id.clone())
        .collect();
    let mut file: serde_json::Map<String, Value> = ids.iter().map(|id| good(id)).collect();
    file.insert(ids[2].clone(), json!({"satisfaction": 0, "topics": []}));
    let (got, e) = send(
        reqwest::Method::POST,
        &reviews_url,
        Some(Value::Object(file.clone()).to_string().into_bytes()),
    )
    .await;
    assert_eq!(got, 400, "{e}");
    assert!(e["detail"].as_str().unwrap().contains(&ids[2]), "{e}");
    unchanged().await;
    file.insert(ids[2].clone(), good(&ids[2]).1);
    file.insert("no-such-chat".into(), good("x").1);
    let body = Value::Object(file).to_string().into_bytes();
    let (got, e) = send(reqwest::Method::POST, &reviews_url, Some(body.clone())).await;
    assert_eq!(got, 404, "{e}");
    assert!(
        e["detail"].as_str().unwrap().contains("no-such-chat"),
        "{e}"
    );
    unchanged().await;
    let (got, done) = send(
        reqwest::Method::POST,
        &format!("{reviews_url}?skip_unknown=true"),
        Some(body),
    )
    .await;
    assert_eq!(got, 200, "{done}");
    assert_eq!(
        done,
        json!({"imported": 3, "unchanged": 0, "skipped_unknown": ["no-such-chat"]})
    );
    let stored = get_json(&reviews_url, 200).await;
    assert_eq!(stored.as_object().unwrap().len(), 3);
}

async fn imported_labels_give_the_clis_agreement_and_export_back(b: Backend<'_>) {
    let s = InProcess::start(b.options("review_evaluation")).await;
    let bytes = real_export();
    assert_eq!(upload(&s.url, bytes.clone(), None).await.status(), 200);
    let eval_url = format!("{}/api/evaluation", s.url);
    let none = get_json(&eval_url, 200).await;
    assert_eq!(
        (none["reviews"].as_u64(), none["enough"].as_bool()),
        (Some(0), Some(false))
    );
    assert!(none["csat"].is_null() && none["satisfaction_kappa"].is_null());

    let dir = TempDir::new("reviews");
    let (export, labels) = (dir.join("kenya-a.json"), dir.join("labels.json"));
    std::fs::write(&export, &bytes).unwrap();
    std::fs::write(&labels, real_labels()).unwrap();
    let n = serde_json::from_slice::<serde_json::Map<String, Value>>(&real_labels())
        .unwrap()
        .len();
    let (status, done) = send(
        reqwest::Method::POST,
        &format!("{}/api/reviews", s.url),
        Some(real_labels()),
    )
    .await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["imported"].as_u64(), Some(n as u64));

    let cli_json = |labels: &std::path::Path| cli_evaluate(&export, labels);
    let cli_eval = |labels: &std::path::Path| cli_json(labels)["overall"].clone();
    let want = cli_eval(&labels);
    let got = get_json(&eval_url, 200).await;
    // The CLI corrects the figures as the API does: the same function, the same numbers.
    let cli_corrected = cli_json(&labels)["corrected"].clone();
    for figure in ["csat", "fcr"] {
        for part in ["value", "low", "high", "apparent"] {
            close_enough(
                &got[figure][part],
                &cli_corrected[figure][part],
                figure,
                part,
            );
        }
    }
    assert_eq!(got["sampled"].as_u64(), Some(n as u64));
    assert_eq!(got["enough"], true);
    let close = |a: &Value, b: &Value, what: &str| {
        let (Some(a), Some(b)) = (a.as_f64(), b.as_f64()) else {
            panic!("{what}: API {a}, CLI {b}");
        };
        assert!((a - b).abs() < 1e-9, "{what}: API {a}, CLI {b}");
    };
    close(
        &got["satisfaction_kappa"],
        &want["satisfaction"]["kappa"],
        "kappa",
    );
    close(
        &got["satisfaction_exact"],
        &want["satisfaction"]["exact"],
        "exact",
    );
    close(
        &got["fcr_balanced_accuracy"],
        &want["fcr"]["balanced_accuracy"],
        "FCR balanced accuracy",
    );
    close(&got["topic_hit"], &want["topic_hit"], "topic hit");
    let csat = &got["csat"];
    close(
        &csat["apparent"],
        &want["csat"]["predicted"],
        "the analyzer's CSAT",
    );
    let (low, value, high) = (
        csat["low"].as_f64().unwrap(),
        csat["value"].as_f64().unwrap(),
        csat["high"].as_f64().unwrap(),
    );
    assert!(low <= value && value <= high && high - low < 30.0, "{csat}");
    assert!(got["fcr"]["value"].is_number(), "{got}");
    // Every conversation is reviewed: the dataset's CSAT is the labels'.
    let m = get_json(&format!("{}/api/metrics", s.url), 200).await;
    let (shown, labelled) = (
        m["csat_percentage"].as_f64().unwrap(),
        want["csat"]["labelled"].as_f64().unwrap(),
    );
    assert!(
        (shown - labelled).abs() <= 0.005,
        "CSAT (shown to 2 places): {shown} {labelled}"
    );

    // The reviews exported in the labels format give `powerpulse evaluate` the same figures.
    let exported = dir.join("exported.json");
    let reviews = get_json(&format!("{}/api/reviews", s.url), 200).await;
    std::fs::write(&exported, reviews.to_string()).unwrap();
    let again = cli_eval(&exported);
    close(
        &again["satisfaction"]["kappa"],
        &got["satisfaction_kappa"],
        "kappa from the exported reviews",
    );
    close(
        &again["fcr"]["balanced_accuracy"],
        &got["fcr_balanced_accuracy"],
        "FCR from the exported reviews",
    );
    // A filter narrows the reviews counted.
    let outage = get_json(&format!("{eval_url}?topic=outage"), 200).await;
    let outage_reviews = outage["reviews"].as_u64().unwrap();
    assert!(outage_reviews > 0 && outage_reviews < n as u64, "{outage}");
}

on_both_backends!(
    a_review_stands_in_everywhere_and_outlives_reuploads,
    bad_reviews_are_refused_and_change_nothing,
    imported_labels_give_the_clis_agreement_and_export_back,
);

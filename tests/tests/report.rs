//! The report over real HTTP on SQLite and PostgreSQL, on the real conversations of
//! `eval/`: `GET /api/report` gives what `powerpulse report` gives for the same exports and
//! parameters; the HTML page holds no message text; bad parameters are a 422 naming them.

use powerpulse_e2e::api::{cli, client, get_json, upload, Backend};
use powerpulse_e2e::in_process::InProcess;
use powerpulse_e2e::on_both_backends;
use powerpulse_shared::evidence::{evidence, Evidence};
use powerpulse_shared::service::Target;
use serde_json::Value;

fn export(name: &str) -> std::path::PathBuf {
    powerpulse_e2e::workspace().join("eval").join(name)
}

/// The parameters as the query string and as the CLI's flags.
const PARAMS: [(&str, &str); 7] = [
    ("tz", "Africa/Nairobi"),
    ("business_hours", "Mon-Fri 08:00-17:00, Sat 09:00-13:00"),
    ("holidays", "2025-08-11"),
    ("period", "day"),
    ("compare", "2025-08-12"),
    ("first_response_target", "20"),
    ("identifiers", "true"),
];

fn query() -> String {
    PARAMS
        .iter()
        .map(|(k, v)| format!("{k}={}", urlencode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn urlencode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn cli_report(files: &[&str], extra: &[&str]) -> Vec<u8> {
    let paths: Vec<String> = files
        .iter()
        .map(|f| export(f).to_str().unwrap().to_owned())
        .collect();
    let mut args: Vec<String> = vec!["report".into()];
    args.extend(paths);
    for (k, v) in PARAMS {
        if k == "identifiers" {
            args.push("--identifiers".into());
        } else {
            args.push(format!("--{}", k.replace('_', "-")));
            args.push(v.into());
        }
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    cli(&refs)
}

/// The text of a 200 answer of type `mime`.
async fn download(url: &str, mime: &str) -> String {
    let r = client().get(url).send().await.unwrap();
    assert_eq!(r.status(), 200, "{url}");
    assert_eq!(r.headers()["content-type"].to_str().unwrap(), mime);
    r.text().await.unwrap()
}

fn without_last_updated(mut v: Value) -> Value {
    v["metrics"].as_object_mut().unwrap().remove("last_updated");
    v
}

async fn the_api_gives_the_clis_report(b: Backend<'_>) {
    let s = InProcess::start(b.options("report_equal")).await;
    for f in ["kenya-a.json", "kenya-b.json"] {
        let r = upload(&s.url, std::fs::read(export(f)).unwrap(), None).await;
        assert_eq!(r.status(), 200);
    }
    let got = get_json(&format!("{}/api/report?{}", s.url, query()), 200).await;
    let want: Value =
        serde_json::from_slice(&cli_report(&["kenya-a.json", "kenya-b.json"], &["--json"]))
            .unwrap();
    assert_eq!(
        without_last_updated(got.clone()),
        without_last_updated(want)
    );
    // What the parameters ask for is what the report says.
    assert_eq!(
        got["schedule"],
        "Mon-Fri 08:00-17:00, Sat 09:00-13:00 (Africa/Nairobi); holidays 2025-08-11"
    );
    assert_eq!(got["targets"]["first_response_minutes"], 20.0);
    assert_eq!(got["comparison"]["current"], "2025-08-12");
    assert_eq!(got["comparison"]["previous"], "2025-08-11");
    assert_eq!(got["metrics"]["total_conversations"], 280);
    let calendar = &got["service"]["calendar"]["first_response"];
    let business = &got["service"]["business"]["first_response"];
    assert_eq!(calendar, &got["metrics"]["response_time"]["first_response"]);
    assert!(
        business["mean"].as_f64() < calendar["mean"].as_f64(),
        "the clock stops at night: {business} {calendar}"
    );
    assert!(got["breaches"].as_u64() > Some(0));
    assert!(!got["breach_list"].as_array().unwrap().is_empty());

    // A change of schedule changes the business figures, not the calendar ones.
    let open = get_json(
        &format!(
            "{}/api/report?tz=Africa/Nairobi&business_hours=Mon-Sun%2000:00-24:00",
            s.url
        ),
        200,
    )
    .await;
    assert_eq!(
        open["service"]["business"]["first_response"],
        open["service"]["calendar"]["first_response"]
    );
    assert_eq!(open["service"]["calendar"]["first_response"], *calendar);
}

async fn the_page_is_self_contained_and_holds_no_message_text(b: Backend<'_>) {
    let s = InProcess::start(b.options("report_page")).await;
    let bytes = std::fs::read(export("kenya-a.json")).unwrap();
    assert_eq!(upload(&s.url, bytes.clone(), None).await.status(), 200);
    let page = download(
        &format!(
            "{}/api/report?format=html&tz=Africa/Nairobi&business_hours=Mon-Fri%2008:00-17:00",
            s.url
        ),
        "text/html; charset=utf-8",
    )
    .await;
    assert_eq!(
        page.as_bytes(),
        cli(&[
            "report",
            export("kenya-a.json").to_str().unwrap(),
            "--tz",
            "Africa/Nairobi",
            "--business-hours",
            "Mon-Fri 08:00-17:00"
        ])
        .as_slice(),
        "the API's page is the CLI's"
    );
    assert!(page.contains("Mon-Fri 08:00-17:00 (Africa/Nairobi)"));
    for gone in ["<script", "src=", "href=", "@import", "url("] {
        assert!(!page.contains(gone), "the page loads nothing: {gone}");
    }
    // No message text, no chat id, no agent: every text of the export is checked.
    let chats: serde_json::Map<String, Value> = serde_json::from_slice(&bytes).unwrap();
    let mut checked = 0;
    for (chat, messages) in &chats {
        assert!(!page.contains(&format!(">{chat}<")), "chat {chat} named");
        for m in messages.as_array().unwrap() {
            for field in ["MESSAGE_CONTENT", "AGENT_USERNAME", "AGENT_EMAIL"] {
                let Some(text) = m[field].as_str() else {
                    continue;
                };
                let text = powerpulse_shared::report_html::escape(text.trim());
                if text.len() >= 12 {
                    assert!(
                        !page.contains(&text),
                        "{field} of {chat} in the page: {text}"
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 500, "{checked} texts checked");
}

async fn evidence_lists_exactly_what_a_figure_counts(b: Backend<'_>) {
    let s = InProcess::start(b.options("evidence")).await;
    let bytes = std::fs::read(export("kenya-a.json")).unwrap();
    assert_eq!(upload(&s.url, bytes.clone(), None).await.status(), 200);
    let d = powerpulse_shared::process(&bytes, &Default::default()).unwrap();
    let filter = powerpulse_shared::Filter {
        tz: powerpulse_shared::time::Tz::from_name("Africa/Nairobi").unwrap(),
        ..Default::default()
    };
    let params = powerpulse_shared::report::ReportParams {
        business_hours: Some("Mon-Fri 08:00-17:00".into()),
        ..Default::default()
    };
    let opts = params.to_options(filter.tz).unwrap();
    let m = d.metrics(&filter);
    for (query, what) in [
        ("kind=not_resolved", Evidence::NotResolved),
        ("kind=unsatisfied", Evidence::Unsatisfied),
        (
            "kind=day&date=2025-08-12",
            Evidence::Day {
                date: "2025-08-12".parse().unwrap(),
            },
        ),
        (
            "kind=gap_bucket&bucket=3",
            Evidence::GapBucket { bucket: 3 },
        ),
        (
            "kind=topic&topic=outage",
            Evidence::Topic {
                topic: "outage".into(),
            },
        ),
        (
            "kind=breaches&target=first_response",
            Evidence::Breaches {
                target: Target::FirstResponse,
            },
        ),
    ] {
        let got = get_json(
            &format!(
                "{}/api/evidence?{query}&tz=Africa/Nairobi&business_hours=Mon-Fri%2008:00-17:00",
                s.url
            ),
            200,
        )
        .await;
        let want = evidence(d.summaries(), &filter, &what, &opts);
        assert!(want.total > 0, "{query}");
        assert_eq!(got, serde_json::to_value(&want).unwrap(), "{query}");
        // The list is the figure's: as many as the KPI counts.
        let counted = match what {
            Evidence::NotResolved => Some(
                m.core.n.fcr - (m.core.fcr_percentage * m.core.n.fcr as f64 / 100.0).round() as u64,
            ),
            Evidence::Unsatisfied => Some(
                m.core.n.csat
                    - (m.core.csat_percentage * m.core.n.csat as f64 / 100.0).round() as u64,
            ),
            _ => None,
        };
        if let Some(n) = counted {
            assert_eq!(want.total, n, "{query}");
        }
    }
    let r = client()
        .get(format!("{}/api/evidence?kind=gap_bucket", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("needs bucket"));
}

async fn the_csv_gives_each_period_with_its_schedule(b: Backend<'_>) {
    let s = InProcess::start(b.options("report_csv")).await;
    for f in ["kenya-a.json", "kenya-b.json"] {
        assert_eq!(
            upload(&s.url, std::fs::read(export(f)).unwrap(), None)
                .await
                .status(),
            200
        );
    }
    let csv = download(
        &format!("{}/api/report?format=csv&{}", s.url, query()),
        "text/csv; charset=utf-8",
    )
    .await;
    assert_eq!(
        csv.as_bytes(),
        cli_report(&["kenya-a.json", "kenya-b.json"], &["--csv"]).as_slice(),
        "the API's CSV is the CLI's"
    );
    let report = get_json(&format!("{}/api/report?{}", s.url, query()), 200).await;
    let periods = report["periods"].as_array().unwrap();
    let mut rows = csv::Reader::from_reader(csv.as_bytes());
    let header = rows.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = rows.records().map(Result::unwrap).collect();
    assert_eq!(
        rows.len(),
        periods.len() + 1,
        "one row per period, then all"
    );
    for (row, p) in rows.iter().zip(periods) {
        assert_eq!(row[col("period")], *p["period"].as_str().unwrap());
        assert_eq!(row[col("grouping")], *"day");
        assert_eq!(
            row[col("business_hours")],
            *"Mon-Fri 08:00-17:00, Sat 09:00-13:00 (Africa/Nairobi); holidays 2025-08-11"
        );
        assert_eq!(row[col("target_clock")], *"business");
        assert_eq!(row[col("first_response_target_minutes")], *"20");
        assert_eq!(
            row[col("conversations")],
            p["core"]["total_conversations"].to_string()
        );
    }
    let all = rows.last().unwrap();
    assert_eq!(all[col("period")], *"all");
    assert_eq!(all[col("conversations")], *"280");
}

async fn bad_parameters_are_named(b: Backend<'_>) {
    let s = InProcess::start(b.options("report_bad")).await;
    for (q, says) in [
        (
            "business_hours=Mon-Fry%2008:00-17:00",
            "\\\"Fry\\\" is not a day",
        ),
        ("holidays=2025-02-30", "holiday"),
        ("period=year", "unknown period"),
        ("period=week&compare=2025-W60", "is not a week"),
        ("first_response_target=-5", "first response target"),
        ("format=pdf", "format"),
        ("target_clock=wall", "target clock"),
    ] {
        let r = client()
            .get(format!("{}/api/report?{q}", s.url))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422, "{q}");
        let body = r.text().await.unwrap();
        assert!(body.contains(says), "{q}: {body}");
    }
}

on_both_backends!(
    the_api_gives_the_clis_report,
    the_page_is_self_contained_and_holds_no_message_text,
    the_csv_gives_each_period_with_its_schedule,
    evidence_lists_exactly_what_a_figure_counts,
    bad_parameters_are_named,
);

//! The REST API over real HTTP, on SQLite and on a real PostgreSQL (a throwaway cluster started
//! here; skipped loudly only where PostgreSQL cannot be installed). Each check gets a fresh
//! server and store: the server's router in this process where nothing needs a process of its
//! own, the real binary where the check is about the process (start-up, documented curl calls,
//! the token, CORS, the app's files, signals, the healthcheck, the AI job worker's settings).

use std::collections::BTreeSet;
use std::process::Command;

use powerpulse_e2e::api::{
    cli, cli_metrics, client, get_json, upload, without_last_updated, Backend,
};
use powerpulse_e2e::in_process::InProcess;
use powerpulse_e2e::on_both_backends;
use powerpulse_e2e::server::{binary, Server};
use powerpulse_e2e::{export, TempDir};
use serde_json::Value;

/// A generated export on disk, and its bytes.
struct Sample {
    dir: TempDir,
    bytes: Vec<u8>,
}

impl Sample {
    fn new(conversations: usize, seed: u64) -> Sample {
        let dir = TempDir::new("sample");
        let bytes = export(conversations, seed);
        std::fs::write(dir.join("grouped_chats.json"), &bytes).unwrap();
        Sample { dir, bytes }
    }
    fn path(&self) -> std::path::PathBuf {
        self.dir.join("grouped_chats.json")
    }
}

async fn documented_curl_calls_work_verbatim(b: Backend<'_>) {
    let s = Server::start(b.options("curl"));
    let sample = Sample::new(150, 1);
    let run = |args: &[&str]| -> String {
        let out = Command::new("curl")
            .args(["-s", "-S", "--fail-with-body"])
            .args(args)
            .current_dir(&sample.dir.0)
            .output()
            .expect("curl");
        assert!(
            out.status.success(),
            "curl {args:?}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let u = &s.url;
    let up: Value = serde_json::from_str(&run(&[
        "-X",
        "POST",
        &format!("{u}/api/upload-json"),
        "-F",
        "file=@grouped_chats.json",
        "-F",
        "force_reprocess=false",
    ]))
    .unwrap();
    assert_eq!(up["success"], true);
    let m: Value = serde_json::from_str(&run(&[&format!(
        "{u}/api/metrics?start_date=2025-08-12&end_date=2025-08-13"
    )]))
    .unwrap();
    assert_eq!(
        without_last_updated(m),
        cli_metrics(
            &sample.path(),
            &["--start-date", "2025-08-12", "--end-date", "2025-08-13"]
        )
    );
    let c: Value = serde_json::from_str(&run(&[&format!(
        "{u}/api/conversations?satisfied_only=true&page_size=10"
    )]))
    .unwrap();
    assert!(c["conversations"].as_array().unwrap().len() <= 10);
    assert!(c["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .all(|x| x["is_satisfied"] == true));
    run(&[
        &format!("{u}/api/download?export_type=conversations"),
        "-o",
        "export.csv",
    ]);
    let csv = std::fs::read(sample.dir.join("export.csv")).unwrap();
    assert_eq!(
        csv,
        cli(&[
            "export",
            sample.path().to_str().unwrap(),
            "--type",
            "conversations"
        ])
    );
}

async fn upload_reports_and_is_idempotent(b: Backend<'_>) {
    let s = InProcess::start(b.options("idem")).await;
    let sample = Sample::new(200, 2);
    let r = upload(&s.url, sample.bytes.clone(), Some("false")).await;
    assert_eq!(r.status(), 200);
    let first: Value = r.json().await.unwrap();
    for k in [
        "success",
        "message",
        "upload_id",
        "conversations_processed",
        "messages_processed",
        "conversations_skipped",
        "filtered",
        "processing_time_seconds",
        "job",
    ] {
        assert!(first.get(k).is_some(), "missing {k}: {first}");
    }
    let n = first["conversations_processed"].as_u64().unwrap();
    assert!(n > 150);
    assert_eq!(
        first["job"],
        Value::Null,
        "the built-in analyzer needs no job"
    );
    assert!(first["filtered"]["autoresponse"].as_u64().unwrap() > 0);
    let again: Value = upload(&s.url, sample.bytes.clone(), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["conversations_processed"], 0);
    assert_eq!(again["conversations_skipped"].as_u64().unwrap(), n);
    let m = get_json(&format!("{}/api/metrics", s.url), 200).await;
    assert_eq!(
        m["total_conversations"].as_u64().unwrap(),
        n,
        "no duplicate rows"
    );
    assert_eq!(
        without_last_updated(m),
        cli_metrics(&sample.path(), &[]),
        "a file uploaded twice counts once"
    );
    // force_reprocess as a form field and as a query parameter.
    let forced: Value = upload(&s.url, sample.bytes.clone(), Some("true"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(forced["conversations_processed"].as_u64().unwrap(), n);
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(sample.bytes.clone()).file_name("x.json"),
    );
    let q: Value = client()
        .post(format!("{}/api/upload-json?force_reprocess=true", s.url))
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(q["conversations_processed"].as_u64().unwrap(), n);
    let m = get_json(&format!("{}/api/metrics", s.url), 200).await;
    assert_eq!(m["total_conversations"].as_u64().unwrap(), n);
    // A changed conversation is replaced; the others are skipped.
    let mut v: Value = serde_json::from_slice(&sample.bytes).unwrap();
    let (id, msgs) = v
        .as_object_mut()
        .unwrap()
        .iter_mut()
        .next()
        .map(|(k, m)| (k.clone(), m))
        .unwrap();
    msgs.as_array_mut().unwrap().push(serde_json::json!({"MESSAGE_CONTENT": "one more thing", "DIRECTION": "to_company", "SOCIAL_CREATE_TIME": "2025-08-20T10:00:00.000Z"}));
    let changed: Value = upload(&s.url, serde_json::to_vec(&v).unwrap(), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(changed["conversations_processed"], 1, "only {id} changed");
    let detail = get_json(&format!("{}/api/conversations/{id}", s.url), 200).await;
    assert_eq!(
        detail["messages"].as_array().unwrap().last().unwrap()["message_content"],
        "one more thing"
    );
}

async fn upload_errors_are_clear(b: Backend<'_>) {
    let s = InProcess::start(b.options("errors").with("MAX_FILE_SIZE", "200000")).await;
    let expect = |status: u16, code: &'static str| {
        move |r: (u16, Value)| {
            assert_eq!(r.0, status, "{}", r.1);
            assert_eq!(r.1["code"], code, "{}", r.1);
            assert!(r.1["detail"].as_str().is_some_and(|d| !d.is_empty()));
            r.1
        }
    };
    let send = |bytes: Vec<u8>, force: Option<&'static str>| {
        let url = s.url.clone();
        async move {
            let r = upload(&url, bytes, force).await;
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let e = expect(400, "invalid_json")(
        send(
            b"{\"chat\": [{\"DIRECTION\": \"to_company\",, }]}".to_vec(),
            None,
        )
        .await,
    );
    assert!(e["detail"].as_str().unwrap().contains("byte 37"), "{e}");
    assert!(e["detail"].as_str().unwrap().contains("\"chat\""), "{e}");
    expect(400, "wrong_shape")(send(b"\"hello\"".to_vec(), None).await);
    expect(400, "empty_file")(send(Vec::new(), None).await);
    expect(400, "invalid_json")(send(vec![0xff, 0xfe, 0x00], None).await);
    expect(422, "invalid_parameter")(send(b"{}".to_vec(), Some("maybe")).await);
    // A file over the limit: 413 (through curl, which reads an answer that arrives before the
    // whole body was sent; some clients only see the closed connection).
    let big = Sample::new(600, 3);
    assert!(big.bytes.len() > 200_000);
    let out = Command::new("curl")
        .args([
            "-s",
            "-w",
            "\n%{http_code}",
            "-X",
            "POST",
            "-F",
            "file=@grouped_chats.json",
        ])
        .arg(format!("{}/api/upload-json", s.url))
        .current_dir(&big.dir.0)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap();
    assert_eq!(code, "413", "{text}");
    assert_eq!(
        serde_json::from_str::<Value>(body).unwrap()["code"],
        "file_too_large"
    );
    // 413 before the body is read in full: announce a huge body and send only its start. A server
    // that waited for the rest would answer nothing before curl gives up (20 s; its own request
    // timeout is 300 s), so the status alone shows it, with no clock to race.
    let out = Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "-X",
            "POST",
            "-H",
            "Content-Type: multipart/form-data; boundary=x",
            "-H",
            "Content-Length: 900000000",
            "--data-binary",
            "--x\r\n",
            "--max-time",
            "20",
        ])
        .arg(format!("{}/api/upload-json", s.url))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "413");
    let form = reqwest::multipart::Form::new().text("force_reprocess", "true");
    let r = client()
        .post(format!("{}/api/upload-json", s.url))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "missing_file");
    // Nothing was stored by the failures.
    let m = get_json(&format!("{}/api/metrics", s.url), 200).await;
    assert_eq!(m["total_conversations"], 0);
    // A chat that is not an array is reported, not fatal.
    let ok: Value = upload(&s.url, br#"{"a": "oops", "b": [{"MESSAGE_CONTENT": "hi", "DIRECTION": "to_company", "SOCIAL_CREATE_TIME": "2025-08-12T10:00:00Z"}]}"#.to_vec(), None).await.json().await.unwrap();
    assert_eq!(ok["conversations_processed"], 1);
    assert_eq!(ok["invalid_chats"]["a"], "a string");
}

async fn metrics_equal_the_cli_under_every_filter(b: Backend<'_>) {
    let s = InProcess::start(b.options("metrics")).await;
    let sample = Sample::new(400, 4);
    assert_eq!(
        upload(&s.url, sample.bytes.clone(), None).await.status(),
        200
    );
    let cases: Vec<(String, Vec<&str>)> = vec![
        (String::new(), vec![]),
        (
            "start_date=2025-08-03&end_date=2025-08-05".into(),
            vec!["--start-date", "2025-08-03", "--end-date", "2025-08-05"],
        ),
        (
            "start_date=2025-08-03&end_date=2025-08-05&tz=Africa/Nairobi".into(),
            vec![
                "--start-date",
                "2025-08-03",
                "--end-date",
                "2025-08-05",
                "--tz",
                "Africa/Nairobi",
            ],
        ),
        ("agent=amina.k".into(), vec!["--agent", "amina.k"]),
        ("topic=tokens".into(), vec!["--topic", "tokens"]),
        ("satisfied_only=true".into(), vec!["--satisfied-only"]),
    ];
    for (q, args) in cases {
        let api = get_json(&format!("{}/api/metrics?{q}", s.url), 200).await;
        assert_eq!(api["definitions"], "v1");
        assert_eq!(
            without_last_updated(api),
            cli_metrics(&sample.path(), &args),
            "filters {q:?}"
        );
    }
    for bad in [
        "start_date=2025-13-01",
        "end_date=yesterday",
        "tz=Mars/Base",
        "start_date=2025-08-05&end_date=2025-08-01",
        "satisfied_only=perhaps",
    ] {
        let e = get_json(&format!("{}/api/metrics?{bad}", s.url), 422).await;
        assert_eq!(e["code"], "invalid_parameter", "{bad}");
    }
    let all = get_json(&format!("{}/api/metrics", s.url), 200).await;
    let daily = get_json(&format!("{}/api/metrics/daily", s.url), 200).await;
    let days = daily["days"].as_array().unwrap();
    let sum: u64 = days
        .iter()
        .map(|d| d["total_conversations"].as_u64().unwrap())
        .sum();
    assert_eq!(sum, all["total_conversations"].as_u64().unwrap());
    // A day's row equals the metrics of that day alone.
    let day = days
        .iter()
        .find(|d| d["total_conversations"].as_u64().unwrap() > 0)
        .unwrap();
    let date = day["date"].as_str().unwrap();
    let one = get_json(
        &format!("{}/api/metrics?start_date={date}&end_date={date}", s.url),
        200,
    )
    .await;
    assert_eq!(one["csat_percentage"], day["csat_percentage"]);
    assert_eq!(one["response_time"], day["response_time"]);
    let agents = get_json(&format!("{}/api/metrics/agents", s.url), 200).await;
    let rows = agents["agents"].as_array().unwrap();
    assert!(rows.len() >= 5);
    let replies: u64 = rows.iter().map(|r| r["replies"].as_u64().unwrap()).sum();
    assert_eq!(
        replies,
        all["response_time"]["reply_gap"]["n"].as_u64().unwrap()
            + rows
                .iter()
                .map(|r| r["replies"].as_u64().unwrap() - r["reply_gap"]["n"].as_u64().unwrap())
                .sum::<u64>()
    );
    for r in rows {
        for k in [
            "agent",
            "conversations",
            "replies",
            "reply_gap",
            "turn",
            "first_response",
            "csat_percentage",
        ] {
            assert!(r.get(k).is_some(), "{k}");
        }
    }
}

/// Chats of `from` under new ids: the first `replace` take `existing`'s ids (in order), the
/// rest `new-<n>` (every message's `FB_CHAT_ID` follows its key).
fn renamed(from: &[u8], existing: &[String], replace: usize) -> serde_json::Map<String, Value> {
    let chats: serde_json::Map<String, Value> = serde_json::from_slice(from).unwrap();
    chats
        .into_values()
        .enumerate()
        .map(|(i, mut messages)| {
            let id = existing
                .get(i)
                .filter(|_| i < replace)
                .cloned()
                .unwrap_or_else(|| format!("new-{i}"));
            for m in messages.as_array_mut().unwrap() {
                m["FB_CHAT_ID"] = Value::String(id.clone());
            }
            (id, messages)
        })
        .collect()
}

/// `stored` after an upload of `chats`: the chats the upload keeps (an empty or invalid chat
/// is dropped by cleaning and leaves the stored one as it was) join the stored ones; a chat
/// stored already gets the upload's messages after its own (cleaning then keeps each message
/// once, as when the files are read together), or, forced, is replaced by them.
fn after_upload(
    stored: &mut serde_json::Map<String, Value>,
    chats: &serde_json::Map<String, Value>,
    dir: &TempDir,
    force: bool,
) {
    let path = dir.join("upload.json");
    std::fs::write(&path, serde_json::to_vec(chats).unwrap()).unwrap();
    let csv = cli(&["export", "--type", "conversations", path.to_str().unwrap()]);
    let kept: BTreeSet<String> = String::from_utf8(csv)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().to_owned())
        .collect();
    for (id, messages) in chats {
        if !kept.contains(id) {
            continue;
        }
        match stored.get_mut(id).and_then(Value::as_array_mut) {
            Some(old) if !force => old.extend(messages.as_array().unwrap().iter().cloned()),
            _ => {
                stored.insert(id.clone(), messages.clone());
            }
        }
    }
}

/// The dataset metrics without what depends on the files rather than the stored chats.
fn stored_figures(mut v: Value) -> Value {
    let o = v.as_object_mut().unwrap();
    o.remove("last_updated");
    o.remove("filtered");
    v
}

async fn metrics_follow_every_change_without_a_full_reload(b: Backend<'_>) {
    // The server brings its snapshot up to date from the conversations each write changed;
    // after every step the figures must equal the CLI's over the data as now stored.
    let s = InProcess::start(b.options("incremental")).await;
    let dir = TempDir::new("incremental");
    let first: serde_json::Map<String, Value> = serde_json::from_slice(&export(300, 11)).unwrap();
    let ids: Vec<String> = first.keys().cloned().collect();
    let second = renamed(&export(200, 12), &ids, 120);
    let check = |stored: &serde_json::Map<String, Value>, step: &str| {
        let path = dir.join(&format!("{step}.json"));
        std::fs::write(&path, serde_json::to_vec(stored).unwrap()).unwrap();
        let url = format!("{}/api/metrics", s.url);
        let step = step.to_owned();
        async move {
            let api = stored_figures(get_json(&url, 200).await);
            assert_eq!(api, stored_figures(cli_metrics(&path, &[])), "after {step}");
        }
    };
    let put = |chats: &serde_json::Map<String, Value>, force: Option<&'static str>| {
        let body = serde_json::to_vec(chats).unwrap();
        let url = s.url.clone();
        async move { assert_eq!(upload(&url, body, force).await.status(), 200) }
    };

    put(&first, None).await;
    let mut stored = serde_json::Map::new();
    after_upload(&mut stored, &first, &dir, false);
    check(&stored, "first upload").await;

    // 120 chats replaced by other content, 80 new ones.
    put(&second, Some("true")).await;
    after_upload(&mut stored, &second, &dir, true);
    check(&stored, "a forced re-upload with new and changed chats").await;

    // The first file again: its 120 chats get their first messages back beside the second
    // ones (merged), the 80 new ones stay.
    put(&first, None).await;
    after_upload(&mut stored, &first, &dir, false);
    check(&stored, "the first file again").await;
    put(&second, None).await;
    check(&stored, "the second file again: nothing new").await;

    // A filtered figure computed before a change is not served after it.
    let url = format!("{}/api/metrics?topic=tokens", s.url);
    let before = get_json(&url, 200).await;
    let third = renamed(&export(200, 13), &ids, 120);
    put(&third, None).await;
    after_upload(&mut stored, &third, &dir, false);
    let after = get_json(&url, 200).await;
    let path = dir.join("filtered.json");
    std::fs::write(&path, serde_json::to_vec(&stored).unwrap()).unwrap();
    assert_eq!(
        stored_figures(after.clone()),
        stored_figures(cli_metrics(&path, &["--topic", "tokens"]))
    );
    assert_ne!(
        before, after,
        "120 changed chats moved the filtered figures"
    );
}

/// A real export cut in two overlapping weeks: each chat's first two thirds in the first file,
/// its last two thirds in the second; half the chats without `UNIQUE_POST_ID`, so both of the
/// duplicate rules are at work.
fn overlapping_weeks() -> (Vec<u8>, Vec<u8>) {
    let file = powerpulse_e2e::workspace().join("eval/kenya-a.json");
    let all: serde_json::Map<String, Value> =
        serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
    let (mut first, mut second) = (serde_json::Map::new(), serde_json::Map::new());
    for (i, (id, messages)) in all.into_iter().enumerate() {
        let mut messages = messages.as_array().unwrap().clone();
        if i % 2 == 1 {
            for m in &mut messages {
                m.as_object_mut().unwrap().remove("UNIQUE_POST_ID");
            }
        }
        let two_thirds = (messages.len() * 2).div_ceil(3);
        let late = messages.len() - two_thirds;
        first.insert(id.clone(), Value::from(messages[..two_thirds].to_vec()));
        second.insert(id, Value::from(messages[late..].to_vec()));
    }
    (
        serde_json::to_vec(&first).unwrap(),
        serde_json::to_vec(&second).unwrap(),
    )
}

async fn uploads_of_overlapping_weeks_add_up_as_the_files_read_together(b: Backend<'_>) {
    let s = InProcess::start(b.options("weeks")).await;
    let (first, second) = overlapping_weeks();
    let together =
        powerpulse_shared::process_merged(&[&first, &second], &Default::default()).unwrap();
    let alone = |f: &[u8]| powerpulse_shared::process(f, &Default::default()).unwrap();
    let (one, two) = (alone(&first), alone(&second));
    let shared: BTreeSet<&str> = one.summaries().map(|s| s.chat_id.as_str()).collect();
    assert!(two.summaries().all(|s| shared.contains(s.chat_id.as_str())));
    // The chats the second week adds messages to (a short chat is whole in both).
    let before: std::collections::HashMap<&str, usize> = one
        .conversations
        .iter()
        .map(|c| (c.summary.chat_id.as_str(), c.messages.len()))
        .collect();
    let grown = together
        .conversations
        .iter()
        .filter(|c| c.messages.len() > before[c.summary.chat_id.as_str()])
        .count();
    assert!(
        grown > 100,
        "most of the 140 chats grow in the second week ({grown})"
    );

    let put = |bytes: &[u8]| {
        let (url, body) = (s.url.clone(), bytes.to_vec());
        async move {
            let r = upload(&url, body, None).await;
            assert_eq!(r.status(), 200);
            r.json::<Value>().await.unwrap()
        }
    };
    put(&first).await;
    let r = put(&second).await;
    assert_eq!(
        r["conversations_merged"].as_u64().unwrap() as usize,
        grown,
        "{r}"
    );
    assert_eq!(
        r["conversations_processed"], r["conversations_merged"],
        "{r}"
    );
    assert_eq!(
        r["filtered"]["duplicate"].as_u64().unwrap(),
        together.report.filtered.duplicate - one.report.filtered.duplicate,
        "the second week's messages already stored count as duplicates"
    );
    let want =
        without_last_updated(serde_json::to_value(together.metrics(&Default::default())).unwrap());
    let url = format!("{}/api/metrics", s.url);
    let metrics = || get_json(&url, 200);
    assert_eq!(without_last_updated(metrics().await), want);

    // Either file again adds nothing: every chat is skipped, the figures stay.
    for (name, f) in [("second", &second), ("first", &first)] {
        let again = put(f).await;
        assert_eq!(again["conversations_processed"], 0, "{name} again: {again}");
        assert_eq!(without_last_updated(metrics().await), want, "{name} again");
    }
    // A chat split between the weeks holds each of its messages once, in time order.
    let c = together
        .conversations
        .iter()
        .find(|c| shared.contains(c.summary.chat_id.as_str()) && c.messages.len() >= 6)
        .unwrap();
    let id = &c.summary.chat_id;
    let detail = get_json(&format!("{}/api/conversations/{id}", s.url), 200).await;
    let texts: Vec<&str> = detail["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["message_content"].as_str().unwrap())
        .collect();
    let want: Vec<&str> = c.messages.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(texts, want, "{id}");
}

async fn conversations_list_filters_sorts_and_pages(b: Backend<'_>) {
    let s = InProcess::start(b.options("list")).await;
    let sample = Sample::new(300, 5);
    upload(&s.url, sample.bytes.clone(), None).await;
    let d = powerpulse_shared::process(&sample.bytes, &Default::default()).unwrap();
    let u = &s.url;
    let page = get_json(&format!("{u}/api/conversations"), 200).await;
    let total = page["total"].as_u64().unwrap();
    assert_eq!(total as usize, d.conversations.len());
    assert_eq!(
        (page["page"].as_u64(), page["page_size"].as_u64()),
        (Some(1), Some(20))
    );
    assert_eq!(page["total_pages"].as_u64().unwrap(), total.div_ceil(20));
    let item = &page["conversations"][0];
    for k in [
        "fb_chat_id",
        "total_messages",
        "customer_messages",
        "agent_messages",
        "satisfaction_score",
        "satisfaction_confidence",
        "is_satisfied",
        "avg_sentiment",
        "first_contact_resolution",
        "topics",
        "avg_response_time_minutes",
        "first_response_minutes",
        "first_message_time",
        "last_message_time",
        "agents",
        "analyzer",
        "analysis_status",
        "updated_at",
    ] {
        assert!(item.get(k).is_some(), "missing {k}");
    }
    // Paging walks every conversation exactly once.
    let mut seen = BTreeSet::new();
    for p in 1..=total.div_ceil(100) {
        let pg = get_json(&format!("{u}/api/conversations?page={p}&page_size=100&sort_by=first_message_time&sort_order=asc"), 200).await;
        for c in pg["conversations"].as_array().unwrap() {
            assert!(seen.insert(c["fb_chat_id"].as_str().unwrap().to_owned()));
        }
    }
    assert_eq!(seen.len() as u64, total);
    let beyond = get_json(
        &format!("{u}/api/conversations?page=999&page_size=100"),
        200,
    )
    .await;
    assert_eq!(beyond["conversations"].as_array().unwrap().len(), 0);
    assert_eq!(beyond["total"].as_u64().unwrap(), total);
    for bad in [
        "page=0",
        "page=-1",
        "page_size=0",
        "page_size=101",
        "sort_by=chat",
        "sort_order=up",
        "min_satisfaction=0",
        "max_satisfaction=6",
        "min_satisfaction=4&max_satisfaction=2",
        "page=abc",
    ] {
        let e = get_json(&format!("{u}/api/conversations?{bad}"), 422).await;
        assert_eq!(e["code"], "invalid_parameter", "{bad}");
    }
    // Each sort key orders as asked (nulls last).
    for (key, field) in [
        ("satisfaction_score", "satisfaction_score"),
        ("avg_sentiment", "avg_sentiment"),
        ("total_messages", "total_messages"),
        ("avg_response_time_minutes", "avg_response_time_minutes"),
        ("first_message_time", "first_message_time"),
        ("updated_at", "updated_at"),
    ] {
        for order in ["asc", "desc"] {
            let pg = get_json(
                &format!("{u}/api/conversations?sort_by={key}&sort_order={order}&page_size=100"),
                200,
            )
            .await;
            let vals: Vec<&Value> = pg["conversations"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| &c[field])
                .collect();
            let non_null: Vec<&Value> = vals.iter().copied().take_while(|v| !v.is_null()).collect();
            assert!(
                vals[non_null.len()..].iter().all(|v| v.is_null()),
                "{key} {order}: nulls last"
            );
            let cmp = |a: &Value, b: &Value| -> std::cmp::Ordering {
                match (a.as_f64(), b.as_f64()) {
                    (Some(x), Some(y)) => x.partial_cmp(&y).unwrap(),
                    _ => a.as_str().cmp(&b.as_str()),
                }
            };
            for w in non_null.windows(2) {
                let o = cmp(w[0], w[1]);
                assert!(
                    if order == "asc" { o.is_le() } else { o.is_ge() },
                    "{key} {order}: {} then {}",
                    w[0],
                    w[1]
                );
            }
        }
    }
    // Filters select what the shared crate selects.
    let count = |f: &powerpulse_shared::Filter| d.records(f).len() as u64;
    let f = |start: Option<&str>,
             end: Option<&str>,
             tz: Option<&str>,
             agent: Option<&str>,
             topic: Option<&str>| {
        powerpulse_shared::Filter::from_params(start, end, tz, agent, topic).unwrap()
    };
    let checks: Vec<(&str, powerpulse_shared::Filter)> = vec![
        (
            "start_date=2025-08-03&end_date=2025-08-04",
            f(Some("2025-08-03"), Some("2025-08-04"), None, None, None),
        ),
        (
            "start_date=2025-08-03&end_date=2025-08-04&tz=Africa/Nairobi",
            f(
                Some("2025-08-03"),
                Some("2025-08-04"),
                Some("Africa/Nairobi"),
                None,
                None,
            ),
        ),
        ("agent=brian.o", f(None, None, None, Some("brian.o"), None)),
        ("topic=meter", f(None, None, None, None, Some("meter"))),
        (
            "satisfied_only=true",
            powerpulse_shared::Filter {
                satisfied_only: true,
                ..Default::default()
            },
        ),
        (
            "min_satisfaction=2&max_satisfaction=3",
            powerpulse_shared::Filter {
                min_satisfaction: Some(2),
                max_satisfaction: Some(3),
                ..Default::default()
            },
        ),
    ];
    for (q, filter) in checks {
        let pg = get_json(&format!("{u}/api/conversations?{q}"), 200).await;
        assert_eq!(pg["total"].as_u64().unwrap(), count(&filter), "{q}");
    }
    // Text search: case-insensitive, in customer and agent messages.
    let hits = get_json(&format!("{u}/api/conversations?q=TOKEN&page_size=100"), 200).await;
    let expected = d
        .conversations
        .iter()
        .filter(|c| {
            c.messages.iter().any(|m| {
                m.role != powerpulse_shared::Role::Bot && m.text.to_lowercase().contains("token")
            })
        })
        .count();
    assert_eq!(hits["total"].as_u64().unwrap() as usize, expected);
    let none = get_json(&format!("{u}/api/conversations?q=100%25_zzz"), 200).await;
    assert_eq!(none["total"], 0, "% and _ are literal");
}

/// The chat ids `GET /api/conversations?q=...` lists, every page.
async fn searched(url: &str, q: &str) -> (u64, BTreeSet<String>) {
    let mut ids = BTreeSet::new();
    let mut page = 1;
    loop {
        let u = reqwest::Url::parse_with_params(
            &format!("{url}/api/conversations"),
            &[("q", q), ("page_size", "100"), ("page", &page.to_string())],
        )
        .unwrap();
        let v = get_json(u.as_str(), 200).await;
        let rows = v["conversations"].as_array().unwrap();
        ids.extend(
            rows.iter()
                .map(|r| r["fb_chat_id"].as_str().unwrap().to_owned()),
        );
        if rows.len() < 100 || page >= 5 {
            return (v["total"].as_u64().unwrap(), ids);
        }
        page += 1;
    }
}

async fn search_finds_exactly_the_conversations_holding_the_text(b: Backend<'_>) {
    let s = InProcess::start(b.options("search")).await;
    // Real conversations (eval/kenya-a.json), searched for words, phrases, Swahili, case,
    // characters LIKE and FTS treat specially, and strings too short for the trigram index.
    let bytes = std::fs::read(powerpulse_e2e::workspace().join("eval/kenya-a.json")).unwrap();
    assert_eq!(upload(&s.url, bytes.clone(), None).await.status(), 200);
    let d = powerpulse_shared::process(&bytes, &Default::default()).unwrap();
    let text = |c: &powerpulse_shared::Conversation| -> String {
        c.messages
            .iter()
            .filter(|m| m.role != powerpulse_shared::Role::Bot)
            .map(|m| m.text.to_lowercase() + "\n")
            .collect()
    };
    for q in [
        "stima",
        "STIMA",
        "no power",
        "meter number",
        "token",
        "asante",
        "a",
        "ab",
        "100%",
        "_",
        "\"",
        "it's",
        "kplc",
        "  stima  ",
        "zzzqqq",
    ] {
        let needle = q.trim().to_lowercase();
        let want: BTreeSet<String> = d
            .conversations
            .iter()
            .filter(|c| text(c).contains(&needle))
            .map(|c| c.summary.chat_id.clone())
            .collect();
        let (total, got) = searched(&s.url, q).await;
        assert_eq!(total as usize, want.len(), "q={q:?}: how many");
        if want.len() <= 500 {
            assert_eq!(got, want, "q={q:?}");
        }
    }
    // A re-upload with other text: the index follows it.
    let chat = |text: &str| {
        format!(r#"{{"x1": [{{"MESSAGE_CONTENT": "{text}", "DIRECTION": "to_company", "SOCIAL_CREATE_TIME": "2025-08-12T10:00:00Z"}}]}}"#)
            .into_bytes()
    };
    assert_eq!(
        upload(&s.url, chat("zebra crossing"), None).await.status(),
        200
    );
    assert_eq!(
        searched(&s.url, "zebra").await.1,
        BTreeSet::from(["x1".to_owned()])
    );
    assert_eq!(
        upload(&s.url, chat("giraffe"), Some("true")).await.status(),
        200
    );
    assert!(
        searched(&s.url, "zebra").await.1.is_empty(),
        "the old text is gone"
    );
    assert_eq!(
        searched(&s.url, "giraffe").await.1,
        BTreeSet::from(["x1".to_owned()])
    );
}

async fn a_search_count_stops_at_its_cap_and_the_pages_go_on(b: Backend<'_>) {
    let mut opts = b.options("search_cap");
    opts.env.push(("SEARCH_COUNT_CAP".into(), "10".into()));
    let s = InProcess::start(opts).await;
    let bytes = std::fs::read(powerpulse_e2e::workspace().join("eval/kenya-a.json")).unwrap();
    assert_eq!(upload(&s.url, bytes.clone(), None).await.status(), 200);
    let d = powerpulse_shared::process(&bytes, &Default::default()).unwrap();
    let holding = |needle: &str| {
        d.conversations
            .iter()
            .filter(|c| powerpulse_shared::list::contains_text(c, needle))
            .count() as u64
    };
    let (frequent, rare) = ("token", "transformer");
    assert!(holding(frequent) > 30 && (1..=10).contains(&holding(rare)));
    let page = |q: &str, page: u64, exact: bool| {
        let u = reqwest::Url::parse_with_params(
            &format!("{}/api/conversations", s.url),
            &[
                ("q", q),
                ("page_size", "10"),
                ("page", &page.to_string()),
                ("sort_by", "first_message_time"),
                ("exact_total", if exact { "true" } else { "false" }),
            ],
        )
        .unwrap();
        async move { get_json(u.as_str(), 200).await }
    };
    // Above the cap: a lower bound, said so; asked for, the exact count.
    let capped = page(frequent, 1, false).await;
    assert_eq!(
        (capped["total"].as_u64(), capped["total_exact"].as_bool()),
        (Some(10), Some(false))
    );
    assert_eq!(capped["total_pages"], 1);
    let exact = page(frequent, 1, true).await;
    assert_eq!(exact["total"].as_u64(), Some(holding(frequent)));
    assert_eq!(exact["total_exact"], true);
    assert_eq!(capped["conversations"], exact["conversations"]);
    // Pages past the lower bound still list, the same rows as with the exact count, to the end.
    let mut listed = 0;
    for n in 2.. {
        let (p, e) = (
            page(frequent, n, false).await,
            page(frequent, n, true).await,
        );
        assert_eq!(p["conversations"], e["conversations"], "page {n}");
        let rows = p["conversations"].as_array().unwrap().len();
        listed += rows;
        if rows < 10 {
            break;
        }
    }
    assert_eq!(10 + listed as u64, holding(frequent));
    // Below the cap the count is exact either way.
    let r = page(rare, 1, false).await;
    assert_eq!(
        (r["total"].as_u64(), r["total_exact"].as_bool()),
        (Some(holding(rare)), Some(true))
    );
    let bad = get_json(
        &format!("{}/api/conversations?q=token&exact_total=maybe", s.url),
        422,
    )
    .await;
    assert!(
        bad["detail"].as_str().unwrap().contains("exact_total"),
        "{bad}"
    );
}

async fn conversation_detail_and_not_found(b: Backend<'_>) {
    let s = InProcess::start(b.options("detail")).await;
    let sample = Sample::new(60, 6);
    upload(&s.url, sample.bytes.clone(), None).await;
    let d = powerpulse_shared::process(&sample.bytes, &Default::default()).unwrap();
    let c = d
        .conversations
        .iter()
        .find(|c| c.summary.agent_messages > 1 && c.summary.bot_messages > 0)
        .unwrap();
    let v = get_json(
        &format!("{}/api/conversations/{}", s.url, c.summary.chat_id),
        200,
    )
    .await;
    let msgs = v["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), c.messages.len());
    for (m, e) in msgs.iter().zip(&c.messages) {
        assert_eq!(m["role"], e.role.as_str());
        assert_eq!(m["message_content"], e.text.as_str());
        assert_eq!(m["social_create_time"], e.time());
        assert_eq!(m["direction"], e.role.direction());
    }
    let times: Vec<&str> = msgs
        .iter()
        .map(|m| m["social_create_time"].as_str().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "time order");
    assert!(msgs.iter().any(|m| m["reply_gap_minutes"].is_number()));
    let e = get_json(&format!("{}/api/conversations/no-such-chat", s.url), 404).await;
    assert_eq!(e["code"], "not_found");
}

async fn downloads_equal_the_cli(b: Backend<'_>) {
    let s = InProcess::start(b.options("download")).await;
    let sample = Sample::new(250, 7);
    upload(&s.url, sample.bytes.clone(), None).await;
    let p = sample.path();
    let file = p.to_str().unwrap();
    for (q, t, args) in [
        ("export_type=conversations", "conversations", vec![]),
        ("export_type=messages", "messages", vec![]),
        ("export_type=metrics", "metrics", vec![]),
        ("export_type=conversations&start_date=2025-08-05&end_date=2025-08-06&tz=Africa/Nairobi&agent=carol.w", "conversations", vec!["--start-date", "2025-08-05", "--end-date", "2025-08-06", "--tz", "Africa/Nairobi", "--agent", "carol.w"]),
        ("export_type=messages&topic=tokens", "messages", vec!["--topic", "tokens"]),
        ("", "conversations", vec![]),
    ] {
        let r = client().get(format!("{}/api/download?{q}", s.url)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{q}");
        let cd = r.headers()["content-disposition"].to_str().unwrap().to_owned();
        assert!(cd.starts_with("attachment; filename=") && cd.contains(".csv"), "{cd}");
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
        let body = r.bytes().await.unwrap();
        let mut a = vec!["export", file, "--type", t];
        a.extend(args);
        assert!(body == cli(&a), "{q}: API CSV differs from the CLI's");
    }
    let e = get_json(
        &format!("{}/api/download?export_type=everything", s.url),
        422,
    )
    .await;
    assert_eq!(e["code"], "invalid_parameter");
    // An empty selection still has its header row.
    let r = client()
        .get(format!(
            "{}/api/download?export_type=messages&start_date=2030-01-01",
            s.url
        ))
        .send()
        .await
        .unwrap();
    let text = r.text().await.unwrap();
    assert_eq!(text.lines().count(), 1);
    assert!(text.starts_with("message_id,chat_id,message_content,direction,social_create_time,agent_info,sentiment_score"));
}

async fn jobs_health_analyze_and_docs(b: Backend<'_>) {
    let s = Server::start(b.options("misc"));
    for path in ["/api/jobs/nope", "/api/progress/nope"] {
        assert_eq!(
            get_json(&format!("{}{path}", s.url), 404).await["code"],
            "not_found"
        );
    }
    let r = client()
        .delete(format!("{}/api/jobs/nope", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = client()
        .post(format!("{}/api/analyze", s.url))
        .json(&serde_json::json!({"conversations": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503, "no AI configured");
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "not_ready");
    let h = get_json(&format!("{}/health", s.url), 200).await;
    assert_eq!(h["status"], "ok");
    assert_eq!(h["analyzer"], "builtin");
    let doc = get_json(&format!("{}/api/openapi.json", s.url), 200).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for (path, method) in [
        ("/api/upload-json", "post"),
        ("/api/metrics", "get"),
        ("/api/metrics/daily", "get"),
        ("/api/metrics/agents", "get"),
        ("/api/conversations", "get"),
        ("/api/conversations/{chat_id}", "get"),
        ("/api/download", "get"),
        ("/api/jobs/{id}", "get"),
        ("/api/jobs/{id}", "delete"),
        ("/api/progress/{upload_id}", "get"),
        ("/api/analyze", "post"),
        ("/health", "get"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} missing from the OpenAPI document"
        );
    }
    // Every route the document lists answers (not 404/405), so document and router agree.
    for (path, item) in paths {
        for method in item.as_object().unwrap().keys() {
            let url = format!(
                "{}{}",
                s.url,
                path.replace("{chat_id}", "x")
                    .replace("{id}", "x")
                    .replace("{upload_id}", "x")
            );
            let r = client()
                .request(method.to_uppercase().parse().unwrap(), &url)
                .send()
                .await
                .unwrap();
            assert!(r.status() != 405, "{method} {path}: 405");
            if !path.contains('{') {
                assert!(r.status() != 404, "{method} {path}: 404");
            }
        }
    }
    let docs = client()
        .get(format!("{}/docs/", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(docs.status(), 200);
    let html = docs.text().await.unwrap();
    assert!(html.contains("swagger") || html.contains("Swagger"));
    assert!(
        !html.contains("unpkg.com") && !html.contains("cdn.jsdelivr"),
        "the docs page works offline"
    );
}

async fn bearer_token_protects_the_api(b: Backend<'_>) {
    let token = "pp-secret-token-5f2a";
    let s = Server::start(b.options("auth").with("API_TOKEN", token));
    for path in ["/api/metrics", "/api/conversations", "/api/openapi.json"] {
        let r = client()
            .get(format!("{}{path}", s.url))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{path}");
        assert_eq!(r.headers()["www-authenticate"], "Bearer");
        assert_eq!(r.json::<Value>().await.unwrap()["code"], "unauthorized");
        let r = client()
            .get(format!("{}{path}", s.url))
            .bearer_auth("wrong")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
        let r = client()
            .get(format!("{}{path}", s.url))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert!(!r.text().await.unwrap().contains(token));
    }
    assert_eq!(
        client()
            .get(format!("{}/health", s.url))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(export(5, 1)).file_name("e.json"),
    );
    let r = client()
        .post(format!("{}/api/upload-json", s.url))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(!s.logs().contains(token), "the token is never logged");
}

async fn cors_is_off_by_default_and_configurable(b: Backend<'_>) {
    let s = Server::start(b.options("cors"));
    let r = client()
        .get(format!("{}/api/metrics", s.url))
        .header("Origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("access-control-allow-origin").is_none());
    drop(s);
    let s = Server::start(
        b.options("cors2")
            .with("CORS_ORIGINS", "https://care.example"),
    );
    let r = client()
        .get(format!("{}/api/metrics", s.url))
        .header("Origin", "https://care.example")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "https://care.example"
    );
    let r = client()
        .get(format!("{}/api/metrics", s.url))
        .header("Origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("access-control-allow-origin").is_none());
}

async fn serves_the_app_with_caching_headers(b: Backend<'_>) {
    let app = TempDir::new("app");
    std::fs::write(
        app.join("index.html"),
        "<!DOCTYPE html><title>PowerPulse</title>",
    )
    .unwrap();
    std::fs::write(
        app.join("powerpulse-app-0123456789abcdef_bg.wasm"),
        b"\0asm\x01\0\0\0",
    )
    .unwrap();
    std::fs::write(
        app.join("sw.js"),
        "self.addEventListener('install', () => {});",
    )
    .unwrap();
    let s = Server::start(b.options("static").with("APP_DIR", app.0.to_str().unwrap()));
    let r = client().get(format!("{}/", s.url)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-cache");
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let r = client()
        .get(format!("{}/powerpulse-app-0123456789abcdef_bg.wasm", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(r.headers()["content-type"], "application/wasm");
    let r = client()
        .get(format!("{}/sw.js", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["cache-control"], "no-cache");
    let r = client()
        .get(format!("{}/conversations/some-chat", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "client-side routes get index.html");
    assert!(r.text().await.unwrap().contains("PowerPulse"));
}

async fn stops_gracefully_and_healthcheck_reports(b: Backend<'_>) {
    let mut s = Server::start(b.options("stop"));
    let hc = |url: &str| {
        Command::new(binary())
            .args(["healthcheck", "--url", url])
            .output()
            .unwrap()
    };
    assert!(hc(&s.url).status.success());
    let status = s.terminate();
    assert!(
        status.success(),
        "SIGTERM ends the server cleanly: {status:?}"
    );
    let out = hc(&s.url);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unhealthy"));
}

on_both_backends!(
    documented_curl_calls_work_verbatim,
    upload_reports_and_is_idempotent,
    upload_errors_are_clear,
    metrics_equal_the_cli_under_every_filter,
    metrics_follow_every_change_without_a_full_reload,
    uploads_of_overlapping_weeks_add_up_as_the_files_read_together,
    conversations_list_filters_sorts_and_pages,
    search_finds_exactly_the_conversations_holding_the_text,
    a_search_count_stops_at_its_cap_and_the_pages_go_on,
    conversation_detail_and_not_found,
    downloads_equal_the_cli,
    jobs_health_analyze_and_docs,
    bearer_token_protects_the_api,
    cors_is_off_by_default_and_configurable,
    serves_the_app_with_caching_headers,
    stops_gracefully_and_healthcheck_reports,
);

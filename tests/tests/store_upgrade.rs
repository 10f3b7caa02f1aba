//! A store written before migration 0006 (when each conversation was also stored as ~20 columns
//! copying its summary) upgrades in place: after the new server's migrations it lists, searches
//! and exports the same conversations as the shared crate computes, on SQLite and PostgreSQL.

use powerpulse::ingest::content_hash;
use powerpulse::store::{Counting, ListQuery, SortKey, Store};
use powerpulse_e2e::postgres::Postgres;
use powerpulse_e2e::{export, skip, workspace, TempDir};
use powerpulse_shared::{ConversationRecord, Dataset, Filter};
use sqlx::migrate::Migrator;

/// The migrations a store had before 0006, copied from the project's own.
fn migrations_before_0006(db: &str, dir: &TempDir) -> std::path::PathBuf {
    let from = workspace().join("proxy/migrations").join(db);
    let to = dir.join(db);
    std::fs::create_dir_all(&to).unwrap();
    for e in std::fs::read_dir(&from).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if name.as_str() < "0006" {
            std::fs::copy(&p, to.join(&name)).unwrap();
        }
    }
    to
}

/// Conversations as the previous version wrote them (its column list, its values).
const OLD_INSERT: &str = "INSERT INTO conversations (chat_id, ord, content_hash, upload_id, \
    first_message_ms, last_message_ms, total_messages, customer_messages, agent_messages, \
    bot_messages, segments, satisfaction_score, satisfaction_confidence, avg_sentiment, fcr, \
    avg_response_time, first_response, topics, agents, analyzer, analysis_status, ai_error, \
    ai_cache_key, summary, search_text, updated_ms, changed_version) \
    VALUES ($1, $2, $3, 'up_old', $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
    $17, $18, $19, 'complete', NULL, NULL, $20, $21, 1, 1)";

macro_rules! write_old {
    ($pool:expr, $d:expr) => {
        for (ord, c) in $d.conversations.iter().enumerate() {
            let s = &c.summary;
            let a = &s.analysis;
            sqlx::query(OLD_INSERT)
                .bind(s.chat_id.clone())
                .bind(ord as i64)
                .bind(content_hash(c))
                .bind(s.first_message_ms)
                .bind(s.last_message_ms)
                .bind(i64::from(s.total_messages))
                .bind(i64::from(s.customer_messages))
                .bind(i64::from(s.agent_messages))
                .bind(i64::from(s.bot_messages))
                .bind(i64::from(s.segments))
                .bind(a.satisfaction_score.map(i64::from))
                .bind(a.satisfaction_confidence)
                .bind(a.avg_sentiment)
                .bind(a.first_contact_resolution)
                .bind(s.avg_response_time_minutes())
                .bind(s.first_response_minutes())
                .bind(serde_json::to_string(&a.topics).unwrap())
                .bind(serde_json::to_string(&s.agents).unwrap())
                .bind(a.analyzer.clone())
                .bind(serde_json::to_string(s).unwrap())
                .bind(powerpulse_shared::list::search_text(c))
                .execute($pool)
                .await
                .expect("an old row is written");
        }
        sqlx::query("UPDATE meta SET value = $1 WHERE key = 'next_ord'")
            .bind($d.conversations.len() as i64)
            .execute($pool)
            .await
            .unwrap();
    };
}

async fn check_upgraded(url: &str, d: &Dataset, label: &str) {
    let store = Store::connect(url).await.expect("the old store migrates");
    let want: Vec<ConversationRecord> = d.records(&Filter::default());
    let mut got = Vec::new();
    let mut after = i64::MIN;
    loop {
        let page = store
            .conversation_page(&Filter::default(), after, 100)
            .await
            .unwrap();
        let Some((last, _)) = page.last() else { break };
        after = *last;
        got.extend(page.into_iter().map(|(_, r)| r.record));
    }
    assert_eq!(
        got, want,
        "{label}: every conversation reads back as before"
    );
    let needle = "power";
    let found = store
        .count_conversations(&Filter::default(), Some(needle), Counting::Exact)
        .await
        .unwrap();
    let expected = d
        .conversations
        .iter()
        .filter(|c| powerpulse_shared::list::contains_text(c, needle))
        .count();
    assert_eq!(
        found.value as usize, expected,
        "{label}: search after the upgrade"
    );
    let lq = ListQuery {
        filter: Filter::default(),
        q: None,
        sort: SortKey::SatisfactionScore,
        desc: true,
        page: 1,
        page_size: 10,
    };
    assert_eq!(
        store.list_conversations(&lq, found).await.unwrap().len(),
        10
    );
}

fn dataset() -> Dataset {
    powerpulse_shared::process(&export(250, 31), &Default::default()).unwrap()
}

/// Writes an old store at `url` (migrations before 0006, the old rows), lets the new store
/// migrate it, and checks it reads as the shared crate computes and the copies are gone.
macro_rules! upgrade {
    ($pool:ty, $db:literal, $url:expr, $dir:expr, $label:literal) => {{
        let d = dataset();
        let pool = <$pool>::connect($url).await.unwrap();
        Migrator::new(migrations_before_0006($db, $dir))
            .await
            .unwrap()
            .run(&pool)
            .await
            .unwrap();
        write_old!(&pool, d);
        pool.close().await;
        check_upgraded($url, &d, $label).await;
        let pool = <$pool>::connect($url).await.unwrap();
        let gone = sqlx::query("SELECT topics FROM conversations LIMIT 1")
            .fetch_all(&pool)
            .await;
        assert!(gone.is_err(), "{}: 0006 dropped the copied columns", $label);
    }};
}

#[tokio::test]
async fn a_sqlite_store_from_before_0006_upgrades_in_place() {
    let dir = TempDir::new("upgrade-sqlite");
    let url = format!("sqlite://{}?mode=rwc", dir.join("old.db").display());
    upgrade!(sqlx::SqlitePool, "sqlite", &url, &dir, "SQLite");
}

#[tokio::test]
async fn a_postgres_store_from_before_0006_upgrades_in_place() {
    let Some(pg) = Postgres::start() else {
        return skip(
            "a_postgres_store_from_before_0006_upgrades_in_place",
            "no PostgreSQL binaries",
        );
    };
    let dir = TempDir::new("upgrade-pg");
    let url = pg.database("upgrade");
    upgrade!(sqlx::PgPool, "postgres", &url, &dir, "PostgreSQL");
}

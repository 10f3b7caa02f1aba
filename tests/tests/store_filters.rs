//! The store's SQL selects and orders exactly as the shared crate's rules do: for random
//! filters, searches and sort orders over a generated export, on SQLite and PostgreSQL, the
//! conversations the SQL `WHERE` picks (count, list pages, CSV pages) are those
//! `Filter::matches` and `contains_text` pick, in the order `list_page` gives; a search's page is
//! the same whichever way it is found (walking the order, or sorting the index's matches), and
//! a capped count is the true count or, above the cap, the cap marked inexact.

use powerpulse::store::{sort_order_sql, Counting, ListQuery, SearchPlan, SortKey, Store, Total};
use powerpulse_e2e::filters::filter_params;
use powerpulse_e2e::postgres::Postgres;
use powerpulse_e2e::{export, ingest_request, skip, TempDir};
use powerpulse_shared::list::{contains_text, list_page, ListQuery as SharedListQuery};
use powerpulse_shared::{Dataset, Filter, FilterParams};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use sqlx::Connection;

/// Generated conversations: many agents, topics, scores and a fortnight of days.
fn dataset() -> Dataset {
    powerpulse_shared::process(&export(400, 77), &Default::default()).expect("the export parses")
}

async fn stored(url: &str, d: &Dataset) -> Store {
    let store = Store::connect(url).await.expect("the store opens");
    let req = ingest_request(d, false, None);
    store
        .ingest(&req, &Default::default())
        .await
        .expect("the upload is written");
    store
}

/// A search: a piece of some message (of one to eight characters, any case), or text no
/// message holds.
fn searches(d: &Dataset) -> impl Strategy<Value = Option<String>> {
    let texts: Vec<String> = d
        .conversations
        .iter()
        .flat_map(|c| c.messages.iter().map(|m| m.text.clone()))
        .filter(|t| t.chars().count() >= 8)
        .take(300)
        .collect();
    prop::option::weighted(
        0.5,
        prop_oneof![
            (
                prop::sample::select(texts),
                0usize..20,
                1usize..=8,
                any::<bool>()
            )
                .prop_map(|(t, at, len, upper)| {
                    let chars: Vec<char> = t.chars().collect();
                    let at = at.min(chars.len() - 1);
                    let piece: String = chars[at..(at + len).min(chars.len())].iter().collect();
                    if upper {
                        piece.to_uppercase()
                    } else {
                        piece
                    }
                }),
            Just("zqxjv no one writes this".to_owned()),
        ],
    )
}

const SORTS: [SortKey; 5] = [
    SortKey::FirstMessageTime,
    SortKey::SatisfactionScore,
    SortKey::AvgSentiment,
    SortKey::TotalMessages,
    SortKey::AvgResponseTimeMinutes,
];

/// The chat ids the shared rules select, in file order.
fn selected(d: &Dataset, f: &Filter, q: Option<&str>) -> Vec<String> {
    let range = f.time_range();
    let needle = q.map(|q| q.trim().to_lowercase()).unwrap_or_default();
    d.conversations
        .iter()
        .filter(|c| f.matches(&c.summary, range) && contains_text(c, &needle))
        .map(|c| c.summary.chat_id.clone())
        .collect()
}

async fn check(store: &Store, d: &Dataset, p: &FilterParams, q: Option<String>, sort: usize) {
    let Ok(f) = p.to_filter(None) else {
        return; // a rejected filter selects nothing anywhere
    };
    let want = selected(d, &f, q.as_deref());
    let count = store
        .count_conversations(&f, q.as_deref(), Counting::Exact)
        .await
        .expect("counts");
    let n = want.len() as u64;
    assert_eq!(
        count,
        Total {
            value: n,
            exact: true
        },
        "count for {p:?} q={q:?}"
    );
    // A cap below, at and above the count.
    for cap in [n / 2, n, n + 1] {
        let capped = store
            .count_conversations(&f, q.as_deref(), Counting::UpTo(cap))
            .await
            .expect("counts");
        let searched = q.as_deref().is_some_and(|q| !q.trim().is_empty());
        let expected = if searched && n > cap {
            Total {
                value: cap,
                exact: false,
            }
        } else {
            count
        };
        assert_eq!(capped, expected, "count up to {cap} for {p:?} q={q:?}");
    }
    // The CSV's keyset pages: the same conversations, in file order.
    if q.is_none() {
        let mut got = Vec::new();
        let mut after = i64::MIN;
        loop {
            let page = store.conversation_page(&f, after, 97).await.expect("pages");
            let Some((last, _)) = page.last() else { break };
            after = *last;
            got.extend(page.into_iter().map(|(_, r)| r.record.fb_chat_id));
        }
        assert_eq!(got, want, "CSV pages for {p:?}");
    }
    // The list's first two pages, in the shared list's order: as the API plans them (from the
    // exact count and from one capped below it), and by each plan forced.
    let (key, desc) = (SORTS[sort % SORTS.len()], sort >= SORTS.len());
    let shared = list_page(
        &d.conversations,
        &f,
        &SharedListQuery {
            q: q.clone().unwrap_or_default(),
            sort: key,
            desc,
            page: 1,
            page_size: 40,
        },
    );
    let low = Total {
        value: n / 2,
        exact: n / 2 == n,
    };
    for how in [
        "planned",
        "planned from a capped count",
        "walk",
        "index",
        "bounded walk",
    ] {
        let mut got = Vec::new();
        for page in 1..=2u64 {
            let lq = ListQuery {
                filter: f.clone(),
                q: q.clone(),
                sort: key,
                desc,
                page,
                page_size: 20,
            };
            let rows = match how {
                "planned" => store.list_conversations(&lq, count).await,
                "planned from a capped count" => store.list_conversations(&lq, low).await,
                "walk" => store.list_by(&lq, SearchPlan::Walk { window: None }).await,
                "index" => store.list_by(&lq, SearchPlan::Index).await,
                _ => {
                    // Within a window the walk finds the start of the page, never other rows.
                    let window = SearchPlan::Walk { window: Some(60) };
                    let rows = store.list_by(&lq, window).await.expect("lists");
                    let start = ((page - 1) * 20) as usize;
                    let whole = shared.rows.iter().skip(start).take(20);
                    let found: Vec<_> = rows.into_iter().map(|r| r.record).collect();
                    assert!(
                        whole.take(found.len()).eq(found.iter()),
                        "a walk within 60 rows, page {page}, sorted by {key:?} desc={desc} for {p:?} q={q:?}"
                    );
                    continue;
                }
            };
            got.extend(rows.expect("lists").into_iter().map(|r| r.record));
        }
        if how == "bounded walk" {
            continue;
        }
        assert_eq!(
            got, shared.rows,
            "list ({how}) sorted by {key:?} desc={desc} for {p:?} q={q:?}"
        );
    }
}

/// Every order the list sorts by is read from an index, never by sorting the table (at a
/// million conversations a sort by satisfaction took 1.7-15 s, the index 0.5 ms): the
/// database's own plan for each order's SQL, with sorting made as costly as it can be.
async fn orders_are_index_scans(url: &str) {
    let all = SORTS.iter().chain([SortKey::UpdatedAt].iter());
    let sqlite = url.starts_with("sqlite:");
    let mut checked = 0;
    for (&key, desc) in all.flat_map(|k| [(k, false), (k, true)]) {
        let order = sort_order_sql(key, desc, sqlite);
        let sql = format!("SELECT ord FROM conversations ORDER BY {order} LIMIT 20");
        let plan: Vec<String> = if sqlite {
            let pool = sqlx::SqlitePool::connect(url).await.expect("opens");
            let rows: Vec<(i64, i64, i64, String)> =
                sqlx::query_as(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")))
                    .fetch_all(&pool)
                    .await
                    .expect("explains");
            rows.into_iter().map(|r| r.3).collect()
        } else {
            let mut conn = sqlx::postgres::PgConnection::connect(url)
                .await
                .expect("connects");
            sqlx::query("SET enable_sort = off")
                .execute(&mut conn)
                .await
                .expect("sets");
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("EXPLAIN {sql}")))
                .fetch_all(&mut conn)
                .await
                .expect("explains")
        };
        assert!(
            plan.iter()
                .all(|l| !l.contains("TEMP B-TREE") && !l.contains("Sort")),
            "{key:?} desc={desc} ({order}) sorts the table: {plan:?}"
        );
        checked += 1;
    }
    assert_eq!(checked, 12);
}

fn run(url: &str, label: &str) {
    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    let d = dataset();
    let store = rt.block_on(stored(url, &d));
    rt.block_on(orders_are_index_scans(url));
    let mut runner = TestRunner::new(Config {
        cases: 96,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (
        filter_params(d.summaries()),
        searches(&d),
        0usize..2 * SORTS.len(),
    );
    runner
        .run(&strategy, |(p, q, sort)| {
            rt.block_on(check(&store, &d, &p, q, sort));
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{label}: {e}"));
}

#[test]
fn sqlite_selects_and_orders_as_the_shared_rules() {
    let dir = TempDir::new("store-filters");
    run(
        &format!("sqlite://{}", dir.join("s.db").display()),
        "SQLite",
    );
}

#[test]
fn postgres_selects_and_orders_as_the_shared_rules() {
    let Some(pg) = Postgres::start() else {
        return skip(
            "postgres_selects_and_orders_as_the_shared_rules",
            "no PostgreSQL binaries",
        );
    };
    run(&pg.database("filters"), "PostgreSQL");
}

//! The store: SQLite (default) or PostgreSQL through one set of queries. All SQL lives in this
//! module; the rest of the server sees typed functions.
//!
//! Statements use `$1, $2, ...` placeholders in ascending order of appearance, which both
//! databases read the same way; dynamic statements go through `QueryBuilder`, which writes each
//! database's own placeholders.

mod ai_cache;
mod ingest;
mod jobs;
mod query;
mod remote;
mod reviews;
mod rollups;
mod search;

use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use powerpulse_shared::{Filtered, Summary};
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::Row;

pub use ai_cache::AiCacheKey;
pub use ingest::{IngestConversation, IngestOutcome, IngestRequest};
pub use jobs::{ClaimedItem, ClaimedMessage, JobRow, JobStats, StoredAnalysis};
pub use query::{sort_order_sql, ConversationRow, ListQuery, SortKey};
pub use remote::{RemoteBatchRow, RemoteRequest, RemoteState};
pub use reviews::ReviewChange;
pub use rollups::Slices;
pub use search::{plan, Counting, SearchPlan, Total, COUNT_CAP};

/// A store failure. Its text is logged, never returned to clients.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database refused or failed.
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    /// Migrations failed.
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored JSON column did not decode.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// `DATABASE_URL` names no supported database.
    #[error("DATABASE_URL must start with sqlite: or postgres:, got {0:?}")]
    UnsupportedUrl(String),
}

/// Result of store operations.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The database behind the API, and the data version this process last saw.
#[derive(Clone, Debug)]
pub struct Store {
    db: Db,
    seen: Arc<Mutex<Option<(i64, Instant)>>>,
}

/// Which database, with its pool.
#[derive(Clone, Debug)]
enum Db {
    /// One file, one machine (WAL mode).
    Sqlite(SqlitePool),
    /// A shared server: several PowerPulse instances can use it at once.
    Postgres(PgPool),
}

/// How long a data version read from the database is taken as current. Every request of the
/// metrics endpoints asks for it; reading it at most this often keeps a busy instance off the
/// database, while this instance's own writes show at once and another instance's within this.
pub const VERSION_TTL: Duration = Duration::from_millis(100);

/// Runs the same code against whichever pool the store holds.
macro_rules! with_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.db {
            $crate::store::Db::Sqlite($pool) => $body,
            $crate::store::Db::Postgres($pool) => $body,
        }
    };
}
pub(crate) use with_pool;

/// A message row's `role` column as a role (anything else is a corrupt store).
fn role_of<R: sqlx::Row>(row: &R) -> Result<powerpulse_shared::Role>
where
    for<'r> &'r str: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    parse(
        &col::<String, _>(row, "role")?,
        powerpulse_shared::Role::from_name,
        "message role",
    )
}

/// Milliseconds since the epoch, now.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl Store {
    fn new(db: Db) -> Store {
        Store {
            db,
            seen: Arc::new(Mutex::new(None)),
        }
    }

    /// Connects (creating a SQLite file if needed) and applies the migrations.
    pub async fn connect(url: &str) -> Result<Store> {
        if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(30))
                .foreign_keys(true);
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .connect_with(opts)
                .await?;
            sqlx::migrate!("migrations/sqlite").run(&pool).await?;
            Store::new(Db::Sqlite(pool)).with_rollups().await
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(30))
                .connect(url)
                .await?;
            sqlx::migrate!("migrations/postgres").run(&pool).await?;
            Store::new(Db::Postgres(pool)).with_rollups().await
        } else {
            Err(StoreError::UnsupportedUrl(
                url.split(':').next().unwrap_or_default().to_owned(),
            ))
        }
    }

    /// The store with its rollups built (once, for a store written before they existed).
    async fn with_rollups(self) -> Result<Store> {
        self.build_rollups().await?;
        Ok(self)
    }

    /// `sqlite` or `postgres`.
    pub fn kind(&self) -> powerpulse_shared::wire::StoreKind {
        use powerpulse_shared::wire::StoreKind;
        match &self.db {
            Db::Sqlite(_) => StoreKind::Sqlite,
            Db::Postgres(_) => StoreKind::Postgres,
        }
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<()> {
        with_pool!(self, pool => {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }

    /// Closes the pool (waits for connections to return).
    pub async fn close(&self) {
        with_pool!(self, pool => pool.close().await)
    }

    /// A counter that changes on every write that can change a metric, as read at most
    /// [`VERSION_TTL`] ago (this process's own writes count at once).
    pub async fn data_version(&self) -> Result<i64> {
        if let Some((v, at)) = *self.seen.lock().expect("version lock") {
            if at.elapsed() < VERSION_TTL {
                return Ok(v);
            }
        }
        self.data_version_now().await
    }

    /// The data version as the database holds it now.
    pub async fn data_version_now(&self) -> Result<i64> {
        let v: i64 = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT value FROM meta WHERE key = 'data_version'")
                .fetch_one(pool)
                .await?
        });
        self.saw_version(v);
        Ok(v)
    }

    /// Remembers a data version read or committed now (never going back).
    pub(crate) fn saw_version(&self, v: i64) {
        let mut seen = self.seen.lock().expect("version lock");
        let v = seen.map_or(v, |(old, _)| old.max(v));
        *seen = Some((v, Instant::now()));
    }

    /// Cleaning counts over the distinct files uploaded (a file uploaded twice counts once, as
    /// its first upload found it: later ones find its messages stored already).
    pub async fn filtered_totals(&self) -> Result<Filtered> {
        let rows: Vec<String> = with_pool!(self, pool => {
            sqlx::query_scalar(
                "SELECT u.filtered FROM uploads u
                 WHERE u.created_at = (SELECT MIN(v.created_at) FROM uploads v WHERE v.file_hash = u.file_hash)",
            )
            .fetch_all(pool)
            .await?
        });
        let mut total = Filtered::default();
        for r in rows {
            let f: Filtered = serde_json::from_str(&r)
                .map_err(|e| StoreError::Corrupt(format!("filtered: {e}")))?;
            total.merge(&f);
        }
        Ok(total)
    }

    /// When the data last changed (the newest upload or analysis), RFC 3339.
    pub async fn last_updated(&self) -> Result<Option<String>> {
        let ms: Option<i64> = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT MAX(updated_ms) FROM conversations")
                .fetch_one(pool)
                .await?
        });
        Ok(ms.map(powerpulse_shared::time::format_timestamp))
    }
}

/// Moves the data version, first in every transaction that changes conversations: the row lock
/// it takes orders those transactions, so the version each one stamps on the rows it writes
/// (`changed_version`) is the version it commits, and a reader at version v has seen every row
/// stamped v or less.
pub(crate) const NEXT_DATA_VERSION: &str =
    "UPDATE meta SET value = value + 1 WHERE key = 'data_version' RETURNING value";

/// Reads a column, naming it in the error.
/// A stored conversation's summary: the JSON column, with the status column's status (the
/// truth: a cancel or a failure changes only it).
pub(crate) fn stored_summary(json: &str, status: &str) -> Result<Summary> {
    let mut summary: Summary =
        serde_json::from_str(json).map_err(|e| StoreError::Corrupt(format!("summary: {e}")))?;
    summary.status = parse(
        status,
        powerpulse_shared::AnalysisStatus::parse,
        "analysis status",
    )?;
    Ok(summary)
}

/// A stored name read as its type; anything else is a corrupt store.
pub(crate) fn parse<T>(s: &str, parse: fn(&str) -> Option<T>, what: &str) -> Result<T> {
    parse(s).ok_or_else(|| StoreError::Corrupt(format!("{what} {s:?}")))
}

/// The columns the list filters and sorts by, each taken from the summary (which alone is read
/// back): written by the upload and again, for those an analysis changes, by the job worker.
pub(crate) struct Indexed {
    /// When the conversation started.
    pub first_message_ms: i64,
    /// Kept messages.
    pub total_messages: i64,
    /// 1-5.
    pub satisfaction_score: Option<i64>,
    /// Mean customer-message sentiment.
    pub avg_sentiment: Option<f64>,
    /// Mean reply gap (minutes).
    pub avg_response_time: Option<f64>,
}

impl Indexed {
    /// The columns of a summary.
    pub fn of(s: &Summary) -> Indexed {
        Indexed {
            first_message_ms: s.first_message_ms,
            total_messages: i64::from(s.total_messages),
            satisfaction_score: s.analysis.satisfaction_score.map(i64::from),
            avg_sentiment: s.analysis.avg_sentiment,
            avg_response_time: s.avg_response_time_minutes(),
        }
    }
}

pub(crate) fn col<'r, T, R>(row: &'r R, name: &'r str) -> Result<T>
where
    R: Row,
    &'r str: sqlx::ColumnIndex<R>,
    T: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    row.try_get(name).map_err(StoreError::Db)
}

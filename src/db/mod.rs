//! Storage: one diesel connection type for SQLite and PostgreSQL, a pool, embedded migrations,
//! and the helpers that keep blocking database work off the async worker threads.

/// The compare-and-swap writes of a versioned, soft-deletable table (`id`, `version`,
/// `updated_at`, `deleted_at`): one definition for every such table, and one place that
/// writes the search outbox row for each change of a table the index follows (`$indexed`:
/// `Some(outbox::Entity::…)`, or `None` for a table the index does not hold).
macro_rules! versioned_writes {
    ($table:ident, $row:ty, $fields:ty, $indexed:expr) => {
        impl $crate::db::VersionedRow for $row {
            fn version(&self) -> i64 {
                self.version
            }
            fn deleted_at(&self) -> Option<chrono::NaiveDateTime> {
                self.deleted_at
            }
        }

        /// Applies `fields` only if the row is live and still at `expected_version`; returns
        /// the new row, or `None` when it is gone or was changed meanwhile. Records the change
        /// in the search outbox when the index follows the table.
        pub fn update(
            conn: &mut $crate::db::DbConn,
            id: &str,
            expected_version: i64,
            fields: &$fields,
            now: chrono::NaiveDateTime,
        ) -> diesel::QueryResult<Option<$row>> {
            let row = diesel::update(
                $table::table
                    .filter($table::id.eq(id))
                    .filter($table::version.eq(expected_version))
                    .filter($table::deleted_at.is_null()),
            )
            .set((
                fields,
                $table::version.eq(expected_version + 1),
                $table::updated_at.eq(now),
            ))
            .returning($table::all_columns)
            .get_result(conn)
            .optional()?;
            if let (Some(entity), Some(_)) = ($indexed, &row) {
                $crate::db::outbox::enqueue(conn, entity, id, now)?;
            }
            Ok(row)
        }

        /// Sets (delete) or clears (restore) `deleted_at` if the row is still at
        /// `expected_version`; returns whether it was. Records the change in the search outbox
        /// when the index follows the table.
        pub fn set_deleted(
            conn: &mut $crate::db::DbConn,
            id: &str,
            expected_version: i64,
            deleted_at: Option<chrono::NaiveDateTime>,
            now: chrono::NaiveDateTime,
        ) -> diesel::QueryResult<bool> {
            let n = diesel::update(
                $table::table
                    .filter($table::id.eq(id))
                    .filter($table::version.eq(expected_version)),
            )
            .set((
                $table::deleted_at.eq(deleted_at),
                $table::version.eq(expected_version + 1),
                $table::updated_at.eq(now),
            ))
            .execute(conn)?;
            if let (Some(entity), 1) = ($indexed, n) {
                $crate::db::outbox::enqueue(conn, entity, id, now)?;
            }
            Ok(n == 1)
        }
    };
}

/// The reads of a table whose module states its visibility rule as `scoped(scope)`: one
/// record, and which of many, a scope lets see.
macro_rules! scoped_reads {
    ($table:ident, $row:ty, $scope:ty) => {
        /// The record, if the scope lets see it.
        pub fn find_visible(
            conn: &mut $crate::db::DbConn,
            scope: &$scope,
            id: &str,
        ) -> diesel::QueryResult<Option<$row>> {
            scoped(scope)
                .filter($table::id.eq(id.to_owned()))
                .first(conn)
                .optional()
        }

        /// Which of these records the scope lets see.
        pub fn visible_among(
            conn: &mut $crate::db::DbConn,
            scope: &$scope,
            ids: &[String],
        ) -> diesel::QueryResult<std::collections::HashSet<String>> {
            let mut out = std::collections::HashSet::new();
            // In chunks: SQLite limits the number of bound parameters.
            for chunk in ids.chunks(500) {
                let rows: Vec<$row> = scoped(scope)
                    .filter($table::id.eq_any(chunk.to_vec()))
                    .load(conn)?;
                out.extend(rows.into_iter().map(|r| r.id));
            }
            Ok(out)
        }
    };
}

/// Reads a page of a [`Seek`] from a boxed query of a table keyed by `$id`: the rows whose id
/// sorts after the seek's, in id order, at most its limit.
macro_rules! seek {
    ($query:expr, $id:expr, $seek:expr) => {{
        let mut query = $query;
        if let Some(after) = &$seek.after {
            query = query.filter($id.gt(after.clone()));
        }
        query.order($id.asc()).limit($seek.limit)
    }};
}

pub mod accounts;
pub mod audit;
pub mod centers;
pub mod compute;
pub mod engagements;
pub mod faculty;
pub mod invitations;
pub mod mail;
pub mod needs;
pub mod notifications;
pub mod organizations;
pub mod outbox;
pub mod projects;
pub mod provenance;
pub mod reports;
pub mod schema;
pub mod search;
pub mod statistics;
pub mod sync_jobs;
pub mod webhooks;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use diesel::prelude::*;
use diesel::r2d2::R2D2Connection;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::{PgConnection, SqliteConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::error::{AppError, AppResult, ErrorCode};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
/// Key of the PostgreSQL advisory lock that serialises migrations between processes (an
/// arbitrary constant, distinct from the outbox's).
const MIGRATION_LOCK: i64 = 0x006c_6961_6973_6d67;

diesel::define_sql_function! {
    /// SQL `lower()`: the same on both backends for ASCII (GPU model names, our own JSON).
    fn lower(x: diesel::sql_types::Nullable<diesel::sql_types::Text>) -> diesel::sql_types::Nullable<diesel::sql_types::Text>;
}

/// One connection type for both backends; queries written against it run on either.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

/// Where a page of a list keyed by id starts, and how many rows to read: those whose id sorts
/// after `after`, in id order (ids are UUIDv7, so creation order), at most `limit`.
#[derive(Debug, Clone, Default)]
pub struct Seek {
    pub after: Option<String>,
    pub limit: i64,
}

/// A row of a table written by `versioned_writes!`: what a compare-and-swap write checks.
pub trait VersionedRow {
    fn version(&self) -> i64;
    fn deleted_at(&self) -> Option<chrono::NaiveDateTime>;
}

/// Which backend a database URL selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A parsed database location: the backend plus what its driver wants to be given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    pub backend: Backend,
    /// For PostgreSQL the URL as given; for SQLite the file path.
    pub target: String,
}

impl DatabaseUrl {
    /// `postgres://` / `postgresql://` select PostgreSQL; `sqlite://PATH`, `sqlite:PATH` or a
    /// bare path select SQLite. An in-memory SQLite database is refused: behind a pool every
    /// connection would see its own empty database.
    pub fn parse(url: &str) -> anyhow::Result<Self> {
        let url = url.trim();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self {
                backend: Backend::Postgres,
                target: url.to_owned(),
            });
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        if path.is_empty() {
            anyhow::bail!("the database URL is empty");
        }
        if path.contains(":memory:") || path.contains("mode=memory") {
            anyhow::bail!(
                "an in-memory SQLite database cannot be shared by a connection pool; use a file"
            );
        }
        if url.contains("://") && !url.starts_with("sqlite://") {
            anyhow::bail!(
                "unsupported database URL scheme in {url:?}: use postgres://... or sqlite://PATH"
            );
        }
        Ok(Self {
            backend: Backend::Sqlite,
            target: path.to_owned(),
        })
    }
}

/// Bounds on every wait inside the database, set on each pooled connection. Without them one
/// stalled writer stalled everyone: a replica frozen (SIGSTOP) in the middle of a transaction
/// kept the outbox's ordering lock, every other replica's writes queued behind it for the
/// whole freeze, and their pools ran dry, so reads, login and `/readyz` failed too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DbTimeouts {
    /// Longest wait for a lock (PostgreSQL `lock_timeout`; SQLite `busy_timeout`, and the
    /// wait for this process's own writer turn). The request then answers 503.
    pub lock: Duration,
    /// Longest statement (PostgreSQL `statement_timeout`). Every statement the service runs
    /// is bounded by a page, a batch or an id list, so only a stuck one meets it.
    pub statement: Duration,
    /// Longest a transaction may sit idle (PostgreSQL
    /// `idle_in_transaction_session_timeout`): the server ends the session of a frozen
    /// process, which frees every lock it held.
    pub idle_in_transaction: Duration,
}

impl Default for DbTimeouts {
    fn default() -> Self {
        Self {
            lock: Duration::from_millis(3000),
            statement: Duration::from_secs(30),
            idle_in_transaction: Duration::from_secs(60),
        }
    }
}

impl DbTimeouts {
    /// What a connection runs to apply these bounds.
    fn statements(&self, backend: Backend) -> Vec<String> {
        match backend {
            Backend::Postgres => vec![
                format!("SET lock_timeout = {}", self.lock.as_millis()),
                format!("SET statement_timeout = {}", self.statement.as_millis()),
                format!(
                    "SET idle_in_transaction_session_timeout = {}",
                    self.idle_in_transaction.as_millis()
                ),
            ],
            Backend::Sqlite => vec![format!("PRAGMA busy_timeout = {}", self.lock.as_millis())],
        }
    }

    /// For migrations, which may rightly wait for another process's migrations and run long
    /// on a large table: no statement bound, and a lock wait of ten minutes.
    fn patient() -> Self {
        Self {
            lock: Duration::from_secs(600),
            statement: Duration::ZERO,
            idle_in_transaction: Duration::ZERO,
        }
    }
}

/// Opens connections for the pool, choosing the backend from the URL (diesel's own
/// `MultiConnection::establish` would try PostgreSQL first and treat anything else as a path).
#[derive(Debug)]
struct ConnManager {
    url: DatabaseUrl,
    timeouts: DbTimeouts,
}

impl r2d2::ManageConnection for ConnManager {
    type Connection = DbConn;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<DbConn, Self::Error> {
        match self.url.backend {
            Backend::Postgres => {
                let mut conn = PgConnection::establish(&self.url.target)
                    .map_err(diesel::r2d2::Error::ConnectionError)?;
                for set in self.timeouts.statements(Backend::Postgres) {
                    diesel::sql_query(set)
                        .execute(&mut conn)
                        .map_err(diesel::r2d2::Error::QueryError)?;
                }
                Ok(DbConn::Pg(conn))
            }
            Backend::Sqlite => {
                let mut conn = SqliteConnection::establish(&self.url.target)
                    .map_err(diesel::r2d2::Error::ConnectionError)?;
                // WAL lets readers run beside the writer; busy_timeout (the lock timeout, set
                // below) makes a second writer (another process, e.g. the CLI) wait a bounded
                // time instead of failing at once; synchronous=FULL
                // makes every commit durable across power loss, not just process crashes.
                // temp_store=MEMORY keeps statement journals (what a multi-row INSERT keeps
                // to undo itself) in memory: on disk they were a fifth of a bulk import's
                // database time, in write system calls.
                let busy = self.timeouts.statements(Backend::Sqlite);
                for pragma in busy.iter().map(String::as_str).chain([
                    "PRAGMA journal_mode = WAL",
                    "PRAGMA foreign_keys = ON",
                    "PRAGMA synchronous = FULL",
                    "PRAGMA temp_store = MEMORY",
                ]) {
                    diesel::sql_query(pragma)
                        .execute(&mut conn)
                        .map_err(diesel::r2d2::Error::QueryError)?;
                }
                Ok(DbConn::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), Self::Error> {
        conn.ping().map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        conn.is_broken()
    }
}

/// The pool plus what every use case needs to run database work correctly.
#[derive(Clone)]
pub struct Db {
    pool: r2d2::Pool<ConnManager>,
    backend: Backend,
    /// SQLite allows one writer at a time, and a deferred transaction that reads before it
    /// writes can fail with SQLITE_BUSY instead of waiting. Serialising write transactions
    /// inside the process removes that failure within one process; a second process writing
    /// at the same moment (e.g. a CLI import) can still make one of them fail. Waiting for
    /// the turn is bounded by the lock timeout like any other lock.
    sqlite_writer: Arc<WriterTurn>,
    timeouts: DbTimeouts,
    changes: Arc<ChangeSignal>,
}

/// Tells in-process followers (the search indexer) that a write transaction committed, so
/// they need not wait for their next poll.
#[derive(Default)]
pub struct ChangeSignal {
    count: Mutex<u64>,
    changed: std::sync::Condvar,
}

impl ChangeSignal {
    pub fn current(&self) -> u64 {
        *self.count.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn notify(&self) {
        *self.count.lock().unwrap_or_else(|p| p.into_inner()) += 1;
        self.changed.notify_all();
    }

    /// Waits until a change after `seen`, or `timeout`.
    pub fn wait(&self, seen: u64, timeout: Duration) {
        let guard = self.count.lock().unwrap_or_else(|p| p.into_inner());
        let _ = self
            .changed
            .wait_timeout_while(guard, timeout, |c| *c == seen);
    }
}

/// A lock whose wait is bounded: the turn of this process's one SQLite writer.
#[derive(Default)]
struct WriterTurn {
    taken: Mutex<bool>,
    freed: std::sync::Condvar,
}

struct Turn<'a>(&'a WriterTurn);

impl WriterTurn {
    /// Waits at most `timeout` for the turn. A poisoned lock only means another writer
    /// panicked; its transaction rolled back, so carry on.
    fn take(&self, timeout: Duration) -> Option<Turn<'_>> {
        let taken = self.taken.lock().unwrap_or_else(|p| p.into_inner());
        let (mut taken, _) = self
            .freed
            .wait_timeout_while(taken, timeout, |t| *t)
            .unwrap_or_else(|p| p.into_inner());
        if *taken {
            return None;
        }
        *taken = true;
        Some(Turn(self))
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        *self.0.taken.lock().unwrap_or_else(|p| p.into_inner()) = false;
        self.0.freed.notify_one();
    }
}

impl Db {
    /// Connects (creating the SQLite file and its folder if missing) and checks one connection,
    /// with the default [`DbTimeouts`].
    pub fn connect(url: &str, pool_size: u32, timeout: Duration) -> anyhow::Result<Self> {
        Self::connect_with(url, pool_size, timeout, DbTimeouts::default())
    }

    /// [`Db::connect`] with these bounds on waits inside the database.
    pub fn connect_with(
        url: &str,
        pool_size: u32,
        timeout: Duration,
        timeouts: DbTimeouts,
    ) -> anyhow::Result<Self> {
        let url = DatabaseUrl::parse(url)?;
        if url.backend == Backend::Sqlite {
            let path = std::path::Path::new(&url.target);
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(|e| {
                    anyhow::anyhow!("cannot create database folder {}: {e}", parent.display())
                })?;
            }
        }
        let backend = url.backend;
        let pool = r2d2::Pool::builder()
            .max_size(pool_size.max(1))
            .min_idle(Some(1))
            .connection_timeout(timeout)
            .build(ConnManager { url, timeouts })
            .map_err(|e| anyhow::anyhow!("cannot connect to the database: {e}"))?;
        Ok(Self {
            pool,
            backend,
            sqlite_writer: Arc::new(WriterTurn::default()),
            timeouts,
            changes: Arc::new(ChangeSignal::default()),
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The signal raised after every committed write transaction of this process.
    pub fn changes(&self) -> Arc<ChangeSignal> {
        self.changes.clone()
    }

    /// Runs `f` on a pooled connection on the current thread (for code already off the async
    /// executor, such as the search indexer).
    pub fn run_blocking<T>(&self, f: impl FnOnce(&mut DbConn) -> AppResult<T>) -> AppResult<T> {
        let mut conn = self.pool.get().map_err(AppError::unavailable)?;
        f(&mut conn)
    }

    /// Applies pending embedded migrations for this backend.
    ///
    /// Processes starting together (replicas of one deployment) take turns: on PostgreSQL
    /// under a session advisory lock, on SQLite in one immediate transaction. The first applies
    /// what is pending, the others then find nothing left to do (without this, the second
    /// would fail on tables the first just made).
    pub fn migrate(&self) -> anyhow::Result<Vec<String>> {
        use diesel::RunQueryDsl;
        let mut conn = self.pool.get()?;
        let patient = DbTimeouts::patient().statements(self.backend);
        for set in &patient {
            diesel::sql_query(set).execute(&mut *conn)?;
        }
        let names = |applied: Vec<diesel::migration::MigrationVersion<'_>>| {
            applied.into_iter().map(|v| v.to_string()).collect()
        };
        let applied: Result<Vec<String>, _> = match &mut *conn {
            DbConn::Pg(c) => {
                let lock = format!("SELECT pg_advisory_lock({MIGRATION_LOCK})");
                diesel::sql_query(lock).execute(c)?;
                let applied = c.run_pending_migrations(POSTGRES_MIGRATIONS).map(names);
                let unlock = format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})");
                diesel::sql_query(unlock).execute(c)?;
                applied
            }
            // One writer at a time: a second process waits (busy_timeout) for the first's
            // transaction, then finds nothing pending.
            DbConn::Sqlite(c) => {
                c.immediate_transaction(|c| c.run_pending_migrations(SQLITE_MIGRATIONS).map(names))
            }
        };
        // The connection goes back to the pool: with the service's bounds again.
        for set in self.timeouts.statements(self.backend) {
            diesel::sql_query(set).execute(&mut *conn)?;
        }
        applied.map_err(|e| anyhow::anyhow!("migration failed: {e}"))
    }

    /// Runs blocking work on a connection, on the blocking thread pool (never on an async
    /// worker). Use for reads; writes go through [`Db::write`].
    pub async fn run<T, F>(&self, f: F) -> AppResult<T>
    where
        F: FnOnce(&mut DbConn) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        actix_web::rt::task::spawn_blocking(move || {
            let mut conn = pool.get().map_err(AppError::unavailable)?;
            f(&mut conn)
        })
        .await
        .map_err(AppError::internal)?
    }

    /// Runs `f` inside one transaction on the blocking thread pool: everything it writes
    /// commits together or not at all.
    pub async fn write<T, F>(&self, f: F) -> AppResult<T>
    where
        F: FnOnce(&mut DbConn) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let this = self.clone();
        actix_web::rt::task::spawn_blocking(move || this.write_blocking(f))
            .await
            .map_err(AppError::internal)?
    }

    /// The blocking form of [`Db::write`], for the CLI and for code already off the executor.
    pub fn write_blocking<T, F>(&self, f: F) -> AppResult<T>
    where
        F: FnOnce(&mut DbConn) -> AppResult<T>,
    {
        let _turn = match self.backend {
            Backend::Sqlite => {
                Some(self.sqlite_writer.take(self.timeouts.lock).ok_or_else(|| {
                    AppError::busy("waited too long for this process's writer turn")
                })?)
            }
            Backend::Postgres => None,
        };
        let mut conn = self.pool.get().map_err(AppError::unavailable)?;
        let result = conn.transaction(|c| f(c));
        if result.is_ok() {
            self.changes.notify();
        }
        result
    }

    /// A cheap round trip for readiness checks that also proves the schema is there (the
    /// migrations table answers), not merely that a socket is open.
    pub async fn ping(&self) -> AppResult<()> {
        self.run(|c| {
            diesel::sql_query("SELECT 1 FROM __diesel_schema_migrations LIMIT 1")
                .execute(c)
                .map(|_| ())
                .map_err(AppError::from)
        })
        .await
    }
}

impl From<DieselError> for AppError {
    fn from(e: DieselError) -> Self {
        match e {
            DieselError::NotFound => AppError::new(ErrorCode::NotFound, "Resource not found"),
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => AppError::new(
                ErrorCode::Conflict,
                "A resource with the same unique values already exists",
            ),
            DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => AppError::new(
                ErrorCode::Conflict,
                "The change refers to, or is referred to by, another resource",
            ),
            DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
                AppError::unavailable(info.message())
            }
            DieselError::DatabaseError(_, info) if waited_too_long(info.message()) => {
                AppError::busy(info.message())
            }
            other => AppError::internal(other),
        }
    }
}

/// Whether a database error says a wait ran out (see [`DbTimeouts`]) or a lock could not be
/// had, rather than that the statement was wrong. diesel reports neither PostgreSQL's
/// SQLSTATE (55P03 lock_not_available, 57014 query_canceled, 40P01 deadlock_detected) nor
/// SQLite's SQLITE_BUSY as a kind, so the messages tell; PostgreSQL's are those of a server
/// with English messages (`lc_messages`), the default.
fn waited_too_long(message: &str) -> bool {
    [
        "lock timeout",
        "statement timeout",
        "deadlock detected",
        "could not obtain lock",
        "database is locked",
        "database table is locked",
    ]
    .iter()
    .any(|m| message.contains(m))
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        AppError::unavailable(e)
    }
}

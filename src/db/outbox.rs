//! The search outbox: what changed, in commit order, for the indexer to follow.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::search_outbox;

/// What an outbox row points at. An organization's row makes the indexer refresh every
/// profile, need and hosted centre of that organization (they carry its country).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Entity {
    Faculty,
    Need,
    Organization,
    Center,
}

impl Entity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Faculty => "faculty",
            Self::Need => "need",
            Self::Organization => "organization",
            Self::Center => "center",
        }
    }

    pub fn from_db(s: &str) -> Option<Self> {
        Some(match s {
            "faculty" => Self::Faculty,
            "need" => Self::Need,
            "organization" => Self::Organization,
            "center" => Self::Center,
            _ => return None,
        })
    }
}

/// Key of the PostgreSQL advisory lock that orders outbox inserts (an arbitrary constant).
pub const OUTBOX_LOCK: i64 = 0x006c_6961_6973_6f6e;

/// Records, inside the caller's transaction, that `id` changed. On PostgreSQL the insert first
/// takes a transaction-scoped advisory lock, held until commit: sequence numbers are then
/// handed out in commit order, so an indexer that has read up to `seq` never later sees a
/// smaller one appear. (SQLite has a single writer, which gives the same order.) The lock
/// lives no longer than the transaction, whose length the session's
/// `idle_in_transaction_session_timeout` bounds even when its process is frozen, and others
/// wait for it at most `lock_timeout` (see `DbTimeouts`): a stalled writer cannot stall the rest.
pub fn enqueue(conn: &mut DbConn, entity: Entity, id: &str, now: NaiveDateTime) -> QueryResult<()> {
    enqueue_many(conn, entity, &[id], now)
}

/// [`enqueue`] for many records at once: one multi-row INSERT (bulk imports).
pub fn enqueue_many(
    conn: &mut DbConn,
    entity: Entity,
    ids: &[&str],
    now: NaiveDateTime,
) -> QueryResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let rows: Vec<_> = ids
        .iter()
        .map(|id| {
            (
                search_outbox::entity.eq(entity.as_str()),
                search_outbox::entity_id.eq(*id),
                search_outbox::created_at.eq(now),
            )
        })
        .collect();
    // diesel offers multi-row inserts only on the concrete connections, hence the match.
    // SQLite binds at most 32,766 parameters per statement: 3 per row.
    match conn {
        DbConn::Pg(pg) => {
            diesel::sql_query(format!("SELECT pg_advisory_xact_lock({OUTBOX_LOCK})"))
                .execute(pg)?;
            for chunk in rows.chunks(5000) {
                diesel::insert_into(search_outbox::table)
                    .values(chunk)
                    .execute(pg)?;
            }
        }
        DbConn::Sqlite(c) => {
            for chunk in rows.chunks(5000) {
                diesel::insert_into(search_outbox::table)
                    .values(chunk)
                    .execute(c)?;
            }
        }
    }
    Ok(())
}

/// Rows after `seq`, oldest first.
pub fn after(conn: &mut DbConn, seq: i64, limit: i64) -> QueryResult<Vec<(i64, String, String)>> {
    search_outbox::table
        .filter(search_outbox::seq.gt(seq))
        .order(search_outbox::seq.asc())
        .limit(limit)
        .select((
            search_outbox::seq,
            search_outbox::entity,
            search_outbox::entity_id,
        ))
        .load(conn)
}

/// The newest position (0 when empty).
pub fn latest(conn: &mut DbConn) -> QueryResult<i64> {
    search_outbox::table
        .select(diesel::dsl::max(search_outbox::seq))
        .first::<Option<i64>>(conn)
        .map(Option::unwrap_or_default)
}

/// The oldest position still kept (None when the outbox is empty).
pub fn oldest(conn: &mut DbConn) -> QueryResult<Option<i64>> {
    search_outbox::table
        .select(diesel::dsl::min(search_outbox::seq))
        .first::<Option<i64>>(conn)
}

/// Forgets rows older than `before` that are at or below `applied` and that the saved alerts
/// have been checked against (the `alerts` worker follows this log too); returns how many.
pub fn prune(conn: &mut DbConn, applied: i64, before: NaiveDateTime) -> QueryResult<usize> {
    let alerts: Option<i64> = super::schema::workers::table
        .filter(super::schema::workers::name.eq("alerts"))
        .select(super::schema::workers::position)
        .first(conn)
        .optional()?;
    let upto = alerts.map_or(applied, |a| a.min(applied));
    diesel::delete(
        search_outbox::table
            .filter(search_outbox::seq.le(upto))
            .filter(search_outbox::created_at.lt(before)),
    )
    .execute(conn)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::db::Db;
    use crate::error::AppResult;

    /// Pruning keeps what the saved alerts have not been checked against, however old: they
    /// follow this log behind the index.
    #[test]
    fn pruning_waits_for_the_alerts() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let db = Db::connect(&url, 2, Duration::from_secs(5))?;
        db.migrate()?;
        let old = chrono::Utc::now().naive_utc() - chrono::TimeDelta::days(30);
        let remaining = db.write_blocking(|c| -> AppResult<i64> {
            let start = latest(c)?;
            for i in 0..4 {
                enqueue(c, Entity::Faculty, &format!("f{i}"), old)?;
            }
            // The alerts are checked up to the second row, the index has applied all four.
            diesel::update(
                super::super::schema::workers::table
                    .filter(super::super::schema::workers::name.eq("alerts")),
            )
            .set(super::super::schema::workers::position.eq(start + 2))
            .execute(c)?;
            let pruned = prune(c, start + 4, chrono::Utc::now().naive_utc())?;
            assert_eq!(pruned, 2);
            Ok(after(c, start, 10)?.len() as i64)
        })?;
        assert_eq!(remaining, 2);
        Ok(())
    }
}

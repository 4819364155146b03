//! Where a profile's fields came from, the publications its owner deleted, and its last sync
//! per source.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::{faculty_field_sources, faculty_sync_state, publication_tombstones};
use crate::domain::stored::{DataSource, SyncSource};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = faculty_field_sources)]
pub struct FieldSourceRow {
    pub faculty_id: String,
    pub field: String,
    pub source: DataSource,
    pub recorded_at: NaiveDateTime,
}

/// The field sources of these profiles.
pub fn field_sources(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<FieldSourceRow>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(500) {
        out.extend(
            faculty_field_sources::table
                .filter(faculty_field_sources::faculty_id.eq_any(chunk))
                .order((
                    faculty_field_sources::faculty_id,
                    faculty_field_sources::field,
                ))
                .select(FieldSourceRow::as_select())
                .load(conn)?,
        );
    }
    Ok(out)
}

/// Records that `source` set these fields of these profiles at `at`.
pub fn set_field_sources(
    conn: &mut DbConn,
    set: &[(&str, &str)],
    source: DataSource,
    at: NaiveDateTime,
) -> QueryResult<()> {
    if set.is_empty() {
        return Ok(());
    }
    // One DELETE per profile and one multi-row INSERT per chunk (no portable upsert on the
    // shared connection type).
    let mut ids: Vec<&str> = set.iter().map(|(id, _)| *id).collect();
    ids.dedup();
    for id in &ids {
        let fields: Vec<&str> = set
            .iter()
            .filter(|(i, _)| i == id)
            .map(|(_, f)| *f)
            .collect();
        diesel::delete(
            faculty_field_sources::table
                .filter(faculty_field_sources::faculty_id.eq(*id))
                .filter(faculty_field_sources::field.eq_any(fields)),
        )
        .execute(conn)?;
    }
    let rows: Vec<_> = set
        .iter()
        .map(|(id, field)| {
            (
                faculty_field_sources::faculty_id.eq(*id),
                faculty_field_sources::field.eq(*field),
                faculty_field_sources::source.eq(source),
                faculty_field_sources::recorded_at.eq(at),
            )
        })
        .collect();
    macro_rules! insert_all {
        ($c:expr) => {{
            for chunk in rows.chunks(5000) {
                diesel::insert_into(faculty_field_sources::table)
                    .values(chunk)
                    .execute($c)?;
            }
        }};
    }
    match conn {
        DbConn::Sqlite(c) => insert_all!(c),
        DbConn::Pg(c) => insert_all!(c),
    }
    Ok(())
}

/// The identities (`work_key`, `title_key`) of the publications the owner deleted.
pub fn tombstones(conn: &mut DbConn, faculty_id: &str) -> QueryResult<Vec<(String, String)>> {
    publication_tombstones::table
        .filter(publication_tombstones::faculty_id.eq(faculty_id))
        .select((
            publication_tombstones::work_key,
            publication_tombstones::title_key,
        ))
        .load(conn)
}

/// Remembers deleted publications (by identity) so that no sync brings them back.
pub fn add_tombstones(
    conn: &mut DbConn,
    faculty_id: &str,
    keys: &[(String, String)],
    at: NaiveDateTime,
) -> QueryResult<()> {
    for (work_key, title_key) in keys {
        diesel::delete(
            publication_tombstones::table
                .filter(publication_tombstones::faculty_id.eq(faculty_id))
                .filter(publication_tombstones::work_key.eq(work_key)),
        )
        .execute(conn)?;
        diesel::insert_into(publication_tombstones::table)
            .values((
                publication_tombstones::faculty_id.eq(faculty_id),
                publication_tombstones::work_key.eq(work_key),
                publication_tombstones::title_key.eq(title_key),
                publication_tombstones::deleted_at.eq(at),
            ))
            .execute(conn)?;
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = faculty_sync_state)]
pub struct SyncStateRow {
    pub faculty_id: String,
    pub source: SyncSource,
    pub attempted_at: NaiveDateTime,
    pub succeeded_at: Option<NaiveDateTime>,
    pub error_code: Option<String>,
    pub error_detail: Option<String>,
}

pub fn sync_states(conn: &mut DbConn, faculty_id: &str) -> QueryResult<Vec<SyncStateRow>> {
    faculty_sync_state::table
        .filter(faculty_sync_state::faculty_id.eq(faculty_id))
        .order(faculty_sync_state::source)
        .select(SyncStateRow::as_select())
        .load(conn)
}

/// Records an attempt to sync from `source`: a success, or the error (keeping the time of the
/// last success).
pub fn record_sync(
    conn: &mut DbConn,
    faculty_id: &str,
    source: SyncSource,
    at: NaiveDateTime,
    error: Option<(&str, &str)>,
) -> QueryResult<()> {
    let key = faculty_sync_state::table
        .filter(faculty_sync_state::faculty_id.eq(faculty_id))
        .filter(faculty_sync_state::source.eq(source));
    let before: Option<Option<NaiveDateTime>> = key
        .select(faculty_sync_state::succeeded_at)
        .first(conn)
        .optional()?;
    diesel::delete(key).execute(conn)?;
    let succeeded_at = match error {
        None => Some(at),
        Some(_) => before.flatten(),
    };
    diesel::insert_into(faculty_sync_state::table)
        .values((
            faculty_sync_state::faculty_id.eq(faculty_id),
            faculty_sync_state::source.eq(source),
            faculty_sync_state::attempted_at.eq(at),
            faculty_sync_state::succeeded_at.eq(succeeded_at),
            faculty_sync_state::error_code.eq(error.map(|e| e.0)),
            faculty_sync_state::error_detail.eq(error.map(|e| e.1)),
        ))
        .execute(conn)?;
    Ok(())
}

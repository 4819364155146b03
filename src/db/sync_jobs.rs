//! Bulk sync jobs: their rows, claiming one for a runner (a lease, so that a runner that died
//! gives its job to the next), and the profiles a job works through.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{faculty_profiles, faculty_sync_state, organizations, sync_jobs};
use super::{DbConn, Seek};
use crate::domain::stored::{SyncJobKind, SyncJobState};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = sync_jobs)]
pub struct SyncJobRow {
    pub id: String,
    pub university_id: Option<String>,
    pub kind: SyncJobKind,
    pub requested_by: Option<String>,
    pub sources: String,
    pub state: SyncJobState,
    pub total: i32,
    pub processed: i32,
    pub updated: i32,
    pub unchanged: i32,
    pub failed: i32,
    pub cursor: Option<String>,
    pub errors: String,
    pub detail: Option<String>,
    pub runner: Option<String>,
    pub lease_until: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub started_at: Option<NaiveDateTime>,
    pub finished_at: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
}

/// A new job: queued, or (`runner` with its lease) already taken by whoever makes it.
pub struct NewJob<'a> {
    pub id: &'a str,
    pub university_id: Option<&'a str>,
    pub kind: SyncJobKind,
    pub requested_by: Option<&'a str>,
    pub sources: &'a str,
    pub runner: Option<(&'a str, NaiveDateTime)>,
}

pub fn insert(conn: &mut DbConn, job: &NewJob<'_>, now: NaiveDateTime) -> QueryResult<SyncJobRow> {
    diesel::insert_into(sync_jobs::table)
        .values((
            sync_jobs::id.eq(job.id),
            sync_jobs::university_id.eq(job.university_id),
            sync_jobs::kind.eq(job.kind),
            sync_jobs::requested_by.eq(job.requested_by),
            sync_jobs::sources.eq(job.sources),
            sync_jobs::state.eq(if job.runner.is_some() {
                SyncJobState::Running
            } else {
                SyncJobState::Queued
            }),
            sync_jobs::runner.eq(job.runner.map(|(r, _)| r)),
            sync_jobs::lease_until.eq(job.runner.map(|(_, l)| l)),
            sync_jobs::created_at.eq(now),
            sync_jobs::updated_at.eq(now),
        ))
        .returning(sync_jobs::all_columns)
        .get_result(conn)
}

/// The university's job that is queued or running, if there is one; takes the university's
/// row lock first, so that two requests at once make one job between them.
pub fn active_for(conn: &mut DbConn, university_id: &str) -> QueryResult<Option<SyncJobRow>> {
    diesel::update(organizations::table.filter(organizations::id.eq(university_id)))
        .set(organizations::id.eq(university_id))
        .execute(conn)?;
    sync_jobs::table
        .filter(sync_jobs::university_id.eq(university_id))
        .filter(sync_jobs::state.eq_any([SyncJobState::Queued, SyncJobState::Running]))
        .select(SyncJobRow::as_select())
        .first(conn)
        .optional()
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<SyncJobRow>> {
    sync_jobs::table
        .filter(sync_jobs::id.eq(id))
        .select(SyncJobRow::as_select())
        .first(conn)
        .optional()
}

/// The oldest job that is queued, or running under a lease that ran out (its runner died).
pub fn next_claimable(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<Option<String>> {
    sync_jobs::table
        .filter(
            sync_jobs::state
                .eq(SyncJobState::Queued)
                .or(sync_jobs::state
                    .eq(SyncJobState::Running)
                    .and(sync_jobs::lease_until.lt(now))),
        )
        .order(sync_jobs::created_at)
        .select(sync_jobs::id)
        .first(conn)
        .optional()
}

/// Takes job `id` (see [`next_claimable`]) for `runner` until `lease_until`; `None` when
/// another runner took it first.
pub fn claim(
    conn: &mut DbConn,
    id: &str,
    runner: &str,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
) -> QueryResult<Option<SyncJobRow>> {
    let taken = diesel::update(
        sync_jobs::table.filter(sync_jobs::id.eq(id)).filter(
            sync_jobs::state
                .eq(SyncJobState::Queued)
                .or(sync_jobs::state
                    .eq(SyncJobState::Running)
                    .and(sync_jobs::lease_until.lt(now))),
        ),
    )
    .set((
        sync_jobs::state.eq(SyncJobState::Running),
        sync_jobs::runner.eq(runner),
        sync_jobs::lease_until.eq(lease_until),
        sync_jobs::updated_at.eq(now),
    ))
    .execute(conn)?;
    if taken == 0 {
        return Ok(None);
    }
    find(conn, id)
}

/// The job's progress after some profiles, and a renewed lease.
pub struct Progress<'a> {
    pub total: i32,
    pub processed: i32,
    pub updated: i32,
    pub unchanged: i32,
    pub failed: i32,
    pub cursor: Option<&'a str>,
    pub errors: &'a str,
}

/// Job `id` while `runner` holds it: what a runner's writes are filtered by, so that one that
/// lost its job (its lease ran out, another took it) writes nothing.
macro_rules! held {
    ($id:expr, $runner:expr) => {
        sync_jobs::table
            .filter(sync_jobs::id.eq($id))
            .filter(sync_jobs::runner.eq($runner))
    };
}

/// Saves progress and renews the lease, if `runner` still holds the job; `false` when it
/// lost it (its lease ran out and another runner took the job).
pub fn save_progress(
    conn: &mut DbConn,
    id: &str,
    runner: &str,
    p: &Progress<'_>,
    started_at: NaiveDateTime,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(held!(id, runner))
        .set((
            sync_jobs::total.eq(p.total),
            sync_jobs::processed.eq(p.processed),
            sync_jobs::updated.eq(p.updated),
            sync_jobs::unchanged.eq(p.unchanged),
            sync_jobs::failed.eq(p.failed),
            sync_jobs::cursor.eq(p.cursor),
            sync_jobs::errors.eq(p.errors),
            sync_jobs::started_at.eq(started_at),
            sync_jobs::lease_until.eq(lease_until),
            sync_jobs::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// Renews the lease while one profile takes long; `false` when `runner` lost the job.
pub fn renew(
    conn: &mut DbConn,
    id: &str,
    runner: &str,
    lease_until: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(held!(id, runner).filter(sync_jobs::state.eq(SyncJobState::Running)))
        .set(sync_jobs::lease_until.eq(lease_until))
        .execute(conn)?;
    Ok(n == 1)
}

/// Ends the job, if `runner` still holds it.
pub fn finish(
    conn: &mut DbConn,
    id: &str,
    runner: &str,
    state: SyncJobState,
    detail: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(held!(id, runner))
        .set((
            sync_jobs::state.eq(state),
            sync_jobs::detail.eq(detail),
            sync_jobs::finished_at.eq(now),
            sync_jobs::lease_until.eq(None::<NaiveDateTime>),
            sync_jobs::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// The PostgreSQL advisory lock that makes deciding on a refresh job one replica's at a time
/// (SQLite has one writer anyway).
const REFRESH_LOCK: i64 = 0x6c69_6169_736f_6e02;

/// Takes the refresh decision's lock until the transaction ends.
pub fn lock_refresh(conn: &mut DbConn) -> QueryResult<()> {
    if let DbConn::Pg(pg) = conn {
        diesel::sql_query(format!("SELECT pg_advisory_xact_lock({REFRESH_LOCK})")).execute(pg)?;
    }
    Ok(())
}

/// When the last periodic refresh job was created.
pub fn last_refresh(conn: &mut DbConn) -> QueryResult<Option<NaiveDateTime>> {
    sync_jobs::table
        .filter(sync_jobs::kind.eq(SyncJobKind::Refresh))
        .order(sync_jobs::created_at.desc())
        .select(sync_jobs::created_at)
        .first(conn)
        .optional()
}

/// Which profiles a job takes.
pub struct Selection<'a> {
    /// One university's, or every university's.
    pub university_id: Option<&'a str>,
    /// Only profiles without a sync attempt after this time (the periodic refresh).
    pub not_synced_since: Option<NaiveDateTime>,
}

/// The profiles a selection takes, as a boxed query of `faculty_profiles` (`$query` is the
/// table with its select or count) filtered by the selection.
macro_rules! selected {
    ($query:expr, $selection:expr) => {{
        let selection: &Selection<'_> = $selection;
        let mut q = $query
            .filter(faculty_profiles::deleted_at.is_null())
            .filter(
                faculty_profiles::orcid
                    .is_not_null()
                    .or(faculty_profiles::openalex_id.is_not_null()),
            )
            .into_boxed();
        if let Some(u) = selection.university_id {
            q = q.filter(faculty_profiles::university_id.eq(u.to_owned()));
        }
        if let Some(since) = selection.not_synced_since {
            q = q.filter(
                faculty_profiles::id.ne_all(
                    faculty_sync_state::table
                        .filter(faculty_sync_state::attempted_at.gt(since))
                        .select(faculty_sync_state::faculty_id),
                ),
            );
        }
        q
    }};
}

/// Live profiles with an ORCID iD or OpenAlex id, in id order after `after`.
pub fn profiles(
    conn: &mut DbConn,
    selection: &Selection<'_>,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<String>> {
    let mut q = selected!(
        faculty_profiles::table.select(faculty_profiles::id),
        selection
    );
    if let Some(after) = after {
        q = q.filter(faculty_profiles::id.gt(after.to_owned()));
    }
    q.order(faculty_profiles::id).limit(limit).load(conn)
}

/// How many profiles `profiles` would give in all.
pub fn count_profiles(conn: &mut DbConn, selection: &Selection<'_>) -> QueryResult<i64> {
    selected!(faculty_profiles::table.count(), selection).get_result(conn)
}
/// Jobs of these universities (`None`: every job, the refresh's included), oldest first.
pub fn list(
    conn: &mut DbConn,
    universities: Option<&[String]>,
    university_id: Option<&str>,
    page: &Seek,
) -> QueryResult<Vec<SyncJobRow>> {
    let mut q = sync_jobs::table
        .select(SyncJobRow::as_select())
        .into_boxed();
    if let Some(u) = universities {
        q = q.filter(sync_jobs::university_id.eq_any(u.to_vec()));
    }
    if let Some(u) = university_id {
        q = q.filter(sync_jobs::university_id.eq(u.to_owned()));
    }
    seek!(q, sync_jobs::id, page).load(conn)
}

//! Engagement rows, their append-only events, and visibility-scoped queries.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{engagement_events, engagements, faculty_profiles, needs};
use super::{DbConn, Seek};
use crate::domain::stored::{DeclineReason, EngagementState};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = engagements)]
pub struct EngagementRow {
    pub id: String,
    pub need_id: String,
    pub faculty_id: String,
    pub state: EngagementState,
    pub created_by: String,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = engagement_events)]
pub struct EventRow {
    pub seq: i64,
    pub engagement_id: String,
    pub from_state: Option<EngagementState>,
    pub to_state: EngagementState,
    pub actor_user_id: String,
    pub reason_code: Option<DeclineReason>,
    pub reason_text: Option<String>,
    pub at: NaiveDateTime,
}

/// An event to append.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = engagement_events)]
pub struct NewEvent<'a> {
    pub engagement_id: &'a str,
    pub from_state: Option<EngagementState>,
    pub to_state: EngagementState,
    pub actor_user_id: &'a str,
    pub reason_code: Option<DeclineReason>,
    pub reason_text: Option<&'a str>,
    pub at: NaiveDateTime,
}

/// Which engagements a caller may see; decided by `service::policy`, applied here in SQL.
#[derive(Debug, Clone, Default)]
pub struct EngagementScope {
    /// Everything (operators).
    pub all: bool,
    /// Companies whose needs' engagements the caller sees.
    pub companies: Vec<String>,
    /// Universities whose profiles' engagements the caller sees, once disclosed.
    pub universities: Vec<String>,
    /// The user whose profiles' engagements they see, once disclosed to them.
    pub owner_user_id: String,
    /// An engagement is disclosed to the professor once it has an event into one of these.
    pub disclosed_by: Vec<EngagementState>,
}

#[derive(Debug, Default)]
pub struct EngagementFilter {
    pub need_id: Option<String>,
    pub faculty_id: Option<String>,
    pub state: Option<EngagementState>,
}

type Boxed<'a> = engagements::BoxedQuery<'a, <DbConn as diesel::Connection>::Backend>;

pub(super) fn scoped<'a>(scope: &EngagementScope) -> Boxed<'a> {
    let q = engagements::table
        .select(engagements::all_columns)
        .into_boxed();
    if scope.all {
        return q;
    }
    let company_needs = needs::table
        .filter(needs::company_id.eq_any(scope.companies.clone()))
        .select(needs::id);
    let followed = faculty_profiles::table
        .filter(
            faculty_profiles::owner_user_id
                .eq(scope.owner_user_id.clone())
                .or(faculty_profiles::university_id.eq_any(scope.universities.clone())),
        )
        .select(faculty_profiles::id);
    let disclosed = engagement_events::table
        .filter(engagement_events::to_state.eq_any(scope.disclosed_by.clone()))
        .select(engagement_events::engagement_id);
    q.filter(
        engagements::need_id
            .eq_any(company_needs)
            .or(engagements::faculty_id
                .eq_any(followed)
                .and(engagements::id.eq_any(disclosed))),
    )
}

pub fn insert(
    conn: &mut DbConn,
    id: &str,
    need_id: &str,
    faculty_id: &str,
    state: EngagementState,
    created_by: &str,
    now: NaiveDateTime,
) -> QueryResult<EngagementRow> {
    diesel::insert_into(engagements::table)
        .values((
            engagements::id.eq(id),
            engagements::need_id.eq(need_id),
            engagements::faculty_id.eq(faculty_id),
            engagements::state.eq(state),
            engagements::created_by.eq(created_by),
            engagements::version.eq(1i64),
            engagements::created_at.eq(now),
            engagements::updated_at.eq(now),
        ))
        .returning(engagements::all_columns)
        .get_result(conn)
}

/// Inserts a new engagement of the same pair in place of `old`, carrying `old`'s history over
/// to it (its events, in order, as they were) and the funded projects that named `old`; `old`
/// itself is removed. The unique pair index allows one engagement per pair, so the new one can
/// only be written once the old one is gone. For a professor's interest in a need whose
/// company had only shortlisted them: see `service::engagements::create`. `None` (nothing
/// written) when `old` was changed or removed meanwhile (compare-and-swap on its version).
pub fn replace(
    conn: &mut DbConn,
    old: &EngagementRow,
    id: &str,
    state: EngagementState,
    created_by: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<EngagementRow>> {
    use super::schema::funded_projects;
    // Lock the old row at the version that was read: a concurrent move cannot slip in between.
    let locked = diesel::update(
        engagements::table
            .filter(engagements::id.eq(&old.id))
            .filter(engagements::version.eq(old.version)),
    )
    .set(engagements::version.eq(old.version))
    .execute(conn)?;
    if locked != 1 {
        return Ok(None);
    }
    let history = events(conn, std::slice::from_ref(&old.id))?
        .remove(&old.id)
        .unwrap_or_default();
    diesel::delete(engagement_events::table.filter(engagement_events::engagement_id.eq(&old.id)))
        .execute(conn)?;
    diesel::delete(engagements::table.filter(engagements::id.eq(&old.id))).execute(conn)?;
    let row = insert(
        conn,
        id,
        &old.need_id,
        &old.faculty_id,
        state,
        created_by,
        now,
    )?;
    for e in &history {
        add_event(
            conn,
            &NewEvent {
                engagement_id: id,
                from_state: e.from_state,
                to_state: e.to_state,
                actor_user_id: &e.actor_user_id,
                reason_code: e.reason_code,
                reason_text: e.reason_text.as_deref(),
                at: e.at,
            },
        )?;
    }
    diesel::update(funded_projects::table.filter(funded_projects::engagement_id.eq(&old.id)))
        .set(funded_projects::engagement_id.eq(id))
        .execute(conn)?;
    Ok(Some(row))
}

/// The company of each need named (needs of any state, deleted ones too).
pub fn companies_of(
    conn: &mut DbConn,
    need_ids: &[String],
) -> QueryResult<HashMap<String, String>> {
    let rows: Vec<(String, String)> = needs::table
        .filter(needs::id.eq_any(need_ids))
        .select((needs::id, needs::company_id))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

/// Moves to `state` only if the row is still at `expected_version`; `None` when it was
/// changed meanwhile.
pub fn set_state(
    conn: &mut DbConn,
    id: &str,
    expected_version: i64,
    state: EngagementState,
    now: NaiveDateTime,
) -> QueryResult<Option<EngagementRow>> {
    diesel::update(
        engagements::table
            .filter(engagements::id.eq(id))
            .filter(engagements::version.eq(expected_version)),
    )
    .set((
        engagements::state.eq(state),
        engagements::version.eq(expected_version + 1),
        engagements::updated_at.eq(now),
    ))
    .returning(engagements::all_columns)
    .get_result(conn)
    .optional()
}

/// Appends to an engagement's history (events are never updated or deleted).
pub fn add_event(conn: &mut DbConn, event: &NewEvent<'_>) -> QueryResult<()> {
    diesel::insert_into(engagement_events::table)
        .values(event)
        .execute(conn)
        .map(|_| ())
}

/// An engagement by id, whoever may see it (for checking references to it).
pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<EngagementRow>> {
    engagements::table
        .filter(engagements::id.eq(id))
        .select(engagements::all_columns)
        .first(conn)
        .optional()
}

/// A need's engagements in one of `states`, whoever may see them.
pub fn of_need_in(
    conn: &mut DbConn,
    need_id: &str,
    states: &[EngagementState],
) -> QueryResult<Vec<EngagementRow>> {
    engagements::table
        .filter(engagements::need_id.eq(need_id))
        .filter(engagements::state.eq_any(states.to_vec()))
        .select(engagements::all_columns)
        .order(engagements::id.asc())
        .load(conn)
}

/// The engagement of a need and a profile, whoever may see it.
pub fn find_pair(
    conn: &mut DbConn,
    need_id: &str,
    faculty_id: &str,
) -> QueryResult<Option<EngagementRow>> {
    engagements::table
        .filter(engagements::need_id.eq(need_id))
        .filter(engagements::faculty_id.eq(faculty_id))
        .select(engagements::all_columns)
        .first(conn)
        .optional()
}

pub fn find_visible(
    conn: &mut DbConn,
    scope: &EngagementScope,
    id: &str,
) -> QueryResult<Option<EngagementRow>> {
    scoped(scope)
        .filter(engagements::id.eq(id.to_owned()))
        .first(conn)
        .optional()
}

/// Which of these engagements the scope lets see, each with its need's company.
pub fn visible_among(
    conn: &mut DbConn,
    scope: &EngagementScope,
    ids: &[String],
) -> QueryResult<HashMap<String, String>> {
    let mut out = HashMap::new();
    // In chunks: SQLite limits the number of bound parameters.
    for chunk in ids.chunks(500) {
        let rows: Vec<EngagementRow> = scoped(scope)
            .filter(engagements::id.eq_any(chunk.to_vec()))
            .load(conn)?;
        let need_ids: Vec<&str> = rows.iter().map(|r| r.need_id.as_str()).collect();
        let companies: HashMap<String, String> = needs::table
            .filter(needs::id.eq_any(need_ids))
            .select((needs::id, needs::company_id))
            .load::<(String, String)>(conn)?
            .into_iter()
            .collect();
        for r in rows {
            let company = companies.get(&r.need_id).cloned().unwrap_or_default();
            out.insert(r.id, company);
        }
    }
    Ok(out)
}

pub fn list(
    conn: &mut DbConn,
    scope: &EngagementScope,
    f: &EngagementFilter,
    page: &Seek,
) -> QueryResult<Vec<EngagementRow>> {
    let mut q = scoped(scope);
    if let Some(n) = &f.need_id {
        q = q.filter(engagements::need_id.eq(n.clone()));
    }
    if let Some(p) = &f.faculty_id {
        q = q.filter(engagements::faculty_id.eq(p.clone()));
    }
    if let Some(s) = &f.state {
        q = q.filter(engagements::state.eq(*s));
    }
    seek!(q, engagements::id, page).load(conn)
}

/// The events of these engagements, each list oldest first.
pub fn events(conn: &mut DbConn, ids: &[String]) -> QueryResult<HashMap<String, Vec<EventRow>>> {
    let rows: Vec<EventRow> = engagement_events::table
        .filter(engagement_events::engagement_id.eq_any(ids))
        .order(engagement_events::seq.asc())
        .select(engagement_events::all_columns)
        .load(conn)?;
    let mut out: HashMap<String, Vec<EventRow>> = HashMap::new();
    for r in rows {
        out.entry(r.engagement_id.clone()).or_default().push(r);
    }
    Ok(out)
}

/// The profiles a need reached: whose engagement with it was ever in one of `states` (an
/// invitation or their interest), whatever its state now.
pub fn faculty_reached(
    conn: &mut DbConn,
    need_id: &str,
    states: &[EngagementState],
) -> QueryResult<Vec<String>> {
    engagements::table
        .inner_join(
            engagement_events::table.on(engagement_events::engagement_id.eq(engagements::id)),
        )
        .filter(engagements::need_id.eq(need_id))
        .filter(engagement_events::to_state.eq_any(states.to_vec()))
        .select(engagements::faculty_id)
        .distinct()
        .load(conn)
}

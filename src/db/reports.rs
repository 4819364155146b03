//! What the liaison offices' reports read: through the same visibility scopes as the GET
//! endpoints (decided in `service::policy`), so a report never counts or names what its
//! reader could not see there.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::centers::ParticipantScope;
use super::engagements::{EngagementRow, EngagementScope, EventRow};
use super::schema::{engagement_events, engagements, faculty_profiles};
use crate::domain::stored::{OrganizationKind, PaymentStatus};

/// Engagements with a university's profiles (created in `[from, to)`) that `scope` lets see,
/// with their events in order.
pub fn engagements_of_university(
    conn: &mut DbConn,
    scope: &EngagementScope,
    university_id: &str,
    from: Option<NaiveDateTime>,
    to: Option<NaiveDateTime>,
) -> QueryResult<Vec<(EngagementRow, Vec<EventRow>)>> {
    let profiles = faculty_profiles::table
        .filter(faculty_profiles::university_id.eq(university_id.to_owned()))
        .select(faculty_profiles::id);
    let mut q = super::engagements::scoped(scope)
        .filter(engagements::faculty_id.eq_any(profiles))
        .order(engagements::id.asc());
    if let Some(f) = from {
        q = q.filter(engagements::created_at.ge(f));
    }
    if let Some(t) = to {
        q = q.filter(engagements::created_at.lt(t));
    }
    let rows: Vec<EngagementRow> = q.load(conn)?;
    let mut events: HashMap<String, Vec<EventRow>> = HashMap::new();
    // In chunks: SQLite limits the number of bound parameters.
    for chunk in rows.chunks(500) {
        let ids: Vec<&str> = chunk.iter().map(|r| r.id.as_str()).collect();
        for e in engagement_events::table
            .filter(engagement_events::engagement_id.eq_any(ids))
            .order(engagement_events::seq.asc())
            .select(EventRow::as_select())
            .load::<EventRow>(conn)?
        {
            events.entry(e.engagement_id.clone()).or_default().push(e);
        }
    }
    Ok(rows
        .into_iter()
        .map(|r| {
            let ev = events.remove(&r.id).unwrap_or_default();
            (r, ev)
        })
        .collect())
}

/// A university's funded projects that `scope` lets see.
pub fn projects_of_university(
    conn: &mut DbConn,
    scope: &ParticipantScope,
    university_id: &str,
) -> QueryResult<Vec<super::projects::ProjectRow>> {
    use super::schema::funded_projects as p;
    super::projects::scoped(scope)
        .filter(p::university_id.eq(university_id.to_owned()))
        .order(p::id.asc())
        .load(conn)
}

/// Payments received per project (in the project's currency, which payments always share).
pub fn received_by_project(
    conn: &mut DbConn,
    ids: &[String],
) -> QueryResult<HashMap<String, i128>> {
    use super::schema::project_payments as pp;
    let mut out: HashMap<String, i128> = HashMap::new();
    for chunk in ids.chunks(500) {
        for (project, amount) in pp::table
            .filter(pp::project_id.eq_any(chunk))
            .filter(pp::status.eq(PaymentStatus::Received))
            .select((pp::project_id, pp::amount_minor))
            .load::<(String, i64)>(conn)?
        {
            *out.entry(project).or_default() += i128::from(amount);
        }
    }
    Ok(out)
}

/// The centres a university hosts that `scope` lets see.
pub fn centers_of_university(
    conn: &mut DbConn,
    scope: &ParticipantScope,
    university_id: &str,
) -> QueryResult<Vec<super::centers::CenterRow>> {
    use super::schema::centers as c;
    super::centers::scoped(scope)
        .filter(c::host_university_id.eq(university_id.to_owned()))
        .order(c::id.asc())
        .load(conn)
}

/// Organizations by id: (name, kind).
pub fn organizations(
    conn: &mut DbConn,
    ids: Vec<String>,
) -> QueryResult<HashMap<String, (String, OrganizationKind)>> {
    use super::schema::organizations as o;
    let mut out = HashMap::new();
    for chunk in ids.chunks(500) {
        for (id, name, kind) in o::table
            .filter(o::id.eq_any(chunk))
            .select((o::id, o::name, o::kind))
            .load::<(String, String, OrganizationKind)>(conn)?
        {
            out.insert(id, (name, kind));
        }
    }
    Ok(out)
}

/// Profiles by id: (name, local name).
pub fn profile_names(
    conn: &mut DbConn,
    ids: Vec<String>,
) -> QueryResult<HashMap<String, (String, Option<String>)>> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(500) {
        for (id, name, local) in faculty_profiles::table
            .filter(faculty_profiles::id.eq_any(chunk))
            .select((
                faculty_profiles::id,
                faculty_profiles::name,
                faculty_profiles::local_name,
            ))
            .load::<(String, String, Option<String>)>(conn)?
        {
            out.insert(id, (name, local));
        }
    }
    Ok(out)
}

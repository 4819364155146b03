//! What the liaison offices' reports read.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::engagements::{EngagementRow, EventRow};
use super::schema::{engagement_events, engagements, faculty_profiles};

/// Engagements with a university's profiles (created in `[from, to)`), with their events in
/// order.
pub fn engagements_of_university(
    conn: &mut DbConn,
    university_id: &str,
    from: Option<NaiveDateTime>,
    to: Option<NaiveDateTime>,
) -> QueryResult<Vec<(EngagementRow, Vec<EventRow>)>> {
    let mut q = engagements::table
        .inner_join(faculty_profiles::table.on(faculty_profiles::id.eq(engagements::faculty_id)))
        .filter(faculty_profiles::university_id.eq(university_id.to_owned()))
        .select(EngagementRow::as_select())
        .order(engagements::id.asc())
        .into_boxed();
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

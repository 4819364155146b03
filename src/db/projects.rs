//! Funded project rows, their co-investigators and payments, and participant-scoped queries.
//! Projects are not in the search index, so their writes need no outbox rows.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::centers::ParticipantScope;
use super::schema::{faculty_profiles, funded_projects, project_investigators, project_payments};
use super::{DbConn, Seek};
use crate::domain::stored::{ParticipantVisibility, PaymentStatus, ProjectStatus, ProjectType};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = funded_projects)]
pub struct ProjectRow {
    pub id: String,
    pub title: String,
    pub description: Option<String>,
    pub kind: ProjectType,
    pub sponsor_id: String,
    pub university_id: String,
    pub pi_id: Option<String>,
    pub center_id: Option<String>,
    pub need_id: Option<String>,
    pub engagement_id: Option<String>,
    pub amount_minor: i64,
    pub currency: String,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    pub status: ProjectStatus,
    pub visibility: ParticipantVisibility,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub deleted_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, PartialEq, Insertable, AsChangeset)]
#[diesel(table_name = funded_projects, treat_none_as_null = true)]
pub struct ProjectFields {
    pub title: String,
    pub description: Option<String>,
    pub kind: ProjectType,
    pub sponsor_id: String,
    pub university_id: String,
    pub pi_id: Option<String>,
    pub center_id: Option<String>,
    pub need_id: Option<String>,
    pub engagement_id: Option<String>,
    pub amount_minor: i64,
    pub currency: String,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    pub status: ProjectStatus,
    pub visibility: ParticipantVisibility,
}

#[derive(Debug, Default)]
pub struct ProjectFilter {
    pub university_id: Option<String>,
    pub sponsor_id: Option<String>,
    pub center_id: Option<String>,
    pub need_id: Option<String>,
    pub faculty_id: Option<String>,
    pub status: Option<ProjectStatus>,
    pub kind: Option<ProjectType>,
}

type Boxed<'a> = funded_projects::BoxedQuery<'a, <DbConn as diesel::Connection>::Backend>;

/// The visibility rule as SQL: operators see all; others see public projects, projects
/// performed or sponsored by an organization they act for, and projects whose PI or
/// co-investigator profile they own.
pub(super) fn scoped<'a>(scope: &ParticipantScope) -> Boxed<'a> {
    let mut q = funded_projects::table
        .select(funded_projects::all_columns)
        .into_boxed();
    if !scope.include_deleted {
        q = q.filter(funded_projects::deleted_at.is_null());
    }
    if scope.all {
        return q;
    }
    let user = scope.user_id.clone().unwrap_or_default();
    let visibilities: Vec<ParticipantVisibility> = if scope.public {
        vec![ParticipantVisibility::Public]
    } else {
        vec![]
    };
    let led = faculty_profiles::table
        .filter(faculty_profiles::owner_user_id.eq(user.clone()))
        .filter(faculty_profiles::deleted_at.is_null())
        .select(faculty_profiles::id.nullable());
    let owned = faculty_profiles::table
        .filter(faculty_profiles::owner_user_id.eq(user))
        .filter(faculty_profiles::deleted_at.is_null())
        .select(faculty_profiles::id);
    let co_investigated = project_investigators::table
        .filter(project_investigators::faculty_id.eq_any(owned))
        .select(project_investigators::project_id);
    q.filter(
        funded_projects::visibility
            .eq_any(visibilities)
            .or(funded_projects::university_id.eq_any(scope.organizations.clone()))
            .or(funded_projects::sponsor_id.eq_any(scope.organizations.clone()))
            .or(funded_projects::id.eq_any(co_investigated))
            .or(funded_projects::pi_id.eq_any(led).assume_not_null()),
    )
}

pub fn insert(
    conn: &mut DbConn,
    id: &str,
    fields: &ProjectFields,
    now: NaiveDateTime,
) -> QueryResult<ProjectRow> {
    diesel::insert_into(funded_projects::table)
        .values((
            funded_projects::id.eq(id),
            fields,
            funded_projects::version.eq(1i64),
            funded_projects::created_at.eq(now),
            funded_projects::updated_at.eq(now),
        ))
        .returning(funded_projects::all_columns)
        .get_result(conn)
}

versioned_writes!(funded_projects, ProjectRow, ProjectFields, None);
scoped_reads!(funded_projects, ProjectRow, ParticipantScope);

pub fn list(
    conn: &mut DbConn,
    scope: &ParticipantScope,
    f: &ProjectFilter,
    page: &Seek,
) -> QueryResult<Vec<ProjectRow>> {
    let mut q = scoped(scope);
    if let Some(v) = &f.university_id {
        q = q.filter(funded_projects::university_id.eq(v.clone()));
    }
    if let Some(v) = &f.sponsor_id {
        q = q.filter(funded_projects::sponsor_id.eq(v.clone()));
    }
    if let Some(v) = &f.center_id {
        q = q.filter(funded_projects::center_id.eq(v.clone()));
    }
    if let Some(v) = &f.need_id {
        q = q.filter(funded_projects::need_id.eq(v.clone()));
    }
    if let Some(p) = &f.faculty_id {
        q = q.filter(
            funded_projects::pi_id
                .eq(p.clone())
                .or(funded_projects::id.eq_any(
                    project_investigators::table
                        .filter(project_investigators::faculty_id.eq(p.clone()))
                        .select(project_investigators::project_id),
                )),
        );
    }
    if let Some(v) = &f.status {
        q = q.filter(funded_projects::status.eq(*v));
    }
    if let Some(v) = &f.kind {
        q = q.filter(funded_projects::kind.eq(*v));
    }
    seek!(q, funded_projects::id, page).load(conn)
}

pub fn replace_investigators(conn: &mut DbConn, id: &str, faculty: &[String]) -> QueryResult<()> {
    diesel::delete(project_investigators::table.filter(project_investigators::project_id.eq(id)))
        .execute(conn)?;
    for f in faculty {
        diesel::insert_into(project_investigators::table)
            .values((
                project_investigators::project_id.eq(id),
                project_investigators::faculty_id.eq(f),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Co-investigators of these projects, sorted by profile id.
pub fn load_investigators(
    conn: &mut DbConn,
    ids: &[String],
) -> QueryResult<HashMap<String, Vec<String>>> {
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    let rows: Vec<(String, String)> = project_investigators::table
        .filter(project_investigators::project_id.eq_any(ids))
        .order((
            project_investigators::project_id,
            project_investigators::faculty_id,
        ))
        .select((
            project_investigators::project_id,
            project_investigators::faculty_id,
        ))
        .load(conn)?;
    for (project, faculty) in rows {
        out.entry(project).or_default().push(faculty);
    }
    Ok(out)
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = project_payments)]
pub struct PaymentRow {
    pub id: String,
    pub project_id: String,
    pub due_date: Option<NaiveDate>,
    pub received_date: Option<NaiveDate>,
    pub amount_minor: i64,
    pub currency: String,
    pub status: PaymentStatus,
    pub note: Option<String>,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Insertable, AsChangeset)]
#[diesel(table_name = project_payments, treat_none_as_null = true)]
pub struct PaymentFields {
    pub due_date: Option<NaiveDate>,
    pub received_date: Option<NaiveDate>,
    pub amount_minor: i64,
    pub currency: String,
    pub status: PaymentStatus,
    pub note: Option<String>,
}

pub fn insert_payment(
    conn: &mut DbConn,
    id: &str,
    project_id: &str,
    fields: &PaymentFields,
    now: NaiveDateTime,
) -> QueryResult<PaymentRow> {
    diesel::insert_into(project_payments::table)
        .values((
            project_payments::id.eq(id),
            project_payments::project_id.eq(project_id),
            fields,
            project_payments::version.eq(1i64),
            project_payments::created_at.eq(now),
            project_payments::updated_at.eq(now),
        ))
        .returning(project_payments::all_columns)
        .get_result(conn)
}

pub fn payments(conn: &mut DbConn, project_id: &str) -> QueryResult<Vec<PaymentRow>> {
    project_payments::table
        .filter(project_payments::project_id.eq(project_id))
        .order(project_payments::id.asc())
        .select(project_payments::all_columns)
        .load(conn)
}

pub fn find_payment(
    conn: &mut DbConn,
    project_id: &str,
    id: &str,
) -> QueryResult<Option<PaymentRow>> {
    project_payments::table
        .filter(project_payments::project_id.eq(project_id))
        .filter(project_payments::id.eq(id))
        .select(project_payments::all_columns)
        .first(conn)
        .optional()
}

/// Whether the project has a payment in another currency than `currency`.
pub fn has_payment_not_in(
    conn: &mut DbConn,
    project_id: &str,
    currency: &str,
) -> QueryResult<bool> {
    Ok(project_payments::table
        .filter(project_payments::project_id.eq(project_id))
        .filter(project_payments::currency.ne(currency))
        .count()
        .get_result::<i64>(conn)?
        > 0)
}

pub fn update_payment(
    conn: &mut DbConn,
    id: &str,
    expected_version: i64,
    fields: &PaymentFields,
    now: NaiveDateTime,
) -> QueryResult<Option<PaymentRow>> {
    diesel::update(
        project_payments::table
            .filter(project_payments::id.eq(id))
            .filter(project_payments::version.eq(expected_version)),
    )
    .set((
        fields,
        project_payments::version.eq(expected_version + 1),
        project_payments::updated_at.eq(now),
    ))
    .returning(project_payments::all_columns)
    .get_result(conn)
    .optional()
}

pub fn delete_payment(conn: &mut DbConn, id: &str, expected_version: i64) -> QueryResult<bool> {
    let n = diesel::delete(
        project_payments::table
            .filter(project_payments::id.eq(id))
            .filter(project_payments::version.eq(expected_version)),
    )
    .execute(conn)?;
    Ok(n == 1)
}

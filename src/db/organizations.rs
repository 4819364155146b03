//! Organization rows and their queries.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::organizations;
use super::{DbConn, Seek};
use crate::domain::stored::{OrganizationKind, Role};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = organizations)]
pub struct OrganizationRow {
    pub id: String,
    pub kind: OrganizationKind,
    pub name: String,
    pub local_name: Option<String>,
    pub country: String,
    pub website: Option<String>,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub deleted_at: Option<NaiveDateTime>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = organizations)]
pub struct NewOrganization<'a> {
    pub id: &'a str,
    pub kind: OrganizationKind,
    pub name: &'a str,
    pub local_name: Option<&'a str>,
    pub country: &'a str,
    pub website: Option<&'a str>,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// The full set of mutable columns; the service computes it from the current row and a patch.
#[derive(Debug, AsChangeset)]
#[diesel(table_name = organizations, treat_none_as_null = true)]
pub struct OrganizationChanges<'a> {
    pub kind: OrganizationKind,
    pub name: &'a str,
    pub local_name: Option<&'a str>,
    pub country: &'a str,
    pub website: Option<&'a str>,
    pub updated_at: NaiveDateTime,
}

/// Filters for listing.
#[derive(Debug, Default)]
pub struct OrganizationFilter {
    pub kind: Option<OrganizationKind>,
    pub country: Option<String>,
}

pub fn insert(conn: &mut DbConn, new: &NewOrganization<'_>) -> QueryResult<OrganizationRow> {
    diesel::insert_into(organizations::table)
        .values(new)
        .returning(organizations::all_columns)
        .get_result(conn)
}

/// A live (not deleted) organization.
pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<OrganizationRow>> {
    organizations::table
        .filter(organizations::id.eq(id))
        .filter(organizations::deleted_at.is_null())
        .select(organizations::all_columns)
        .first(conn)
        .optional()
}

/// Live organizations in id order (ids are UUIDv7, so this is creation order).
pub fn list(
    conn: &mut DbConn,
    filter: &OrganizationFilter,
    page: &Seek,
) -> QueryResult<Vec<OrganizationRow>> {
    let mut query = organizations::table
        .filter(organizations::deleted_at.is_null())
        .select(organizations::all_columns)
        .into_boxed();
    if let Some(kind) = &filter.kind {
        query = query.filter(organizations::kind.eq(*kind));
    }
    if let Some(country) = &filter.country {
        query = query.filter(organizations::country.eq(country.clone()));
    }
    seek!(query, organizations::id, page).load(conn)
}

/// Applies `changes` only if the row is live and still at `expected_version`; returns the new
/// row, or `None` when the row is gone or was changed meanwhile (compare-and-swap).
pub fn update(
    conn: &mut DbConn,
    id: &str,
    expected_version: i64,
    changes: &OrganizationChanges<'_>,
) -> QueryResult<Option<OrganizationRow>> {
    let row = diesel::update(
        organizations::table
            .filter(organizations::id.eq(id))
            .filter(organizations::version.eq(expected_version))
            .filter(organizations::deleted_at.is_null()),
    )
    .set((changes, organizations::version.eq(expected_version + 1)))
    .returning(organizations::all_columns)
    .get_result(conn)
    .optional()?;
    if row.is_some() {
        // Profiles and needs carry their organization's country in the search index.
        let now = chrono::Utc::now().naive_utc();
        super::outbox::enqueue(conn, super::outbox::Entity::Organization, id, now)?;
    }
    Ok(row)
}

/// Marks a live row deleted if it is still at `expected_version` (it stays for reports and
/// can be restored); returns whether a row was marked.
pub fn soft_delete(
    conn: &mut DbConn,
    id: &str,
    expected_version: i64,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(
        organizations::table
            .filter(organizations::id.eq(id))
            .filter(organizations::deleted_at.is_null())
            .filter(organizations::version.eq(expected_version)),
    )
    .set((
        organizations::deleted_at.eq(Some(now)),
        organizations::updated_at.eq(now),
        organizations::version.eq(expected_version + 1),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// The roles held in an organization (each once), whoever holds them.
pub fn roles_held(conn: &mut DbConn, organization_id: &str) -> QueryResult<Vec<Role>> {
    use super::schema::memberships;
    memberships::table
        .filter(memberships::organization_id.eq(organization_id))
        .select(memberships::role)
        .distinct()
        .load(conn)
}

/// What an organization keeps that only its present kind may keep (deleted records too, since
/// an operator can restore them): needs for a company; faculty profiles, hosted centres and
/// performed funded projects for a university. Named for the error that refuses a change of
/// kind.
pub fn records_of_kind(
    conn: &mut DbConn,
    organization_id: &str,
    kind: OrganizationKind,
) -> QueryResult<Vec<&'static str>> {
    use super::schema::{centers, faculty_profiles, funded_projects, needs};
    let mut found = Vec::new();
    let mut note = |present: bool, what: &'static str| {
        if present {
            found.push(what);
        }
    };
    match kind {
        OrganizationKind::Company => {
            let n: i64 = needs::table
                .filter(needs::company_id.eq(organization_id))
                .count()
                .get_result(conn)?;
            note(n > 0, "needs");
        }
        OrganizationKind::University => {
            let n: i64 = faculty_profiles::table
                .filter(faculty_profiles::university_id.eq(organization_id))
                .count()
                .get_result(conn)?;
            note(n > 0, "faculty profiles");
            let n: i64 = centers::table
                .filter(centers::host_university_id.eq(organization_id))
                .count()
                .get_result(conn)?;
            note(n > 0, "hosted centres");
            let n: i64 = funded_projects::table
                .filter(funded_projects::university_id.eq(organization_id))
                .count()
                .get_result(conn)?;
            note(n > 0, "funded projects");
        }
        _ => {}
    }
    Ok(found)
}

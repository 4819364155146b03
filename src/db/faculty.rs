//! Faculty profile rows, their list-valued parts, and visibility-scoped queries.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{faculty_availability, faculty_keywords, faculty_profiles, publications};
use super::{DbConn, Seek};
use crate::domain::stored::{CollaborationType, DataSource, ProfileVisibility};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = faculty_profiles)]
pub struct FacultyRow {
    pub id: String,
    pub university_id: String,
    pub owner_user_id: Option<String>,
    pub external_id: Option<String>,
    pub name: String,
    pub local_name: Option<String>,
    pub title: Option<String>,
    pub department: Option<String>,
    pub email: Option<String>,
    pub orcid: Option<String>,
    pub research_interests: Option<String>,
    pub bio: Option<String>,
    pub languages: String,
    pub visibility: ProfileVisibility,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub deleted_at: Option<NaiveDateTime>,
    pub openalex_id: Option<String>,
}

/// The mutable columns, written whole on insert and update.
#[derive(Debug, Clone, PartialEq, Insertable, AsChangeset)]
#[diesel(table_name = faculty_profiles, treat_none_as_null = true)]
pub struct FacultyFields {
    pub university_id: String,
    pub owner_user_id: Option<String>,
    pub external_id: Option<String>,
    pub name: String,
    pub local_name: Option<String>,
    pub title: Option<String>,
    pub department: Option<String>,
    pub email: Option<String>,
    pub orcid: Option<String>,
    pub research_interests: Option<String>,
    pub bio: Option<String>,
    pub languages: String,
    pub visibility: ProfileVisibility,
    pub openalex_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = publications)]
pub struct PublicationRow {
    pub faculty_id: String,
    pub position: i32,
    pub title: String,
    pub abstract_: Option<String>,
    pub year: Option<i32>,
    pub venue: Option<String>,
    pub doi: Option<String>,
    pub source: DataSource,
    pub source_id: Option<String>,
    pub recorded_at: Option<NaiveDateTime>,
    /// The title and abstract start as matching counts them (see
    /// `search::matching::AnalysedPublication::encode`): derived from the row, written with it.
    pub analysed: Option<Vec<u8>>,
}

/// Which profiles a caller may see; decided by `service::policy`, applied here in SQL.
#[derive(Debug, Clone)]
pub struct FacultyScope {
    /// Allowed `visibility` values.
    pub visibilities: Vec<ProfileVisibility>,
    /// Deleted profiles too (operators).
    pub include_deleted: bool,
}

#[derive(Debug, Default)]
pub struct FacultyFilter {
    pub university_id: Option<String>,
    pub department: Option<String>,
    pub keyword_key: Option<String>,
    pub collaboration_type: Option<CollaborationType>,
}

/// The list-valued parts of a profile.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FacultyParts {
    pub keywords: Vec<String>,
    pub availability: Vec<CollaborationType>,
    pub publications: Vec<PublicationRow>,
}

pub fn insert(
    conn: &mut DbConn,
    id: &str,
    fields: &FacultyFields,
    now: NaiveDateTime,
) -> QueryResult<FacultyRow> {
    let row = diesel::insert_into(faculty_profiles::table)
        .values((
            faculty_profiles::id.eq(id),
            fields,
            faculty_profiles::version.eq(1i64),
            faculty_profiles::created_at.eq(now),
            faculty_profiles::updated_at.eq(now),
        ))
        .returning(faculty_profiles::all_columns)
        .get_result(conn)?;
    super::outbox::enqueue(conn, super::outbox::Entity::Faculty, id, now)?;
    Ok(row)
}

versioned_writes!(
    faculty_profiles,
    FacultyRow,
    FacultyFields,
    Some(super::outbox::Entity::Faculty)
);

/// Any row, deleted or not (callers apply visibility).
pub fn find_any(conn: &mut DbConn, id: &str) -> QueryResult<Option<FacultyRow>> {
    faculty_profiles::table
        .filter(faculty_profiles::id.eq(id))
        .select(faculty_profiles::all_columns)
        .first(conn)
        .optional()
}

/// A live row by one of the import keys of a university.
pub fn find_by_key(
    conn: &mut DbConn,
    university_id: &str,
    external_id: Option<&str>,
    orcid: Option<&str>,
) -> QueryResult<Option<FacultyRow>> {
    if let Some(ext) = external_id {
        let found = faculty_profiles::table
            .filter(faculty_profiles::university_id.eq(university_id))
            .filter(faculty_profiles::external_id.eq(ext))
            .select(faculty_profiles::all_columns)
            .first(conn)
            .optional()?;
        if found.is_some() {
            return Ok(found);
        }
    }
    match orcid {
        Some(o) => faculty_profiles::table
            .filter(faculty_profiles::university_id.eq(university_id))
            .filter(faculty_profiles::orcid.eq(o))
            .select(faculty_profiles::all_columns)
            .first(conn)
            .optional(),
        None => Ok(None),
    }
}

/// Takes the profile's row lock until the transaction ends, so that two syncs of one
/// profile are merged one after the other (on PostgreSQL; SQLite has one writer anyway).
pub fn lock(conn: &mut DbConn, id: &str) -> QueryResult<()> {
    diesel::update(faculty_profiles::table.filter(faculty_profiles::id.eq(id)))
        .set(faculty_profiles::id.eq(id))
        .execute(conn)
        .map(|_| ())
}

/// The row of a university holding this OpenAlex author id (deleted ones included).
pub fn find_by_openalex(
    conn: &mut DbConn,
    university_id: &str,
    openalex_id: Option<&str>,
) -> QueryResult<Option<FacultyRow>> {
    let Some(id) = openalex_id else {
        return Ok(None);
    };
    faculty_profiles::table
        .filter(faculty_profiles::university_id.eq(university_id))
        .filter(faculty_profiles::openalex_id.eq(id))
        .select(faculty_profiles::all_columns)
        .first(conn)
        .optional()
}

pub fn find_visible(
    conn: &mut DbConn,
    scope: &FacultyScope,
    id: &str,
) -> QueryResult<Option<FacultyRow>> {
    let mut q = faculty_profiles::table
        .filter(faculty_profiles::id.eq(id))
        .filter(faculty_profiles::visibility.eq_any(scope.visibilities.clone()))
        .select(faculty_profiles::all_columns)
        .into_boxed();
    if !scope.include_deleted {
        q = q.filter(faculty_profiles::deleted_at.is_null());
    }
    q.first(conn).optional()
}

pub fn list(
    conn: &mut DbConn,
    scope: &FacultyScope,
    f: &FacultyFilter,
    page: &Seek,
) -> QueryResult<Vec<FacultyRow>> {
    let mut q = faculty_profiles::table
        .filter(faculty_profiles::visibility.eq_any(scope.visibilities.clone()))
        .select(faculty_profiles::all_columns)
        .into_boxed();
    if !scope.include_deleted {
        q = q.filter(faculty_profiles::deleted_at.is_null());
    }
    if let Some(u) = &f.university_id {
        q = q.filter(faculty_profiles::university_id.eq(u.clone()));
    }
    if let Some(d) = &f.department {
        q = q.filter(faculty_profiles::department.eq(d.clone()));
    }
    if let Some(k) = &f.keyword_key {
        q = q.filter(
            faculty_profiles::id.eq_any(
                faculty_keywords::table
                    .filter(faculty_keywords::keyword_key.eq(k.clone()))
                    .select(faculty_keywords::faculty_id),
            ),
        );
    }
    if let Some(c) = &f.collaboration_type {
        q = q.filter(
            faculty_profiles::id.eq_any(
                faculty_availability::table
                    .filter(faculty_availability::collaboration_type.eq(*c))
                    .select(faculty_availability::faculty_id),
            ),
        );
    }
    seek!(q, faculty_profiles::id, page).load(conn)
}

/// Replaces a profile's keywords, availability and publications.
pub fn replace_parts(conn: &mut DbConn, id: &str, parts: &FacultyParts) -> QueryResult<()> {
    diesel::delete(faculty_keywords::table.filter(faculty_keywords::faculty_id.eq(id)))
        .execute(conn)?;
    diesel::delete(faculty_availability::table.filter(faculty_availability::faculty_id.eq(id)))
        .execute(conn)?;
    diesel::delete(publications::table.filter(publications::faculty_id.eq(id))).execute(conn)?;
    insert_parts(conn, &[(id, parts)])
}

/// New profiles, written together: their rows, search outbox entries and parts, in one
/// multi-row INSERT per table (bulk imports; `insert` writes one). The rows must not exist.
pub fn insert_many(
    conn: &mut DbConn,
    profiles: &[(String, FacultyFields, FacultyParts)],
    now: NaiveDateTime,
) -> QueryResult<()> {
    let rows: Vec<_> = profiles
        .iter()
        .map(|(id, fields, _)| {
            (
                faculty_profiles::id.eq(id),
                fields,
                faculty_profiles::version.eq(1i64),
                faculty_profiles::created_at.eq(now),
                faculty_profiles::updated_at.eq(now),
            )
        })
        .collect();
    // SQLite binds at most 32,766 parameters per statement: 18 per profile.
    match conn {
        DbConn::Sqlite(c) => {
            for chunk in rows.chunks(1000) {
                diesel::insert_into(faculty_profiles::table)
                    .values(chunk.to_vec())
                    .execute(c)?;
            }
        }
        DbConn::Pg(c) => {
            for chunk in rows.chunks(1000) {
                diesel::insert_into(faculty_profiles::table)
                    .values(chunk.to_vec())
                    .execute(c)?;
            }
        }
    }
    let ids: Vec<&str> = profiles.iter().map(|(id, _, _)| id.as_str()).collect();
    super::outbox::enqueue_many(conn, super::outbox::Entity::Faculty, &ids, now)?;
    let parts: Vec<(&str, &FacultyParts)> = profiles
        .iter()
        .map(|(id, _, parts)| (id.as_str(), parts))
        .collect();
    insert_parts(conn, &parts)
}

/// Inserts the keywords, availability and publications of profiles that have none.
fn insert_parts(conn: &mut DbConn, profiles: &[(&str, &FacultyParts)]) -> QueryResult<()> {
    let keywords: Vec<_> = profiles
        .iter()
        .flat_map(|(id, parts)| {
            parts.keywords.iter().enumerate().map(move |(i, k)| {
                (
                    faculty_keywords::faculty_id.eq(*id),
                    faculty_keywords::position.eq(i32::try_from(i).unwrap_or(i32::MAX)),
                    faculty_keywords::keyword.eq(k),
                    faculty_keywords::keyword_key.eq(k.to_lowercase()),
                )
            })
        })
        .collect();
    let availability: Vec<_> = profiles
        .iter()
        .flat_map(|(id, parts)| {
            parts.availability.iter().map(move |c| {
                (
                    faculty_availability::faculty_id.eq(*id),
                    faculty_availability::collaboration_type.eq(c),
                )
            })
        })
        .collect();
    let pubs: Vec<&PublicationRow> = profiles
        .iter()
        .flat_map(|(_, parts)| &parts.publications)
        .collect();
    // One multi-row INSERT per table (hundreds of publications are common). diesel offers
    // multi-row inserts only on the concrete connections, hence the match. SQLite binds at
    // most 32,766 parameters per statement: 4 per keyword, 2 per availability, 11 per
    // publication.
    macro_rules! insert_all {
        ($c:expr) => {{
            for chunk in keywords.chunks(5000) {
                diesel::insert_into(faculty_keywords::table)
                    .values(chunk)
                    .execute($c)?;
            }
            for chunk in availability.chunks(5000) {
                diesel::insert_into(faculty_availability::table)
                    .values(chunk)
                    .execute($c)?;
            }
            for chunk in pubs.chunks(1500) {
                diesel::insert_into(publications::table)
                    .values(chunk.iter().copied().collect::<Vec<_>>())
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

/// Of these import keys, those a profile of the university holds (deleted ones included, as
/// in `find_by_key`): `(external ids, ORCID iDs)`.
pub fn existing_keys(
    conn: &mut DbConn,
    university_id: &str,
    external_ids: &[&str],
    orcids: &[&str],
) -> QueryResult<(
    std::collections::HashSet<String>,
    std::collections::HashSet<String>,
)> {
    // One look-up per key column, in chunks (SQLite binds at most 32,766 parameters).
    macro_rules! held {
        ($column:expr, $keys:expr) => {{
            let mut held = std::collections::HashSet::new();
            for chunk in $keys.chunks(500) {
                let found: Vec<Option<String>> = faculty_profiles::table
                    .filter(faculty_profiles::university_id.eq(university_id))
                    .filter($column.eq_any(chunk))
                    .select($column)
                    .load(conn)?;
                held.extend(found.into_iter().flatten());
            }
            held
        }};
    }
    Ok((
        held!(faculty_profiles::external_id, external_ids),
        held!(faculty_profiles::orcid, orcids),
    ))
}

/// How much of a profile's publications `load_parts` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Publications {
    /// Only how many each profile has.
    Counted,
    /// Every column.
    Whole,
    /// Every column but the abstract (`abstract_` is `None`): what matching reads, which
    /// counts a publication's words from `analysed`.
    WithoutAbstracts,
}

/// Keywords and availability of many profiles, and their publications as `publications` says.
pub fn load_parts(
    conn: &mut DbConn,
    ids: &[String],
    publications: Publications,
) -> QueryResult<(
    std::collections::HashMap<String, FacultyParts>,
    std::collections::HashMap<String, usize>,
)> {
    let mut parts: std::collections::HashMap<String, FacultyParts> =
        std::collections::HashMap::new();
    let keywords: Vec<(String, String)> = faculty_keywords::table
        .filter(faculty_keywords::faculty_id.eq_any(ids))
        .order((faculty_keywords::faculty_id, faculty_keywords::position))
        .select((faculty_keywords::faculty_id, faculty_keywords::keyword))
        .load(conn)?;
    for (id, k) in keywords {
        parts.entry(id).or_default().keywords.push(k);
    }
    let availability: Vec<(String, CollaborationType)> = faculty_availability::table
        .filter(faculty_availability::faculty_id.eq_any(ids))
        .order((
            faculty_availability::faculty_id,
            faculty_availability::collaboration_type,
        ))
        .select((
            faculty_availability::faculty_id,
            faculty_availability::collaboration_type,
        ))
        .load(conn)?;
    for (id, c) in availability {
        parts.entry(id).or_default().availability.push(c);
    }
    let mut counts = std::collections::HashMap::new();
    if publications != Publications::Counted {
        let q = publications::table
            .filter(publications::faculty_id.eq_any(ids))
            .order((publications::faculty_id, publications::position));
        let pubs: Vec<PublicationRow> = if publications == Publications::Whole {
            q.select(PublicationRow::as_select()).load(conn)?
        } else {
            q.select((
                publications::faculty_id,
                publications::position,
                publications::title,
                diesel::dsl::sql::<diesel::sql_types::Nullable<diesel::sql_types::Text>>("NULL"),
                publications::year,
                publications::venue,
                publications::doi,
                publications::source,
                publications::source_id,
                publications::recorded_at,
                publications::analysed,
            ))
            .load(conn)?
        };
        for p in pubs {
            *counts.entry(p.faculty_id.clone()).or_insert(0) += 1;
            parts
                .entry(p.faculty_id.clone())
                .or_default()
                .publications
                .push(p);
        }
    } else {
        let rows: Vec<(String, i64)> = publications::table
            .filter(publications::faculty_id.eq_any(ids))
            .group_by(publications::faculty_id)
            .select((publications::faculty_id, diesel::dsl::count_star()))
            .load(conn)?;
        for (id, n) in rows {
            counts.insert(id, usize::try_from(n).unwrap_or(0));
        }
    }
    Ok((parts, counts))
}

/// The abstracts of these profiles' publications, by (profile, position).
pub fn abstracts(
    conn: &mut DbConn,
    ids: &[String],
) -> QueryResult<std::collections::HashMap<(String, i32), String>> {
    let rows: Vec<(String, i32, Option<String>)> = publications::table
        .filter(publications::faculty_id.eq_any(ids))
        .select((
            publications::faculty_id,
            publications::position,
            publications::abstract_,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, position, a)| Some(((id, position), a?)))
        .collect())
}

/// A publication's text by its key: (profile, position, title, abstract).
pub type PublicationText = (String, i32, String, Option<String>);

/// Up to `limit` publications without their analysed form.
pub fn unanalysed(conn: &mut DbConn, limit: i64) -> QueryResult<Vec<PublicationText>> {
    publications::table
        .filter(publications::analysed.is_null())
        .order((publications::faculty_id, publications::position))
        .select((
            publications::faculty_id,
            publications::position,
            publications::title,
            publications::abstract_,
        ))
        .limit(limit)
        .load(conn)
}

/// Sets publications' analysed forms where they still have none: a row rewritten meanwhile
/// carries its own already.
pub fn set_analysed(conn: &mut DbConn, forms: &[(String, i32, Vec<u8>)]) -> QueryResult<usize> {
    let mut set = 0;
    for (id, position, bytes) in forms {
        set += diesel::update(
            publications::table
                .filter(publications::faculty_id.eq(id))
                .filter(publications::position.eq(position))
                .filter(publications::analysed.is_null()),
        )
        .set(publications::analysed.eq(bytes))
        .execute(conn)?;
    }
    Ok(set)
}

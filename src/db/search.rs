//! What the search indexer reads: records by id in batches (deleted ones too, so it can drop
//! them), the records an organization's change touches, and every live id for a rebuild.

use std::collections::HashMap;

use diesel::prelude::*;

use super::DbConn;
use super::centers::{CenterParts, CenterRow};
use super::faculty::{FacultyParts, FacultyRow, Publications};
use super::needs::{NeedParts, NeedRow};
use super::schema::{centers, faculty_profiles, need_invitations, needs, organizations};

/// A profile as the index needs it.
pub struct FacultySource {
    pub row: FacultyRow,
    pub parts: FacultyParts,
    pub country: String,
}

/// A need as the index needs it, with the profiles invited to it.
pub struct NeedSource {
    pub row: NeedRow,
    pub parts: NeedParts,
    pub country: String,
    pub invited: Vec<String>,
}

fn countries(conn: &mut DbConn, ids: Vec<String>) -> QueryResult<HashMap<String, String>> {
    Ok(organizations::table
        .filter(organizations::id.eq_any(ids))
        .select((organizations::id, organizations::country))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect())
}

/// The profiles with these ids that exist (deleted or not).
pub fn faculty(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<FacultySource>> {
    faculty_with(conn, ids, Publications::Whole)
}

/// `faculty`, with as much of their publications as `publications` says.
pub fn faculty_with(
    conn: &mut DbConn,
    ids: &[String],
    publications: Publications,
) -> QueryResult<Vec<FacultySource>> {
    let rows: Vec<FacultyRow> = faculty_profiles::table
        .filter(faculty_profiles::id.eq_any(ids))
        .select(faculty_profiles::all_columns)
        .load(conn)?;
    let live: Vec<String> = rows
        .iter()
        .filter(|r| r.deleted_at.is_none())
        .map(|r| r.id.clone())
        .collect();
    let (mut parts, _) = super::faculty::load_parts(conn, &live, publications)?;
    let countries = countries(conn, rows.iter().map(|r| r.university_id.clone()).collect())?;
    Ok(rows
        .into_iter()
        .map(|row| FacultySource {
            parts: parts.remove(&row.id).unwrap_or_default(),
            country: countries
                .get(&row.university_id)
                .cloned()
                .unwrap_or_default(),
            row,
        })
        .collect())
}

/// The needs with these ids that exist (deleted or not).
pub fn needs(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<NeedSource>> {
    let rows: Vec<NeedRow> = needs::table
        .filter(needs::id.eq_any(ids))
        .select(needs::all_columns)
        .load(conn)?;
    let mut parts = super::needs::load_parts(conn, ids)?;
    let mut invited: HashMap<String, Vec<String>> = HashMap::new();
    for (need, faculty) in need_invitations::table
        .filter(need_invitations::need_id.eq_any(ids))
        .select((need_invitations::need_id, need_invitations::faculty_id))
        .load::<(String, String)>(conn)?
    {
        invited.entry(need).or_default().push(faculty);
    }
    let countries = countries(conn, rows.iter().map(|r| r.company_id.clone()).collect())?;
    Ok(rows
        .into_iter()
        .map(|row| NeedSource {
            parts: parts.remove(&row.id).unwrap_or_default(),
            country: countries.get(&row.company_id).cloned().unwrap_or_default(),
            invited: invited.remove(&row.id).unwrap_or_default(),
            row,
        })
        .collect())
}

/// The profiles of a university (they carry its country).
pub fn faculty_of_organization(conn: &mut DbConn, org: &str) -> QueryResult<Vec<String>> {
    faculty_profiles::table
        .filter(faculty_profiles::university_id.eq(org))
        .select(faculty_profiles::id)
        .load(conn)
}

/// The needs of a company (they carry its country).
pub fn needs_of_organization(conn: &mut DbConn, org: &str) -> QueryResult<Vec<String>> {
    needs::table
        .filter(needs::company_id.eq(org))
        .select(needs::id)
        .load(conn)
}

/// Live profile ids after `after`, in id order (for a rebuild, page by page).
pub fn live_faculty_ids(conn: &mut DbConn, after: &str, limit: i64) -> QueryResult<Vec<String>> {
    faculty_profiles::table
        .filter(faculty_profiles::deleted_at.is_null())
        .filter(faculty_profiles::id.gt(after))
        .order(faculty_profiles::id.asc())
        .limit(limit)
        .select(faculty_profiles::id)
        .load(conn)
}

/// Live need ids after `after`, in id order.
pub fn live_need_ids(conn: &mut DbConn, after: &str, limit: i64) -> QueryResult<Vec<String>> {
    needs::table
        .filter(needs::deleted_at.is_null())
        .filter(needs::id.gt(after))
        .order(needs::id.asc())
        .limit(limit)
        .select(needs::id)
        .load(conn)
}

/// The live profiles a user owns: what an invitation to a confidential need is addressed to.
pub fn owned_profiles(conn: &mut DbConn, user_id: &str) -> QueryResult<Vec<String>> {
    faculty_profiles::table
        .filter(faculty_profiles::owner_user_id.eq(user_id))
        .filter(faculty_profiles::deleted_at.is_null())
        .select(faculty_profiles::id)
        .load(conn)
}

/// Display names of organizations, for facet labels.
pub fn organization_names(
    conn: &mut DbConn,
    ids: Vec<String>,
) -> QueryResult<HashMap<String, String>> {
    Ok(organizations::table
        .filter(organizations::id.eq_any(ids))
        .select((organizations::id, organizations::name))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect())
}

/// A centre as the index needs it.
pub struct CenterSource {
    pub row: CenterRow,
    pub parts: CenterParts,
    pub country: String,
}

/// The centres with these ids that exist (deleted or not).
pub fn centers(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<CenterSource>> {
    let rows: Vec<CenterRow> = centers::table
        .filter(centers::id.eq_any(ids))
        .select(centers::all_columns)
        .load(conn)?;
    let mut parts = super::centers::load_parts(conn, ids)?;
    let countries = countries(
        conn,
        rows.iter().map(|r| r.host_university_id.clone()).collect(),
    )?;
    Ok(rows
        .into_iter()
        .map(|row| CenterSource {
            parts: parts.remove(&row.id).unwrap_or_default(),
            country: countries
                .get(&row.host_university_id)
                .cloned()
                .unwrap_or_default(),
            row,
        })
        .collect())
}

/// The centres an organization hosts (they carry its country).
pub fn centers_of_organization(conn: &mut DbConn, org: &str) -> QueryResult<Vec<String>> {
    centers::table
        .filter(centers::host_university_id.eq(org))
        .select(centers::id)
        .load(conn)
}

/// Live centre ids after `after`, in id order.
pub fn live_center_ids(conn: &mut DbConn, after: &str, limit: i64) -> QueryResult<Vec<String>> {
    centers::table
        .filter(centers::deleted_at.is_null())
        .filter(centers::id.gt(after))
        .order(centers::id.asc())
        .limit(limit)
        .select(centers::id)
        .load(conn)
}

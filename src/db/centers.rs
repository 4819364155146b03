//! Centre rows, their list-valued parts (partners, members, focus areas, funding), and the
//! participant-scoped queries that centres and funded projects share.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::{
    center_focus_areas, center_funding, center_members, center_partners, centers,
    compute_resources, faculty_profiles,
};
use super::{DbConn, Seek};
use crate::domain::stored::{CenterStatus, ParticipantVisibility, PartnerRole};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = centers)]
pub struct CenterRow {
    pub id: String,
    pub host_university_id: String,
    pub name: String,
    pub local_name: Option<String>,
    pub description: Option<String>,
    pub director_id: Option<String>,
    pub established_date: Option<NaiveDate>,
    pub renewal_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    pub status: CenterStatus,
    pub visibility: ParticipantVisibility,
    pub shared_resources: String,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub deleted_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, PartialEq, Insertable, AsChangeset)]
#[diesel(table_name = centers, treat_none_as_null = true)]
pub struct CenterFields {
    pub host_university_id: String,
    pub name: String,
    pub local_name: Option<String>,
    pub description: Option<String>,
    pub director_id: Option<String>,
    pub established_date: Option<NaiveDate>,
    pub renewal_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    pub status: CenterStatus,
    pub visibility: ParticipantVisibility,
    pub shared_resources: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FundingRow {
    pub year: i32,
    pub sponsor_id: String,
    pub amount_minor: i64,
    pub currency: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CenterParts {
    /// (company id, role), in the order given.
    pub partners: Vec<(String, PartnerRole)>,
    pub member_ids: Vec<String>,
    pub focus_areas: Vec<String>,
    pub funding: Vec<FundingRow>,
}

/// Which centres or funded projects a caller may see; decided by `service::policy`, applied
/// here in SQL.
#[derive(Debug, Clone, Default)]
pub struct ParticipantScope {
    /// Everything (operators).
    pub all: bool,
    /// Whatever is marked `public`.
    pub public: bool,
    /// Organizations the caller acts for (admin or staff): hosts, partners, performers and
    /// sponsors among them make a record visible.
    pub organizations: Vec<String>,
    /// The user whose live faculty profiles (director, member, PI, co-investigator) make a
    /// record visible.
    pub user_id: Option<String>,
    pub include_deleted: bool,
}

#[derive(Debug, Default)]
pub struct CenterFilter {
    pub host_university_id: Option<String>,
    pub company_id: Option<String>,
    pub faculty_id: Option<String>,
    pub status: Option<CenterStatus>,
    pub focus_key: Option<String>,
    /// Lower-cased GPU model: among the shared resources, or of a compute resource in the
    /// centre.
    pub gpu_model_key: Option<String>,
}

type Boxed<'a> = centers::BoxedQuery<'a, <DbConn as diesel::Connection>::Backend>;

/// The visibility rule as SQL: operators see all; others see public centres, centres hosted
/// by or partnered with an organization they act for, and centres whose director or member
/// profile they own.
pub(super) fn scoped<'a>(scope: &ParticipantScope) -> Boxed<'a> {
    let mut q = centers::table.select(centers::all_columns).into_boxed();
    if !scope.include_deleted {
        q = q.filter(centers::deleted_at.is_null());
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
    let partnered = center_partners::table
        .filter(center_partners::company_id.eq_any(scope.organizations.clone()))
        .select(center_partners::center_id);
    let directed = faculty_profiles::table
        .filter(faculty_profiles::owner_user_id.eq(user.clone()))
        .filter(faculty_profiles::deleted_at.is_null())
        .select(faculty_profiles::id.nullable());
    let owned = faculty_profiles::table
        .filter(faculty_profiles::owner_user_id.eq(user))
        .filter(faculty_profiles::deleted_at.is_null())
        .select(faculty_profiles::id);
    let membered = center_members::table
        .filter(center_members::faculty_id.eq_any(owned))
        .select(center_members::center_id);
    q.filter(
        centers::visibility
            .eq_any(visibilities)
            .or(centers::host_university_id.eq_any(scope.organizations.clone()))
            .or(centers::id.eq_any(partnered))
            .or(centers::id.eq_any(membered))
            .or(centers::director_id.eq_any(directed).assume_not_null()),
    )
}

pub fn insert(
    conn: &mut DbConn,
    id: &str,
    fields: &CenterFields,
    now: NaiveDateTime,
) -> QueryResult<CenterRow> {
    let row = diesel::insert_into(centers::table)
        .values((
            centers::id.eq(id),
            fields,
            centers::version.eq(1i64),
            centers::created_at.eq(now),
            centers::updated_at.eq(now),
        ))
        .returning(centers::all_columns)
        .get_result(conn)?;
    super::outbox::enqueue(conn, super::outbox::Entity::Center, id, now)?;
    Ok(row)
}

versioned_writes!(
    centers,
    CenterRow,
    CenterFields,
    Some(super::outbox::Entity::Center)
);
scoped_reads!(centers, CenterRow, ParticipantScope);

/// A centre by id whatever the caller (for checks that another record may point at it).
pub fn find_live(conn: &mut DbConn, id: &str) -> QueryResult<Option<CenterRow>> {
    centers::table
        .filter(centers::id.eq(id))
        .filter(centers::deleted_at.is_null())
        .select(centers::all_columns)
        .first(conn)
        .optional()
}

pub fn list(
    conn: &mut DbConn,
    scope: &ParticipantScope,
    f: &CenterFilter,
    page: &Seek,
) -> QueryResult<Vec<CenterRow>> {
    let mut q = scoped(scope);
    if let Some(u) = &f.host_university_id {
        q = q.filter(centers::host_university_id.eq(u.clone()));
    }
    if let Some(c) = &f.company_id {
        q = q.filter(
            centers::id.eq_any(
                center_partners::table
                    .filter(center_partners::company_id.eq(c.clone()))
                    .select(center_partners::center_id),
            ),
        );
    }
    if let Some(p) = &f.faculty_id {
        q = q.filter(
            centers::director_id.eq(p.clone()).or(centers::id.eq_any(
                center_members::table
                    .filter(center_members::faculty_id.eq(p.clone()))
                    .select(center_members::center_id),
            )),
        );
    }
    if let Some(s) = &f.status {
        q = q.filter(centers::status.eq(*s));
    }
    if let Some(k) = &f.focus_key {
        q = q.filter(
            centers::id.eq_any(
                center_focus_areas::table
                    .filter(center_focus_areas::focus_key.eq(k.clone()))
                    .select(center_focus_areas::center_id),
            ),
        );
    }
    if let Some(m) = &f.gpu_model_key {
        // Shared resources are our own JSON (`{"kind":"gpu","model":"H100",...}`), so the
        // model's JSON string, lower-cased, is what a GPU entry holds.
        let json = serde_json::to_string(m).unwrap_or_default();
        let pattern = format!("%\"model\":{}%", escape_like(&json));
        let clusters = compute_resources::table
            .filter(compute_resources::gpu_model_key.eq(m.clone()))
            .filter(compute_resources::deleted_at.is_null())
            .select(compute_resources::center_id.assume_not_null());
        q = q.filter(
            super::lower(centers::shared_resources.nullable())
                .like(pattern)
                .escape('\\')
                .or(centers::id.eq_any(clusters).nullable()),
        );
    }
    seek!(q, centers::id, page).load(conn)
}

/// `s` with LIKE's wildcards (and the escape character) escaped by `\`.
fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn position(i: usize) -> i32 {
    i32::try_from(i).unwrap_or(i32::MAX)
}

pub fn replace_parts(conn: &mut DbConn, id: &str, parts: &CenterParts) -> QueryResult<()> {
    diesel::delete(center_partners::table.filter(center_partners::center_id.eq(id)))
        .execute(conn)?;
    diesel::delete(center_members::table.filter(center_members::center_id.eq(id))).execute(conn)?;
    diesel::delete(center_focus_areas::table.filter(center_focus_areas::center_id.eq(id)))
        .execute(conn)?;
    diesel::delete(center_funding::table.filter(center_funding::center_id.eq(id))).execute(conn)?;
    for (company, role) in &parts.partners {
        diesel::insert_into(center_partners::table)
            .values((
                center_partners::center_id.eq(id),
                center_partners::company_id.eq(company),
                center_partners::role.eq(role),
            ))
            .execute(conn)?;
    }
    for faculty in &parts.member_ids {
        diesel::insert_into(center_members::table)
            .values((
                center_members::center_id.eq(id),
                center_members::faculty_id.eq(faculty),
            ))
            .execute(conn)?;
    }
    for (i, area) in parts.focus_areas.iter().enumerate() {
        diesel::insert_into(center_focus_areas::table)
            .values((
                center_focus_areas::center_id.eq(id),
                center_focus_areas::position.eq(position(i)),
                center_focus_areas::focus_area.eq(area),
                center_focus_areas::focus_key.eq(area.to_lowercase()),
            ))
            .execute(conn)?;
    }
    for (i, f) in parts.funding.iter().enumerate() {
        diesel::insert_into(center_funding::table)
            .values((
                center_funding::center_id.eq(id),
                center_funding::position.eq(position(i)),
                center_funding::year.eq(f.year),
                center_funding::sponsor_id.eq(&f.sponsor_id),
                center_funding::amount_minor.eq(f.amount_minor),
                center_funding::currency.eq(&f.currency),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The parts of these centres: partners and members sorted by id (the service stores them
/// so), focus areas and funding in the order given.
pub fn load_parts(conn: &mut DbConn, ids: &[String]) -> QueryResult<HashMap<String, CenterParts>> {
    let mut parts: HashMap<String, CenterParts> = HashMap::new();
    let partners: Vec<(String, String, PartnerRole)> = center_partners::table
        .filter(center_partners::center_id.eq_any(ids))
        .order((center_partners::center_id, center_partners::company_id))
        .select((
            center_partners::center_id,
            center_partners::company_id,
            center_partners::role,
        ))
        .load(conn)?;
    for (id, company, role) in partners {
        parts.entry(id).or_default().partners.push((company, role));
    }
    let members: Vec<(String, String)> = center_members::table
        .filter(center_members::center_id.eq_any(ids))
        .order((center_members::center_id, center_members::faculty_id))
        .select((center_members::center_id, center_members::faculty_id))
        .load(conn)?;
    for (id, faculty) in members {
        parts.entry(id).or_default().member_ids.push(faculty);
    }
    let areas: Vec<(String, String)> = center_focus_areas::table
        .filter(center_focus_areas::center_id.eq_any(ids))
        .order((center_focus_areas::center_id, center_focus_areas::position))
        .select((
            center_focus_areas::center_id,
            center_focus_areas::focus_area,
        ))
        .load(conn)?;
    for (id, area) in areas {
        parts.entry(id).or_default().focus_areas.push(area);
    }
    let funding: Vec<(String, i32, String, i64, String)> = center_funding::table
        .filter(center_funding::center_id.eq_any(ids))
        .order((center_funding::center_id, center_funding::position))
        .select((
            center_funding::center_id,
            center_funding::year,
            center_funding::sponsor_id,
            center_funding::amount_minor,
            center_funding::currency,
        ))
        .load(conn)?;
    for (id, year, sponsor_id, amount_minor, currency) in funding {
        parts.entry(id).or_default().funding.push(FundingRow {
            year,
            sponsor_id,
            amount_minor,
            currency,
        });
    }
    Ok(parts)
}

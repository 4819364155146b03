//! Need rows, their list-valued parts, invitations, and visibility-scoped queries.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::{faculty_profiles, need_collaboration, need_invitations, need_keywords, needs};
use super::{DbConn, Seek};
use crate::domain::stored::{
    CollaborationType, ComputeDirection, ComputeUnit, NeedStatus, NeedVisibility,
};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = needs)]
pub struct NeedRow {
    pub id: String,
    pub company_id: String,
    pub title: String,
    pub summary: Option<String>,
    pub description: Option<String>,
    pub budget_min: Option<i64>,
    pub budget_max: Option<i64>,
    pub currency: Option<String>,
    pub duration_months: Option<i32>,
    pub deadline: Option<NaiveDate>,
    pub location: Option<String>,
    pub remote: bool,
    pub status: NeedStatus,
    pub visibility: NeedVisibility,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub deleted_at: Option<NaiveDateTime>,
    pub compute_direction: Option<ComputeDirection>,
    pub compute_amount: Option<i64>,
    pub compute_unit: Option<ComputeUnit>,
    pub compute_gpu_model: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Insertable, AsChangeset)]
#[diesel(table_name = needs, treat_none_as_null = true)]
pub struct NeedFields {
    pub company_id: String,
    pub title: String,
    pub summary: Option<String>,
    pub description: Option<String>,
    pub budget_min: Option<i64>,
    pub budget_max: Option<i64>,
    pub currency: Option<String>,
    pub duration_months: Option<i32>,
    pub deadline: Option<NaiveDate>,
    pub location: Option<String>,
    pub remote: bool,
    pub status: NeedStatus,
    pub visibility: NeedVisibility,
    pub compute_direction: Option<ComputeDirection>,
    pub compute_amount: Option<i64>,
    pub compute_unit: Option<ComputeUnit>,
    pub compute_gpu_model: Option<String>,
}

/// Which needs a caller may see; decided by `service::policy`, applied here in SQL.
#[derive(Debug, Clone, Default)]
pub struct NeedScope {
    /// Everything (operators).
    pub all: bool,
    /// Non-draft needs with one of these visibilities.
    pub visibilities: Vec<NeedVisibility>,
    /// Companies whose every need (drafts and confidential ones too) the caller sees.
    pub member_of: Vec<String>,
    /// The user whose invited profiles make confidential needs visible.
    pub invited_user: Option<String>,
    pub include_deleted: bool,
}

#[derive(Debug, Default)]
pub struct NeedFilter {
    pub company_id: Option<String>,
    pub status: Option<NeedStatus>,
    pub keyword_key: Option<String>,
    pub collaboration_type: Option<CollaborationType>,
    pub compute: Option<ComputeDirection>,
    /// Lower-cased GPU model.
    pub gpu_model_key: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct NeedParts {
    pub keywords: Vec<String>,
    pub collaboration_types: Vec<CollaborationType>,
}

type Boxed<'a> = needs::BoxedQuery<'a, <DbConn as diesel::Connection>::Backend>;

/// The visibility rule as SQL: operators see all; others see non-draft needs whose visibility
/// they qualify for, confidential needs they are invited to, and everything of their own
/// companies.
pub(super) fn scoped<'a>(scope: &NeedScope) -> Boxed<'a> {
    let mut q = needs::table.select(needs::all_columns).into_boxed();
    if !scope.include_deleted {
        q = q.filter(needs::deleted_at.is_null());
    }
    if scope.all {
        return q;
    }
    let invited_user = scope.invited_user.clone().unwrap_or_default();
    let invited = need_invitations::table
        .inner_join(faculty_profiles::table)
        .filter(faculty_profiles::owner_user_id.eq(invited_user))
        .filter(faculty_profiles::deleted_at.is_null())
        .select(need_invitations::need_id);
    q.filter(
        needs::status
            .ne(NeedStatus::Draft)
            .and(
                needs::visibility
                    .eq_any(scope.visibilities.clone())
                    .or(needs::id.eq_any(invited)),
            )
            .or(needs::company_id.eq_any(scope.member_of.clone())),
    )
}

pub fn insert(
    conn: &mut DbConn,
    id: &str,
    fields: &NeedFields,
    now: NaiveDateTime,
) -> QueryResult<NeedRow> {
    let row = diesel::insert_into(needs::table)
        .values((
            needs::id.eq(id),
            fields,
            needs::version.eq(1i64),
            needs::created_at.eq(now),
            needs::updated_at.eq(now),
        ))
        .returning(needs::all_columns)
        .get_result(conn)?;
    super::outbox::enqueue(conn, super::outbox::Entity::Need, id, now)?;
    Ok(row)
}

versioned_writes!(
    needs,
    NeedRow,
    NeedFields,
    Some(super::outbox::Entity::Need)
);
scoped_reads!(needs, NeedRow, NeedScope);

pub fn list(
    conn: &mut DbConn,
    scope: &NeedScope,
    f: &NeedFilter,
    page: &Seek,
) -> QueryResult<Vec<NeedRow>> {
    let mut q = scoped(scope);
    if let Some(c) = &f.company_id {
        q = q.filter(needs::company_id.eq(c.clone()));
    }
    if let Some(s) = &f.status {
        q = q.filter(needs::status.eq(*s));
    }
    if let Some(k) = &f.keyword_key {
        q = q.filter(
            needs::id.eq_any(
                need_keywords::table
                    .filter(need_keywords::keyword_key.eq(k.clone()))
                    .select(need_keywords::need_id),
            ),
        );
    }
    if let Some(c) = &f.collaboration_type {
        q = q.filter(
            needs::id.eq_any(
                need_collaboration::table
                    .filter(need_collaboration::collaboration_type.eq(*c))
                    .select(need_collaboration::need_id),
            ),
        );
    }
    if let Some(c) = f.compute {
        q = q.filter(needs::compute_direction.eq(c));
    }
    if let Some(m) = &f.gpu_model_key {
        q = q.filter(super::lower(needs::compute_gpu_model).eq(m.clone()));
    }
    seek!(q, needs::id, page).load(conn)
}

pub fn replace_parts(conn: &mut DbConn, id: &str, parts: &NeedParts) -> QueryResult<()> {
    diesel::delete(need_keywords::table.filter(need_keywords::need_id.eq(id))).execute(conn)?;
    diesel::delete(need_collaboration::table.filter(need_collaboration::need_id.eq(id)))
        .execute(conn)?;
    for (i, k) in parts.keywords.iter().enumerate() {
        diesel::insert_into(need_keywords::table)
            .values((
                need_keywords::need_id.eq(id),
                need_keywords::position.eq(i32::try_from(i).unwrap_or(i32::MAX)),
                need_keywords::keyword.eq(k),
                need_keywords::keyword_key.eq(k.to_lowercase()),
            ))
            .execute(conn)?;
    }
    for c in &parts.collaboration_types {
        diesel::insert_into(need_collaboration::table)
            .values((
                need_collaboration::need_id.eq(id),
                need_collaboration::collaboration_type.eq(c),
            ))
            .execute(conn)?;
    }
    Ok(())
}

pub fn load_parts(
    conn: &mut DbConn,
    ids: &[String],
) -> QueryResult<std::collections::HashMap<String, NeedParts>> {
    let mut parts: std::collections::HashMap<String, NeedParts> = std::collections::HashMap::new();
    let keywords: Vec<(String, String)> = need_keywords::table
        .filter(need_keywords::need_id.eq_any(ids))
        .order((need_keywords::need_id, need_keywords::position))
        .select((need_keywords::need_id, need_keywords::keyword))
        .load(conn)?;
    for (id, k) in keywords {
        parts.entry(id).or_default().keywords.push(k);
    }
    let types: Vec<(String, CollaborationType)> = need_collaboration::table
        .filter(need_collaboration::need_id.eq_any(ids))
        .order((
            need_collaboration::need_id,
            need_collaboration::collaboration_type,
        ))
        .select((
            need_collaboration::need_id,
            need_collaboration::collaboration_type,
        ))
        .load(conn)?;
    for (id, c) in types {
        parts.entry(id).or_default().collaboration_types.push(c);
    }
    Ok(parts)
}

/// Invites a profile to a need; returns false if it already was.
pub fn invite(
    conn: &mut DbConn,
    need_id: &str,
    faculty_id: &str,
    by: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let exists = need_invitations::table
        .filter(need_invitations::need_id.eq(need_id))
        .filter(need_invitations::faculty_id.eq(faculty_id))
        .count()
        .get_result::<i64>(conn)?
        > 0;
    if exists {
        return Ok(false);
    }
    diesel::insert_into(need_invitations::table)
        .values((
            need_invitations::need_id.eq(need_id),
            need_invitations::faculty_id.eq(faculty_id),
            need_invitations::invited_by.eq(by),
            need_invitations::created_at.eq(now),
        ))
        .execute(conn)?;
    // Invitations decide who may see a confidential need, in search too.
    super::outbox::enqueue(conn, super::outbox::Entity::Need, need_id, now)?;
    Ok(true)
}

pub fn uninvite(
    conn: &mut DbConn,
    need_id: &str,
    faculty_id: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::delete(
        need_invitations::table
            .filter(need_invitations::need_id.eq(need_id))
            .filter(need_invitations::faculty_id.eq(faculty_id)),
    )
    .execute(conn)?;
    if n == 1 {
        super::outbox::enqueue(conn, super::outbox::Entity::Need, need_id, now)?;
    }
    Ok(n == 1)
}

pub fn invitations(
    conn: &mut DbConn,
    need_id: &str,
) -> QueryResult<Vec<(String, String, String, NaiveDateTime)>> {
    need_invitations::table
        .filter(need_invitations::need_id.eq(need_id))
        .order(need_invitations::created_at.asc())
        .select((
            need_invitations::need_id,
            need_invitations::faculty_id,
            need_invitations::invited_by,
            need_invitations::created_at,
        ))
        .load(conn)
}

/// Of these needs, those that a profile owned by `user_id` is invited to now.
pub fn invited_among(
    conn: &mut DbConn,
    user_id: &str,
    ids: &[String],
) -> QueryResult<std::collections::HashSet<String>> {
    use super::schema::{faculty_profiles, need_invitations};
    let found: Vec<String> = need_invitations::table
        .inner_join(
            faculty_profiles::table.on(faculty_profiles::id.eq(need_invitations::faculty_id)),
        )
        .filter(need_invitations::need_id.eq_any(ids))
        .filter(faculty_profiles::owner_user_id.eq(user_id))
        .select(need_invitations::need_id)
        .load(conn)?;
    Ok(found.into_iter().collect())
}

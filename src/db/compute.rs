//! Compute resources, the allocations granted on them and the scheduler usage charged to
//! those allocations. Resources are readable by everybody; allocations by the people they
//! concern (see `scoped`). None of these tables is in the search index.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::centers::ParticipantScope;
use super::schema::{compute_allocations, compute_resources, compute_usage, faculty_profiles};
use super::{DbConn, Seek};
use crate::domain::stored::{
    AllocationState, ComputeUnit, PeriodLength, ResourceKind, ResourceStatus, Sector,
};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = compute_resources)]
pub struct ResourceRow {
    pub id: String,
    pub owner_id: String,
    pub center_id: Option<String>,
    pub name: String,
    pub description: Option<String>,
    pub kind: ResourceKind,
    pub unit: ComputeUnit,
    pub gpu_model: Option<String>,
    pub gpu_model_key: Option<String>,
    pub gpu_count: Option<i32>,
    pub period: PeriodLength,
    pub capacity: i64,
    pub academia_percent: i32,
    pub industry_percent: i32,
    pub status: ResourceStatus,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub deleted_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, PartialEq, Insertable, AsChangeset)]
#[diesel(table_name = compute_resources, treat_none_as_null = true)]
pub struct ResourceFields {
    pub owner_id: String,
    pub center_id: Option<String>,
    pub name: String,
    pub description: Option<String>,
    pub kind: ResourceKind,
    pub unit: ComputeUnit,
    pub gpu_model: Option<String>,
    pub gpu_model_key: Option<String>,
    pub gpu_count: Option<i32>,
    pub period: PeriodLength,
    pub capacity: i64,
    pub academia_percent: i32,
    pub industry_percent: i32,
    pub status: ResourceStatus,
}

#[derive(Debug, Default)]
pub struct ResourceFilter {
    pub owner_id: Option<String>,
    pub center_id: Option<String>,
    pub kind: Option<ResourceKind>,
    /// Lower-cased GPU model.
    pub gpu_model_key: Option<String>,
    pub status: Option<ResourceStatus>,
    /// Only these resources (the ones with enough free capacity), when given.
    pub among: Option<Vec<String>>,
}

pub fn insert_resource(
    conn: &mut DbConn,
    id: &str,
    fields: &ResourceFields,
    now: NaiveDateTime,
) -> QueryResult<ResourceRow> {
    diesel::insert_into(compute_resources::table)
        .values((
            compute_resources::id.eq(id),
            fields,
            compute_resources::version.eq(1i64),
            compute_resources::created_at.eq(now),
            compute_resources::updated_at.eq(now),
        ))
        .returning(compute_resources::all_columns)
        .get_result(conn)
}

pub mod resources {
    use super::*;
    versioned_writes!(compute_resources, ResourceRow, ResourceFields, None);
}

pub fn find_resource(
    conn: &mut DbConn,
    id: &str,
    include_deleted: bool,
) -> QueryResult<Option<ResourceRow>> {
    let mut q = compute_resources::table
        .filter(compute_resources::id.eq(id.to_owned()))
        .into_boxed();
    if !include_deleted {
        q = q.filter(compute_resources::deleted_at.is_null());
    }
    q.select(compute_resources::all_columns)
        .first(conn)
        .optional()
}

pub fn list_resources(
    conn: &mut DbConn,
    f: &ResourceFilter,
    include_deleted: bool,
    page: &Seek,
) -> QueryResult<Vec<ResourceRow>> {
    let mut q = compute_resources::table
        .select(compute_resources::all_columns)
        .into_boxed();
    if !include_deleted {
        q = q.filter(compute_resources::deleted_at.is_null());
    }
    if let Some(v) = &f.owner_id {
        q = q.filter(compute_resources::owner_id.eq(v.clone()));
    }
    if let Some(v) = &f.center_id {
        q = q.filter(compute_resources::center_id.eq(v.clone()));
    }
    if let Some(v) = f.kind {
        q = q.filter(compute_resources::kind.eq(v));
    }
    if let Some(v) = &f.gpu_model_key {
        q = q.filter(compute_resources::gpu_model_key.eq(v.clone()));
    }
    if let Some(v) = f.status {
        q = q.filter(compute_resources::status.eq(v));
    }
    if let Some(ids) = &f.among {
        q = q.filter(compute_resources::id.eq_any(ids.clone()));
    }
    seek!(q, compute_resources::id, page).load(conn)
}

/// Every live resource's id and capacity, with the filter's other conditions (for the free
/// capacity filter, which needs each resource's grants in a period).
pub fn resource_capacities(
    conn: &mut DbConn,
    period_length: Option<PeriodLength>,
) -> QueryResult<Vec<(String, i64, PeriodLength)>> {
    let mut q = compute_resources::table
        .filter(compute_resources::deleted_at.is_null())
        .select((
            compute_resources::id,
            compute_resources::capacity,
            compute_resources::period,
        ))
        .into_boxed();
    if let Some(p) = period_length {
        q = q.filter(compute_resources::period.eq(p));
    }
    q.load(conn)
}

/// Takes the resource's row lock until the transaction ends, so that approvals on one
/// resource are decided one after the other (on PostgreSQL; SQLite has one writer anyway):
/// the second sees what the first granted. An update that changes nothing still locks.
pub fn lock_resource(conn: &mut DbConn, id: &str) -> QueryResult<()> {
    diesel::update(compute_resources::table.filter(compute_resources::id.eq(id)))
        .set(compute_resources::id.eq(id))
        .execute(conn)
        .map(|_| ())
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = compute_allocations)]
pub struct AllocationRow {
    pub id: String,
    pub resource_id: String,
    pub applicant_id: String,
    pub sector: Sector,
    pub faculty_id: Option<String>,
    pub requested_by: String,
    pub need_id: Option<String>,
    pub engagement_id: Option<String>,
    pub center_id: Option<String>,
    pub project_id: Option<String>,
    pub period: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub requested: i64,
    pub approved: Option<i64>,
    pub justification: String,
    pub state: AllocationState,
    pub decision_reason: Option<String>,
    pub quota_override_reason: Option<String>,
    pub scheduler_account: Option<String>,
    pub renewal_of: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<NaiveDateTime>,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl super::VersionedRow for AllocationRow {
    fn version(&self) -> i64 {
        self.version
    }
    /// Allocations are never deleted: a draft that is not wanted is simply never submitted.
    fn deleted_at(&self) -> Option<NaiveDateTime> {
        None
    }
}

/// What the applicant writes: the request itself.
#[derive(Debug, Clone, PartialEq, Insertable, AsChangeset)]
#[diesel(table_name = compute_allocations, treat_none_as_null = true)]
pub struct RequestFields {
    pub resource_id: String,
    pub applicant_id: String,
    pub sector: Sector,
    pub faculty_id: Option<String>,
    pub need_id: Option<String>,
    pub engagement_id: Option<String>,
    pub center_id: Option<String>,
    pub project_id: Option<String>,
    pub period: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub requested: i64,
    pub justification: String,
}

/// What a move in the workflow writes.
#[derive(Debug, Clone, PartialEq, AsChangeset)]
#[diesel(table_name = compute_allocations, treat_none_as_null = true)]
pub struct DecisionFields {
    pub state: AllocationState,
    pub approved: Option<i64>,
    pub decision_reason: Option<String>,
    pub quota_override_reason: Option<String>,
    pub scheduler_account: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<NaiveDateTime>,
}

#[allow(clippy::too_many_arguments)]
pub fn insert_allocation(
    conn: &mut DbConn,
    id: &str,
    fields: &RequestFields,
    state: AllocationState,
    requested_by: &str,
    renewal_of: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<AllocationRow> {
    diesel::insert_into(compute_allocations::table)
        .values((
            compute_allocations::id.eq(id),
            fields,
            compute_allocations::state.eq(state),
            compute_allocations::requested_by.eq(requested_by),
            compute_allocations::renewal_of.eq(renewal_of),
            compute_allocations::version.eq(1i64),
            compute_allocations::created_at.eq(now),
            compute_allocations::updated_at.eq(now),
        ))
        .returning(compute_allocations::all_columns)
        .get_result(conn)
}

macro_rules! allocation_cas {
    ($name:ident, $fields:ty) => {
        /// Applies `fields` only if the allocation is still at `expected_version`; `None`
        /// when it changed meanwhile.
        pub fn $name(
            conn: &mut DbConn,
            id: &str,
            expected_version: i64,
            fields: &$fields,
            now: NaiveDateTime,
        ) -> QueryResult<Option<AllocationRow>> {
            diesel::update(
                compute_allocations::table
                    .filter(compute_allocations::id.eq(id))
                    .filter(compute_allocations::version.eq(expected_version)),
            )
            .set((
                fields,
                compute_allocations::version.eq(expected_version + 1),
                compute_allocations::updated_at.eq(now),
            ))
            .returning(compute_allocations::all_columns)
            .get_result(conn)
            .optional()
        }
    };
}

allocation_cas!(update_request, RequestFields);
allocation_cas!(update_decision, DecisionFields);

/// Marks an allocation changed (a new version) without changing what it holds: its usage
/// changed, so what a read of it answers did.
pub fn touch_allocation(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(compute_allocations::table.filter(compute_allocations::id.eq(id)))
        .set((
            compute_allocations::version.eq(compute_allocations::version + 1),
            compute_allocations::updated_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}

pub fn find_allocation(conn: &mut DbConn, id: &str) -> QueryResult<Option<AllocationRow>> {
    compute_allocations::table
        .filter(compute_allocations::id.eq(id.to_owned()))
        .select(compute_allocations::all_columns)
        .first(conn)
        .optional()
}

type BoxedAllocations<'a> =
    compute_allocations::BoxedQuery<'a, <DbConn as diesel::Connection>::Backend>;

/// The visibility rule as SQL: operators see all; others the allocations of organizations
/// they act for (as applicant or as the resource's owner), the ones they asked for, and the
/// ones for a profile they own.
fn scoped<'a>(scope: &ParticipantScope) -> BoxedAllocations<'a> {
    let q = compute_allocations::table
        .select(compute_allocations::all_columns)
        .into_boxed();
    if scope.all {
        return q;
    }
    let user = scope.user_id.clone().unwrap_or_default();
    let owned = faculty_profiles::table
        .filter(faculty_profiles::owner_user_id.eq(user.clone()))
        .filter(faculty_profiles::deleted_at.is_null())
        .select(faculty_profiles::id.nullable());
    let owned_resources = compute_resources::table
        .filter(compute_resources::owner_id.eq_any(scope.organizations.clone()))
        .select(compute_resources::id);
    q.filter(
        compute_allocations::applicant_id
            .eq_any(scope.organizations.clone())
            .or(compute_allocations::resource_id.eq_any(owned_resources))
            .or(compute_allocations::requested_by.eq(user))
            .or(compute_allocations::faculty_id
                .eq_any(owned)
                .assume_not_null()),
    )
}

pub fn find_visible_allocation(
    conn: &mut DbConn,
    scope: &ParticipantScope,
    id: &str,
) -> QueryResult<Option<AllocationRow>> {
    scoped(scope)
        .filter(compute_allocations::id.eq(id.to_owned()))
        .first(conn)
        .optional()
}

/// Which of these allocations the scope lets see.
pub fn visible_allocations_among(
    conn: &mut DbConn,
    scope: &ParticipantScope,
    ids: &[String],
) -> QueryResult<std::collections::HashSet<String>> {
    let mut out = std::collections::HashSet::new();
    // In chunks: SQLite limits the number of bound parameters.
    for chunk in ids.chunks(500) {
        let rows: Vec<AllocationRow> = scoped(scope)
            .filter(compute_allocations::id.eq_any(chunk.to_vec()))
            .load(conn)?;
        out.extend(rows.into_iter().map(|r| r.id));
    }
    Ok(out)
}

#[derive(Debug, Default)]
pub struct AllocationFilter {
    pub resource_id: Option<String>,
    pub applicant_id: Option<String>,
    pub faculty_id: Option<String>,
    pub period: Option<String>,
    pub sector: Option<Sector>,
    pub state: Option<AllocationState>,
}

pub fn list_allocations(
    conn: &mut DbConn,
    scope: &ParticipantScope,
    f: &AllocationFilter,
    page: &Seek,
) -> QueryResult<Vec<AllocationRow>> {
    let mut q = scoped(scope);
    if let Some(v) = &f.resource_id {
        q = q.filter(compute_allocations::resource_id.eq(v.clone()));
    }
    if let Some(v) = &f.applicant_id {
        q = q.filter(compute_allocations::applicant_id.eq(v.clone()));
    }
    if let Some(v) = &f.faculty_id {
        q = q.filter(compute_allocations::faculty_id.eq(v.clone()));
    }
    if let Some(v) = &f.period {
        q = q.filter(compute_allocations::period.eq(v.clone()));
    }
    if let Some(v) = f.sector {
        q = q.filter(compute_allocations::sector.eq(v));
    }
    if let Some(v) = f.state {
        q = q.filter(compute_allocations::state.eq(v));
    }
    seek!(q, compute_allocations::id, page).load(conn)
}

/// Every granted allocation (approved, active or expired) of these resources in `period`.
pub fn granted_in(
    conn: &mut DbConn,
    resource_ids: &[String],
    period: &str,
) -> QueryResult<Vec<AllocationRow>> {
    compute_allocations::table
        .filter(compute_allocations::resource_id.eq_any(resource_ids))
        .filter(compute_allocations::period.eq(period))
        .filter(compute_allocations::state.eq_any(AllocationState::GRANTED))
        .order(compute_allocations::id.asc())
        .select(compute_allocations::all_columns)
        .load(conn)
}

/// The allocations on `resource_id` charged through scheduler account `account` (compared
/// case-insensitively, as Slurm does) that usage may be charged to: active or expired.
pub fn chargeable(
    conn: &mut DbConn,
    resource_id: &str,
    account: &str,
) -> QueryResult<Vec<AllocationRow>> {
    compute_allocations::table
        .filter(compute_allocations::resource_id.eq(resource_id))
        .filter(compute_allocations::scheduler_account.eq(account.to_lowercase()))
        .filter(
            compute_allocations::state.eq_any([AllocationState::Active, AllocationState::Expired]),
        )
        .order(compute_allocations::id.asc())
        .select(compute_allocations::all_columns)
        .load(conn)
}

/// Another live (approved or active) allocation of the resource, with a period overlapping
/// `[start, end]`, that already uses `account`.
pub fn account_taken(
    conn: &mut DbConn,
    resource_id: &str,
    account: &str,
    start: NaiveDate,
    end: NaiveDate,
    except: &str,
) -> QueryResult<Option<String>> {
    compute_allocations::table
        .filter(compute_allocations::resource_id.eq(resource_id))
        .filter(compute_allocations::scheduler_account.eq(account))
        .filter(compute_allocations::id.ne(except))
        .filter(
            compute_allocations::state.eq_any([AllocationState::Approved, AllocationState::Active]),
        )
        .filter(compute_allocations::period_start.le(end))
        .filter(compute_allocations::period_end.ge(start))
        .select(compute_allocations::id)
        .first(conn)
        .optional()
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = compute_usage)]
pub struct UsageRow {
    pub resource_id: String,
    pub job_id: String,
    pub allocation_id: String,
    pub account: String,
    pub user_name: String,
    pub job_partition: String,
    pub units: i64,
    pub elapsed_seconds: i64,
    pub charged_seconds: i64,
    pub started_at: NaiveDateTime,
    pub ended_at: NaiveDateTime,
    pub job_state: String,
    pub imported_at: NaiveDateTime,
}

pub fn find_usage(
    conn: &mut DbConn,
    resource_id: &str,
    job_id: &str,
) -> QueryResult<Option<UsageRow>> {
    compute_usage::table
        .filter(compute_usage::resource_id.eq(resource_id))
        .filter(compute_usage::job_id.eq(job_id))
        .select(UsageRow::as_select())
        .first(conn)
        .optional()
}

pub fn insert_usage(conn: &mut DbConn, row: &UsageRow) -> QueryResult<()> {
    diesel::insert_into(compute_usage::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

pub fn replace_usage(conn: &mut DbConn, row: &UsageRow) -> QueryResult<()> {
    diesel::update(
        compute_usage::table
            .filter(compute_usage::resource_id.eq(&row.resource_id))
            .filter(compute_usage::job_id.eq(&row.job_id)),
    )
    .set(row)
    .execute(conn)
    .map(|_| ())
}

/// Per allocation: the unit-seconds charged for jobs that started before `until` (all of
/// them without it), and the end of its last such job.
pub fn usage_of(
    conn: &mut DbConn,
    allocation_ids: &[String],
    until: Option<NaiveDateTime>,
) -> QueryResult<HashMap<String, (i64, Option<NaiveDateTime>)>> {
    let mut out: HashMap<String, (i64, Option<NaiveDateTime>)> = HashMap::new();
    for chunk in allocation_ids.chunks(500) {
        let mut q = compute_usage::table
            .filter(compute_usage::allocation_id.eq_any(chunk))
            .into_boxed();
        if let Some(until) = until {
            q = q.filter(compute_usage::started_at.lt(until));
        }
        let rows: Vec<(String, i64, NaiveDateTime)> = q
            .select((
                compute_usage::allocation_id,
                compute_usage::charged_seconds,
                compute_usage::ended_at,
            ))
            .load(conn)?;
        for (id, charged, ended) in rows {
            let e = out.entry(id).or_default();
            e.0 = e.0.saturating_add(charged);
            e.1 = e.1.max(Some(ended));
        }
    }
    Ok(out)
}

/// The approved and active allocations naming a profile, with their resources, oldest first.
pub fn held_by_profile(
    conn: &mut DbConn,
    faculty_id: &str,
) -> QueryResult<Vec<(AllocationRow, ResourceRow)>> {
    compute_allocations::table
        .inner_join(compute_resources::table)
        .filter(compute_allocations::faculty_id.eq(faculty_id))
        .filter(
            compute_allocations::state.eq_any([AllocationState::Approved, AllocationState::Active]),
        )
        .order(compute_allocations::id.asc())
        .select((AllocationRow::as_select(), ResourceRow::as_select()))
        .load(conn)
}

//! Shared compute: resources (GPU clusters, HPC systems, cloud credit pools) with a capacity
//! per allocation period split between academia and industry, the allocations people apply
//! for, the scheduler usage charged to them, and the compute report.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::double_option;
use super::reports::ReportFormat;

pub use crate::domain::stored::{
    AllocationState, ComputeUnit, PeriodLength, ResourceKind, ResourceStatus, Sector,
};

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "owner_id": "019ac9a4-5b7e-7d2c-9f7a-3c1e2b4d5a60", "name": "Taiwania 2",
    "kind": "gpu_cluster", "unit": "gpu_hours", "gpu_model": "V100", "gpu_count": 2016,
    "period": "quarter", "capacity": 4000000, "academia_percent": 25, "industry_percent": 75
}))]
pub struct CreateComputeResource {
    /// The organization whose admins and staff decide on allocations: a university (a
    /// campus platform), a company (a cluster it brings to a joint centre) or a government
    /// body (a national facility).
    pub owner_id: String,
    /// The joint centre the resource belongs to; the owner must host it or be its partner.
    #[serde(default)]
    pub center_id: Option<String>,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub kind: ResourceKind,
    /// What capacity and allocations count; GPU-hours and node-hours are charged from
    /// scheduler usage, credits are not.
    pub unit: ComputeUnit,
    /// Such as `H100` (matched case-insensitively by `gpu_model` filters).
    #[serde(default)]
    pub gpu_model: Option<String>,
    #[serde(default)]
    pub gpu_count: Option<i32>,
    /// How long an allocation period is.
    pub period: PeriodLength,
    /// Units available in each period (1 or more).
    pub capacity: i64,
    /// Share of each period's capacity reserved for academia, 0-100; with `industry_percent`
    /// it makes 100.
    pub academia_percent: i32,
    pub industry_percent: i32,
    /// `active` (default) or `retired` (takes no new requests).
    #[serde(default = "default_resource_status")]
    pub status: ResourceStatus,
}

fn default_resource_status() -> ResourceStatus {
    ResourceStatus::Active
}

/// Merge-patch. Changing the capacity or the shares applies to decisions from now on;
/// allocations already granted stay.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"academia_percent": 30, "industry_percent": 70}))]
pub struct UpdateComputeResource {
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub center_id: Option<Option<String>>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[serde(default)]
    pub kind: Option<ResourceKind>,
    #[serde(default)]
    pub unit: Option<ComputeUnit>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub gpu_model: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i32>)]
    pub gpu_count: Option<Option<i32>>,
    #[serde(default)]
    pub period: Option<PeriodLength>,
    #[serde(default)]
    pub capacity: Option<i64>,
    #[serde(default)]
    pub academia_percent: Option<i32>,
    #[serde(default)]
    pub industry_percent: Option<i32>,
    #[serde(default)]
    pub status: Option<ResourceStatus>,
}

/// An amount per sector.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SectorAmounts {
    pub academia: i64,
    pub industry: i64,
}

/// What is granted and still free in one period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Availability {
    pub period: String,
    /// Approved, active and expired allocations of the period.
    pub granted: SectorAmounts,
    /// What each sector's share has left.
    pub free: SectorAmounts,
    /// What the period's capacity has left.
    pub free_total: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ComputeResource {
    pub id: String,
    pub owner_id: String,
    pub center_id: Option<String>,
    pub name: String,
    pub description: Option<String>,
    pub kind: ResourceKind,
    pub unit: ComputeUnit,
    pub gpu_model: Option<String>,
    pub gpu_count: Option<i32>,
    pub period: PeriodLength,
    pub capacity: i64,
    pub academia_percent: i32,
    pub industry_percent: i32,
    /// Each sector's share of a period's capacity, in units (rounded down).
    pub quotas: SectorAmounts,
    pub status: ResourceStatus,
    /// With `period` or `min_free` in a list, or `period` in a read: that period's grants.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub availability: Option<Availability>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ComputeResourceList {
    pub items: Vec<ComputeResource>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListComputeResources {
    pub owner_id: Option<String>,
    pub center_id: Option<String>,
    pub kind: Option<ResourceKind>,
    /// GPU model, case-insensitive (`h100` finds `H100`).
    pub gpu_model: Option<String>,
    pub status: Option<ResourceStatus>,
    /// Show each resource's grants in this period (`2027-Q1`; only resources allocating by
    /// periods of that shape are listed).
    pub period: Option<String>,
    /// Only resources with at least this much capacity free in `period` (default: each
    /// resource's current period), for `sector` if given, else in total.
    #[param(minimum = 0)]
    pub min_free: Option<i64>,
    /// With `min_free`: the sector whose share must have it free.
    pub sector: Option<Sector>,
    /// Page size, 1-100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReadComputeResource {
    /// Show the resource's grants in this period (`2027-Q1`).
    pub period: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "resource_id": "019ac9a4-5b7e-7d2c-9f7a-3c1e2b4d5a6f", "applicant_id": "019ac9a4-5b7e-7d2c-9f7a-3c1e2b4d5a60",
    "faculty_id": "019ac9a4-5b7e-7d2c-9f7a-3c1e2b4d5a61", "period": "2027-Q1", "requested": 5000,
    "justification": "Pre-training a Traditional Chinese speech model", "state": "submitted"
}))]
pub struct CreateAllocation {
    pub resource_id: String,
    /// The university (academia) or company (industry) that applies.
    pub applicant_id: String,
    /// The share the allocation counts against. Follows from the applicant (a university:
    /// academia; a company: industry); only an allocation for a joint funded project
    /// (`project_id`) chooses, and must say which.
    #[serde(default)]
    pub sector: Option<Sector>,
    /// The professor it is for: a profile of the applicant university. A professor applying
    /// for themselves names their own profile.
    #[serde(default)]
    pub faculty_id: Option<String>,
    /// A need the caller can see that the compute serves.
    #[serde(default)]
    pub need_id: Option<String>,
    /// An engagement (between a need and a professor) the compute serves.
    #[serde(default)]
    pub engagement_id: Option<String>,
    /// A joint centre the compute serves.
    #[serde(default)]
    pub center_id: Option<String>,
    /// A funded project the compute serves; the applicant must perform or sponsor it.
    #[serde(default)]
    pub project_id: Option<String>,
    /// The resource's allocation period: `2027`, `2027-Q1` or `2027-01` by its length.
    pub period: String,
    /// Units asked for (1 or more).
    pub requested: i64,
    pub justification: String,
    /// `draft` (default) or `submitted`.
    #[serde(default = "default_allocation_state")]
    pub state: AllocationState,
}

fn default_allocation_state() -> AllocationState {
    AllocationState::Draft
}

/// Merge-patch of a draft (a submitted request is decided, not edited).
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"requested": 4000}))]
pub struct UpdateAllocation {
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Sector>)]
    pub sector: Option<Option<Sector>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub faculty_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub need_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub engagement_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub center_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub project_id: Option<Option<String>>,
    #[serde(default)]
    pub period: Option<String>,
    #[serde(default)]
    pub requested: Option<i64>,
    #[serde(default)]
    pub justification: Option<String>,
}

/// A move in an allocation's workflow.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"to": "approved", "approved": 4000, "reason": "Three quarters of the request fits this quarter"}))]
pub struct AllocationTransition {
    pub to: AllocationState,
    /// With `to: approved`: the units granted, 1 up to what was asked (default: all of it).
    #[serde(default)]
    pub approved: Option<i64>,
    /// Why (up to 2,000 characters): required with `to: rejected`, optional otherwise.
    #[serde(default)]
    pub reason: Option<String>,
    /// With `to: approved`: approve beyond the sector's share of the period, for this
    /// written reason (kept in the audit log). The period's capacity still bounds it.
    #[serde(default)]
    pub override_reason: Option<String>,
    /// With `to: approved` or `to: active`: the scheduler account (Slurm's `Account`) whose
    /// jobs are charged to this allocation; required to activate one that has none.
    #[serde(default)]
    pub scheduler_account: Option<String>,
}

/// A renewal: a new draft for another period, with the same purpose.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"period": "2027-Q2", "requested": 6000}))]
pub struct RenewAllocation {
    /// Default: the period after the renewed one.
    #[serde(default)]
    pub period: Option<String>,
    /// Default: what the renewed one was granted.
    #[serde(default)]
    pub requested: Option<i64>,
    /// Default: the renewed one's.
    #[serde(default)]
    pub justification: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Allocation {
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
    /// The states this one may move to next (empty when final).
    pub next_states: Vec<AllocationState>,
    pub decision_reason: Option<String>,
    pub quota_override_reason: Option<String>,
    pub scheduler_account: Option<String>,
    /// The allocation this one renews.
    pub renewal_of: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    /// Units charged from scheduler usage so far (two decimals).
    pub used: f64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AllocationList {
    pub items: Vec<Allocation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListAllocations {
    pub resource_id: Option<String>,
    pub applicant_id: Option<String>,
    /// Allocations for this professor's profile.
    pub faculty_id: Option<String>,
    pub period: Option<String>,
    pub sector: Option<Sector>,
    pub state: Option<AllocationState>,
    /// Page size, 1-100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UsageImportQuery {
    /// The resource whose scheduler wrote the file.
    pub resource_id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UsageImportStatus {
    /// A job charged for the first time.
    Charged,
    /// A job charged before, charged again with what changed (a requeue, a later record).
    Updated,
    /// A job charged before, exactly so.
    Unchanged,
    /// A line that charges nothing: a job step (`123.batch`), a job not finished yet, or one
    /// that used no units.
    Skipped,
    Rejected,
}

/// One line's outcome in a usage import.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UsageImportRow {
    /// 1-based line of the file.
    pub row: usize,
    /// The scheduler's job id (Slurm's `JobID`), when the line has a readable one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
    pub status: UsageImportStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allocation_id: Option<String>,
    /// Units charged for the job (two decimals).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub charged: Option<f64>,
    /// Why a line was skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub errors: Vec<crate::error::FieldError>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UsageImportReport {
    pub charged: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub skipped: usize,
    pub rejected: usize,
    pub rows: Vec<UsageImportRow>,
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ComputeReportParams {
    pub resource_id: String,
    /// Default: the resource's period that contains `as_of`.
    pub period: Option<String>,
    /// The day burn rates are measured to (default: today, or the period's last day once it
    /// is over).
    pub as_of: Option<NaiveDate>,
    pub format: Option<ReportFormat>,
}

/// One sector's share of the period.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SectorUse {
    pub sector: Sector,
    pub share_percent: i32,
    pub quota: i64,
    pub approved: i64,
    pub used: f64,
    /// `quota - approved` (negative when an override went beyond the share).
    pub unallocated: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OrganizationUse {
    pub organization_id: String,
    pub name: String,
    pub sector: Sector,
    pub approved: i64,
    pub used: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AllocationUse {
    pub allocation_id: String,
    pub applicant_id: String,
    pub sector: Sector,
    pub state: AllocationState,
    pub approved: i64,
    pub used: f64,
    pub remaining: f64,
    /// Units used per day, from the period's start to `as_of`.
    pub burn_per_day: f64,
    /// When the allocation runs out at that rate; `null` when it does not within the period
    /// (or nothing was used yet).
    pub projected_exhaustion: Option<NaiveDate>,
}

/// A resource's period: capacity, and what is approved and used by sector against its
/// quota, per organization and per allocation. The owner's staff see everything; an
/// applicant organization's staff see only their own allocations (and no sector totals).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ComputeReport {
    pub resource_id: String,
    pub resource_name: String,
    pub unit: ComputeUnit,
    pub period: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub as_of: NaiveDate,
    pub capacity: i64,
    /// Empty for a caller who sees only their own allocations.
    pub sectors: Vec<SectorUse>,
    pub organizations: Vec<OrganizationUse>,
    pub allocations: Vec<AllocationUse>,
}

/// An allocation a professor holds, as their profile shows it to anyone who can see the
/// profile: what and how much, not the request behind it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct HeldAllocation {
    pub allocation_id: String,
    pub resource_id: String,
    pub resource_name: String,
    pub gpu_model: Option<String>,
    pub unit: ComputeUnit,
    pub sector: Sector,
    pub period: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub approved: i64,
    pub state: AllocationState,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct HeldAllocationList {
    pub items: Vec<HeldAllocation>,
}

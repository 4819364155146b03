//! Use cases for shared compute: resources and the allocations people apply for on them.
//!
//! A resource belongs to an organization (a university's campus platform, a company's
//! cluster in a joint centre, a government body's national facility); its admins and staff
//! keep it and decide. Each period the resource grants its capacity anew, split between
//! academia and industry by the owner's shares. A university (its office, or a professor for
//! themselves) applies for academia, a company for industry; a joint funded project chooses
//! and says which. An approval that would take a sector beyond its share is refused with the
//! arithmetic (`quota_exceeded`), unless the owner gives a written reason; nothing goes beyond
//! the period's capacity. Approvals on one resource are decided one at a time (the resource's
//! row lock), so two cannot both take the last hours.

mod report;
mod usage;

pub use report::report;
pub use usage::import_usage;

use std::collections::HashMap;

use serde_json::json;

use super::audit::{self, Audited};
use super::centers::{body_id, live_profile, optional_id, org_of_kind};
use super::edit::{Edit, nothing_follows};
use super::policy::{self, Action, Caller};
use super::{PageRequest, Precondition, Versioned, check_transition, now};
use crate::all_valid;
use crate::db::compute::{
    self as rows, AllocationFilter, AllocationRow, DecisionFields, RequestFields, ResourceFields,
    ResourceFilter, ResourceRow,
};
use crate::db::{Db, DbConn, centers as center_rows, organizations as org_rows};
use crate::domain::stored::Workflow;
use crate::domain::{Period, PublicId, Text};
use crate::dto::audit::{AuditAction, AuditEntity};
use crate::dto::compute::{
    Allocation, AllocationList, AllocationState, AllocationTransition, Availability,
    ComputeResource, ComputeResourceList, ComputeUnit, CreateAllocation, CreateComputeResource,
    HeldAllocation, HeldAllocationList, ListAllocations, ListComputeResources, RenewAllocation,
    ResourceKind, ResourceStatus, Sector, SectorAmounts, UpdateAllocation, UpdateComputeResource,
};
use crate::dto::organizations::OrganizationKind;
use crate::error::{AppError, AppResult, ErrorCode, FieldCode, FieldError};

/// The most units a capacity or a request may name: far beyond any real machine, and small
/// enough that sums over many allocations stay exact.
const MAX_UNITS: i64 = 1_000_000_000_000;

fn units(field: &str, value: i64) -> Result<i64, FieldError> {
    if (1..=MAX_UNITS).contains(&value) {
        Ok(value)
    } else {
        Err(FieldError::new(
            field,
            FieldCode::OutOfRange,
            format!("must be between 1 and {MAX_UNITS}"),
        ))
    }
}

// Resources.

fn parse_resource(input: &CreateComputeResource) -> AppResult<ResourceFields> {
    let percent = |field: &str, v: i32| {
        if (0..=100).contains(&v) {
            Ok(v)
        } else {
            Err(FieldError::new(
                field,
                FieldCode::OutOfRange,
                "must be between 0 and 100",
            ))
        }
    };
    // In i64: each share is any i32 until checked.
    let sum = i64::from(input.academia_percent) + i64::from(input.industry_percent);
    let shares = if sum == 100 {
        Ok(())
    } else {
        Err(FieldError::new(
            "industry_percent",
            FieldCode::InvalidValue,
            format!(
                "academia_percent and industry_percent must add up to 100 (they add up to {sum})"
            ),
        ))
    };
    let unit = match (input.kind, input.unit) {
        (ResourceKind::CloudCredits, ComputeUnit::Credits)
        | (ResourceKind::GpuCluster, ComputeUnit::GpuHours)
        | (ResourceKind::HpcSystem, ComputeUnit::GpuHours | ComputeUnit::NodeHours) => Ok(()),
        (kind, _) => Err(FieldError::new(
            "unit",
            FieldCode::InvalidValue,
            match kind {
                ResourceKind::CloudCredits => "a cloud credit pool counts credits",
                ResourceKind::GpuCluster => "a GPU cluster counts gpu_hours",
                ResourceKind::HpcSystem => "an HPC system counts node_hours or gpu_hours",
            },
        )),
    };
    let gpu_count = match input.gpu_count {
        Some(n) if !(1..=10_000_000).contains(&n) => Err(FieldError::new(
            "gpu_count",
            FieldCode::OutOfRange,
            "must be between 1 and 10000000",
        )),
        n => Ok(n),
    };
    let (
        owner,
        center,
        name,
        description,
        gpu_model,
        gpu_count,
        capacity,
        academia,
        industry,
        (),
        (),
    ) = all_valid!(
        owner = body_id("owner_id", &input.owner_id),
        center = optional_id("center_id", input.center_id.as_deref()),
        name = Text::required("name", &input.name, 200),
        description = Text::multiline("description", input.description.as_deref(), 20_000),
        gpu_model = Text::optional("gpu_model", input.gpu_model.as_deref(), 100),
        gpu_count = gpu_count,
        capacity = units("capacity", input.capacity),
        academia = percent("academia_percent", input.academia_percent),
        industry = percent("industry_percent", input.industry_percent),
        shares = shares,
        unit = unit,
    )?;
    Ok(ResourceFields {
        owner_id: owner,
        center_id: center,
        name,
        description,
        kind: input.kind,
        unit: input.unit,
        gpu_model_key: gpu_model.as_ref().map(|m| m.to_lowercase()),
        gpu_model,
        gpu_count,
        period: input.period,
        capacity,
        academia_percent: academia,
        industry_percent: industry,
        status: input.status,
    })
}

/// The owner exists; a centre, when given, is one the owner hosts or partners in.
fn check_resource_refs(conn: &mut DbConn, f: &ResourceFields) -> AppResult<()> {
    let mut errors = Vec::new();
    org_of_kind(conn, "owner_id", &f.owner_id, None, &mut errors)?;
    if let Some(c) = &f.center_id {
        match center_rows::find_live(conn, c)? {
            None => errors.push(FieldError::new(
                "center_id",
                FieldCode::UnknownCenter,
                "is not the id of a centre",
            )),
            Some(center) => {
                let partners = center_rows::load_parts(conn, std::slice::from_ref(c))?
                    .remove(c)
                    .unwrap_or_default()
                    .partners;
                let involved = center.host_university_id == f.owner_id
                    || partners.iter().any(|(p, _)| *p == f.owner_id);
                if !involved {
                    errors.push(FieldError::new(
                        "center_id",
                        FieldCode::NotAPartner,
                        "must be a centre the owner hosts or is a partner of",
                    ));
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::validation(errors))
    }
}

/// Each sector's share of a period's capacity, in units (rounded down).
fn quotas(r: &ResourceRow) -> SectorAmounts {
    let share = |p: i32| (i128::from(r.capacity) * i128::from(p) / 100) as i64;
    SectorAmounts {
        academia: share(r.academia_percent),
        industry: share(r.industry_percent),
    }
}

fn quota_of(r: &ResourceRow, sector: Sector) -> (i32, i64) {
    let q = quotas(r);
    match sector {
        Sector::Academia => (r.academia_percent, q.academia),
        Sector::Industry => (r.industry_percent, q.industry),
    }
}

/// What granted allocations (approved, active, expired) hold of each sector's share.
fn granted(allocations: &[AllocationRow]) -> SectorAmounts {
    let mut out = SectorAmounts::default();
    for a in allocations {
        let amount = a.approved.unwrap_or(0);
        match a.sector {
            Sector::Academia => out.academia += amount,
            Sector::Industry => out.industry += amount,
        }
    }
    out
}

fn availability(r: &ResourceRow, period: &str, allocations: &[AllocationRow]) -> Availability {
    let g = granted(allocations);
    let q = quotas(r);
    let free_total = r.capacity - g.academia - g.industry;
    Availability {
        period: period.to_owned(),
        granted: g,
        // A sector's free share never exceeds what the whole period has left.
        free: SectorAmounts {
            academia: (q.academia - g.academia).clamp(0, free_total.max(0)),
            industry: (q.industry - g.industry).clamp(0, free_total.max(0)),
        },
        free_total: free_total.max(0),
    }
}

fn resource_view(r: ResourceRow, availability: Option<Availability>) -> Versioned<ComputeResource> {
    Versioned {
        version: r.version,
        value: ComputeResource {
            quotas: quotas(&r),
            id: r.id,
            owner_id: r.owner_id,
            center_id: r.center_id,
            name: r.name,
            description: r.description,
            kind: r.kind,
            unit: r.unit,
            gpu_model: r.gpu_model,
            gpu_count: r.gpu_count,
            period: r.period,
            capacity: r.capacity,
            academia_percent: r.academia_percent,
            industry_percent: r.industry_percent,
            status: r.status,
            availability,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        },
    }
}

fn plain_view(_: &mut DbConn, r: ResourceRow) -> AppResult<Versioned<ComputeResource>> {
    Ok(resource_view(r, None))
}

/// A resource's changes concern its owner.
impl Audited for ComputeResource {
    const ENTITY: AuditEntity = AuditEntity::ComputeResource;
    fn audit_id(&self) -> &str {
        &self.id
    }
    fn concerns(&self) -> Vec<&str> {
        vec![self.owner_id.as_str()]
    }
}

pub async fn create_resource(
    db: &Db,
    caller: Option<&Caller>,
    input: CreateComputeResource,
) -> AppResult<Versioned<ComputeResource>> {
    let caller = caller.cloned();
    db.write(move |conn| {
        policy::authorize(
            caller.as_ref(),
            Action::ManageCompute {
                owner_id: &PublicId::parse(&input.owner_id).unwrap_or_default(),
            },
        )?;
        let fields = parse_resource(&input)?;
        check_resource_refs(conn, &fields)?;
        let row = rows::insert_resource(conn, &PublicId::generate(), &fields, now())?;
        let after = resource_view(row, None);
        audit::change(
            conn,
            caller.as_ref(),
            AuditAction::Create,
            None,
            Some(&after.value),
        )?;
        Ok(after)
    })
    .await
}

/// The period named by `period` for resource `r`, or its current one.
fn period_of(r: &ResourceRow, field: &str, period: Option<&str>) -> AppResult<Period> {
    match period {
        Some(p) => Period::parse(field, r.period, p).map_err(|e| AppError::query(vec![e])),
        None => Period::containing(r.period, now().date())
            .ok_or_else(|| AppError::internal("today is outside the periods dates hold")),
    }
}

pub async fn get_resource(
    db: &Db,
    id: String,
    period: Option<String>,
) -> AppResult<Versioned<ComputeResource>> {
    db.run(move |conn| {
        let r = rows::find_resource(conn, &id, false)?
            .ok_or_else(|| AppError::not_found("Compute resource"))?;
        let availability = match period {
            None => None,
            Some(p) => {
                let p = period_of(&r, "period", Some(&p))?;
                let g = rows::granted_in(conn, std::slice::from_ref(&r.id), &p.name)?;
                Some(availability(&r, &p.name, &g))
            }
        };
        Ok(resource_view(r, availability))
    })
    .await
}

pub async fn list_resources(db: &Db, q: ListComputeResources) -> AppResult<ComputeResourceList> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let mut errors = Vec::new();
    if q.min_free.is_some_and(|m| m < 0) {
        errors.push(FieldError::new(
            "min_free",
            FieldCode::OutOfRange,
            "must be 0 or more",
        ));
    }
    if q.sector.is_some() && q.min_free.is_none() {
        errors.push(FieldError::new(
            "sector",
            FieldCode::NotApplicable,
            "applies only with min_free",
        ));
    }
    let gpu_model = Text::optional("gpu_model", q.gpu_model.as_deref(), 100)
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    let owner_id = PublicId::query_param("owner_id", q.owner_id.as_deref());
    let center_id = PublicId::query_param("center_id", q.center_id.as_deref());
    // The period's shape says which resources it can name: `2027-Q1` those by the quarter.
    let period_length = match &q.period {
        None => None,
        Some(p) => {
            let length = crate::dto::compute::PeriodLength::ALL
                .into_iter()
                .find(|l| Period::parse("period", *l, p).is_ok());
            if length.is_none() {
                errors.push(FieldError::new(
                    "period",
                    FieldCode::InvalidPeriod,
                    "must be a year (2027), a quarter (2027-Q1) or a month (2027-01)",
                ));
            }
            length
        }
    };
    if !errors.is_empty() {
        return Err(AppError::query(errors));
    }
    let mut filter = ResourceFilter {
        owner_id: owner_id?,
        center_id: center_id?,
        kind: q.kind,
        gpu_model_key: gpu_model.map(|m| m.to_lowercase()),
        status: q.status,
        among: None,
    };
    let (period, min_free, sector) = (q.period, q.min_free, q.sector);
    db.run(move |conn| {
        // With a period or a free-capacity floor, each resource's grants in its period.
        let wanted = period.is_some() || min_free.is_some();
        let mut grants: HashMap<String, Availability> = HashMap::new();
        if wanted {
            let mut among = Vec::new();
            for (id, _, length) in rows::resource_capacities(conn, period_length)? {
                let Some(r) = rows::find_resource(conn, &id, false)? else {
                    continue;
                };
                let p = match &period {
                    Some(p) => Period::parse("period", length, p).ok(),
                    None => Period::containing(length, now().date()),
                };
                let Some(p) = p else { continue };
                let g = rows::granted_in(conn, std::slice::from_ref(&id), &p.name)?;
                let a = availability(&r, &p.name, &g);
                let free = match sector {
                    Some(Sector::Academia) => a.free.academia,
                    Some(Sector::Industry) => a.free.industry,
                    None => a.free_total,
                };
                if min_free.is_none_or(|m| free >= m) {
                    among.push(id.clone());
                    grants.insert(id, a);
                }
            }
            filter.among = Some(among);
        }
        let (found, next_cursor) = page.read(
            |seek| rows::list_resources(conn, &filter, false, seek),
            |r| &r.id,
        )?;
        let items = found
            .into_iter()
            .map(|r| {
                let a = grants.remove(&r.id);
                resource_view(r, a).value
            })
            .collect();
        Ok(ComputeResourceList { items, next_cursor })
    })
    .await
}

fn managed_resource(
    conn: &mut DbConn,
    caller: Option<&Caller>,
    id: &str,
) -> AppResult<ResourceRow> {
    policy::require_signed_in(caller)?;
    let row = rows::find_resource(conn, id, false)?
        .ok_or_else(|| AppError::not_found("Compute resource"))?;
    policy::authorize(
        caller,
        Action::ManageCompute {
            owner_id: &row.owner_id,
        },
    )?;
    Ok(row)
}

pub async fn update_resource(
    db: &Db,
    caller: Option<&Caller>,
    id: String,
    precondition: Precondition,
    patch: UpdateComputeResource,
) -> AppResult<Versioned<ComputeResource>> {
    RESOURCE_EDIT
        .apply(db, caller, id, precondition, |current| {
            merge_resource(current, patch)
        })
        .await
}

/// How a resource is updated (see `edit`): its references are checked; any status may follow
/// any other (a retired resource may come back); nothing follows.
static RESOURCE_EDIT: Edit<ResourceRow, CreateComputeResource, ResourceFields, ComputeResource> =
    Edit {
        managed: managed_resource,
        input: |_, row| Ok(resource_input(row)),
        transition: |_, _| Ok(()),
        parse: parse_resource,
        check: |conn, _, change| check_resource_refs(conn, change.valid),
        write: |conn, current, valid, at| {
            rows::resources::update(conn, &current.id, current.version, valid, at)?
                .ok_or_else(AppError::stale)
        },
        then: nothing_follows,
        view: plain_view,
    };

fn resource_input(r: &ResourceRow) -> CreateComputeResource {
    CreateComputeResource {
        owner_id: r.owner_id.clone(),
        center_id: r.center_id.clone(),
        name: r.name.clone(),
        description: r.description.clone(),
        kind: r.kind,
        unit: r.unit,
        gpu_model: r.gpu_model.clone(),
        gpu_count: r.gpu_count,
        period: r.period,
        capacity: r.capacity,
        academia_percent: r.academia_percent,
        industry_percent: r.industry_percent,
        status: r.status,
    }
}

fn merge_resource(base: CreateComputeResource, p: UpdateComputeResource) -> CreateComputeResource {
    super::merge_patch!(
        base,
        p: UpdateComputeResource,
        [
            center_id,
            name,
            description,
            kind,
            unit,
            gpu_model,
            gpu_count,
            period,
            capacity,
            academia_percent,
            industry_percent,
            status,
        ]
    )
}

// Allocations.

/// Parses a request against its resource and checks what it points at. The caller must be
/// able to see the need, engagement and project it names, so that a request cannot reveal
/// that a confidential one exists.
fn parse_request(
    conn: &mut DbConn,
    caller: &Caller,
    resource: &ResourceRow,
    input: &CreateAllocation,
) -> AppResult<RequestFields> {
    let (applicant, faculty, need, engagement, center, project, period, requested, justification) =
        all_valid!(
            applicant = body_id("applicant_id", &input.applicant_id),
            faculty = optional_id("faculty_id", input.faculty_id.as_deref()),
            need = optional_id("need_id", input.need_id.as_deref()),
            engagement = optional_id("engagement_id", input.engagement_id.as_deref()),
            center = optional_id("center_id", input.center_id.as_deref()),
            project = optional_id("project_id", input.project_id.as_deref()),
            period = Period::parse("period", resource.period, &input.period),
            requested = units("requested", input.requested),
            justification = Text::multiline("justification", Some(&input.justification), 5_000)
                .and_then(|j| j.ok_or_else(|| FieldError::new(
                    "justification",
                    FieldCode::Required,
                    "must not be empty"
                ))),
        )?;
    let mut errors = Vec::new();
    let applicant_kind = org_rows::find(conn, &applicant)?.map(|o| o.kind);
    let sector = match (applicant_kind, &project, input.sector) {
        (None, _, _) => {
            errors.push(FieldError::new(
                "applicant_id",
                FieldCode::UnknownOrganization,
                "is not the id of an organization",
            ));
            None
        }
        (Some(OrganizationKind::Government | OrganizationKind::Foundation), _, _) => {
            errors.push(FieldError::new(
                "applicant_id",
                FieldCode::InvalidValue,
                "must be a university (academia) or a company (industry)",
            ));
            None
        }
        // A joint project counts against the sector its applicant chooses.
        (Some(_), Some(_), None) => {
            errors.push(FieldError::new(
                "sector",
                FieldCode::Required,
                "a request for a funded project says which sector it counts against",
            ));
            None
        }
        (Some(_), Some(_), Some(s)) => Some(s),
        (Some(kind), None, given) => {
            let own = if kind == OrganizationKind::University {
                Sector::Academia
            } else {
                Sector::Industry
            };
            if given.is_some_and(|g| g != own) {
                errors.push(FieldError::new(
                    "sector",
                    FieldCode::Mismatch,
                    format!("a {kind} applies for {own}; only a request for a funded project (project_id) chooses"),
                ));
            }
            Some(own)
        }
    };
    if let Some(f) = &faculty {
        if applicant_kind == Some(OrganizationKind::University) {
            live_profile(conn, "faculty_id", f, Some(&applicant), &mut errors)?;
        } else {
            errors.push(FieldError::new(
                "faculty_id",
                FieldCode::NotApplicable,
                "names a professor of the applicant university; a company applies for itself",
            ));
        }
    }
    let caller = Some(caller);
    if let Some(n) = &need {
        let scope = policy::need_scope(caller, false)?;
        if crate::db::needs::find_visible(conn, &scope, n)?.is_none() {
            errors.push(FieldError::new(
                "need_id",
                FieldCode::UnknownNeed,
                "is not the id of a need you can see",
            ));
        }
    }
    if let Some(e) = &engagement {
        let scope = policy::engagement_scope(caller)?;
        if crate::db::engagements::find_visible(conn, &scope, e)?.is_none() {
            errors.push(FieldError::new(
                "engagement_id",
                FieldCode::UnknownEngagement,
                "is not the id of an engagement you can see",
            ));
        }
    }
    if let Some(c) = &center
        && center_rows::find_live(conn, c)?.is_none()
    {
        errors.push(FieldError::new(
            "center_id",
            FieldCode::UnknownCenter,
            "is not the id of a centre",
        ));
    }
    if let Some(p) = &project {
        let scope = policy::participant_scope(caller, false)?;
        match crate::db::projects::find_visible(conn, &scope, p)? {
            None => errors.push(FieldError::new(
                "project_id",
                FieldCode::UnknownProject,
                "is not the id of a funded project you can see",
            )),
            Some(pr) if pr.university_id != applicant && pr.sponsor_id != applicant => {
                errors.push(FieldError::new(
                    "project_id",
                    FieldCode::Mismatch,
                    "must be a project the applicant performs or sponsors",
                ))
            }
            Some(_) => {}
        }
    }
    match (errors.is_empty(), sector) {
        (true, Some(sector)) => Ok(RequestFields {
            resource_id: resource.id.clone(),
            applicant_id: applicant,
            sector,
            faculty_id: faculty,
            need_id: need,
            engagement_id: engagement,
            center_id: center,
            project_id: project,
            period: period.name,
            period_start: period.start,
            period_end: period.end,
            requested,
            justification,
        }),
        _ => Err(AppError::validation(errors)),
    }
}

/// The resource a request names, live and taking requests.
fn open_resource(conn: &mut DbConn, id: &str) -> AppResult<ResourceRow> {
    let bad = |code, message: &str| {
        AppError::validation(vec![FieldError::new("resource_id", code, message)])
    };
    let id = PublicId::parse(id).ok_or_else(|| bad(FieldCode::InvalidId, "must be an id"))?;
    let r = rows::find_resource(conn, &id, false)?.ok_or_else(|| {
        bad(
            FieldCode::UnknownResource,
            "is not the id of a compute resource",
        )
    })?;
    if r.status == ResourceStatus::Retired {
        return Err(AppError::new(
            ErrorCode::Conflict,
            "This resource is retired and takes no new requests",
        ));
    }
    Ok(r)
}

/// Records a change of an allocation for its applicant and the resource's owner.
fn audit_allocation(
    conn: &mut DbConn,
    caller: &Caller,
    resource: &ResourceRow,
    action: AuditAction,
    before: Option<&Allocation>,
    after: &Allocation,
) -> AppResult<()> {
    audit::record(
        conn,
        Some(caller.user_id.as_str()),
        action,
        AuditEntity::ComputeAllocation,
        &after.id,
        &[after.applicant_id.as_str(), resource.owner_id.as_str()],
        before,
        Some(after),
    )
}

pub async fn create_allocation(
    db: &Db,
    caller: Option<&Caller>,
    input: CreateAllocation,
) -> AppResult<Versioned<Allocation>> {
    let caller = policy::require_signed_in(caller)?.clone();
    db.write(move |conn| {
        policy::authorize(
            Some(&caller),
            Action::RequestCompute {
                applicant_id: &PublicId::parse(&input.applicant_id).unwrap_or_default(),
                requested_by: None,
            },
        )?;
        if !matches!(
            input.state,
            AllocationState::Draft | AllocationState::Submitted
        ) {
            return Err(AppError::validation(vec![FieldError::new(
                "state",
                FieldCode::InvalidValue,
                "a new request is a draft or submitted",
            )]));
        }
        let resource = open_resource(conn, &input.resource_id)?;
        let fields = parse_request(conn, &caller, &resource, &input)?;
        let row = rows::insert_allocation(
            conn,
            &PublicId::generate(),
            &fields,
            input.state,
            &caller.user_id,
            None,
            now(),
        )?;
        let after = allocation_view(conn, row)?;
        audit_allocation(
            conn,
            &caller,
            &resource,
            AuditAction::Create,
            None,
            &after.value,
        )?;
        Ok(after)
    })
    .await
}

pub async fn get_allocation(
    db: &Db,
    caller: Option<&Caller>,
    id: String,
) -> AppResult<Versioned<Allocation>> {
    policy::require_signed_in(caller)?;
    let scope = policy::participation(caller);
    db.run(move |conn| {
        let row = rows::find_visible_allocation(conn, &scope, &id)?
            .ok_or_else(|| AppError::not_found("Allocation"))?;
        allocation_view(conn, row)
    })
    .await
}

pub async fn list_allocations(
    db: &Db,
    caller: Option<&Caller>,
    q: ListAllocations,
) -> AppResult<AllocationList> {
    policy::require_signed_in(caller)?;
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let scope = policy::participation(caller);
    let filter = AllocationFilter {
        resource_id: PublicId::query_param("resource_id", q.resource_id.as_deref())?,
        applicant_id: PublicId::query_param("applicant_id", q.applicant_id.as_deref())?,
        faculty_id: PublicId::query_param("faculty_id", q.faculty_id.as_deref())?,
        period: q.period.map(|p| p.trim().to_owned()),
        sector: q.sector,
        state: q.state,
    };
    db.run(move |conn| {
        let (found, next_cursor) = page.read(
            |seek| rows::list_allocations(conn, &scope, &filter, seek),
            |r| &r.id,
        )?;
        let ids: Vec<String> = found.iter().map(|r| r.id.clone()).collect();
        let used = rows::usage_of(conn, &ids)?;
        let items = found
            .into_iter()
            .map(|r| {
                let u = used.get(&r.id).map_or(0, |u| u.0);
                to_allocation(r, u).value
            })
            .collect();
        Ok(AllocationList { items, next_cursor })
    })
    .await
}

/// Unit-seconds as units, to two decimals.
pub(crate) fn hours(unit_seconds: i64) -> f64 {
    (unit_seconds as f64 / 36.0).round() / 100.0
}

fn allocation_view(conn: &mut DbConn, row: AllocationRow) -> AppResult<Versioned<Allocation>> {
    let used = rows::usage_of(conn, std::slice::from_ref(&row.id))?
        .remove(&row.id)
        .map_or(0, |u| u.0);
    Ok(to_allocation(row, used))
}

fn to_allocation(r: AllocationRow, used_seconds: i64) -> Versioned<Allocation> {
    Versioned {
        version: r.version,
        value: Allocation {
            next_states: r.state.next().to_vec(),
            used: hours(used_seconds),
            id: r.id,
            resource_id: r.resource_id,
            applicant_id: r.applicant_id,
            sector: r.sector,
            faculty_id: r.faculty_id,
            requested_by: r.requested_by,
            need_id: r.need_id,
            engagement_id: r.engagement_id,
            center_id: r.center_id,
            project_id: r.project_id,
            period: r.period,
            period_start: r.period_start,
            period_end: r.period_end,
            requested: r.requested,
            approved: r.approved,
            justification: r.justification,
            state: r.state,
            decision_reason: r.decision_reason,
            quota_override_reason: r.quota_override_reason,
            scheduler_account: r.scheduler_account,
            renewal_of: r.renewal_of,
            decided_by: r.decided_by,
            decided_at: r.decided_at.map(|d| d.and_utc()),
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        },
    }
}

fn request_input(r: &AllocationRow) -> CreateAllocation {
    CreateAllocation {
        resource_id: r.resource_id.clone(),
        applicant_id: r.applicant_id.clone(),
        sector: r.project_id.as_ref().map(|_| r.sector),
        faculty_id: r.faculty_id.clone(),
        need_id: r.need_id.clone(),
        engagement_id: r.engagement_id.clone(),
        center_id: r.center_id.clone(),
        project_id: r.project_id.clone(),
        period: r.period.clone(),
        requested: r.requested,
        justification: r.justification.clone(),
        state: r.state,
    }
}

/// Loads an allocation the caller can see and may act on as the applicant: 404 when
/// invisible, 403 when not theirs.
fn applicants_allocation(conn: &mut DbConn, caller: &Caller, id: &str) -> AppResult<AllocationRow> {
    let row = rows::find_visible_allocation(conn, &policy::participation(Some(caller)), id)?
        .ok_or_else(|| AppError::not_found("Allocation"))?;
    policy::authorize(
        Some(caller),
        Action::RequestCompute {
            applicant_id: &row.applicant_id,
            requested_by: Some(&row.requested_by),
        },
    )?;
    Ok(row)
}

/// Edits a draft (merge patch; `If-Match` required). A submitted request is decided, not
/// edited.
pub async fn update_allocation(
    db: &Db,
    caller: Option<&Caller>,
    id: String,
    precondition: Precondition,
    patch: UpdateAllocation,
) -> AppResult<Versioned<Allocation>> {
    let caller = policy::require_signed_in(caller)?.clone();
    db.write(move |conn| {
        let current = applicants_allocation(conn, &caller, &id)?;
        precondition.check(current.version, true)?;
        if current.state != AllocationState::Draft {
            return Err(AppError::new(
                ErrorCode::Conflict,
                format!("Only a draft can be edited; this request is {}", current.state),
            ));
        }
        let base = request_input(&current);
        let input = super::merge_patch!(
            base,
            patch: UpdateAllocation,
            [sector, faculty_id, need_id, engagement_id, center_id, project_id, period, requested, justification]
        );
        let resource = open_resource(conn, &current.resource_id)?;
        let fields = parse_request(conn, &caller, &resource, &input)?;
        let before = allocation_view(conn, current.clone())?;
        let row = rows::update_request(conn, &current.id, current.version, &fields, now())?
            .ok_or_else(AppError::stale)?;
        let after = allocation_view(conn, row)?;
        if after.value != before.value {
            audit_allocation(conn, &caller, &resource, AuditAction::Update, Some(&before.value), &after.value)?;
        }
        Ok(after)
    })
    .await
}

/// A move in the workflow: the applicant submits; the resource owner's staff approve (within
/// the sector's share, or beyond it with a written reason), reject (with a reason), activate
/// (with the scheduler account usage is charged to) and expire.
pub async fn transition(
    db: &Db,
    caller: Option<&Caller>,
    id: String,
    precondition: Precondition,
    input: AllocationTransition,
) -> AppResult<Versioned<Allocation>> {
    let caller = policy::require_signed_in(caller)?.clone();
    let to = input.to;
    let move_ = Move::parse(&input)?;
    db.write(move |conn| {
        let current = rows::find_visible_allocation(conn, &policy::participation(Some(&caller)), &id)?
            .ok_or_else(|| AppError::not_found("Allocation"))?;
        precondition.check(current.version, true)?;
        let resource = rows::find_resource(conn, &current.resource_id, true)?
            .ok_or_else(|| AppError::internal("an allocation's resource is missing"))?;
        let action = if to == AllocationState::Submitted {
            Action::RequestCompute {
                applicant_id: &current.applicant_id,
                requested_by: Some(&current.requested_by),
            }
        } else {
            Action::ManageCompute {
                owner_id: &resource.owner_id,
            }
        };
        policy::authorize(Some(&caller), action)?;
        if current.state == to {
            return Err(AppError::new(
                ErrorCode::Conflict,
                format!("The allocation is already {to}"),
            ));
        }
        check_transition(current.state, to)?;
        let mut d = DecisionFields {
            state: to,
            approved: current.approved,
            decision_reason: current.decision_reason.clone(),
            quota_override_reason: current.quota_override_reason.clone(),
            scheduler_account: current.scheduler_account.clone(),
            decided_by: current.decided_by.clone(),
            decided_at: current.decided_at,
        };
        let at = now();
        match to {
            AllocationState::Submitted => {
                if resource.status == ResourceStatus::Retired || resource.deleted_at.is_some() {
                    return Err(AppError::new(
                        ErrorCode::Conflict,
                        "This resource is retired and takes no new requests",
                    ));
                }
            }
            AllocationState::Approved => {
                let amount = move_.approved.unwrap_or(current.requested);
                if amount > current.requested {
                    return Err(AppError::validation(vec![FieldError::new(
                        "approved",
                        FieldCode::OutOfRange,
                        format!("must be at most what was asked ({})", current.requested),
                    )]));
                }
                // One approval at a time per resource: the next waits here and then sees
                // this one's grant.
                rows::lock_resource(conn, &resource.id)?;
                let others: Vec<AllocationRow> =
                    rows::granted_in(conn, std::slice::from_ref(&resource.id), &current.period)?
                        .into_iter()
                        .filter(|a| a.id != current.id)
                        .collect();
                check_quota(&resource, &current, &granted(&others), amount, move_.override_reason.is_some())?;
                d.approved = Some(amount);
                d.decision_reason = move_.reason.clone();
                d.quota_override_reason = move_.override_reason.clone();
                d.decided_by = Some(caller.user_id.clone());
                d.decided_at = Some(at);
            }
            AllocationState::Rejected => {
                d.decision_reason = move_.reason.clone();
                d.decided_by = Some(caller.user_id.clone());
                d.decided_at = Some(at);
            }
            AllocationState::Active | AllocationState::Expired | AllocationState::Draft => {
                if let Some(r) = &move_.reason {
                    d.decision_reason = Some(r.clone());
                }
            }
        }
        if let Some(account) = &move_.scheduler_account {
            d.scheduler_account = Some(account.clone());
        }
        if to == AllocationState::Active && d.scheduler_account.is_none() {
            return Err(AppError::validation(vec![FieldError::new(
                "scheduler_account",
                FieldCode::Required,
                "name the scheduler account whose jobs are charged to this allocation",
            )]));
        }
        if let Some(account) = &d.scheduler_account
            && matches!(to, AllocationState::Approved | AllocationState::Active)
            && let Some(other) = rows::account_taken(
                conn,
                &resource.id,
                account,
                current.period_start,
                current.period_end,
                &current.id,
            )?
        {
            return Err(AppError::validation(vec![FieldError::new(
                "scheduler_account",
                FieldCode::Duplicate,
                format!("allocation {other} already charges account `{account}` in an overlapping period"),
            )]));
        }
        let before = allocation_view(conn, current.clone())?;
        let row = rows::update_decision(conn, &current.id, current.version, &d, at)?
            .ok_or_else(AppError::stale)?;
        let after = allocation_view(conn, row)?;
        audit_allocation(conn, &caller, &resource, AuditAction::Update, Some(&before.value), &after.value)?;
        Ok(after)
    })
    .await
}

/// A transition's body, checked against the move it asks for.
struct Move {
    approved: Option<i64>,
    reason: Option<String>,
    override_reason: Option<String>,
    scheduler_account: Option<String>,
}

impl Move {
    fn parse(input: &AllocationTransition) -> AppResult<Self> {
        let to = input.to;
        let only = |field: &str, given: bool, allowed: &[AllocationState]| {
            if given && !allowed.contains(&to) {
                Err(FieldError::new(
                    field,
                    FieldCode::NotApplicable,
                    format!("does not apply to a move to {to}"),
                ))
            } else {
                Ok(())
            }
        };
        let account = input
            .scheduler_account
            .as_deref()
            .map(|a| {
                let a = a.trim().to_lowercase();
                let ok = !a.is_empty()
                    && a.len() <= 64
                    && a.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b));
                if ok {
                    Ok(a)
                } else {
                    Err(FieldError::new(
                        "scheduler_account",
                        FieldCode::Invalid,
                        "must be a scheduler account name: 1-64 letters, digits, `_`, `-` or `.`",
                    ))
                }
            })
            .transpose();
        let reason = Text::multiline("reason", input.reason.as_deref(), 2_000).and_then(|r| {
            if r.is_none() && to == AllocationState::Rejected {
                Err(FieldError::new(
                    "reason",
                    FieldCode::Required,
                    "say why the request is rejected",
                ))
            } else {
                Ok(r)
            }
        });
        let (approved, reason, override_reason, scheduler_account, (), (), ()) = all_valid!(
            approved = input.approved.map(|a| units("approved", a)).transpose(),
            reason = reason,
            override_reason =
                Text::multiline("override_reason", input.override_reason.as_deref(), 2_000),
            scheduler_account = account,
            a = only(
                "approved",
                input.approved.is_some(),
                &[AllocationState::Approved]
            ),
            o = only(
                "override_reason",
                input.override_reason.is_some(),
                &[AllocationState::Approved]
            ),
            s = only(
                "scheduler_account",
                input.scheduler_account.is_some(),
                &[AllocationState::Approved, AllocationState::Active]
            ),
        )?;
        Ok(Self {
            approved,
            reason,
            override_reason,
            scheduler_account,
        })
    }
}

/// Refuses an approval of `amount` that would take the allocation's sector beyond its share
/// of the period (unless `overridden`) or the period beyond its capacity, with the arithmetic.
fn check_quota(
    r: &ResourceRow,
    a: &AllocationRow,
    others: &SectorAmounts,
    amount: i64,
    overridden: bool,
) -> AppResult<()> {
    let (share, quota) = quota_of(r, a.sector);
    let sector_granted = match a.sector {
        Sector::Academia => others.academia,
        Sector::Industry => others.industry,
    };
    let total = others.academia + others.industry;
    let over_capacity = total + amount > r.capacity;
    let over_share = sector_granted + amount > quota;
    if !over_capacity && (!over_share || overridden) {
        return Ok(());
    }
    let unit = r.unit;
    let detail = if over_capacity {
        format!(
            "Approving {amount} {unit} would take {period} to {} of its capacity of {}: {} are already granted, {} remain. Approve at most {} (no override goes beyond capacity).",
            total + amount,
            r.capacity,
            total,
            (r.capacity - total).max(0),
            (r.capacity - total).max(0),
            period = a.period,
        )
    } else {
        format!(
            "Approving {amount} {unit} would take {sector} to {} of its {quota} ({share}% of {}) in {period}: {sector_granted} are already granted, {} remain. Approve at most {}, or give override_reason.",
            sector_granted + amount,
            r.capacity,
            (quota - sector_granted).max(0),
            (quota - sector_granted)
                .max(0)
                .min((r.capacity - total).max(0)),
            sector = a.sector,
            period = a.period,
        )
    };
    Err(
        AppError::new(ErrorCode::QuotaExceeded, detail).with_extension(
            "quota",
            json!({
                "resource_id": r.id,
                "period": a.period,
                "unit": unit,
                "sector": a.sector,
                "capacity": r.capacity,
                "share_percent": share,
                "sector_quota": quota,
                "sector_granted": sector_granted,
                "capacity_granted": total,
                "requested": amount,
                "sector_remaining": (quota - sector_granted).max(0),
                "capacity_remaining": (r.capacity - total).max(0),
                "overridable": !over_capacity,
            }),
        ),
    )
}

/// A renewal: a new draft for the next period (or the one given), asking by default for what
/// the renewed allocation was granted.
pub async fn renew(
    db: &Db,
    caller: Option<&Caller>,
    id: String,
    input: RenewAllocation,
) -> AppResult<Versioned<Allocation>> {
    let caller = policy::require_signed_in(caller)?.clone();
    db.write(move |conn| {
        let source = applicants_allocation(conn, &caller, &id)?;
        if !AllocationState::GRANTED.contains(&source.state) {
            return Err(AppError::new(
                ErrorCode::Conflict,
                format!("Only a granted allocation (approved, active or expired) is renewed; this one is {}", source.state),
            ));
        }
        let resource = open_resource(conn, &source.resource_id)?;
        let period = match input.period {
            Some(p) => p,
            None => Period {
                name: source.period.clone(),
                start: source.period_start,
                end: source.period_end,
            }
            .next(resource.period)
            .map(|p| p.name)
            .ok_or_else(|| AppError::new(ErrorCode::Conflict, "No period follows this one"))?,
        };
        let mut request = request_input(&source);
        request.period = period;
        request.requested = input.requested.unwrap_or(source.approved.unwrap_or(source.requested));
        if let Some(j) = input.justification {
            request.justification = j;
        }
        let fields = parse_request(conn, &caller, &resource, &request)?;
        let row = rows::insert_allocation(
            conn,
            &PublicId::generate(),
            &fields,
            AllocationState::Draft,
            &caller.user_id,
            Some(&source.id),
            now(),
        )?;
        let after = allocation_view(conn, row)?;
        audit_allocation(conn, &caller, &resource, AuditAction::Create, None, &after.value)?;
        Ok(after)
    })
    .await
}

/// The approved and active allocations a profile holds, for anyone who can see the profile.
pub async fn held_by_profile(
    db: &Db,
    caller: Option<&Caller>,
    faculty_id: String,
) -> AppResult<HeldAllocationList> {
    let scope = policy::faculty_scope(caller, false)?;
    db.run(move |conn| {
        crate::db::faculty::find_visible(conn, &scope, &faculty_id)?
            .ok_or_else(|| AppError::not_found("Faculty profile"))?;
        let items = rows::held_by_profile(conn, &faculty_id)?
            .into_iter()
            .map(|(a, r)| HeldAllocation {
                allocation_id: a.id,
                resource_id: r.id,
                resource_name: r.name,
                gpu_model: r.gpu_model,
                unit: r.unit,
                sector: a.sector,
                period: a.period,
                period_start: a.period_start,
                period_end: a.period_end,
                approved: a.approved.unwrap_or(0),
                state: a.state,
            })
            .collect();
        Ok(HeldAllocationList { items })
    })
    .await
}

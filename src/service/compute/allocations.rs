//! Allocations: requests for compute in one period, their workflow and renewals, and what a
//! profile holds.

use super::quota::{check_quota, granted};
use super::{hours, units};
use crate::all_valid;
use crate::db::compute::{
    self as rows, AllocationFilter, AllocationRow, DecisionFields, RequestFields, ResourceRow,
};
use crate::db::{Db, DbConn, centers as center_rows, organizations as org_rows};
use crate::domain::stored::Workflow;
use crate::domain::{Period, PublicId, Text};
use crate::dto::audit::{AuditAction, AuditEntity};
use crate::dto::compute::{
    Allocation, AllocationList, AllocationState, AllocationTransition, CreateAllocation,
    HeldAllocation, HeldAllocationList, ListAllocations, RenewAllocation, ResourceStatus, Sector,
    UpdateAllocation,
};
use crate::dto::organizations::OrganizationKind;
use crate::error::{AppError, AppResult, ErrorCode, FieldCode, FieldError};
use crate::service::audit;
use crate::service::centers::{body_id, live_profile, optional_id};
use crate::service::policy::{self, Action, Caller};
use crate::service::{PageRequest, Precondition, Versioned, check_transition, now};

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
        let used = rows::usage_of(conn, &ids, None)?;
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

fn allocation_view(conn: &mut DbConn, row: AllocationRow) -> AppResult<Versioned<Allocation>> {
    let used = rows::usage_of(conn, std::slice::from_ref(&row.id), None)?
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
        let input = crate::service::merge_patch!(
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

//! Use cases for companies' project needs: create, read, list, update (with the status
//! workflow), delete/restore, and invitations that open confidential needs to faculty.

use chrono::NaiveDateTime;

use super::audit::{self, Audited};
use crate::all_valid;
use crate::db::needs::{self as rows, NeedFields, NeedFilter, NeedParts, NeedRow};
use crate::db::{Db, DbConn, faculty as faculty_rows, organizations as org_rows};
use crate::domain::{Currency, PublicId, Text};
use crate::dto::audit::{AuditAction, AuditEntity};
use crate::dto::faculty::CollaborationType;
use crate::dto::needs::{
    Budget, ComputeDirection, ComputeUnit, CreateNeed, Invitation, InviteFaculty, ListNeeds, Need,
    NeedCompute, NeedList, NeedStatus, UpdateNeed,
};
use crate::dto::organizations::OrganizationKind;
use crate::error::{AppError, AppResult, FieldCode, FieldError};

use super::edit::Edit;
use super::policy::{self, Action, Caller};
use super::{PageRequest, Precondition, Versioned, now};

#[derive(Debug, Clone, PartialEq)]
struct ValidNeed {
    fields: NeedFields,
    parts: NeedParts,
}

/// A checked budget: minimum, maximum (minor units), ISO 4217 currency.
type ValidBudget = Option<(i64, i64, String)>;

fn parse_budget(b: Option<&Budget>) -> Result<ValidBudget, Vec<FieldError>> {
    let Some(b) = b else {
        return Ok(None);
    };
    let mut errors = Vec::new();
    let currency = Currency::parse("budget.currency", &b.currency)
        .map_err(|e| errors.push(e))
        .ok();
    if b.min < 0 {
        errors.push(FieldError::new(
            "budget.min",
            FieldCode::OutOfRange,
            "must not be negative",
        ));
    }
    if b.max < b.min {
        errors.push(FieldError::new(
            "budget.max",
            FieldCode::LessThanMin,
            "must be at least budget.min",
        ));
    }
    match currency {
        Some(c) if errors.is_empty() => Ok(Some((b.min, b.max, c.into_string()))),
        _ => Err(errors),
    }
}

/// A checked compute line: direction, amount, unit, GPU model.
type ValidCompute = Option<(ComputeDirection, i64, ComputeUnit, Option<String>)>;

fn parse_compute(c: Option<&NeedCompute>) -> Result<ValidCompute, Vec<FieldError>> {
    let Some(c) = c else {
        return Ok(None);
    };
    let mut errors = Vec::new();
    if !(1..=1_000_000_000_000).contains(&c.amount) {
        errors.push(FieldError::new(
            "compute.amount",
            FieldCode::OutOfRange,
            "must be between 1 and 1000000000000",
        ));
    }
    let model = Text::optional("compute.gpu_model", c.gpu_model.as_deref(), 100)
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    if errors.is_empty() {
        Ok(Some((c.direction, c.amount, c.unit, model)))
    } else {
        Err(errors)
    }
}

impl ValidNeed {
    fn parse(input: &CreateNeed) -> AppResult<Self> {
        let duration = match input.duration_months {
            Some(d) if !(1..=240).contains(&d) => Err(FieldError::new(
                "duration_months",
                FieldCode::OutOfRange,
                "must be between 1 and 240",
            )),
            d => Ok(d),
        };
        let (title, summary, description, location, keywords, budget, compute, duration) = all_valid!(
            title = Text::required("title", &input.title, 300),
            summary = Text::multiline("summary", input.summary.as_deref(), 2000),
            description = Text::multiline("description", input.description.as_deref(), 50_000),
            location = Text::optional("location", input.location.as_deref(), 200),
            keywords = Text::labels("keywords", &input.keywords, 50, 100),
            budget = parse_budget(input.budget.as_ref()),
            compute = parse_compute(input.compute.as_ref()),
            duration = duration,
        )?;
        let mut types: Vec<CollaborationType> = input.collaboration_types.clone();
        types.sort();
        types.dedup();
        Ok(Self {
            fields: NeedFields {
                company_id: input.company_id.trim().to_owned(),
                title,
                summary,
                description,
                budget_min: budget.as_ref().map(|b| b.0),
                budget_max: budget.as_ref().map(|b| b.1),
                currency: budget.map(|b| b.2),
                duration_months: duration,
                deadline: input.deadline,
                location,
                remote: input.remote,
                status: input.status,
                visibility: input.visibility,
                compute_direction: compute.as_ref().map(|c| c.0),
                compute_amount: compute.as_ref().map(|c| c.1),
                compute_unit: compute.as_ref().map(|c| c.2),
                compute_gpu_model: compute.and_then(|c| c.3),
            },
            parts: NeedParts {
                keywords,
                collaboration_types: types,
            },
        })
    }
}

/// A need that is being opened, or an open need whose deadline is being moved, must not have a
/// deadline in the past. (An open need whose deadline has simply passed can still be edited,
/// closed or awarded.)
fn check_open_deadline(valid: &ValidNeed, before: Option<&NeedFields>) -> AppResult<()> {
    let today = chrono::Utc::now().date_naive();
    let opening_or_moving =
        before.is_none_or(|b| b.status != NeedStatus::Open || b.deadline != valid.fields.deadline);
    if valid.fields.status == NeedStatus::Open
        && opening_or_moving
        && valid.fields.deadline.is_some_and(|d| d < today)
    {
        return Err(AppError::validation(vec![FieldError::new(
            "deadline",
            FieldCode::InThePast,
            "must not be in the past when the need is open",
        )]));
    }
    Ok(())
}

fn check_company(conn: &mut DbConn, company_id: &str) -> AppResult<()> {
    let org = org_rows::find(conn, company_id)?;
    if org.as_ref().map(|o| o.kind) != Some(OrganizationKind::Company) {
        return Err(AppError::validation(vec![FieldError::new(
            "company_id",
            FieldCode::NotACompany,
            "must be the id of an organization of kind company",
        )]));
    }
    Ok(())
}

pub async fn create(
    db: &Db,
    caller: Option<&Caller>,
    input: CreateNeed,
) -> AppResult<Versioned<Need>> {
    let caller = caller.cloned();
    db.write(move |conn| {
        policy::authorize(
            caller.as_ref(),
            Action::ManageNeeds {
                company_id: input.company_id.trim(),
            },
        )?;
        if !matches!(input.status, NeedStatus::Draft | NeedStatus::Open) {
            return Err(AppError::validation(vec![FieldError::new(
                "status",
                FieldCode::InvalidValue,
                "a new need is draft or open",
            )]));
        }
        let valid = ValidNeed::parse(&input)?;
        check_company(conn, &valid.fields.company_id)?;
        check_open_deadline(&valid, None)?;
        let id = PublicId::generate();
        let row = rows::insert(conn, &id, &valid.fields, now())?;
        rows::replace_parts(conn, &id, &valid.parts)?;
        let made = full_view(conn, row)?;
        audit::change(
            conn,
            caller.as_ref(),
            AuditAction::Create,
            None,
            Some(&made.value),
        )?;
        Ok(made)
    })
    .await
}

pub async fn get(
    db: &Db,
    caller: Option<&Caller>,
    id: String,
    include_deleted: bool,
) -> AppResult<Versioned<Need>> {
    let scope = policy::need_scope(caller, include_deleted)?;
    db.run(move |conn| {
        let row =
            rows::find_visible(conn, &scope, &id)?.ok_or_else(|| AppError::not_found("Need"))?;
        full_view(conn, row)
    })
    .await
}

pub async fn list(db: &Db, caller: Option<&Caller>, q: ListNeeds) -> AppResult<NeedList> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let scope = policy::need_scope(caller, q.include_deleted.unwrap_or(false))?;
    let company_id = PublicId::query_param("company_id", q.company_id.as_deref())?;
    let filter = NeedFilter {
        company_id,
        status: q.status,
        keyword_key: q.keyword.map(|k| k.trim().to_lowercase()),
        collaboration_type: q.collaboration_type,
        compute: q.compute,
        gpu_model_key: Text::optional("gpu_model", q.gpu_model.as_deref(), 100)
            .map_err(|e| AppError::query(vec![e]))?
            .map(|m| m.to_lowercase()),
    };
    db.run(move |conn| {
        let (found, next_cursor) =
            page.read(|seek| rows::list(conn, &scope, &filter, seek), |r| &r.id)?;
        let items = super::page_views(found, |r| &r.id, |ids| rows::load_parts(conn, ids), view)?;
        Ok(NeedList { items, next_cursor })
    })
    .await
}

/// Loads a need the caller can see and may manage: 404 when invisible (so confidential needs
/// do not reveal that they exist), 403 when visible but not theirs to manage.
pub(super) fn managed(conn: &mut DbConn, caller: Option<&Caller>, id: &str) -> AppResult<NeedRow> {
    policy::require_signed_in(caller)?;
    let scope = policy::need_scope(caller, false)?;
    let row = rows::find_visible(conn, &scope, id)?.ok_or_else(|| AppError::not_found("Need"))?;
    policy::authorize(
        caller,
        Action::ManageNeeds {
            company_id: &row.company_id,
        },
    )?;
    Ok(row)
}

pub async fn update(
    db: &Db,
    caller: Option<&Caller>,
    id: String,
    precondition: Precondition,
    patch: UpdateNeed,
) -> AppResult<Versioned<Need>> {
    if patch.title.as_ref().is_some_and(Option::is_none) {
        return Err(AppError::validation(vec![FieldError::new(
            "title",
            FieldCode::Required,
            "cannot be null: it is required",
        )]));
    }
    EDIT.apply(db, caller, id, precondition, |current| {
        merge(current, patch)
    })
    .await
}

/// How a need is updated (see `edit`): an open need's deadline is checked when it opens or
/// moves; closing or awarding it closes its pending engagements.
static EDIT: Edit<NeedRow, CreateNeed, ValidNeed, Need> = Edit {
    managed,
    input: |conn, row| {
        let parts = rows::load_parts(conn, std::slice::from_ref(&row.id))?
            .remove(&row.id)
            .unwrap_or_default();
        to_input(row, &parts)
    },
    transition: |before, after| super::check_transition(before.status, after.status),
    parse: ValidNeed::parse,
    check: |_, _, change| {
        let before = ValidNeed::parse(change.before)?;
        check_open_deadline(change.valid, Some(&before.fields))
    },
    write: |conn, current, valid, at| {
        let row = rows::update(conn, &current.id, current.version, &valid.fields, at)?
            .ok_or_else(AppError::stale)?;
        rows::replace_parts(conn, &current.id, &valid.parts)?;
        Ok(row)
    },
    then: |conn, caller, change, at| {
        let status = change.after.status;
        if status != change.before.status
            && matches!(status, NeedStatus::Closed | NeedStatus::Awarded)
        {
            let actor = caller.map_or("", |c| c.user_id.as_str());
            let why = format!("the need was {}", status.as_str());
            super::engagements::close_pending_of_need(conn, &change.current.id, actor, &why, at)?;
        }
        Ok(())
    },
    view: full_view,
};

pub async fn invite(
    db: &Db,
    caller: Option<&Caller>,
    need_id: String,
    input: InviteFaculty,
) -> AppResult<(bool, Invitation)> {
    let caller = caller.cloned();
    let faculty_id = PublicId::parse(&input.faculty_id).ok_or_else(|| {
        AppError::validation(vec![FieldError::new(
            "faculty_id",
            FieldCode::InvalidId,
            "must be a faculty profile id",
        )])
    })?;
    db.write(move |conn| {
        let need = managed(conn, caller.as_ref(), &need_id)?;
        let caller = policy::require_signed_in(caller.as_ref())?;
        if faculty_rows::find_any(conn, &faculty_id)?.is_none_or(|f| f.deleted_at.is_some()) {
            return Err(AppError::validation(vec![FieldError::new(
                "faculty_id",
                FieldCode::UnknownProfile,
                "is not the id of a faculty profile",
            )]));
        }
        // An invitation is a move of the engagement workflow, never a separate record.
        let created = super::engagements::invite(conn, caller, &need, &faculty_id)?;
        let inv = rows::invitations(conn, &need_id)?
            .into_iter()
            .find(|i| i.1 == faculty_id)
            .ok_or_else(|| AppError::internal("invitation vanished"))?;
        Ok((created, invitation_view(inv)))
    })
    .await
}

pub async fn uninvite(
    db: &Db,
    caller: Option<&Caller>,
    need_id: String,
    faculty_id: String,
) -> AppResult<()> {
    let caller = caller.cloned();
    db.write(move |conn| {
        let need = managed(conn, caller.as_ref(), &need_id)?;
        let caller = policy::require_signed_in(caller.as_ref())?;
        // Withdrawing closes the engagement under way, so both always agree.
        if super::engagements::withdraw_invitation(conn, caller, &need, &faculty_id)? {
            Ok(())
        } else {
            Err(AppError::not_found("Invitation"))
        }
    })
    .await
}

pub async fn invitations(
    db: &Db,
    caller: Option<&Caller>,
    need_id: String,
) -> AppResult<Vec<Invitation>> {
    let caller = caller.cloned();
    db.run(move |conn| {
        managed(conn, caller.as_ref(), &need_id)?;
        Ok(rows::invitations(conn, &need_id)?
            .into_iter()
            .map(invitation_view)
            .collect())
    })
    .await
}

fn invitation_view(
    (need_id, faculty_id, invited_by, created_at): (String, String, String, NaiveDateTime),
) -> Invitation {
    Invitation {
        need_id,
        faculty_id,
        invited_by,
        created_at: created_at.and_utc(),
    }
}

fn merge(base: CreateNeed, p: UpdateNeed) -> CreateNeed {
    super::merge_patch!(
        base,
        p: UpdateNeed,
        [
            summary,
            description,
            keywords,
            collaboration_types,
            budget,
            compute,
            duration_months,
            deadline,
            location,
            remote,
            status,
            visibility,
        ], required: [title]
    )
}

/// The compute line a stored need has, if any.
pub(crate) fn compute_of(row: &NeedRow) -> Option<NeedCompute> {
    match (row.compute_direction, row.compute_amount, row.compute_unit) {
        (Some(direction), Some(amount), Some(unit)) => Some(NeedCompute {
            direction,
            amount,
            unit,
            gpu_model: row.compute_gpu_model.clone(),
        }),
        _ => None,
    }
}

fn to_input(row: &NeedRow, parts: &NeedParts) -> AppResult<CreateNeed> {
    let budget = match (row.budget_min, row.budget_max, &row.currency) {
        (Some(min), Some(max), Some(currency)) => Some(Budget {
            min,
            max,
            currency: currency.clone(),
        }),
        _ => None,
    };
    Ok(CreateNeed {
        company_id: row.company_id.clone(),
        title: row.title.clone(),
        summary: row.summary.clone(),
        description: row.description.clone(),
        keywords: parts.keywords.clone(),
        collaboration_types: {
            let mut types = parts.collaboration_types.clone();
            types.sort();
            types
        },
        budget,
        compute: compute_of(row),
        duration_months: row.duration_months,
        deadline: row.deadline,
        location: row.location.clone(),
        remote: row.remote,
        status: row.status,
        visibility: row.visibility,
    })
}

/// A need's changes concern its company.
impl Audited for Need {
    const ENTITY: AuditEntity = AuditEntity::Need;
    fn audit_id(&self) -> &str {
        &self.id
    }
    fn concerns(&self) -> Vec<&str> {
        vec![self.company_id.as_str()]
    }
}

pub(super) fn full_view(conn: &mut DbConn, row: NeedRow) -> AppResult<Versioned<Need>> {
    let parts = rows::load_parts(conn, std::slice::from_ref(&row.id))?
        .remove(&row.id)
        .unwrap_or_default();
    view(row, parts)
}

fn view(row: NeedRow, parts: NeedParts) -> AppResult<Versioned<Need>> {
    let input = to_input(&row, &parts)?;
    Ok(Versioned {
        version: row.version,
        value: Need {
            id: row.id,
            company_id: input.company_id,
            title: input.title,
            summary: input.summary,
            description: input.description,
            keywords: input.keywords,
            collaboration_types: input.collaboration_types,
            budget: input.budget,
            compute: input.compute,
            duration_months: input.duration_months,
            deadline: input.deadline,
            location: input.location,
            remote: input.remote,
            status: input.status,
            visibility: input.visibility,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
            deleted_at: row.deleted_at.map(|d| d.and_utc()),
        },
    })
}

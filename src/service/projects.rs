//! Use cases for funded projects and their payments.
//!
//! Rules: the performing university is a university; the sponsor is any organization; the PI
//! is a profile of the performing university, co-investigators profiles of any university;
//! a centre must be hosted by the performing university; a need must be one the caller may
//! see; an engagement must be one with a professor of the performing university (and of the
//! need, when both are given); the end date follows the start date; the amount is integer minor units of an ISO 4217 currency,
//! and every payment uses the project's currency. Status: proposed → negotiating → active →
//! completed | terminated, and proposed or negotiating → terminated.

use super::audit::{self, Audited};
use crate::all_valid;
use crate::db::projects::{
    self as rows, PaymentFields, PaymentRow, ProjectFields, ProjectFilter, ProjectRow,
};
use crate::db::{Db, DbConn, centers as center_rows, needs as need_rows};
use crate::domain::{Currency, PublicId, Text};
use crate::dto::audit::{AuditAction, AuditEntity};
use crate::dto::organizations::OrganizationKind;
use crate::dto::projects::{
    CreateFundedProject, CreatePayment, FundedProject, FundedProjectList, ListFundedProjects,
    Payment, PaymentList, PaymentStatus, ProjectStatus, UpdateFundedProject, UpdatePayment,
};
use crate::error::{AppError, AppResult, FieldCode, FieldError};

use super::centers::{amount, body_id, id_list, live_profile, optional_id, org_of_kind};
use super::edit::{Edit, nothing_follows};
use super::policy::{self, Action, Caller};
use super::{PageRequest, Precondition, Versioned, now};

#[derive(Debug, Clone, PartialEq)]
struct ValidProject {
    fields: ProjectFields,
    co_investigators: Vec<String>,
}

impl ValidProject {
    fn parse(input: &CreateFundedProject) -> AppResult<Self> {
        let dates = match (input.start_date, input.end_date) {
            (Some(s), Some(e)) if e <= s => Err(FieldError::new(
                "end_date",
                FieldCode::BeforeStart,
                "must be after start_date",
            )),
            _ => Ok(()),
        };
        let (
            title,
            description,
            sponsor,
            university,
            pi,
            co,
            center,
            need,
            engagement,
            amount,
            currency,
            (),
        ) = all_valid!(
            title = Text::required("title", &input.title, 300),
            description = Text::multiline("description", input.description.as_deref(), 20_000),
            sponsor = body_id("sponsor_id", &input.sponsor_id),
            university = body_id("university_id", &input.university_id),
            pi = optional_id(
                "principal_investigator_id",
                input.principal_investigator_id.as_deref()
            ),
            co = id_list("co_investigator_ids", &input.co_investigator_ids, 100),
            center = optional_id("center_id", input.center_id.as_deref()),
            need = optional_id("need_id", input.need_id.as_deref()),
            engagement = optional_id("engagement_id", input.engagement_id.as_deref()),
            amount = amount("amount_minor", input.amount_minor, true),
            currency = Currency::parse("currency", &input.currency),
            dates = dates,
        )?;
        Ok(Self {
            fields: ProjectFields {
                title,
                description,
                kind: input.kind,
                sponsor_id: sponsor,
                university_id: university,
                pi_id: pi,
                center_id: center,
                need_id: need,
                engagement_id: engagement,
                amount_minor: amount,
                currency: currency.into_string(),
                start_date: input.start_date,
                end_date: input.end_date,
                status: input.status,
                visibility: input.visibility,
            },
            co_investigators: co,
        })
    }
}

/// Checks what the project points at. The need must be one the caller may see, so that a
/// project cannot reveal that a confidential need exists.
fn check_references(conn: &mut DbConn, caller: Option<&Caller>, v: &ValidProject) -> AppResult<()> {
    let mut errors = Vec::new();
    let f = &v.fields;
    org_of_kind(conn, "sponsor_id", &f.sponsor_id, None, &mut errors)?;
    org_of_kind(
        conn,
        "university_id",
        &f.university_id,
        Some(OrganizationKind::University),
        &mut errors,
    )?;
    if let Some(pi) = &f.pi_id {
        live_profile(
            conn,
            "principal_investigator_id",
            pi,
            Some(&f.university_id),
            &mut errors,
        )?;
    }
    for (i, c) in v.co_investigators.iter().enumerate() {
        live_profile(
            conn,
            &format!("co_investigator_ids[{i}]"),
            c,
            None,
            &mut errors,
        )?;
    }
    if let Some(c) = &f.center_id {
        match center_rows::find_live(conn, c)? {
            None => errors.push(FieldError::new(
                "center_id",
                FieldCode::UnknownCenter,
                "is not the id of a centre",
            )),
            Some(center) if center.host_university_id != f.university_id => {
                errors.push(FieldError::new(
                    "center_id",
                    FieldCode::WrongUniversity,
                    "must be a centre hosted by the performing university",
                ))
            }
            Some(_) => {}
        }
    }
    if let Some(n) = &f.need_id {
        let scope = policy::need_scope(caller, false)?;
        if need_rows::find_visible(conn, &scope, n)?.is_none() {
            errors.push(FieldError::new(
                "need_id",
                FieldCode::UnknownNeed,
                "is not the id of a need you can see",
            ));
        }
    }
    if let Some(e) = &f.engagement_id {
        // The liaison office may not read engagements themselves: say only whether this one
        // fits, not what it is.
        let fits = match crate::db::engagements::find(conn, e)? {
            None => false,
            Some(eng) => {
                let same_need = f.need_id.as_ref().is_none_or(|n| *n == eng.need_id);
                let here = crate::db::faculty::find_any(conn, &eng.faculty_id)?
                    .is_some_and(|p| p.university_id == f.university_id);
                same_need && here
            }
        };
        if !fits {
            errors.push(FieldError::new(
                "engagement_id",
                FieldCode::UnknownEngagement,
                "is not an engagement of a professor of the performing university (for need_id, when given)",
            ));
        }
    }
    AppError::unless_any(errors)
}

pub async fn create(
    db: &Db,
    caller: Option<&Caller>,
    input: CreateFundedProject,
) -> AppResult<Versioned<FundedProject>> {
    let caller = caller.cloned();
    db.write(move |conn| {
        policy::authorize(
            caller.as_ref(),
            Action::ManageFundedProjects {
                university_id: &PublicId::parse(&input.university_id).unwrap_or_default(),
            },
        )?;
        if matches!(
            input.status,
            ProjectStatus::Completed | ProjectStatus::Terminated
        ) {
            return Err(AppError::validation(vec![FieldError::new(
                "status",
                FieldCode::InvalidValue,
                "a new project is proposed, negotiating or active",
            )]));
        }
        let valid = ValidProject::parse(&input)?;
        check_references(conn, caller.as_ref(), &valid)?;
        let id = PublicId::generate();
        let row = rows::insert(conn, &id, &valid.fields, now())?;
        rows::replace_investigators(conn, &id, &valid.co_investigators)?;
        let after = full_view(conn, row)?;
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

/// A project's changes concern the performing university and the sponsor.
impl Audited for FundedProject {
    const ENTITY: AuditEntity = AuditEntity::FundedProject;
    fn audit_id(&self) -> &str {
        &self.id
    }
    fn concerns(&self) -> Vec<&str> {
        vec![self.university_id.as_str(), self.sponsor_id.as_str()]
    }
}

/// Records a change of a payment of `project`.
fn audit_payment(
    conn: &mut DbConn,
    caller: Option<&Caller>,
    project: &ProjectRow,
    action: AuditAction,
    before: Option<&Payment>,
    after: Option<&Payment>,
) -> AppResult<()> {
    let Some(p) = after.or(before) else {
        return Ok(());
    };
    audit::record(
        conn,
        caller.map(|c| c.user_id.as_str()),
        action,
        AuditEntity::Payment,
        &p.id,
        &[project.university_id.as_str(), project.sponsor_id.as_str()],
        before,
        after,
    )
}

pub async fn get(
    db: &Db,
    caller: Option<&Caller>,
    id: String,
    include_deleted: bool,
) -> AppResult<Versioned<FundedProject>> {
    let scope = policy::participant_scope(caller, include_deleted)?;
    db.run(move |conn| {
        let row = rows::find_visible(conn, &scope, &id)?
            .ok_or_else(|| AppError::not_found("Funded project"))?;
        full_view(conn, row)
    })
    .await
}

pub async fn list(
    db: &Db,
    caller: Option<&Caller>,
    q: ListFundedProjects,
) -> AppResult<FundedProjectList> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let scope = policy::participant_scope(caller, q.include_deleted.unwrap_or(false))?;
    let filter = ProjectFilter {
        university_id: PublicId::query_param("university_id", q.university_id.as_deref())?,
        sponsor_id: PublicId::query_param("sponsor_id", q.sponsor_id.as_deref())?,
        center_id: PublicId::query_param("center_id", q.center_id.as_deref())?,
        need_id: PublicId::query_param("need_id", q.need_id.as_deref())?,
        faculty_id: PublicId::query_param("faculty_id", q.faculty_id.as_deref())?,
        status: q.status,
        kind: q.kind,
    };
    db.run(move |conn| {
        let (found, next_cursor) =
            page.read(|seek| rows::list(conn, &scope, &filter, seek), |r| &r.id)?;
        let items = super::page_views(
            found,
            |r| &r.id,
            |ids| rows::load_investigators(conn, ids),
            view,
        )?;
        Ok(FundedProjectList { items, next_cursor })
    })
    .await
}

/// Loads a project the caller can see and may manage: 404 when invisible, 403 when visible
/// but not theirs to manage (sponsors and investigators read only).
pub(super) fn managed(
    conn: &mut DbConn,
    caller: Option<&Caller>,
    id: &str,
) -> AppResult<ProjectRow> {
    policy::require_signed_in(caller)?;
    let scope = policy::participant_scope(caller, false)?;
    let row = rows::find_visible(conn, &scope, id)?
        .ok_or_else(|| AppError::not_found("Funded project"))?;
    policy::authorize(
        caller,
        Action::ManageFundedProjects {
            university_id: &row.university_id,
        },
    )?;
    Ok(row)
}

pub async fn update(
    db: &Db,
    caller: Option<&Caller>,
    id: String,
    precondition: Precondition,
    patch: UpdateFundedProject,
) -> AppResult<Versioned<FundedProject>> {
    EDIT.apply(db, caller, id, precondition, |current| {
        merge(current, patch)
    })
    .await
}

/// How a funded project is updated (see `edit`): its references are checked, and its
/// currency changes only while no payment is in the old one; nothing follows.
static EDIT: Edit<ProjectRow, CreateFundedProject, ValidProject, FundedProject> = Edit {
    managed,
    input: |conn, row| {
        let co = rows::load_investigators(conn, std::slice::from_ref(&row.id))?
            .remove(&row.id)
            .unwrap_or_default();
        to_input(row, &co)
    },
    transition: |before, after| super::check_transition(before.status, after.status),
    parse: ValidProject::parse,
    check: |conn, caller, change| {
        check_references(conn, caller, change.valid)?;
        let (current, currency) = (change.current, &change.valid.fields.currency);
        if *currency != current.currency && rows::has_payment_not_in(conn, &current.id, currency)? {
            return Err(AppError::validation(vec![FieldError::new(
                "currency",
                FieldCode::PaymentsInOtherCurrency,
                "the project has payments in its current currency; change or delete them first",
            )]));
        }
        Ok(())
    },
    write: |conn, current, valid, at| {
        let row = rows::update(conn, &current.id, current.version, &valid.fields, at)?
            .ok_or_else(AppError::stale)?;
        rows::replace_investigators(conn, &current.id, &valid.co_investigators)?;
        Ok(row)
    },
    then: nothing_follows,
    view: full_view,
};

fn merge(base: CreateFundedProject, p: UpdateFundedProject) -> CreateFundedProject {
    super::merge_patch!(
        base,
        p: UpdateFundedProject,
        [
            title,
            description,
            kind,
            sponsor_id,
            principal_investigator_id,
            co_investigator_ids,
            center_id,
            need_id,
            engagement_id,
            amount_minor,
            currency,
            start_date,
            end_date,
            status,
            visibility,
        ]
    )
}

fn to_input(row: &ProjectRow, co: &[String]) -> AppResult<CreateFundedProject> {
    Ok(CreateFundedProject {
        title: row.title.clone(),
        description: row.description.clone(),
        kind: row.kind,
        sponsor_id: row.sponsor_id.clone(),
        university_id: row.university_id.clone(),
        principal_investigator_id: row.pi_id.clone(),
        co_investigator_ids: co.to_vec(),
        center_id: row.center_id.clone(),
        need_id: row.need_id.clone(),
        engagement_id: row.engagement_id.clone(),
        amount_minor: row.amount_minor,
        currency: row.currency.clone(),
        start_date: row.start_date,
        end_date: row.end_date,
        status: row.status,
        visibility: row.visibility,
    })
}

pub(super) fn full_view(conn: &mut DbConn, row: ProjectRow) -> AppResult<Versioned<FundedProject>> {
    let co = rows::load_investigators(conn, std::slice::from_ref(&row.id))?
        .remove(&row.id)
        .unwrap_or_default();
    view(row, co)
}

fn view(row: ProjectRow, co: Vec<String>) -> AppResult<Versioned<FundedProject>> {
    let input = to_input(&row, &co)?;
    Ok(Versioned {
        version: row.version,
        value: FundedProject {
            id: row.id,
            title: input.title,
            description: input.description,
            kind: input.kind,
            sponsor_id: input.sponsor_id,
            university_id: input.university_id,
            principal_investigator_id: input.principal_investigator_id,
            co_investigator_ids: input.co_investigator_ids,
            center_id: input.center_id,
            need_id: input.need_id,
            engagement_id: input.engagement_id,
            amount_minor: input.amount_minor,
            currency: input.currency,
            start_date: input.start_date,
            end_date: input.end_date,
            status: input.status,
            visibility: input.visibility,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
            deleted_at: row.deleted_at.map(|d| d.and_utc()),
        },
    })
}

// ---- Payments -------------------------------------------------------------------------

/// Checks a payment against its project: positive amount, the project's currency, a due
/// date while scheduled and a received date once received.
fn valid_payment(input: &CreatePayment, project_currency: &str) -> AppResult<PaymentFields> {
    let currency = Currency::parse("currency", &input.currency).and_then(|c| {
        if c.as_str() == project_currency {
            Ok(c)
        } else {
            Err(FieldError::new(
                "currency",
                FieldCode::CurrencyMismatch,
                format!("must be the project's currency, {project_currency}"),
            ))
        }
    });
    let dates = match input.status {
        PaymentStatus::Scheduled if input.due_date.is_none() => Err(FieldError::new(
            "due_date",
            FieldCode::Required,
            "a scheduled payment needs a due date",
        )),
        PaymentStatus::Received if input.received_date.is_none() => Err(FieldError::new(
            "received_date",
            FieldCode::Required,
            "a received payment needs the date it was received",
        )),
        _ => Ok(()),
    };
    let (amount, currency, note, ()) = all_valid!(
        amount = amount("amount_minor", input.amount_minor, false),
        currency = currency,
        note = Text::multiline("note", input.note.as_deref(), 2000),
        dates = dates,
    )?;
    Ok(PaymentFields {
        due_date: input.due_date,
        received_date: input.received_date,
        amount_minor: amount,
        currency: currency.into_string(),
        status: input.status,
        note,
    })
}

fn payment_view(row: PaymentRow) -> AppResult<Versioned<Payment>> {
    Ok(Versioned {
        version: row.version,
        value: Payment {
            status: row.status,
            id: row.id,
            project_id: row.project_id,
            due_date: row.due_date,
            received_date: row.received_date,
            amount_minor: row.amount_minor,
            currency: row.currency,
            note: row.note,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        },
    })
}

fn payment_input(row: &PaymentRow) -> AppResult<CreatePayment> {
    Ok(CreatePayment {
        due_date: row.due_date,
        received_date: row.received_date,
        amount_minor: row.amount_minor,
        currency: row.currency.clone(),
        status: row.status,
        note: row.note.clone(),
    })
}

pub async fn add_payment(
    db: &Db,
    caller: Option<&Caller>,
    project_id: String,
    input: CreatePayment,
) -> AppResult<Versioned<Payment>> {
    let caller = caller.cloned();
    db.write(move |conn| {
        let project = managed(conn, caller.as_ref(), &project_id)?;
        let fields = valid_payment(&input, &project.currency)?;
        let row = rows::insert_payment(conn, &PublicId::generate(), &project_id, &fields, now())?;
        let after = payment_view(row)?;
        audit_payment(
            conn,
            caller.as_ref(),
            &project,
            AuditAction::Create,
            None,
            Some(&after.value),
        )?;
        Ok(after)
    })
    .await
}

/// A project's payments: for its participants only (a public project shows its amount, not
/// its payment schedule).
pub async fn payments(
    db: &Db,
    caller: Option<&Caller>,
    project_id: String,
) -> AppResult<PaymentList> {
    let caller = caller.cloned();
    db.run(move |conn| {
        let project = participating_project(conn, caller.as_ref(), &project_id)?;
        let mut items = Vec::new();
        let (mut scheduled, mut received) = (0i64, 0i64);
        for row in rows::payments(conn, &project_id)? {
            match row.status {
                PaymentStatus::Scheduled => scheduled = scheduled.saturating_add(row.amount_minor),
                PaymentStatus::Received => received = received.saturating_add(row.amount_minor),
                PaymentStatus::Cancelled => {}
            }
            items.push(payment_view(row)?.value);
        }
        Ok(PaymentList {
            items,
            currency: project.currency,
            scheduled_minor: scheduled,
            received_minor: received,
        })
    })
    .await
}

/// One payment with its version (the ETag that updating or deleting it checks); seen by
/// whoever sees the project's payments.
pub async fn payment(
    db: &Db,
    caller: Option<&Caller>,
    project_id: String,
    payment_id: String,
) -> AppResult<Versioned<Payment>> {
    let caller = caller.cloned();
    db.run(move |conn| {
        participating_project(conn, caller.as_ref(), &project_id)?;
        let row = rows::find_payment(conn, &project_id, &payment_id)?
            .ok_or_else(|| AppError::not_found("Payment"))?;
        payment_view(row)
    })
    .await
}

/// The project, if the caller takes part in it: a project the caller cannot see at all is
/// 404; one it sees but does not take part in (a public project) is 403 (401 anonymously).
fn participating_project(
    conn: &mut DbConn,
    caller: Option<&Caller>,
    project_id: &str,
) -> AppResult<ProjectRow> {
    let visible = policy::participant_scope(caller, false)?;
    let participating = policy::participation(caller);
    let project = rows::find_visible(conn, &visible, project_id)?
        .ok_or_else(|| AppError::not_found("Funded project"))?;
    if rows::find_visible(conn, &participating, project_id)?.is_none() {
        if caller.is_none() {
            return Err(AppError::unauthenticated("no credentials"));
        }
        return Err(AppError::forbidden(
            "Only the project's participants see its payments",
        ));
    }
    Ok(project)
}

pub async fn update_payment(
    db: &Db,
    caller: Option<&Caller>,
    project_id: String,
    payment_id: String,
    precondition: Precondition,
    patch: UpdatePayment,
) -> AppResult<Versioned<Payment>> {
    let caller = caller.cloned();
    db.write(move |conn| {
        let project = managed(conn, caller.as_ref(), &project_id)?;
        let current = rows::find_payment(conn, &project_id, &payment_id)?
            .ok_or_else(|| AppError::not_found("Payment"))?;
        precondition.check(current.version, true)?;
        let mut merged = payment_input(&current)?;
        if let Some(v) = patch.due_date {
            merged.due_date = v;
        }
        if let Some(v) = patch.received_date {
            merged.received_date = v;
        }
        if let Some(v) = patch.amount_minor {
            merged.amount_minor = v;
        }
        if let Some(v) = patch.currency {
            merged.currency = v;
        }
        if let Some(v) = patch.status {
            merged.status = v;
        }
        if let Some(v) = patch.note {
            merged.note = v;
        }
        let fields = valid_payment(&merged, &project.currency)?;
        let before = payment_view(current.clone())?;
        let row = rows::update_payment(conn, &payment_id, current.version, &fields, now())?
            .ok_or_else(AppError::stale)?;
        let after = payment_view(row)?;
        audit_payment(
            conn,
            caller.as_ref(),
            &project,
            AuditAction::Update,
            Some(&before.value),
            Some(&after.value),
        )?;
        Ok(after)
    })
    .await
}

pub async fn delete_payment(
    db: &Db,
    caller: Option<&Caller>,
    project_id: String,
    payment_id: String,
    precondition: Precondition,
) -> AppResult<()> {
    let caller = caller.cloned();
    db.write(move |conn| {
        let project = managed(conn, caller.as_ref(), &project_id)?;
        let current = rows::find_payment(conn, &project_id, &payment_id)?
            .ok_or_else(|| AppError::not_found("Payment"))?;
        precondition.check(current.version, false)?;
        let before = payment_view(current.clone())?;
        if rows::delete_payment(conn, &payment_id, current.version)? {
            audit_payment(
                conn,
                caller.as_ref(),
                &project,
                AuditAction::Delete,
                Some(&before.value),
                None,
            )
        } else {
            Err(AppError::stale())
        }
    })
    .await
}

//! Use cases for joint lab centres: create, read, list, update (with the status workflow),
//! delete/restore. Centres are searchable, so every write also records a search outbox row
//! (done by `db::centers`).
//!
//! Rules: the host is a university; partners are companies (at least one, each once); the
//! director is a profile of the host university, members are profiles of any university;
//! dates run established < renewal < end; funding commitments come from partners, in
//! positive integer minor units of an ISO 4217 currency; status moves planned → active |
//! closed, active → renewing | closed, renewing → active | closed, and closed is final.

use super::audit::{self, Audited};
use crate::all_valid;
use crate::db::centers::{
    self as rows, CenterFields, CenterFilter, CenterParts, CenterRow, FundingRow,
};
use crate::db::{Db, DbConn, faculty as faculty_rows, organizations as org_rows};
use crate::domain::{Currency, PublicId, Text};
use crate::dto::audit::{AuditAction, AuditEntity};
use crate::dto::centers::{
    Center, CenterList, CenterPartner, CenterStatus, CreateCenter, FundingCommitment, ListCenters,
    PartnerRole, SharedResource, UpdateCenter,
};
use crate::dto::organizations::OrganizationKind;
use crate::error::{AppError, AppResult, FieldCode, FieldError};

use super::edit::{Edit, nothing_follows};
use super::policy::{self, Action, Caller};
use super::{PageRequest, Precondition, Versioned, now};

/// The largest amount accepted anywhere (minor units): far above any real commitment, and low
/// enough that sums of thousands of them cannot overflow an i64.
pub const MAX_AMOUNT_MINOR: i64 = 1_000_000_000_000_000;

#[derive(Debug, Clone, PartialEq)]
struct ValidCenter {
    fields: CenterFields,
    parts: CenterParts,
}

/// An id in a body: `field` names it in the 422.
pub(crate) fn body_id(field: &str, value: &str) -> Result<String, FieldError> {
    PublicId::parse(value)
        .ok_or_else(|| FieldError::new(field, FieldCode::InvalidId, "must be an id"))
}

pub(crate) fn optional_id(field: &str, value: Option<&str>) -> Result<Option<String>, FieldError> {
    value.map(|v| body_id(field, v)).transpose()
}

/// A list of ids: each valid, duplicates dropped, sorted (how the database returns them).
pub(crate) fn id_list(
    field: &str,
    values: &[String],
    max: usize,
) -> Result<Vec<String>, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut out: Vec<String> = values
        .iter()
        .enumerate()
        .filter_map(|(i, v)| {
            body_id(&format!("{field}[{i}]"), v)
                .map_err(|e| errors.push(e))
                .ok()
        })
        .collect();
    out.sort();
    out.dedup();
    if out.len() > max {
        errors.push(FieldError::new(
            field,
            FieldCode::TooMany,
            format!("must have at most {max} entries"),
        ));
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// A positive amount of minor units, bounded.
pub(crate) fn amount(field: &str, value: i64, allow_zero: bool) -> Result<i64, FieldError> {
    let min = if allow_zero { 0 } else { 1 };
    if (min..=MAX_AMOUNT_MINOR).contains(&value) {
        Ok(value)
    } else {
        Err(FieldError::new(
            field,
            FieldCode::OutOfRange,
            format!(
                "must be {} and at most {MAX_AMOUNT_MINOR} (integer minor units)",
                if allow_zero { "0 or more" } else { "positive" }
            ),
        ))
    }
}

fn partners(input: &[CenterPartner]) -> Result<Vec<(String, PartnerRole)>, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut out: Vec<(String, PartnerRole)> = Vec::new();
    for (i, p) in input.iter().enumerate() {
        let field = format!("partners[{i}].company_id");
        match body_id(&field, &p.company_id) {
            Ok(id) if out.iter().any(|(o, _)| *o == id) => errors.push(FieldError::new(
                field,
                FieldCode::Duplicate,
                "lists a company that is already a partner",
            )),
            Ok(id) => out.push((id, p.role)),
            Err(e) => errors.push(e),
        }
    }
    if input.is_empty() {
        errors.push(FieldError::new(
            "partners",
            FieldCode::Required,
            "must list at least one partner company",
        ));
    }
    if input.len() > 50 {
        errors.push(FieldError::new(
            "partners",
            FieldCode::TooMany,
            "must have at most 50 entries",
        ));
    }
    out.sort();
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

fn resources(input: &[SharedResource]) -> Result<String, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut out = Vec::new();
    let count = |errors: &mut Vec<FieldError>, field: String, v: i64, max: i64| {
        if !(1..=max).contains(&v) {
            errors.push(FieldError::new(
                field,
                FieldCode::OutOfRange,
                format!("must be between 1 and {max}"),
            ));
        }
    };
    for (i, r) in input.iter().enumerate() {
        let at = |f: &str| format!("shared_resources[{i}].{f}");
        out.push(match r {
            SharedResource::Gpu { model, count: n } => {
                count(&mut errors, at("count"), *n, 1_000_000);
                match Text::required(&at("model"), model, 100) {
                    Ok(model) => SharedResource::Gpu { model, count: *n },
                    Err(e) => {
                        errors.push(e);
                        continue;
                    }
                }
            }
            SharedResource::HpcAllocation { gpu_hours } => {
                count(&mut errors, at("gpu_hours"), *gpu_hours, 1_000_000_000_000);
                r.clone()
            }
            SharedResource::LabSpace { square_meters } => {
                count(&mut errors, at("square_meters"), *square_meters, 10_000_000);
                r.clone()
            }
            SharedResource::Other { description } => {
                match Text::required(&at("description"), description, 500) {
                    Ok(description) => SharedResource::Other { description },
                    Err(e) => {
                        errors.push(e);
                        continue;
                    }
                }
            }
        });
    }
    if input.len() > 50 {
        errors.push(FieldError::new(
            "shared_resources",
            FieldCode::TooMany,
            "must have at most 50 entries",
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    serde_json::to_string(&out).map_err(|e| {
        vec![FieldError::new(
            "shared_resources",
            FieldCode::InvalidValue,
            e.to_string(),
        )]
    })
}

fn funding(
    input: &[FundingCommitment],
    partners: &[CenterPartner],
) -> Result<Vec<FundingRow>, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut out: Vec<FundingRow> = Vec::new();
    let partner_ids: Vec<Option<String>> = partners
        .iter()
        .map(|p| PublicId::parse(&p.company_id))
        .collect();
    for (i, f) in input.iter().enumerate() {
        let at = |n: &str| format!("funding[{i}].{n}");
        if !(1900..=2200).contains(&f.year) {
            errors.push(FieldError::new(
                at("year"),
                FieldCode::OutOfRange,
                "must be a year between 1900 and 2200",
            ));
        }
        let amount = amount(&at("amount_minor"), f.amount_minor, false).map_err(|e| errors.push(e));
        let currency = Currency::parse(&at("currency"), &f.currency).map_err(|e| errors.push(e));
        let sponsor = match body_id(&at("sponsor_id"), &f.sponsor_id) {
            Ok(id) if !partner_ids.contains(&Some(id.clone())) => {
                errors.push(FieldError::new(
                    at("sponsor_id"),
                    FieldCode::NotAPartner,
                    "must be one of the centre's partner companies",
                ));
                None
            }
            Ok(id) => Some(id),
            Err(e) => {
                errors.push(e);
                None
            }
        };
        if let (Ok(amount_minor), Ok(currency), Some(sponsor_id)) = (amount, currency, sponsor) {
            if out
                .iter()
                .any(|o| o.year == f.year && o.sponsor_id == sponsor_id)
            {
                errors.push(FieldError::new(
                    at("year"),
                    FieldCode::Duplicate,
                    "this sponsor already has a commitment for this year",
                ));
            }
            out.push(FundingRow {
                year: f.year,
                sponsor_id,
                amount_minor,
                currency: currency.into_string(),
            });
        }
    }
    if input.len() > 200 {
        errors.push(FieldError::new(
            "funding",
            FieldCode::TooMany,
            "must have at most 200 entries",
        ));
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

fn dates(input: &CreateCenter) -> Result<(), Vec<FieldError>> {
    let mut errors = Vec::new();
    let (est, renew, end) = (input.established_date, input.renewal_date, input.end_date);
    if let (Some(e), Some(x)) = (est, end)
        && x <= e
    {
        errors.push(FieldError::new(
            "end_date",
            FieldCode::BeforeStart,
            "must be after established_date",
        ));
    }
    if let Some(r) = renew
        && (est.is_some_and(|e| r <= e) || end.is_some_and(|x| r >= x))
    {
        errors.push(FieldError::new(
            "renewal_date",
            FieldCode::OutOfRange,
            "must be after established_date and before end_date",
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

impl ValidCenter {
    fn parse(input: &CreateCenter) -> AppResult<Self> {
        let (
            host,
            name,
            local_name,
            description,
            partners,
            director,
            members,
            focus,
            resources,
            funding,
            (),
        ) = all_valid!(
            host = body_id("host_university_id", &input.host_university_id),
            name = Text::required("name", &input.name, 300),
            local_name = Text::optional("local_name", input.local_name.as_deref(), 300),
            description = Text::multiline("description", input.description.as_deref(), 20_000),
            partners = partners(&input.partners),
            director = optional_id("director_id", input.director_id.as_deref()),
            members = id_list("member_ids", &input.member_ids, 500),
            focus = Text::labels("focus_areas", &input.focus_areas, 30, 100),
            resources = resources(&input.shared_resources),
            funding = funding(&input.funding, &input.partners),
            dates = dates(input),
        )?;
        Ok(Self {
            fields: CenterFields {
                host_university_id: host,
                name,
                local_name,
                description,
                director_id: director,
                established_date: input.established_date,
                renewal_date: input.renewal_date,
                end_date: input.end_date,
                status: input.status,
                visibility: input.visibility,
                shared_resources: resources,
            },
            parts: CenterParts {
                partners,
                member_ids: members,
                focus_areas: focus,
                funding,
            },
        })
    }
}

/// An organization of the given kind that exists (and is not deleted).
pub(crate) fn org_of_kind(
    conn: &mut DbConn,
    field: &str,
    id: &str,
    kind: Option<OrganizationKind>,
    errors: &mut Vec<FieldError>,
) -> AppResult<()> {
    let found = org_rows::find(conn, id)?;
    let ok = match (&found, kind) {
        (None, _) => false,
        (Some(_), None) => true,
        (Some(o), Some(k)) => o.kind == k,
    };
    if !ok {
        errors.push(match kind {
            Some(k) => FieldError::new(
                field,
                match k {
                    OrganizationKind::University => FieldCode::NotAUniversity,
                    OrganizationKind::Company => FieldCode::NotACompany,
                    OrganizationKind::Government => FieldCode::NotAGovernment,
                    OrganizationKind::Foundation => FieldCode::NotAFoundation,
                },
                format!("must be the id of an organization of kind {}", k.as_str()),
            ),
            None => FieldError::new(
                field,
                FieldCode::UnknownOrganization,
                "is not the id of an organization",
            ),
        });
    }
    Ok(())
}

/// A live faculty profile, of `university` when given.
pub(crate) fn live_profile(
    conn: &mut DbConn,
    field: &str,
    id: &str,
    university: Option<&str>,
    errors: &mut Vec<FieldError>,
) -> AppResult<()> {
    match faculty_rows::find_any(conn, id)? {
        Some(p) if p.deleted_at.is_none() => {
            if let Some(u) = university
                && p.university_id != u
            {
                errors.push(FieldError::new(
                    field,
                    FieldCode::WrongUniversity,
                    "must be a profile of the university in charge",
                ));
            }
        }
        _ => errors.push(FieldError::new(
            field,
            FieldCode::UnknownProfile,
            "is not the id of a faculty profile",
        )),
    }
    Ok(())
}

/// Checks what the centre points at: a university host, company partners, live profiles.
fn check_references(conn: &mut DbConn, v: &ValidCenter) -> AppResult<()> {
    let mut errors = Vec::new();
    let host = v.fields.host_university_id.as_str();
    org_of_kind(
        conn,
        "host_university_id",
        host,
        Some(OrganizationKind::University),
        &mut errors,
    )?;
    for (i, (company, _)) in v.parts.partners.iter().enumerate() {
        org_of_kind(
            conn,
            &format!("partners[{i}].company_id"),
            company,
            Some(OrganizationKind::Company),
            &mut errors,
        )?;
    }
    if let Some(d) = &v.fields.director_id {
        live_profile(conn, "director_id", d, Some(host), &mut errors)?;
    }
    for (i, m) in v.parts.member_ids.iter().enumerate() {
        live_profile(conn, &format!("member_ids[{i}]"), m, None, &mut errors)?;
    }
    AppError::unless_any(errors)
}

pub async fn create(
    db: &Db,
    caller: Option<&Caller>,
    input: CreateCenter,
) -> AppResult<Versioned<Center>> {
    let caller = caller.cloned();
    db.write(move |conn| {
        policy::authorize(
            caller.as_ref(),
            Action::ManageCenters {
                university_id: &PublicId::parse(&input.host_university_id).unwrap_or_default(),
            },
        )?;
        if !matches!(input.status, CenterStatus::Planned | CenterStatus::Active) {
            return Err(AppError::validation(vec![FieldError::new(
                "status",
                FieldCode::InvalidValue,
                "a new centre is planned or active",
            )]));
        }
        let valid = ValidCenter::parse(&input)?;
        check_references(conn, &valid)?;
        let id = PublicId::generate();
        let row = rows::insert(conn, &id, &valid.fields, now())?;
        rows::replace_parts(conn, &id, &valid.parts)?;
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

/// A centre's changes concern its host university and its partners.
impl Audited for Center {
    const ENTITY: AuditEntity = AuditEntity::Center;
    fn audit_id(&self) -> &str {
        &self.id
    }
    fn concerns(&self) -> Vec<&str> {
        std::iter::once(self.host_university_id.as_str())
            .chain(self.partners.iter().map(|p| p.company_id.as_str()))
            .collect()
    }
}

pub async fn get(
    db: &Db,
    caller: Option<&Caller>,
    id: String,
    include_deleted: bool,
) -> AppResult<Versioned<Center>> {
    let scope = policy::participant_scope(caller, include_deleted)?;
    db.run(move |conn| {
        let row =
            rows::find_visible(conn, &scope, &id)?.ok_or_else(|| AppError::not_found("Centre"))?;
        full_view(conn, row)
    })
    .await
}

pub async fn list(db: &Db, caller: Option<&Caller>, q: ListCenters) -> AppResult<CenterList> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let scope = policy::participant_scope(caller, q.include_deleted.unwrap_or(false))?;
    let filter = CenterFilter {
        host_university_id: PublicId::query_param(
            "host_university_id",
            q.host_university_id.as_deref(),
        )?,
        company_id: PublicId::query_param("company_id", q.company_id.as_deref())?,
        faculty_id: PublicId::query_param("faculty_id", q.faculty_id.as_deref())?,
        status: q.status,
        focus_key: q.focus_area.map(|k| k.trim().to_lowercase()),
        gpu_model_key: Text::optional("gpu_model", q.gpu_model.as_deref(), 100)
            .map_err(|e| AppError::query(vec![e]))?
            .map(|m| m.to_lowercase()),
    };
    db.run(move |conn| {
        let (found, next_cursor) =
            page.read(|seek| rows::list(conn, &scope, &filter, seek), |r| &r.id)?;
        let items = super::page_views(found, |r| &r.id, |ids| rows::load_parts(conn, ids), view)?;
        Ok(CenterList { items, next_cursor })
    })
    .await
}

/// Loads a centre the caller can see and may manage: 404 when invisible, 403 when visible
/// but not theirs to manage (partners and members read only).
pub(super) fn managed(
    conn: &mut DbConn,
    caller: Option<&Caller>,
    id: &str,
) -> AppResult<CenterRow> {
    policy::require_signed_in(caller)?;
    let scope = policy::participant_scope(caller, false)?;
    let row = rows::find_visible(conn, &scope, id)?.ok_or_else(|| AppError::not_found("Centre"))?;
    policy::authorize(
        caller,
        Action::ManageCenters {
            university_id: &row.host_university_id,
        },
    )?;
    Ok(row)
}

pub async fn update(
    db: &Db,
    caller: Option<&Caller>,
    id: String,
    precondition: Precondition,
    patch: UpdateCenter,
) -> AppResult<Versioned<Center>> {
    EDIT.apply(db, caller, id, precondition, |current| {
        merge(current, patch)
    })
    .await
}

/// How a centre is updated (see `edit`): its references are checked; nothing follows.
static EDIT: Edit<CenterRow, CreateCenter, ValidCenter, Center> = Edit {
    managed,
    input: |conn, row| {
        let parts = rows::load_parts(conn, std::slice::from_ref(&row.id))?
            .remove(&row.id)
            .unwrap_or_default();
        to_input(row, &parts)
    },
    transition: |before, after| super::check_transition(before.status, after.status),
    parse: ValidCenter::parse,
    check: |conn, _, change| check_references(conn, change.valid),
    write: |conn, current, valid, at| {
        let row = rows::update(conn, &current.id, current.version, &valid.fields, at)?
            .ok_or_else(AppError::stale)?;
        rows::replace_parts(conn, &current.id, &valid.parts)?;
        Ok(row)
    },
    then: nothing_follows,
    view: full_view,
};

fn merge(base: CreateCenter, p: UpdateCenter) -> CreateCenter {
    super::merge_patch!(
        base,
        p: UpdateCenter,
        [
            name,
            local_name,
            description,
            partners,
            director_id,
            member_ids,
            focus_areas,
            established_date,
            renewal_date,
            end_date,
            status,
            shared_resources,
            funding,
            visibility,
        ]
    )
}

fn to_input(row: &CenterRow, parts: &CenterParts) -> AppResult<CreateCenter> {
    let shared_resources: Vec<SharedResource> = serde_json::from_str(&row.shared_resources)
        .map_err(|e| AppError::internal(format!("stored shared resources: {e}")))?;
    Ok(CreateCenter {
        host_university_id: row.host_university_id.clone(),
        name: row.name.clone(),
        local_name: row.local_name.clone(),
        description: row.description.clone(),
        partners: parts
            .partners
            .iter()
            .map(|(company_id, role)| CenterPartner {
                company_id: company_id.clone(),
                role: *role,
            })
            .collect(),
        director_id: row.director_id.clone(),
        member_ids: parts.member_ids.clone(),
        focus_areas: parts.focus_areas.clone(),
        established_date: row.established_date,
        renewal_date: row.renewal_date,
        end_date: row.end_date,
        status: row.status,
        shared_resources,
        funding: parts
            .funding
            .iter()
            .map(|f| FundingCommitment {
                year: f.year,
                sponsor_id: f.sponsor_id.clone(),
                amount_minor: f.amount_minor,
                currency: f.currency.clone(),
            })
            .collect(),
        visibility: row.visibility,
    })
}

pub(super) fn full_view(conn: &mut DbConn, row: CenterRow) -> AppResult<Versioned<Center>> {
    let parts = rows::load_parts(conn, std::slice::from_ref(&row.id))?
        .remove(&row.id)
        .unwrap_or_default();
    view(row, parts)
}

fn view(row: CenterRow, parts: CenterParts) -> AppResult<Versioned<Center>> {
    let input = to_input(&row, &parts)?;
    Ok(Versioned {
        version: row.version,
        value: Center {
            id: row.id,
            host_university_id: input.host_university_id,
            name: input.name,
            local_name: input.local_name,
            description: input.description,
            partners: input.partners,
            director_id: input.director_id,
            member_ids: input.member_ids,
            focus_areas: input.focus_areas,
            established_date: input.established_date,
            renewal_date: input.renewal_date,
            end_date: input.end_date,
            status: input.status,
            shared_resources: input.shared_resources,
            funding: input.funding,
            visibility: input.visibility,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
            deleted_at: row.deleted_at.map(|d| d.and_utc()),
        },
    })
}

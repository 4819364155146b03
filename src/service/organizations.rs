//! Use cases for organizations.

use super::audit::{self, Audited};
use crate::all_valid;
use crate::db::organizations::{
    self as rows, NewOrganization, OrganizationChanges, OrganizationFilter, OrganizationRow,
};
use crate::db::{Db, DbConn};
use crate::domain::{CountryCode, PublicId, Text, WebUrl};
use crate::dto::audit::{AuditAction, AuditEntity};
use crate::dto::organizations::{
    CreateOrganization, ListOrganizations, Organization, OrganizationKind, OrganizationList,
    UpdateOrganization,
};
use crate::error::{AppError, AppResult, FieldCode, FieldError};

use super::policy::{self, Action, Caller};
use super::{PageRequest, Precondition, Versioned, now};

const NAME_MAX: usize = 200;
/// How often an update without a version precondition is retried when it loses a race.
const CAS_ATTEMPTS: usize = 5;

/// Validated fields of an organization, whole (create) or merged with a patch (update).
struct ValidOrganization {
    kind: OrganizationKind,
    name: String,
    local_name: Option<String>,
    country: CountryCode,
    website: Option<String>,
}

impl ValidOrganization {
    fn parse(
        kind: OrganizationKind,
        name: &str,
        local_name: Option<&str>,
        country: &str,
        website: Option<&str>,
    ) -> AppResult<Self> {
        let (name, local_name, country, website) = all_valid!(
            name = Text::required("name", name, NAME_MAX),
            local_name = Text::optional("local_name", local_name, NAME_MAX),
            country = CountryCode::parse("country", country),
            website = WebUrl::optional("website", website),
        )?;
        Ok(Self {
            kind,
            name,
            local_name,
            country,
            website,
        })
    }
}

pub async fn create(
    db: &Db,
    caller: Option<&Caller>,
    input: CreateOrganization,
) -> AppResult<Versioned<Organization>> {
    policy::authorize(caller, Action::CreateOrganization)?;
    let valid = ValidOrganization::parse(
        input.kind,
        &input.name,
        input.local_name.as_deref(),
        &input.country,
        input.website.as_deref(),
    )?;
    let caller = caller.cloned();
    db.write(move |conn| {
        let id = PublicId::generate();
        let ts = now();
        let row = rows::insert(
            conn,
            &NewOrganization {
                id: &id,
                kind: valid.kind,
                name: &valid.name,
                local_name: valid.local_name.as_deref(),
                country: valid.country.as_str(),
                website: valid.website.as_deref(),
                version: 1,
                created_at: ts,
                updated_at: ts,
            },
        )?;
        let made = view(row)?;
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

pub async fn get(db: &Db, id: String) -> AppResult<Versioned<Organization>> {
    db.run(move |conn| view(find_live(conn, &id)?)).await
}

pub async fn list(db: &Db, query: ListOrganizations) -> AppResult<OrganizationList> {
    let page = PageRequest::parse(query.limit, query.cursor.as_deref())?;
    let country = match query.country.as_deref() {
        Some(c) => Some(
            CountryCode::parse("country", c)
                .map_err(|e| AppError::query(vec![e]))?
                .into_string(),
        ),
        None => None,
    };
    let filter = OrganizationFilter {
        kind: query.kind,
        country,
    };
    db.run(move |conn| {
        let (found, next_cursor) = page.read(|seek| rows::list(conn, &filter, seek), |r| &r.id)?;
        let items = found
            .into_iter()
            .map(|r| view(r).map(|v| v.value))
            .collect::<AppResult<_>>()?;
        Ok(OrganizationList { items, next_cursor })
    })
    .await
}

pub async fn update(
    db: &Db,
    caller: Option<&Caller>,
    id: String,
    precondition: Precondition,
    patch: UpdateOrganization,
) -> AppResult<Versioned<Organization>> {
    policy::authorize(
        caller,
        Action::UpdateOrganization {
            organization_id: &id,
        },
    )?;
    let nulls: Vec<FieldError> = [
        ("kind", patch.kind.as_ref().is_some_and(Option::is_none)),
        ("name", patch.name.as_ref().is_some_and(Option::is_none)),
        (
            "country",
            patch.country.as_ref().is_some_and(Option::is_none),
        ),
    ]
    .into_iter()
    .filter(|(_, null)| *null)
    .map(|(f, _)| FieldError::new(f, FieldCode::Required, "cannot be null: it is required"))
    .collect();
    if !nulls.is_empty() {
        return Err(AppError::validation(nulls));
    }
    let caller = caller.cloned();
    db.write(move |conn| {
        // Compare-and-swap: a miss means someone changed the row after we read it. A client
        // that named a version gets 412; one that did not (`*`) is retried on the new row.
        for _ in 0..CAS_ATTEMPTS {
            let current = find_live(conn, &id)?;
            precondition.check(current.version, true)?;
            let kind = current.kind;
            let new_kind = patch.kind.flatten().unwrap_or(kind);
            if new_kind != kind {
                check_kind_change(conn, caller.as_ref(), &current, new_kind)?;
            }
            let merged = ValidOrganization::parse(
                new_kind,
                merge(&patch.name, &Some(current.name.clone())).unwrap_or_default(),
                merge(&patch.local_name, &current.local_name),
                merge(&patch.country, &Some(current.country.clone())).unwrap_or_default(),
                merge(&patch.website, &current.website),
            )?;
            // Nothing changes: answer with the current version rather than minting a new one.
            if merged.kind == current.kind
                && merged.name == current.name
                && merged.local_name == current.local_name
                && merged.country.as_str() == current.country
                && merged.website == current.website
            {
                return view(current);
            }
            let changes = OrganizationChanges {
                kind: merged.kind,
                name: &merged.name,
                local_name: merged.local_name.as_deref(),
                country: merged.country.as_str(),
                website: merged.website.as_deref(),
                updated_at: now(),
            };
            match rows::update(conn, &id, current.version, &changes)? {
                Some(row) => {
                    let before = view(current)?;
                    let after = view(row)?;
                    audit::change(
                        conn,
                        caller.as_ref(),
                        AuditAction::Update,
                        Some(&before.value),
                        Some(&after.value),
                    )?;
                    return Ok(after);
                }
                None if matches!(precondition, Precondition::Versions(_)) => {
                    return Err(AppError::stale());
                }
                None => {}
            }
        }
        Err(AppError::unavailable(
            "organization kept changing during update",
        ))
    })
    .await
}

pub async fn delete(
    db: &Db,
    caller: Option<&Caller>,
    id: String,
    precondition: Precondition,
) -> AppResult<()> {
    policy::authorize(
        caller,
        Action::DeleteOrganization {
            organization_id: &id,
        },
    )?;
    let caller = caller.cloned();
    db.write(move |conn| {
        for _ in 0..CAS_ATTEMPTS {
            let current = find_live(conn, &id)?;
            precondition.check(current.version, false)?;
            let version = current.version;
            if rows::soft_delete(conn, &id, version, now())? {
                let before = view(current)?;
                return audit::change(
                    conn,
                    caller.as_ref(),
                    AuditAction::Delete,
                    Some(&before.value),
                    None,
                );
            }
            if matches!(precondition, Precondition::Versions(_)) {
                return Err(AppError::stale());
            }
        }
        Err(AppError::unavailable(
            "organization kept changing during delete",
        ))
    })
    .await
}

/// A change of kind: only operators may make it (403), and only while nothing the
/// organization holds depends on its present kind (409): members whose role the new kind does
/// not grant (a university's faculty, for a company) would keep powers they may no longer have,
/// and its needs, or its profiles, centres and projects, would belong to the wrong kind of
/// organization. Those are moved or removed first, deliberately, rather than as a side effect.
fn check_kind_change(
    conn: &mut DbConn,
    caller: Option<&Caller>,
    current: &OrganizationRow,
    new_kind: OrganizationKind,
) -> AppResult<()> {
    policy::authorize(
        caller,
        Action::ChangeOrganizationKind {
            organization_id: &current.id,
        },
    )?;
    let mut errors = Vec::new();
    let misfits: Vec<&str> = rows::roles_held(conn, &current.id)?
        .into_iter()
        .filter(|r| !policy::role_fits(new_kind, *r))
        .map(|r| r.as_str())
        .collect();
    if !misfits.is_empty() {
        errors.push(FieldError::new(
            "kind",
            FieldCode::RolesDoNotFit,
            format!(
                "members hold roles a {} cannot grant ({}); change or remove those memberships first",
                new_kind.as_str(),
                misfits.join(", ")
            ),
        ));
    }
    let held = rows::records_of_kind(conn, &current.id, current.kind)?;
    if !held.is_empty() {
        errors.push(FieldError::new(
            "kind",
            FieldCode::KindInUse,
            format!(
                "the organization holds {} that only a {} may hold",
                held.join(", "),
                current.kind
            ),
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::new(
            crate::error::ErrorCode::Conflict,
            "The organization's kind cannot change while what it holds depends on it",
        )
        .with_errors(errors))
    }
}

/// An organization's changes concern the organization itself.
impl Audited for Organization {
    const ENTITY: AuditEntity = AuditEntity::Organization;
    fn audit_id(&self) -> &str {
        &self.id
    }
    fn concerns(&self) -> Vec<&str> {
        vec![self.id.as_str()]
    }
}

fn find_live(conn: &mut DbConn, id: &str) -> AppResult<OrganizationRow> {
    rows::find(conn, id)?.ok_or_else(|| AppError::not_found("Organization"))
}

/// A patch value for an optional field: absent keeps the current value, `null` clears it.
fn merge<'a>(patch: &'a Option<Option<String>>, current: &'a Option<String>) -> Option<&'a str> {
    match patch {
        None => current.as_deref(),
        Some(v) => v.as_deref(),
    }
}

fn view(row: OrganizationRow) -> AppResult<Versioned<Organization>> {
    let kind = row.kind;
    Ok(Versioned {
        version: row.version,
        value: Organization {
            id: row.id,
            kind,
            name: row.name,
            local_name: row.local_name,
            country: row.country,
            website: row.website,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        },
    })
}

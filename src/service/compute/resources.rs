//! Compute resources: registered and kept by their owner's admins and staff, read by anyone.

use std::collections::HashMap;

use super::quota::{availability, quotas};
use super::units;
use crate::all_valid;
use crate::db::compute::{self as rows, ResourceFields, ResourceFilter, ResourceRow};
use crate::db::{Db, DbConn, centers as center_rows};
use crate::domain::{Period, PublicId, Text};
use crate::dto::audit::{AuditAction, AuditEntity};
use crate::dto::compute::{
    Availability, ComputeResource, ComputeResourceList, ComputeUnit, CreateComputeResource,
    ListComputeResources, ResourceKind, Sector, UpdateComputeResource,
};
use crate::error::{AppError, AppResult, FieldCode, FieldError};
use crate::service::audit::{self, Audited};
use crate::service::centers::{body_id, optional_id, org_of_kind};
use crate::service::edit::{Edit, nothing_follows};
use crate::service::policy::{self, Action, Caller};
use crate::service::{PageRequest, Precondition, Versioned, now};

/// A resource as given, checked on its own: text, shares that make 100, a unit its kind
/// counts, a capacity.
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
    AppError::unless_any(errors)
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
    crate::service::merge_patch!(
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

//! The compute report: one resource's period, with capacity, and what is approved and used
//! by sector against its quota, per organization and per allocation, with each allocation's
//! burn rate and when it runs out at that rate.

use std::collections::BTreeMap;

use chrono::Duration;

use crate::db::compute::{self as rows, AllocationRow};
use crate::db::{Db, reports as report_rows};
use crate::domain::{Period, PublicId};
use crate::dto::accounts::Role;
use crate::dto::compute::{
    AllocationUse, ComputeReport, ComputeReportParams, OrganizationUse, Sector, SectorUse,
};
use crate::error::{AppError, AppResult, FieldCode, FieldError};
use crate::service::now;
use crate::service::policy::{self, Action, Caller};
use crate::service::reports::{Cell, Table};

/// Who reads which allocations: the owner's staff all of them (with the sector totals);
/// an applicant organization's admins and staff their organization's.
enum Reader {
    Owner,
    Applicant(Vec<String>),
}

pub async fn report(
    db: &Db,
    caller: Option<&Caller>,
    p: ComputeReportParams,
) -> AppResult<(ComputeReport, Table)> {
    let caller = policy::require_signed_in(caller)?.clone();
    let id = PublicId::parse(&p.resource_id).ok_or_else(|| {
        AppError::query(vec![FieldError::new(
            "resource_id",
            FieldCode::InvalidId,
            "must be an id",
        )])
    })?;
    let (resource, period, as_of, reader, allocations, used, names) = db
        .run(move |conn| {
            let resource = rows::find_resource(conn, &id, false)?
                .ok_or_else(|| AppError::not_found("Compute resource"))?;
            let reader = if policy::authorize(
                Some(&caller),
                Action::ManageCompute {
                    owner_id: &resource.owner_id,
                },
            )
            .is_ok()
            {
                Reader::Owner
            } else {
                let own: Vec<String> = caller
                    .memberships
                    .iter()
                    .filter(|m| matches!(m.role, Role::Admin | Role::Staff))
                    .map(|m| m.organization_id.clone())
                    .collect();
                if own.is_empty() {
                    return Err(AppError::forbidden(
                        "Only the resource owner's admins and staff, and the admins and staff of organizations holding allocations on it, read its report",
                    ));
                }
                Reader::Applicant(own)
            };
            let day = p.as_of.unwrap_or_else(|| now().date());
            let period = match &p.period {
                Some(name) => Period::parse("period", resource.period, name)
                    .map_err(|e| AppError::query(vec![e]))?,
                None => Period::containing(resource.period, day).ok_or_else(|| {
                    AppError::query(vec![FieldError::new("as_of", FieldCode::OutOfRange, "is outside the periods this service keeps")])
                })?,
            };
            let allocations: Vec<AllocationRow> =
                rows::granted_in(conn, std::slice::from_ref(&resource.id), &period.name)?
                    .into_iter()
                    .filter(|a| match &reader {
                        Reader::Owner => true,
                        Reader::Applicant(own) => own.contains(&a.applicant_id),
                    })
                    .collect();
            let ids: Vec<String> = allocations.iter().map(|a| a.id.clone()).collect();
            // What was used by the end of `as_of`, which stays inside the period.
            let as_of = day.clamp(period.start - Duration::days(1), period.end);
            let until = as_of
                .succ_opt()
                .and_then(|d| d.and_hms_opt(0, 0, 0));
            let used = rows::usage_of(conn, &ids, until)?;
            let names =
                report_rows::organizations(conn, allocations.iter().map(|a| a.applicant_id.clone()).collect())?;
            Ok((resource, period, as_of, reader, allocations, used, names))
        })
        .await?;
    // Burn rates run from the period's start to `as_of`.
    let days = (as_of - period.start).num_days() + 1;
    let used_of = |a: &AllocationRow| used.get(&a.id).map_or(0, |u| u.0);
    let mut lines = Vec::new();
    for a in &allocations {
        let approved = a.approved.unwrap_or(0);
        let seconds = used_of(a);
        let burn = if days > 0 {
            seconds as f64 / 3600.0 / days as f64
        } else {
            0.0
        };
        // Only days inside the period can be an answer, so nothing larger is computed.
        let exhaustion = (burn > 0.0)
            .then(|| (approved as f64 / burn).ceil())
            .filter(|d| *d >= 1.0 && *d <= period.days() as f64)
            .and_then(|d| Duration::try_days(d as i64 - 1))
            .and_then(|d| period.start.checked_add_signed(d));
        lines.push(AllocationUse {
            allocation_id: a.id.clone(),
            applicant_id: a.applicant_id.clone(),
            sector: a.sector,
            state: a.state,
            approved,
            used: super::hours(seconds),
            remaining: super::hours(approved.saturating_mul(3600).saturating_sub(seconds)),
            burn_per_day: (burn * 100.0).round() / 100.0,
            projected_exhaustion: exhaustion,
        });
    }
    let mut by_org: BTreeMap<(String, &'static str), (Sector, i64, i64)> = BTreeMap::new();
    for a in &allocations {
        let e = by_org
            .entry((a.applicant_id.clone(), a.sector.as_str()))
            .or_insert((a.sector, 0, 0));
        e.1 += a.approved.unwrap_or(0);
        e.2 = e.2.saturating_add(used_of(a));
    }
    let organizations = by_org
        .into_iter()
        .map(|((id, _), (sector, approved, seconds))| OrganizationUse {
            name: names.get(&id).map(|n| n.0.clone()).unwrap_or_default(),
            organization_id: id,
            sector,
            approved,
            used: super::hours(seconds),
        })
        .collect();
    let sectors = match reader {
        Reader::Applicant(_) => Vec::new(),
        Reader::Owner => Sector::ALL
            .into_iter()
            .map(|s| {
                let (share, quota) = super::quota::quota_of(&resource, s);
                let mine: Vec<&AllocationRow> =
                    allocations.iter().filter(|a| a.sector == s).collect();
                let approved: i64 = mine.iter().map(|a| a.approved.unwrap_or(0)).sum();
                SectorUse {
                    sector: s,
                    share_percent: share,
                    quota,
                    approved,
                    used: super::hours(mine.iter().fold(0i64, |t, a| t.saturating_add(used_of(a)))),
                    unallocated: quota - approved,
                }
            })
            .collect(),
    };
    let mut t = Table::new(&[
        "allocation_id",
        "applicant_id",
        "applicant",
        "sector",
        "state",
        "approved",
        "used",
        "remaining",
        "burn_per_day",
        "projected_exhaustion",
    ]);
    for l in &lines {
        t.row(vec![
            l.allocation_id.clone().into(),
            l.applicant_id.clone().into(),
            names
                .get(&l.applicant_id)
                .map(|n| n.0.clone())
                .unwrap_or_default()
                .into(),
            l.sector.as_str().into(),
            l.state.as_str().into(),
            l.approved.into(),
            Cell::decimal(l.used, 2),
            Cell::decimal(l.remaining, 2),
            Cell::decimal(l.burn_per_day, 2),
            l.projected_exhaustion
                .map(|d| d.to_string())
                .unwrap_or_default()
                .into(),
        ]);
    }
    Ok((
        ComputeReport {
            resource_id: resource.id,
            resource_name: resource.name,
            unit: resource.unit,
            period: period.name,
            period_start: period.start,
            period_end: period.end,
            as_of,
            capacity: resource.capacity,
            sectors,
            organizations,
            allocations: lines,
        },
        t,
    ))
}

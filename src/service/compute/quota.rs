//! The sector arithmetic: each sector's share of a period's capacity, what granted
//! allocations hold of it, and the check an approval must pass.

use serde_json::json;

use crate::db::compute::{AllocationRow, ResourceRow};
use crate::dto::compute::{Availability, Sector, SectorAmounts};
use crate::error::{AppError, AppResult, ErrorCode};

/// Each sector's share of a period's capacity, in units (rounded down).
pub(super) fn quotas(r: &ResourceRow) -> SectorAmounts {
    let share = |p: i32| (i128::from(r.capacity) * i128::from(p) / 100) as i64;
    SectorAmounts {
        academia: share(r.academia_percent),
        industry: share(r.industry_percent),
    }
}

/// A sector's share: its percent and its units.
pub(super) fn quota_of(r: &ResourceRow, sector: Sector) -> (i32, i64) {
    let q = quotas(r);
    match sector {
        Sector::Academia => (r.academia_percent, q.academia),
        Sector::Industry => (r.industry_percent, q.industry),
    }
}

/// What granted allocations (approved, active, expired) hold of each sector's share.
pub(super) fn granted(allocations: &[AllocationRow]) -> SectorAmounts {
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

/// What a period has granted and still has free, per sector and in total. A sector's free
/// share never exceeds what the whole period has left.
pub(super) fn availability(
    r: &ResourceRow,
    period: &str,
    allocations: &[AllocationRow],
) -> Availability {
    let g = granted(allocations);
    let q = quotas(r);
    let free_total = r.capacity - g.academia - g.industry;
    Availability {
        period: period.to_owned(),
        granted: g,
        free: SectorAmounts {
            academia: (q.academia - g.academia).clamp(0, free_total.max(0)),
            industry: (q.industry - g.industry).clamp(0, free_total.max(0)),
        },
        free_total: free_total.max(0),
    }
}

/// Refuses an approval of `amount` that would take the allocation's sector beyond its share
/// of the period (unless `overridden`) or the period beyond its capacity, with the arithmetic.
pub(super) fn check_quota(
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

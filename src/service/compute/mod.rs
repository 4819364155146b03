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

mod allocations;
mod quota;
mod report;
mod resources;
mod usage;

pub use allocations::{
    create_allocation, get_allocation, held_by_profile, list_allocations, renew, transition,
    update_allocation,
};
pub use report::report;
pub use resources::{create_resource, get_resource, list_resources, update_resource};
pub use usage::import_usage;

use crate::error::{FieldCode, FieldError};

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

/// Unit-seconds as units, to two decimals.
pub(crate) fn hours(unit_seconds: i64) -> f64 {
    (unit_seconds as f64 / 36.0).round() / 100.0
}

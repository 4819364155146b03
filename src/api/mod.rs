//! Request and response types of the public API (serde + OpenAPI schemas). These are the
//! contract with clients; database rows never leave the `db` layer.

pub mod accounts;
pub mod audit;
pub mod centers;
pub mod engagements;
pub mod faculty;
pub mod invitations;
pub mod json;
pub mod matching;
pub mod needs;
pub mod ops;
pub mod organizations;
pub mod projects;
pub mod reports;
pub mod search;

use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use crate::error::FieldError;

/// An RFC 9457 problem document; every error response has this shape
/// (`Content-Type: application/problem+json`).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "type": "/problems/validation_failed",
    "title": "Validation failed",
    "status": 422,
    "detail": "Field `country`: must be an ISO 3166-1 alpha-2 country code such as TW, KR or US",
    "code": "validation_failed",
    "errors": [{"field": "country", "code": "invalid_country",
                "message": "must be an ISO 3166-1 alpha-2 country code such as TW, KR or US"}]
}))]
pub struct Problem {
    /// URI reference naming the problem type: `/problems/{code}`.
    #[serde(rename = "type")]
    pub type_: String,
    /// Short summary of the problem type.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong with this request, for a person.
    pub detail: String,
    /// Stable machine-readable code (see the README's error table).
    pub code: String,
    /// Per-field errors (validation failures, bad parameters).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// Cursor pagination parameters shared by every list endpoint.
pub const DEFAULT_PAGE_SIZE: i64 = 20;
pub const MAX_PAGE_SIZE: i64 = 100;

/// Distinguishes "absent" (`None`) from "null" (`Some(None)`) in PATCH bodies, so a field can
/// be cleared with `null` and left alone by omitting it.
pub fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

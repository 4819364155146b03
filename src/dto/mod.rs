//! Data transfer objects: the request and response bodies of the public API (serde + OpenAPI
//! schemas). These are the contract with clients; database rows never leave the `db` layer.

pub mod accounts;
pub mod audit;
pub mod centers;
pub mod compute;
pub mod engagements;
pub mod faculty;
pub mod invitations;
pub mod json;
pub mod matching;
pub mod needs;
pub mod notifications;
pub mod ops;
pub mod organizations;
pub mod projects;
pub mod reports;
pub mod search;
pub mod webhooks;

use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use crate::error::FieldError;

/// Query parameters of a single record's `GET`: a deleted record answers 404 like any other
/// record the caller cannot see, unless a platform operator asks for it by name.
#[derive(Debug, Clone, Copy, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReadParams {
    /// Operators only: answer with the record even if it is deleted (to inspect before a
    /// restore).
    pub include_deleted: Option<bool>,
}

impl ReadParams {
    /// Whether the caller asked for the record even if it is deleted (absent means no).
    pub fn include_deleted(&self) -> bool {
        self.include_deleted.unwrap_or(false)
    }
}

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
    /// Stable machine-readable code (see docs/api.md, Errors).
    pub code: String,
    /// Per-field errors (validation failures, bad parameters).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// An ISO 3166-1 alpha-2 country code, documented as the list of assigned codes the service
/// accepts (input may also be in lower case; answers are upper case).
pub struct IsoCountry;

impl utoipa::PartialSchema for IsoCountry {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        code_list(
            "An assigned ISO 3166-1 alpha-2 country code, e.g. `TW`, `KR`, `US`.",
            crate::domain::country::CODES,
        )
    }
}

impl utoipa::ToSchema for IsoCountry {
    fn name() -> std::borrow::Cow<'static, str> {
        "CountryCode".into()
    }
}

/// An ISO 4217 currency code, documented as the list of active codes the service accepts.
pub struct IsoCurrency;

impl utoipa::PartialSchema for IsoCurrency {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        code_list(
            "An active ISO 4217 currency code, e.g. `KRW`, `TWD`, `USD`.",
            crate::domain::currency::CODES,
        )
    }
}

impl utoipa::ToSchema for IsoCurrency {
    fn name() -> std::borrow::Cow<'static, str> {
        "CurrencyCode".into()
    }
}

fn code_list(
    description: &str,
    codes: &[&str],
) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .enum_values(Some(codes.iter().copied()))
        .into()
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

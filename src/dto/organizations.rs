//! Organizations: universities, companies, government bodies and foundations.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::double_option;

pub use crate::domain::stored::OrganizationKind;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(
    json!({"kind": "university", "name": "National Yang Ming Chiao Tung University",
           "local_name": "國立陽明交通大學", "country": "TW", "website": "https://www.nycu.edu.tw"}),
    json!({"kind": "university", "name": "Seoul National University",
           "local_name": "서울대학교", "country": "KR", "website": "https://www.snu.ac.kr"})
))]
pub struct CreateOrganization {
    pub kind: OrganizationKind,
    /// Name in English (1-200 characters).
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// Name in its local script, e.g. 國立陽明交通大學 or 서울대학교 (at most 200 characters).
    #[serde(default)]
    pub local_name: Option<String>,
    /// ISO 3166-1 alpha-2 country code, e.g. `TW`, `KR`.
    #[schema(value_type = super::IsoCountry)]
    pub country: String,
    /// Absolute http(s) URL.
    #[serde(default)]
    pub website: Option<String>,
}

/// A partial update (JSON merge-patch semantics): omitted fields stay as they are; `null`
/// clears an optional field (and is refused for a required one, so `kind`, `name` and
/// `country` are documented as not nullable).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"local_name": "국립서울대학교", "website": null}))]
pub struct UpdateOrganization {
    /// Fixed after creation: only platform operators may correct it (403 for anyone else), and
    /// not while members hold roles the new kind cannot grant or the organization holds
    /// records of its present kind (409).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = OrganizationKind)]
    pub kind: Option<Option<OrganizationKind>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = String, min_length = 1, max_length = 200)]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub local_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = super::IsoCountry)]
    pub country: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub website: Option<Option<String>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": "019ac9a4-5b7e-7d2c-9f7a-3c1e2b4d5a6f", "kind": "university",
    "name": "National Taiwan University", "local_name": "國立臺灣大學", "country": "TW",
    "website": "https://www.ntu.edu.tw/", "created_at": "2026-11-28T04:00:00Z",
    "updated_at": "2026-11-28T04:00:00Z"}))]
pub struct Organization {
    /// Opaque identifier.
    pub id: String,
    pub kind: OrganizationKind,
    pub name: String,
    pub local_name: Option<String>,
    #[schema(value_type = super::IsoCountry)]
    pub country: String,
    pub website: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OrganizationList {
    pub items: Vec<Organization>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListOrganizations {
    /// Only organizations of this kind.
    pub kind: Option<OrganizationKind>,
    /// Only organizations in this country (ISO 3166-1 alpha-2).
    #[param(value_type = Option<crate::dto::IsoCountry>)]
    pub country: Option<String>,
    /// Page size, 1-100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

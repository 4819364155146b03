//! Joint lab centres: a research centre hosted by a university with partner companies, its
//! people, focus areas, dates, shared resources and yearly funding commitments.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::double_option;

pub use crate::domain::stored::{CenterStatus, ParticipantVisibility, PartnerRole};

pub fn default_participant_visibility() -> ParticipantVisibility {
    ParticipantVisibility::Participants
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CenterPartner {
    /// An organization of kind `company`.
    pub company_id: String,
    pub role: PartnerRole,
}

/// Something the centre shares with its partners, tagged by `kind`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum SharedResource {
    /// GPUs of one model: `{"kind": "gpu", "model": "H100", "count": 64}`.
    Gpu { model: String, count: i64 },
    /// Compute time on a cluster: `{"kind": "hpc_allocation", "gpu_hours": 500000}`.
    HpcAllocation { gpu_hours: i64 },
    /// Floor space: `{"kind": "lab_space", "square_meters": 300}`.
    LabSpace { square_meters: i64 },
    /// Anything else: `{"kind": "other", "description": "Clean room access"}`.
    Other { description: String },
}

/// One sponsor's commitment for one year, in integer minor units of an ISO 4217 currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"year": 2027, "sponsor_id": "019ac9a4-5b7e-7d2c-9f7a-3c1e2b4d5a6f", "amount_minor": 500000000, "currency": "TWD"}))]
pub struct FundingCommitment {
    pub year: i32,
    /// One of the centre's partner companies.
    pub sponsor_id: String,
    /// Minor units (e.g. cents); KRW and JPY have none. Must be positive.
    pub amount_minor: i64,
    /// ISO 4217, e.g. `KRW`, `TWD`, `USD`.
    #[schema(value_type = super::IsoCurrency)]
    pub currency: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "host_university_id": "019ac9a4-5b7e-7d2c-9f7a-3c1e2b4d5a60", "name": "NYCU–MediaTek Joint AI Lab",
    "local_name": "陽明交大聯發科人工智慧聯合研究中心",
    "partners": [{"company_id": "019ac9a4-5b7e-7d2c-9f7a-3c1e2b4d5a6f", "role": "founding_sponsor"}],
    "focus_areas": ["edge AI", "LLM inference", "低功耗晶片"],
    "established_date": "2024-01-01", "renewal_date": "2026-12-31", "end_date": "2028-12-31",
    "status": "active",
    "shared_resources": [{"kind": "gpu", "model": "H100", "count": 64}, {"kind": "lab_space", "square_meters": 300}],
    "funding": [{"year": 2027, "sponsor_id": "019ac9a4-5b7e-7d2c-9f7a-3c1e2b4d5a6f", "amount_minor": 50000000, "currency": "TWD"}],
    "visibility": "public"
}))]
pub struct CreateCenter {
    /// An organization of kind `university`.
    pub host_university_id: String,
    pub name: String,
    /// The name in its local script (e.g. Korean or Chinese).
    #[serde(default)]
    pub local_name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// At least one partner company, each once.
    pub partners: Vec<CenterPartner>,
    /// A faculty profile of the host university.
    #[serde(default)]
    pub director_id: Option<String>,
    /// Faculty profiles of any university.
    #[serde(default)]
    pub member_ids: Vec<String>,
    /// Searchable through `GET /api/v1/search?type=center`.
    #[serde(default)]
    pub focus_areas: Vec<String>,
    #[serde(default)]
    pub established_date: Option<NaiveDate>,
    /// Strictly between the established and end dates.
    #[serde(default)]
    pub renewal_date: Option<NaiveDate>,
    /// After the established date.
    #[serde(default)]
    pub end_date: Option<NaiveDate>,
    /// `planned` (default) or `active`.
    #[serde(default = "default_center_status")]
    pub status: CenterStatus,
    #[serde(default)]
    pub shared_resources: Vec<SharedResource>,
    #[serde(default)]
    pub funding: Vec<FundingCommitment>,
    #[serde(default = "default_participant_visibility")]
    pub visibility: ParticipantVisibility,
}

fn default_center_status() -> CenterStatus {
    CenterStatus::Planned
}

/// Merge-patch: absent fields stay, `null` clears an optional one, lists are replaced whole.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"status": "renewing", "renewal_date": "2027-06-30"}))]
pub struct UpdateCenter {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub local_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[serde(default)]
    pub partners: Option<Vec<CenterPartner>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub director_id: Option<Option<String>>,
    #[serde(default)]
    pub member_ids: Option<Vec<String>>,
    #[serde(default)]
    pub focus_areas: Option<Vec<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub established_date: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub renewal_date: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub end_date: Option<Option<NaiveDate>>,
    #[serde(default)]
    pub status: Option<CenterStatus>,
    #[serde(default)]
    pub shared_resources: Option<Vec<SharedResource>>,
    #[serde(default)]
    pub funding: Option<Vec<FundingCommitment>>,
    #[serde(default)]
    pub visibility: Option<ParticipantVisibility>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Center {
    pub id: String,
    pub host_university_id: String,
    pub name: String,
    pub local_name: Option<String>,
    pub description: Option<String>,
    pub partners: Vec<CenterPartner>,
    pub director_id: Option<String>,
    pub member_ids: Vec<String>,
    pub focus_areas: Vec<String>,
    pub established_date: Option<NaiveDate>,
    pub renewal_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    pub status: CenterStatus,
    pub shared_resources: Vec<SharedResource>,
    pub funding: Vec<FundingCommitment>,
    pub visibility: ParticipantVisibility,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CenterList {
    pub items: Vec<Center>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListCenters {
    /// Centres hosted by this university.
    pub host_university_id: Option<String>,
    /// Centres this company is a partner of.
    pub company_id: Option<String>,
    /// Centres this faculty profile directs or belongs to.
    pub faculty_id: Option<String>,
    pub status: Option<CenterStatus>,
    /// A focus area (exact, case-insensitive).
    pub focus_area: Option<String>,
    /// Centres with GPUs of this model (case-insensitive): among their shared resources, or a
    /// compute resource of the centre.
    pub gpu_model: Option<String>,
    /// Operators only: include deleted centres.
    pub include_deleted: Option<bool>,
    /// Page size, 1-100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

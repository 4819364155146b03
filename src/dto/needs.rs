//! Companies' project needs: what they want researched, with what money, by when.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::double_option;
use super::faculty::CollaborationType;

pub use crate::domain::stored::{ComputeDirection, ComputeUnit, NeedStatus, NeedVisibility};

/// A budget range in integer minor units of one ISO 4217 currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"min": 50000000, "max": 120000000, "currency": "KRW"}))]
pub struct Budget {
    /// Minor units (e.g. cents); KRW and JPY have none, so 1 = ₩1.
    pub min: i64,
    pub max: i64,
    /// ISO 4217, e.g. `KRW`, `TWD`, `USD`.
    #[schema(value_type = super::IsoCurrency)]
    pub currency: String,
}

/// Compute a need brings to the work (the company's own GPUs, a credit grant) or needs found,
/// such as 5,000 H100 GPU-hours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"direction": "brings", "amount": 5000, "unit": "gpu_hours", "gpu_model": "H100"}))]
pub struct NeedCompute {
    pub direction: ComputeDirection,
    /// Units, 1 or more.
    pub amount: i64,
    pub unit: ComputeUnit,
    /// Such as `H100`.
    #[serde(default)]
    pub gpu_model: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(
    json!({"company_id": "019ac9a4-5b7e-7d2c-9f7a-3c1e2b4d5a6f", "title": "Energy-efficient LLM inference on edge NPUs",
           "summary": "Quantisation and scheduling for 7B models on mobile NPUs",
           "keywords": ["LLM", "quantization", "NPU"], "collaboration_types": ["sponsored_research"],
           "budget": {"min": 3000000, "max": 6000000, "currency": "USD"}, "duration_months": 12,
           "deadline": "2027-03-31", "location": "Hsinchu", "remote": true, "visibility": "members"}),
    json!({"company_id": "019ac9a4-5b7e-7d2c-9f7a-3c1e2b4d5a6f", "title": "HBM 메모리 열 관리 공동 연구",
           "summary": "차세대 HBM 적층 구조의 열 시뮬레이션", "keywords": ["HBM", "반도체", "열 관리"],
           "collaboration_types": ["joint_lab"], "budget": {"min": 100000000, "max": 300000000, "currency": "KRW"},
           "visibility": "confidential"})
))]
pub struct CreateNeed {
    /// The company (an organization of kind `company`).
    pub company_id: String,
    #[schema(min_length = 1, max_length = 300)]
    pub title: String,
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// Desired expertise.
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default)]
    pub collaboration_types: Vec<CollaborationType>,
    #[serde(default)]
    pub budget: Option<Budget>,
    /// Compute the company brings to the work, or needs found.
    #[serde(default)]
    pub compute: Option<NeedCompute>,
    /// 1-240.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 240)]
    pub duration_months: Option<i32>,
    #[serde(default)]
    pub deadline: Option<NaiveDate>,
    #[serde(default)]
    pub location: Option<String>,
    #[serde(default)]
    pub remote: bool,
    /// `draft` (default) or `open`.
    #[serde(default = "default_status")]
    pub status: NeedStatus,
    #[serde(default = "default_need_visibility")]
    pub visibility: NeedVisibility,
}

fn default_status() -> NeedStatus {
    NeedStatus::Draft
}

fn default_need_visibility() -> NeedVisibility {
    NeedVisibility::Members
}

/// Merge-patch; `status` moves along draft → open → closed | awarded.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"status": "open", "deadline": "2027-06-30"}))]
pub struct UpdateNeed {
    /// Required: may be left out, but not cleared (`null` is refused).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = String, min_length = 1, max_length = 300)]
    pub title: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub summary: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[serde(default)]
    pub keywords: Option<Vec<String>>,
    #[serde(default)]
    pub collaboration_types: Option<Vec<CollaborationType>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Budget>)]
    pub budget: Option<Option<Budget>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NeedCompute>)]
    pub compute: Option<Option<NeedCompute>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i32>, minimum = 1, maximum = 240)]
    pub duration_months: Option<Option<i32>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub deadline: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub location: Option<Option<String>>,
    #[serde(default)]
    pub remote: Option<bool>,
    #[serde(default)]
    pub status: Option<NeedStatus>,
    #[serde(default)]
    pub visibility: Option<NeedVisibility>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Need {
    pub id: String,
    pub company_id: String,
    pub title: String,
    pub summary: Option<String>,
    pub description: Option<String>,
    pub keywords: Vec<String>,
    pub collaboration_types: Vec<CollaborationType>,
    pub budget: Option<Budget>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compute: Option<NeedCompute>,
    pub duration_months: Option<i32>,
    pub deadline: Option<NaiveDate>,
    pub location: Option<String>,
    pub remote: bool,
    pub status: NeedStatus,
    pub visibility: NeedVisibility,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NeedList {
    pub items: Vec<Need>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListNeeds {
    pub company_id: Option<String>,
    pub status: Option<NeedStatus>,
    /// A desired-expertise keyword (case-insensitive).
    pub keyword: Option<String>,
    pub collaboration_type: Option<CollaborationType>,
    /// Needs that bring compute, or that need it.
    pub compute: Option<ComputeDirection>,
    /// Needs whose compute is of this GPU model (case-insensitive).
    pub gpu_model: Option<String>,
    /// Operators only: include deleted needs.
    pub include_deleted: Option<bool>,
    /// Page size, 1-100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteFaculty {
    /// The faculty profile to invite; its owner may then see the need even if confidential.
    pub faculty_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Invitation {
    pub need_id: String,
    pub faculty_id: String,
    pub invited_by: String,
    pub created_at: DateTime<Utc>,
}

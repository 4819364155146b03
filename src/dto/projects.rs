//! Funded projects (what an agreement becomes: sponsored research, grants, gifts...) and
//! their scheduled and received payments.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::centers::{ParticipantVisibility, default_participant_visibility};
use super::double_option;

pub use crate::domain::stored::{PaymentStatus, ProjectStatus, ProjectType};

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "title": "HBM thermal simulation", "type": "sponsored_research",
    "sponsor_id": "019ac9a4-5b7e-7d2c-9f7a-3c1e2b4d5a6f", "university_id": "019ac9a4-5b7e-7d2c-9f7a-3c1e2b4d5a60",
    "principal_investigator_id": "019ac9a4-5b7e-7d2c-9f7a-3c1e2b4d5a61",
    "amount_minor": 300000000, "currency": "KRW", "start_date": "2027-01-01", "end_date": "2028-12-31",
    "visibility": "participants"
}))]
pub struct CreateFundedProject {
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(rename = "type")]
    pub kind: ProjectType,
    /// The organization that pays (company, foundation, government body...).
    pub sponsor_id: String,
    /// The performing university (an organization of kind `university`).
    pub university_id: String,
    /// A faculty profile of the performing university.
    #[serde(default)]
    pub principal_investigator_id: Option<String>,
    /// Faculty profiles of any university.
    #[serde(default)]
    pub co_investigator_ids: Vec<String>,
    /// A centre hosted by the performing university.
    #[serde(default)]
    pub center_id: Option<String>,
    /// The need this project answers (one the caller may see).
    #[serde(default)]
    pub need_id: Option<String>,
    /// The engagement this project came from (stored as given; not yet checked to exist).
    #[serde(default)]
    pub engagement_id: Option<String>,
    /// Total amount in integer minor units (0 or more).
    pub amount_minor: i64,
    /// ISO 4217; every payment of the project uses it too.
    #[schema(value_type = super::IsoCurrency)]
    pub currency: String,
    #[serde(default)]
    pub start_date: Option<NaiveDate>,
    /// After the start date.
    #[serde(default)]
    pub end_date: Option<NaiveDate>,
    /// `proposed` (default), `negotiating` or `active`.
    #[serde(default = "default_project_status")]
    pub status: ProjectStatus,
    #[serde(default = "default_participant_visibility")]
    pub visibility: ParticipantVisibility,
}

fn default_project_status() -> ProjectStatus {
    ProjectStatus::Proposed
}

/// Merge-patch; `status` moves along proposed → negotiating → active → completed |
/// terminated (409 with the allowed next states otherwise).
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"status": "negotiating"}))]
pub struct UpdateFundedProject {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[serde(default, rename = "type")]
    pub kind: Option<ProjectType>,
    #[serde(default)]
    pub sponsor_id: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub principal_investigator_id: Option<Option<String>>,
    #[serde(default)]
    pub co_investigator_ids: Option<Vec<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub center_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub need_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub engagement_id: Option<Option<String>>,
    #[serde(default)]
    pub amount_minor: Option<i64>,
    #[serde(default)]
    #[schema(value_type = Option<super::IsoCurrency>)]
    pub currency: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub start_date: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub end_date: Option<Option<NaiveDate>>,
    #[serde(default)]
    pub status: Option<ProjectStatus>,
    #[serde(default)]
    pub visibility: Option<ParticipantVisibility>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FundedProject {
    pub id: String,
    pub title: String,
    pub description: Option<String>,
    #[serde(rename = "type")]
    pub kind: ProjectType,
    pub sponsor_id: String,
    pub university_id: String,
    pub principal_investigator_id: Option<String>,
    pub co_investigator_ids: Vec<String>,
    pub center_id: Option<String>,
    pub need_id: Option<String>,
    pub engagement_id: Option<String>,
    pub amount_minor: i64,
    pub currency: String,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    pub status: ProjectStatus,
    pub visibility: ParticipantVisibility,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FundedProjectList {
    pub items: Vec<FundedProject>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListFundedProjects {
    /// Projects performed by this university.
    pub university_id: Option<String>,
    /// Projects paid for by this organization.
    pub sponsor_id: Option<String>,
    pub center_id: Option<String>,
    pub need_id: Option<String>,
    /// Projects this faculty profile leads or co-investigates.
    pub faculty_id: Option<String>,
    pub status: Option<ProjectStatus>,
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub kind: Option<ProjectType>,
    /// Operators only: include deleted projects.
    pub include_deleted: Option<bool>,
    /// Page size, 1-100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"due_date": "2027-03-31", "amount_minor": 100000000, "currency": "KRW", "status": "scheduled", "note": "First instalment"}))]
pub struct CreatePayment {
    /// Required while `scheduled`.
    #[serde(default)]
    pub due_date: Option<NaiveDate>,
    /// Required once `received`.
    #[serde(default)]
    pub received_date: Option<NaiveDate>,
    /// Positive, in integer minor units.
    pub amount_minor: i64,
    /// Must be the project's currency.
    #[schema(value_type = super::IsoCurrency)]
    pub currency: String,
    #[serde(default = "default_payment_status")]
    pub status: PaymentStatus,
    #[serde(default)]
    pub note: Option<String>,
}

fn default_payment_status() -> PaymentStatus {
    PaymentStatus::Scheduled
}

/// Merge-patch of a payment.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"status": "received", "received_date": "2027-04-02"}))]
pub struct UpdatePayment {
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub due_date: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub received_date: Option<Option<NaiveDate>>,
    #[serde(default)]
    pub amount_minor: Option<i64>,
    #[serde(default)]
    #[schema(value_type = Option<super::IsoCurrency>)]
    pub currency: Option<String>,
    #[serde(default)]
    pub status: Option<PaymentStatus>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub note: Option<Option<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Payment {
    pub id: String,
    pub project_id: String,
    pub due_date: Option<NaiveDate>,
    pub received_date: Option<NaiveDate>,
    pub amount_minor: i64,
    pub currency: String,
    pub status: PaymentStatus,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A project's payments, oldest first, with totals per status (all in the project's currency).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PaymentList {
    pub items: Vec<Payment>,
    pub currency: String,
    /// Sum of `scheduled` payments, minor units.
    pub scheduled_minor: i64,
    /// Sum of `received` payments, minor units.
    pub received_minor: i64,
}

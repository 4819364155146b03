//! Reports for universities' industry-liaison offices, as JSON or CSV.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// `json` (default) or `csv`; `Accept: text/csv` asks for CSV too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReportFormat {
    #[default]
    Json,
    Csv,
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportParams {
    /// The university the report is about (you must be its admin or staff, or an operator).
    pub university_id: String,
    /// Only what started on or after this date.
    pub from: Option<NaiveDate>,
    /// Only what started before this date.
    pub to: Option<NaiveDate>,
    pub format: Option<ReportFormat>,
}

/// From needs to engagements to funded projects, for one university's professors.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FunnelReport {
    pub university_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<NaiveDate>,
    /// Needs with at least one engagement with the university's professors.
    pub needs: u64,
    /// Engagements with the university's professors.
    pub engagements: u64,
    /// Engagements by their current state (every state listed, zeros included).
    pub engagements_by_state: BTreeMap<String, u64>,
    /// Engagements that were ever invited.
    pub invited: u64,
    /// Of those, how many the professor answered (interested or declined).
    pub responded: u64,
    /// Median time from invitation to the professor's first answer, in hours (absent without
    /// answers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub median_hours_to_first_response: Option<f64>,
    /// Engagements that reached `agreed`.
    pub agreed: u64,
}

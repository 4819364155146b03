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
    /// The university's funded projects that came from a need.
    pub funded_projects_from_needs: u64,
    /// Of those, from an engagement.
    pub funded_projects_from_engagements: u64,
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FundingParams {
    /// The university the report is about (you must be its admin or staff, or an operator).
    pub university_id: String,
    /// Only projects starting (centre commitments: years starting) on or after this date.
    pub from: Option<NaiveDate>,
    /// Only projects starting before this date.
    pub to: Option<NaiveDate>,
    pub format: Option<ReportFormat>,
    /// Exchange rates to also total across currencies, e.g. `TWD:0.031,KRW:0.00073`: one unit
    /// of each currency in `base`. Without them, amounts are never added across currencies.
    pub rates: Option<String>,
    /// The currency `rates` convert into (ISO 4217), e.g. `USD`.
    #[param(value_type = Option<super::IsoCurrency>)]
    pub base: Option<String>,
}

/// Money per year × sponsor × type × currency, in integer minor units.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FundingRow {
    pub year: i32,
    pub sponsor_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sponsor_name: Option<String>,
    /// The project type, or `center_commitment` for a centre's yearly funding commitment.
    #[serde(rename = "type")]
    pub kind: String,
    pub currency: String,
    /// Projects (or centre commitments) in this row.
    pub count: u64,
    /// Active and completed projects, and centre commitments.
    pub committed_minor: i64,
    /// Proposed and negotiating projects.
    pub pipeline_minor: i64,
    /// Payments received.
    pub received_minor: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CurrencyTotal {
    pub currency: String,
    pub committed_minor: i64,
    pub pipeline_minor: i64,
    pub received_minor: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FundingReport {
    pub university_id: String,
    pub rows: Vec<FundingRow>,
    /// Per currency: never added across currencies.
    pub totals: Vec<CurrencyTotal>,
    /// All currencies in `base`, when exchange rates were given (rounded half away from zero
    /// to the base currency's minor unit).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub converted: Option<CurrencyTotal>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PersonRef {
    pub id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_name: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PartnerRef {
    pub company_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub role: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CenterFunding {
    pub year: i32,
    pub sponsor_id: String,
    pub currency: String,
    pub amount_minor: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CenterReportItem {
    pub id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_name: Option<String>,
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub established_date: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub renewal_date: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_date: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub director: Option<PersonRef>,
    pub members: Vec<PersonRef>,
    pub partners: Vec<PartnerRef>,
    /// The centre's shared resources, as recorded (GPUs, HPC allocations, lab space, …).
    #[schema(value_type = Vec<Object>)]
    pub shared_resources: serde_json::Value,
    pub funding: Vec<CenterFunding>,
    /// Funding commitments per currency.
    pub funding_totals: BTreeMap<String, i64>,
}

/// The university's active (and renewing) centres.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CentersReport {
    pub university_id: String,
    pub centers: Vec<CenterReportItem>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FacultyFundingRow {
    pub faculty: PersonRef,
    pub currency: String,
    /// Active and completed industry-sponsored projects this professor leads, and their
    /// amounts (each project counted once, for its principal investigator).
    pub projects_led: u64,
    pub amount_minor: i64,
    /// Industry projects they are a co-investigator of (amounts counted for the lead).
    pub projects_co_investigated: u64,
}

/// Industry funding per professor: projects sponsored by companies.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FacultyFundingReport {
    pub university_id: String,
    pub rows: Vec<FacultyFundingRow>,
}

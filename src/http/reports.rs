//! `/api/v1/reports/...`: each report as JSON, or as CSV with `?format=csv` or
//! `Accept: text/csv`.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, get, web};

use crate::dto::Problem;
use crate::dto::compute::{ComputeReport, ComputeReportParams};
use crate::dto::reports::{
    CentersReport, FacultyFundingReport, FundingParams, FundingReport, FunnelReport, ReportFormat,
    ReportParams,
};
use crate::error::AppError;
use crate::service::reports::{self as svc, Table};

use super::AppState;
use super::auth::MaybeCaller;
use super::extract::ApiQuery;

/// CSV when asked for by `format=csv`, or by an `Accept` header preferring `text/csv` and not
/// naming JSON; JSON otherwise.
fn wants_csv(req: &HttpRequest, format: Option<ReportFormat>) -> bool {
    match format {
        Some(f) => f == ReportFormat::Csv,
        None => req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/csv") && !a.contains("application/json")),
    }
}

fn respond<T: serde::Serialize>(
    req: &HttpRequest,
    format: Option<ReportFormat>,
    name: &str,
    report: &T,
    table: &Table,
) -> HttpResponse {
    if wants_csv(req, format) {
        let mut res = HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .body(table.to_csv());
        if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}.csv\"")) {
            res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
        }
        res
    } else {
        HttpResponse::Ok().json(report)
    }
}

/// The conversion funnel for a university's professors: needs → engagements by state →
/// agreements, with the median time from invitation to the professor's first answer.
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(ReportParams),
    responses(
        (status = 200, description = "The report (as `text/csv` with `format=csv` or `Accept: text/csv`)", content((FunnelReport = "application/json"), (String = "text/csv"))),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/reports/funnel")]
pub async fn funnel(
    req: HttpRequest,
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    ApiQuery(p): ApiQuery<ReportParams>,
) -> Result<HttpResponse, AppError> {
    let format = p.format;
    let (report, table) = svc::funnel(&state.db, caller.as_ref(), p).await?;
    Ok(respond(&req, format, "funnel", &report, &table))
}

/// Funding by year × sponsor × type, per currency (integer minor units; committed = active
/// and completed projects and centre commitments, pipeline = proposed and negotiating,
/// received = payments received). Never added across currencies unless `rates` and `base`
/// are given.
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(FundingParams),
    responses(
        (status = 200, description = "The report (as `text/csv` with `format=csv` or `Accept: text/csv`)", content((FundingReport = "application/json"), (String = "text/csv"))),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/reports/funding")]
pub async fn funding(
    req: HttpRequest,
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    ApiQuery(p): ApiQuery<FundingParams>,
) -> Result<HttpResponse, AppError> {
    let format = p.format;
    let (report, table) = svc::funding(&state.db, caller.as_ref(), p).await?;
    Ok(respond(&req, format, "funding", &report, &table))
}

/// The university's active and renewing centres: director, members, partners, shared
/// resources and funding commitments.
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(ReportParams),
    responses(
        (status = 200, description = "The report (as `text/csv` with `format=csv` or `Accept: text/csv`)", content((CentersReport = "application/json"), (String = "text/csv"))),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/reports/centers")]
pub async fn centers(
    req: HttpRequest,
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    ApiQuery(p): ApiQuery<ReportParams>,
) -> Result<HttpResponse, AppError> {
    let format = p.format;
    let (report, table) = svc::centers(&state.db, caller.as_ref(), p).await?;
    Ok(respond(&req, format, "centers", &report, &table))
}

/// Industry funding per professor: active and completed company-sponsored projects, each
/// counted once for its principal investigator, per currency.
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(ReportParams),
    responses(
        (status = 200, description = "The report (as `text/csv` with `format=csv` or `Accept: text/csv`)", content((FacultyFundingReport = "application/json"), (String = "text/csv"))),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/reports/faculty-funding")]
pub async fn faculty_funding(
    req: HttpRequest,
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    ApiQuery(p): ApiQuery<ReportParams>,
) -> Result<HttpResponse, AppError> {
    let format = p.format;
    let (report, table) = svc::faculty_funding(&state.db, caller.as_ref(), p).await?;
    Ok(respond(&req, format, "faculty-funding", &report, &table))
}

/// A compute resource's period: capacity, and what is approved and used by sector against
/// its quota, per organization and per allocation, with burn rates and projected exhaustion.
/// The owner's admins and staff see it all; an applicant organization's admins and staff
/// their own allocations (without sector totals).
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(ComputeReportParams),
    responses(
        (status = 200, description = "The report (as `text/csv` with `format=csv` or `Accept: text/csv`: one row per allocation)", content((ComputeReport = "application/json"), (String = "text/csv"))),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/reports/compute")]
pub async fn compute(
    req: HttpRequest,
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    ApiQuery(p): ApiQuery<ComputeReportParams>,
) -> Result<HttpResponse, AppError> {
    let format = p.format;
    let (report, table) = crate::service::compute::report(&state.db, caller.as_ref(), p).await?;
    Ok(respond(&req, format, "compute", &report, &table))
}

//! Operational endpoints: liveness, readiness and Prometheus metrics.

use std::time::Duration;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};
use sha2::{Digest, Sha256};

use crate::dto::Problem;
use crate::dto::ops::{Health, Readiness};
use crate::error::{AppError, ErrorCode};
use crate::service::ops as svc;

use super::AppState;
use super::problem::problem_with;

/// Liveness: the process is up and answering.
#[utoipa::path(tag = "operations", responses((status = 200, body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> web::Json<Health> {
    web::Json(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
    })
}

/// Readiness: the database answers and the index folder is writable, within
/// `readyz_timeout_ms`.
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, description = "Ready to serve", body = Readiness),
        (status = 503, description = "A dependency is failing or did not answer in time; `checks` says which", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let deadline = Duration::from_millis(state.settings.readyz_timeout_ms);
    let readiness = svc::readiness(&state.db, &state.index, &state.search, deadline).await;
    if readiness.checks.iter().all(|c| c.ok) {
        return HttpResponse::Ok().json(readiness);
    }
    let failing: Vec<_> = readiness
        .checks
        .iter()
        .filter(|c| !c.ok)
        .map(|c| c.name.as_str())
        .collect();
    let detail = format!("Not ready: {} failing", failing.join(", "));
    problem_with(ErrorCode::ServiceUnavailable, &detail, &[], Some(readiness))
}

/// Prometheus metrics: request counts and latency histograms by route and status.
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, description = "Prometheus text exposition format", content_type = "text/plain; version=0.0.4", body = String),
        (status = 401, description = "`metrics_token` is configured and the request does not carry it as `Authorization: Bearer <token>`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/metrics")]
pub async fn metrics(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    if let Some(token) = &state.settings.metrics_token {
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        // Compared as digests, so the time taken says nothing about how much of it matched.
        if Sha256::digest(given.trim().as_bytes()) != Sha256::digest(token.0.as_bytes()) {
            return Err(AppError::new(
                ErrorCode::Unauthenticated,
                "Metrics require the configured token (Authorization: Bearer <metrics_token>)",
            )
            .with_header("www-authenticate", "Bearer".to_owned()));
        }
    }
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render()))
}

//! Operational endpoints: liveness, readiness and Prometheus metrics.

use actix_web::{HttpResponse, get, web};

use crate::api::Problem;
use crate::api::ops::{Check, Health, Readiness, SearchLag};
use crate::error::ErrorCode;

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

/// Readiness: the database answers and the index folder is writable.
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, description = "Ready to serve", body = Readiness),
        (status = 503, description = "A dependency is failing; `checks` says which", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let database = match state.db.ping().await {
        Ok(()) => Check {
            name: "database".into(),
            ok: true,
            detail: None,
        },
        Err(e) => {
            tracing::warn!(error = %e, cause = ?e.cause, "readiness: database check failed");
            Check {
                name: "database".into(),
                ok: false,
                detail: Some("database unreachable".into()),
            }
        }
    };
    let index_dir = state.index.clone();
    let writable = web::block(move || index_dir.check_writable()).await;
    let index = match writable {
        Ok(Ok(())) => Check {
            name: "index".into(),
            ok: true,
            detail: None,
        },
        other => {
            tracing::warn!(result = ?other.map(|r| r.map_err(|e| e.kind())), "readiness: index check failed");
            Check {
                name: "index".into(),
                ok: false,
                detail: Some("index folder not writable".into()),
            }
        }
    };
    let checks = vec![database, index];
    let progress = state.search.progress();
    let latest = state
        .db
        .run(|c| Ok(crate::db::outbox::latest(c)?))
        .await
        .unwrap_or(progress.applied);
    let search = Some(SearchLag {
        applied: progress.applied,
        latest,
        lag: (latest - progress.applied).max(0),
        rebuilding: progress.rebuilding,
    });
    if checks.iter().all(|c| c.ok) {
        HttpResponse::Ok().json(Readiness {
            status: "ready".into(),
            checks,
            search,
        })
    } else {
        let failing: Vec<_> = checks
            .iter()
            .filter(|c| !c.ok)
            .map(|c| c.name.as_str())
            .collect();
        let detail = format!("Not ready: {} failing", failing.join(", "));
        problem_with(
            ErrorCode::ServiceUnavailable,
            &detail,
            &[],
            Some(Readiness {
                status: "unavailable".into(),
                checks,
                search,
            }),
        )
    }
}

/// Prometheus metrics: request counts and latency histograms by route and status.
#[utoipa::path(
    tag = "operations",
    responses((status = 200, description = "Prometheus text exposition format", content_type = "text/plain; version=0.0.4", body = String))
)]
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render())
}

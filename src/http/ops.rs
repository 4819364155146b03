//! Operational endpoints: liveness, readiness and Prometheus metrics.

use std::time::Duration;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};
use sha2::{Digest, Sha256};

use crate::api::Problem;
use crate::api::ops::{Check, Health, Readiness, SearchLag};
use crate::error::{AppError, ErrorCode};

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
    // Both checks run at once under one deadline: a probe that waits for an unreachable
    // database (the pool retries connecting for `db_timeout_secs`, twice over) is taken for
    // a dead process, and a load balancer needs the answer sooner than its own timeout. A
    // check still running at the deadline finishes on the blocking pool, bounded by its own
    // timeouts; only its answer is no longer waited for.
    let deadline = Duration::from_millis(state.settings.readyz_timeout_ms);
    let db = state.db.clone();
    let database = tokio::time::timeout(deadline, async move {
        db.ping().await?;
        db.run(|c| Ok(crate::db::outbox::latest(c)?)).await
    });
    let index_dir = state.index.clone();
    let index = tokio::time::timeout(deadline, web::block(move || index_dir.check_writable()));
    let (database, index) = futures_util::future::join(database, index).await;
    let (database, latest) = match database {
        Ok(Ok(latest)) => (
            Check {
                name: "database".into(),
                ok: true,
                detail: None,
            },
            Some(latest),
        ),
        failed => {
            let detail = match failed {
                Ok(Err(e)) => {
                    tracing::warn!(error = %e.log_message(), "readiness: database check failed");
                    "database unreachable".to_owned()
                }
                _ => {
                    tracing::warn!(?deadline, "readiness: the database did not answer in time");
                    format!("database did not answer within {} ms", deadline.as_millis())
                }
            };
            let check = Check {
                name: "database".into(),
                ok: false,
                detail: Some(detail),
            };
            (check, None)
        }
    };
    let index = match index {
        Ok(Ok(Ok(()))) => Check {
            name: "index".into(),
            ok: true,
            detail: None,
        },
        other => {
            tracing::warn!(result = ?other.map(|r| r.map(|r| r.map_err(|e| e.kind()))), "readiness: index check failed");
            Check {
                name: "index".into(),
                ok: false,
                detail: Some("index folder not writable".into()),
            }
        }
    };
    let checks = vec![database, index];
    let progress = state.search.progress();
    let latest = latest.unwrap_or(progress.applied);
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

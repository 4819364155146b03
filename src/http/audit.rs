//! `GET /api/v1/audit`: read-only; there is no route that edits or deletes an entry.

use actix_web::{get, web};

use crate::dto::Problem;
use crate::dto::audit::{AuditList, ListAudit};
use crate::error::AppError;
use crate::service::audit as svc;

use super::AppState;
use super::auth::MaybeCaller;
use super::extract::ApiQuery;

/// Audit entries (oldest first) for the organizations whose admin or staff you are (all of
/// them for operators): every create, update and delete of centres, funded projects,
/// payments, engagements and memberships, with who, when, and the record before and after.
#[utoipa::path(
    tag = "audit",
    security(("bearer" = [])),
    params(ListAudit),
    responses(
        (status = 200, body = AuditList),
        (status = 403, description = "Not an admin or staff member of the organization(s)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/audit")]
pub async fn list(
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    ApiQuery(q): ApiQuery<ListAudit>,
) -> Result<web::Json<AuditList>, AppError> {
    Ok(web::Json(svc::list(&state.db, caller.as_ref(), q).await?))
}

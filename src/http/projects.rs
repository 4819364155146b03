//! `/api/v1/funded-projects`: funded projects and their payments.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};

use crate::dto::projects::{
    CreateFundedProject, CreatePayment, FundedProject, FundedProjectList, ListFundedProjects,
    Payment, PaymentList, UpdateFundedProject, UpdatePayment,
};
use crate::dto::{Problem, ReadParams};
use crate::error::AppError;
use crate::service::lifecycle;
use crate::service::projects as svc;

use super::AppState;
use super::auth::MaybeCaller;
use super::extract::{
    ApiJson, ApiQuery, IfMatch, PathId, PathPaymentId, conditional_get, versioned,
};

/// Create a funded project (the performing university's admins and staff).
#[utoipa::path(
    tag = "funded-projects",
    security(("bearer" = [])),
    request_body = CreateFundedProject,
    responses(
        (status = 201, body = FundedProject, headers(("Location" = String), ("ETag" = String))),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/funded-projects")]
pub async fn create(
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    ApiJson(body): ApiJson<CreateFundedProject>,
) -> Result<HttpResponse, AppError> {
    let created = svc::create(&state.db, caller.as_ref(), body).await?;
    let mut res = HttpResponse::Created();
    res.insert_header((
        header::LOCATION,
        format!("/api/v1/funded-projects/{}", created.value.id),
    ));
    Ok(versioned(res, &created))
}

/// List the funded projects the caller may see, oldest first.
#[utoipa::path(
    tag = "funded-projects",
    // Open to anyone; a bearer token, if sent, must be valid.
    security((), ("bearer" = [])),
    params(ListFundedProjects),
    responses(
        (status = 200, body = FundedProjectList),
        (status = 401, description = "`include_deleted` without a valid token (or a bad token)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`include_deleted` by someone who is not a platform operator", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/funded-projects")]
pub async fn list(
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    ApiQuery(q): ApiQuery<ListFundedProjects>,
) -> Result<web::Json<FundedProjectList>, AppError> {
    Ok(web::Json(svc::list(&state.db, caller.as_ref(), q).await?))
}

/// Get a funded project (404 if the caller may not see it).
#[utoipa::path(
    tag = "funded-projects",
    // Open to anyone; a bearer token, if sent, must be valid.
    security((), ("bearer" = [])),
    params(("id" = String, Path, description = "Project id"), ReadParams),
    responses(
        (status = 200, body = FundedProject, headers(("ETag" = String))),
        (status = 304, description = "Not modified"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`include_deleted` without a valid token (or a bad token)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`include_deleted` by someone who is not a platform operator", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/funded-projects/{id}")]
pub async fn get_one(
    req: HttpRequest,
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    PathId(id): PathId,
    ApiQuery(read): ApiQuery<ReadParams>,
) -> Result<HttpResponse, AppError> {
    Ok(conditional_get(
        &req,
        &svc::get(&state.db, caller.as_ref(), id, read.include_deleted()).await?,
    ))
}

/// Update a funded project, including its status (proposed → negotiating → active →
/// completed | terminated); requires `If-Match`.
#[utoipa::path(
    tag = "funded-projects",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Project id"), ("If-Match" = String, Header, description = "The ETag from your last read")),
    request_body = UpdateFundedProject,
    responses(
        (status = 200, body = FundedProject, headers(("ETag" = String))),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Status transition not allowed (the problem names the allowed next states)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/funded-projects/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    PathId(id): PathId,
    IfMatch(precondition): IfMatch,
    ApiJson(body): ApiJson<UpdateFundedProject>,
) -> Result<HttpResponse, AppError> {
    let updated = svc::update(&state.db, caller.as_ref(), id, precondition, body).await?;
    Ok(versioned(HttpResponse::Ok(), &updated))
}

/// Delete a funded project (soft: operators can restore it).
#[utoipa::path(
    tag = "funded-projects",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Project id"), ("If-Match" = Option<String>, Header, description = "Only delete this version")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/funded-projects/{id}")]
pub async fn remove(
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    PathId(id): PathId,
    IfMatch(precondition): IfMatch,
) -> Result<HttpResponse, AppError> {
    lifecycle::PROJECTS
        .delete(&state.db, caller.as_ref(), id, precondition)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Restore a deleted funded project (platform operators).
#[utoipa::path(
    tag = "funded-projects",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Project id")),
    responses(
        (status = 200, body = FundedProject),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/funded-projects/{id}/restore")]
pub async fn restore(
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    PathId(id): PathId,
) -> Result<HttpResponse, AppError> {
    let restored = lifecycle::PROJECTS
        .restore(&state.db, caller.as_ref(), id)
        .await?;
    Ok(versioned(HttpResponse::Ok(), &restored))
}

/// Schedule or record a payment (in the project's currency).
#[utoipa::path(
    tag = "funded-projects",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Project id")),
    request_body = CreatePayment,
    responses(
        (status = 201, body = Payment, headers(("ETag" = String))),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid payment, e.g. another currency than the project's", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/funded-projects/{id}/payments")]
pub async fn add_payment(
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    PathId(id): PathId,
    ApiJson(body): ApiJson<CreatePayment>,
) -> Result<HttpResponse, AppError> {
    let created = svc::add_payment(&state.db, caller.as_ref(), id, body).await?;
    Ok(versioned(HttpResponse::Created(), &created))
}

/// The project's payments with totals (its participants only).
#[utoipa::path(
    tag = "funded-projects",
    // Open to anyone; a bearer token, if sent, must be valid.
    security((), ("bearer" = [])),
    params(("id" = String, Path, description = "Project id")),
    responses(
        (status = 200, body = PaymentList),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/funded-projects/{id}/payments")]
pub async fn payments(
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    PathId(id): PathId,
) -> Result<web::Json<PaymentList>, AppError> {
    Ok(web::Json(
        svc::payments(&state.db, caller.as_ref(), id).await?,
    ))
}

/// One payment, with the `ETag` that updating or deleting it checks (its project's
/// participants only).
#[utoipa::path(
    tag = "funded-projects",
    // Open to anyone (who then sees only what a participant may); a bearer token, if sent,
    // must be valid.
    security((), ("bearer" = [])),
    params(("id" = String, Path, description = "Project id"), ("payment_id" = String, Path, description = "Payment id")),
    responses(
        (status = 200, body = Payment, headers(("ETag" = String))),
        (status = 304, description = "Not modified"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/funded-projects/{id}/payments/{payment_id}")]
pub async fn get_payment(
    req: HttpRequest,
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    PathId(id): PathId,
    PathPaymentId(payment): PathPaymentId,
) -> Result<HttpResponse, AppError> {
    let found = svc::payment(&state.db, caller.as_ref(), id, payment).await?;
    Ok(conditional_get(&req, &found))
}

/// Update a payment (e.g. mark it received); requires `If-Match`.
#[utoipa::path(
    tag = "funded-projects",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Project id"), ("payment_id" = String, Path, description = "Payment id"), ("If-Match" = String, Header, description = "The payment's ETag")),
    request_body = UpdatePayment,
    responses(
        (status = 200, body = Payment, headers(("ETag" = String))),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/funded-projects/{id}/payments/{payment_id}")]
pub async fn update_payment(
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    PathId(id): PathId,
    PathPaymentId(payment): PathPaymentId,
    IfMatch(precondition): IfMatch,
    ApiJson(body): ApiJson<UpdatePayment>,
) -> Result<HttpResponse, AppError> {
    let updated =
        svc::update_payment(&state.db, caller.as_ref(), id, payment, precondition, body).await?;
    Ok(versioned(HttpResponse::Ok(), &updated))
}

/// Delete a payment (for good: payments are not soft-deleted; cancel one to keep a record).
#[utoipa::path(
    tag = "funded-projects",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Project id"), ("payment_id" = String, Path, description = "Payment id"), ("If-Match" = Option<String>, Header, description = "Only delete this version")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/funded-projects/{id}/payments/{payment_id}")]
pub async fn delete_payment(
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    PathId(id): PathId,
    PathPaymentId(payment): PathPaymentId,
    IfMatch(precondition): IfMatch,
) -> Result<HttpResponse, AppError> {
    svc::delete_payment(&state.db, caller.as_ref(), id, payment, precondition).await?;
    Ok(HttpResponse::NoContent().finish())
}

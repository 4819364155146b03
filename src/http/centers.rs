//! `/api/v1/centers`: joint lab centres.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};

use crate::dto::centers::{Center, CenterList, CreateCenter, ListCenters, UpdateCenter};
use crate::dto::search::RefreshParams;
use crate::dto::{Problem, ReadParams};
use crate::error::AppError;
use crate::service::centers as svc;
use crate::service::lifecycle;

use super::AppState;
use super::auth::MaybeCaller;
use super::extract::{ApiJson, ApiQuery, IfMatch, PathId, conditional_get, versioned};
use super::refresh::settle;

/// Create a centre (the host university's admins and staff).
#[utoipa::path(
    tag = "centers",
    security(("bearer" = [])),
    params(RefreshParams),
    request_body = CreateCenter,
    responses(
        (status = 201, body = Center, headers(("Location" = String), ("ETag" = String))),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/centers")]
pub async fn create(
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    ApiJson(body): ApiJson<CreateCenter>,
    ApiQuery(refresh): ApiQuery<RefreshParams>,
) -> Result<HttpResponse, AppError> {
    let created = svc::create(&state.db, caller.as_ref(), body).await?;
    let mut res = HttpResponse::Created();
    res.insert_header((
        header::LOCATION,
        format!("/api/v1/centers/{}", created.value.id),
    ));
    settle(&state, refresh, versioned(res, &created)).await
}

/// List the centres the caller may see, oldest first.
#[utoipa::path(
    tag = "centers",
    // Open to anyone; a bearer token, if sent, must be valid.
    security((), ("bearer" = [])),
    params(ListCenters),
    responses(
        (status = 200, body = CenterList),
        (status = 401, description = "`include_deleted` without a valid token (or a bad token)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`include_deleted` by someone who is not a platform operator", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/centers")]
pub async fn list(
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    ApiQuery(q): ApiQuery<ListCenters>,
) -> Result<web::Json<CenterList>, AppError> {
    Ok(web::Json(svc::list(&state.db, caller.as_ref(), q).await?))
}

/// Get a centre (404 if the caller may not see it).
#[utoipa::path(
    tag = "centers",
    // Open to anyone; a bearer token, if sent, must be valid.
    security((), ("bearer" = [])),
    params(("id" = String, Path, description = "Centre id"), ReadParams),
    responses(
        (status = 200, body = Center, headers(("ETag" = String))),
        (status = 304, description = "Not modified"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`include_deleted` without a valid token (or a bad token)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`include_deleted` by someone who is not a platform operator", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/centers/{id}")]
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

/// Update a centre, including its status (planned → active → renewing ⇄ active, any → closed);
/// requires `If-Match`.
#[utoipa::path(
    tag = "centers",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Centre id"), ("If-Match" = String, Header, description = "The ETag from your last read"), RefreshParams),
    request_body = UpdateCenter,
    responses(
        (status = 200, body = Center, headers(("ETag" = String))),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Status transition not allowed (the problem names the allowed next states)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/centers/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    PathId(id): PathId,
    IfMatch(precondition): IfMatch,
    ApiJson(body): ApiJson<UpdateCenter>,
    ApiQuery(refresh): ApiQuery<RefreshParams>,
) -> Result<HttpResponse, AppError> {
    let updated = svc::update(&state.db, caller.as_ref(), id, precondition, body).await?;
    settle(&state, refresh, versioned(HttpResponse::Ok(), &updated)).await
}

/// Delete a centre (soft: operators can restore it).
#[utoipa::path(
    tag = "centers",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Centre id"), ("If-Match" = Option<String>, Header, description = "Only delete this version"), RefreshParams),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/centers/{id}")]
pub async fn remove(
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    PathId(id): PathId,
    IfMatch(precondition): IfMatch,
    ApiQuery(refresh): ApiQuery<RefreshParams>,
) -> Result<HttpResponse, AppError> {
    lifecycle::CENTERS
        .delete(&state.db, caller.as_ref(), id, precondition)
        .await?;
    settle(&state, refresh, HttpResponse::NoContent().finish()).await
}

/// Restore a deleted centre (platform operators).
#[utoipa::path(
    tag = "centers",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Centre id"), RefreshParams),
    responses(
        (status = 200, body = Center),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/centers/{id}/restore")]
pub async fn restore(
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    PathId(id): PathId,
    ApiQuery(refresh): ApiQuery<RefreshParams>,
) -> Result<HttpResponse, AppError> {
    let restored = lifecycle::CENTERS
        .restore(&state.db, caller.as_ref(), id)
        .await?;
    settle(&state, refresh, versioned(HttpResponse::Ok(), &restored)).await
}

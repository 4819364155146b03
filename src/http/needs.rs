//! `/api/v1/needs`: companies' project needs, and invitations to them.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};

use crate::dto::needs::{
    CreateNeed, Invitation, InviteFaculty, ListNeeds, Need, NeedList, UpdateNeed,
};
use crate::dto::{Problem, ReadParams};
use crate::error::AppError;
use crate::service::lifecycle;
use crate::service::needs as svc;

use super::AppState;
use super::auth::MaybeCaller;
use super::extract::{
    ApiJson, ApiQuery, IfMatch, PathFacultyId, PathId, conditional_get, versioned,
};
use super::refresh::settle;
use crate::dto::search::RefreshParams;

/// Create a need (the company's admins and staff).
#[utoipa::path(
    tag = "needs",
    security(("bearer" = [])),
    params(RefreshParams),
    request_body = CreateNeed,
    responses(
        (status = 201, body = Need, headers(("Location" = String), ("ETag" = String))),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/needs")]
pub async fn create(
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    ApiJson(body): ApiJson<CreateNeed>,
    ApiQuery(refresh): ApiQuery<RefreshParams>,
) -> Result<HttpResponse, AppError> {
    let created = svc::create(&state.db, caller.as_ref(), body).await?;
    let mut res = HttpResponse::Created();
    res.insert_header((
        header::LOCATION,
        format!("/api/v1/needs/{}", created.value.id),
    ));
    settle(&state, refresh, versioned(res, &created)).await
}

/// List the needs the caller may see, oldest first.
#[utoipa::path(
    tag = "needs",
    // Open to anyone; a bearer token, if sent, must be valid.
    security((), ("bearer" = [])),
    params(ListNeeds),
    responses(
        (status = 200, body = NeedList),
        (status = 401, description = "`include_deleted` without a valid token (or a bad token)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`include_deleted` by someone who is not a platform operator", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/needs")]
pub async fn list(
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    ApiQuery(q): ApiQuery<ListNeeds>,
) -> Result<web::Json<NeedList>, AppError> {
    Ok(web::Json(svc::list(&state.db, caller.as_ref(), q).await?))
}

/// Get a need (404 if the caller may not see it).
#[utoipa::path(
    tag = "needs",
    // Open to anyone; a bearer token, if sent, must be valid.
    security((), ("bearer" = [])),
    params(("id" = String, Path, description = "Need id"), ReadParams),
    responses(
        (status = 200, body = Need, headers(("ETag" = String))),
        (status = 304, description = "Not modified"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`include_deleted` without a valid token (or a bad token)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`include_deleted` by someone who is not a platform operator", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/needs/{id}")]
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

/// Update a need, including its status (draft → open → closed | awarded); requires `If-Match`.
#[utoipa::path(
    tag = "needs",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Need id"), ("If-Match" = String, Header, description = "The ETag from your last read"), RefreshParams),
    request_body = UpdateNeed,
    responses(
        (status = 200, body = Need, headers(("ETag" = String))),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Status transition not allowed", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/needs/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    PathId(id): PathId,
    IfMatch(precondition): IfMatch,
    ApiJson(body): ApiJson<UpdateNeed>,
    ApiQuery(refresh): ApiQuery<RefreshParams>,
) -> Result<HttpResponse, AppError> {
    let updated = svc::update(&state.db, caller.as_ref(), id, precondition, body).await?;
    settle(&state, refresh, versioned(HttpResponse::Ok(), &updated)).await
}

/// Delete a need (soft: operators can restore it).
#[utoipa::path(
    tag = "needs",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Need id"), ("If-Match" = Option<String>, Header, description = "Only delete this version"), RefreshParams),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/needs/{id}")]
pub async fn remove(
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    PathId(id): PathId,
    IfMatch(precondition): IfMatch,
    ApiQuery(refresh): ApiQuery<RefreshParams>,
) -> Result<HttpResponse, AppError> {
    lifecycle::NEEDS
        .delete(&state.db, caller.as_ref(), id, precondition)
        .await?;
    settle(&state, refresh, HttpResponse::NoContent().finish()).await
}

/// Restore a deleted need (platform operators).
#[utoipa::path(
    tag = "needs",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Need id"), RefreshParams),
    responses(
        (status = 200, body = Need),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/needs/{id}/restore")]
pub async fn restore(
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    PathId(id): PathId,
    ApiQuery(refresh): ApiQuery<RefreshParams>,
) -> Result<HttpResponse, AppError> {
    let restored = lifecycle::NEEDS
        .restore(&state.db, caller.as_ref(), id)
        .await?;
    settle(&state, refresh, versioned(HttpResponse::Ok(), &restored)).await
}

/// Invite a faculty profile to a need: its owner may then see it, even when confidential.
#[utoipa::path(
    tag = "needs",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Need id"), RefreshParams),
    request_body = InviteFaculty,
    responses(
        (status = 201, description = "Invited", body = Invitation),
        (status = 200, description = "Already invited", body = Invitation),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The engagement with this professor is in a state that cannot be invited", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/needs/{id}/invitations")]
pub async fn invite(
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    PathId(id): PathId,
    ApiJson(body): ApiJson<InviteFaculty>,
    ApiQuery(refresh): ApiQuery<RefreshParams>,
) -> Result<HttpResponse, AppError> {
    let (created, inv) = svc::invite(&state.db, caller.as_ref(), id, body).await?;
    settle(
        &state,
        refresh,
        if created {
            HttpResponse::Created().json(inv)
        } else {
            HttpResponse::Ok().json(inv)
        },
    )
    .await
}

/// The need's invitations (the company's admins and staff).
#[utoipa::path(
    tag = "needs",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Need id")),
    responses(
        (status = 200, body = Vec<Invitation>),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/needs/{id}/invitations")]
pub async fn invitations(
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    PathId(id): PathId,
) -> Result<web::Json<Vec<Invitation>>, AppError> {
    Ok(web::Json(
        svc::invitations(&state.db, caller.as_ref(), id).await?,
    ))
}

/// Withdraw an invitation: the professor no longer sees a confidential need.
#[utoipa::path(
    tag = "needs",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Need id"), ("faculty_id" = String, Path, description = "Profile id"), RefreshParams),
    responses(
        (status = 204, description = "Withdrawn"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The engagement has gone past the invitation", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/needs/{id}/invitations/{faculty_id}")]
pub async fn uninvite(
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    PathId(id): PathId,
    PathFacultyId(faculty_id): PathFacultyId,
    ApiQuery(refresh): ApiQuery<RefreshParams>,
) -> Result<HttpResponse, AppError> {
    svc::uninvite(&state.db, caller.as_ref(), id, faculty_id).await?;
    settle(&state, refresh, HttpResponse::NoContent().finish()).await
}

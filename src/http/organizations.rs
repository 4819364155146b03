//! `/api/v1/organizations`: universities, companies, government bodies and foundations.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};

use crate::dto::Problem;
use crate::dto::organizations::{
    CreateOrganization, ListOrganizations, Organization, OrganizationList, UpdateOrganization,
};
use crate::error::AppError;
use crate::service::organizations as svc;

use super::AppState;
use super::auth::MaybeCaller;
use super::extract::{ApiJson, ApiQuery, IfMatch, PathId, conditional_get, versioned};

/// Create an organization (platform operators only).
#[utoipa::path(
    tag = "organizations",
    security(("bearer" = [])),
    request_body = CreateOrganization,
    responses(
        (status = 201, description = "Created; `Location` names it and `ETag` versions it", body = Organization,
         headers(("Location" = String), ("ETag" = String))),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/organizations")]
pub async fn create(
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    ApiJson(body): ApiJson<CreateOrganization>,
) -> Result<HttpResponse, AppError> {
    let created = svc::create(&state.db, caller.as_ref(), body).await?;
    let mut res = HttpResponse::Created();
    res.insert_header((
        header::LOCATION,
        format!("/api/v1/organizations/{}", created.value.id),
    ));
    Ok(versioned(res, &created))
}

/// List organizations, oldest first, with cursor pagination.
#[utoipa::path(
    tag = "organizations",
    params(ListOrganizations),
    responses(
        (status = 200, body = OrganizationList),
        (status = 400, description = "Bad query parameter", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/organizations")]
pub async fn list(
    state: web::Data<AppState>,
    ApiQuery(query): ApiQuery<ListOrganizations>,
) -> Result<web::Json<OrganizationList>, AppError> {
    Ok(web::Json(svc::list(&state.db, query).await?))
}

/// Get one organization.
#[utoipa::path(
    tag = "organizations",
    params(("id" = String, Path, description = "Organization id")),
    responses(
        (status = 200, body = Organization, headers(("ETag" = String))),
        (status = 304, description = "Not modified (If-None-Match matched)"),
        (status = 400, description = "Malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organization", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/organizations/{id}")]
pub async fn get_one(
    req: HttpRequest,
    state: web::Data<AppState>,
    PathId(id): PathId,
) -> Result<HttpResponse, AppError> {
    let found = svc::get(&state.db, id).await?;
    Ok(conditional_get(&req, &found))
}

/// Update an organization (its admins and operators; merge-patch; requires `If-Match`; only operators change `kind`).
#[utoipa::path(
    tag = "organizations",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "Organization id"),
        ("If-Match" = String, Header, description = "The ETag from your last read"),
    ),
    request_body = UpdateOrganization,
    responses(
        (status = 200, body = Organization, headers(("ETag" = String))),
        (status = 400, description = "Malformed JSON, id or header", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed (a change of `kind` by anyone but an operator included)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organization", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A change of `kind` while members or records depend on the present kind (`roles_do_not_fit`, `kind_in_use`)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since you read it", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/organizations/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    PathId(id): PathId,
    IfMatch(precondition): IfMatch,
    ApiJson(body): ApiJson<UpdateOrganization>,
) -> Result<HttpResponse, AppError> {
    let updated = svc::update(&state.db, caller.as_ref(), id, precondition, body).await?;
    Ok(versioned(HttpResponse::Ok(), &updated))
}

/// Delete an organization (operators only; soft: kept for reports; `If-Match` optional).
#[utoipa::path(
    tag = "organizations",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "Organization id"),
        ("If-Match" = Option<String>, Header, description = "Only delete this version"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organization", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since you read it", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/organizations/{id}")]
pub async fn remove(
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    PathId(id): PathId,
    IfMatch(precondition): IfMatch,
) -> Result<HttpResponse, AppError> {
    svc::delete(&state.db, caller.as_ref(), id, precondition).await?;
    Ok(HttpResponse::NoContent().finish())
}

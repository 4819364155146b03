//! `/api/v1/organizations/{id}/members`: who belongs to an organization, in which role.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::dto::Problem;
use crate::dto::accounts::{AddMember, AddedMember, Member, MemberList, UpdateMember};
use crate::error::AppError;
use crate::service::accounts as svc;

use super::AppState;
use super::auth::MaybeCaller;
use super::extract::{ApiJson, ApiQuery, IfMatch, PathId, PathUserId, conditional_get, versioned};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListMembers {
    /// Page size, 1-100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// List an organization's members (its members and operators).
#[utoipa::path(
    tag = "members",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Organization id"), ListMembers),
    responses(
        (status = 200, body = MemberList),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/organizations/{id}/members")]
pub async fn list(
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    PathId(id): PathId,
    ApiQuery(q): ApiQuery<ListMembers>,
) -> Result<web::Json<MemberList>, AppError> {
    Ok(web::Json(
        svc::list_members(&state.db, caller.as_ref(), id, q.limit, q.cursor).await?,
    ))
}

/// Add a member directly (platform operators only: the bootstrap path; everyone else invites
/// with `POST /organizations/{id}/invitations`). If no account exists for the email, one is
/// created and its one-time password returned once.
#[utoipa::path(
    tag = "members",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Organization id")),
    request_body = AddMember,
    responses(
        (status = 201, body = AddedMember, headers(("Location" = String), ("ETag" = String))),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already a member", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/organizations/{id}/members")]
pub async fn add(
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    PathId(id): PathId,
    ApiJson(body): ApiJson<AddMember>,
) -> Result<HttpResponse, AppError> {
    let added = svc::add_member(
        &state.db,
        state.auth.clone(),
        caller.as_ref(),
        id.clone(),
        body,
    )
    .await?;
    let mut res = HttpResponse::Created();
    res.insert_header((
        header::LOCATION,
        format!(
            "/api/v1/organizations/{id}/members/{}",
            added.value.member.user_id
        ),
    ));
    Ok(versioned(res, &added))
}

/// One member, with the `ETag` that changing its role or removing it checks (same visibility
/// as the member list).
#[utoipa::path(
    tag = "members",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "Organization id"),
        ("user_id" = String, Path, description = "The member's user id"),
    ),
    responses(
        (status = 200, body = Member, headers(("ETag" = String))),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/organizations/{id}/members/{user_id}")]
pub async fn get_one(
    req: HttpRequest,
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    PathId(id): PathId,
    PathUserId(user_id): PathUserId,
) -> Result<HttpResponse, AppError> {
    let found = svc::get_member(&state.db, caller.as_ref(), id, user_id).await?;
    Ok(conditional_get(&req, &found))
}

/// Change a member's role (requires `If-Match`).
#[utoipa::path(
    tag = "members",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "Organization id"),
        ("user_id" = String, Path, description = "The member's user id"),
        ("If-Match" = String, Header, description = "The member's ETag"),
    ),
    request_body = UpdateMember,
    responses(
        (status = 200, body = Member, headers(("ETag" = String))),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Would leave no admin", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/organizations/{id}/members/{user_id}")]
pub async fn update(
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    PathId(id): PathId,
    PathUserId(user_id): PathUserId,
    IfMatch(precondition): IfMatch,
    ApiJson(body): ApiJson<UpdateMember>,
) -> Result<HttpResponse, AppError> {
    let updated = svc::update_member(
        &state.db,
        caller.as_ref(),
        id,
        user_id,
        precondition,
        body.role,
    )
    .await?;
    Ok(versioned(HttpResponse::Ok(), &updated))
}

/// Remove a member (`If-Match` optional).
#[utoipa::path(
    tag = "members",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "Organization id"),
        ("user_id" = String, Path, description = "The member's user id"),
        ("If-Match" = Option<String>, Header, description = "Only remove this version"),
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Would leave no admin", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/organizations/{id}/members/{user_id}")]
pub async fn remove(
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    PathId(id): PathId,
    PathUserId(user_id): PathUserId,
    IfMatch(precondition): IfMatch,
) -> Result<HttpResponse, AppError> {
    svc::remove_member(&state.db, caller.as_ref(), id, user_id, precondition).await?;
    Ok(HttpResponse::NoContent().finish())
}

//! Invitations to join an organization: `/api/v1/organizations/{id}/invitations` for those who
//! manage its members, `/api/v1/me/invitations` for the invited account.

use actix_web::{HttpResponse, delete, get, post, web};

use crate::dto::Problem;
use crate::dto::invitations::{
    InviteMember, ListInvitations, MemberInvitation, MemberInvitationList,
};
use crate::error::AppError;
use crate::service::invitations as svc;

use super::AppState;
use super::auth::{AuthCaller, MaybeCaller};
use super::extract::{ApiJson, ApiQuery, PathId, PathInvitationId};

/// Invite an email address to join (the organization's admins and operators). The answer is
/// the same whether or not an account exists for the address; its account joins only by
/// accepting, and an address without an account keeps the invitation until one is created.
#[utoipa::path(
    tag = "members",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Organization id")),
    request_body = InviteMember,
    responses(
        (status = 201, body = MemberInvitation),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already a member, or already invited", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/organizations/{id}/invitations")]
pub async fn invite(
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    PathId(id): PathId,
    ApiJson(body): ApiJson<InviteMember>,
) -> Result<HttpResponse, AppError> {
    let created = svc::invite(&state.db, caller.as_ref(), lifetime(&state), id, body).await?;
    Ok(HttpResponse::Created().json(created))
}

/// An organization's invitations, oldest first (its admins and operators).
#[utoipa::path(
    tag = "members",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Organization id"), ListInvitations),
    responses(
        (status = 200, body = MemberInvitationList),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/organizations/{id}/invitations")]
pub async fn list_invitations(
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    PathId(id): PathId,
    ApiQuery(q): ApiQuery<ListInvitations>,
) -> Result<web::Json<MemberInvitationList>, AppError> {
    Ok(web::Json(
        svc::list(&state.db, caller.as_ref(), lifetime(&state), id, q).await?,
    ))
}

/// Revoke a pending invitation (the organization's admins and operators; 409 once answered).
#[utoipa::path(
    tag = "members",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "Organization id"),
        ("invitation_id" = String, Path, description = "Invitation id"),
    ),
    responses(
        (status = 204, description = "Revoked"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already accepted, declined or revoked", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/organizations/{id}/invitations/{invitation_id}")]
pub async fn revoke(
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    PathId(id): PathId,
    PathInvitationId(invitation): PathInvitationId,
) -> Result<HttpResponse, AppError> {
    svc::revoke(&state.db, caller.as_ref(), lifetime(&state), id, invitation).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The caller's pending invitations (those to the caller's email address).
#[utoipa::path(
    tag = "members",
    security(("bearer" = [])),
    responses(
        (status = 200, body = MemberInvitationList),
    )
)]
#[get("/me/invitations")]
pub async fn mine(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
) -> Result<web::Json<MemberInvitationList>, AppError> {
    Ok(web::Json(
        svc::mine(&state.db, &caller, lifetime(&state)).await?,
    ))
}

/// Accept one of the caller's invitations: the caller becomes a member in its role.
#[utoipa::path(
    tag = "members",
    security(("bearer" = [])),
    params(("invitation_id" = String, Path, description = "Invitation id")),
    responses(
        (status = 200, body = MemberInvitation),
        (status = 404, description = "No such invitation to the caller", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already answered or revoked, or already a member", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/me/invitations/{invitation_id}/accept")]
pub async fn accept(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    PathInvitationId(invitation): PathInvitationId,
) -> Result<web::Json<MemberInvitation>, AppError> {
    Ok(web::Json(
        svc::accept(&state.db, &caller, lifetime(&state), invitation).await?,
    ))
}

/// Decline one of the caller's invitations; nothing else changes.
#[utoipa::path(
    tag = "members",
    security(("bearer" = [])),
    params(("invitation_id" = String, Path, description = "Invitation id")),
    responses(
        (status = 200, body = MemberInvitation),
        (status = 404, description = "No such invitation to the caller", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already answered or revoked", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/me/invitations/{invitation_id}/decline")]
pub async fn decline(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    PathInvitationId(invitation): PathInvitationId,
) -> Result<web::Json<MemberInvitation>, AppError> {
    Ok(web::Json(
        svc::decline(&state.db, &caller, lifetime(&state), invitation).await?,
    ))
}

/// How long invitations can be answered (`invitation_lifetime_days`).
fn lifetime(state: &AppState) -> svc::Lifetime {
    svc::Lifetime::days(state.settings.invitation_lifetime_days)
}

//! `/api/v1/engagements`: companies and professors working towards a collaboration on a need.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};

use crate::dto::Problem;
use crate::dto::engagements::{
    CreateEngagement, Engagement, EngagementList, ListEngagements, Transition,
};
use crate::dto::search::RefreshParams;
use crate::error::AppError;
use crate::service::engagements as svc;

use super::AppState;
use super::auth::MaybeCaller;
use super::extract::{ApiJson, ApiQuery, IfMatch, PathId, conditional_get, versioned};
use super::refresh::settle;

/// Start an engagement for a need and a faculty profile.
///
/// `shortlisted` or `invited` by the need's company; `interested` by the profile's owner, for
/// a need they can see: answered alike whether or not the company shortlisted them (a
/// shortlist the caller may not see gives way to a new engagement that keeps its history for
/// the company).
#[utoipa::path(
    tag = "engagements",
    security(("bearer" = [])),
    params(RefreshParams),
    request_body = CreateEngagement,
    responses(
        (status = 201, body = Engagement, headers(("Location" = String), ("ETag" = String))),
        (status = 200, description = "Interest from someone who sees the company's shortlist (an operator) moved it to `interested`", body = Engagement, headers(("ETag" = String))),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The need or profile is not one the caller may see", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "An engagement for the pair exists, or the need is not open", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/engagements")]
pub async fn create(
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    ApiJson(body): ApiJson<CreateEngagement>,
    ApiQuery(refresh): ApiQuery<RefreshParams>,
) -> Result<HttpResponse, AppError> {
    let (created, engagement) = svc::create(&state.db, caller.as_ref(), body).await?;
    let res = if created {
        let mut res = HttpResponse::Created();
        res.insert_header((
            header::LOCATION,
            format!("/api/v1/engagements/{}", engagement.value.id),
        ));
        res
    } else {
        HttpResponse::Ok()
    };
    settle(&state, refresh, versioned(res, &engagement)).await
}

/// List the engagements the caller may see, oldest first, each with its history.
///
/// The need's company sees all of its needs' engagements; a professor those of their profiles
/// once invited or interested (not a shortlist), and so does the industry-liaison office
/// (admins and staff) of the profile's university; operators all.
#[utoipa::path(
    tag = "engagements",
    security(("bearer" = [])),
    params(ListEngagements),
    responses(
        (status = 200, body = EngagementList),
    )
)]
#[get("/engagements")]
pub async fn list(
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    ApiQuery(q): ApiQuery<ListEngagements>,
) -> Result<web::Json<EngagementList>, AppError> {
    Ok(web::Json(svc::list(&state.db, caller.as_ref(), q).await?))
}

/// Get an engagement with its history (404 if the caller may not see it).
#[utoipa::path(
    tag = "engagements",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Engagement id")),
    responses(
        (status = 200, body = Engagement, headers(("ETag" = String))),
        (status = 304, description = "Not modified"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/engagements/{id}")]
pub async fn get_one(
    req: HttpRequest,
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    PathId(id): PathId,
) -> Result<HttpResponse, AppError> {
    Ok(conditional_get(
        &req,
        &svc::get(&state.db, caller.as_ref(), id).await?,
    ))
}

/// Move an engagement to its next state; requires `If-Match`.
///
/// A move the workflow does not have is 409, with `current_state` and `allowed_next_states`
/// in the problem; a move that is the other side's to make is 403. `reason_code` only with
/// `declined`.
#[utoipa::path(
    tag = "engagements",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Engagement id"), ("If-Match" = String, Header, description = "The ETag from your last read"), RefreshParams),
    request_body = Transition,
    responses(
        (status = 200, body = Engagement, headers(("ETag" = String))),
        (status = 403, description = "The move is the other side's to make", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not a move from the current state (the problem names `current_state` and `allowed_next_states`), or the need is not open", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/engagements/{id}/transitions")]
pub async fn transition(
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    PathId(id): PathId,
    IfMatch(precondition): IfMatch,
    ApiJson(body): ApiJson<Transition>,
    ApiQuery(refresh): ApiQuery<RefreshParams>,
) -> Result<HttpResponse, AppError> {
    let moved = svc::transition(&state.db, caller.as_ref(), id, precondition, body).await?;
    settle(&state, refresh, versioned(HttpResponse::Ok(), &moved)).await
}

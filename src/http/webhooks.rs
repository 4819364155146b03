//! An organization's webhook endpoints, their deliveries and replays (its admins and
//! operators).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};

use crate::dto::Problem;
use crate::dto::webhooks::{
    Endpoint, EndpointList, EndpointPatch, ListDeliveries, ListPage, NewEndpoint, WebhookDelivery,
    WebhookDeliveryList,
};
use crate::error::AppError;
use crate::service::notifications::webhooks as svc;

use super::AppState;
use super::auth::MaybeCaller;
use super::extract::{
    ApiJson, ApiQuery, IfMatch, PathDeliveryId, PathId, conditional_get, versioned,
};

/// Register a webhook endpoint of an organization (its admins and operators). Every event
/// of a subscribed type that the organization may read is delivered to it, signed by the
/// Standard Webhooks rules, and retried on failure; see docs/notifications.md.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Organization id")),
    request_body = NewEndpoint,
    responses(
        (status = 201, body = Endpoint, headers(("ETag" = String), ("Location" = String))),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The organization has 20 endpoints already", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/organizations/{id}/webhooks")]
pub async fn create(
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    PathId(id): PathId,
    ApiJson(body): ApiJson<NewEndpoint>,
) -> Result<HttpResponse, AppError> {
    let e = svc::create(&state.db, &state.settings, caller.as_ref(), id, body).await?;
    let mut res = HttpResponse::Created();
    res.insert_header((header::LOCATION, format!("/api/v1/webhooks/{}", e.value.id)));
    Ok(versioned(res, &e))
}

/// An organization's webhook endpoints, oldest first.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Organization id"), ListPage),
    responses(
        (status = 200, body = EndpointList),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/organizations/{id}/webhooks")]
pub async fn list(
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    PathId(id): PathId,
    ApiQuery(q): ApiQuery<ListPage>,
) -> Result<web::Json<EndpointList>, AppError> {
    Ok(web::Json(
        svc::list(&state.db, caller.as_ref(), id, q).await?,
    ))
}

/// One webhook endpoint (with its secret).
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Endpoint id")),
    responses(
        (status = 200, body = Endpoint, headers(("ETag" = String))),
        (status = 304, description = "Not modified"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/webhooks/{id}")]
pub async fn get_one(
    req: HttpRequest,
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    PathId(id): PathId,
) -> Result<HttpResponse, AppError> {
    let e = svc::get(&state.db, caller.as_ref(), id).await?;
    Ok(conditional_get(&req, &e))
}

/// Change an endpoint (`If-Match` required): its URL, event types, description, or
/// `enabled` (true turns a disabled endpoint back on and its pending deliveries go out).
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Endpoint id"), ("If-Match" = String, Header, description = "The ETag from your last read")),
    request_body = EndpointPatch,
    responses(
        (status = 200, body = Endpoint, headers(("ETag" = String))),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 412, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 428, body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/webhooks/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    PathId(id): PathId,
    IfMatch(precondition): IfMatch,
    ApiJson(body): ApiJson<EndpointPatch>,
) -> Result<HttpResponse, AppError> {
    let e = svc::update(
        &state.db,
        &state.settings,
        caller.as_ref(),
        id,
        precondition,
        body,
    )
    .await?;
    Ok(versioned(HttpResponse::Ok(), &e))
}

/// Delete an endpoint: nothing more is delivered to it.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Endpoint id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/webhooks/{id}")]
pub async fn remove(
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    PathId(id): PathId,
) -> Result<HttpResponse, AppError> {
    svc::delete(&state.db, caller.as_ref(), id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// An endpoint's deliveries, newest first, each with its attempts (status, latency, the
/// start of the answer).
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Endpoint id"), ListDeliveries),
    responses(
        (status = 200, body = WebhookDeliveryList),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/webhooks/{id}/deliveries")]
pub async fn deliveries(
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    PathId(id): PathId,
    ApiQuery(q): ApiQuery<ListDeliveries>,
) -> Result<web::Json<WebhookDeliveryList>, AppError> {
    Ok(web::Json(
        svc::deliveries(&state.db, caller.as_ref(), id, q).await?,
    ))
}

/// Send a delivered or failed delivery again, at once, with the same `webhook-id` and the
/// whole retry schedule ahead of it (409 while it is still pending, or while the endpoint is
/// disabled).
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "Endpoint id"),
        ("delivery_id" = String, Path, description = "Delivery id"),
    ),
    responses(
        (status = 202, body = WebhookDelivery),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/webhooks/{id}/deliveries/{delivery_id}/replay")]
pub async fn replay(
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    PathId(id): PathId,
    PathDeliveryId(delivery): PathDeliveryId,
) -> Result<HttpResponse, AppError> {
    let d = svc::replay(&state.db, caller.as_ref(), id, delivery).await?;
    Ok(HttpResponse::Accepted().json(d))
}

//! Who is calling: bearer-token extractors, and the authentication endpoints.

use std::future::Future;
use std::pin::Pin;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, get, post, web};

use crate::dto::Problem;
use crate::dto::accounts::{ChangePassword, Login, Me, RefreshRequest, TokenPair};
use crate::error::AppError;
use crate::service::accounts as svc;
use crate::service::policy::Caller;

use super::AppState;
use super::extract::ApiJson;

/// The caller if a bearer token was sent. A token that is sent but invalid is a 401, never a
/// silent downgrade to anonymous.
pub struct MaybeCaller(pub Option<Caller>);

impl FromRequest for MaybeCaller {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let header = req
            .headers()
            .get(header::AUTHORIZATION)
            .map(|v| v.to_str().map(str::to_owned));
        Box::pin(async move {
            let Some(header) = header else {
                return Ok(MaybeCaller(None));
            };
            let state = state.ok_or_else(|| AppError::internal("application state missing"))?;
            let header =
                header.map_err(|_| AppError::unauthenticated("non-ASCII Authorization"))?;
            let token = header
                .strip_prefix("Bearer ")
                .or_else(|| header.strip_prefix("bearer "))
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .ok_or_else(|| AppError::unauthenticated("Authorization is not a bearer token"))?;
            let claims = state.auth.keys.verify(token)?;
            let caller = svc::load_caller(&state.db, claims.sub).await?;
            Ok(MaybeCaller(Some(caller)))
        })
    }
}

/// A caller that must be authenticated (401 otherwise).
pub struct AuthCaller(pub Caller);

impl FromRequest for AuthCaller {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let inner = MaybeCaller::from_request(req, payload);
        Box::pin(async move {
            inner
                .await?
                .0
                .map(AuthCaller)
                .ok_or_else(|| AppError::unauthenticated("no credentials"))
        })
    }
}

/// Refuses a call without an `Authorization` header to an operation that the OpenAPI document
/// says needs a bearer token, before anything else of the request is read. Handlers check
/// their caller too, but only after their extractors have read the path, headers and body:
/// a stranger got 400 or 422 about input to an operation they may not call at all, where the
/// document (and a client) expects 401.
pub async fn require_bearer(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let refuse = !req.headers().contains_key(header::AUTHORIZATION)
        && req.app_data::<web::Data<AppState>>().is_some_and(|state| {
            req.match_pattern().is_some_and(|template| {
                state
                    .routes
                    .requires_bearer(req.method().as_str(), &template)
            })
        });
    if refuse {
        let res = AppError::unauthenticated("no credentials").error_response();
        return Ok(req.into_response(res));
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_boxed_body)
}

/// The client address used for login throttling: the TCP peer (forwarding headers are not
/// trusted, since any client can set them).
fn client_address(req: &HttpRequest) -> String {
    req.peer_addr()
        .map_or_else(|| "unknown".to_owned(), |a| a.ip().to_string())
}

/// Log in with email and password.
#[utoipa::path(
    tag = "auth",
    request_body = Login,
    responses(
        (status = 200, body = TokenPair),
        (status = 401, description = "Wrong email or password", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failures; see Retry-After", body = Problem, content_type = "application/problem+json",
         headers(("Retry-After" = u64))),
    )
)]
#[post("/auth/login")]
pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    ApiJson(body): ApiJson<Login>,
) -> Result<web::Json<TokenPair>, AppError> {
    let pair = svc::login(
        &state.db,
        state.auth.clone(),
        body.email,
        body.password,
        client_address(&req),
    )
    .await?;
    Ok(web::Json(pair))
}

/// Exchange a refresh token for a new pair (the old refresh token stops working; reusing it
/// revokes every token of that login).
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, body = TokenPair),
        (status = 401, description = "Unknown, expired, reused or revoked refresh token", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    ApiJson(body): ApiJson<RefreshRequest>,
) -> Result<web::Json<TokenPair>, AppError> {
    Ok(web::Json(
        svc::refresh(&state.db, state.auth.clone(), body.refresh_token).await?,
    ))
}

/// Log out: revokes the refresh token and every token rotated from the same login.
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    responses((status = 204, description = "Logged out"))
)]
#[post("/auth/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    ApiJson(body): ApiJson<RefreshRequest>,
) -> Result<HttpResponse, AppError> {
    svc::logout(&state.db, body.refresh_token).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The caller's account and memberships.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, body = Me),
    )
)]
#[get("/me")]
pub async fn me(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
) -> Result<web::Json<Me>, AppError> {
    Ok(web::Json(svc::me(&state.db, &caller).await?))
}

/// Change the caller's password (ends the caller's other sessions at their next refresh).
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    request_body = ChangePassword,
    responses(
        (status = 204, description = "Changed"),
        (status = 422, description = "Wrong current password or weak new one", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many wrong current passwords; see Retry-After", body = Problem, content_type = "application/problem+json",
         headers(("Retry-After" = u64))),
    )
)]
#[post("/me/password")]
pub async fn change_password(
    req: HttpRequest,
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    ApiJson(body): ApiJson<ChangePassword>,
) -> Result<HttpResponse, AppError> {
    svc::change_password(
        &state.db,
        state.auth.clone(),
        &caller,
        body.current_password,
        body.new_password,
        client_address(&req),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

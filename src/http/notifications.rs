//! The caller's notifications, what they receive, and their saved alerts.

use actix_web::{HttpResponse, delete, get, post, put, web};

use crate::dto::Problem;
use crate::dto::notifications::{
    Alert, AlertHitList, AlertList, ListAlertHits, ListNotifications, MarkRead, MarkedRead,
    NewAlert, Notification, NotificationList, NotificationSettings,
};
use crate::error::AppError;
use crate::service::notifications::{self as svc, alerts};

use super::AppState;
use super::auth::AuthCaller;
use super::extract::{ApiJson, ApiQuery, PathId};

/// The caller's notifications, newest first, with how many are unread. An event reaches
/// those it concerns (the organizations of its record, the professor of an engagement,
/// the owner of a saved alert) who may read its record, within a few seconds.
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    params(ListNotifications),
    responses(
        (status = 200, body = NotificationList),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/notifications")]
pub async fn list(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    ApiQuery(q): ApiQuery<ListNotifications>,
) -> Result<web::Json<NotificationList>, AppError> {
    Ok(web::Json(svc::list(&state.db, &caller, q).await?))
}

/// Mark one notification read (idempotent).
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Notification id")),
    responses(
        (status = 200, body = Notification),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/notifications/{id}/read")]
pub async fn mark_one(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    PathId(id): PathId,
) -> Result<web::Json<Notification>, AppError> {
    Ok(web::Json(svc::mark_one(&state.db, &caller, id).await?))
}

/// Mark every unread notification read, or those up to and including `up_to`.
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    request_body = MarkRead,
    responses(
        (status = 200, body = MarkedRead),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/notifications/read")]
pub async fn mark_all(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    ApiJson(body): ApiJson<MarkRead>,
) -> Result<web::Json<MarkedRead>, AppError> {
    Ok(web::Json(svc::mark_all(&state.db, &caller, body).await?))
}

/// What the caller receives: each type of event and how.
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    responses(
        (status = 200, body = NotificationSettings),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/notification-settings")]
pub async fn settings(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
) -> Result<web::Json<NotificationSettings>, AppError> {
    Ok(web::Json(svc::settings(&state.db, &caller).await?))
}

/// Replace what the caller receives (a type left out is delivered in the app).
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    request_body = NotificationSettings,
    responses(
        (status = 200, body = NotificationSettings),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/notification-settings")]
pub async fn set_settings(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    ApiJson(body): ApiJson<NotificationSettings>,
) -> Result<web::Json<NotificationSettings>, AppError> {
    let mail = svc::mail::MailConfig::from_settings(&state.settings);
    Ok(web::Json(
        svc::set_settings(&state.db, &mail, &caller, body).await?,
    ))
}

/// Stop e-mail from the link in a mail (RFC 8058 one-click; no sign-in): every type the
/// account received by e-mail is delivered in the app only. Unknown tokens are 404.
#[utoipa::path(
    tag = "notifications",
    params(("token" = String, Path, description = "The token of the mail's unsubscribe link")),
    responses(
        (status = 200, description = "Unsubscribed (HTML, for a browser)", content_type = "text/html"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/unsubscribe/{token}")]
pub async fn unsubscribe(
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    svc::mail::unsubscribe(&state.db, token.into_inner()).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(UNSUBSCRIBED))
}

/// The page the unsubscribe link opens: a button that confirms (a link alone changes
/// nothing, so that a mail scanner that follows links does not unsubscribe anyone).
#[utoipa::path(
    tag = "notifications",
    params(("token" = String, Path, description = "The token of the mail's unsubscribe link")),
    responses(
        (status = 200, description = "A confirmation form (HTML)", content_type = "text/html"),
    )
)]
#[get("/unsubscribe/{token}")]
pub async fn unsubscribe_page(token: web::Path<String>) -> HttpResponse {
    let token: String = token
        .into_inner()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .take(64)
        .collect();
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(CONFIRM.replace("{token}", &token))
}

const CONFIRM: &str = "<!doctype html><html><head><meta charset=\"utf-8\"><title>Liaison</title></head><body>\
<form method=\"post\" action=\"/api/v1/unsubscribe/{token}\">\
<p>Stop e-mail from Liaison? · Liaison 이메일 수신을 중단할까요? · 停止接收 Liaison 電子郵件？</p>\
<button type=\"submit\">Unsubscribe · 수신 거부 · 取消訂閱</button></form></body></html>";

const UNSUBSCRIBED: &str = "<!doctype html><html><head><meta charset=\"utf-8\"><title>Liaison</title></head><body>\
<p>You will receive no more e-mail from Liaison; your notifications stay in the app. · \
더 이상 이메일을 보내지 않습니다. 알림은 앱에서 볼 수 있습니다. · 您將不再收到電子郵件；通知仍可在應用程式中查看。</p></body></html>";

/// Save an alert: a search, profiles for one of the caller's company's needs, or needs for a
/// profile the caller may edit. Records are checked against it as they change (from now on).
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    request_body = NewAlert,
    responses(
        (status = 201, body = Alert, headers(("Location" = String, description = "The alert"))),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such need or profile the caller may see", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The account keeps 100 alerts already", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/alerts")]
pub async fn create_alert(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    ApiJson(body): ApiJson<NewAlert>,
) -> Result<HttpResponse, AppError> {
    let alert = alerts::create(&state.db, &state.search, &caller, body).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/alerts/{}", alert.id)))
        .json(alert))
}

/// The caller's saved alerts, oldest first.
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    responses(
        (status = 200, body = AlertList),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/alerts")]
pub async fn list_alerts(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
) -> Result<web::Json<AlertList>, AppError> {
    Ok(web::Json(alerts::list(&state.db, &caller).await?))
}

/// One of the caller's alerts.
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Alert id")),
    responses(
        (status = 200, body = Alert),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/alerts/{id}")]
pub async fn get_alert(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    PathId(id): PathId,
) -> Result<web::Json<Alert>, AppError> {
    Ok(web::Json(alerts::get(&state.db, &caller, id).await?))
}

/// What one of the caller's alerts has found, newest first: every record, where its
/// notifications list the best few of each batch.
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Alert id"), ListAlertHits),
    responses(
        (status = 200, body = AlertHitList),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/alerts/{id}/hits")]
pub async fn alert_hits(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    PathId(id): PathId,
    ApiQuery(q): ApiQuery<ListAlertHits>,
) -> Result<web::Json<AlertHitList>, AppError> {
    Ok(web::Json(alerts::hits(&state.db, &caller, id, q).await?))
}

/// Delete one of the caller's alerts.
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Alert id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/alerts/{id}")]
pub async fn delete_alert(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    PathId(id): PathId,
) -> Result<HttpResponse, AppError> {
    alerts::delete(&state.db, &caller, id).await?;
    Ok(HttpResponse::NoContent().finish())
}

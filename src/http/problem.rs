//! problem+json rendering (RFC 9457): for our own errors, for responses produced by actix
//! itself (router, payload limits), and the fallback route that tells 404 from 405.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::ServiceResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::dto::Problem;
use crate::error::{AppError, ErrorCode};

use super::AppState;

pub const PROBLEM_JSON: &str = "application/problem+json";

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        if let Some(cause) = &self.cause {
            if self.code.status() >= 500 {
                tracing::error!(code = %self.code, cause = %cause, "request failed");
            } else {
                tracing::warn!(code = %self.code, cause = %cause, "request refused");
            }
        }
        let mut res = problem_with(
            self.code,
            &self.detail,
            &self.errors,
            self.extensions.as_deref(),
        );
        for (name, value) in &self.headers {
            if let (Ok(n), Ok(v)) = (
                header::HeaderName::try_from(*name),
                HeaderValue::from_str(value),
            ) {
                res.headers_mut().insert(n, v);
            }
        }
        res
    }
}

/// Builds a problem response for a code.
pub fn problem_response(
    code: ErrorCode,
    detail: &str,
    errors: &[crate::error::FieldError],
) -> HttpResponse {
    problem_with(code, detail, errors, None::<()>)
}

/// Builds a problem response with extension members (e.g. readiness checks) merged in.
pub fn problem_with(
    code: ErrorCode,
    detail: &str,
    errors: &[crate::error::FieldError],
    extension: Option<impl Serialize>,
) -> HttpResponse {
    let problem = Problem {
        type_: format!("/problems/{}", code.as_str()),
        title: code.title().to_owned(),
        status: code.status(),
        detail: detail.to_owned(),
        code: code.as_str().to_owned(),
        errors: errors.to_vec(),
    };
    let mut body = serde_json::to_value(&problem).unwrap_or_default();
    let ext = extension.and_then(|e| serde_json::to_value(e).ok());
    if let (Some(serde_json::Value::Object(ext)), Some(obj)) = (ext, body.as_object_mut()) {
        for (k, v) in ext {
            obj.entry(k).or_insert(v);
        }
    }
    let status = StatusCode::from_u16(code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    HttpResponse::build(status)
        .content_type(PROBLEM_JSON)
        .body(body.to_string())
}

/// Rewrites any error response that is not already problem+json (actix's own 404s, 405s,
/// 413s, extractor errors and so on) into one, keeping its status and headers. 5xx bodies are
/// replaced wholesale so that nothing internal leaks.
pub fn ensure_problem(res: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    let status = res.status();
    // The web app's pages answer errors as pages of their own, in the visitor's language.
    let accept = res
        .request()
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok());
    let web_page = crate::web::answers_with_page(res.request().path(), accept)
        && res
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/html"));
    if status.as_u16() < 400 || is_problem(res.headers()) || web_page {
        return res;
    }
    let code = ErrorCode::for_status(status.as_u16());
    let detail = if code == ErrorCode::Internal {
        code.title().to_owned()
    } else {
        status
            .canonical_reason()
            .unwrap_or_else(|| code.title())
            .to_owned()
    };
    let (req, old) = res.into_parts();
    let mut new = problem_response(code, &detail, &[]);
    *new.status_mut() = status;
    for (name, value) in old.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            new.headers_mut().insert(name.clone(), value.clone());
        }
    }
    ServiceResponse::new(req, new.map_into_boxed_body())
}

fn is_problem(headers: &header::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_JSON))
}

/// The default service: a path that exists under another method is a 405 with `Allow`,
/// anything else a 404.
pub async fn fallback(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let allowed = state
        .routes
        .allowed_methods(req.path())
        .filter(|m| !m.iter().any(|m| m == req.method().as_str()));
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok());
    let page = crate::web::answers_with_page(req.path(), accept);
    let error = match allowed {
        Some(methods) if page => return crate::web::wrong_method(&req, &state, &methods).await,
        Some(methods) => AppError::new(
            ErrorCode::MethodNotAllowed,
            format!(
                "{} is not supported here; allowed: {}",
                req.method(),
                methods.join(", ")
            ),
        )
        .with_header("allow", methods.join(", ")),
        None => {
            if page
                && matches!(
                    *req.method(),
                    actix_web::http::Method::GET | actix_web::http::Method::HEAD
                )
            {
                return crate::web::not_found(&req, &state).await;
            }
            AppError::new(ErrorCode::NotFound, "No resource at this address")
        }
    };
    error.error_response()
}

/// What a problem type means, so that a problem's `type` URI resolves to something useful.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemType {
    pub code: String,
    pub status: u16,
    pub title: String,
}

/// Describe a problem type.
#[utoipa::path(
    tag = "operations",
    params(("code" = String, Path, description = "A problem code, e.g. `validation_failed`")),
    responses(
        (status = 200, description = "The problem type", body = ProblemType),
        (status = 404, description = "No such problem type", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/problems/{code}")]
pub async fn problem_type(code: web::Path<String>) -> Result<web::Json<ProblemType>, AppError> {
    ErrorCode::ALL
        .iter()
        .find(|c| c.as_str() == code.as_str())
        .map(|c| {
            web::Json(ProblemType {
                code: c.as_str().to_owned(),
                status: c.status(),
                title: c.title().to_owned(),
            })
        })
        .ok_or_else(|| AppError::not_found("Problem type"))
}

/// Lets generic middleware treat any body uniformly.
pub fn boxed<B: MessageBody + 'static>(res: ServiceResponse<B>) -> ServiceResponse<BoxBody> {
    res.map_into_boxed_body()
}

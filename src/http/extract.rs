//! Request extractors that turn every kind of bad input into a precise problem: JSON bodies
//! (content type, size, syntax, per-field data errors), query strings, ids in paths and
//! `If-Match` preconditions.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use actix_web::http::header::{self, HeaderMap};
use actix_web::web::BytesMut;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use futures_util::StreamExt;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::domain::PublicId;
use crate::error::{AppError, ErrorCode, FieldCode, FieldError};
use crate::service::{Precondition, Versioned};

use super::AppState;

/// A JSON request body. Unlike `web::Json` it reports *which* field is wrong.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for ApiJson<T> {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req
            .app_data::<web::Data<AppState>>()
            .map_or(1024 * 1024, |s| s.settings.max_body_bytes);
        let content_type_ok = is_json(req.headers());
        let declared_len = content_length(req);
        let payload = payload.take();
        Box::pin(async move {
            if !content_type_ok {
                return Err(AppError::new(
                    ErrorCode::UnsupportedMediaType,
                    "The request body must be JSON (Content-Type: application/json)",
                ));
            }
            let body = read_body(payload, declared_len, limit).await?;
            crate::dto::json::parse(&body).map(ApiJson)
        })
    }
}

/// Reads a whole body, refusing (413) as soon as it is known to exceed `limit`: from the
/// declared `Content-Length`, or while streaming a chunked body.
pub async fn read_body(
    mut payload: Payload,
    declared_len: Option<usize>,
    limit: usize,
) -> Result<BytesMut, AppError> {
    if declared_len.is_some_and(|n| n > limit) {
        return Err(too_large(limit));
    }
    // Sized once from the declared length (at most the limit): growing by doubling copied
    // the body several times and held up to twice its size.
    let mut body = BytesMut::with_capacity(declared_len.unwrap_or(0).min(limit));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| match e {
            // The body's deadline passed (see `timeout`).
            PayloadError::Io(e) if e.kind() == std::io::ErrorKind::TimedOut => AppError::new(
                ErrorCode::RequestTimeout,
                "The request body did not arrive in time",
            ),
            e => AppError::new(ErrorCode::BadRequest, "The request body could not be read")
                .with_cause(e),
        })?;
        if body.len() + chunk.len() > limit {
            return Err(too_large(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The declared `Content-Length`, if any.
pub fn content_length(req: &HttpRequest) -> Option<usize> {
    req.headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
}

/// The media type of the body, lower-cased, without parameters.
pub fn media_type(req: &HttpRequest) -> String {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

fn too_large(limit: usize) -> AppError {
    AppError::new(
        ErrorCode::PayloadTooLarge,
        format!("The request body is larger than the limit of {limit} bytes"),
    )
}

fn is_json(headers: &HeaderMap) -> bool {
    let Some(ct) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// A query string, deserialized with the offending parameter named on error (400).
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned> FromRequest for ApiQuery<T> {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(
            req.query_string().as_bytes(),
        ));
        std::future::ready(
            serde_path_to_error::deserialize(de)
                .map(ApiQuery)
                .map_err(|e| {
                    let path = e.path().to_string();
                    let fe = crate::dto::json::field_error(&path, &e.into_inner().to_string());
                    let fe = if fe.field == "body" {
                        FieldError {
                            field: "query".into(),
                            ..fe
                        }
                    } else {
                        fe
                    };
                    AppError::query(vec![fe])
                }),
        )
    }
}

/// Reads the id in the path parameter `name` (`{id}`, `{user_id}`, …): 400 `invalid_path`
/// naming the parameter unless it is one of our ids.
fn path_id(req: &HttpRequest, name: &str) -> Result<String, AppError> {
    PublicId::parse(req.match_info().get(name).unwrap_or("")).ok_or_else(|| {
        AppError::new(
            ErrorCode::InvalidPath,
            format!(
                "The {} in the path is not a valid id",
                name.replace('_', " ")
            ),
        )
        .with_errors(vec![FieldError::new(
            name,
            FieldCode::InvalidId,
            "must be a UUID",
        )])
    })
}

/// Declares an extractor for the id in one path parameter; the type names the parameter, so
/// a handler reads each id of its path the same way.
macro_rules! path_ids {
    ($($(#[$doc:meta])* $extractor:ident = $name:literal;)+) => {$(
        $(#[$doc])*
        pub struct $extractor(pub String);

        impl FromRequest for $extractor {
            type Error = AppError;
            type Future = std::future::Ready<Result<Self, AppError>>;

            fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
                std::future::ready(path_id(req, $name).map($extractor))
            }
        }
    )+};
}

path_ids! {
    /// The id in a resource path (`/organizations/{id}`), checked to be one of our ids.
    PathId = "id";
    /// `{user_id}`: a member's user id (`/organizations/{id}/members/{user_id}`).
    PathUserId = "user_id";
    /// `{invitation_id}`: an invitation to join an organization.
    PathInvitationId = "invitation_id";
    /// `{faculty_id}`: a profile invited to a need (`/needs/{id}/invitations/{faculty_id}`).
    PathFacultyId = "faculty_id";
    /// `{payment_id}`: a payment of a funded project.
    PathPaymentId = "payment_id";
    /// `{delivery_id}`: a delivery of a webhook endpoint.
    PathDeliveryId = "delivery_id";
}

/// The `If-Match` precondition of a write.
pub struct IfMatch(pub Precondition);

impl FromRequest for IfMatch {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(parse_if_match(req.headers()).map(IfMatch))
    }
}

fn parse_if_match(headers: &HeaderMap) -> Result<Precondition, AppError> {
    let values: Vec<&str> = headers
        .get_all(header::IF_MATCH)
        .map(|v| v.to_str())
        .collect::<Result<_, _>>()
        .map_err(|_| bad_if_match())?;
    if values.is_empty() {
        return Ok(Precondition::None);
    }
    let mut versions = Vec::new();
    for tag in values.iter().flat_map(|v| v.split(',')).map(str::trim) {
        if tag == "*" {
            return Ok(Precondition::Any);
        }
        // If-Match uses strong comparison: a weak tag never matches (RFC 9110 13.1.1).
        if let Some(rest) = tag.strip_prefix("W/") {
            if !is_quoted(rest) {
                return Err(bad_if_match());
            }
            continue;
        }
        if !is_quoted(tag) {
            return Err(bad_if_match());
        }
        // A well-formed tag that is not one of ours simply never matches.
        if let Ok(v) = tag[1..tag.len() - 1].parse::<i64>() {
            versions.push(v);
        }
    }
    Ok(Precondition::Versions(versions))
}

fn is_quoted(tag: &str) -> bool {
    tag.len() >= 2
        && tag.starts_with('"')
        && tag.ends_with('"')
        && !tag[1..tag.len() - 1].contains('"')
}

fn bad_if_match() -> AppError {
    AppError::new(
        ErrorCode::InvalidHeader,
        "If-Match must be `*` or a list of quoted entity tags such as \"3\"",
    )
    .with_errors(vec![FieldError::new(
        "If-Match",
        FieldCode::InvalidHeader,
        "malformed entity tag",
    )])
}

/// The strong entity tag of a version.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// A JSON response carrying the resource's `ETag`.
pub fn versioned<T: Serialize>(
    mut builder: actix_web::HttpResponseBuilder,
    v: &Versioned<T>,
) -> HttpResponse {
    builder
        .insert_header((header::ETAG, etag(v.version)))
        .json(&v.value)
}

/// Answers a GET: 304 when `If-None-Match` names the current version, else 200 with the body.
pub fn conditional_get<T: Serialize>(req: &HttpRequest, v: &Versioned<T>) -> HttpResponse {
    let current = etag(v.version);
    let matches = req
        .headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|h| h.to_str().ok())
        .flat_map(|h| h.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == "*" || t == current);
    if matches {
        HttpResponse::NotModified()
            .insert_header((header::ETAG, current))
            .finish()
    } else {
        versioned(HttpResponse::Ok(), v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        n: Option<i32>,
    }

    #[test]
    fn json_errors_name_the_field() {
        let Err(e) = crate::dto::json::parse::<Body>(br#"{"name": 1}"#) else {
            panic!("must be refused")
        };
        assert_eq!(
            (
                e.code,
                e.errors[0].field.as_str(),
                e.errors[0].code.as_str()
            ),
            (ErrorCode::ValidationFailed, "name", "invalid_type")
        );
        let Err(e) = crate::dto::json::parse::<Body>(br#"{}"#) else {
            panic!("must be refused")
        };
        assert_eq!(
            (e.errors[0].field.as_str(), e.errors[0].code.as_str()),
            ("name", "required")
        );
        let Err(e) = crate::dto::json::parse::<Body>(br#"{"name": "x", "nmae": 2}"#) else {
            panic!("must be refused")
        };
        assert_eq!(
            (e.errors[0].field.as_str(), e.errors[0].code.as_str()),
            ("nmae", "unknown_field")
        );
        assert_eq!(
            crate::dto::json::parse::<Body>(br#"{"name": "#)
                .err()
                .map(|e| e.code),
            Some(ErrorCode::MalformedJson)
        );
        assert_eq!(
            crate::dto::json::parse::<Body>(br#"{"name": "x"} x"#)
                .err()
                .map(|e| e.code),
            Some(ErrorCode::MalformedJson)
        );
        assert_eq!(
            crate::dto::json::parse::<Body>(b"").err().map(|e| e.code),
            Some(ErrorCode::MalformedJson)
        );
    }

    #[test]
    fn if_match_parsing() -> Result<(), Box<dyn std::error::Error>> {
        let mut h = HeaderMap::new();
        assert_eq!(parse_if_match(&h)?, Precondition::None);
        h.insert(header::IF_MATCH, "\"3\", W/\"4\", \"abc\"".parse()?);
        assert_eq!(parse_if_match(&h)?, Precondition::Versions(vec![3]));
        h.insert(header::IF_MATCH, "*".parse()?);
        assert_eq!(parse_if_match(&h)?, Precondition::Any);
        h.insert(header::IF_MATCH, "3".parse()?);
        assert!(parse_if_match(&h).is_err());
        Ok(())
    }
}

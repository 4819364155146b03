//! Security headers on every response the application produces (errors included): no MIME
//! sniffing, no framing, a content security policy, and no storing of anything that was
//! asked for with credentials or that a write answered (tokens above all).

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::middleware::Next;

use super::problem::boxed;

/// For everything but the docs page: JSON, CSV and problems are never rendered as a page, so
/// they may load nothing and be framed by nobody.
const API_POLICY: &str =
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// For `/docs/` (Swagger UI, served from the binary): its scripts and styles are files of
/// its own (the configuration too, `swagger-initializer.js`: no inline script), it fetches
/// the spec and tries requests on this origin, its icons are `data:` images in its CSS, and
/// React sets inline `style` attributes. Nothing from another origin, never framed.
const DOCS_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; \
base-uri 'none'; form-action 'none'";

/// For the web app's pages (`crate::web`): its own stylesheet, no script, forms posting to
/// this origin only, never framed.
const WEB_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

pub async fn secure(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let docs = req.path() == "/docs" || req.path().starts_with("/docs/");
    let web = crate::web::answers_with_page(
        req.path(),
        req.headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok()),
    );
    // Only an anonymous read may be kept by a browser or proxy: an answer to a request with
    // credentials is that caller's, and a write's answer may carry secrets (login's and
    // refresh's tokens, an added member's one-time password).
    let storable = matches!(*req.method(), Method::GET | Method::HEAD)
        && !req.headers().contains_key(header::AUTHORIZATION);
    // `observe` turns every error into a response, except one from inside the routing
    // machinery, which has no request left to answer with (see there).
    let mut res = boxed(next.call(req).await?);
    let headers = res.headers_mut();
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    // The web app's addresses name records (a confidential need's id, a search's words):
    // another site a page links to is never told them.
    set(headers, header::REFERRER_POLICY, "same-origin");
    let policy = match (docs, web) {
        (true, _) => DOCS_POLICY,
        (_, true) => WEB_POLICY,
        _ => API_POLICY,
    };
    set(headers, header::CONTENT_SECURITY_POLICY, policy);
    if !storable && !headers.contains_key(header::CACHE_CONTROL) {
        set(headers, header::CACHE_CONTROL, "no-store");
    }
    Ok(res)
}

fn set(headers: &mut HeaderMap, name: HeaderName, value: &'static str) {
    headers.insert(name, HeaderValue::from_static(value));
}

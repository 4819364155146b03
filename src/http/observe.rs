//! The one middleware every request passes: request id, tracing span, access log, metrics,
//! and the guarantee that every error response is problem+json.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, web};
use tracing::Instrument;

use crate::error::{AppError, ErrorCode};

use super::AppState;
use super::problem::{boxed, ensure_problem};

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The request's id, in request extensions for anything that wants to log it.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

pub async fn observe(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let start = Instant::now();
    let request_id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| is_safe_request_id(v))
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
    req.extensions_mut().insert(RequestId(request_id.clone()));
    // Only standard methods become metric labels; anything else is "OTHER" (bounded series).
    let method = match req.method().as_str() {
        m @ ("GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS") => m.to_owned(),
        _ => "OTHER".to_owned(),
    };
    // HEAD is answered as GET is. The HTTP/1 encoder knows the request on the wire was HEAD:
    // it sends the GET answer's headers, Content-Length included, and leaves the body out.
    if req.method() == actix_web::http::Method::HEAD {
        req.head_mut().method = actix_web::http::Method::GET;
    }
    // The route template, not the raw path, so that metrics have bounded cardinality.
    let route = req
        .match_pattern()
        .unwrap_or_else(|| "<unmatched>".to_owned());
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let span = tracing::info_span!("request", id = %request_id, method = %method, route = %route);

    let res = match next.call(req).instrument(span.clone()).await {
        Ok(res) => boxed(res),
        Err(err) => {
            // Handlers and extractors turn their errors into responses, so this is only reached
            // by an error from inside the routing machinery itself. It has no request left to
            // attach a response to; hand actix a problem-rendering error instead.
            let status = err.as_response_error().status_code().as_u16();
            let code = ErrorCode::for_status(status);
            let error = AppError::new(code, code.title()).with_cause(&err);
            if let Some(state) = &state {
                state
                    .metrics
                    .observe(&method, &route, status, start.elapsed().as_secs_f64());
            }
            span.in_scope(|| tracing::warn!(status, error = %err, "request failed in routing"));
            return Err(error.into());
        }
    };
    let mut res = span.in_scope(|| ensure_problem(res));
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        res.headers_mut().insert(REQUEST_ID, v);
    }
    let status = res.status().as_u16();
    let elapsed = start.elapsed().as_secs_f64();
    if let Some(state) = state {
        state.metrics.observe(&method, &route, status, elapsed);
    }
    span.in_scope(|| {
        tracing::info!(
            status,
            duration_ms = (elapsed * 1000.0 * 1000.0).round() / 1000.0,
            path = %res.request().path(),
            "handled"
        );
    });
    Ok(res)
}

/// An incoming request id is echoed only if it is short and plain, so it cannot inject
/// anything into logs or headers.
fn is_safe_request_id(v: &str) -> bool {
    (1..=64).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Latency histogram bucket bounds, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

#[derive(Debug, Default, Clone)]
struct Series {
    count: u64,
    sum: f64,
    /// Non-cumulative counts per bucket; the last slot is +Inf.
    buckets: [u64; BUCKETS.len() + 1],
}

/// Request counts and latency histograms by method, route and status, rendered in the
/// Prometheus text exposition format.
#[derive(Debug, Default)]
pub struct Metrics {
    series: Mutex<BTreeMap<(String, String, u16), Series>>,
}

impl Metrics {
    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let mut map = self.series.lock().unwrap_or_else(|p| p.into_inner());
        let s = map
            .entry((method.to_owned(), route.to_owned(), status))
            .or_default();
        s.count += 1;
        s.sum += seconds;
        let i = BUCKETS
            .iter()
            .position(|b| seconds <= *b)
            .unwrap_or(BUCKETS.len());
        s.buckets[i] += 1;
    }

    pub fn render(&self) -> String {
        let map = self
            .series
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let mut out = String::new();
        out.push_str("# HELP liaison_http_requests_total HTTP requests handled, by method, route and status.\n");
        out.push_str("# TYPE liaison_http_requests_total counter\n");
        for ((method, route, status), s) in &map {
            let _ = writeln!(
                out,
                "liaison_http_requests_total{{{}}} {}",
                labels(method, route, *status),
                s.count
            );
        }
        out.push_str(
            "# HELP liaison_http_request_duration_seconds Time to handle an HTTP request.\n",
        );
        out.push_str("# TYPE liaison_http_request_duration_seconds histogram\n");
        for ((method, route, status), s) in &map {
            let l = labels(method, route, *status);
            let mut cumulative = 0;
            for (i, bound) in BUCKETS.iter().enumerate() {
                cumulative += s.buckets[i];
                let _ = writeln!(
                    out,
                    "liaison_http_request_duration_seconds_bucket{{{l},le=\"{bound}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                out,
                "liaison_http_request_duration_seconds_bucket{{{l},le=\"+Inf\"}} {}",
                s.count
            );
            let _ = writeln!(
                out,
                "liaison_http_request_duration_seconds_sum{{{l}}} {}",
                s.sum
            );
            let _ = writeln!(
                out,
                "liaison_http_request_duration_seconds_count{{{l}}} {}",
                s.count
            );
        }
        out
    }
}

fn labels(method: &str, route: &str, status: u16) -> String {
    format!(
        "method=\"{}\",route=\"{}\",status=\"{status}\"",
        escape(method),
        escape(route)
    )
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_is_cumulative_and_counts_match() {
        let m = Metrics::default();
        m.observe("GET", "/healthz", 200, 0.0005);
        m.observe("GET", "/healthz", 200, 0.02);
        m.observe("GET", "/healthz", 200, 30.0);
        let text = m.render();
        let l = "method=\"GET\",route=\"/healthz\",status=\"200\"";
        assert!(text.contains(&format!("liaison_http_requests_total{{{l}}} 3")));
        assert!(text.contains(&format!(
            "liaison_http_request_duration_seconds_bucket{{{l},le=\"0.001\"}} 1"
        )));
        assert!(text.contains(&format!(
            "liaison_http_request_duration_seconds_bucket{{{l},le=\"0.025\"}} 2"
        )));
        assert!(text.contains(&format!(
            "liaison_http_request_duration_seconds_bucket{{{l},le=\"5\"}} 2"
        )));
        assert!(text.contains(&format!(
            "liaison_http_request_duration_seconds_bucket{{{l},le=\"+Inf\"}} 3"
        )));
    }

    #[test]
    fn request_ids_are_sanitised() {
        assert!(is_safe_request_id("abc-123_x.y"));
        assert!(!is_safe_request_id("a b"));
        assert!(!is_safe_request_id("x\r\ny"));
        assert!(!is_safe_request_id(&"a".repeat(65)));
    }
}

//! A deadline on request bodies. actix times out slow headers (408) but not a slow body: one
//! trickled a byte every two seconds held its connection, and a worker's attention, for as
//! long as the client liked. Every body must now arrive within `body_timeout_secs`, plus one
//! second per [`MIN_RATE`] bytes received so far (as Apache's mod_reqtimeout does), so a
//! large import over a slow but honest link still gets through while a trickle does not.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::HttpMessage as _;
use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::ConnectionType;
use actix_web::middleware::Next;
use actix_web::web::{self, Bytes};
use futures_util::Stream;
use tokio::time::{Instant, Sleep};

use super::AppState;

/// Bytes per second a body must keep up, beyond the base deadline, to earn more time.
pub const MIN_RATE: u64 = 64 * 1024;

pub async fn body_deadline<B: MessageBody + 'static>(
    mut req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    let allowed = req
        .app_data::<web::Data<AppState>>()
        .map(|s| Duration::from_secs(s.settings.body_timeout_secs));
    if let Some(allowed) = allowed {
        let payload = req.take_payload();
        if matches!(payload, Payload::None) {
            req.set_payload(payload);
        } else {
            let started = Instant::now();
            let deadline = Deadline {
                inner: payload,
                sleep: Box::pin(tokio::time::sleep_until(started + allowed)),
                started,
                allowed,
                received: 0,
                expired: false,
            };
            let stream: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> =
                Box::pin(deadline);
            req.set_payload(Payload::from(stream));
        }
    }
    let mut res = next.call(req).await?;
    // The rest of a timed-out body may still be on its way: it is not read, so the
    // connection cannot carry another request.
    if res.status() == actix_web::http::StatusCode::REQUEST_TIMEOUT {
        res.response_mut()
            .head_mut()
            .set_connection_type(ConnectionType::Close);
    }
    Ok(res)
}

/// The payload, ending in a `TimedOut` error once its deadline passes (`read_body` makes
/// that a 408 problem).
struct Deadline {
    inner: Payload,
    sleep: Pin<Box<Sleep>>,
    started: Instant,
    allowed: Duration,
    received: u64,
    expired: bool,
}

impl Stream for Deadline {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.expired {
            return Poll::Ready(None);
        }
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                this.received += chunk.len() as u64;
                let earned = Duration::from_secs(this.received / MIN_RATE);
                this.sleep
                    .as_mut()
                    .reset(this.started + this.allowed + earned);
                return Poll::Ready(Some(Ok(chunk)));
            }
            Poll::Pending => {}
            done => return done,
        }
        match this.sleep.as_mut().poll(cx) {
            Poll::Ready(()) => {
                this.expired = true;
                Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "the request body did not arrive in time",
                )))))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

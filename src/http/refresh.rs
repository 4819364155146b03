//! Read-your-writes for the endpoints that change indexed records: `refresh=wait_for` makes
//! the answer wait until the change is searchable.

use std::time::Duration;

use actix_web::HttpResponse;
use actix_web::http::header::{HeaderName, HeaderValue};

use crate::dto::search::{Refresh, RefreshParams};
use crate::error::AppError;

use super::AppState;

/// How long `refresh=wait_for` waits at most.
const WAIT_FOR: Duration = Duration::from_secs(10);

/// After a successful write: with `refresh=wait_for`, waits until the change is searchable.
/// Sets `Search-Refresh: done` (or `timeout` when it took longer than 10 s).
pub async fn settle(
    state: &AppState,
    refresh: RefreshParams,
    mut res: HttpResponse,
) -> Result<HttpResponse, AppError> {
    if refresh.refresh == Some(Refresh::WaitFor) && res.status().is_success() {
        // The write has committed: whatever happens while waiting, the answer stays a success.
        let done = match state.search.wait_for_current(WAIT_FOR).await {
            Ok(done) => done,
            Err(e) => {
                tracing::warn!(error = %e, "refresh=wait_for could not wait");
                false
            }
        };
        res.headers_mut().insert(
            HeaderName::from_static("search-refresh"),
            HeaderValue::from_static(if done { "done" } else { "timeout" }),
        );
    }
    Ok(res)
}

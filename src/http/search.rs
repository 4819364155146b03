//! `/api/v1/search`, and read-your-writes for the endpoints that change indexed records.

use std::time::Duration;

use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{HttpResponse, get, web};

use crate::api::Problem;
use crate::api::search::{Refresh, RefreshParams, SearchParams, SearchResults};
use crate::error::AppError;
use crate::service::search as svc;

use super::AppState;
use super::auth::MaybeCaller;
use super::extract::ApiQuery;

/// Search faculty profiles or needs. Only what the caller may see counts anywhere: in hits,
/// `total`, facets and highlights.
#[utoipa::path(
    tag = "search",
    // Open to anyone; a bearer token, if sent, must be valid.
    security((), ("bearer" = [])),
    params(SearchParams),
    responses(
        (status = 200, body = SearchResults),
        (status = 400, description = "Malformed query syntax or parameters", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/search")]
pub async fn search(
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    ApiQuery(params): ApiQuery<SearchParams>,
) -> Result<web::Json<SearchResults>, AppError> {
    Ok(web::Json(
        svc::search(&state.db, &state.search, caller.as_ref(), params).await?,
    ))
}

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

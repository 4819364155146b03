//! `/api/v1/search`: full-text search over faculty profiles and needs.

use actix_web::{get, web};

use crate::dto::Problem;
use crate::dto::search::{SearchParams, SearchResults};
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

//! Matches: `/needs/{id}/matches`, `/faculty/{id}/matches` and `/matches/explain`.

use actix_web::{get, web};

use crate::dto::Problem;
use crate::dto::matching::{
    ExplainParams, FacultyMatchParams, FacultyMatches, NeedMatchParams, NeedMatches,
    PairExplanation,
};
use crate::error::AppError;
use crate::service::matching as svc;

use super::AppState;
use super::auth::MaybeCaller;
use super::extract::{ApiQuery, PathId};

/// Faculty profiles for a need, best first (the first cut's candidates in blocks of 40, each
/// block by score), each with its score (0..1, comparable across needs) and the reasons for
/// it. Only profiles the caller may see are ranked; the need must
/// be visible to the caller.
#[utoipa::path(
    tag = "matching",
    // Open to anyone; a bearer token, if sent, must be valid.
    security((), ("bearer" = [])),
    params(("id" = String, Path, description = "Need id"), NeedMatchParams),
    responses(
        (status = 200, body = FacultyMatches),
        (status = 400, description = "Bad parameters", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such need visible to the caller", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/needs/{id}/matches")]
pub async fn need_matches(
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    PathId(id): PathId,
    ApiQuery(params): ApiQuery<NeedMatchParams>,
) -> Result<web::Json<FacultyMatches>, AppError> {
    Ok(web::Json(
        svc::need_matches(&state.db, &state.search, caller.as_ref(), id, params).await?,
    ))
}

/// Open needs for a faculty profile, best first (in blocks of 40, as a need's matches), among
/// those the caller may see (a
/// confidential need counts once its company invites the professor). Same pair score as the
/// need's matches.
#[utoipa::path(
    tag = "matching",
    // Open to anyone; a bearer token, if sent, must be valid.
    security((), ("bearer" = [])),
    params(("id" = String, Path, description = "Faculty profile id"), FacultyMatchParams),
    responses(
        (status = 200, body = NeedMatches),
        (status = 400, description = "Bad parameters", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such profile visible to the caller", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/faculty/{id}/matches")]
pub async fn faculty_matches(
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    PathId(id): PathId,
    ApiQuery(params): ApiQuery<FacultyMatchParams>,
) -> Result<web::Json<NeedMatches>, AppError> {
    Ok(web::Json(
        svc::faculty_matches(&state.db, &state.search, caller.as_ref(), id, params).await?,
    ))
}

/// One need–profile pair: its score and explanation even when it is in no top list, and
/// why it would not be listed (no shared words, below `min_score`, filtered out, need not
/// open, or the professor cannot see the need). Both must be visible to the caller.
#[utoipa::path(
    tag = "matching",
    // Open to anyone; a bearer token, if sent, must be valid.
    security((), ("bearer" = [])),
    params(ExplainParams),
    responses(
        (status = 200, body = PairExplanation),
        (status = 400, description = "Bad parameters", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Need or profile not visible to the caller", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/matches/explain")]
pub async fn explain(
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    ApiQuery(params): ApiQuery<ExplainParams>,
) -> Result<web::Json<PairExplanation>, AppError> {
    Ok(web::Json(
        svc::explain(&state.db, &state.search, caller.as_ref(), params).await?,
    ))
}

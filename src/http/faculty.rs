//! `/api/v1/faculty`: faculty profiles, and bulk import for liaison offices.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};

use crate::dto::faculty::{
    CreateFacultyProfile, FacultyList, FacultyProfile, ImportQuery, ImportReport, ListFaculty,
    ListSyncJobs, StartSync, SyncJob, SyncJobList, SyncQuery, SyncReport, UpdateFacultyProfile,
};
use crate::dto::{Problem, ReadParams};
use crate::error::{AppError, ErrorCode};
use crate::service::faculty::{self as svc, ImportFormat};
use crate::service::lifecycle;

use super::AppState;
use super::auth::MaybeCaller;
use super::extract::{
    ApiJson, ApiQuery, IfMatch, PathId, conditional_get, content_length, media_type, read_body,
    versioned,
};
use super::refresh::settle;
use crate::dto::search::RefreshParams;

/// Create a faculty profile (the university's admins and staff; a professor for their own;
/// only admins and operators link it to another account with `owner_user_id`).
#[utoipa::path(
    tag = "faculty",
    security(("bearer" = [])),
    params(RefreshParams),
    request_body = CreateFacultyProfile,
    responses(
        (status = 201, body = FacultyProfile, headers(("Location" = String), ("ETag" = String))),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another profile of the university has this `external_id` or ORCID iD", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/faculty")]
pub async fn create(
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    ApiJson(body): ApiJson<CreateFacultyProfile>,
    ApiQuery(refresh): ApiQuery<RefreshParams>,
) -> Result<HttpResponse, AppError> {
    let created = svc::create(&state.db, caller.as_ref(), body).await?;
    let mut res = HttpResponse::Created();
    res.insert_header((
        header::LOCATION,
        format!("/api/v1/faculty/{}", created.value.id),
    ));
    settle(&state, refresh, versioned(res, &created)).await
}

/// List the profiles the caller may see, oldest first.
#[utoipa::path(
    tag = "faculty",
    // Open to anyone; a bearer token, if sent, must be valid.
    security((), ("bearer" = [])),
    params(ListFaculty),
    responses(
        (status = 200, body = FacultyList),
        (status = 401, description = "`include_deleted` without a valid token (or a bad token)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`include_deleted` by someone who is not a platform operator", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/faculty")]
pub async fn list(
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    ApiQuery(q): ApiQuery<ListFaculty>,
) -> Result<web::Json<FacultyList>, AppError> {
    Ok(web::Json(svc::list(&state.db, caller.as_ref(), q).await?))
}

/// Get a profile with its publications (404 if the caller may not see it).
#[utoipa::path(
    tag = "faculty",
    // Open to anyone; a bearer token, if sent, must be valid.
    security((), ("bearer" = [])),
    params(("id" = String, Path, description = "Profile id"), ReadParams),
    responses(
        (status = 200, body = FacultyProfile, headers(("ETag" = String))),
        (status = 304, description = "Not modified"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`include_deleted` without a valid token (or a bad token)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`include_deleted` by someone who is not a platform operator", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/faculty/{id}")]
pub async fn get_one(
    req: HttpRequest,
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    PathId(id): PathId,
    ApiQuery(read): ApiQuery<ReadParams>,
) -> Result<HttpResponse, AppError> {
    Ok(conditional_get(
        &req,
        &svc::get(&state.db, caller.as_ref(), id, read.include_deleted()).await?,
    ))
}

/// Update a profile (merge-patch; requires `If-Match`; only the university's admins and
/// operators change `owner_user_id`).
#[utoipa::path(
    tag = "faculty",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Profile id"), ("If-Match" = String, Header, description = "The ETag from your last read"), RefreshParams),
    request_body = UpdateFacultyProfile,
    responses(
        (status = 200, body = FacultyProfile, headers(("ETag" = String))),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another profile of the university has this `external_id` or ORCID iD", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/faculty/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    PathId(id): PathId,
    IfMatch(precondition): IfMatch,
    ApiJson(body): ApiJson<UpdateFacultyProfile>,
    ApiQuery(refresh): ApiQuery<RefreshParams>,
) -> Result<HttpResponse, AppError> {
    let updated = svc::update(&state.db, caller.as_ref(), id, precondition, body).await?;
    settle(&state, refresh, versioned(HttpResponse::Ok(), &updated)).await
}

/// Delete a profile (soft: operators can restore it).
#[utoipa::path(
    tag = "faculty",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Profile id"), ("If-Match" = Option<String>, Header, description = "Only delete this version"), RefreshParams),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/faculty/{id}")]
pub async fn remove(
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    PathId(id): PathId,
    IfMatch(precondition): IfMatch,
    ApiQuery(refresh): ApiQuery<RefreshParams>,
) -> Result<HttpResponse, AppError> {
    lifecycle::FACULTY
        .delete(&state.db, caller.as_ref(), id, precondition)
        .await?;
    settle(&state, refresh, HttpResponse::NoContent().finish()).await
}

/// Restore a deleted profile (platform operators).
#[utoipa::path(
    tag = "faculty",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Profile id"), RefreshParams),
    responses(
        (status = 200, body = FacultyProfile),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another profile of the university has taken this one's `external_id` or ORCID iD meanwhile", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/faculty/{id}/restore")]
pub async fn restore(
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    PathId(id): PathId,
    ApiQuery(refresh): ApiQuery<RefreshParams>,
) -> Result<HttpResponse, AppError> {
    let restored = lifecycle::FACULTY
        .restore(&state.db, caller.as_ref(), id)
        .await?;
    settle(&state, refresh, versioned(HttpResponse::Ok(), &restored)).await
}

/// Bulk import (upsert by `external_id`, else ORCID iD) from CSV (`text/csv`) or NDJSON
/// (`application/x-ndjson`). Answers with a report for every row.
#[utoipa::path(
    tag = "faculty",
    security(("bearer" = [])),
    params(ImportQuery),
    request_body(content = String, description = "CSV with a header row (columns in docs/api.md) or NDJSON, UTF-8 with or without BOM",
                 content_type = "text/csv"),
    responses(
        (status = 200, description = "Per-row report; valid rows were saved", body = ImportReport),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The file as a whole is unusable (encoding, header)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/faculty/import")]
pub async fn import(
    req: HttpRequest,
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    ApiQuery(q): ApiQuery<ImportQuery>,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let format = match media_type(&req).as_str() {
        "text/csv" => ImportFormat::Csv,
        "application/x-ndjson" | "application/ndjson" | "application/jsonl" => ImportFormat::Ndjson,
        _ => {
            return Err(AppError::new(
                ErrorCode::UnsupportedMediaType,
                "Send text/csv or application/x-ndjson",
            ));
        }
    };
    let body = read_body(
        payload.into_inner(),
        content_length(&req),
        state.settings.max_import_bytes,
    )
    .await?;
    let report = svc::import(
        &state.db,
        caller.as_ref(),
        q.university_id,
        format,
        // The buffer itself, not a copy of it (the service drops it once parsed).
        body.into(),
    )
    .await?;
    let refresh = RefreshParams { refresh: q.refresh };
    settle(&state, refresh, HttpResponse::Ok().json(report)).await
}

/// Sync a profile from ORCID and OpenAlex now (the profile's owner, its university's admins
/// and staff). Fetches each source the profile has an identifier for and merges what
/// answered (see docs/sources.md for the merge rules); a source that fails is reported in
/// the answer and changes nothing.
#[utoipa::path(
    tag = "faculty",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Profile id"), SyncQuery),
    responses(
        (status = 200, description = "What each source gave and what changed", body = SyncReport),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The profile has no identifier for the sources asked for", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "As many syncs as the service runs at once are waiting on the sources; try again after `Retry-After`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/faculty/{id}/sync")]
pub async fn sync(
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    PathId(id): PathId,
    ApiQuery(q): ApiQuery<SyncQuery>,
) -> Result<HttpResponse, AppError> {
    let report = svc::sync::sync_one(
        &state.db,
        state.sources.clone(),
        caller.as_ref(),
        id,
        q.sources.as_deref(),
    )
    .await?;
    let refresh = RefreshParams { refresh: q.refresh };
    settle(&state, refresh, HttpResponse::Ok().json(report)).await
}

/// Sync every profile of a university that has an ORCID iD or OpenAlex id, in the
/// background (the university's admins and staff). Answers at once with the job; poll its
/// `Location` until `state` is `succeeded` or `failed`.
#[utoipa::path(
    tag = "faculty",
    security(("bearer" = [])),
    request_body = StartSync,
    responses(
        (status = 202, description = "Queued; or, while a sync of the university is queued or running, that one", body = SyncJob, headers(("Location" = String))),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/faculty/sync")]
pub async fn start_sync(
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    ApiJson(body): ApiJson<StartSync>,
) -> Result<HttpResponse, AppError> {
    let job = svc::jobs::start(&state.db, &state.sync, caller.as_ref(), body).await?;
    Ok(HttpResponse::Accepted()
        .insert_header((header::LOCATION, format!("/api/v1/sync-jobs/{}", job.id)))
        .json(job))
}

/// The bulk syncs of the universities whose office the caller is in, oldest first (operators:
/// every job, the periodic refresh's included).
#[utoipa::path(
    tag = "faculty",
    security(("bearer" = [])),
    params(ListSyncJobs),
    responses(
        (status = 200, body = SyncJobList),
    )
)]
#[get("/sync-jobs")]
pub async fn list_sync_jobs(
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    ApiQuery(q): ApiQuery<ListSyncJobs>,
) -> Result<web::Json<SyncJobList>, AppError> {
    Ok(web::Json(
        svc::jobs::list(&state.db, caller.as_ref(), q).await?,
    ))
}

/// A bulk sync's progress: counts, the first failures, and its state.
#[utoipa::path(
    tag = "faculty",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Job id")),
    responses(
        (status = 200, body = SyncJob),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/sync-jobs/{id}")]
pub async fn get_sync_job(
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    PathId(id): PathId,
) -> Result<web::Json<SyncJob>, AppError> {
    Ok(web::Json(
        svc::jobs::get(&state.db, caller.as_ref(), id).await?,
    ))
}

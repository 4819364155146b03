//! `/api/v1/compute`: shared compute resources, the allocations applied for on them, and the
//! scheduler usage charged to those allocations.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};

use crate::dto::Problem;
use crate::dto::compute::{
    Allocation, AllocationList, AllocationTransition, ComputeResource, ComputeResourceList,
    CreateAllocation, CreateComputeResource, HeldAllocationList, ListAllocations,
    ListComputeResources, ReadComputeResource, RenewAllocation, UpdateAllocation,
    UpdateComputeResource, UsageImportQuery, UsageImportReport,
};
use crate::error::{AppError, ErrorCode};
use crate::service::compute as svc;

use super::AppState;
use super::auth::MaybeCaller;
use super::extract::{
    ApiJson, ApiQuery, IfMatch, PathId, conditional_get, content_length, media_type, read_body,
    versioned,
};

fn created<T: serde::Serialize>(
    path: &str,
    id: &str,
    value: &crate::service::Versioned<T>,
) -> HttpResponse {
    let mut res = HttpResponse::Created();
    res.insert_header((header::LOCATION, format!("/api/v1/compute/{path}/{id}")));
    versioned(res, value)
}

/// Register a compute resource (the owner's admins and staff): its capacity per period and
/// the shares of it reserved for academia and industry.
#[utoipa::path(
    tag = "compute",
    security(("bearer" = [])),
    request_body = CreateComputeResource,
    responses(
        (status = 201, body = ComputeResource, headers(("Location" = String), ("ETag" = String))),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/compute/resources")]
pub async fn create_resource(
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    ApiJson(body): ApiJson<CreateComputeResource>,
) -> Result<HttpResponse, AppError> {
    let r = svc::create_resource(&state.db, caller.as_ref(), body).await?;
    Ok(created("resources", &r.value.id, &r))
}

/// List compute resources, oldest first: by owner, centre, kind or GPU model, and by free
/// capacity in a period.
#[utoipa::path(
    tag = "compute",
    // Open to anyone; a bearer token, if sent, must be valid.
    security((), ("bearer" = [])),
    params(ListComputeResources),
    responses((status = 200, body = ComputeResourceList))
)]
#[get("/compute/resources")]
pub async fn list_resources(
    state: web::Data<AppState>,
    MaybeCaller(_caller): MaybeCaller,
    ApiQuery(q): ApiQuery<ListComputeResources>,
) -> Result<web::Json<ComputeResourceList>, AppError> {
    Ok(web::Json(svc::list_resources(&state.db, q).await?))
}

/// Get a compute resource (with `period`: what that period has granted and has free, and no
/// `ETag`, since approvals change it; the `ETag` of a read without `period` is what `PATCH`
/// checks).
#[utoipa::path(
    tag = "compute",
    // Open to anyone; a bearer token, if sent, must be valid.
    security((), ("bearer" = [])),
    params(("id" = String, Path, description = "Resource id"), ReadComputeResource),
    responses(
        (status = 200, body = ComputeResource, headers(("ETag" = String))),
        (status = 304, description = "Not modified"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/compute/resources/{id}")]
pub async fn get_resource(
    req: HttpRequest,
    state: web::Data<AppState>,
    MaybeCaller(_caller): MaybeCaller,
    PathId(id): PathId,
    ApiQuery(q): ApiQuery<ReadComputeResource>,
) -> Result<HttpResponse, AppError> {
    let with_period = q.period.is_some();
    let r = svc::get_resource(&state.db, id, q.period).await?;
    // A period's availability changes with every approval, which the resource's version does
    // not follow: such a read carries no ETag (read without `period` for one).
    if with_period {
        Ok(HttpResponse::Ok().json(r.value))
    } else {
        Ok(conditional_get(&req, &r))
    }
}

/// Update a compute resource (merge patch; `If-Match` required). New shares and capacity
/// apply to decisions from now on.
#[utoipa::path(
    tag = "compute",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Resource id"), ("If-Match" = String, Header, description = "The ETag from your last read")),
    request_body = UpdateComputeResource,
    responses(
        (status = 200, body = ComputeResource, headers(("ETag" = String))),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/compute/resources/{id}")]
pub async fn update_resource(
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    PathId(id): PathId,
    IfMatch(precondition): IfMatch,
    ApiJson(body): ApiJson<UpdateComputeResource>,
) -> Result<HttpResponse, AppError> {
    let r = svc::update_resource(&state.db, caller.as_ref(), id, precondition, body).await?;
    Ok(versioned(HttpResponse::Ok(), &r))
}

/// Apply for compute: a university's office or one of its professors (academia), a
/// company's admins and staff (industry); a request for a funded project says which sector
/// it counts against. Starts as a draft, or submitted.
#[utoipa::path(
    tag = "compute",
    security(("bearer" = [])),
    request_body = CreateAllocation,
    responses(
        (status = 201, body = Allocation, headers(("Location" = String), ("ETag" = String))),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The resource is retired", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/compute/allocations")]
pub async fn create_allocation(
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    ApiJson(body): ApiJson<CreateAllocation>,
) -> Result<HttpResponse, AppError> {
    let a = svc::create_allocation(&state.db, caller.as_ref(), body).await?;
    Ok(created("allocations", &a.value.id, &a))
}

/// List the allocations the caller takes part in, oldest first: those of organizations they
/// act for (as applicant or resource owner), the ones they asked for, and those for a profile
/// they own.
#[utoipa::path(
    tag = "compute",
    security(("bearer" = [])),
    params(ListAllocations),
    responses(
        (status = 200, body = AllocationList),
    )
)]
#[get("/compute/allocations")]
pub async fn list_allocations(
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    ApiQuery(q): ApiQuery<ListAllocations>,
) -> Result<web::Json<AllocationList>, AppError> {
    Ok(web::Json(
        svc::list_allocations(&state.db, caller.as_ref(), q).await?,
    ))
}

/// Get an allocation (404 if the caller takes no part in it).
#[utoipa::path(
    tag = "compute",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Allocation id")),
    responses(
        (status = 200, body = Allocation, headers(("ETag" = String))),
        (status = 304, description = "Not modified"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/compute/allocations/{id}")]
pub async fn get_allocation(
    req: HttpRequest,
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    PathId(id): PathId,
) -> Result<HttpResponse, AppError> {
    Ok(conditional_get(
        &req,
        &svc::get_allocation(&state.db, caller.as_ref(), id).await?,
    ))
}

/// Edit a draft (merge patch; `If-Match` required): the applicant's side only.
#[utoipa::path(
    tag = "compute",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Allocation id"), ("If-Match" = String, Header, description = "The ETag from your last read")),
    request_body = UpdateAllocation,
    responses(
        (status = 200, body = Allocation, headers(("ETag" = String))),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not a draft any more, or the resource is retired", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/compute/allocations/{id}")]
pub async fn update_allocation(
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    PathId(id): PathId,
    IfMatch(precondition): IfMatch,
    ApiJson(body): ApiJson<UpdateAllocation>,
) -> Result<HttpResponse, AppError> {
    let a = svc::update_allocation(&state.db, caller.as_ref(), id, precondition, body).await?;
    Ok(versioned(HttpResponse::Ok(), &a))
}

/// Move an allocation (`If-Match` required): the applicant submits a draft; the resource
/// owner's admins and staff approve (possibly less than asked, within the sector's share
/// unless `override_reason` says why), reject (with `reason`), activate (with the scheduler
/// account) and expire.
#[utoipa::path(
    tag = "compute",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Allocation id"), ("If-Match" = String, Header, description = "The ETag from your last read")),
    request_body = AllocationTransition,
    responses(
        (status = 200, body = Allocation, headers(("ETag" = String))),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A move the workflow does not allow, a retired resource, or an approval beyond the sector's share or the period's capacity (`quota_exceeded`, with the arithmetic in `quota`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/compute/allocations/{id}/transitions")]
pub async fn transition(
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    PathId(id): PathId,
    IfMatch(precondition): IfMatch,
    ApiJson(body): ApiJson<AllocationTransition>,
) -> Result<HttpResponse, AppError> {
    let a = svc::transition(&state.db, caller.as_ref(), id, precondition, body).await?;
    Ok(versioned(HttpResponse::Ok(), &a))
}

/// Renew a granted allocation: a new draft for the next period (or the one given), with the
/// same purpose.
#[utoipa::path(
    tag = "compute",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The allocation to renew")),
    request_body = RenewAllocation,
    responses(
        (status = 201, body = Allocation, headers(("Location" = String), ("ETag" = String))),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not granted, or the resource is retired", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/compute/allocations/{id}/renewals")]
pub async fn renew(
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    PathId(id): PathId,
    ApiJson(body): ApiJson<RenewAllocation>,
) -> Result<HttpResponse, AppError> {
    let a = svc::renew(&state.db, caller.as_ref(), id, body).await?;
    Ok(created("allocations", &a.value.id, &a))
}

/// Import Slurm accounting records (`sacct --parsable2 --noheader
/// --format=JobID,Account,User,Partition,AllocTRES,ElapsedRaw,Start,End,State`) for a
/// resource: each finished job charged once to the allocation of its account (by job id, so
/// a re-import changes nothing). Answers with a report for every line.
#[utoipa::path(
    tag = "compute",
    security(("bearer" = [])),
    params(UsageImportQuery),
    request_body(content = String, description = "sacct output, one job or step per line, fields separated by `|`, UTF-8",
                 content_type = "text/plain"),
    responses(
        (status = 200, description = "Per-line report; the jobs that could be charged were", body = UsageImportReport),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The file as a whole is unusable (encoding), or the resource counts credits", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/compute/usage/import")]
pub async fn import_usage(
    req: HttpRequest,
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    ApiQuery(q): ApiQuery<UsageImportQuery>,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    if !matches!(media_type(&req).as_str(), "text/plain" | "text/csv") {
        return Err(AppError::new(
            ErrorCode::UnsupportedMediaType,
            "Send the sacct output as text/plain",
        ));
    }
    let body = read_body(
        payload.into_inner(),
        content_length(&req),
        state.settings.max_import_bytes,
    )
    .await?;
    let report = svc::import_usage(&state.db, caller.as_ref(), q.resource_id, body.into()).await?;
    Ok(HttpResponse::Ok().json(report))
}

/// The compute a professor holds: the approved and active allocations naming the profile
/// (for anyone who can see the profile; the requests behind them stay with their
/// participants).
#[utoipa::path(
    tag = "compute",
    // Open to anyone; a bearer token, if sent, must be valid.
    security((), ("bearer" = [])),
    params(("id" = String, Path, description = "Faculty profile id")),
    responses(
        (status = 200, body = HeldAllocationList),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/faculty/{id}/allocations")]
pub async fn held_by_profile(
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    PathId(id): PathId,
) -> Result<web::Json<HeldAllocationList>, AppError> {
    Ok(web::Json(
        svc::held_by_profile(&state.db, caller.as_ref(), id).await?,
    ))
}

//! The HTTP layer: one route table that is also the OpenAPI document, the middleware, and
//! the server. Handlers extract input, call one service function and map the result.

pub mod audit;
pub mod auth;
pub mod centers;
pub mod compute;
pub mod contract;
pub mod engagements;
pub mod extract;
pub mod faculty;
pub mod headers;
pub mod invitations;
pub mod matching;
pub mod members;
pub mod needs;
pub mod notifications;
pub mod observe;
pub mod ops;
pub mod organizations;
pub mod problem;
pub mod projects;
pub mod refresh;
pub mod reports;
pub mod search;
pub mod timeout;
pub mod webhooks;

use std::sync::Arc;
use std::time::Duration;

use actix_web::body::BoxBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use utoipa::OpenApi;
use utoipa_actix_web::service_config::ServiceConfig;
use utoipa_actix_web::{AppExt, scope};
use utoipa_swagger_ui::SwaggerUi;

use crate::config::Settings;
use crate::db::Db;
use crate::search::IndexDir;

use observe::Metrics;

/// Everything a request handler may need, shared by all workers.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub settings: Arc<Settings>,
    pub index: IndexDir,
    pub metrics: Arc<Metrics>,
    pub spec: Arc<utoipa::openapi::OpenApi>,
    pub routes: Arc<RouteTable>,
    pub auth: Arc<crate::service::auth::Auth>,
    pub search: Arc<crate::search::SearchIndex>,
    /// The clients of ORCID and OpenAlex.
    pub sources: Arc<crate::sources::Sources>,
    /// Runs bulk sync jobs and the periodic refresh.
    pub sync: Arc<crate::service::faculty::jobs::SyncRunner>,
    /// Checks saved alerts and makes notifications.
    pub notifier: Arc<crate::service::notifications::worker::Notifier>,
    /// Sends e-mail (none without an SMTP server).
    pub mailer: Option<Arc<crate::service::notifications::mail::Mailer>>,
    /// Sends webhook deliveries (none when `webhook_sending` is off).
    pub webhooks: Option<Arc<crate::service::notifications::webhooks::Sender>>,
}

impl AppState {
    /// Connects to the database, applies migrations and opens the index folder.
    pub fn open(settings: Settings) -> anyhow::Result<Self> {
        // Keys first: a deployment without a usable signing key must not start at all.
        let auth = crate::service::auth::Auth::from_settings(&settings)?;
        let db = Db::connect_with(
            &settings.database_url,
            settings.db_pool_size,
            Duration::from_secs(settings.db_timeout_secs),
            settings.db_timeouts(),
        )?;
        let applied = db.migrate()?;
        if !applied.is_empty() {
            tracing::info!(migrations = ?applied, "applied database migrations");
        }
        let index = IndexDir::open(&settings.index_dir)?;
        let search = crate::search::SearchIndex::open(
            &settings.index_dir,
            db.clone(),
            Duration::from_millis(settings.index_commit_interval_ms),
        )?;
        if settings.memory_release_interval_ms > 0 {
            crate::memory::release_periodically(Duration::from_millis(
                settings.memory_release_interval_ms,
            ));
        }
        let sources = Arc::new(crate::sources::Sources::from_settings(&settings));
        let refresh_every = (settings.sync_refresh_interval_hours > 0)
            .then(|| Duration::from_secs(settings.sync_refresh_interval_hours * 3600));
        let sync = crate::service::faculty::jobs::SyncRunner::start(
            db.clone(),
            sources.clone(),
            refresh_every,
        )?;
        let name = crate::service::notifications::worker::process_name(&settings.index_dir);
        let notifier = crate::service::notifications::worker::Notifier::start(
            db.clone(),
            &search,
            Duration::from_secs(settings.due_scan_interval_secs),
            settings.notification_retention_days,
            crate::service::notifications::mail::MailConfig::from_settings(&settings),
            name.clone(),
        )?;
        let mailer = crate::service::notifications::mail::Mailer::start(
            db.clone(),
            &settings,
            name.clone(),
        )?;
        let webhooks = if settings.webhook_sending {
            Some(crate::service::notifications::webhooks::Sender::start(
                db.clone(),
                &settings,
                name,
            )?)
        } else {
            None
        };
        let spec = openapi();
        let routes = RouteTable::from_spec(&spec);
        Ok(Self {
            notifier,
            webhooks,
            mailer,
            sources,
            sync,
            db,
            settings: Arc::new(settings),
            index,
            metrics: Arc::new(Metrics::default()),
            spec: Arc::new(spec),
            routes: Arc::new(routes),
            auth: Arc::new(auth),
            search,
        })
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Liaison API",
        description = "Industry-academia collaboration: companies' project needs, faculty profiles, \
matching in both directions, joint lab centres and funded projects.\n\n\
Every error is `application/problem+json` (RFC 9457) with a stable `code`; see `/problems/{code}`.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    // Enums that only query parameters use: `IntoParams` refers to them without defining them.
    components(schemas(
        crate::dto::Problem,
        crate::error::FieldError,
        crate::error::ErrorCode,
        crate::dto::search::Refresh,
        crate::dto::reports::ReportFormat,
    )),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Log in, refresh and log out; the caller's own account"),
        (name = "members", description = "Who belongs to an organization, in which role, and invitations to join"),
        (name = "faculty", description = "Faculty profiles and bulk import"),
        (name = "needs", description = "Companies' project needs and invitations"),
        (name = "engagements", description = "Shortlists, invitations, interest and agreements between a need and a professor"),
        (name = "search", description = "Full-text search over profiles, needs and centres (English, Korean, Chinese)"),
        (name = "matching", description = "Profiles for a need and needs for a profile, with scores that explain themselves"),
        (name = "centers", description = "Joint lab centres: a university hosts, companies partner"),
        (name = "funded-projects", description = "Funded projects and their scheduled and received payments"),
        (name = "organizations", description = "Universities, companies, government bodies and foundations"),
        (name = "compute", description = "Shared compute: GPU clusters, HPC systems and credit pools with academia/industry shares, allocations, and scheduler usage"),
        (name = "reports", description = "Reports for universities' industry-liaison offices, as JSON or CSV"),
        (name = "notifications", description = "The caller's notifications, what they receive, and saved alerts"),
        (name = "webhooks", description = "An organization's webhook endpoints, their deliveries and replays"),
        (name = "audit", description = "Who changed what and when: centres, funded projects, payments, engagements, memberships, invitations"),
        (name = "operations", description = "Health, readiness, metrics and problem types"),
    )
)]
struct ApiDoc;

/// Declares the bearer scheme that protected operations name (`security(("bearer" = []))`),
/// so the docs page can authorize.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("An access token from POST /api/v1/auth/login"))
                    .build(),
            ),
        );
    }
}

/// The route table. Everything registered here is served *and* documented.
fn routes(cfg: &mut ServiceConfig) {
    cfg.service(ops::healthz)
        .service(ops::readyz)
        .service(ops::metrics)
        .service(problem::problem_type)
        .service(
            scope::scope("/api/v1")
                .service(organizations::create)
                .service(organizations::list)
                .service(organizations::get_one)
                .service(organizations::update)
                .service(organizations::remove)
                .service(members::list)
                .service(members::add)
                .service(members::get_one)
                .service(members::update)
                .service(members::remove)
                .service(invitations::invite)
                .service(invitations::list_invitations)
                .service(invitations::revoke)
                .service(invitations::mine)
                .service(invitations::accept)
                .service(invitations::decline)
                .service(auth::login)
                .service(auth::refresh)
                .service(auth::logout)
                .service(auth::me)
                .service(auth::change_password)
                // `/faculty/import` before `/faculty/{id}` routes so that it is not taken for an id;
                // its other methods answer 405 here rather than fall through to `/faculty/{id}`.
                .service(faculty::import)
                .route("/faculty/import", web::route().to(problem::fallback))
                .service(faculty::start_sync)
                .route("/faculty/sync", web::route().to(problem::fallback))
                .service(faculty::sync)
                .service(faculty::list_sync_jobs)
                .service(faculty::get_sync_job)
                .service(faculty::create)
                .service(faculty::list)
                .service(faculty::get_one)
                .service(faculty::update)
                .service(faculty::remove)
                .service(faculty::restore)
                .service(needs::create)
                .service(needs::list)
                .service(needs::get_one)
                .service(needs::update)
                .service(needs::remove)
                .service(needs::restore)
                .service(needs::invite)
                .service(needs::invitations)
                .service(needs::uninvite)
                .service(centers::create)
                .service(centers::list)
                .service(centers::get_one)
                .service(centers::update)
                .service(centers::remove)
                .service(centers::restore)
                .service(projects::create)
                .service(projects::list)
                .service(projects::get_one)
                .service(projects::update)
                .service(projects::remove)
                .service(projects::restore)
                .service(projects::add_payment)
                .service(projects::payments)
                .service(projects::get_payment)
                .service(projects::update_payment)
                .service(projects::delete_payment)
                .service(matching::need_matches)
                .service(matching::faculty_matches)
                .service(matching::explain)
                .service(engagements::create)
                .service(engagements::list)
                .service(engagements::get_one)
                .service(engagements::transition)
                .service(search::search)
                .service(audit::list)
                .service(reports::funnel)
                .service(reports::funding)
                .service(reports::centers)
                .service(reports::faculty_funding)
                .service(reports::compute)
                .service(compute::create_resource)
                .service(compute::list_resources)
                .service(compute::get_resource)
                .service(compute::update_resource)
                .service(compute::import_usage)
                .service(compute::create_allocation)
                .service(compute::list_allocations)
                .service(compute::get_allocation)
                .service(compute::update_allocation)
                .service(compute::transition)
                .service(compute::renew)
                .service(compute::held_by_profile)
                .service(notifications::list)
                .service(notifications::mark_all)
                .service(notifications::mark_one)
                .service(notifications::settings)
                .service(notifications::set_settings)
                .service(notifications::create_alert)
                .service(notifications::list_alerts)
                .service(notifications::get_alert)
                .service(notifications::alert_hits)
                .service(notifications::delete_alert)
                .service(notifications::unsubscribe)
                .service(notifications::unsubscribe_page)
                .service(webhooks::create)
                .service(webhooks::list)
                .service(webhooks::get_one)
                .service(webhooks::update)
                .service(webhooks::remove)
                .service(webhooks::deliveries)
                .service(webhooks::replay),
        );
}

/// The OpenAPI document, generated from the route table.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, mut spec) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(routes)
        .split_for_parts();
    spec.info.version = env!("CARGO_PKG_VERSION").to_owned();
    declare_shared_responses(&mut spec);
    contract::apply(&mut spec);
    spec
}

/// Answers that come from the machinery around every handler rather than from any one of
/// them: declared once as shared responses, and referenced from each operation they apply
/// to (an operation that declares its own keeps it).
fn declare_shared_responses(spec: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::header::HeaderBuilder;
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
    let problem = || {
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("Problem")))
            .build()
    };
    let components = spec.components.get_or_insert_with(Default::default);
    components.responses.insert(
        "RequestTimeout".to_owned(),
        RefOr::T(
            ResponseBuilder::new()
                .description(
                    "The body did not arrive within `body_timeout_secs` (plus a second per 64 KiB \
                     received); the connection is closed",
                )
                .content(problem::PROBLEM_JSON, problem())
                .build(),
        ),
    );
    components.responses.insert(
        "ServiceUnavailable".to_owned(),
        RefOr::T(
            ResponseBuilder::new()
                .description(
                    "The database did not answer in time: no free connection, or a lock or \
                     statement wait ran out (`db_lock_timeout_ms`, `db_statement_timeout_secs`). \
                     Nothing was changed; retry after `Retry-After` seconds",
                )
                .header(
                    "Retry-After",
                    HeaderBuilder::new()
                        .schema(Some(
                            ObjectBuilder::new()
                                .schema_type(Type::Integer)
                                .minimum(Some(0)),
                        ))
                        .description(Some("Seconds to wait before retrying"))
                        .build(),
                )
                .content(problem::PROBLEM_JSON, problem())
                .build(),
        ),
    );
    for (path, item) in spec.paths.paths.iter_mut() {
        // Every operation of the API reads or writes the database.
        let uses_database = path.starts_with("/api/v1/");
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for op in operations.into_iter().flatten() {
            let responses = &mut op.responses.responses;
            if op.request_body.is_some() {
                responses
                    .entry("408".to_owned())
                    .or_insert_with(|| RefOr::Ref(Ref::from_response_name("RequestTimeout")));
            }
            if uses_database {
                responses
                    .entry("503".to_owned())
                    .or_insert_with(|| RefOr::Ref(Ref::from_response_name("ServiceUnavailable")));
            }
        }
    }
}

/// The document as committed in `openapi/openapi.json`.
pub fn openapi_json() -> String {
    let mut s = openapi().to_pretty_json().unwrap_or_default();
    s.push('\n');
    s
}

/// Builds the application: routes, docs, fallback and middleware. Used by the server and by
/// the tests, so both exercise exactly the same stack.
pub fn build_app(
    state: AppState,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<BoxBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let spec = (*state.spec).clone();
    // The spec and docs routes come first: the `/api/v1` scope would otherwise claim the spec.
    App::new()
        .app_data(web::Data::new(state))
        .service(SwaggerUi::new("/docs/{_:.*}").url("/api/v1/openapi.json", spec))
        .service(web::redirect("/docs", "/docs/"))
        .configure(crate::web::routes)
        .into_utoipa_app()
        .configure(routes)
        .into_app()
        .default_service(web::to(problem::fallback))
        .wrap(from_fn(timeout::body_deadline))
        // Outside the body's deadline: a stranger is refused before their body is read.
        .wrap(from_fn(auth::require_bearer))
        .wrap(from_fn(observe::observe))
        // Outermost, so that every answer gets the headers, `observe`'s problems included.
        .wrap(from_fn(headers::secure))
}

/// Paths and methods of the route table (the API's, from its document, and the web app's), to
/// tell a wrong method (405) from a wrong path (404), and the operations that the document
/// says need a bearer token.
#[derive(Debug, Default)]
pub struct RouteTable {
    routes: Vec<(Vec<String>, Vec<String>)>,
    /// (method, path template) of every operation whose only security is `bearer`.
    bearer_only: std::collections::HashSet<(String, String)>,
}

impl RouteTable {
    pub fn from_spec(spec: &utoipa::openapi::OpenApi) -> Self {
        let mut routes = Vec::new();
        let mut bearer_only = std::collections::HashSet::new();
        for (path, item) in &spec.paths.paths {
            let mut methods = Vec::new();
            for (name, op) in [
                ("GET", &item.get),
                ("PUT", &item.put),
                ("POST", &item.post),
                ("DELETE", &item.delete),
                ("PATCH", &item.patch),
                ("HEAD", &item.head),
                ("OPTIONS", &item.options),
            ] {
                let Some(op) = op else { continue };
                methods.push(name.to_owned());
                if contract::requires_bearer(op) {
                    bearer_only.insert((name.to_owned(), path.clone()));
                }
            }
            // Every GET answers HEAD too (see `observe`).
            if item.get.is_some() && item.head.is_none() {
                methods.push("HEAD".to_owned());
            }
            routes.push((segments(path), methods));
        }
        for fixed in ["/api/v1/openapi.json", "/docs", "/docs/{rest}"] {
            routes.push((segments(fixed), vec!["GET".to_owned(), "HEAD".to_owned()]));
        }
        for (path, mut methods) in crate::web::page_methods() {
            if methods.iter().any(|m| m == "GET") {
                methods.push("HEAD".to_owned());
            }
            routes.push((segments(path), methods));
        }
        Self {
            routes,
            bearer_only,
        }
    }

    /// Whether the operation at this route template (as the router matched it) may only be
    /// called with a bearer token.
    pub fn requires_bearer(&self, method: &str, template: &str) -> bool {
        self.bearer_only
            .contains(&(method.to_owned(), template.to_owned()))
    }

    /// The methods allowed on a concrete path, if any route template matches it. Where a
    /// literal segment and a parameter both match (`/faculty/import`, `/faculty/{id}`), the
    /// literal wins, as it does in the router: only the most literal templates count.
    pub fn allowed_methods(&self, path: &str) -> Option<Vec<String>> {
        let parts: Vec<&str> = path.trim_end_matches('/').split('/').collect();
        let literals =
            |template: &[String]| template.iter().filter(|t| !t.starts_with('{')).count();
        let matching: Vec<&(Vec<String>, Vec<String>)> = self
            .routes
            .iter()
            .filter(|(template, _)| {
                template.len() == parts.len()
                    && template
                        .iter()
                        .zip(&parts)
                        .all(|(t, p)| t.starts_with('{') || t == p)
            })
            .collect();
        let most = matching.iter().map(|(t, _)| literals(t)).max()?;
        let mut methods: Vec<String> = matching
            .iter()
            .filter(|(t, _)| literals(t) == most)
            .flat_map(|(_, m)| m.iter().cloned())
            .collect();
        methods.sort();
        methods.dedup();
        (!methods.is_empty()).then_some(methods)
    }
}

fn segments(path: &str) -> Vec<String> {
    path.trim_end_matches('/')
        .split('/')
        .map(str::to_owned)
        .collect()
}

/// Runs the server until SIGTERM or SIGINT, then lets in-flight requests finish (up to the
/// configured shutdown timeout).
pub async fn serve(state: AppState) -> anyhow::Result<()> {
    serve_announcing(state, |_| {}).await
}

/// [`serve`], calling `listening` with the bound addresses once the socket is open (the demo
/// prints its logins then).
pub async fn serve_announcing(
    state: AppState,
    listening: impl FnOnce(&[std::net::SocketAddr]),
) -> anyhow::Result<()> {
    let settings = state.settings.clone();
    let app_state = state.clone();
    let mut server = HttpServer::new(move || build_app(app_state.clone()))
        .shutdown_timeout(settings.shutdown_timeout_secs)
        .bind(&settings.bind)
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", settings.bind))?;
    if settings.workers > 0 {
        server = server.workers(settings.workers);
    }
    for addr in server.addrs() {
        tracing::info!(
            database = ?state.db.backend(),
            index_dir = %state.index.path().display(),
            "listening on http://{addr} (docs at http://{addr}/docs/)"
        );
    }
    listening(&server.addrs());
    server.run().await?;
    // Commit what the indexer has applied, so the next start has less to replay.
    let search = state.search.clone();
    actix_web::rt::task::spawn_blocking(move || search.shutdown()).await?;
    tracing::info!("stopped");
    Ok(())
}

//! Test harness: every test gets its own application over its own database (a temporary
//! SQLite file, or a fresh PostgreSQL database when `LIAISON_TEST_POSTGRES_URL` names a server)
//! and its own index folder, and talks to it through HTTP requests, as a client would.

#![allow(dead_code)]

use actix_service::boxed::{self, RcService};
use actix_web::body::{BoxBody, to_bytes};
use actix_web::dev::ServiceResponse;
use actix_web::http::{Method, StatusCode, header::HeaderMap};
use actix_web::test::TestRequest;
use diesel::prelude::*;
use liaison::config::Settings;
use liaison::http::{AppState, build_app};
use serde_json::Value;

/// Names a PostgreSQL server (any database on it) to run the suite against, e.g.
/// `postgres://postgres@127.0.0.1:5432/test`. Unset: SQLite.
pub const PG_ENV: &str = "LIAISON_TEST_POSTGRES_URL";

pub mod receiver;
pub mod smtp;
pub mod web;

/// A database of the test's own, dropped (PostgreSQL) or deleted (SQLite) afterwards.
pub struct TestDb {
    pub url: String,
    pg_admin: Option<(String, String)>,
}

impl TestDb {
    pub fn new(dir: &std::path::Path) -> Self {
        match std::env::var(PG_ENV) {
            Ok(admin_url) if !admin_url.is_empty() => {
                let name = format!("liaison_test_{}", uuid::Uuid::new_v4().simple());
                let mut admin = PgConnection::establish(&admin_url)
                    .unwrap_or_else(|e| panic!("{PG_ENV}={admin_url} is not reachable: {e}"));
                diesel::sql_query(format!(
                    "CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8'"
                ))
                .execute(&mut admin)
                .expect("create test database");
                let base = admin_url
                    .rsplit_once('/')
                    .map_or(admin_url.as_str(), |(b, _)| b);
                let url = format!("{base}/{name}");
                Self {
                    url,
                    pg_admin: Some((admin_url, name)),
                }
            }
            _ => Self {
                url: format!("sqlite://{}", dir.join("liaison.db").display()),
                pg_admin: None,
            },
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.pg_admin.is_some()
    }

    /// Runs raw SQL directly on the test's database and reports whether the database
    /// accepted it.
    pub fn try_execute(&self, sql: &str) -> Result<usize, String> {
        let db = liaison::db::Db::connect(&self.url, 1, std::time::Duration::from_secs(5)).unwrap();
        db.write_blocking(|c| Ok(diesel::sql_query(sql).execute(c)?))
            .map_err(|e| e.describe())
    }

    /// Runs raw SQL directly on the test's database, bypassing the service (to simulate faults).
    pub fn execute(&self, sql: &str) {
        let db = liaison::db::Db::connect(&self.url, 1, std::time::Duration::from_secs(5)).unwrap();
        db.write_blocking(|c| {
            diesel::sql_query(sql).execute(c)?;
            Ok(())
        })
        .unwrap();
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = &self.pg_admin
            && let Ok(mut admin) = PgConnection::establish(admin_url)
        {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut admin);
        }
    }
}

/// Each entry of `value[key]` (a page's `items`, an import report's `rows`) through `pick`.
pub fn each<T>(value: &Value, key: &str, pick: impl Fn(&Value) -> T) -> Vec<T> {
    value[key]
        .as_array()
        .unwrap_or_else(|| panic!("no {key} array in {value}"))
        .iter()
        .map(pick)
        .collect()
}

pub struct TestApp {
    pub svc: RcService<actix_http::Request, ServiceResponse<BoxBody>, actix_web::Error>,
    pub state: AppState,
    pub db: TestDb,
    pub dir: tempfile::TempDir,
    /// A platform operator's bearer token (what `operator()` sends).
    pub operator_token: String,
}

pub const TEST_SECRET: &str = "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz";
pub const PASSWORD: &str = "correct horse battery staple";

pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Response {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap_or_default().to_owned())
    }

    /// Asserts the status, and that error responses are complete problem documents (the
    /// web app's pages excepted: they answer errors as pages).
    #[track_caller]
    pub fn expect(&self, status: u16) -> &Self {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text());
        let page = self
            .header("content-type")
            .is_some_and(|c| c.starts_with("text/html"));
        if status >= 400 && !page {
            self.assert_problem();
        }
        self
    }

    #[track_caller]
    pub fn assert_problem(&self) -> Value {
        assert_eq!(
            self.header("content-type").as_deref(),
            Some("application/problem+json"),
            "error without problem+json: {}",
            self.text()
        );
        let p = self.json();
        for key in ["type", "title", "status", "detail", "code"] {
            assert!(p.get(key).is_some(), "problem lacks {key}: {p}");
        }
        assert_eq!(p["status"].as_u64(), Some(u64::from(self.status.as_u16())));
        assert_eq!(
            p["type"].as_str().unwrap(),
            format!("/problems/{}", p["code"].as_str().unwrap())
        );
        p
    }

    /// The id of what a `201 Created` answer made (it must be one).
    #[track_caller]
    pub fn created_id(&self) -> String {
        self.expect(201);
        self.id()
    }

    /// The `id` of the JSON answer (a created or read record).
    #[track_caller]
    pub fn id(&self) -> String {
        let body = self.json();
        body["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no id in {body}"))
            .to_owned()
    }

    #[track_caller]
    pub fn code(&self) -> String {
        self.assert_problem()["code"].as_str().unwrap().to_owned()
    }
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(tweak: impl FnOnce(&mut Settings)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db = TestDb::new(dir.path());
        let mut settings = Settings {
            database_url: db.url.clone(),
            index_dir: dir.path().join("index"),
            db_pool_size: 4,
            jwt_secret: Some(liaison::config::Secret(TEST_SECRET.to_owned())),
            jwt_secret_kid: "test".to_owned(),
            ..Settings::default()
        };
        tweak(&mut settings);
        let state = actix_web::rt::task::spawn_blocking(move || AppState::open(settings))
            .await
            .unwrap()
            .expect("open app state");
        let svc = actix_web::test::init_service(build_app(state.clone())).await;
        let mut app = Self {
            svc: boxed::rc_service(svc),
            state,
            db,
            dir,
            operator_token: String::new(),
        };
        app.create_user("operator@liaison.test", PASSWORD, true)
            .await;
        app.operator_token = app.login("operator@liaison.test", PASSWORD).await;
        app
    }

    /// Creates a user directly through the service (as `liaison user create` does).
    pub async fn create_user(&self, email: &str, password: &str, operator: bool) -> String {
        let (db, auth) = (self.state.db.clone(), self.state.auth.clone());
        let (email, password) = (email.to_owned(), password.to_owned());
        actix_web::rt::task::spawn_blocking(move || {
            liaison::service::accounts::create_user_blocking(
                &db,
                &auth,
                &email,
                &email,
                Some(&password),
                operator,
            )
        })
        .await
        .unwrap()
        .expect("create user")
        .0
        .id
    }

    /// Logs in through the API and returns the access token.
    pub async fn login(&self, email: &str, password: &str) -> String {
        let res = self
            .anonymous()
            .post(
                "/api/v1/auth/login",
                &serde_json::json!({"email": email, "password": password}),
            )
            .await;
        res.expect(200);
        res.json()["access_token"].as_str().unwrap().to_owned()
    }

    /// Adds a new account to an organization in a role (as the operator) and logs it in.
    pub async fn member_token(&self, org_id: &str, role: &str) -> String {
        let email = format!("{role}-{}@example.org", uuid::Uuid::new_v4().simple());
        let res = self
            .operator()
            .post(
                &format!("/api/v1/organizations/{org_id}/members"),
                &serde_json::json!({"email": email, "role": role, "display_name": role}),
            )
            .await;
        res.expect(201);
        let password = res.json()["initial_password"].as_str().unwrap().to_owned();
        self.login(&email, &password).await
    }

    /// The user id of a token's account.
    pub async fn user_id(&self, token: &str) -> String {
        let me = self.as_(token).get("/api/v1/me").await;
        me.expect(200);
        me.json()["user"]["id"].as_str().unwrap().to_owned()
    }

    /// A new faculty member of `university_id` who owns a new profile there (created by the
    /// operator from `profile`, which need not name the university): (token, profile id).
    pub async fn professor(&self, university_id: &str, mut profile: Value) -> (String, String) {
        let token = self.member_token(university_id, "faculty").await;
        profile["university_id"] = university_id.into();
        profile["owner_user_id"] = self.user_id(&token).await.into();
        let res = self
            .operator()
            .post("/api/v1/faculty?refresh=wait_for", &profile)
            .await;
        res.expect(201);
        (token, res.id())
    }

    /// Creates a record as the operator at `collection` (e.g. `/api/v1/faculty`) and returns
    /// its id.
    pub async fn create(&self, collection: &str, body: &Value) -> String {
        self.operator().post(collection, body).await.created_id()
    }

    /// Creates a record as the operator at `collection` (e.g. `/api/v1/needs`), waiting until
    /// search shows it, and returns its id.
    pub async fn create_indexed(&self, collection: &str, body: &Value) -> String {
        let res = self
            .operator()
            .post(&format!("{collection}?refresh=wait_for"), body)
            .await;
        res.expect(201);
        assert_eq!(res.header("search-refresh").as_deref(), Some("done"));
        res.id()
    }

    /// The soft-delete contract, for a record at `path` that `member` (who could read it) has
    /// just deleted: it is gone (404) for the member and for operators, unless an operator
    /// asks with `include_deleted=true` (which shows `deleted_at`); only operators restore it
    /// (the member gets 403), and then the member reads it again. Returns the restored record.
    pub async fn assert_deleted_then_restored(&self, path: &str, member: &str) -> Value {
        self.as_(member).get(path).await.expect(404);
        // A client's DELETE-then-GET sees 404, operators' too, unless they ask for it.
        self.operator().get(path).await.expect(404);
        let seen = self
            .operator()
            .get(&format!("{path}?include_deleted=true"))
            .await;
        seen.expect(200);
        assert!(seen.json()["deleted_at"].is_string(), "{}", seen.text());
        self.as_(member)
            .request(Method::POST, &format!("{path}/restore"), None)
            .await
            .expect(403);
        let restored = self
            .operator()
            .post(&format!("{path}/restore"), &serde_json::json!({}))
            .await;
        restored.expect(200);
        self.as_(member).get(path).await.expect(200);
        restored.json()
    }

    /// Requests made with this bearer token.
    pub fn as_<'a>(&'a self, token: &'a str) -> Caller<'a> {
        self.caller(Some(token))
    }

    /// Requests made without credentials.
    pub fn anonymous(&self) -> Caller<'_> {
        self.caller(None)
    }

    /// Requests made as the platform operator.
    pub fn operator(&self) -> Caller<'_> {
        self.caller(Some(&self.operator_token))
    }

    /// Requests made as whoever a table names: with this token, or anonymously for `None`.
    pub fn caller<'a>(&'a self, token: Option<&'a str>) -> Caller<'a> {
        Caller {
            app: self,
            token,
            headers: Vec::new(),
        }
    }

    /// Sends a request built by hand (a malformed body, an odd header), as it is.
    /// Imports faculty profiles into a university as the operator (`text/csv` or
    /// `application/x-ndjson`), waiting until search sees them: the answer, checked to be 200.
    pub async fn import_indexed(
        &self,
        university: &str,
        content_type: &str,
        body: String,
    ) -> Response {
        let req = TestRequest::post()
            .uri(&format!(
                "/api/v1/faculty/import?university_id={university}&refresh=wait_for"
            ))
            .insert_header(("content-type", content_type))
            .insert_header(("authorization", format!("Bearer {}", self.operator_token)))
            .set_payload(body);
        let res = self.send(req).await;
        res.expect(200);
        res
    }

    pub async fn send(&self, req: TestRequest) -> Response {
        let res = actix_web::test::call_service(&self.svc, req.to_request()).await;
        let status = res.status();
        let headers = res.headers().clone();
        let body = to_bytes(res.into_body()).await.unwrap_or_default().to_vec();
        Response {
            status,
            headers,
            body,
        }
    }

    /// Creates an organization (as the operator) and returns its id.
    pub async fn org_id(&self, kind: &str, name: &str, country: &str) -> String {
        self.create_org(kind, name, country).await["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Creates an organization (as the operator) and returns its JSON.
    pub async fn create_org(&self, kind: &str, name: &str, country: &str) -> Value {
        let res = self
            .operator()
            .post(
                "/api/v1/organizations",
                &serde_json::json!({"kind": kind, "name": name, "country": country}),
            )
            .await;
        res.expect(201);
        res.json()
    }
}

/// One caller's requests: who asks (a token or none) and the headers to send with the
/// next request, e.g. `app.as_(&token).if_match("\"3\"").patch(path, &body)`.
#[must_use = "a caller sends nothing until one of get/post/patch/put/delete/request is awaited"]
pub struct Caller<'a> {
    app: &'a TestApp,
    token: Option<&'a str>,
    headers: Vec<(String, String)>,
}

impl Caller<'_> {
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn headers(self, headers: &[(&str, &str)]) -> Self {
        headers
            .iter()
            .fold(self, |caller, (name, value)| caller.header(name, value))
    }

    pub fn if_match(self, etag: &str) -> Self {
        self.header("if-match", etag)
    }

    pub fn if_none_match(self, etag: &str) -> Self {
        self.header("if-none-match", etag)
    }

    pub fn accept(self, media_type: &str) -> Self {
        self.header("accept", media_type)
    }

    pub async fn get(self, path: &str) -> Response {
        self.request(Method::GET, path, None).await
    }

    pub async fn post(self, path: &str, body: &Value) -> Response {
        self.request(Method::POST, path, Some(body)).await
    }

    pub async fn put(self, path: &str, body: &Value) -> Response {
        self.request(Method::PUT, path, Some(body)).await
    }

    pub async fn patch(self, path: &str, body: &Value) -> Response {
        self.request(Method::PATCH, path, Some(body)).await
    }

    pub async fn delete(self, path: &str) -> Response {
        self.request(Method::DELETE, path, None).await
    }

    /// Any method, with a JSON body or none.
    pub async fn request(self, method: Method, path: &str, body: Option<&Value>) -> Response {
        let mut req = TestRequest::default().method(method).uri(path);
        for (name, value) in &self.headers {
            req = req.insert_header((name.as_str(), value.as_str()));
        }
        if let Some(token) = self.token {
            req = req.insert_header(("authorization", format!("Bearer {token}")));
        }
        if let Some(b) = body {
            req = req
                .insert_header(("content-type", "application/json"))
                .set_payload(b.to_string());
        }
        self.app.send(req).await
    }
}

/// What changes from run to run, replaced for a snapshot: ids (UUIDs) by `[id N]`, numbered
/// in order of first appearance (so that the same id reads the same everywhere in one
/// document), and timestamps by `[time]`. Dates (without a time) are data and stay.
#[derive(Default)]
pub struct Scrub {
    ids: Vec<String>,
}

impl Scrub {
    pub fn json(&mut self, value: &Value) -> Value {
        match value {
            Value::String(s) => Value::String(self.text(s)),
            Value::Array(items) => Value::Array(items.iter().map(|v| self.json(v)).collect()),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (self.text(k), self.json(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    pub fn text(&mut self, text: &str) -> String {
        let b = text.as_bytes();
        let mut out = String::with_capacity(text.len());
        let mut i = 0;
        while i < b.len() {
            if let Some(len) = uuid_at(&b[i..]) {
                let id = &text[i..i + len];
                let n = match self.ids.iter().position(|known| known == id) {
                    Some(n) => n,
                    None => {
                        self.ids.push(id.to_owned());
                        self.ids.len() - 1
                    }
                };
                out.push_str(&format!("[id {}]", n + 1));
                i += len;
            } else if let Some(len) = timestamp_at(&b[i..]) {
                out.push_str("[time]");
                i += len;
            } else {
                let ch = text[i..].chars().next().unwrap();
                out.push(ch);
                i += ch.len_utf8();
            }
        }
        out
    }

    /// A CSV answer as its snapshot shows it: scrubbed, with its byte-order mark and its
    /// CRLF line ends written out (`<BOM>`, `\r`), since a text snapshot compares lines.
    pub fn csv(&mut self, text: &str) -> String {
        self.text(text)
            .replace('\u{feff}', "<BOM>")
            .replace("\r\n", "\\r\n")
    }
}

/// One scrubbed JSON document (see [`Scrub`]).
pub fn scrub(value: &Value) -> Value {
    Scrub::default().json(value)
}

fn shape_at(b: &[u8], shape: &str) -> bool {
    b.len() >= shape.len()
        && shape.bytes().zip(b).all(|(s, &c)| match s {
            b'x' => c.is_ascii_hexdigit(),
            b'9' => c.is_ascii_digit(),
            _ => s == c,
        })
}

fn uuid_at(b: &[u8]) -> Option<usize> {
    let shape = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
    (shape_at(b, shape) && !b.get(shape.len()).is_some_and(u8::is_ascii_hexdigit))
        .then_some(shape.len())
}

/// `2026-12-06T10:00:00` (or with a space for the `T`), with optional fraction and zone
/// (`Z`, `+09:00`).
fn timestamp_at(b: &[u8]) -> Option<usize> {
    let shape = "9999-99-99T99:99:99";
    if !shape_at(b, shape) && !shape_at(b, "9999-99-99 99:99:99") {
        return None;
    }
    let mut i = shape.len();
    if b.get(i) == Some(&b'.') {
        i += 1;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
    }
    if b.get(i) == Some(&b'Z') {
        i += 1;
    } else if matches!(b.get(i), Some(b'+' | b'-')) && shape_at(&b[i + 1..], "99:99") {
        i += 6;
    }
    Some(i)
}

/// Polls `GET path` as `token` until `done` holds of its JSON (up to 30 s): for what a
/// background worker makes a moment after a change (notifications, deliveries).
pub async fn wait_for_json(
    app: &TestApp,
    token: &str,
    path: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let start = std::time::Instant::now();
    loop {
        let res = app.as_(token).get(path).await;
        res.expect(200);
        let v = res.json();
        if done(&v) {
            return v;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(30),
            "waited 30 s on {path}; have {v:#}"
        );
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// An active centre of `university` with `company` its founding sponsor, a director and a
/// member, GPUs and an HPC allocation, and two years of the company's funding (TWD): what
/// the reports and the office's dashboard read of a centre.
pub fn sponsored_center(university: &str, company: &str, director: &str, member: &str) -> Value {
    serde_json::json!({
        "host_university_id": university, "name": "NTU–MediaTek AI Center",
        "local_name": "臺大聯發科人工智慧中心", "status": "active", "visibility": "participants",
        "director_id": director, "member_ids": [member],
        "partners": [{"company_id": company, "role": "founding_sponsor"}],
        "shared_resources": [{"kind": "gpu", "model": "H100", "count": 64},
                             {"kind": "hpc_allocation", "gpu_hours": 500000}],
        "funding": [{"year": 2025, "sponsor_id": company, "amount_minor": 5_000_000_000i64, "currency": "TWD"},
                    {"year": 2026, "sponsor_id": company, "amount_minor": 5_500_000_000i64, "currency": "TWD"}]})
}

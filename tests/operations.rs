//! Health, readiness, metrics, request ids, docs and the committed OpenAPI document.

mod common;

use actix_web::http::Method;
use common::TestApp;

#[actix_web::test]
async fn healthz_and_readyz_report_ok() {
    let app = TestApp::spawn().await;
    let res = app.anonymous().get("/healthz").await;
    res.expect(200);
    assert_eq!(res.json()["status"], "ok");
    let res = app.anonymous().get("/readyz").await;
    res.expect(200);
    let body = res.json();
    assert_eq!(body["status"], "ready");
    assert!(
        body["checks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["ok"] == true)
    );
}

#[actix_web::test]
async fn readyz_is_503_when_the_index_folder_is_not_writable() {
    let app = TestApp::spawn().await;
    let index = app.dir.path().join("index");
    std::fs::remove_dir_all(&index).unwrap();
    // A file where the folder should be: nothing can be created inside it (even as root).
    std::fs::write(&index, b"not a folder").unwrap();
    let res = app.anonymous().get("/readyz").await;
    res.expect(503);
    let p = res.json();
    assert_eq!(p["code"], "service_unavailable");
    let failing: Vec<_> = p["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["ok"] == false)
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(failing, ["index"]);
    assert!(
        !res.text().contains(app.dir.path().to_str().unwrap()),
        "no paths in the body"
    );
}

#[actix_web::test]
async fn metrics_count_requests_by_route_template_and_status() {
    let app = TestApp::spawn().await;
    let org = app.create_org("company", "SK hynix", "KR").await;
    let path = format!("/api/v1/organizations/{}", org["id"].as_str().unwrap());
    app.anonymous().get(&path).await.expect(200);
    app.anonymous().get(&path).await.expect(200);
    app.anonymous().get("/nope").await.expect(404);
    let res = app.anonymous().get("/metrics").await;
    res.expect(200);
    assert!(
        res.header("content-type")
            .unwrap()
            .starts_with("text/plain")
    );
    let text = res.text();
    assert!(text.contains("liaison_http_requests_total{method=\"GET\",route=\"/api/v1/organizations/{id}\",status=\"200\"} 2"), "{text}");
    assert!(text.contains("liaison_http_requests_total{method=\"POST\",route=\"/api/v1/organizations\",status=\"201\"} 1"));
    assert!(text.contains("route=\"<unmatched>\",status=\"404\"} 1"));
    assert!(text.contains("liaison_http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/v1/organizations/{id}\",status=\"200\",le=\"+Inf\"} 2"));
    assert!(
        !text.contains(org["id"].as_str().unwrap()),
        "no raw ids as labels"
    );
}

#[actix_web::test]
async fn every_response_carries_a_request_id() {
    let app = TestApp::spawn().await;
    let res = app.anonymous().get("/healthz").await;
    assert_eq!(res.header("x-request-id").unwrap().len(), 36);
    let res = app
        .anonymous()
        .header("x-request-id", "client-abc.123")
        .get("/nope")
        .await;
    assert_eq!(
        res.header("x-request-id").as_deref(),
        Some("client-abc.123")
    );
    let res = app
        .anonymous()
        .header("x-request-id", "bad id\twith spaces")
        .get("/healthz")
        .await;
    assert_ne!(
        res.header("x-request-id").as_deref(),
        Some("bad id\twith spaces")
    );
}

#[actix_web::test]
async fn docs_and_spec_are_served_offline() {
    let app = TestApp::spawn().await;
    let spec = app.anonymous().get("/api/v1/openapi.json").await;
    spec.expect(200);
    let spec = spec.json();
    assert_eq!(spec["openapi"], "3.1.0");
    assert!(spec["paths"]["/api/v1/organizations/{id}"]["patch"].is_object());
    let res = app.anonymous().get("/docs").await;
    assert!(res.status.is_redirection());
    let page = app.anonymous().get("/docs/").await;
    page.expect(200);
    assert!(
        page.text().contains("swagger"),
        "the docs page is Swagger UI"
    );
    let js = app.anonymous().get("/docs/swagger-ui-bundle.js").await;
    js.expect(200);
    assert!(
        js.body.len() > 100_000,
        "assets are shipped, not fetched from a CDN"
    );
}

/// `openapi/openapi.json` must be what the code generates. The committed file is the
/// whole-document snapshot (one copy, reviewed in diffs like any insta snapshot). To refresh
/// it after changing the API: `cargo run -- openapi > openapi/openapi.json` (or run this test
/// with UPDATE_OPENAPI=1).
#[test]
fn committed_openapi_matches_the_code() {
    let generated = liaison::http::openapi_json();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
    if std::env::var("UPDATE_OPENAPI").is_ok_and(|v| v == "1") {
        std::fs::write(path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    if committed != generated {
        // Where the two part, as a snapshot diff would show it.
        let old: Vec<&str> = committed.lines().collect();
        let new: Vec<&str> = generated.lines().collect();
        let at = old.iter().zip(&new).take_while(|(a, b)| a == b).count();
        let around = |lines: &[&str]| {
            lines[at.saturating_sub(3).min(lines.len())..(at + 4).min(lines.len())].join("\n")
        };
        panic!(
            "openapi/openapi.json is out of date at line {}: run `cargo run -- openapi > \
             openapi/openapi.json`\n--- committed\n{}\n+++ generated\n{}",
            at + 1,
            around(&old),
            around(&new)
        );
    }
}

/// The document the service serves is the committed one, whole.
#[actix_web::test]
async fn the_served_openapi_document_is_the_committed_one() {
    let app = TestApp::spawn().await;
    let served = app.anonymous().get("/api/v1/openapi.json").await;
    served.expect(200);
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
    let committed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(served.json(), committed);
}

#[actix_web::test]
async fn readyz_is_503_when_the_database_does_not_answer() {
    let app = TestApp::spawn().await;
    app.anonymous().get("/readyz").await.expect(200);
    // The schema disappears under the service (as if the database were replaced).
    app.db
        .execute("ALTER TABLE __diesel_schema_migrations RENAME TO gone");
    let res = app.anonymous().get("/readyz").await;
    res.expect(503);
    let p = res.json();
    let failing: Vec<_> = p["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["ok"] == false)
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(failing, ["database"]);
    assert!(!res.text().contains("__diesel"), "no internals in the body");
}

/// A database that does not answer (here: every pooled connection held, as by a stalled
/// query) made `/readyz` wait for the pool twice over (10 s by default); it answers 503 within
/// its own `readyz_timeout_ms`, naming the database.
#[actix_web::test]
async fn readyz_answers_within_its_timeout_when_the_database_does_not() {
    let app = TestApp::spawn_with(|s| {
        s.db_pool_size = 1;
        s.db_timeout_secs = 5;
        s.readyz_timeout_ms = 300;
    })
    .await;
    app.anonymous().get("/readyz").await.expect(200);
    // Another thread takes the only pooled connection and keeps it until told.
    let (held_tx, held) = std::sync::mpsc::channel::<()>();
    let (release, release_rx) = std::sync::mpsc::channel::<()>();
    let db = app.state.db.clone();
    let holder = std::thread::spawn(move || {
        db.run_blocking(|_conn| {
            held_tx.send(()).unwrap();
            let _ = release_rx.recv_timeout(std::time::Duration::from_secs(30));
            Ok(())
        })
    });
    held.recv().unwrap();
    let started = std::time::Instant::now();
    let res = app.anonymous().get("/readyz").await;
    let elapsed = started.elapsed();
    res.expect(503);
    assert!(
        elapsed < std::time::Duration::from_secs(2),
        "answered after {elapsed:?}"
    );
    let failing: Vec<_> = res.json()["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["ok"] == false)
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(failing, ["database"]);
    release.send(()).unwrap();
    holder.join().unwrap().unwrap();
    app.anonymous().get("/readyz").await.expect(200);
}

/// The headers every response carries, and what `/docs/` is allowed to load.
#[actix_web::test]
async fn every_response_carries_security_headers() {
    let app = TestApp::spawn().await;
    let org = app.create_org("company", "Phison", "TW").await;
    let org_path = format!("/api/v1/organizations/{}", org["id"].as_str().unwrap());
    let bad_json = app
        .anonymous()
        .header("content-type", "application/json")
        .request(Method::POST, "/api/v1/auth/login", None)
        .await;
    for (what, res) in [
        ("health", app.anonymous().get("/healthz").await),
        ("a read", app.anonymous().get(&org_path).await),
        ("a 404", app.anonymous().get("/nope").await),
        (
            "a 405",
            app.anonymous().request(Method::PUT, "/healthz", None).await,
        ),
        ("a 400", bad_json),
        (
            "the spec",
            app.anonymous().get("/api/v1/openapi.json").await,
        ),
        (
            "a CSV",
            app.operator()
                .get("/api/v1/reports/funding?format=csv")
                .await,
        ),
    ] {
        assert_eq!(
            res.header("x-content-type-options").as_deref(),
            Some("nosniff"),
            "{what}"
        );
        assert_eq!(
            res.header("x-frame-options").as_deref(),
            Some("DENY"),
            "{what}"
        );
        assert_eq!(
            res.header("referrer-policy").as_deref(),
            Some("same-origin"),
            "{what}"
        );
        let csp = res.header("content-security-policy").unwrap_or_default();
        assert!(csp.starts_with("default-src 'none'"), "{what}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    }

    // The docs page: its own policy, which allows exactly what the page loads.
    let page = app.anonymous().get("/docs/").await;
    page.expect(200);
    assert_eq!(page.header("x-frame-options").as_deref(), Some("DENY"));
    assert_eq!(
        page.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
    let csp = page.header("content-security-policy").unwrap();
    for directive in [
        "default-src 'none'",
        "script-src 'self';",
        "connect-src 'self'",
        "img-src 'self' data:",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "{directive} in {csp}");
    }
    assert!(!csp.contains("unsafe-eval"), "{csp}");
    let html = page.text();
    // No inline script (the policy would block it): every <script> names a file.
    assert_eq!(
        html.matches("<script").count(),
        html.matches("<script src=\"./").count(),
        "{html}"
    );
    // Everything it loads is on this origin, and served.
    for reference in html
        .split(['"', '\''])
        .filter(|s| s.ends_with(".js") || s.ends_with(".css") || s.ends_with(".png"))
    {
        assert!(!reference.contains("//"), "{reference} from another origin");
        let path = format!("/docs/{}", reference.trim_start_matches("./"));
        app.anonymous().get(&path).await.expect(200);
    }
    let init = app.anonymous().get("/docs/swagger-initializer.js").await;
    init.expect(200);
    assert!(
        init.text().contains("/api/v1/openapi.json"),
        "{}",
        init.text()
    );
}

/// Token answers and answers to requests with credentials are never stored by a browser or
/// proxy; anonymous public reads may be.
#[actix_web::test]
async fn credentials_and_tokens_are_never_stored() {
    let app = TestApp::spawn().await;
    let login = app
        .anonymous()
        .post(
            "/api/v1/auth/login",
            &serde_json::json!({"email": "operator@liaison.test", "password": common::PASSWORD}),
        )
        .await;
    login.expect(200);
    assert_eq!(login.header("cache-control").as_deref(), Some("no-store"));
    let refresh_token = login.json()["refresh_token"].as_str().unwrap().to_owned();
    let refreshed = app
        .anonymous()
        .post(
            "/api/v1/auth/refresh",
            &serde_json::json!({"refresh_token": refresh_token}),
        )
        .await;
    refreshed.expect(200);
    assert_eq!(
        refreshed.header("cache-control").as_deref(),
        Some("no-store")
    );
    let me = app.operator().get("/api/v1/me").await;
    me.expect(200);
    assert_eq!(me.header("cache-control").as_deref(), Some("no-store"));
    let forged = app.as_("forged.token.value").get("/api/v1/me").await;
    forged.expect(401);
    assert_eq!(forged.header("cache-control").as_deref(), Some("no-store"));
    let public = app.anonymous().get("/api/v1/organizations").await;
    public.expect(200);
    assert_eq!(public.header("cache-control"), None);
}

/// With `metrics_token` set, `/metrics` answers only that bearer token.
#[actix_web::test]
async fn metrics_can_require_a_token() {
    let token = "metrics-token-0123456789";
    let app = TestApp::spawn_with(|s| {
        s.metrics_token = Some(liaison::config::Secret(token.to_owned()));
    })
    .await;
    let res = app.anonymous().get("/metrics").await;
    res.expect(401);
    assert_eq!(res.code(), "unauthenticated");
    assert_eq!(res.header("www-authenticate").as_deref(), Some("Bearer"));
    // Another valid credential is not the metrics token.
    app.operator().get("/metrics").await.expect(401);
    let wrong = format!("{token}x");
    app.as_(&wrong).get("/metrics").await.expect(401);
    let res = app.as_(token).get("/metrics").await;
    res.expect(200);
    assert!(
        res.text().contains("liaison_http_requests_total"),
        "{}",
        res.text()
    );
}

/// Another writer holds the lock a write needs (on PostgreSQL the outbox's ordering lock, as
/// a replica frozen in the middle of an import did; on SQLite the write lock, as another
/// process's transaction does). The write answers 503 with `Retry-After` within the lock
/// timeout instead of waiting as long as the holder likes, reads and readiness keep
/// answering, and the write goes through once the lock is free.
#[actix_web::test]
async fn a_held_lock_makes_writes_503_within_the_lock_timeout_while_reads_go_on() {
    use diesel::Connection as _;
    use std::time::{Duration, Instant};
    let app = TestApp::spawn_with(|s| s.db_lock_timeout_ms = 500).await;
    let uni = app.create_org("university", "NTHU", "TW").await;
    let (locked_tx, locked) = std::sync::mpsc::channel::<()>();
    let (release, release_rx) = std::sync::mpsc::channel::<()>();
    let url = app.db.url.clone();
    let holder = std::thread::spawn(move || {
        let hold = |c: &mut dyn diesel::connection::SimpleConnection, begin: &str| {
            c.batch_execute(begin).unwrap();
            locked_tx.send(()).unwrap();
            let _ = release_rx.recv_timeout(Duration::from_secs(30));
            c.batch_execute("ROLLBACK").unwrap();
        };
        if url.starts_with("postgres") {
            let mut c = diesel::PgConnection::establish(&url).unwrap();
            let lock = liaison::db::outbox::OUTBOX_LOCK;
            hold(
                &mut c,
                &format!("BEGIN; SELECT pg_advisory_xact_lock({lock})"),
            );
        } else {
            let path = url.strip_prefix("sqlite://").unwrap();
            let mut c = diesel::SqliteConnection::establish(path).unwrap();
            hold(&mut c, "BEGIN IMMEDIATE");
        }
    });
    locked.recv().unwrap();

    // A new profile: a change the search index follows, so it goes through the outbox.
    let body = serde_json::json!({"university_id": uni["id"], "name": "Prof. Lin"});
    let started = Instant::now();
    let res = tokio::time::timeout(
        Duration::from_secs(15),
        app.operator().post("/api/v1/faculty", &body),
    )
    .await
    .expect("the write waited for the lock's holder");
    let elapsed = started.elapsed();
    res.expect(503);
    assert!(
        elapsed < Duration::from_secs(3),
        "answered after {elapsed:?}"
    );
    assert_eq!(res.header("retry-after").as_deref(), Some("1"));
    assert!(!res.text().contains("lock"), "no internals: {}", res.text());
    app.anonymous()
        .get("/api/v1/organizations")
        .await
        .expect(200);
    app.anonymous().get("/readyz").await.expect(200);

    release.send(()).unwrap();
    holder.join().unwrap();
    app.operator()
        .post("/api/v1/faculty", &body)
        .await
        .expect(201);
}

//! Every kind of bad input gets a precise problem+json answer and changes nothing; server
//! faults never leak internals.

mod common;

use actix_web::http::Method;
use actix_web::test::TestRequest;
use common::{TestApp, scrub};
use serde_json::json;

#[actix_web::test]
async fn malformed_json_is_400() {
    let app = TestApp::spawn().await;
    for body in ["{\"kind\": ", "{}}", "", "nul"] {
        let req = TestRequest::post()
            .uri("/api/v1/organizations")
            .insert_header(("authorization", format!("Bearer {}", app.operator_token)))
            .insert_header(("content-type", "application/json"))
            .set_payload(body);
        let res = app.send(req).await;
        res.expect(400);
        assert_eq!(res.code(), "malformed_json", "{body:?}");
    }
}

#[actix_web::test]
async fn wrong_content_type_is_415() {
    let app = TestApp::spawn().await;
    for ct in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        let mut req = TestRequest::post()
            .uri("/api/v1/organizations")
            .insert_header(("authorization", format!("Bearer {}", app.operator_token)))
            .set_payload(r#"{"kind":"company","name":"x","country":"TW"}"#);
        if let Some(ct) = ct {
            req = req.insert_header(("content-type", ct));
        }
        let res = app.send(req).await;
        res.expect(415);
        assert_eq!(res.code(), "unsupported_media_type");
    }
    // A charset parameter is fine.
    let req = TestRequest::post()
        .uri("/api/v1/organizations")
        .insert_header(("authorization", format!("Bearer {}", app.operator_token)))
        .insert_header(("content-type", "application/json; charset=utf-8"))
        .set_payload(r#"{"kind":"company","name":"x","country":"TW"}"#);
    app.send(req).await.expect(201);
}

#[actix_web::test]
async fn oversized_bodies_are_413_at_the_configured_limit() {
    let app = TestApp::spawn_with(|s| s.max_body_bytes = 2048).await;
    let big = json!({"kind": "company", "name": "x".repeat(3000), "country": "TW"});
    let res = app.operator().post("/api/v1/organizations", &big).await;
    res.expect(413);
    assert_eq!(res.code(), "payload_too_large");
    // Just under the limit is parsed (and then validated).
    let ok = json!({"kind": "company", "name": "x".repeat(1500), "country": "TW"});
    app.operator()
        .post("/api/v1/organizations", &ok)
        .await
        .expect(422);
    assert!(
        app.anonymous().get("/api/v1/organizations").await.json()["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[actix_web::test]
async fn unknown_routes_are_404_and_wrong_methods_405_with_allow() {
    let app = TestApp::spawn().await;
    for path in [
        "/nope",
        "/api/v1/universities",
        "/api/v2/organizations",
        "/api/v1/organizations/x/y/z",
    ] {
        let res = app.anonymous().get(path).await;
        res.expect(404);
        assert_eq!(res.code(), "not_found");
    }
    let res = app
        .anonymous()
        .request(Method::PUT, "/api/v1/organizations", None)
        .await;
    res.expect(405);
    assert_eq!(res.code(), "method_not_allowed");
    assert_eq!(res.header("allow").as_deref(), Some("GET, HEAD, POST"));
    let id = uuid::Uuid::now_v7();
    let res = app
        .anonymous()
        .request(Method::POST, &format!("/api/v1/organizations/{id}"), None)
        .await;
    res.expect(405);
    assert_eq!(
        res.header("allow").as_deref(),
        Some("DELETE, GET, HEAD, PATCH")
    );
    app.anonymous().delete("/healthz").await.expect(405);
    // HEAD is answered wherever GET is (the body is left out on the wire: tests/server.rs),
    // and is a 405 where GET is not.
    app.anonymous()
        .request(Method::HEAD, "/healthz", None)
        .await
        .expect(200);
    let res = app
        .anonymous()
        .request(Method::HEAD, "/api/v1/auth/login", None)
        .await;
    res.expect(405);
    assert_eq!(res.header("allow").as_deref(), Some("POST"));
}

/// `/faculty/import` takes only POST; its other methods fell through to `/faculty/{id}` and
/// answered 400 `invalid_path` ("import" is not an id), or 404 with HEAD.
#[actix_web::test]
async fn wrong_methods_on_faculty_import_are_405_not_a_profile_id() {
    let app = TestApp::spawn().await;
    for method in [
        Method::GET,
        Method::HEAD,
        Method::PATCH,
        Method::DELETE,
        Method::PUT,
    ] {
        let res = app
            .anonymous()
            .request(method.clone(), "/api/v1/faculty/import", None)
            .await;
        res.expect(405);
        assert_eq!(res.code(), "method_not_allowed", "{method}");
        assert_eq!(res.header("allow").as_deref(), Some("POST"), "{method}");
    }
}

/// An operation that needs a bearer token answers a caller without one 401 whatever else is
/// wrong with the request, as the OpenAPI document says: before, a stranger got 400 about a
/// malformed `If-Match` or a report's dates, and 422 about an invitation's body.
#[actix_web::test]
async fn strangers_get_401_before_any_input_is_read() {
    let app = TestApp::spawn().await;
    let id = uuid::Uuid::now_v7();
    let res = app
        .anonymous()
        .if_match("not-a-tag")
        .patch(&format!("/api/v1/faculty/{id}"), &json!({"name": "x"}))
        .await;
    res.expect(401);
    assert_eq!(res.code(), "unauthenticated");
    assert_eq!(res.header("www-authenticate").as_deref(), Some("Bearer"));
    app.anonymous()
        .get(&format!(
            "/api/v1/reports/funnel?university_id={id}&from=2001-01-01&to=2000-01-01"
        ))
        .await
        .expect(401);
    app.anonymous()
        .post(
            &format!("/api/v1/needs/{id}/invitations"),
            &json!({"faculty_id": "nope"}),
        )
        .await
        .expect(401);
    app.anonymous()
        .get("/api/v1/organizations/not-an-id/members")
        .await
        .expect(401);
    // Operations open to anyone still read their input first.
    app.anonymous()
        .get("/api/v1/faculty/not-an-id")
        .await
        .expect(400);
}

#[actix_web::test]
async fn bad_path_and_query_parameters_are_400_with_the_parameter_named() {
    let app = TestApp::spawn().await;
    let res = app
        .anonymous()
        .get("/api/v1/organizations/not-a-uuid")
        .await;
    res.expect(400);
    assert_eq!(res.code(), "invalid_path");
    app.anonymous()
        .get(&format!("/api/v1/organizations/{}", uuid::Uuid::now_v7()))
        .await
        .expect(404);

    for (query, field) in [
        ("limit=abc", "limit"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("cursor=!!!", "cursor"),
        ("cursor=bm90LWFuLWlk", "cursor"),
        ("kind=school", "kind"),
        ("country=XX", "country"),
        ("colour=blue", "colour"),
    ] {
        let res = app
            .anonymous()
            .get(&format!("/api/v1/organizations?{query}"))
            .await;
        res.expect(400);
        let p = res.json();
        assert_eq!(p["code"], "invalid_query", "{query}");
        assert_eq!(p["errors"][0]["field"], field, "{query}: {p}");
    }
}

#[actix_web::test]
async fn malformed_if_match_is_400() {
    let app = TestApp::spawn().await;
    let org = app.create_org("company", "Phison", "TW").await;
    let path = format!("/api/v1/organizations/{}", org["id"].as_str().unwrap());
    let res = app
        .operator()
        .if_match("1")
        .patch(&path, &json!({"name": "y"}))
        .await;
    res.expect(400);
    assert_eq!(res.code(), "invalid_header");
    assert_eq!(app.anonymous().get(&path).await.json()["name"], "Phison");
}

#[actix_web::test]
async fn server_faults_are_500_without_internals() {
    let app = TestApp::spawn().await;
    app.create_org("company", "Wistron", "TW").await;
    // Break the database under the service: the table disappears.
    app.db
        .execute("ALTER TABLE organizations RENAME TO organizations_gone");
    let res = app.anonymous().get("/api/v1/organizations").await;
    res.expect(500);
    assert_eq!(res.code(), "internal");
    let text = res.text().to_lowercase();
    for leak in [
        "organizations",
        "table",
        "sql",
        "relation",
        "diesel",
        ".rs",
        "select",
    ] {
        assert!(!text.contains(leak), "500 body leaks {leak:?}: {text}");
    }
}

#[actix_web::test]
async fn problem_types_resolve() {
    let app = TestApp::spawn().await;
    let res = app.anonymous().get("/problems/validation_failed").await;
    res.expect(200);
    assert_eq!(res.json()["status"], 422);
    app.anonymous().get("/problems/nope").await.expect(404);
}

/// A representative problem document of each status, whole: what a client reads.
#[actix_web::test]
async fn problem_documents_read_as_a_whole() {
    let app = TestApp::spawn().await;
    let uni = app.org_id("university", "NTHU", "TW").await;
    let org = format!("/api/v1/organizations/{uni}");
    let faculty = app.member_token(&uni, "faculty").await;
    let missing = "/api/v1/organizations/0190a5b0-0000-7000-8000-000000000000";
    let mut documents = serde_json::Map::new();
    for (name, res) in [
        (
            "400 a malformed id in the path",
            app.anonymous().get("/api/v1/faculty/not-an-id").await,
        ),
        (
            "401 no token",
            app.anonymous()
                .if_match("*")
                .patch(&org, &json!({"name": "X"}))
                .await,
        ),
        (
            "403 a professor renames the university",
            app.as_(&faculty)
                .if_match("*")
                .patch(&org, &json!({"name": "X"}))
                .await,
        ),
        (
            "404 no such organization",
            app.anonymous().get(missing).await,
        ),
        (
            "409 a university with professors becomes a company",
            app.operator()
                .if_match("*")
                .patch(&org, &json!({"kind": "company"}))
                .await,
        ),
        (
            "412 a stale If-Match",
            app.operator()
                .if_match("\"999\"")
                .patch(&org, &json!({"name": "X"}))
                .await,
        ),
        (
            "422 an organization without a name or country",
            app.operator()
                .post(
                    "/api/v1/organizations",
                    &json!({"kind": "company", "name": ""}),
                )
                .await,
        ),
        (
            "428 no If-Match",
            app.operator().patch(&org, &json!({"name": "X"})).await,
        ),
    ] {
        let status: u16 = name[..3].parse().unwrap();
        res.expect(status);
        documents.insert(name.to_owned(), res.json());
    }
    insta::assert_json_snapshot!("problem_documents", scrub(&documents.into()));
}

//! Organizations end to end: create, read, list, update, delete, through HTTP.

mod common;

use common::TestApp;
use serde_json::{Value, json};

#[actix_web::test]
async fn create_then_get_round_trips_multilingual_names() {
    let app = TestApp::spawn().await;
    let res = app
        .operator().post("/api/v1/organizations", &json!({"kind": "university", "name": "National Yang Ming Chiao Tung University",
                    "local_name": "國立陽明交通大學", "country": "tw", "website": "https://www.nycu.edu.tw"}))
        .await;
    res.expect(201);
    let created = res.json();
    let id = created["id"].as_str().unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok(), "id is a UUID: {id}");
    assert_eq!(
        res.header("location").unwrap(),
        format!("/api/v1/organizations/{id}")
    );
    assert_eq!(res.header("etag").as_deref(), Some("\"1\""));
    assert_eq!(created["country"], "TW", "country normalised to upper case");
    assert_eq!(created["local_name"], "國立陽明交通大學");
    assert_eq!(created["website"], "https://www.nycu.edu.tw/");

    let got = app.anonymous().get(&res.header("location").unwrap()).await;
    got.expect(200);
    assert_eq!(got.json(), created);
    assert_eq!(got.header("etag").as_deref(), Some("\"1\""));

    let korean = app
        .operator().post("/api/v1/organizations", &json!({"kind": "university", "name": "Seoul National University", "local_name": "서울대학교", "country": "KR"}))
        .await;
    korean.expect(201);
    let got = app
        .anonymous()
        .get(&format!(
            "/api/v1/organizations/{}",
            korean.json()["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(got.json()["local_name"], "서울대학교");
    assert!(got.json()["website"].is_null());
}

#[actix_web::test]
async fn conditional_get_answers_304() {
    let app = TestApp::spawn().await;
    let org = app.create_org("company", "TSMC", "TW").await;
    let path = format!("/api/v1/organizations/{}", org["id"].as_str().unwrap());
    let res = app.anonymous().if_none_match("\"1\"").get(&path).await;
    assert_eq!(res.status.as_u16(), 304);
    let res = app.anonymous().if_none_match("\"7\"").get(&path).await;
    res.expect(200);
}

#[actix_web::test]
async fn list_pages_with_a_cursor_in_creation_order_and_filters() {
    let app = TestApp::spawn().await;
    let mut ids = Vec::new();
    for (kind, name, country) in [
        ("university", "KAIST", "KR"),
        ("company", "Samsung Electronics", "KR"),
        ("university", "National Taiwan University", "TW"),
        ("company", "MediaTek", "TW"),
        ("foundation", "Alumni Foundation", "TW"),
    ] {
        ids.push(app.org_id(kind, name, country).await);
    }
    let mut seen = Vec::new();
    let mut url = "/api/v1/organizations?limit=2".to_owned();
    let mut pages = 0;
    loop {
        let res = app.anonymous().get(&url).await;
        res.expect(200);
        let body = res.json();
        let items = body["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|o| o["id"].as_str().unwrap().to_owned()));
        pages += 1;
        match body.get("next_cursor").and_then(|c| c.as_str()) {
            Some(c) => url = format!("/api/v1/organizations?limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, ids, "every organization once, in creation order");

    let res = app
        .anonymous()
        .get("/api/v1/organizations?kind=university")
        .await;
    let names = common::each(&res.json(), "items", |o| {
        o["name"].as_str().unwrap().to_owned()
    });
    assert_eq!(names, ["KAIST", "National Taiwan University"]);
    let res = app
        .anonymous()
        .get("/api/v1/organizations?country=tw&kind=company")
        .await;
    let names = common::each(&res.json(), "items", |o| {
        o["name"].as_str().unwrap().to_owned()
    });
    assert_eq!(names, ["MediaTek"]);
}

#[actix_web::test]
async fn updates_need_a_current_etag_and_change_nothing_otherwise() {
    let app = TestApp::spawn().await;
    let res = app
        .operator().post("/api/v1/organizations", &json!({"kind": "university", "name": "POSTECH", "local_name": "포항공과대학교", "country": "KR"}))
        .await;
    let org = res.json();
    let path = format!("/api/v1/organizations/{}", org["id"].as_str().unwrap());

    // No If-Match: 428, nothing changes.
    assert_eq!(
        app.operator()
            .patch(&path, &json!({"name": "X"}))
            .await
            .expect(428)
            .code(),
        "precondition_required"
    );
    // Stale If-Match: 412, nothing changes.
    assert_eq!(
        app.operator()
            .if_match("\"9\"")
            .patch(&path, &json!({"name": "X"}))
            .await
            .expect(412)
            .code(),
        "precondition_failed"
    );
    // Invalid content: 422, nothing changes.
    let bad = app
        .operator()
        .if_match("\"1\"")
        .patch(&path, &json!({"country": "ZZ", "name": ""}))
        .await;
    bad.expect(422);
    let fields: Vec<_> = bad.json()["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(fields, ["name", "country"]);
    let unchanged = app.anonymous().get(&path).await;
    assert_eq!(unchanged.json(), org);
    assert_eq!(unchanged.header("etag").as_deref(), Some("\"1\""));

    // Current If-Match: applied; null clears an optional field; omitted fields stay.
    let ok = app
        .operator().if_match("\"1\"").patch(&path, &json!({"name": "Pohang University of Science and Technology", "local_name": null, "website": "https://postech.ac.kr"}))
        .await;
    ok.expect(200);
    assert_eq!(ok.header("etag").as_deref(), Some("\"2\""));
    let body = ok.json();
    assert_eq!(body["name"], "Pohang University of Science and Technology");
    assert!(body["local_name"].is_null());
    assert_eq!(body["country"], "KR");
    assert_eq!(body["created_at"], org["created_at"]);
    assert_eq!(app.anonymous().get(&path).await.json(), body);

    // The old ETag is now stale.
    app.operator()
        .if_match("\"1\"")
        .patch(&path, &json!({"name": "Y"}))
        .await
        .expect(412);
    // `*` matches any current version.
    app.operator()
        .if_match("*")
        .patch(&path, &json!({"name": "POSTECH"}))
        .await
        .expect(200);
}

#[actix_web::test]
async fn delete_is_soft_and_respects_if_match() {
    let app = TestApp::spawn().await;
    let org = app
        .create_org(
            "government",
            "National Science and Technology Council",
            "TW",
        )
        .await;
    let path = format!("/api/v1/organizations/{}", org["id"].as_str().unwrap());
    app.operator()
        .if_match("\"5\"")
        .delete(&path)
        .await
        .expect(412);
    app.anonymous().get(&path).await.expect(200);
    assert_eq!(
        app.operator()
            .if_match("\"1\"")
            .delete(&path)
            .await
            .status
            .as_u16(),
        204
    );
    app.anonymous().get(&path).await.expect(404);
    app.operator().delete(&path).await.expect(404);
    app.operator()
        .if_match("*")
        .patch(&path, &json!({"name": "x"}))
        .await
        .expect(404);
    let list = app.anonymous().get("/api/v1/organizations").await.json();
    assert!(list["items"].as_array().unwrap().is_empty());
    // The row is kept (soft delete) for reports and restore.
    let kept = app
        .state
        .db
        .run(|c| {
            use diesel::prelude::*;
            use liaison::db::schema::organizations::dsl::*;
            Ok(organizations
                .filter(deleted_at.is_not_null())
                .count()
                .get_result::<i64>(c)?)
        })
        .await
        .unwrap();
    assert_eq!(kept, 1);
}

#[actix_web::test]
async fn create_reports_every_invalid_field_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let res = app
        .operator().post("/api/v1/organizations", &json!({"kind": "university", "name": " ", "country": "XX", "website": "ftp://example.org",
                    "local_name": "a".repeat(201)}))
        .await;
    res.expect(422);
    let p = res.json();
    assert_eq!(p["code"], "validation_failed");
    let got: Vec<(String, String)> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().to_owned(),
                e["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("name".to_owned(), "required".to_owned()),
            ("local_name".to_owned(), "too_long".to_owned()),
            ("country".to_owned(), "invalid_country".to_owned()),
            ("website".to_owned(), "invalid_url".to_owned()),
        ]
    );

    for (body, field, code) in [
        (
            json!({"kind": "school", "name": "x", "country": "TW"}),
            "kind",
            "invalid_value",
        ),
        (json!({"name": "x", "country": "TW"}), "kind", "required"),
        (
            json!({"kind": "company", "name": "x", "country": "TW", "ceo": "y"}),
            "ceo",
            "unknown_field",
        ),
        (
            json!({"kind": "company", "name": 5, "country": "TW"}),
            "name",
            "invalid_type",
        ),
        (json!(["not", "an", "object"]), "body", "invalid_type"),
    ] {
        let res = app.operator().post("/api/v1/organizations", &body).await;
        res.expect(422);
        let e = &res.json()["errors"][0];
        assert_eq!(
            (e["field"].as_str().unwrap(), e["code"].as_str().unwrap()),
            (field, code),
            "{body}"
        );
    }
    assert!(
        app.anonymous().get("/api/v1/organizations").await.json()["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[actix_web::test]
async fn null_for_a_required_field_is_422_and_an_empty_patch_changes_nothing() {
    let app = TestApp::spawn().await;
    let org = app.create_org("company", "NVIDIA", "US").await;
    let path = format!("/api/v1/organizations/{}", org["id"].as_str().unwrap());
    let res = app
        .operator()
        .if_match("\"1\"")
        .patch(&path, &json!({"name": null, "country": null}))
        .await;
    res.expect(422);
    let fields: Vec<_> = res.json()["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(fields, ["name", "country"]);
    let res = app
        .operator()
        .if_match("\"1\"")
        .patch(&path, &json!({}))
        .await;
    res.expect(200);
    assert_eq!(
        res.header("etag").as_deref(),
        Some("\"1\""),
        "no change, no new version"
    );
    let res = app
        .operator()
        .if_match("\"1\"")
        .patch(&path, &json!({"name": "NVIDIA"}))
        .await;
    assert_eq!(res.header("etag").as_deref(), Some("\"1\""));
}

#[actix_web::test]
async fn concurrent_updates_with_the_same_etag_let_exactly_one_win() {
    let app = TestApp::spawn().await;
    let org = app.create_org("company", "AMD", "US").await;
    let path = format!("/api/v1/organizations/{}", org["id"].as_str().unwrap());
    for round in 0..5 {
        let etag = app.anonymous().get(&path).await.header("etag").unwrap();
        let (a, b) = futures_util::future::join(
            app.operator()
                .if_match(&etag)
                .patch(&path, &json!({"name": format!("AMD a{round}")})),
            app.operator()
                .if_match(&etag)
                .patch(&path, &json!({"name": format!("AMD b{round}")})),
        )
        .await;
        let mut statuses = [a.status.as_u16(), b.status.as_u16()];
        statuses.sort_unstable();
        assert_eq!(
            statuses,
            [200, 412],
            "round {round}: {} / {}",
            a.text(),
            b.text()
        );
        let winner = if a.status.as_u16() == 200 {
            a.json()
        } else {
            b.json()
        };
        assert_eq!(
            app.anonymous().get(&path).await.json()["name"],
            winner["name"]
        );
    }
}

/// Issue 19, item 4: a company's admin turned it into a university, then created faculty
/// profiles and read university reports. The kind is fixed after creation; only an operator
/// may correct it, and only while nothing the organization holds depends on it.
#[actix_web::test]
async fn only_an_operator_changes_a_kind_and_not_while_members_or_records_depend_on_it() {
    let app = TestApp::spawn().await;
    let co = app.create_org("company", "Quanta", "TW").await;
    let co_id = co["id"].as_str().unwrap();
    let path = format!("/api/v1/organizations/{co_id}");
    let admin = app.member_token(co_id, "admin").await;
    let patch = |token: &str, body: Value| {
        let (app, path, token) = (&app, path.clone(), token.to_owned());
        async move { app.as_(&token).if_match("*").patch(&path, &body).await }
    };

    // The admin edits the organization, but not its kind (also not together with other fields).
    let res = patch(&admin, json!({"kind": "university"})).await;
    res.expect(403);
    assert_eq!(res.code(), "forbidden");
    patch(&admin, json!({"kind": "university", "name": "Quanta U"}))
        .await
        .expect(403);
    let unchanged = app.anonymous().get(&path).await;
    assert_eq!(unchanged.json(), co);
    assert_eq!(unchanged.header("etag").as_deref(), Some("\"1\""));
    // Naming the kind it already has is no change of kind.
    let res = patch(
        &admin,
        json!({"kind": "company", "name": "Quanta Computer"}),
    )
    .await;
    res.expect(200);
    assert_eq!(res.json()["kind"], "company");
    // Still a company: it cannot keep faculty profiles.
    let res = app
        .as_(&admin)
        .post(
            "/api/v1/faculty",
            &json!({"university_id": co_id, "name": "Taken Over"}),
        )
        .await;
    res.expect(422);
    assert_eq!(res.json()["errors"][0]["code"], "not_a_university");

    // A university's admin cannot either.
    let uni = app.create_org("university", "NTHU", "TW").await;
    let uni_id = uni["id"].as_str().unwrap();
    let uni_admin = app.member_token(uni_id, "admin").await;
    app.as_(&uni_admin)
        .if_match("*")
        .patch(
            &format!("/api/v1/organizations/{uni_id}"),
            &json!({"kind": "company"}),
        )
        .await
        .expect(403);

    // The operator may, but not while members hold roles the new kind cannot grant...
    app.member_token(uni_id, "faculty").await;
    let res = app
        .operator()
        .if_match("*")
        .patch(
            &format!("/api/v1/organizations/{uni_id}"),
            &json!({"kind": "company"}),
        )
        .await;
    res.expect(409);
    let codes = common::each(&res.json(), "errors", |e| {
        (e["field"].clone(), e["code"].clone())
    });
    assert_eq!(codes, [(json!("kind"), json!("roles_do_not_fit"))]);
    assert_eq!(
        app.anonymous()
            .get(&format!("/api/v1/organizations/{uni_id}"))
            .await
            .json()["kind"],
        "university"
    );

    // ...nor while it holds records only its present kind may hold.
    app.operator()
        .post(
            "/api/v1/needs",
            &json!({"company_id": co_id, "title": "Thermal design", "status": "draft"}),
        )
        .await
        .expect(201);
    let res = app
        .operator()
        .if_match("*")
        .patch(&path, &json!({"kind": "university"}))
        .await;
    res.expect(409);
    let codes = common::each(&res.json(), "errors", |e| e["code"].clone());
    assert_eq!(codes, [json!("kind_in_use")]);
    assert_eq!(app.anonymous().get(&path).await.json()["kind"], "company");

    // An organization created with the wrong kind, with nothing depending on it yet: corrected.
    let wrong = app.create_org("company", "Academia Sinica", "TW").await;
    let wrong_id = wrong["id"].as_str().unwrap();
    app.member_token(wrong_id, "admin").await;
    app.member_token(wrong_id, "staff").await;
    let res = app
        .operator()
        .if_match("*")
        .patch(
            &format!("/api/v1/organizations/{wrong_id}"),
            &json!({"kind": "university"}),
        )
        .await;
    res.expect(200);
    assert_eq!(res.json()["kind"], "university");
}

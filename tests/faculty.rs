//! Faculty profiles through the API: full records, visibility, who may write, ETags, lists
//! with filters, soft delete and restore.

mod common;

use actix_web::http::Method;
use common::{PASSWORD, TestApp};
use serde_json::{Value, json};

fn profile(university_id: &str, name: &str) -> Value {
    json!({
        "university_id": university_id, "name": name, "local_name": "陳建宏", "title": "Professor",
        "department": "Computer Science", "email": "chen@nycu.edu.tw", "orcid": "0000-0002-1825-0097",
        "research_interests": "LLM training on GPU clusters\nand distributed systems",
        "keywords": ["LLM", "GPU clusters", "llm"], "bio": "Leads the AI systems lab.",
        "languages": ["zh-TW", "en"],
        "publications": [
            {"title": "Scaling LLM training", "abstract": "We study...", "year": 2025, "venue": "MLSys", "doi": "10.1145/3620665.3640366"},
            {"title": "GPU 클러스터 기반 LLM 학습", "year": 2024}
        ],
        "availability": ["joint_lab", "sponsored_research"], "visibility": "public"
    })
}

#[actix_web::test]
async fn full_profile_round_trip_with_publications() {
    let app = TestApp::spawn().await;
    let uni = app.org_id("university", "NYCU", "TW").await;
    let res = app
        .operator()
        .post("/api/v1/faculty", &profile(&uni, "Chen Chien-Hung"))
        .await;
    res.expect(201);
    let p = res.json();
    assert_eq!(
        p["keywords"],
        json!(["LLM", "GPU clusters"]),
        "duplicates (ignoring case) dropped"
    );
    assert_eq!(
        p["availability"],
        json!(["sponsored_research", "joint_lab"])
    );
    assert_eq!(p["publications"][1]["title"], "GPU 클러스터 기반 LLM 학습");
    assert_eq!(p["publication_count"], 2);
    assert_eq!(p["orcid"], "0000-0002-1825-0097");
    let got = app.anonymous().get(&res.header("location").unwrap()).await;
    got.expect(200);
    assert_eq!(got.json(), p);
    assert_eq!(got.header("etag").as_deref(), Some("\"1\""));

    // Hundreds of publications are fine.
    let pubs: Vec<Value> = (0..400)
        .map(|i| json!({"title": format!("Paper {i}"), "year": 2000 + (i % 25)}))
        .collect();
    let path = res.header("location").unwrap();
    let res = app
        .operator()
        .if_match("\"1\"")
        .patch(&path, &json!({"publications": pubs}))
        .await;
    res.expect(200);
    assert_eq!(res.json()["publication_count"], 400);
    // Lists show the count, not the publications.
    let list = app
        .anonymous()
        .get(&format!("/api/v1/faculty?university_id={uni}"))
        .await
        .json();
    assert_eq!(list["items"][0]["publication_count"], 400);
    assert!(list["items"][0].get("publications").is_none());
}

#[actix_web::test]
async fn validation_reports_every_bad_field() {
    let app = TestApp::spawn().await;
    let uni = app.org_id("university", "NTU", "TW").await;
    let company = app.org_id("company", "TSMC", "TW").await;
    let mut bad = profile(&uni, "");
    bad["orcid"] = json!("0000-0002-1825-0098");
    bad["email"] = json!("not-an-email");
    bad["publications"] = json!([{"title": "ok", "year": 1500}, {"title": "", "doi": "nope"}]);
    let res = app.operator().post("/api/v1/faculty", &bad).await;
    res.expect(422);
    let fields: Vec<String> = res.json()["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect();
    for f in [
        "name",
        "email",
        "orcid",
        "publications[0].year",
        "publications[1].title",
        "publications[1].doi",
    ] {
        assert!(fields.contains(&f.to_owned()), "{f} in {fields:?}");
    }
    let res = app
        .operator()
        .post(
            "/api/v1/faculty",
            &json!({"university_id": company, "name": "x"}),
        )
        .await;
    res.expect(422);
    assert_eq!(res.json()["errors"][0]["code"], "not_a_university");
    let res = app
        .operator()
        .post(
            "/api/v1/faculty",
            &json!({"university_id": uni, "name": "x", "availability": ["golf"]}),
        )
        .await;
    res.expect(422);
    assert!(
        app.anonymous().get("/api/v1/faculty").await.json()["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[actix_web::test]
async fn members_only_profiles_are_hidden_from_anonymous_callers() {
    let app = TestApp::spawn().await;
    let uni = app.org_id("university", "NTHU", "TW").await;
    let mut p = profile(&uni, "Hidden Professor");
    p["visibility"] = json!("members");
    let hidden = app.operator().post("/api/v1/faculty", &p).await.json();
    let mut p = profile(&uni, "Public Professor");
    p["orcid"] = json!(null);
    app.operator().post("/api/v1/faculty", &p).await.expect(201);
    let path = format!("/api/v1/faculty/{}", hidden["id"].as_str().unwrap());

    app.anonymous().get(&path).await.expect(404);
    let anon = app.anonymous().get("/api/v1/faculty").await.json();
    let names: Vec<_> = anon["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["Public Professor"]);

    app.create_user("someone@company.com", PASSWORD, false)
        .await;
    let token = app.login("someone@company.com", PASSWORD).await;
    app.as_(&token).get(&path).await.expect(200);
    assert_eq!(
        app.as_(&token).get("/api/v1/faculty").await.json()["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[actix_web::test]
async fn a_professor_edits_their_own_profile_and_no_one_elses() {
    let app = TestApp::spawn().await;
    let uni = app.org_id("university", "SNU", "TW").await;
    let prof = app.member_token(&uni, "faculty").await;
    let prof_id = app.as_(&prof).get("/api/v1/me").await.json()["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // The professor creates their own profile (and may not create one for someone else).
    let mut mine = profile(&uni, "Kim Min-jun");
    mine["owner_user_id"] = json!(prof_id);
    let res = app.as_(&prof).post("/api/v1/faculty", &mine).await;
    res.expect(201);
    let mine_path = res.header("location").unwrap();
    let mut other = profile(&uni, "Someone Else");
    other["orcid"] = json!(null);
    app.as_(&prof)
        .post("/api/v1/faculty", &other)
        .await
        .expect(403);
    let other_path = app
        .operator()
        .post("/api/v1/faculty", &other)
        .await
        .header("location")
        .unwrap();

    app.as_(&prof)
        .if_match("\"1\"")
        .patch(&mine_path, &json!({"department": "인공지능학과"}))
        .await
        .expect(200);
    app.as_(&prof)
        .if_match("*")
        .patch(&other_path, &json!({"department": "x"}))
        .await
        .expect(403);
    // The owner may not hand the profile to someone else, nor delete the office's record.
    app.as_(&prof)
        .if_match("*")
        .patch(&mine_path, &json!({"owner_user_id": null}))
        .await
        .expect(403);
    app.as_(&prof).delete(&mine_path).await.expect(403);
    // The university's staff may edit both.
    let staff = app.member_token(&uni, "staff").await;
    app.as_(&staff)
        .if_match("*")
        .patch(&other_path, &json!({"department": "EE"}))
        .await
        .expect(200);
    app.as_(&staff)
        .if_match("*")
        .patch(&mine_path, &json!({"title": "Professor"}))
        .await
        .expect(200);
}

#[actix_web::test]
async fn etags_guard_updates() {
    let app = TestApp::spawn().await;
    let uni = app.org_id("university", "KAIST", "TW").await;
    let path = app
        .operator()
        .post("/api/v1/faculty", &profile(&uni, "A"))
        .await
        .header("location")
        .unwrap();
    app.operator()
        .patch(&path, &json!({"title": "x"}))
        .await
        .expect(428);
    app.operator()
        .if_match("\"2\"")
        .patch(&path, &json!({"title": "x"}))
        .await
        .expect(412);
    app.operator()
        .if_match("\"1\"")
        .patch(&path, &json!({"name": null}))
        .await
        .expect(422);
    let res = app
        .operator()
        .if_match("\"1\"")
        .patch(
            &path,
            &json!({"title": "Distinguished Professor", "email": null}),
        )
        .await;
    res.expect(200);
    assert_eq!(res.header("etag").as_deref(), Some("\"2\""));
    assert!(res.json()["email"].is_null());
    assert_eq!(res.json()["name"], "A");
    // A no-op keeps the version.
    assert_eq!(
        app.operator()
            .if_match("\"2\"")
            .patch(&path, &json!({"title": "Distinguished Professor"}))
            .await
            .header("etag")
            .as_deref(),
        Some("\"2\"")
    );
}

#[actix_web::test]
async fn lists_filter_and_page_stably() {
    let app = TestApp::spawn().await;
    let a = app.org_id("university", "POSTECH", "TW").await;
    let b = app.org_id("university", "NTU", "TW").await;
    for (uni, name, dept, kw, avail) in [
        (&a, "P1", "Physics", "quantum", "consulting"),
        (&a, "P2", "Chemistry", "Catalysis", "licensing"),
        (&b, "P3", "Physics", "QUANTUM", "consulting"),
        (&b, "P4", "Physics", "optics", "joint_lab"),
    ] {
        app.operator().post("/api/v1/faculty", &json!({"university_id": uni, "name": name, "department": dept, "keywords": [kw], "availability": [avail]})).await.expect(201);
    }
    let names = |v: Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        names(
            app.anonymous()
                .get(&format!("/api/v1/faculty?university_id={a}"))
                .await
                .json()
        ),
        ["P1", "P2"]
    );
    assert_eq!(
        names(
            app.anonymous()
                .get("/api/v1/faculty?department=Physics")
                .await
                .json()
        ),
        ["P1", "P3", "P4"]
    );
    assert_eq!(
        names(
            app.anonymous()
                .get("/api/v1/faculty?keyword=Quantum")
                .await
                .json()
        ),
        ["P1", "P3"]
    );
    assert_eq!(
        names(
            app.anonymous()
                .get("/api/v1/faculty?collaboration_type=consulting&department=Physics")
                .await
                .json()
        ),
        ["P1", "P3"]
    );
    let first = app.anonymous().get("/api/v1/faculty?limit=3").await.json();
    assert_eq!(names(first.clone()), ["P1", "P2", "P3"]);
    let rest = app
        .anonymous()
        .get(&format!(
            "/api/v1/faculty?limit=3&cursor={}",
            first["next_cursor"].as_str().unwrap()
        ))
        .await
        .json();
    assert_eq!(names(rest), ["P4"]);
    app.anonymous()
        .get("/api/v1/faculty?collaboration_type=golf")
        .await
        .expect(400);
    app.anonymous()
        .get("/api/v1/faculty?university_id=nope")
        .await
        .expect(400);
}

#[actix_web::test]
async fn deletion_is_soft_and_operators_restore() {
    let app = TestApp::spawn().await;
    let uni = app.org_id("university", "NCKU", "TW").await;
    let created = app
        .operator()
        .post("/api/v1/faculty", &profile(&uni, "Gone Soon"))
        .await
        .json();
    let id = created["id"].as_str().unwrap();
    let path = format!("/api/v1/faculty/{id}");
    let staff = app.member_token(&uni, "staff").await;
    assert_eq!(app.as_(&staff).delete(&path).await.status.as_u16(), 204);
    assert!(
        app.as_(&staff).get("/api/v1/faculty").await.json()["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // A deleted record is gone for everyone who does not ask for it, operators included;
    // only operators may ask for it, list deleted records or restore.
    app.as_(&staff)
        .get(&format!("{path}?include_deleted=true"))
        .await
        .expect(403);
    app.anonymous()
        .get(&format!("{path}?include_deleted=true"))
        .await
        .expect(401);
    app.as_(&staff)
        .get("/api/v1/faculty?include_deleted=true")
        .await
        .expect(403);
    assert_eq!(
        app.operator()
            .get("/api/v1/faculty?include_deleted=true")
            .await
            .json()["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    app.anonymous()
        .get("/api/v1/faculty?include_deleted=true")
        .await
        .expect(401);
    let restored = app.assert_deleted_then_restored(&path, &staff).await;
    assert!(restored.get("deleted_at").is_none());
}

/// Issue 19, item 3: a university's office set `owner_user_id` to itself (or to anyone, a
/// company's staff included) and so read the confidential needs the professor was invited to
/// and made the professor's moves. Who owns a profile is not its content: only the university's
/// admins and operators link a profile, only to a faculty member of that university, and
/// every link is audited; staff edit the content.
#[actix_web::test]
async fn only_admins_link_a_profile_and_only_to_their_faculty_with_an_audit_entry() {
    let app = TestApp::spawn().await;
    let uni = app.org_id("university", "NTU", "TW").await;
    let other_uni = app.org_id("university", "NCKU", "TW").await;
    let co = app.org_id("company", "ASE", "TW").await;
    let me = |token: String| {
        let app = &app;
        async move {
            let id = app.as_(&token).get("/api/v1/me").await.json()["user"]["id"]
                .as_str()
                .unwrap()
                .to_owned();
            (token, id)
        }
    };
    let (admin, _) = me(app.member_token(&uni, "admin").await).await;
    let (staff, staff_id) = me(app.member_token(&uni, "staff").await).await;
    let (_, prof_id) = me(app.member_token(&uni, "faculty").await).await;
    let (_, elsewhere_id) = me(app.member_token(&other_uni, "faculty").await).await;
    let (_, co_staff_id) = me(app.member_token(&co, "staff").await).await;
    let send = |method: Method, path: String, token: String, body: Value| {
        let app = &app;
        async move {
            app.as_(&token)
                .if_match("*")
                .request(method, &path, Some(&body))
                .await
        }
    };
    let mut body = profile(&uni, "Chen Chien-hung");
    body["orcid"] = json!(null);

    // Staff create profiles, but not linked to an account: 403, and nothing is created.
    for owner in [&staff_id, &prof_id, &co_staff_id] {
        let mut linked = body.clone();
        linked["owner_user_id"] = json!(owner);
        let res = send(
            Method::POST,
            "/api/v1/faculty".into(),
            staff.clone(),
            linked,
        )
        .await;
        res.expect(403);
        assert_eq!(res.code(), "forbidden");
    }
    let listed = app
        .anonymous()
        .get(&format!("/api/v1/faculty?university_id={uni}"))
        .await;
    assert_eq!(listed.json()["items"], json!([]));
    let res = send(
        Method::POST,
        "/api/v1/faculty".into(),
        staff.clone(),
        body.clone(),
    )
    .await;
    res.expect(201);
    let path = res.header("location").unwrap();

    // Staff edit the content but never the owner: not to themselves, not to anyone.
    for owner in [&staff_id, &prof_id, &co_staff_id] {
        let res = send(
            Method::PATCH,
            path.clone(),
            staff.clone(),
            json!({"owner_user_id": owner, "title": "Taken over"}),
        )
        .await;
        res.expect(403);
    }
    let stored = app.operator().get(&path).await;
    assert_eq!(stored.json()["owner_user_id"], Value::Null);
    assert_eq!(stored.json()["title"], "Professor");
    assert_eq!(stored.header("etag").as_deref(), Some("\"1\""));

    // Admins and operators link only to a faculty member of this university: 422 otherwise.
    for (token, owner) in [
        (&admin, &staff_id),
        (&admin, &co_staff_id),
        (&admin, &elsewhere_id),
        (&app.operator_token, &co_staff_id),
        (
            &app.operator_token,
            &"0190c2a4-0000-7000-8000-000000000000".to_owned(),
        ),
    ] {
        let res = send(
            Method::PATCH,
            path.clone(),
            token.clone(),
            json!({"owner_user_id": owner}),
        )
        .await;
        res.expect(422);
        let errors = res.json()["errors"].clone();
        assert_eq!(errors[0]["field"], "owner_user_id", "{errors}");
        assert_eq!(errors[0]["code"], "not_faculty_member", "{errors}");
        let mut created = body.clone();
        created["owner_user_id"] = json!(owner);
        created["name"] = json!("Not Created");
        send(
            Method::POST,
            "/api/v1/faculty".into(),
            token.clone(),
            created,
        )
        .await
        .expect(422);
    }
    assert_eq!(
        app.operator().get(&path).await.header("etag").as_deref(),
        Some("\"1\"")
    );
    let res = send(
        Method::PATCH,
        path.clone(),
        admin.clone(),
        json!({"owner_user_id": prof_id}),
    )
    .await;
    res.expect(200);
    assert_eq!(res.json()["owner_user_id"], json!(prof_id));
    // Staff still edit its content; unlinking is the admins' too.
    send(
        Method::PATCH,
        path.clone(),
        staff.clone(),
        json!({"title": "Chair Professor"}),
    )
    .await
    .expect(200);
    send(
        Method::PATCH,
        path.clone(),
        staff.clone(),
        json!({"owner_user_id": null}),
    )
    .await
    .expect(403);

    // Every link is in the audit log, for the university's admins and staff.
    let profile_id = path.rsplit('/').next().unwrap();
    let res = app
        .as_(&staff)
        .get("/api/v1/audit?entity=faculty_profile")
        .await;
    res.expect(200);
    let entries = res.json()["items"].clone();
    assert_eq!(entries.as_array().unwrap().len(), 1, "{entries}");
    assert_eq!(entries[0]["action"], "update");
    assert_eq!(entries[0]["entity_id"], json!(profile_id));
    assert_eq!(entries[0]["organization_ids"], json!([uni]));
    assert_eq!(entries[0]["before"]["owner_user_id"], Value::Null);
    assert_eq!(entries[0]["after"]["owner_user_id"], json!(prof_id));
    assert_eq!(entries[0]["changed"], json!(["owner_user_id"]));
}

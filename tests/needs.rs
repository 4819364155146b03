//! Companies' project needs through the API: the status workflow, validation, visibility
//! (drafts, members-only, confidential with invitations), ETags, filters and pagination.

mod common;

use common::{PASSWORD, TestApp};
use serde_json::{Value, json};

fn need(company_id: &str, title: &str) -> Value {
    json!({
        "company_id": company_id, "title": title,
        "summary": "차세대 HBM 적층 구조의 열 시뮬레이션",
        "description": "We need thermal models for 12-high HBM stacks.\nJoint work with our packaging team.",
        "keywords": ["HBM", "열 관리", "hbm", "thermal simulation"],
        "collaboration_types": ["joint_lab", "sponsored_research"],
        "budget": {"min": 100_000_000, "max": 300_000_000, "currency": "KRW"},
        "duration_months": 18, "deadline": "2099-12-31", "location": "Icheon", "remote": true,
        "visibility": "public"
    })
}

fn titles(list: &Value) -> Vec<String> {
    common::each(list, "items", |i| i["title"].as_str().unwrap().to_owned())
}

/// A professor at a new university who owns a faculty profile: (token, profile id).
async fn professor(app: &TestApp, name: &str) -> (String, String) {
    let uni = app
        .org_id("university", &format!("{name} University"), "KR")
        .await;
    app.professor(&uni, json!({"name": name})).await
}

#[actix_web::test]
async fn a_company_posts_a_need_and_walks_it_through_its_statuses() {
    let app = TestApp::spawn().await;
    let sk = app.org_id("company", "SK hynix", "KR").await;
    let staff = app.member_token(&sk, "staff").await;
    let res = app
        .as_(&staff)
        .post("/api/v1/needs", &need(&sk, "HBM thermal management"))
        .await;
    res.expect(201);
    let created = res.json();
    let path = res.header("location").unwrap();
    assert_eq!(
        path,
        format!("/api/v1/needs/{}", created["id"].as_str().unwrap())
    );
    assert_eq!(res.header("etag").as_deref(), Some("\"1\""));
    assert_eq!(created["status"], "draft", "new needs start as drafts");
    assert_eq!(
        created["keywords"],
        json!(["HBM", "열 관리", "thermal simulation"])
    );
    assert_eq!(
        created["collaboration_types"],
        json!(["sponsored_research", "joint_lab"])
    );
    assert_eq!(
        created["budget"],
        json!({"min": 100_000_000, "max": 300_000_000, "currency": "KRW"})
    );

    // A draft is the company's own business.
    app.anonymous().get(&path).await.expect(404);
    let other = app.org_id("company", "Samsung Electronics", "KR").await;
    let rival = app.member_token(&other, "staff").await;
    app.as_(&rival).get(&path).await.expect(404);
    assert!(titles(&app.as_(&rival).get("/api/v1/needs").await.json()).is_empty());
    assert_eq!(app.as_(&staff).get(&path).await.json(), created);

    // Opening it needs the current ETag.
    let open = json!({"status": "open"});
    app.as_(&staff).patch(&path, &open).await.expect(428);
    app.as_(&staff)
        .if_match("\"7\"")
        .patch(&path, &open)
        .await
        .expect(412);
    assert_eq!(
        app.as_(&staff).get(&path).await.json()["status"],
        "draft",
        "a 412 changes nothing"
    );
    let res = app.as_(&staff).if_match("\"1\"").patch(&path, &open).await;
    res.expect(200);
    assert_eq!(res.header("etag").as_deref(), Some("\"2\""));
    app.anonymous().get(&path).await.expect(200);
    assert_eq!(
        titles(&app.anonymous().get("/api/v1/needs").await.json()),
        ["HBM thermal management"]
    );

    // The rival may read but not write.
    app.as_(&rival)
        .if_match("*")
        .patch(&path, &json!({"title": "mine"}))
        .await
        .expect(403);
    app.as_(&rival).delete(&path).await.expect(403);

    // Only forward transitions; an illegal move names the allowed next states, as for
    // centres and funded projects.
    let res = app
        .as_(&staff)
        .if_match("*")
        .patch(&path, &json!({"status": "draft"}))
        .await;
    res.expect(409);
    let p = res.json();
    assert_eq!(p["errors"][0]["field"], "status");
    assert_eq!(p["errors"][0]["code"], "invalid_transition");
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .ends_with("allowed next states: closed, awarded"),
        "{p}"
    );
    app.as_(&staff)
        .if_match("*")
        .patch(&path, &json!({"status": "awarded"}))
        .await
        .expect(200);
    let res = app
        .as_(&staff)
        .if_match("*")
        .patch(&path, &json!({"status": "open"}))
        .await;
    res.expect(409);
    assert_eq!(res.code(), "conflict");
    assert!(
        res.json()["detail"]
            .as_str()
            .unwrap()
            .contains("none (it is final)")
    );
    app.as_(&staff)
        .if_match("*")
        .patch(&path, &json!({"status": "closed"}))
        .await
        .expect(409);

    // Delete is soft; operators restore.
    app.as_(&staff)
        .if_match("\"3\"")
        .delete(&path)
        .await
        .expect(204);
    let restored = app.assert_deleted_then_restored(&path, &staff).await;
    assert_eq!(restored["status"], "awarded");
}

#[actix_web::test]
async fn validation_reports_every_bad_field_and_saves_nothing() {
    let app = TestApp::spawn().await;
    let tsmc = app.org_id("company", "TSMC", "KR").await;
    let uni = app.org_id("university", "NTHU", "KR").await;
    let mut bad = need(&tsmc, "  ");
    bad["budget"] = json!({"min": 500, "max": 100, "currency": "XYZ"});
    bad["duration_months"] = json!(0);
    bad["keywords"] = json!(["ok", "", "k".repeat(101)]);
    let res = app.operator().post("/api/v1/needs", &bad).await;
    res.expect(422);
    let fields: Vec<String> = res.json()["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect();
    for f in [
        "title",
        "budget.currency",
        "budget.max",
        "duration_months",
        "keywords[2]",
    ] {
        assert!(fields.contains(&f.to_owned()), "{f} in {fields:?}");
    }

    // Enumerations and dates are checked while reading the body.
    let mut bad = need(&tsmc, "x");
    bad["collaboration_types"] = json!(["golf"]);
    app.operator().post("/api/v1/needs", &bad).await.expect(422);
    let mut bad = need(&tsmc, "x");
    bad["visibility"] = json!("secret");
    app.operator().post("/api/v1/needs", &bad).await.expect(422);
    let mut bad = need(&tsmc, "x");
    bad["deadline"] = json!("2027-02-30");
    app.operator().post("/api/v1/needs", &bad).await.expect(422);

    // A need belongs to a company.
    let res = app.operator().post("/api/v1/needs", &need(&uni, "x")).await;
    res.expect(422);
    assert_eq!(res.json()["errors"][0]["code"], "not_a_company");

    // Opening with a deadline in the past is refused; a draft may carry it.
    let mut past = need(&tsmc, "Late");
    past["deadline"] = json!("2020-01-01");
    past["status"] = json!("open");
    let res = app.operator().post("/api/v1/needs", &past).await;
    res.expect(422);
    assert_eq!(res.json()["errors"][0]["field"], "deadline");
    past["status"] = json!("draft");
    let draft = app.operator().post("/api/v1/needs", &past).await;
    draft.expect(201);
    let path = draft.header("location").unwrap();
    app.operator()
        .if_match("\"1\"")
        .patch(&path, &json!({"status": "open"}))
        .await
        .expect(422);
    app.operator()
        .if_match("\"1\"")
        .patch(&path, &json!({"status": "open", "deadline": "2099-01-01"}))
        .await
        .expect(200);
    app.operator()
        .if_match("\"2\"")
        .patch(&path, &json!({"deadline": "2021-01-01"}))
        .await
        .expect(422);
    app.operator()
        .if_match("\"2\"")
        .patch(&path, &json!({"title": null}))
        .await
        .expect(422);
    app.operator()
        .if_match("\"2\"")
        .patch(
            &path,
            &json!({"budget": {"min": 1, "max": 2, "currency": "US$"}}),
        )
        .await
        .expect(422);

    // An open need whose deadline has since passed can still be edited and closed.
    app.db.execute(&format!(
        "UPDATE needs SET deadline = '2021-06-30' WHERE id = '{}'",
        draft.json()["id"].as_str().unwrap()
    ));
    app.operator()
        .if_match("\"2\"")
        .patch(&path, &json!({"summary": "Extended to 2.5D packaging"}))
        .await
        .expect(200);
    app.operator()
        .if_match("\"3\"")
        .patch(&path, &json!({"status": "closed"}))
        .await
        .expect(200);

    // The only need saved is the one that was valid.
    assert_eq!(
        titles(&app.anonymous().get("/api/v1/needs").await.json()),
        ["Late"]
    );
    let list = app.operator().get("/api/v1/needs").await.json();
    assert_eq!(titles(&list), ["Late"]);
}

#[actix_web::test]
async fn confidential_needs_show_only_to_the_company_operators_and_invited_faculty() {
    let app = TestApp::spawn().await;
    let nvidia = app.org_id("company", "NVIDIA", "KR").await;
    let amd = app.org_id("company", "AMD", "KR").await;
    let staff = app.member_token(&nvidia, "staff").await;
    let rival = app.member_token(&amd, "admin").await;
    let (invited, invited_profile) = professor(&app, "Chen").await;
    let (uninvited, _) = professor(&app, "Park").await;
    app.create_user("someone@example.com", PASSWORD, false)
        .await;
    let stranger = app.login("someone@example.com", PASSWORD).await;

    let mut secret = need(&nvidia, "Next-generation GPU interconnect");
    secret["visibility"] = json!("confidential");
    secret["status"] = json!("open");
    let created = app.as_(&staff).post("/api/v1/needs", &secret).await;
    created.expect(201);
    let path = created.header("location").unwrap();
    let mut members = need(&nvidia, "Members-only GPU scheduling");
    members["visibility"] = json!("members");
    members["status"] = json!("open");
    let members_path = app
        .as_(&staff)
        .post("/api/v1/needs", &members)
        .await
        .header("location")
        .unwrap();

    let sees = |token: Option<String>| {
        let (app, path) = (&app, path.clone());
        async move {
            let one = app.caller(token.as_deref()).get(&path).await;
            let list = app
                .caller(token.as_deref())
                .get("/api/v1/needs")
                .await
                .json();
            let listed = titles(&list).contains(&"Next-generation GPU interconnect".to_owned());
            assert_eq!(
                one.status.as_u16() == 200,
                listed,
                "the record and the list agree"
            );
            if !listed {
                one.expect(404);
            }
            listed
        }
    };
    assert!(!sees(None).await);
    assert!(!sees(Some(stranger.clone())).await);
    assert!(!sees(Some(rival.clone())).await);
    assert!(!sees(Some(invited.clone())).await);
    assert!(!sees(Some(uninvited.clone())).await);
    assert!(sees(Some(staff.clone())).await);
    assert!(sees(Some(app.operator_token.clone())).await);

    // Members-only: any signed-in user, nobody anonymous.
    app.anonymous().get(&members_path).await.expect(404);
    app.as_(&stranger).get(&members_path).await.expect(200);
    app.as_(&rival).get(&members_path).await.expect(200);

    // The rival cannot invite anyone to a need it cannot see, nor learn the invitations.
    let invitations = format!("{path}/invitations");
    let body = json!({"faculty_id": invited_profile});
    app.as_(&rival).post(&invitations, &body).await.expect(404);
    app.as_(&rival).get(&invitations).await.expect(404);
    app.as_(&invited)
        .post(&invitations, &body)
        .await
        .expect(404);
    let res = app
        .as_(&staff)
        .post(&invitations, &json!({"faculty_id": "nope"}))
        .await;
    res.expect(422);

    // Invited: the profile's owner sees it; inviting twice is idempotent.
    app.as_(&staff).post(&invitations, &body).await.expect(201);
    app.as_(&staff).post(&invitations, &body).await.expect(200);
    assert!(sees(Some(invited.clone())).await);
    assert!(!sees(Some(uninvited.clone())).await);
    let listed = app.as_(&staff).get(&invitations).await.json();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["faculty_id"], json!(invited_profile));
    // An invited professor may read, not write.
    app.as_(&invited)
        .if_match("*")
        .patch(&path, &json!({"title": "x"}))
        .await
        .expect(403);

    // Withdrawn: hidden again.
    app.as_(&staff)
        .delete(&format!("{invitations}/{invited_profile}"))
        .await
        .expect(204);
    app.as_(&staff)
        .delete(&format!("{invitations}/{invited_profile}"))
        .await
        .expect(404);
    assert!(!sees(Some(invited)).await);
}

#[actix_web::test]
async fn lists_filter_and_page_stably() {
    let app = TestApp::spawn().await;
    let a = app.org_id("company", "MediaTek", "KR").await;
    let b = app.org_id("company", "Phison", "KR").await;
    for (company, title, status, kw, kind) in [
        (&a, "N1", "open", "5G", "consulting"),
        (&a, "N2", "draft", "5g", "consulting"),
        (&b, "N3", "open", "NAND", "licensing"),
        (&b, "N4", "open", "5G", "joint_lab"),
        (&a, "N5", "open", "SoC", "consulting"),
    ] {
        app.operator()
            .post(
                "/api/v1/needs",
                &json!({"company_id": company, "title": title, "status": status, "keywords": [kw],
                    "collaboration_types": [kind], "visibility": "public"}),
            )
            .await
            .expect(201);
    }
    let list = |q: &str| {
        let app = &app;
        let q = q.to_owned();
        async move {
            titles(
                &app.operator()
                    .get(&format!("/api/v1/needs{q}"))
                    .await
                    .json(),
            )
        }
    };
    assert_eq!(list("").await, ["N1", "N2", "N3", "N4", "N5"]);
    assert_eq!(list(&format!("?company_id={a}")).await, ["N1", "N2", "N5"]);
    assert_eq!(list("?status=open").await, ["N1", "N3", "N4", "N5"]);
    assert_eq!(list("?keyword=5g").await, ["N1", "N2", "N4"]);
    assert_eq!(
        list("?collaboration_type=consulting&status=open").await,
        ["N1", "N5"]
    );
    let first = app.operator().get("/api/v1/needs?limit=2").await.json();
    assert_eq!(titles(&first), ["N1", "N2"]);
    let cursor = first["next_cursor"].as_str().unwrap();
    assert_eq!(
        list(&format!("?limit=2&cursor={cursor}")).await,
        ["N3", "N4"]
    );
    // Anonymous callers see the same order without the draft.
    assert_eq!(
        titles(&app.anonymous().get("/api/v1/needs").await.json()),
        ["N1", "N3", "N4", "N5"]
    );
    app.anonymous()
        .get("/api/v1/needs?status=pending")
        .await
        .expect(400);
    app.anonymous()
        .get("/api/v1/needs?company_id=1")
        .await
        .expect(400);
    app.anonymous()
        .get("/api/v1/needs?limit=0")
        .await
        .expect(400);
    app.anonymous()
        .get("/api/v1/needs?cursor=!!")
        .await
        .expect(400);
}

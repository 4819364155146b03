//! Joint lab centres through the API: the life of a centre (statuses, ETags, soft delete),
//! validation as problem+json, who sees and who manages what, and search with `type=center`.

mod common;

use common::TestApp;
use serde_json::{Value, json};

/// GET as the platform operator, expecting 200.
async fn op_get(app: &TestApp, path: &str) -> Value {
    let res = app.operator().get(path).await;
    res.expect(200);
    res.json()
}

async fn profile(app: &TestApp, uni: &str, name: &str) -> String {
    let res = app
        .operator()
        .post(
            "/api/v1/faculty",
            &json!({"university_id": uni, "name": name}),
        )
        .await;
    res.expect(201);
    res.id()
}

struct Fixture {
    app: TestApp,
    uni: String,
    other_uni: String,
    co: String,
    other_co: String,
    director: String,
    /// (token, profile) of a professor at another university who is a member.
    member: (String, String),
}

async fn fixture() -> Fixture {
    let app = TestApp::spawn().await;
    let uni = app
        .org_id(
            "university",
            "National Yang Ming Chiao Tung University",
            "TW",
        )
        .await;
    let other_uni = app
        .org_id("university", "Seoul National University", "KR")
        .await;
    let co = app.org_id("company", "MediaTek", "TW").await;
    let other_co = app.org_id("company", "Samsung Electronics", "KR").await;
    let director = profile(&app, &uni, "Chen Chien-Hung").await;
    let member = app
        .professor(&other_uni, json!({"name": "Kim Min-jun"}))
        .await;
    Fixture {
        app,
        uni,
        other_uni,
        co,
        other_co,
        director,
        member,
    }
}

fn centre(f: &Fixture, name: &str, visibility: &str) -> Value {
    json!({
        "host_university_id": f.uni,
        "name": name,
        "local_name": "陽明交大聯發科人工智慧聯合研究中心",
        "description": "Joint research on energy-efficient inference for edge devices.",
        "partners": [{"company_id": f.co, "role": "founding_sponsor"}],
        "director_id": f.director,
        "member_ids": [f.member.1],
        "focus_areas": ["edge AI", "LLM inference", "低功耗晶片"],
        "established_date": "2024-01-01",
        "renewal_date": "2026-12-31",
        "end_date": "2028-12-31",
        "shared_resources": [
            {"kind": "gpu", "model": " H100 ", "count": 64},
            {"kind": "hpc_allocation", "gpu_hours": 500000},
            {"kind": "lab_space", "square_meters": 300},
            {"kind": "other", "description": "Cleanroom access on weekends"}
        ],
        "funding": [
            {"year": 2025, "sponsor_id": f.co, "amount_minor": 5_000_000_000i64, "currency": "twd"},
            {"year": 2026, "sponsor_id": f.co, "amount_minor": 5_500_000_000i64, "currency": "TWD"}
        ],
        "visibility": visibility
    })
}

#[actix_web::test]
async fn a_host_office_runs_a_centre_through_its_life() {
    let f = fixture().await;
    let app = &f.app;
    let staff = app.member_token(&f.uni, "staff").await;
    let res = app
        .as_(&staff)
        .post(
            "/api/v1/centers",
            &centre(&f, "NYCU–MediaTek Joint AI Lab", "participants"),
        )
        .await;
    res.expect(201);
    let c = res.json();
    let path = res.header("location").unwrap();
    assert_eq!(
        path,
        format!("/api/v1/centers/{}", c["id"].as_str().unwrap())
    );
    assert_eq!(res.header("etag").as_deref(), Some("\"1\""));
    assert_eq!(c["status"], "planned", "new centres start planned");
    assert_eq!(c["visibility"], "participants");
    assert_eq!(
        c["partners"],
        json!([{"company_id": f.co, "role": "founding_sponsor"}])
    );
    assert_eq!(c["director_id"], f.director.as_str());
    assert_eq!(c["member_ids"], json!([f.member.1]));
    assert_eq!(
        c["shared_resources"][0],
        json!({"kind": "gpu", "model": "H100", "count": 64})
    );
    assert_eq!(c["shared_resources"][3]["kind"], "other");
    assert_eq!(
        c["funding"][0]["currency"], "TWD",
        "currency codes are normalised"
    );
    assert_eq!(c["funding"][1]["amount_minor"], 5_500_000_000i64);
    assert_eq!(c["renewal_date"], "2026-12-31");

    let got = app.as_(&staff).get(&path).await;
    got.expect(200);
    assert_eq!(got.json(), c);
    let not_modified = app.as_(&staff).if_none_match("\"1\"").get(&path).await;
    assert_eq!(not_modified.status.as_u16(), 304);

    // Updates need the ETag.
    let patch = |etag: Option<&'static str>, body: Value| {
        let staff = staff.clone();
        let path = path.clone();
        async move {
            let headers: Vec<(&str, &str)> = etag.map(|e| ("if-match", e)).into_iter().collect();
            app.as_(&staff).headers(&headers).patch(&path, &body).await
        }
    };
    assert_eq!(
        patch(None, json!({"status": "active"})).await.code(),
        "precondition_required"
    );
    assert_eq!(
        patch(Some("\"7\""), json!({"status": "active"}))
            .await
            .code(),
        "precondition_failed"
    );
    let res = patch(
        Some("\"1\""),
        json!({"status": "active", "local_name": null}),
    )
    .await;
    res.expect(200);
    assert_eq!(res.json()["status"], "active");
    assert_eq!(res.json()["local_name"], Value::Null);
    assert_eq!(res.header("etag").as_deref(), Some("\"2\""));

    // An illegal move is a 409 that names the allowed next states.
    let res = patch(Some("*"), json!({"status": "planned"})).await;
    res.expect(409);
    let p = res.json();
    assert_eq!(p["errors"][0]["field"], "status");
    assert_eq!(p["errors"][0]["code"], "invalid_transition");
    assert!(
        p["detail"].as_str().unwrap().contains("renewing, closed"),
        "{p}"
    );

    for (status, version) in [
        ("renewing", "\"3\""),
        ("active", "\"4\""),
        ("closed", "\"5\""),
    ] {
        let res = patch(Some("*"), json!({"status": status})).await;
        res.expect(200);
        assert_eq!(res.header("etag").as_deref(), Some(version));
    }
    let res = patch(Some("*"), json!({"status": "active"})).await;
    res.expect(409);
    assert!(
        res.json()["detail"]
            .as_str()
            .unwrap()
            .contains("none (it is final)")
    );
    // A no-op does not bump the version.
    let res = patch(Some("*"), json!({"status": "closed"})).await;
    res.expect(200);
    assert_eq!(res.header("etag").as_deref(), Some("\"5\""));

    // Lists replace whole; partners can change.
    let res = patch(
        Some("*"),
        json!({"partners": [{"company_id": f.co, "role": "founding_sponsor"}, {"company_id": f.other_co, "role": "member"}],
               "focus_areas": ["edge AI"], "shared_resources": []}),
    )
    .await;
    res.expect(200);
    let c = res.json();
    assert_eq!(c["partners"].as_array().unwrap().len(), 2);
    assert_eq!(c["focus_areas"], json!(["edge AI"]));
    assert_eq!(c["shared_resources"], json!([]));

    // Soft delete; operators see it with include_deleted and restore it.
    app.as_(&staff).delete(&path).await.expect(204);
    let listed = app.as_(&staff).get("/api/v1/centers").await.json();
    assert_eq!(listed["items"], json!([]));
    app.as_(&staff)
        .get("/api/v1/centers?include_deleted=true")
        .await
        .expect(403);
    let all = op_get(app, "/api/v1/centers?include_deleted=true").await;
    assert_eq!(all["items"].as_array().unwrap().len(), 1);
    app.assert_deleted_then_restored(&path, &staff).await;
}

#[actix_web::test]
async fn bad_centres_are_422_problems_naming_every_field() {
    let f = fixture().await;
    let app = &f.app;
    let mut body = centre(&f, "Bad", "public");
    body["established_date"] = json!("2025-01-01");
    body["end_date"] = json!("2024-12-31");
    body["renewal_date"] = json!("2030-01-01");
    body["funding"] = json!([
        {"year": 2025, "sponsor_id": f.other_co, "amount_minor": 1, "currency": "TWD"},
        {"year": 2025, "sponsor_id": f.co, "amount_minor": -5, "currency": "XYZ"},
        {"year": 1800, "sponsor_id": f.co, "amount_minor": 1, "currency": "TWD"}
    ]);
    body["shared_resources"] = json!([{"kind": "gpu", "model": "", "count": 0}, {"kind": "lab_space", "square_meters": -1}]);
    body["name"] = json!("  ");
    let res = app.operator().post("/api/v1/centers", &body).await;
    res.expect(422);
    let p = res.json();
    let fields: Vec<(&str, &str)> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap(), e["code"].as_str().unwrap()))
        .collect();
    for want in [
        ("name", "required"),
        ("end_date", "before_start"),
        ("renewal_date", "out_of_range"),
        ("funding[0].sponsor_id", "not_a_partner"),
        ("funding[1].amount_minor", "out_of_range"),
        ("funding[1].currency", "invalid_currency"),
        ("funding[2].year", "out_of_range"),
        ("shared_resources[0].count", "out_of_range"),
        ("shared_resources[0].model", "required"),
        ("shared_resources[1].square_meters", "out_of_range"),
    ] {
        assert!(fields.contains(&want), "missing {want:?} in {fields:?}");
    }

    // References: the host must be a university, partners companies, the director a profile
    // of the host, members live profiles.
    let mut body = centre(&f, "Bad refs", "public");
    body["host_university_id"] = json!(f.co);
    body["partners"] = json!([{"company_id": f.other_uni, "role": "member"}]);
    body["funding"] = json!([]);
    body["member_ids"] = json!([uuid::Uuid::now_v7().to_string()]);
    let res = app.operator().post("/api/v1/centers", &body).await;
    res.expect(422);
    let codes: Vec<String> = res.json()["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{}:{}",
                e["field"].as_str().unwrap(),
                e["code"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        codes,
        [
            "host_university_id:not_a_university",
            "partners[0].company_id:not_a_company",
            "director_id:wrong_university",
            "member_ids[0]:unknown_profile"
        ]
    );

    for (patch, field) in [
        (json!({"partners": []}), "partners"),
        (
            json!({"partners": [{"company_id": f.co, "role": "member"}, {"company_id": f.co, "role": "member"}]}),
            "partners[1].company_id",
        ),
        (json!({"director_id": "not-an-id"}), "director_id"),
        (json!({"status": "closed"}), "status"),
        (
            json!({"shared_resources": [{"kind": "quantum_computer"}]}),
            "shared_resources[0]",
        ),
        (
            json!({"shared_resources": [{"kind": "gpu", "model": "H100", "count": 1, "vram": 80}]}),
            "shared_resources[0]",
        ),
        (
            json!({"funding": [{"year": 2025, "sponsor_id": f.co, "amount_minor": 1.5, "currency": "TWD"}]}),
            "funding[0].amount_minor",
        ),
        (json!({"visibility": "members"}), "visibility"),
    ] {
        let mut body = centre(&f, "Bad", "public");
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        let res = app.operator().post("/api/v1/centers", &body).await;
        res.expect(422);
        let p = res.json();
        assert!(
            p["errors"][0]["field"].as_str().unwrap().starts_with(field),
            "{patch}: {p}"
        );
    }
    let listed = op_get(app, "/api/v1/centers").await;
    assert_eq!(listed["items"], json!([]), "nothing was created");
}

#[actix_web::test]
async fn participants_read_only_the_host_office_manages_outsiders_see_public_only() {
    let f = fixture().await;
    let app = &f.app;
    let hidden = app
        .operator()
        .post("/api/v1/centers", &centre(&f, "Hidden Lab", "participants"))
        .await
        .json();
    let public = app
        .operator()
        .post("/api/v1/centers", &centre(&f, "Open Lab", "public"))
        .await
        .json();
    let hidden_path = format!("/api/v1/centers/{}", hidden["id"].as_str().unwrap());
    let partner = app.member_token(&f.co, "staff").await;
    let outsider_co = app.member_token(&f.other_co, "admin").await;
    let host_faculty = app
        .professor(&f.uni, json!({"name": "Not A Member"}))
        .await
        .0;
    let other_uni_staff = app.member_token(&f.other_uni, "staff").await;
    let admin = app.member_token(&f.uni, "admin").await;
    let names = |list: Value| -> Vec<String> {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_owned())
            .collect()
    };
    for (who, token, sees_hidden, manages) in [
        ("anonymous", None, false, false),
        ("partner company staff", Some(&partner), true, false),
        ("member professor", Some(&f.member.0), true, false),
        ("host admin", Some(&admin), true, true),
        ("other company admin", Some(&outsider_co), false, false),
        (
            "host faculty outside the centre",
            Some(&host_faculty),
            false,
            false,
        ),
        (
            "other university staff",
            Some(&other_uni_staff),
            false,
            false,
        ),
    ] {
        let token = token.map(String::as_str);
        let got = app.caller(token).get(&hidden_path).await;
        assert_eq!(
            got.status.as_u16(),
            if sees_hidden { 200 } else { 404 },
            "{who}"
        );
        let list = app.caller(token).get("/api/v1/centers").await.json();
        let want: Vec<&str> = if sees_hidden {
            vec!["Hidden Lab", "Open Lab"]
        } else {
            vec!["Open Lab"]
        };
        assert_eq!(names(list), want, "{who}");
        let res = app
            .caller(token)
            .if_match("*")
            .patch(&hidden_path, &json!({"description": who}))
            .await;
        let want = match (token, sees_hidden, manages) {
            (None, _, _) => 401,
            (_, _, true) => 200,
            (_, true, false) => 403,
            _ => 404,
        };
        assert_eq!(res.status.as_u16(), want, "{who}: {}", res.text());
        if res.status.as_u16() >= 400 {
            res.assert_problem();
        }
        // Everyone may read the public centre; only the office may change it.
        let public_path = format!("/api/v1/centers/{}", public["id"].as_str().unwrap());
        app.caller(token).get(&public_path).await.expect(200);
        let res = app
            .caller(token)
            .if_match("\"999\"")
            .delete(&public_path)
            .await;
        let want = match (token, manages) {
            (None, _) => 401,
            (_, true) => 412,
            _ => 403,
        };
        assert_eq!(res.status.as_u16(), want, "{who}");
    }

    // Filters.
    let by = |q: String| async move { names(op_get(app, &format!("/api/v1/centers?{q}")).await) };
    assert_eq!(by(format!("company_id={}", f.co)).await.len(), 2);
    assert_eq!(by(format!("company_id={}", f.other_co)).await.len(), 0);
    assert_eq!(by(format!("faculty_id={}", f.member.1)).await.len(), 2);
    assert_eq!(by(format!("faculty_id={}", f.director)).await.len(), 2);
    assert_eq!(
        by(format!("host_university_id={}", f.other_uni))
            .await
            .len(),
        0
    );
    assert_eq!(by("focus_area=LLM%20INFERENCE".into()).await.len(), 2);
    assert_eq!(by("status=active".into()).await.len(), 0);
    assert_eq!(by("limit=1".into()).await, ["Hidden Lab"]);
    app.anonymous()
        .get("/api/v1/centers?company_id=nope")
        .await
        .expect(400);
}

async fn search(app: &TestApp, token: Option<&str>, query: &str) -> Value {
    let res = app
        .caller(token)
        .get(&format!("/api/v1/search?type=center&{}", encode(query)))
        .await;
    res.expect(200);
    res.json()
}

/// Percent-encodes the values of `a=b&c=d` (non-ASCII text must be encoded in a URI).
fn encode(query: &str) -> String {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => {
                let v = v.replace("%20", " ");
                format!(
                    "{k}={}",
                    form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>()
                )
            }
            None => p.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn hit_ids(results: &Value) -> Vec<String> {
    common::each(results, "items", |h| h["id"].as_str().unwrap().to_owned())
}

#[actix_web::test]
async fn centres_are_searchable_by_name_focus_and_resources_within_visibility() {
    let f = fixture().await;
    let app = &f.app;
    let mut korean = centre(&f, "SNU–Samsung AI Research Center", "participants");
    korean["host_university_id"] = json!(f.other_uni);
    korean["local_name"] = json!("서울대-삼성 인공지능 공동연구센터");
    korean["director_id"] = json!(f.member.1);
    korean["member_ids"] = json!([]);
    korean["focus_areas"] = json!(["반도체", "neuromorphic computing"]);
    korean["partners"] = json!([{"company_id": f.other_co, "role": "founding_sponsor"}]);
    korean["funding"] = json!([]);
    let korean = app
        .operator()
        .post("/api/v1/centers?refresh=wait_for", &korean)
        .await;
    korean.expect(201);
    assert_eq!(korean.header("search-refresh").as_deref(), Some("done"));
    let korean = korean.id();
    let chinese = app
        .operator()
        .post(
            "/api/v1/centers?refresh=wait_for",
            &centre(&f, "NYCU–MediaTek Joint AI Lab", "public"),
        )
        .await
        .id();

    // Anonymous: the public centre by its Chinese name, focus area or resources; never the other.
    for q in [
        "q=聯合研究",
        "q=低功耗",
        "q=H100",
        "q=cleanroom",
        "q=edge%20AI",
        "keyword=LLM%20inference",
    ] {
        assert_eq!(
            hit_ids(&search(app, None, q).await),
            std::slice::from_ref(&chinese),
            "{q}"
        );
    }
    for q in ["q=인공지능", "q=neuromorphic", "q=반도체", ""] {
        assert!(
            !hit_ids(&search(app, None, q).await).contains(&korean),
            "{q}"
        );
    }
    let all = search(app, None, "").await;
    assert_eq!(all["total"], 1, "{all}");
    assert_eq!(all["items"][0]["type"], "center");
    assert_eq!(all["items"][0]["status"], "planned");
    assert_eq!(
        all["facets"]["university"][0]["label"],
        "National Yang Ming Chiao Tung University"
    );

    // The partner company and the director see the Korean centre; an outsider company does not.
    let partner = app.member_token(&f.other_co, "staff").await;
    let outsider = app.member_token(&f.co, "staff").await;
    let found = search(app, Some(&partner), "q=인공지능").await;
    assert_eq!(hit_ids(&found), std::slice::from_ref(&korean));
    assert!(
        found["items"][0]["highlights"]["title"]
            .as_str()
            .unwrap()
            .contains("<b>")
    );
    assert_eq!(
        hit_ids(&search(app, Some(&f.member.0), "q=반도체").await),
        std::slice::from_ref(&korean)
    );
    assert!(hit_ids(&search(app, Some(&outsider), "q=인공지능").await).is_empty());
    let staff = app.member_token(&f.other_uni, "staff").await;
    assert_eq!(
        hit_ids(&search(app, Some(&staff), "q=neuromorphic").await),
        std::slice::from_ref(&korean)
    );
    let facets = search(app, Some(&outsider), "").await;
    assert_eq!(
        facets["total"], 1,
        "facets and totals count only the visible: {facets}"
    );
    assert_eq!(
        hit_ids(
            &search(
                app,
                Some(&app.operator_token),
                &format!("university_id={}", f.other_uni)
            )
            .await
        ),
        std::slice::from_ref(&korean)
    );

    // Filters of other kinds are refused; country works.
    let res = app
        .anonymous()
        .get("/api/v1/search?type=center&status=open")
        .await;
    res.expect(400);
    assert_eq!(
        hit_ids(&search(app, None, "country=tw").await),
        std::slice::from_ref(&chinese)
    );

    // Changes follow: made public, the Korean centre appears for everyone; deleted, it leaves.
    let path = format!("/api/v1/centers/{korean}");
    app.operator()
        .if_match("*")
        .patch(
            &format!("{path}?refresh=wait_for"),
            &json!({"visibility": "public"}),
        )
        .await
        .expect(200);
    assert_eq!(
        hit_ids(&search(app, None, "q=인공지능").await),
        std::slice::from_ref(&korean)
    );
    app.operator()
        .delete(&format!("{path}?refresh=wait_for"))
        .await
        .expect(204);
    assert!(hit_ids(&search(app, None, "q=인공지능").await).is_empty());
    // And a renamed host country carries over (the organization change reindexes centres).
    app.operator()
        .if_match("*")
        .patch(
            &format!("/api/v1/organizations/{}", f.uni),
            &json!({"country": "JP"}),
        )
        .await
        .expect(200);
    let mut found = Vec::new();
    for _ in 0..50 {
        found = hit_ids(&search(app, None, "country=jp").await);
        if !found.is_empty() {
            break;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(found, [chinese]);
}

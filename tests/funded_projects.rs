//! Funded projects through the API: the status workflow (legal and illegal moves), money
//! and dates, references, payments in the project's currency, and who sees what.

mod common;

use common::TestApp;
use serde_json::{Value, json};

struct Fixture {
    app: TestApp,
    uni: String,
    other_uni: String,
    sponsor: String,
    other_co: String,
    pi: String,
    /// (token, profile) of a co-investigator at another university.
    co_investigator: (String, String),
    center: String,
    office: String,
}

async fn fixture() -> Fixture {
    let app = TestApp::spawn().await;
    let uni = app.org_id("university", "KAIST", "KR").await;
    let other_uni = app
        .org_id("university", "National Taiwan University", "TW")
        .await;
    let sponsor = app.org_id("company", "SK hynix", "KR").await;
    let other_co = app.org_id("company", "TSMC", "TW").await;
    let pi = app
        .operator()
        .post(
            "/api/v1/faculty",
            &json!({"university_id": uni, "name": "Park Ji-hoon"}),
        )
        .await
        .created_id();
    let token = app.member_token(&other_uni, "faculty").await;
    let me = app.as_(&token).get("/api/v1/me").await.json();
    let co = app.operator().post("/api/v1/faculty", &json!({"university_id": other_uni, "name": "Lin Wei-ting", "owner_user_id": me["user"]["id"]}))
        .await.created_id();
    let center = app
        .operator()
        .post(
            "/api/v1/centers",
            &json!({"host_university_id": uni, "name": "KAIST–SK hynix Memory Center",
                    "partners": [{"company_id": sponsor, "role": "founding_sponsor"}]}),
        )
        .await
        .created_id();
    let office = app.member_token(&uni, "staff").await;
    Fixture {
        app,
        uni,
        other_uni,
        sponsor,
        other_co,
        pi,
        co_investigator: (token, co),
        center,
        office,
    }
}

fn project(f: &Fixture, title: &str, visibility: &str) -> Value {
    json!({
        "title": title,
        "description": "HBM 적층 구조의 열 시뮬레이션",
        "type": "sponsored_research",
        "sponsor_id": f.sponsor,
        "university_id": f.uni,
        "principal_investigator_id": f.pi,
        "co_investigator_ids": [f.co_investigator.1],
        "center_id": f.center,
        "amount_minor": 300_000_000i64,
        "currency": "krw",
        "start_date": "2027-01-01",
        "end_date": "2028-12-31",
        "visibility": visibility
    })
}

impl Fixture {
    async fn create(&self, body: &Value) -> String {
        self.app
            .as_(&self.office)
            .post("/api/v1/funded-projects", body)
            .await
            .created_id()
    }
}

#[actix_web::test]
async fn a_project_moves_through_its_statuses_and_illegal_moves_are_409() {
    let f = fixture().await;
    let res = f
        .app
        .as_(&f.office)
        .post(
            "/api/v1/funded-projects",
            &project(&f, "HBM thermal", "participants"),
        )
        .await;
    res.expect(201);
    let p = res.json();
    let path = res.header("location").unwrap();
    assert_eq!(
        path,
        format!("/api/v1/funded-projects/{}", p["id"].as_str().unwrap())
    );
    assert_eq!(res.header("etag").as_deref(), Some("\"1\""));
    assert_eq!(p["status"], "proposed");
    assert_eq!(p["type"], "sponsored_research");
    assert_eq!(p["currency"], "KRW");
    assert_eq!(p["amount_minor"], 300_000_000i64);
    assert_eq!(p["center_id"], f.center.as_str());
    assert_eq!(p["co_investigator_ids"], json!([f.co_investigator.1]));
    assert_eq!(f.app.as_(&f.office).get(&path).await.json(), p);

    // proposed → active skips negotiation: 409, naming the allowed next states.
    let res = f
        .app
        .as_(&f.office)
        .if_match("\"1\"")
        .patch(&path, &json!({"status": "active"}))
        .await;
    res.expect(409);
    let problem = res.json();
    assert_eq!(problem["errors"][0]["code"], "invalid_transition");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("allowed next states: negotiating, terminated"),
        "{problem}"
    );
    f.app
        .as_(&f.office)
        .patch(&path, &json!({"status": "negotiating"}))
        .await
        .expect(428);
    for (status, etag) in [
        ("negotiating", "\"2\""),
        ("active", "\"3\""),
        ("completed", "\"4\""),
    ] {
        let res = f
            .app
            .as_(&f.office)
            .if_match("*")
            .patch(&path, &json!({"status": status}))
            .await;
        res.expect(200);
        assert_eq!(res.header("etag").as_deref(), Some(etag));
        assert_eq!(res.json()["status"], status);
    }
    for back in ["active", "terminated", "proposed"] {
        let res = f
            .app
            .as_(&f.office)
            .if_match("*")
            .patch(&path, &json!({"status": back}))
            .await;
        res.expect(409);
        assert!(
            res.json()["detail"]
                .as_str()
                .unwrap()
                .contains("none (it is final)")
        );
    }

    // Proposed and negotiating projects can be terminated; active ones too.
    for path_to_terminated in [vec![], vec!["negotiating"], vec!["negotiating", "active"]] {
        let id = f.create(&project(&f, "To be terminated", "public")).await;
        let path = format!("/api/v1/funded-projects/{id}");
        for s in path_to_terminated.iter().chain(&["terminated"]) {
            f.app
                .as_(&f.office)
                .if_match("*")
                .patch(&path, &json!({"status": s}))
                .await
                .expect(200);
        }
    }
    // A project can start out negotiating or active, not finished.
    let mut body = project(&f, "Already running", "public");
    body["status"] = json!("active");
    f.create(&body).await;
    body["status"] = json!("completed");
    f.app
        .as_(&f.office)
        .post("/api/v1/funded-projects", &body)
        .await
        .expect(422);

    // Filters, soft delete and restore.
    let list = |q: &'static str| {
        let f = &f;
        async move {
            f.app
                .as_(&f.office)
                .get(&format!("/api/v1/funded-projects?{q}"))
                .await
                .json()["items"]
                .as_array()
                .unwrap()
                .len()
        }
    };
    assert_eq!(list("").await, 5);
    assert_eq!(list("status=terminated").await, 3);
    assert_eq!(list("status=completed&type=sponsored_research").await, 1);
    assert_eq!(list("type=donation").await, 0);
    f.app.as_(&f.office).delete(&path).await.expect(204);
    assert_eq!(list("").await, 4);
    f.app.assert_deleted_then_restored(&path, &f.office).await;
    assert_eq!(list("").await, 5);
}

#[actix_web::test]
async fn money_dates_and_references_are_validated() {
    let f = fixture().await;
    let mut body = project(&f, "", "public");
    body["amount_minor"] = json!(-1);
    body["currency"] = json!("WON");
    body["start_date"] = json!("2028-01-01");
    body["end_date"] = json!("2027-12-31");
    body["co_investigator_ids"] = json!(["nope"]);
    let res = f
        .app
        .as_(&f.office)
        .post("/api/v1/funded-projects", &body)
        .await;
    res.expect(422);
    let fields: Vec<String> = res.json()["errors"]
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
        fields,
        [
            "title:required",
            "co_investigator_ids[0]:invalid_id",
            "amount_minor:out_of_range",
            "currency:invalid_currency",
            "end_date:before_start"
        ]
    );

    // Amounts are integers: a float or a string is a 422, never a rounding.
    for bad in [json!(1.5), json!("100"), json!(1e30)] {
        let mut body = project(&f, "Float", "public");
        body["amount_minor"] = bad;
        let res = f
            .app
            .as_(&f.office)
            .post("/api/v1/funded-projects", &body)
            .await;
        res.expect(422);
        assert_eq!(res.json()["errors"][0]["field"], "amount_minor");
    }

    // References: the PI belongs to the performing university, the centre is hosted there,
    // the university is a university, the need is one the caller can see.
    let other_center = f
        .app
        .operator()
        .post(
            "/api/v1/centers",
            &json!({"host_university_id": f.other_uni, "name": "NTU Lab",
                        "partners": [{"company_id": f.other_co, "role": "member"}]}),
        )
        .await
        .created_id();
    let confidential = f.app
            .operator().post("/api/v1/needs", &json!({"company_id": f.sponsor, "title": "Secret", "status": "open", "visibility": "confidential"}))
            .await.created_id();
    let mut body = project(&f, "Bad refs", "public");
    body["principal_investigator_id"] = json!(f.co_investigator.1);
    body["center_id"] = json!(other_center);
    body["need_id"] = json!(confidential);
    body["sponsor_id"] = json!(uuid::Uuid::now_v7().to_string());
    let res = f
        .app
        .as_(&f.office)
        .post("/api/v1/funded-projects", &body)
        .await;
    res.expect(422);
    let fields: Vec<String> = res.json()["errors"]
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
        fields,
        [
            "sponsor_id:unknown_organization",
            "principal_investigator_id:wrong_university",
            "center_id:wrong_university",
            "need_id:unknown_need"
        ]
    );
    // A visible need and an engagement of it with a professor of the performing university
    // are accepted (an unknown engagement is not); a government body can sponsor, a donation
    // can have no PI.
    let need = f.app
            .operator().post("/api/v1/needs", &json!({"company_id": f.sponsor, "title": "Public", "status": "open", "visibility": "public"}))
            .await.created_id();
    let ministry = f
        .app
        .org_id("government", "Ministry of Science and ICT", "KR")
        .await;
    let engagement = f
        .app
        .operator()
        .post(
            "/api/v1/engagements",
            &json!({"need_id": need, "faculty_id": f.pi, "state": "shortlisted"}),
        )
        .await
        .created_id();
    let mut body = project(&f, "Alumni research building", "public");
    body["type"] = json!("donation");
    body["sponsor_id"] = json!(ministry);
    body["principal_investigator_id"] = json!(null);
    body["need_id"] = json!(need);
    body["engagement_id"] = json!(uuid::Uuid::now_v7().to_string());
    let res = f
        .app
        .as_(&f.office)
        .post("/api/v1/funded-projects", &body)
        .await;
    res.expect(422);
    assert_eq!(res.json()["errors"][0]["field"], "engagement_id");
    body["engagement_id"] = json!(engagement);
    let id = f.create(&body).await;
    let got = f
        .app
        .as_(&f.office)
        .get(&format!("/api/v1/funded-projects/{id}"))
        .await
        .json();
    assert_eq!(got["engagement_id"], engagement.as_str());
    assert_eq!(got["need_id"], need.as_str());
    assert_eq!(got["principal_investigator_id"], Value::Null);
    let listed = f
        .app
        .as_(&f.office)
        .get(&format!("/api/v1/funded-projects?need_id={need}"))
        .await
        .json();
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    body["university_id"] = json!(f.sponsor);
    f.app
        .operator()
        .post("/api/v1/funded-projects", &body)
        .await
        .expect(422);
    body["type"] = json!("grant");
    f.app
        .operator()
        .post("/api/v1/funded-projects", &body)
        .await
        .expect(422);
}

#[actix_web::test]
async fn payments_are_in_the_project_currency_and_only_participants_see_them() {
    let f = fixture().await;
    let id = f.create(&project(&f, "HBM thermal", "public")).await;
    let payments = format!("/api/v1/funded-projects/{id}/payments");
    let res = f
        .app.as_(&f.office).post(&payments, &json!({"due_date": "2027-03-31", "amount_minor": 100_000_000i64, "currency": "KRW", "note": "1차 지급"}))
        .await;
    res.expect(201);
    assert_eq!(res.header("etag").as_deref(), Some("\"1\""));
    let first = res.json();
    assert_eq!(first["status"], "scheduled");
    assert_eq!(first["project_id"], id.as_str());
    f.app.as_(&f.office).post(&payments, &json!({"received_date": "2027-01-15", "amount_minor": 50_000_000i64, "currency": "krw", "status": "received"}))
    .await
    .expect(201);

    // Another currency than the project's is a 422 on `currency`; so are other bad payments.
    for (body, field, code) in [
        (
            json!({"due_date": "2027-06-30", "amount_minor": 100, "currency": "USD"}),
            "currency",
            "currency_mismatch",
        ),
        (
            json!({"due_date": "2027-06-30", "amount_minor": 100, "currency": "XXX1"}),
            "currency",
            "invalid_currency",
        ),
        (
            json!({"due_date": "2027-06-30", "amount_minor": 0, "currency": "KRW"}),
            "amount_minor",
            "out_of_range",
        ),
        (
            json!({"amount_minor": 100, "currency": "KRW"}),
            "due_date",
            "required",
        ),
        (
            json!({"due_date": "2027-06-30", "amount_minor": 100, "currency": "KRW", "status": "received"}),
            "received_date",
            "required",
        ),
        (
            json!({"due_date": "2027-06-30", "amount_minor": 100, "currency": "KRW", "status": "paid"}),
            "status",
            "invalid_value",
        ),
    ] {
        let res = f.app.as_(&f.office).post(&payments, &body).await;
        res.expect(422);
        let e = &res.json()["errors"][0];
        assert_eq!(e["field"], field, "{body}");
        if code != "invalid_value" {
            assert_eq!(e["code"], code, "{body}");
        }
    }

    let list = f.app.as_(&f.office).get(&payments).await;
    list.expect(200);
    let list = list.json();
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
    assert_eq!(list["currency"], "KRW");
    assert_eq!(list["scheduled_minor"], 100_000_000i64);
    assert_eq!(list["received_minor"], 50_000_000i64);

    // Mark the first received: If-Match required; currency stays checked on patch.
    let one = format!("{payments}/{}", first["id"].as_str().unwrap());
    let mark = json!({"status": "received", "received_date": "2027-04-02"});
    f.app.as_(&f.office).patch(&one, &mark).await.expect(428);
    f.app
        .as_(&f.office)
        .if_match("\"9\"")
        .patch(&one, &mark)
        .await
        .expect(412);
    f.app
        .as_(&f.office)
        .if_match("\"1\"")
        .patch(&one, &json!({"currency": "JPY"}))
        .await
        .expect(422);
    let res = f
        .app
        .as_(&f.office)
        .if_match("\"1\"")
        .patch(&one, &mark)
        .await;
    res.expect(200);
    assert_eq!(res.header("etag").as_deref(), Some("\"2\""));
    assert_eq!(res.json()["received_date"], "2027-04-02");
    let list = f.app.as_(&f.office).get(&payments).await.json();
    assert_eq!(list["scheduled_minor"], 0);
    assert_eq!(list["received_minor"], 150_000_000i64);

    // The project's currency cannot drift from its payments'.
    let res = f
        .app
        .as_(&f.office)
        .if_match("*")
        .patch(
            &format!("/api/v1/funded-projects/{id}"),
            &json!({"currency": "USD"}),
        )
        .await;
    res.expect(422);
    assert_eq!(
        res.json()["errors"][0]["code"],
        "payments_in_other_currency"
    );

    // Who sees the payments of a public project: participants, not the public.
    let sponsor_staff = f.app.member_token(&f.sponsor, "staff").await;
    let outsider = f.app.member_token(&f.other_co, "admin").await;
    for (token, want) in [
        (Some(sponsor_staff.as_str()), 200),
        (Some(f.co_investigator.0.as_str()), 200),
        (Some(outsider.as_str()), 403),
        (None, 401),
    ] {
        let res = f.app.caller(token).get(&payments).await;
        assert_eq!(res.status.as_u16(), want, "{}", res.text());
        // The project itself is public.
        f.app
            .caller(token)
            .get(&format!("/api/v1/funded-projects/{id}"))
            .await
            .expect(200);
        // Only the performing university's office changes payments.
        let res = f.app.caller(token).delete(&one).await;
        assert_eq!(res.status.as_u16(), if token.is_none() { 401 } else { 403 });
    }

    // Delete for good; unknown ids are 404, malformed ones 400.
    f.app
        .as_(&f.office)
        .if_match("\"2\"")
        .delete(&one)
        .await
        .expect(204);
    f.app.as_(&f.office).delete(&one).await.expect(404);
    f.app
        .as_(&f.office)
        .delete(&format!("{payments}/nope"))
        .await
        .expect(400);
    let list = f.app.as_(&f.office).get(&payments).await.json();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    // Payments of an invisible project are as absent as the project.
    let hidden = f.create(&project(&f, "Hidden", "participants")).await;
    let res = f
        .app
        .as_(&outsider)
        .get(&format!("/api/v1/funded-projects/{hidden}/payments"))
        .await;
    res.expect(404);
}

#[actix_web::test]
async fn sponsors_and_investigators_read_the_office_manages_others_see_public_only() {
    let f = fixture().await;
    let hidden = f
        .create(&project(&f, "Hidden project", "participants"))
        .await;
    let public = f.create(&project(&f, "Public project", "public")).await;
    let sponsor_admin = f.app.member_token(&f.sponsor, "admin").await;
    let outsider = f.app.member_token(&f.other_co, "staff").await;
    let other_office = f.app.member_token(&f.other_uni, "admin").await;
    let pi_owner = {
        // The PI's profile gets an owner: a professor at the performing university.
        let token = f.app.member_token(&f.uni, "faculty").await;
        let me = f.app.as_(&token).get("/api/v1/me").await.json();
        f.app
            .operator()
            .if_match("*")
            .patch(
                &format!("/api/v1/faculty/{}", f.pi),
                &json!({"owner_user_id": me["user"]["id"]}),
            )
            .await
            .expect(200);
        token
    };
    let host_faculty = f.app.member_token(&f.uni, "faculty").await;
    for (who, token, sees) in [
        ("anonymous", None, false),
        ("sponsor admin", Some(&sponsor_admin), true),
        ("co-investigator", Some(&f.co_investigator.0), true),
        ("PI", Some(&pi_owner), true),
        ("office", Some(&f.office), true),
        ("other company", Some(&outsider), false),
        ("other university office", Some(&other_office), false),
        (
            "host faculty not on the project",
            Some(&host_faculty),
            false,
        ),
    ] {
        let token = token.map(String::as_str);
        let res = f
            .app
            .caller(token)
            .get(&format!("/api/v1/funded-projects/{hidden}"))
            .await;
        assert_eq!(res.status.as_u16(), if sees { 200 } else { 404 }, "{who}");
        let list = f
            .app
            .caller(token)
            .get("/api/v1/funded-projects")
            .await
            .json();
        let ids: Vec<&str> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids.contains(&hidden.as_str()), sees, "{who}");
        assert!(ids.contains(&public.as_str()), "{who}");
        let res = f
            .app
            .caller(token)
            .if_match("*")
            .patch(
                &format!("/api/v1/funded-projects/{hidden}"),
                &json!({"description": who}),
            )
            .await;
        let want = match (who, token, sees) {
            (_, None, _) => 401,
            ("office", _, _) => 200,
            (_, _, true) => 403,
            _ => 404,
        };
        assert_eq!(res.status.as_u16(), want, "{who}: {}", res.text());
    }
    // The PI's own faculty filter finds both projects.
    let mine = f
        .app
        .as_(&pi_owner)
        .get(&format!("/api/v1/funded-projects?faculty_id={}", f.pi))
        .await
        .json();
    assert_eq!(mine["items"].as_array().unwrap().len(), 2);
    // The sponsor cannot create projects for the university.
    f.app
        .as_(&sponsor_admin)
        .post("/api/v1/funded-projects", &project(&f, "x", "public"))
        .await
        .expect(403);
}

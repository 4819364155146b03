//! Shared compute through the API: resources with academia/industry shares, the allocation
//! workflow, quota refusals with their arithmetic (and audited overrides), concurrent
//! approvals of the last hours, Slurm usage import, and the compute report.

mod common;

use common::{Response, Scrub, TestApp, scrub};
use serde_json::{Value, json};

/// A national facility (a government body) with a 25/75 quarterly split of 4,000 GPU-hours,
/// a university with its office and a professor, a company with its staff.
struct World {
    app: TestApp,
    uni: String,
    co: String,
    facility: String,
    /// The facility's staff: they decide.
    desk: String,
    /// The university's industry-liaison office.
    office: String,
    /// A professor of the university (token, profile).
    prof: (String, String),
    /// The company's staff.
    co_staff: String,
    /// The facility's GPU cluster.
    resource: String,
}

async fn world() -> World {
    let app = TestApp::spawn().await;
    let uni = app
        .org_id(
            "university",
            "National Yang Ming Chiao Tung University",
            "TW",
        )
        .await;
    let co = app.org_id("company", "MediaTek", "TW").await;
    let facility = app
        .org_id(
            "government",
            "National Center for High-performance Computing",
            "TW",
        )
        .await;
    let desk = app.member_token(&facility, "staff").await;
    let office = app.member_token(&uni, "staff").await;
    let prof = app
        .professor(
            &uni,
            json!({"name": "Chen Yi-hsuan", "research_interests": "speech recognition"}),
        )
        .await;
    let co_staff = app.member_token(&co, "staff").await;
    let res = app
        .as_(&desk)
        .post(
            "/api/v1/compute/resources",
            &json!({"owner_id": facility, "name": "Taiwania 2", "kind": "gpu_cluster",
                    "unit": "gpu_hours", "gpu_model": "V100", "gpu_count": 2016,
                    "period": "quarter", "capacity": 4000,
                    "academia_percent": 25, "industry_percent": 75}),
        )
        .await;
    res.expect(201);
    let resource = res.id();
    World {
        app,
        uni,
        co,
        facility,
        desk,
        office,
        prof,
        co_staff,
        resource,
    }
}

impl World {
    /// A submitted request by the professor (academia) or the company (industry).
    async fn request(&self, sector: &str, period: &str, amount: i64) -> Value {
        let (token, body) = match sector {
            "academia" => (
                &self.prof.0,
                json!({"resource_id": self.resource, "applicant_id": self.uni,
                       "faculty_id": self.prof.1, "period": period, "requested": amount,
                       "justification": "語音辨識模型預訓練", "state": "submitted"}),
            ),
            _ => (
                &self.co_staff,
                json!({"resource_id": self.resource, "applicant_id": self.co, "period": period,
                       "requested": amount, "justification": "LLM fine-tuning for edge chips",
                       "state": "submitted"}),
            ),
        };
        let res = self
            .app
            .as_(token)
            .post("/api/v1/compute/allocations", &body)
            .await;
        res.expect(201);
        res.json()
    }

    /// A move by the facility's staff.
    async fn decide(&self, allocation: &Value, body: Value) -> Response {
        self.app
            .as_(&self.desk)
            .if_match("*")
            .post(
                &format!(
                    "/api/v1/compute/allocations/{}/transitions",
                    allocation["id"].as_str().unwrap()
                ),
                &body,
            )
            .await
    }
}

/// Asserts a problem with `status` whose field errors are exactly `expected` (field, code),
/// in any order.
#[track_caller]
fn assert_fields(res: &Response, status: u16, expected: &[(&str, &str)]) {
    res.expect(status);
    let mut got = field_codes(&res.json());
    got.sort();
    let mut want: Vec<(String, String)> = expected
        .iter()
        .map(|(f, c)| ((*f).to_owned(), (*c).to_owned()))
        .collect();
    want.sort();
    assert_eq!(got, want);
}

fn field_codes(problem: &Value) -> Vec<(String, String)> {
    problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().to_owned(),
                e["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[actix_web::test]
async fn resources_are_checked_and_found_by_gpu_model_and_free_capacity() {
    let w = world().await;
    let base = json!({"owner_id": w.uni, "name": "NYCU campus AI platform", "kind": "gpu_cluster",
                      "unit": "gpu_hours", "gpu_model": "H100", "gpu_count": 40,
                      "period": "quarter", "capacity": 80000,
                      "academia_percent": 100, "industry_percent": 0});
    // Shares that do not make 100, a unit the kind does not count, no capacity.
    let mut bad = base.clone();
    bad["industry_percent"] = json!(10);
    bad["unit"] = json!("credits");
    bad["capacity"] = json!(0);
    let res = w
        .app
        .as_(&w.office)
        .post("/api/v1/compute/resources", &bad)
        .await;
    assert_fields(
        &res,
        422,
        &[
            ("capacity", "out_of_range"),
            ("industry_percent", "invalid_value"),
            ("unit", "invalid_value"),
        ],
    );
    // Shares near the integer limits are refused like any others (their sum once overflowed).
    let mut huge = base.clone();
    huge["academia_percent"] = json!(25);
    huge["industry_percent"] = json!(i32::MAX - 1);
    let res = w
        .app
        .as_(&w.office)
        .post("/api/v1/compute/resources", &huge)
        .await;
    assert_fields(
        &res,
        422,
        &[
            ("industry_percent", "invalid_value"),
            ("industry_percent", "out_of_range"),
        ],
    );
    // Only the owner's admins and staff register its resources.
    w.app
        .as_(&w.co_staff)
        .post("/api/v1/compute/resources", &base)
        .await
        .expect(403);
    w.app
        .as_(&w.prof.0)
        .post("/api/v1/compute/resources", &base)
        .await
        .expect(403);
    let res = w
        .app
        .as_(&w.office)
        .post("/api/v1/compute/resources", &base)
        .await;
    res.expect(201);
    let campus = res.json();
    assert_eq!(campus["quotas"], json!({"academia": 80000, "industry": 0}));
    assert_eq!(
        res.header("location").unwrap(),
        format!(
            "/api/v1/compute/resources/{}",
            campus["id"].as_str().unwrap()
        )
    );

    // GPU model, whatever its case.
    let found = w
        .app
        .anonymous()
        .get("/api/v1/compute/resources?gpu_model=h100")
        .await;
    found.expect(200);
    let ids = common::each(&found.json(), "items", |v| {
        v["id"].as_str().unwrap().to_owned()
    });
    assert_eq!(ids, [campus["id"].as_str().unwrap()]);

    // Free capacity in a period: 900 of the facility's 1,000 academia hours granted.
    let a = w.request("academia", "2027-Q1", 900).await;
    w.decide(&a, json!({"to": "approved"})).await.expect(200);
    let free = |q: &str| {
        let app = &w.app;
        let q = q.to_owned();
        async move {
            let res = app
                .anonymous()
                .get(&format!("/api/v1/compute/resources?{q}"))
                .await;
            res.expect(200);
            res.json()["items"].as_array().unwrap().clone()
        }
    };
    let items = free("period=2027-Q1&min_free=200&sector=academia").await;
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["id"], campus["id"]);
    let items = free("period=2027-Q1&min_free=100&sector=academia&kind=gpu_cluster").await;
    assert_eq!(items.len(), 2);
    let taiwania = items
        .iter()
        .find(|i| i["id"] == w.resource.as_str())
        .unwrap();
    assert_eq!(
        taiwania["availability"],
        json!({"period": "2027-Q1", "granted": {"academia": 900, "industry": 0},
               "free": {"academia": 100, "industry": 3000}, "free_total": 3100})
    );
    let one = w
        .app
        .anonymous()
        .get(&format!(
            "/api/v1/compute/resources/{}?period=2027-Q1",
            w.resource
        ))
        .await;
    one.expect(200);
    assert_eq!(one.json()["availability"]["free_total"], 3100);
    assert!(
        one.header("etag").is_none(),
        "approvals change it; the version does not say"
    );
    // A period in the wrong shape for the resource, or a sector without a floor.
    let res = w
        .app
        .anonymous()
        .get(&format!(
            "/api/v1/compute/resources/{}?period=2027-01",
            w.resource
        ))
        .await;
    assert_fields(&res, 400, &[("period", "invalid_period")]);
    w.app
        .anonymous()
        .get("/api/v1/compute/resources?sector=industry")
        .await
        .expect(400);

    // The owner changes the split; the shares must still make 100.
    let path = format!("/api/v1/compute/resources/{}", w.resource);
    let res = w
        .app
        .as_(&w.desk)
        .if_match("*")
        .patch(&path, &json!({"academia_percent": 30}))
        .await;
    res.expect(422);
    let res = w
        .app
        .as_(&w.desk)
        .if_match("*")
        .patch(
            &path,
            &json!({"academia_percent": 30, "industry_percent": 70}),
        )
        .await;
    res.expect(200);
    assert_eq!(
        res.json()["quotas"],
        json!({"academia": 1200, "industry": 2800})
    );
    w.app
        .as_(&w.office)
        .if_match("*")
        .patch(&path, &json!({"name": "mine"}))
        .await
        .expect(403);
}

#[actix_web::test]
async fn an_allocation_goes_from_draft_to_expired_and_is_renewed() {
    let w = world().await;
    let app = &w.app;
    // The professor drafts, edits and submits.
    let res = app
        .as_(&w.prof.0)
        .post(
            "/api/v1/compute/allocations",
            &json!({"resource_id": w.resource, "applicant_id": w.uni, "faculty_id": w.prof.1,
                    "period": "2027-Q1", "requested": 700, "justification": "Speech model"}),
        )
        .await;
    res.expect(201);
    let draft = res.json();
    assert_eq!(
        (draft["state"].as_str(), draft["sector"].as_str()),
        (Some("draft"), Some("academia"))
    );
    assert_eq!(draft["period_start"], "2027-01-01");
    assert_eq!(draft["period_end"], "2027-03-31");
    assert_eq!(draft["next_states"], json!(["submitted"]));
    let path = format!(
        "/api/v1/compute/allocations/{}",
        draft["id"].as_str().unwrap()
    );
    let etag = res.header("etag").unwrap();
    let res = app
        .as_(&w.prof.0)
        .if_match(&etag)
        .patch(&path, &json!({"requested": 600}))
        .await;
    res.expect(200);
    assert_eq!(res.json()["requested"], 600);
    // The facility cannot decide a draft, and the professor cannot approve.
    let moves = format!("{path}/transitions");
    let res = app
        .as_(&w.desk)
        .if_match("*")
        .post(&moves, &json!({"to": "approved"}))
        .await;
    assert_fields(&res, 409, &[("to", "invalid_transition")]);
    app.as_(&w.prof.0)
        .if_match("*")
        .post(&moves, &json!({"to": "submitted"}))
        .await
        .expect(200);
    app.as_(&w.prof.0)
        .if_match("*")
        .post(&moves, &json!({"to": "approved"}))
        .await
        .expect(403);
    // A submitted request is not edited.
    app.as_(&w.prof.0)
        .if_match("*")
        .patch(&path, &json!({"requested": 500}))
        .await
        .expect(409);
    // Approved with less than asked, and a note.
    let allocation = app.as_(&w.prof.0).get(&path).await.json();
    let res = w
        .decide(&allocation, json!({"to": "approved", "approved": 800}))
        .await;
    res.expect(422);
    let res = w
        .decide(&allocation, json!({"to": "approved", "approved": 500, "reason": "Half of the quarter's academia share is already spoken for"}))
        .await;
    res.expect(200);
    let approved = res.json();
    assert_eq!(approved["approved"], 500);
    assert_eq!(approved["decided_by"], app.user_id(&w.desk).await.as_str());
    // Activation names the Slurm account the jobs run under.
    let res = w.decide(&approved, json!({"to": "active"})).await;
    assert_fields(&res, 422, &[("scheduler_account", "required")]);
    let res = w
        .decide(
            &approved,
            json!({"to": "active", "scheduler_account": "NYCU-Speech"}),
        )
        .await;
    res.expect(200);
    assert_eq!(res.json()["scheduler_account"], "nycu-speech");
    let res = w.decide(&approved, json!({"to": "expired"})).await;
    res.expect(200);
    assert_eq!(res.json()["next_states"], json!([]));
    w.decide(&approved, json!({"to": "active"}))
        .await
        .expect(409);

    // A renewal is a new draft for the next quarter, asking for what was granted.
    let res = app
        .as_(&w.prof.0)
        .post(&format!("{path}/renewals"), &json!({}))
        .await;
    res.expect(201);
    let renewal = res.json();
    assert_eq!(
        (
            renewal["state"].as_str(),
            renewal["period"].as_str(),
            renewal["requested"].as_i64(),
            renewal["renewal_of"].as_str()
        ),
        (
            Some("draft"),
            Some("2027-Q2"),
            Some(500),
            approved["id"].as_str()
        )
    );
    // Others cannot renew it; the company does not even see it.
    app.as_(&w.co_staff)
        .post(&format!("{path}/renewals"), &json!({}))
        .await
        .expect(404);
    app.as_(&w.co_staff).get(&path).await.expect(404);
    app.anonymous().get(&path).await.expect(401);

    // A rejection says why.
    let other = w.request("industry", "2027-Q1", 100).await;
    let res = w.decide(&other, json!({"to": "rejected"})).await;
    assert_fields(&res, 422, &[("reason", "required")]);
    let res = w
        .decide(
            &other,
            json!({"to": "rejected", "reason": "Outside the facility's mission"}),
        )
        .await;
    res.expect(200);
    assert_eq!(res.json()["sector"], "industry");
    assert_eq!(
        res.json()["decision_reason"],
        "Outside the facility's mission"
    );

    // Who sees which: the professor theirs, the company its own, the office its university's,
    // the facility everything on its resource.
    let count = |token: &str| {
        let app = &w.app;
        let token = token.to_owned();
        async move {
            let res = app.as_(&token).get("/api/v1/compute/allocations").await;
            res.expect(200);
            res.json()["items"].as_array().unwrap().len()
        }
    };
    assert_eq!(count(&w.prof.0).await, 2);
    assert_eq!(count(&w.office).await, 2);
    assert_eq!(count(&w.co_staff).await, 1);
    assert_eq!(count(&w.desk).await, 3);
}

#[actix_web::test]
async fn requests_name_their_sector_and_what_they_serve() {
    let w = world().await;
    let post = |token: &str, body: Value| {
        let app = &w.app;
        let token = token.to_owned();
        async move {
            app.as_(&token)
                .post("/api/v1/compute/allocations", &body)
                .await
        }
    };
    let base = json!({"resource_id": w.resource, "applicant_id": w.co, "period": "2027-Q1",
                      "requested": 10, "justification": "x"});
    // A company applies for industry; saying academia is a mismatch.
    let mut b = base.clone();
    b["sector"] = json!("academia");
    let res = post(&w.co_staff, b).await;
    assert_fields(&res, 422, &[("sector", "mismatch")]);
    // A period of the wrong shape, a resource that does not exist, nothing asked.
    let mut b = base.clone();
    b["period"] = json!("2027");
    b["requested"] = json!(0);
    let res = post(&w.co_staff, b).await;
    assert_fields(
        &res,
        422,
        &[("period", "invalid_period"), ("requested", "out_of_range")],
    );
    let mut b = base.clone();
    b["resource_id"] = json!(w.co);
    let res = post(&w.co_staff, b).await;
    assert_fields(&res, 422, &[("resource_id", "unknown_resource")]);
    // Nobody applies on behalf of an organization they do not act for.
    post(&w.office, base.clone()).await.expect(403);
    post(&w.prof.0, base.clone()).await.expect(403);

    // A joint project chooses its sector, and must say which.
    let project = w
        .app
        .operator()
        .post(
            "/api/v1/funded-projects",
            &json!({"title": "Edge speech", "type": "sponsored_research", "sponsor_id": w.co,
                    "university_id": w.uni, "principal_investigator_id": w.prof.1,
                    "amount_minor": 1000000, "currency": "TWD", "visibility": "participants"}),
        )
        .await
        .id();
    let mut b = base.clone();
    b["project_id"] = json!(project);
    let res = post(&w.co_staff, b.clone()).await;
    assert_fields(&res, 422, &[("sector", "required")]);
    b["sector"] = json!("academia");
    let res = post(&w.co_staff, b).await;
    res.expect(201);
    assert_eq!(res.json()["sector"], "academia");
    assert_eq!(res.json()["project_id"], project.as_str());
    // A project the caller cannot see is not named.
    let stranger = w.app.org_id("company", "Quanta", "TW").await;
    let stranger_staff = w.app.member_token(&stranger, "staff").await;
    let mut b = base.clone();
    b["applicant_id"] = json!(stranger);
    b["project_id"] = json!(project);
    b["sector"] = json!("industry");
    let res = post(&stranger_staff, b).await;
    assert_fields(&res, 422, &[("project_id", "unknown_project")]);

    // A retired resource takes no new requests.
    w.app
        .as_(&w.desk)
        .if_match("*")
        .patch(
            &format!("/api/v1/compute/resources/{}", w.resource),
            &json!({"status": "retired"}),
        )
        .await
        .expect(200);
    post(&w.co_staff, base).await.expect(409);
    let _ = &w.facility;
}

#[actix_web::test]
async fn an_approval_beyond_the_share_is_refused_with_the_arithmetic_unless_overridden() {
    let w = world().await;
    // Academia's share is 25% of 4,000: 1,000 GPU-hours.
    let first = w.request("academia", "2027-Q1", 700).await;
    w.decide(&first, json!({"to": "approved"}))
        .await
        .expect(200);
    let second = w.request("academia", "2027-Q1", 600).await;
    let res = w.decide(&second, json!({"to": "approved"})).await;
    res.expect(409);
    let p = res.json();
    insta::assert_json_snapshot!("compute_quota_exceeded", scrub(&p));
    assert_eq!(p["code"], "quota_exceeded");
    assert_eq!(
        p["quota"],
        json!({"resource_id": w.resource, "period": "2027-Q1", "unit": "gpu_hours",
               "sector": "academia", "capacity": 4000, "share_percent": 25,
               "sector_quota": 1000, "sector_granted": 700, "capacity_granted": 700,
               "requested": 600, "sector_remaining": 300, "capacity_remaining": 3300,
               "overridable": true})
    );
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("1300 of its 1000 (25% of 4000)"),
        "{p}"
    );
    // Nothing changed.
    let path = format!(
        "/api/v1/compute/allocations/{}",
        second["id"].as_str().unwrap()
    );
    assert_eq!(
        w.app.as_(&w.desk).get(&path).await.json()["state"],
        "submitted"
    );
    // Industry's share is not academia's: another quarter, or the other sector, is free.
    w.decide(&second, json!({"to": "approved", "approved": 300}))
        .await
        .expect(200);

    // The owner may go beyond the share for a written reason, which the audit log keeps.
    let third = w.request("academia", "2027-Q1", 500).await;
    let res = w
        .decide(&third, json!({"to": "approved", "override_reason": "Typhoon-season forecasting for the Central Weather Administration"}))
        .await;
    res.expect(200);
    assert_eq!(
        res.json()["quota_override_reason"],
        "Typhoon-season forecasting for the Central Weather Administration"
    );
    let audit = w
        .app
        .as_(&w.desk)
        .get(&format!(
            "/api/v1/audit?entity=compute_allocation&entity_id={}",
            third["id"].as_str().unwrap()
        ))
        .await;
    audit.expect(200);
    let entries = audit.json()["items"].as_array().unwrap().clone();
    assert!(
        entries.iter().any(|e| e["after"]["quota_override_reason"]
            .as_str()
            .is_some_and(|r| r.starts_with("Typhoon"))
            && e["after"]["state"] == "approved"),
        "{entries:?}"
    );

    // No override goes beyond the period's capacity: 1,500 granted, 2,500 left.
    let big = w.request("industry", "2027-Q1", 2600).await;
    let res = w
        .decide(
            &big,
            json!({"to": "approved", "override_reason": "Flagship partner"}),
        )
        .await;
    res.expect(409);
    assert_eq!(res.json()["quota"]["overridable"], false);
    assert_eq!(res.json()["quota"]["capacity_remaining"], 2500);
    w.decide(
        &big,
        json!({"to": "approved", "approved": 2500, "override_reason": "x"}),
    )
    .await
    .expect(200);
}

#[actix_web::test]
async fn concurrent_approvals_cannot_both_take_the_last_hours() {
    let w = world().await;
    // Each round: two requests that each fit in academia's 1,000 hours but not together.
    for (round, period) in ["2027-Q1", "2027-Q2", "2027-Q3", "2027-Q4", "2028-Q1"]
        .iter()
        .enumerate()
    {
        let a = w.request("academia", period, 600).await;
        let b = w.request("academia", period, 600).await;
        let (ra, rb) = futures_util::future::join(
            w.decide(&a, json!({"to": "approved"})),
            w.decide(&b, json!({"to": "approved"})),
        )
        .await;
        let mut statuses = [ra.status.as_u16(), rb.status.as_u16()];
        statuses.sort_unstable();
        assert_eq!(
            statuses,
            [200, 409],
            "round {round}: {} / {}",
            ra.text(),
            rb.text()
        );
        let refused = if ra.status.as_u16() == 409 { &ra } else { &rb };
        assert_eq!(refused.code(), "quota_exceeded");
        assert_eq!(refused.json()["quota"]["sector_granted"], 600);
        let res = w
            .app
            .anonymous()
            .get(&format!(
                "/api/v1/compute/resources/{}?period={period}",
                w.resource
            ))
            .await;
        assert_eq!(
            res.json()["availability"]["granted"]["academia"],
            600,
            "round {round}"
        );
    }
}

/// Two active allocations on the facility in 2027-Q1: the professor's (`nycu-speech`) and
/// the company's (`mediatek-llm`).
async fn active_allocations(w: &World) -> (Value, Value) {
    let mut made = Vec::new();
    for (sector, asked, granted, account) in [
        ("academia", 1000, 300, "nycu-speech"),
        ("industry", 2000, 1500, "mediatek-llm"),
    ] {
        let a = w.request(sector, "2027-Q1", asked).await;
        w.decide(&a, json!({"to": "approved", "approved": granted}))
            .await
            .expect(200);
        let active = w
            .decide(&a, json!({"to": "active", "scheduler_account": account}))
            .await;
        active.expect(200);
        made.push(active.json());
    }
    let industry = made.pop().unwrap();
    (made.pop().unwrap(), industry)
}

fn sacct() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/slurm/taiwania-2027-q1.txt"
    ))
    .unwrap()
}

async fn import(w: &World, token: &str, body: &str) -> Response {
    let req = actix_web::test::TestRequest::post()
        .uri(&format!(
            "/api/v1/compute/usage/import?resource_id={}",
            w.resource
        ))
        .insert_header(("content-type", "text/plain"))
        .insert_header(("authorization", format!("Bearer {token}")))
        .set_payload(body.to_owned());
    w.app.send(req).await
}

#[actix_web::test]
async fn slurm_usage_is_charged_once_per_job_to_the_account_s_allocation() {
    let w = world().await;
    let (academia, industry) = active_allocations(&w).await;
    let academia_path = format!(
        "/api/v1/compute/allocations/{}",
        academia["id"].as_str().unwrap()
    );
    let before = w
        .app
        .as_(&w.desk)
        .get(&academia_path)
        .await
        .header("etag")
        .unwrap();
    let res = import(&w, &w.desk, &sacct()).await;
    res.expect(200);
    let report = res.json();
    assert_eq!(
        (
            report["charged"].as_u64(),
            report["skipped"].as_u64(),
            report["rejected"].as_u64()
        ),
        (Some(4), Some(4), Some(3)),
        "{report}"
    );
    let rows = report["rows"].as_array().unwrap();
    let row = |job: &str| {
        rows.iter()
            .find(|r| r["job"] == job)
            .unwrap_or_else(|| panic!("{job}"))
    };
    assert_eq!(row("880101")["charged"], 40.0);
    assert_eq!(row("880101")["allocation_id"], academia["id"]);
    assert_eq!(row("880101.batch")["status"], "skipped");
    assert_eq!(
        row("880102")["charged"],
        12.0,
        "typed gres/gpu:v100=8 for 1.5 hours"
    );
    assert_eq!(
        row("880103_7")["charged"],
        0.5,
        "the account compared in lower case"
    );
    assert_eq!(row("880104")["status"], "skipped", "still running");
    assert_eq!(row("880105")["allocation_id"], industry["id"]);
    assert_eq!(row("880106")["status"], "skipped", "no GPUs");
    assert_eq!(row("880107")["errors"][0]["code"], "unknown_account");
    assert_eq!(row("880108")["errors"][0]["field"], "ElapsedRaw");
    assert_eq!(
        row("880109")["errors"][0]["code"],
        "unknown_account",
        "ran in 2026-Q4"
    );
    assert_eq!(row("880109")["row"], 11);

    let used = |a: &Value| {
        let app = &w.app;
        let path = format!("/api/v1/compute/allocations/{}", a["id"].as_str().unwrap());
        let desk = w.desk.clone();
        async move {
            app.as_(&desk).get(&path).await.json()["used"]
                .as_f64()
                .unwrap()
        }
    };
    assert_eq!(used(&academia).await, 52.5);
    assert_eq!(used(&industry).await, 160.0);
    // What it used is part of what an allocation reads as: a copy cached before is stale.
    let res = w
        .app
        .as_(&w.desk)
        .if_none_match(&before)
        .get(&academia_path)
        .await;
    res.expect(200);
    assert_ne!(res.header("etag").unwrap(), before);

    // Importing the same records again charges nothing twice.
    let again = import(&w, &w.desk, &sacct()).await.json();
    assert_eq!(
        (again["charged"].as_u64(), again["unchanged"].as_u64()),
        (Some(0), Some(4))
    );
    assert_eq!(used(&academia).await, 52.5);
    // A later record of a job replaces the earlier one.
    let requeued = "880101|nycu-speech|chen.yh|gp4d|billing=16,cpu=16,gres/gpu=4,mem=360G,node=1|18000|2027-01-04T09:12:03|2027-01-04T14:12:03|COMPLETED\n";
    let res = import(&w, &w.desk, requeued).await.json();
    assert_eq!(res["updated"], 1);
    assert_eq!(used(&academia).await, 32.5);

    // Only the facility imports; a file that is not UTF-8 is refused whole.
    import(&w, &w.office, requeued).await.expect(403);
    import(&w, &w.co_staff, requeued).await.expect(403);
    let res = w
        .app
        .send(
            actix_web::test::TestRequest::post()
                .uri(&format!(
                    "/api/v1/compute/usage/import?resource_id={}",
                    w.resource
                ))
                .insert_header(("content-type", "text/plain"))
                .insert_header(("authorization", format!("Bearer {}", w.desk)))
                .set_payload(vec![0xff, 0xfe, b'|']),
        )
        .await;
    res.expect(422);
    let res = w
        .app
        .send(
            actix_web::test::TestRequest::post()
                .uri(&format!(
                    "/api/v1/compute/usage/import?resource_id={}",
                    w.resource
                ))
                .insert_header(("content-type", "application/json"))
                .insert_header(("authorization", format!("Bearer {}", w.desk)))
                .set_payload("{}"),
        )
        .await;
    res.expect(415);
}

#[actix_web::test]
async fn the_compute_report_shows_sectors_organizations_and_burn_rates() {
    let w = world().await;
    let (academia, industry) = active_allocations(&w).await;
    import(&w, &w.desk, &sacct()).await.expect(200);
    let path = format!(
        "/api/v1/reports/compute?resource_id={}&period=2027-Q1&as_of=2027-01-10",
        w.resource
    );
    let res = w.app.as_(&w.desk).get(&path).await;
    res.expect(200);
    let r = res.json();
    assert_eq!(
        (r["capacity"].as_i64(), r["as_of"].as_str()),
        (Some(4000), Some("2027-01-10"))
    );
    assert_eq!(
        r["sectors"],
        json!([
            {"sector": "academia", "share_percent": 25, "quota": 1000, "approved": 300, "used": 52.5, "unallocated": 700},
            {"sector": "industry", "share_percent": 75, "quota": 3000, "approved": 1500, "used": 160.0, "unallocated": 1500},
        ])
    );
    insta::assert_json_snapshot!("compute_report", scrub(&r));
    let lines = r["allocations"].as_array().unwrap();
    let line = |a: &Value| {
        lines
            .iter()
            .find(|l| l["allocation_id"] == a["id"])
            .unwrap()
            .clone()
    };
    // 160 GPU-hours in ten days: 16 a day; 1,500 last 94 days, beyond the quarter's 90.
    assert_eq!(line(&industry)["burn_per_day"], 16.0);
    assert_eq!(line(&industry)["projected_exhaustion"], Value::Null);
    assert_eq!(line(&industry)["remaining"], 1340.0);
    // 52.5 in ten days: 5.25 a day; 300 last 58 days, to 27 February.
    assert_eq!(line(&academia)["burn_per_day"], 5.25);
    assert_eq!(line(&academia)["projected_exhaustion"], "2027-02-27");
    // As of an earlier day, only the jobs started by its end count: 40 + 12 GPU-hours by the
    // end of 5 January, 10.4 a day.
    let early = w
        .app
        .as_(&w.desk)
        .get(&path.replace("as_of=2027-01-10", "as_of=2027-01-05"))
        .await
        .json();
    let early_line = early["allocations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["allocation_id"] == academia["id"])
        .unwrap()
        .clone();
    assert_eq!(
        (
            early_line["used"].as_f64(),
            early_line["burn_per_day"].as_f64()
        ),
        (Some(52.0), Some(10.4))
    );
    assert_eq!(r["organizations"].as_array().unwrap().len(), 2);

    // The company sees its own allocation, no sector totals.
    let mine = w.app.as_(&w.co_staff).get(&path).await.json();
    assert_eq!(mine["sectors"], json!([]));
    assert_eq!(mine["allocations"].as_array().unwrap().len(), 1);
    assert_eq!(mine["organizations"][0]["name"], "MediaTek");
    // A professor without an office role, and anonymous callers, do not read it.
    w.app.as_(&w.prof.0).get(&path).await.expect(403);
    w.app.anonymous().get(&path).await.expect(401);
    // CSV: one row per allocation.
    let csv = w.app.as_(&w.desk).get(&format!("{path}&format=csv")).await;
    csv.expect(200);
    insta::assert_snapshot!("compute_report_csv", Scrub::default().csv(&csv.text()));
    let _ = (&w.uni, &w.office);
}

#[actix_web::test]
async fn the_cli_charges_the_same_file_the_same_way() {
    let w = world().await;
    let (academia, _) = active_allocations(&w).await;
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/slurm/taiwania-2027-q1.txt"
    );
    let run = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_liaison"))
            .current_dir(w.app.dir.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("LIAISON_DATABASE_URL", &w.app.db.url)
            .args(["import", "usage", file, "--resource-id", &w.resource])
            .output()
            .unwrap()
    };
    let out = run();
    // Three lines are rejected (an unknown account, a malformed one, a job of another quarter):
    // the others are charged, and the exit status says some were not.
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (report["charged"].as_u64(), report["rejected"].as_u64()),
        (Some(4), Some(3))
    );
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("charged 4, updated 0, unchanged 0, skipped 4, rejected 3")
    );
    let path = format!(
        "/api/v1/compute/allocations/{}",
        academia["id"].as_str().unwrap()
    );
    assert_eq!(w.app.as_(&w.desk).get(&path).await.json()["used"], 52.5);
    let again: Value = serde_json::from_slice(&run().stdout).unwrap();
    assert_eq!(again["unchanged"], 4);
    assert_eq!(w.app.as_(&w.desk).get(&path).await.json()["used"], 52.5);
}

#[actix_web::test]
async fn needs_profiles_and_centres_know_about_compute() {
    let w = world().await;
    let app = &w.app;
    // A need that brings its own GPU-hours, found by direction, by model and by search.
    let body = json!({"company_id": w.co, "title": "Edge LLM distillation",
                      "summary": "Distil 70B models for phones", "status": "open", "visibility": "public",
                      "compute": {"direction": "brings", "amount": 5000, "unit": "gpu_hours", "gpu_model": "H100"}});
    let mut bad = body.clone();
    bad["compute"]["amount"] = json!(0);
    bad["compute"]["unit"] = json!("gpu_days");
    let res = app.as_(&w.co_staff).post("/api/v1/needs", &bad).await;
    // An unknown unit is a type error of the body as a whole.
    res.expect(422);
    bad["compute"]["unit"] = json!("gpu_hours");
    let res = app.as_(&w.co_staff).post("/api/v1/needs", &bad).await;
    assert_fields(&res, 422, &[("compute.amount", "out_of_range")]);
    let res = app
        .as_(&w.co_staff)
        .post("/api/v1/needs?refresh=wait_for", &body)
        .await;
    res.expect(201);
    let need = res.json();
    assert_eq!(need["compute"], body["compute"]);
    let other = app
        .as_(&w.co_staff)
        .post("/api/v1/needs?refresh=wait_for", &json!({"company_id": w.co, "title": "Speech data", "status": "open", "visibility": "public"}))
        .await
        .json();
    assert!(other.get("compute").is_none(), "{other}");
    for q in [
        "compute=brings",
        "gpu_model=h100",
        "compute=brings&gpu_model=H100",
    ] {
        let found = app
            .anonymous()
            .get(&format!("/api/v1/needs?{q}"))
            .await
            .json();
        let ids = common::each(&found, "items", |v| v["id"].as_str().unwrap().to_owned());
        assert_eq!(ids, [need["id"].as_str().unwrap()], "{q}");
    }
    let found = app
        .anonymous()
        .get("/api/v1/needs?compute=needs")
        .await
        .json();
    assert_eq!(found["items"], json!([]));
    let hits = app
        .anonymous()
        .get("/api/v1/search?type=need&q=H100")
        .await
        .json();
    assert_eq!(hits["items"][0]["id"], need["id"], "{hits}");
    // Clearing it.
    let path = format!("/api/v1/needs/{}", need["id"].as_str().unwrap());
    let res = app
        .as_(&w.co_staff)
        .if_match("*")
        .patch(&path, &json!({"compute": null}))
        .await;
    res.expect(200);
    assert!(res.json().get("compute").is_none());

    // A profile shows the compute its professor holds: approved and active allocations only.
    let held = format!("/api/v1/faculty/{}/allocations", w.prof.1);
    assert_eq!(app.anonymous().get(&held).await.json()["items"], json!([]));
    let a = w.request("academia", "2027-Q1", 300).await;
    w.request("academia", "2027-Q2", 100).await;
    w.decide(&a, json!({"to": "approved", "approved": 250}))
        .await
        .expect(200);
    let items = app.anonymous().get(&held).await.json()["items"].clone();
    assert_eq!(
        items,
        json!([{"allocation_id": a["id"], "resource_id": w.resource, "resource_name": "Taiwania 2",
                "gpu_model": "V100", "unit": "gpu_hours", "sector": "academia", "period": "2027-Q1",
                "period_start": "2027-01-01", "period_end": "2027-03-31", "approved": 250,
                "state": "approved"}])
    );
    app.anonymous()
        .get(&format!("/api/v1/faculty/{}/allocations", w.co))
        .await
        .expect(404);

    // Centres by GPU model: in their shared resources, or a compute resource of the centre.
    let center = |name: &str, resources: Value| {
        let app = &w.app;
        let body = json!({"host_university_id": w.uni, "name": name, "visibility": "public",
                          "partners": [{"company_id": w.co, "role": "member"}],
                          "shared_resources": resources});
        async move {
            let res = app.operator().post("/api/v1/centers", &body).await;
            res.expect(201);
            res.id()
        }
    };
    let with_h100 = center(
        "AI centre",
        json!([{"kind": "gpu", "model": "H100", "count": 64}]),
    )
    .await;
    let with_cluster = center(
        "Edge centre",
        json!([{"kind": "lab_space", "square_meters": 100}]),
    )
    .await;
    let _plain = center("Packaging centre", json!([])).await;
    app.as_(&w.co_staff)
        .post(
            "/api/v1/compute/resources",
            &json!({"owner_id": w.co, "center_id": with_cluster, "name": "Edge cluster",
                    "kind": "gpu_cluster", "unit": "gpu_hours", "gpu_model": "GB200", "gpu_count": 8,
                    "period": "year", "capacity": 70000, "academia_percent": 50, "industry_percent": 50}),
        )
        .await
        .expect(201);
    let centres = |q: &str| {
        let app = &w.app;
        let q = q.to_owned();
        async move {
            let found = app
                .anonymous()
                .get(&format!("/api/v1/centers?gpu_model={q}"))
                .await;
            found.expect(200);
            common::each(&found.json(), "items", |v| {
                v["id"].as_str().unwrap().to_owned()
            })
        }
    };
    assert_eq!(centres("h100").await, [with_h100]);
    assert_eq!(centres("GB200").await, [with_cluster]);
    assert!(
        centres("H1%25").await.is_empty(),
        "LIKE wildcards are literal"
    );
}

#[actix_web::test]
async fn a_decision_reaches_who_asked_and_the_professor_it_names() {
    let w = world().await;
    let industry = w.request("industry", "2027-Q1", 500).await;
    let academia = w.request("academia", "2027-Q1", 300).await;
    w.decide(&industry, json!({"to": "approved"}))
        .await
        .expect(200);
    w.decide(
        &academia,
        json!({"to": "rejected", "reason": "Outside the facility's mission"}),
    )
    .await
    .expect(200);
    for (token, allocation, state) in [
        (&w.co_staff, &industry, "approved"),
        (&w.prof.0, &academia, "rejected"),
        (&w.office, &academia, "rejected"),
    ] {
        let list =
            common::wait_for_json(&w.app, token, "/api/v1/notifications", |v| {
                v["items"].as_array().unwrap().iter().any(|n| {
                    n["type"] == "allocation.decided" && n["entity_id"] == allocation["id"]
                })
            })
            .await;
        let n = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["type"] == "allocation.decided")
            .unwrap()
            .clone();
        assert_eq!(n["title"], "Taiwania 2");
        assert_eq!(n["data"]["state"], state);
        assert_eq!(
            n["summary"],
            format!("Compute allocation on Taiwania 2 {state}")
        );
    }
    // The company hears nothing of the professor's request.
    let company = w
        .app
        .as_(&w.co_staff)
        .get("/api/v1/notifications")
        .await
        .json();
    assert!(
        company["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["entity_id"] != academia["id"]),
        "{company:#}"
    );
}

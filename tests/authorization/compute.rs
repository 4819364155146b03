//! Shared compute: the resource owner's admins and staff keep the resource and decide; a
//! university's office and its professors apply for academia, a company's admins and staff
//! for industry; allocations are seen only by those they concern; resources by everybody.

use actix_web::http::Method;
use actix_web::test::TestRequest;
use serde_json::{Value, json};

use crate::Persona::{self, *};
use crate::common::TestApp;
use crate::{Cast, Expect, Op, Stage, run_matrix};

const PERSONAS: [Persona; 11] = [
    Anonymous,
    NoOrg,
    UniAdmin,
    UniStaff,
    UniFaculty,
    Owner,
    CoStaff,
    OtherCoStaff,
    OtherUniStaff,
    FacilityStaff,
    Operator,
];

struct World {
    app: TestApp,
    cast: Cast,
    uni: String,
    co: String,
    facility: String,
    resource: String,
    /// The profile of `Owner`, the professor who applies.
    profile: String,
}

impl Stage for World {
    fn app(&self) -> &TestApp {
        &self.app
    }
    fn cast(&self) -> &Cast {
        &self.cast
    }
}

impl World {
    async fn new() -> Self {
        let app = TestApp::spawn().await;
        let uni = app.org_id("university", "NYCU", "TW").await;
        let other_uni = app.org_id("university", "NTU", "TW").await;
        let co = app.org_id("company", "MediaTek", "TW").await;
        let other_co = app.org_id("company", "Quanta", "TW").await;
        let facility = app.org_id("government", "NCHC", "TW").await;
        let cast = Cast::new(
            &app,
            &[
                (UniAdmin, &uni, "admin"),
                (UniStaff, &uni, "staff"),
                (UniFaculty, &uni, "faculty"),
                (Owner, &uni, "faculty"),
                (CoStaff, &co, "staff"),
                (OtherCoStaff, &other_co, "staff"),
                (OtherUniStaff, &other_uni, "staff"),
                (FacilityStaff, &facility, "staff"),
            ],
        )
        .await
        .with_no_org(&app)
        .await;
        let owner = app.user_id(cast.token(Owner).unwrap()).await;
        let profile = app
            .operator()
            .post(
                "/api/v1/faculty",
                &json!({"university_id": uni, "name": "Owner", "owner_user_id": owner,
                        "visibility": "members"}),
            )
            .await
            .id();
        let resource = app
            .operator()
            .post("/api/v1/compute/resources", &Self::resource_body(&facility))
            .await
            .id();
        Self {
            app,
            cast,
            uni,
            co,
            facility,
            resource,
            profile,
        }
    }

    fn resource_body(owner: &str) -> Value {
        json!({"owner_id": owner, "name": "Taiwania 2", "kind": "gpu_cluster",
               "unit": "gpu_hours", "period": "quarter", "capacity": 1000000,
               "academia_percent": 25, "industry_percent": 75})
    }

    fn academia(&self, state: &str) -> Value {
        json!({"resource_id": self.resource, "applicant_id": self.uni,
               "faculty_id": self.profile, "period": "2027-Q1", "requested": 10,
               "justification": "Speech models", "state": state})
    }

    /// A request the professor `Owner` made, in `state` (moved there by the operator).
    async fn fresh(&self, state: &str) -> String {
        let res = self
            .app
            .caller(self.cast.token(Owner))
            .post("/api/v1/compute/allocations", &self.academia("submitted"))
            .await;
        res.expect(201);
        let id = res.id();
        let path = format!("/api/v1/compute/allocations/{id}/transitions");
        let moves: &[&str] = match state {
            "submitted" => &[],
            "approved" => &["approved"],
            _ => panic!("{state}"),
        };
        for to in moves {
            self.app
                .operator()
                .if_match("*")
                .post(&path, &json!({"to": to}))
                .await
                .expect(200);
        }
        id
    }

    async fn draft(&self) -> String {
        let res = self
            .app
            .caller(self.cast.token(Owner))
            .post("/api/v1/compute/allocations", &self.academia("draft"))
            .await;
        res.expect(201);
        res.id()
    }
}

async fn operation(w: &World, row: &str, who: Persona) -> Op {
    let (method, path, body) = match row {
        "create resource" => (
            Method::POST,
            "/api/v1/compute/resources".into(),
            Some(World::resource_body(&w.facility)),
        ),
        "update resource" => (
            Method::PATCH,
            format!("/api/v1/compute/resources/{}", w.resource),
            Some(json!({"description": format!("{who:?}")})),
        ),
        "read resource" => (
            Method::GET,
            format!("/api/v1/compute/resources/{}", w.resource),
            None,
        ),
        "apply for academia" => (
            Method::POST,
            "/api/v1/compute/allocations".into(),
            Some(w.academia("draft")),
        ),
        "apply for industry" => (
            Method::POST,
            "/api/v1/compute/allocations".into(),
            Some(
                json!({"resource_id": w.resource, "applicant_id": w.co, "period": "2027-Q1",
                        "requested": 10, "justification": "LLM"}),
            ),
        ),
        "edit draft" => (
            Method::PATCH,
            format!("/api/v1/compute/allocations/{}", w.draft().await),
            Some(json!({"requested": 20})),
        ),
        "submit draft" => (
            Method::POST,
            format!(
                "/api/v1/compute/allocations/{}/transitions",
                w.draft().await
            ),
            Some(json!({"to": "submitted"})),
        ),
        "approve request" => (
            Method::POST,
            format!(
                "/api/v1/compute/allocations/{}/transitions",
                w.fresh("submitted").await
            ),
            Some(json!({"to": "approved"})),
        ),
        "read allocation" => (
            Method::GET,
            format!("/api/v1/compute/allocations/{}", w.fresh("submitted").await),
            None,
        ),
        "renew allocation" => (
            Method::POST,
            format!(
                "/api/v1/compute/allocations/{}/renewals",
                w.fresh("approved").await
            ),
            Some(json!({})),
        ),
        "import usage" => {
            let req = TestRequest::post()
                .uri(&format!(
                    "/api/v1/compute/usage/import?resource_id={}",
                    w.resource
                ))
                .insert_header(("content-type", "text/plain"))
                .set_payload("1|acct|u|p|gres/gpu=1,node=1|60|2027-01-01T00:00:00|2027-01-01T00:01:00|RUNNING\n");
            return Op::Raw(Box::new(req));
        }
        "held allocations" => (
            Method::GET,
            format!("/api/v1/faculty/{}/allocations", w.profile),
            None,
        ),
        "compute report" => (
            Method::GET,
            format!(
                "/api/v1/reports/compute?resource_id={}&period=2027-Q1",
                w.resource
            ),
            None,
        ),
        other => panic!("unknown row {other}"),
    };
    Op::Request(method, path, body)
}

fn signed_in(who: Persona, allowed: &[Persona], ok: u16, otherwise: u16) -> u16 {
    match who {
        Anonymous => 401,
        Operator => ok,
        w if allowed.contains(&w) => ok,
        _ => otherwise,
    }
}

#[actix_web::test]
async fn compute_matrix() {
    let w = World::new().await;
    // The applicant's side of the professor's request: the professor and the university's
    // office. The facility sees it (its resource) but only decides.
    const APPLICANT: [Persona; 3] = [Owner, UniAdmin, UniStaff];
    let rows: [(&str, Expect); 13] = [
        ("create resource", |p| {
            signed_in(p, &[FacilityStaff], 201, 403)
        }),
        ("update resource", |p| {
            signed_in(p, &[FacilityStaff], 200, 403)
        }),
        ("read resource", |_| 200),
        ("apply for academia", |p| {
            signed_in(p, &[UniAdmin, UniStaff, UniFaculty, Owner], 201, 403)
        }),
        ("apply for industry", |p| signed_in(p, &[CoStaff], 201, 403)),
        ("edit draft", |p| match p {
            FacilityStaff => 403,
            p => signed_in(p, &APPLICANT, 200, 404),
        }),
        ("submit draft", |p| match p {
            FacilityStaff => 403,
            p => signed_in(p, &APPLICANT, 200, 404),
        }),
        ("approve request", |p| match p {
            Owner | UniAdmin | UniStaff => 403,
            p => signed_in(p, &[FacilityStaff], 200, 404),
        }),
        ("read allocation", |p| {
            signed_in(p, &[Owner, UniAdmin, UniStaff, FacilityStaff], 200, 404)
        }),
        ("renew allocation", |p| match p {
            FacilityStaff => 403,
            p => signed_in(p, &APPLICANT, 201, 404),
        }),
        ("import usage", |p| signed_in(p, &[FacilityStaff], 200, 403)),
        // What a professor holds shows with their profile: to whoever may see the profile
        // (here a members-only one).
        (
            "held allocations",
            |p| if p == Anonymous { 404 } else { 200 },
        ),
        // Any organization's admins and staff read their own part (the owner all of it).
        ("compute report", |p| {
            signed_in(
                p,
                &[
                    UniAdmin,
                    UniStaff,
                    CoStaff,
                    OtherCoStaff,
                    OtherUniStaff,
                    FacilityStaff,
                ],
                200,
                403,
            )
        }),
    ];
    run_matrix(&w, &rows, &PERSONAS, operation).await;
}

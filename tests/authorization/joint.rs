//! The world of the centres and funded-projects matrices: the host (and performing)
//! university's office and a professor of it outside the records, a professor elsewhere who
//! is a centre member and a co-investigator, the partner (and sponsor) company, and outsiders.

use serde_json::{Value, json};

use crate::Persona::{self, *};
use crate::common::TestApp;
use crate::{Cast, Stage};

pub const JOINT: [Persona; 10] = [
    Anonymous,
    NoOrg,
    UniAdmin,
    UniStaff,
    UniFaculty,
    MemberFaculty,
    CoStaff,
    OtherCoStaff,
    OtherUniStaff,
    Operator,
];

pub struct Joint {
    pub app: TestApp,
    pub cast: Cast,
    /// The host university.
    pub uni: String,
    /// The partner and sponsor company.
    pub co: String,
    /// The `MemberFaculty`'s profile.
    pub member: String,
    /// A participants-only centre and a project.
    pub center: String,
    pub project: String,
}

impl Stage for Joint {
    fn app(&self) -> &TestApp {
        &self.app
    }
    fn cast(&self) -> &Cast {
        &self.cast
    }
}

impl Joint {
    pub async fn new() -> Self {
        let app = TestApp::spawn().await;
        let uni = app.org_id("university", "KAIST", "KR").await;
        let other_uni = app.org_id("university", "NTU", "TW").await;
        let co = app.org_id("company", "SK hynix", "KR").await;
        let other_co = app.org_id("company", "TSMC", "TW").await;
        let cast = Cast::new(
            &app,
            &[
                (UniAdmin, &uni, "admin"),
                (UniStaff, &uni, "staff"),
                (UniFaculty, &uni, "faculty"),
                (MemberFaculty, &other_uni, "faculty"),
                (CoStaff, &co, "staff"),
                (OtherCoStaff, &other_co, "staff"),
                (OtherUniStaff, &other_uni, "staff"),
            ],
        )
        .await
        .with_no_org(&app)
        .await;
        let me = app
            .caller(cast.token(MemberFaculty))
            .get("/api/v1/me")
            .await
            .json();
        let member = app
            .operator()
            .post(
                "/api/v1/faculty",
                &json!({"university_id": other_uni, "name": "Member", "owner_user_id": me["user"]["id"]}),
            )
            .await
            .id();
        let mut world = Self {
            app,
            cast,
            uni,
            co,
            member,
            center: String::new(),
            project: String::new(),
        };
        world.center = world.fresh_center("participants").await;
        world.project = world.fresh_project().await;
        world
    }

    pub fn center_body(&self, visibility: &str) -> Value {
        json!({"host_university_id": self.uni, "name": "Memory Center",
               "partners": [{"company_id": self.co, "role": "founding_sponsor"}],
               "member_ids": [self.member], "visibility": visibility})
    }

    pub fn project_body(&self) -> Value {
        json!({"title": "HBM", "type": "sponsored_research", "sponsor_id": self.co,
               "university_id": self.uni, "co_investigator_ids": [self.member],
               "amount_minor": 1000, "currency": "KRW"})
    }

    pub async fn fresh_center(&self, visibility: &str) -> String {
        let res = self
            .app
            .operator()
            .post("/api/v1/centers", &self.center_body(visibility))
            .await;
        res.expect(201);
        res.id()
    }

    pub async fn fresh_project(&self) -> String {
        let res = self
            .app
            .operator()
            .post("/api/v1/funded-projects", &self.project_body())
            .await;
        res.expect(201);
        res.id()
    }

    pub async fn fresh_payment(&self) -> String {
        let res = self
            .app
            .operator()
            .post(
                &format!("/api/v1/funded-projects/{}/payments", self.project),
                &json!({"due_date": "2027-01-31", "amount_minor": 10, "currency": "KRW"}),
            )
            .await;
        res.expect(201);
        format!(
            "/api/v1/funded-projects/{}/payments/{}",
            self.project,
            res.json()["id"].as_str().unwrap()
        )
    }
}

/// The host office manages; participants (partner company, member professor) read only;
/// everyone else does not even see a participants-only record (404).
pub fn office_manages(ok: u16, who: Persona) -> u16 {
    match who {
        Anonymous => 401,
        Operator | UniAdmin | UniStaff => ok,
        CoStaff | MemberFaculty => 403,
        _ => 404,
    }
}

pub fn participants_read(who: Persona) -> u16 {
    match who {
        Operator | UniAdmin | UniStaff | CoStaff | MemberFaculty => 200,
        _ => 404,
    }
}

/// The host office creates; nobody else but the operator.
pub fn office_creates(who: Persona) -> u16 {
    match who {
        Anonymous => 401,
        Operator | UniAdmin | UniStaff => 201,
        _ => 403,
    }
}

/// Only the operator restores what was deleted.
pub fn operator_restores(who: Persona) -> u16 {
    match who {
        Anonymous => 401,
        Operator => 200,
        _ => 403,
    }
}

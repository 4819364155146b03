//! The world of the profiles, needs and engagements matrices: a university with a professor
//! who owns a profile (`Owner`), a company with needs of every visibility and status, a
//! professor elsewhere invited to the confidential need, and outsiders of each kind.

use serde_json::{Value, json};

use crate::Persona::{self, *};
use crate::common::TestApp;
use crate::{Cast, Stage};

pub const CALLERS: [Persona; 12] = [
    Anonymous,
    NoOrg,
    UniAdmin,
    UniStaff,
    Owner,
    UniFaculty,
    OtherUniStaff,
    CoAdmin,
    CoStaff,
    OtherCoStaff,
    InvitedFaculty,
    Operator,
];

pub struct Records {
    pub app: TestApp,
    pub cast: Cast,
    pub uni: String,
    pub co: String,
    /// The `Owner`'s profile.
    pub owned: String,
    /// A members-only profile of the university.
    pub hidden: String,
    pub public_need: String,
    pub confidential_need: String,
    pub members_need: String,
    pub draft_need: String,
    /// Engagements of the `Owner`'s profile: one invited, one only shortlisted.
    pub invited_engagement: String,
    pub shortlisted_engagement: String,
}

impl Stage for Records {
    fn app(&self) -> &TestApp {
        &self.app
    }
    fn cast(&self) -> &Cast {
        &self.cast
    }
}

impl Records {
    pub async fn new() -> Self {
        let app = TestApp::spawn().await;
        let uni = app.org_id("university", "NYCU", "TW").await;
        let other_uni = app.org_id("university", "SNU", "KR").await;
        let co = app.org_id("company", "MediaTek", "TW").await;
        let other_co = app.org_id("company", "Samsung", "KR").await;
        let cast = Cast::new(
            &app,
            &[
                (UniAdmin, &uni, "admin"),
                (UniStaff, &uni, "staff"),
                (Owner, &uni, "faculty"),
                (UniFaculty, &uni, "faculty"),
                (OtherUniStaff, &other_uni, "staff"),
                (CoAdmin, &co, "admin"),
                (CoStaff, &co, "staff"),
                (OtherCoStaff, &other_co, "staff"),
                (InvitedFaculty, &other_uni, "faculty"),
            ],
        )
        .await
        .with_no_org(&app)
        .await;
        let id = |v: Value| v["id"].as_str().unwrap().to_owned();
        let user_of = async |who: Persona| {
            let me = app.caller(cast.token(who)).get("/api/v1/me").await.json();
            me["user"]["id"].clone()
        };
        let owned = id(app
            .operator()
            .post(
                "/api/v1/faculty",
                &json!({"university_id": uni, "name": "Owned", "owner_user_id": user_of(Owner).await}),
            )
            .await
            .json());
        let hidden = id(app
            .operator()
            .post(
                "/api/v1/faculty",
                &json!({"university_id": uni, "name": "Hidden", "visibility": "members"}),
            )
            .await
            .json());
        let invited = id(app
            .operator()
            .post(
                "/api/v1/faculty",
                &json!({"university_id": other_uni, "name": "Invited", "owner_user_id": user_of(InvitedFaculty).await}),
            )
            .await
            .json());
        let need = async |title: &str, status: &str, visibility: &str| {
            let body = json!({"company_id": co, "title": title, "status": status, "visibility": visibility});
            id(app.operator().post("/api/v1/needs", &body).await.json())
        };
        let public_need = need("Public need", "open", "public").await;
        let confidential_need = need("Confidential need", "open", "confidential").await;
        let members_need = need("Members need", "open", "members").await;
        let draft_need = need("Draft need", "draft", "public").await;
        app.operator()
            .post(
                &format!("/api/v1/needs/{confidential_need}/invitations"),
                &json!({"faculty_id": invited}),
            )
            .await
            .expect(201);
        let mut this = Self {
            app,
            cast,
            uni,
            co,
            owned,
            hidden,
            public_need,
            confidential_need,
            members_need,
            draft_need,
            invited_engagement: String::new(),
            shortlisted_engagement: String::new(),
        };
        this.invited_engagement = this.fresh_engagement("invited", &[]).await;
        this.shortlisted_engagement = this.fresh_engagement("shortlisted", &[]).await;
        this
    }

    pub async fn fresh_profile(&self) -> String {
        let res = self
            .app
            .operator()
            .post(
                "/api/v1/faculty",
                &json!({"university_id": self.uni, "name": "Fresh"}),
            )
            .await;
        res.id()
    }

    /// An engagement of the `Owner`'s profile with a fresh open need, moved as the operator
    /// through `moves` after it was created in `start`.
    pub async fn fresh_engagement(&self, start: &str, moves: &[&str]) -> String {
        let need = self.fresh_need().await;
        let res = self
            .app
            .operator()
            .post(
                "/api/v1/engagements",
                &json!({"need_id": need, "faculty_id": self.owned, "state": start}),
            )
            .await;
        res.expect(201);
        let id = res.id();
        for to in moves {
            self.app
                .operator()
                .if_match("*")
                .post(
                    &format!("/api/v1/engagements/{id}/transitions"),
                    &json!({"to": to}),
                )
                .await
                .expect(200);
        }
        id
    }

    pub async fn fresh_need(&self) -> String {
        let body = json!({"company_id": self.co, "title": "Fresh need", "status": "open", "visibility": "public"});
        self.app.operator().post("/api/v1/needs", &body).await.id()
    }
}

/// The university's office may (`ok`); everyone else logged in may not.
pub fn office(ok: u16, who: Persona) -> u16 {
    match who {
        Anonymous => 401,
        Operator | UniAdmin | UniStaff => ok,
        _ => 403,
    }
}

/// The company's admins and staff may (`ok`); everyone else logged in may not.
pub fn company(ok: u16, who: Persona) -> u16 {
    match who {
        Anonymous => 401,
        Operator | CoAdmin | CoStaff => ok,
        _ => 403,
    }
}

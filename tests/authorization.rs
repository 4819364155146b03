//! The authorization matrix: every write endpoint (and the members list) × every role ×
//! the caller's own organization vs another one, with the expected status for each cell.
//! A new endpoint must add its rows here.

mod common;

use actix_web::http::Method;
use common::TestApp;
use serde_json::{Value, json};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Who {
    Anonymous,
    Operator,
    OwnAdmin,
    OwnStaff,
    OwnFaculty,
    OtherAdmin,
    OtherStaff,
    OtherFaculty,
}

const EVERYONE: [Who; 8] = [
    Who::Anonymous,
    Who::OwnAdmin,
    Who::OwnStaff,
    Who::OwnFaculty,
    Who::OtherAdmin,
    Who::OtherStaff,
    Who::OtherFaculty,
    // Last, since some of its calls succeed and change the target.
    Who::Operator,
];

struct World {
    app: TestApp,
    own: String,
    tokens: Vec<(Who, Option<String>)>,
}

impl World {
    async fn new() -> Self {
        let app = TestApp::spawn().await;
        let own = app.org_id("university", "Own University", "TW").await;
        let other = app.org_id("university", "Other University", "KR").await;
        let mut tokens = vec![
            (Who::Anonymous, None),
            (Who::Operator, Some(app.operator_token.clone())),
        ];
        for (who, org, role) in [
            (Who::OwnAdmin, &own, "admin"),
            (Who::OwnStaff, &own, "staff"),
            (Who::OwnFaculty, &own, "faculty"),
            (Who::OtherAdmin, &other, "admin"),
            (Who::OtherStaff, &other, "staff"),
            (Who::OtherFaculty, &other, "faculty"),
        ] {
            tokens.push((who, Some(app.member_token(org, role).await)));
        }
        Self { app, own, tokens }
    }

    fn token(&self, who: Who) -> Option<&str> {
        self.tokens
            .iter()
            .find(|(w, _)| *w == who)
            .and_then(|(_, t)| t.as_deref())
    }

    /// A fresh member of the own organization to act on (so each cell starts equal).
    async fn victim(&self) -> String {
        let email = format!("victim-{}@own.edu", uuid::Uuid::new_v4().simple());
        let res = self
            .app
            .operator()
            .post(
                &format!("/api/v1/organizations/{}/members", self.own),
                &json!({"email": email, "role": "staff", "display_name": "V"}),
            )
            .await;
        res.expect(201);
        res.json()["user_id"].as_str().unwrap().to_owned()
    }
}

struct Row {
    name: &'static str,
    method: Method,
    /// Expected status per caller.
    expect: fn(Who) -> u16,
}

fn operator_only(ok: u16) -> fn(Who) -> u16 {
    match ok {
        201 => |w| match w {
            Who::Anonymous => 401,
            Who::Operator => 201,
            _ => 403,
        },
        _ => |w| match w {
            Who::Anonymous => 401,
            Who::Operator => 204,
            _ => 403,
        },
    }
}

fn own_admin(ok: u16) -> fn(Who) -> u16 {
    match ok {
        200 => |w| match w {
            Who::Anonymous => 401,
            Who::Operator | Who::OwnAdmin => 200,
            _ => 403,
        },
        201 => |w| match w {
            Who::Anonymous => 401,
            Who::Operator | Who::OwnAdmin => 201,
            _ => 403,
        },
        _ => |w| match w {
            Who::Anonymous => 401,
            Who::Operator | Who::OwnAdmin => 204,
            _ => 403,
        },
    }
}

fn office_only(w: Who) -> u16 {
    match w {
        Who::Anonymous => 401,
        Who::Operator | Who::OwnAdmin | Who::OwnStaff => 200,
        _ => 403,
    }
}

#[actix_web::test]
async fn authorization_matrix() {
    let world = World::new().await;
    let own = world.own.clone();
    let rows = [
        Row {
            name: "create organization",
            method: Method::POST,
            expect: operator_only(201),
        },
        Row {
            name: "update organization",
            method: Method::PATCH,
            expect: own_admin(200),
        },
        Row {
            name: "delete organization",
            method: Method::DELETE,
            expect: operator_only(204),
        },
        // Adding an account without its consent is the operator's bootstrap path; admins
        // invite, and the account joins by accepting.
        Row {
            name: "add member",
            method: Method::POST,
            expect: operator_only(201),
        },
        Row {
            name: "invite member",
            method: Method::POST,
            expect: own_admin(201),
        },
        Row {
            name: "list invitations",
            method: Method::GET,
            expect: own_admin(200),
        },
        Row {
            name: "change member role",
            method: Method::PATCH,
            expect: own_admin(200),
        },
        Row {
            name: "remove member",
            method: Method::DELETE,
            expect: own_admin(204),
        },
        Row {
            name: "list members",
            method: Method::GET,
            expect: |w| match w {
                Who::Anonymous => 401,
                Who::Operator | Who::OwnAdmin | Who::OwnStaff | Who::OwnFaculty => 200,
                _ => 403,
            },
        },
        // The liaison office's reports and its organization's audit log: its admins and staff.
        Row {
            name: "funnel report",
            method: Method::GET,
            expect: office_only,
        },
        Row {
            name: "funding report",
            method: Method::GET,
            expect: office_only,
        },
        Row {
            name: "centres report",
            method: Method::GET,
            expect: office_only,
        },
        Row {
            name: "faculty funding report",
            method: Method::GET,
            expect: office_only,
        },
        Row {
            name: "audit log of the organization",
            method: Method::GET,
            expect: office_only,
        },
    ];
    let mut failures = Vec::new();
    let mut cells = 0;
    for row in &rows {
        for who in EVERYONE {
            let (path, body): (String, Option<Value>) = match row.name {
                "create organization" => (
                    "/api/v1/organizations".into(),
                    Some(json!({"kind": "company", "name": "New Co", "country": "TW"})),
                ),
                "update organization" => (
                    format!("/api/v1/organizations/{own}"),
                    Some(json!({"website": "https://own.edu.tw"})),
                ),
                // Run separately below, after every other row: it removes the organization.
                "delete organization" => continue,
                "add member" => (
                    format!("/api/v1/organizations/{own}/members"),
                    Some(
                        json!({"email": format!("n-{}@own.edu", uuid::Uuid::new_v4().simple()), "role": "staff", "display_name": "N"}),
                    ),
                ),
                "invite member" => (
                    format!("/api/v1/organizations/{own}/invitations"),
                    Some(
                        json!({"email": format!("n-{}@own.edu", uuid::Uuid::new_v4().simple()), "role": "staff"}),
                    ),
                ),
                "list invitations" => (format!("/api/v1/organizations/{own}/invitations"), None),
                "change member role" => (
                    format!(
                        "/api/v1/organizations/{own}/members/{}",
                        world.victim().await
                    ),
                    Some(json!({"role": "faculty"})),
                ),
                "remove member" => (
                    format!(
                        "/api/v1/organizations/{own}/members/{}",
                        world.victim().await
                    ),
                    None,
                ),
                "list members" => (format!("/api/v1/organizations/{own}/members"), None),
                "funnel report" => (format!("/api/v1/reports/funnel?university_id={own}"), None),
                "funding report" => (format!("/api/v1/reports/funding?university_id={own}"), None),
                "centres report" => (format!("/api/v1/reports/centers?university_id={own}"), None),
                "faculty funding report" => (
                    format!("/api/v1/reports/faculty-funding?university_id={own}"),
                    None,
                ),
                "audit log of the organization" => {
                    (format!("/api/v1/audit?organization_id={own}"), None)
                }
                other => panic!("unknown row {other}"),
            };
            let res = world
                .app
                .caller(world.token(who))
                .if_match("*")
                .request(row.method.clone(), &path, body.as_ref())
                .await;
            cells += 1;
            let want = (row.expect)(who);
            if res.status.as_u16() != want {
                failures.push(format!(
                    "{} as {who:?}: got {}, want {want}: {}",
                    row.name,
                    res.status,
                    res.text()
                ));
            } else if want >= 400 {
                res.assert_problem();
            }
        }
    }
    // Deleting: every refused caller first (the organization must survive them), then the operator.
    let delete = rows
        .iter()
        .find(|r| r.name == "delete organization")
        .unwrap();
    for who in EVERYONE {
        let res = world
            .app
            .caller(world.token(who))
            .delete(&format!("/api/v1/organizations/{own}"))
            .await;
        cells += 1;
        let want = (delete.expect)(who);
        if res.status.as_u16() != want {
            failures.push(format!(
                "delete organization as {who:?}: got {}, want {want}",
                res.status
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {cells} cells wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(cells, rows.len() * EVERYONE.len());
}

#[actix_web::test]
async fn refused_writes_change_nothing() {
    let world = World::new().await;
    let own = world.own.clone();
    let before = world
        .app
        .anonymous()
        .get(&format!("/api/v1/organizations/{own}"))
        .await
        .json();
    for who in [Who::OwnStaff, Who::OwnFaculty, Who::OtherAdmin] {
        world
            .app
            .caller(world.token(who))
            .if_match("*")
            .patch(
                &format!("/api/v1/organizations/{own}"),
                &json!({"name": "Hijacked"}),
            )
            .await
            .expect(403);
        world
            .app
            .caller(world.token(who))
            .post(
                &format!("/api/v1/organizations/{own}/members"),
                &json!({"email": "intruder@evil.org", "role": "admin", "display_name": "I"}),
            )
            .await
            .expect(403);
    }
    let after = world
        .app
        .anonymous()
        .get(&format!("/api/v1/organizations/{own}"))
        .await
        .json();
    assert_eq!(before, after);
    // Its own admin may not enrol an account directly either (it invites).
    world
        .app
        .caller(world.token(Who::OwnAdmin))
        .post(
            &format!("/api/v1/organizations/{own}/members"),
            &json!({"email": "intruder@evil.org", "role": "admin", "display_name": "I"}),
        )
        .await
        .expect(403);
    let members = world
        .app
        .operator()
        .get(&format!("/api/v1/organizations/{own}/members"))
        .await
        .json();
    assert!(!members.to_string().contains("intruder@evil.org"));
    // And nobody can make themselves an operator or join another organization on their own.
    let other_admin_me = world
        .app
        .caller(world.token(Who::OtherAdmin))
        .get("/api/v1/me")
        .await
        .json();
    assert_eq!(other_admin_me["memberships"].as_array().unwrap().len(), 1);
}

/// Callers for the profiles-and-needs matrix: a university (`Uni*`, `Owner` owns a profile
/// there), a company (`Co*`), and outsiders of each kind.
#[derive(Clone, Copy, Debug, PartialEq)]
enum P {
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
}

const CALLERS: [P; 12] = [
    P::Anonymous,
    P::NoOrg,
    P::UniAdmin,
    P::UniStaff,
    P::Owner,
    P::UniFaculty,
    P::OtherUniStaff,
    P::CoAdmin,
    P::CoStaff,
    P::OtherCoStaff,
    P::InvitedFaculty,
    P::Operator,
];

struct Records {
    app: TestApp,
    uni: String,
    co: String,
    tokens: Vec<(P, Option<String>)>,
    owned: String,
    hidden: String,
    public_need: String,
    confidential_need: String,
    members_need: String,
    draft_need: String,
    /// Engagements of the `Owner`'s profile: one invited, one only shortlisted.
    invited_engagement: String,
    shortlisted_engagement: String,
}

impl Records {
    async fn new() -> Self {
        let app = TestApp::spawn().await;
        let id = |v: Value| v["id"].as_str().unwrap().to_owned();
        let uni = id(app.create_org("university", "NYCU", "TW").await);
        let other_uni = id(app.create_org("university", "SNU", "KR").await);
        let co = id(app.create_org("company", "MediaTek", "TW").await);
        let other_co = id(app.create_org("company", "Samsung", "KR").await);
        let mut tokens = vec![
            (P::Anonymous, None),
            (P::Operator, Some(app.operator_token.clone())),
        ];
        for (who, org, role) in [
            (P::UniAdmin, &uni, "admin"),
            (P::UniStaff, &uni, "staff"),
            (P::Owner, &uni, "faculty"),
            (P::UniFaculty, &uni, "faculty"),
            (P::OtherUniStaff, &other_uni, "staff"),
            (P::CoAdmin, &co, "admin"),
            (P::CoStaff, &co, "staff"),
            (P::OtherCoStaff, &other_co, "staff"),
            (P::InvitedFaculty, &other_uni, "faculty"),
        ] {
            tokens.push((who, Some(app.member_token(org, role).await)));
        }
        app.create_user("nobody@example.com", common::PASSWORD, false)
            .await;
        tokens.push((
            P::NoOrg,
            Some(app.login("nobody@example.com", common::PASSWORD).await),
        ));
        let user_of = |who: P| {
            let token = tokens
                .iter()
                .find(|(w, _)| *w == who)
                .unwrap()
                .1
                .clone()
                .unwrap();
            let app = &app;
            async move { app.as_(&token).get("/api/v1/me").await.json()["user"]["id"].clone() }
        };
        let owned = id(app.operator().post("/api/v1/faculty", &json!({"university_id": uni, "name": "Owned", "owner_user_id": user_of(P::Owner).await})).await.json());
        let hidden = id(app
            .operator()
            .post(
                "/api/v1/faculty",
                &json!({"university_id": uni, "name": "Hidden", "visibility": "members"}),
            )
            .await
            .json());
        let invited = id(app
            .operator().post("/api/v1/faculty", &json!({"university_id": other_uni, "name": "Invited", "owner_user_id": user_of(P::InvitedFaculty).await}))
            .await
            .json());
        let need = |title: &str, status: &str, visibility: &str| {
            let body = json!({"company_id": co, "title": title, "status": status, "visibility": visibility});
            let app = &app;
            async move { id(app.operator().post("/api/v1/needs", &body).await.json()) }
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
            uni,
            co,
            tokens,
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

    fn token(&self, who: P) -> Option<&str> {
        self.tokens
            .iter()
            .find(|(w, _)| *w == who)
            .and_then(|(_, t)| t.as_deref())
    }

    async fn fresh_profile(&self) -> String {
        let res = self
            .app
            .operator()
            .post(
                "/api/v1/faculty",
                &json!({"university_id": self.uni, "name": "Fresh"}),
            )
            .await;
        res.json()["id"].as_str().unwrap().to_owned()
    }

    /// An engagement of the `Owner`'s profile with a fresh open need, moved as the operator
    /// through `moves` after it was created in `start`.
    async fn fresh_engagement(&self, start: &str, moves: &[&str]) -> String {
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
        let id = res.json()["id"].as_str().unwrap().to_owned();
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

    async fn fresh_need(&self) -> String {
        let body = json!({"company_id": self.co, "title": "Fresh need", "status": "open", "visibility": "public"});
        self.app
            .operator()
            .post("/api/v1/needs", &body)
            .await
            .json()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

/// The status a caller should get.
type Expect = fn(P) -> u16;

fn office(ok: u16, who: P) -> u16 {
    match who {
        P::Anonymous => 401,
        P::Operator | P::UniAdmin | P::UniStaff => ok,
        _ => 403,
    }
}

fn company(ok: u16, who: P) -> u16 {
    match who {
        P::Anonymous => 401,
        P::Operator | P::CoAdmin | P::CoStaff => ok,
        _ => 403,
    }
}

#[actix_web::test]
async fn profiles_and_needs_matrix() {
    let w = Records::new().await;
    let rows: [(&str, Expect); 32] = [
        ("create profile", |p| office(201, p)),
        ("update profile", |p| {
            if p == P::Owner { 200 } else { office(200, p) }
        }),
        ("update members-only profile", |p| office(200, p)),
        ("delete profile", |p| office(204, p)),
        ("restore profile", |p| match p {
            P::Anonymous => 401,
            P::Operator => 200,
            _ => 403,
        }),
        ("import profiles", |p| office(200, p)),
        ("read members-only profile", |p| {
            if p == P::Anonymous { 404 } else { 200 }
        }),
        ("create need", |p| company(201, p)),
        ("update need", |p| company(200, p)),
        ("update confidential need", |p| match p {
            P::InvitedFaculty => 403,
            P::Anonymous | P::Operator | P::CoAdmin | P::CoStaff => company(200, p),
            _ => 404,
        }),
        ("delete need", |p| company(204, p)),
        ("restore need", |p| match p {
            P::Anonymous => 401,
            P::Operator => 200,
            _ => 403,
        }),
        ("invite faculty", |p| company(201, p)),
        ("list invitations", |p| company(200, p)),
        ("withdraw invitation", |p| company(204, p)),
        ("read confidential need", |p| match p {
            P::Operator | P::CoAdmin | P::CoStaff | P::InvitedFaculty => 200,
            _ => 404,
        }),
        ("read members-only need", |p| {
            if p == P::Anonymous { 404 } else { 200 }
        }),
        ("read draft need", |p| match p {
            P::Operator | P::CoAdmin | P::CoStaff => 200,
            _ => 404,
        }),
        // Engagements: the company shortlists and invites, the profile's owner answers; a
        // caller who may not see the need (or the engagement) gets 404.
        ("shortlist faculty", |p| company(201, p)),
        ("invite faculty by engagement", |p| company(201, p)),
        ("invite faculty to confidential need", |p| match p {
            P::InvitedFaculty => 403,
            P::Anonymous | P::Operator | P::CoAdmin | P::CoStaff => company(201, p),
            _ => 404,
        }),
        ("express interest", |p| match p {
            P::Anonymous => 401,
            P::Operator | P::Owner => 201,
            _ => 403,
        }),
        ("express interest in confidential need", |p| match p {
            P::Anonymous => 401,
            P::Operator => 201,
            // The company sees the need but the profile is not theirs to speak for.
            P::CoAdmin | P::CoStaff | P::InvitedFaculty => 403,
            _ => 404,
        }),
        ("list engagements", |p| {
            if p == P::Anonymous { 401 } else { 200 }
        }),
        // The profile's university office follows its engagements once disclosed to the
        // professor (not the company's shortlist), and may not move them.
        ("read invited engagement", |p| match p {
            P::Anonymous => 401,
            P::Operator | P::CoAdmin | P::CoStaff | P::Owner | P::UniAdmin | P::UniStaff => 200,
            _ => 404,
        }),
        ("read shortlisted engagement", |p| match p {
            P::Anonymous => 401,
            P::Operator | P::CoAdmin | P::CoStaff => 200,
            _ => 404,
        }),
        ("invite shortlisted", |p| match p {
            P::Anonymous => 401,
            P::Operator | P::CoAdmin | P::CoStaff => 200,
            _ => 404,
        }),
        ("accept invitation", |p| match p {
            P::Anonymous => 401,
            P::Operator | P::Owner => 200,
            P::CoAdmin | P::CoStaff | P::UniAdmin | P::UniStaff => 403,
            _ => 404,
        }),
        ("decline invitation", |p| match p {
            P::Anonymous => 401,
            P::Operator | P::Owner => 200,
            P::CoAdmin | P::CoStaff | P::UniAdmin | P::UniStaff => 403,
            _ => 404,
        }),
        ("withdraw engagement invitation", |p| match p {
            P::Anonymous => 401,
            P::Operator | P::CoAdmin | P::CoStaff => 200,
            P::Owner | P::UniAdmin | P::UniStaff => 403,
            _ => 404,
        }),
        ("record agreement", |p| match p {
            P::Anonymous => 401,
            P::Operator | P::CoAdmin | P::CoStaff => 200,
            P::Owner | P::UniAdmin | P::UniStaff => 403,
            _ => 404,
        }),
        ("end interest", |p| match p {
            P::Anonymous => 401,
            P::Operator | P::CoAdmin | P::CoStaff | P::Owner => 200,
            P::UniAdmin | P::UniStaff => 403,
            _ => 404,
        }),
    ];
    let mut failures = Vec::new();
    let mut cells = 0;
    for (name, expect) in &rows {
        for who in CALLERS {
            let (method, path, body): (Method, String, Option<Value>) = match *name {
                "create profile" => (
                    Method::POST,
                    "/api/v1/faculty".into(),
                    Some(json!({"university_id": w.uni, "name": "New"})),
                ),
                "update profile" => (
                    Method::PATCH,
                    format!("/api/v1/faculty/{}", w.owned),
                    Some(json!({"title": format!("{who:?}")})),
                ),
                "update members-only profile" => (
                    Method::PATCH,
                    format!("/api/v1/faculty/{}", w.hidden),
                    Some(json!({"title": format!("{who:?}")})),
                ),
                "delete profile" => (
                    Method::DELETE,
                    format!("/api/v1/faculty/{}", w.fresh_profile().await),
                    None,
                ),
                "restore profile" => {
                    let id = w.fresh_profile().await;
                    w.app
                        .operator()
                        .delete(&format!("/api/v1/faculty/{id}"))
                        .await
                        .expect(204);
                    (Method::POST, format!("/api/v1/faculty/{id}/restore"), None)
                }
                "import profiles" => {
                    let mut req = actix_web::test::TestRequest::post()
                        .uri(&format!("/api/v1/faculty/import?university_id={}", w.uni))
                        .insert_header(("content-type", "text/csv"))
                        .set_payload(format!("external_id,name\n{who:?},Imported\n"));
                    if let Some(t) = w.token(who) {
                        req = req.insert_header(("authorization", format!("Bearer {t}")));
                    }
                    let res = w.app.send(req).await;
                    cells += 1;
                    let want = expect(who);
                    if res.status.as_u16() != want {
                        failures.push(format!(
                            "{name} as {who:?}: got {}, want {want}: {}",
                            res.status,
                            res.text()
                        ));
                    }
                    continue;
                }
                "read members-only profile" => {
                    (Method::GET, format!("/api/v1/faculty/{}", w.hidden), None)
                }
                "create need" => (
                    Method::POST,
                    "/api/v1/needs".into(),
                    Some(json!({"company_id": w.co, "title": "New need"})),
                ),
                "update need" => (
                    Method::PATCH,
                    format!("/api/v1/needs/{}", w.public_need),
                    Some(json!({"summary": format!("{who:?}")})),
                ),
                "update confidential need" => (
                    Method::PATCH,
                    format!("/api/v1/needs/{}", w.confidential_need),
                    Some(json!({"summary": format!("{who:?}")})),
                ),
                "delete need" => (
                    Method::DELETE,
                    format!("/api/v1/needs/{}", w.fresh_need().await),
                    None,
                ),
                "restore need" => {
                    let id = w.fresh_need().await;
                    w.app
                        .operator()
                        .delete(&format!("/api/v1/needs/{id}"))
                        .await
                        .expect(204);
                    (Method::POST, format!("/api/v1/needs/{id}/restore"), None)
                }
                "invite faculty" => (
                    Method::POST,
                    format!("/api/v1/needs/{}/invitations", w.public_need),
                    Some(json!({"faculty_id": w.fresh_profile().await})),
                ),
                "list invitations" => (
                    Method::GET,
                    format!("/api/v1/needs/{}/invitations", w.public_need),
                    None,
                ),
                "withdraw invitation" => {
                    let profile = w.fresh_profile().await;
                    let invitations = format!("/api/v1/needs/{}/invitations", w.public_need);
                    w.app
                        .operator()
                        .post(&invitations, &json!({"faculty_id": profile}))
                        .await
                        .expect(201);
                    (Method::DELETE, format!("{invitations}/{profile}"), None)
                }
                "read confidential need" => (
                    Method::GET,
                    format!("/api/v1/needs/{}", w.confidential_need),
                    None,
                ),
                "read members-only need" => (
                    Method::GET,
                    format!("/api/v1/needs/{}", w.members_need),
                    None,
                ),
                "read draft need" => (Method::GET, format!("/api/v1/needs/{}", w.draft_need), None),
                "shortlist faculty" | "invite faculty by engagement" => (
                    Method::POST,
                    "/api/v1/engagements".into(),
                    Some(
                        json!({"need_id": w.public_need, "faculty_id": w.fresh_profile().await,
                        "state": if *name == "shortlist faculty" { "shortlisted" } else { "invited" }}),
                    ),
                ),
                "invite faculty to confidential need" => (
                    Method::POST,
                    "/api/v1/engagements".into(),
                    Some(
                        json!({"need_id": w.confidential_need, "faculty_id": w.fresh_profile().await,
                        "state": "invited"}),
                    ),
                ),
                "express interest" => (
                    Method::POST,
                    "/api/v1/engagements".into(),
                    Some(
                        json!({"need_id": w.fresh_need().await, "faculty_id": w.owned,
                        "state": "interested"}),
                    ),
                ),
                "express interest in confidential need" => (
                    Method::POST,
                    "/api/v1/engagements".into(),
                    Some(
                        json!({"need_id": w.confidential_need, "faculty_id": w.owned,
                        "state": "interested"}),
                    ),
                ),
                "list engagements" => (Method::GET, "/api/v1/engagements?limit=100".into(), None),
                "read invited engagement" => (
                    Method::GET,
                    format!("/api/v1/engagements/{}", w.invited_engagement),
                    None,
                ),
                "read shortlisted engagement" => (
                    Method::GET,
                    format!("/api/v1/engagements/{}", w.shortlisted_engagement),
                    None,
                ),
                "invite shortlisted"
                | "accept invitation"
                | "decline invitation"
                | "withdraw engagement invitation"
                | "record agreement"
                | "end interest" => {
                    let (start, moves, to): (&str, &[&str], Value) = match *name {
                        "invite shortlisted" => ("shortlisted", &[], json!({"to": "invited"})),
                        "accept invitation" => ("invited", &[], json!({"to": "interested"})),
                        "decline invitation" => (
                            "invited",
                            &[],
                            json!({"to": "declined", "reason_code": "no_capacity"}),
                        ),
                        "withdraw engagement invitation" => {
                            ("invited", &[], json!({"to": "closed"}))
                        }
                        "record agreement" => ("invited", &["interested"], json!({"to": "agreed"})),
                        _ => ("invited", &["interested"], json!({"to": "closed"})),
                    };
                    let id = w.fresh_engagement(start, moves).await;
                    (
                        Method::POST,
                        format!("/api/v1/engagements/{id}/transitions"),
                        Some(to),
                    )
                }
                other => panic!("unknown row {other}"),
            };
            let res = w
                .app
                .caller(w.token(who))
                .if_match("*")
                .request(method.clone(), &path, body.as_ref())
                .await;
            cells += 1;
            let want = expect(who);
            if res.status.as_u16() != want {
                failures.push(format!(
                    "{name} as {who:?}: got {}, want {want}: {}",
                    res.status,
                    res.text()
                ));
                continue;
            }
            if want >= 400 {
                res.assert_problem();
            }
            // What a caller may not read, a list does not show either; what it may, it does.
            if method == Method::GET && name.starts_with("read") {
                let list = if path.starts_with("/api/v1/needs") {
                    "/api/v1/needs?limit=100"
                } else if path.starts_with("/api/v1/engagements") {
                    "/api/v1/engagements?limit=100"
                } else {
                    "/api/v1/faculty?limit=100"
                };
                let id = path.rsplit('/').next().unwrap();
                let listed = w
                    .app
                    .caller(w.token(who))
                    .get(list)
                    .await
                    .text()
                    .contains(id);
                if listed != (want == 200) {
                    failures.push(format!(
                        "{name} as {who:?}: listed = {listed}, but GET gave {want}"
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {cells} cells wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(cells, rows.len() * CALLERS.len());
}

/// Callers for the centres-and-projects matrix: the host (and performing) university's
/// office and a professor of it outside the records, a professor elsewhere who is a centre
/// member and a co-investigator, the partner (and sponsor) company, and outsiders.
#[derive(Clone, Copy, Debug, PartialEq)]
enum J {
    Anonymous,
    NoOrg,
    HostAdmin,
    HostStaff,
    HostFaculty,
    MemberFaculty,
    PartnerStaff,
    OtherCoStaff,
    OtherUniStaff,
    Operator,
}

const JOINT: [J; 10] = [
    J::Anonymous,
    J::NoOrg,
    J::HostAdmin,
    J::HostStaff,
    J::HostFaculty,
    J::MemberFaculty,
    J::PartnerStaff,
    J::OtherCoStaff,
    J::OtherUniStaff,
    J::Operator,
];

struct Joint {
    app: TestApp,
    uni: String,
    co: String,
    member: String,
    tokens: Vec<(J, Option<String>)>,
    center: String,
    project: String,
}

impl Joint {
    async fn new() -> Self {
        let app = TestApp::spawn().await;
        let id = |v: Value| v["id"].as_str().unwrap().to_owned();
        let uni = id(app.create_org("university", "KAIST", "KR").await);
        let other_uni = id(app.create_org("university", "NTU", "TW").await);
        let co = id(app.create_org("company", "SK hynix", "KR").await);
        let other_co = id(app.create_org("company", "TSMC", "TW").await);
        let mut tokens = vec![
            (J::Anonymous, None),
            (J::Operator, Some(app.operator_token.clone())),
        ];
        for (who, org, role) in [
            (J::HostAdmin, &uni, "admin"),
            (J::HostStaff, &uni, "staff"),
            (J::HostFaculty, &uni, "faculty"),
            (J::MemberFaculty, &other_uni, "faculty"),
            (J::PartnerStaff, &co, "staff"),
            (J::OtherCoStaff, &other_co, "staff"),
            (J::OtherUniStaff, &other_uni, "staff"),
        ] {
            tokens.push((who, Some(app.member_token(org, role).await)));
        }
        app.create_user("nobody@example.com", common::PASSWORD, false)
            .await;
        tokens.push((
            J::NoOrg,
            Some(app.login("nobody@example.com", common::PASSWORD).await),
        ));
        let member_token = tokens
            .iter()
            .find(|(w, _)| *w == J::MemberFaculty)
            .and_then(|(_, t)| t.clone())
            .unwrap();
        let me = app.as_(&member_token).get("/api/v1/me").await.json();
        let member = id(app
            .operator().post("/api/v1/faculty", &json!({"university_id": other_uni, "name": "Member", "owner_user_id": me["user"]["id"]}))
            .await
            .json());
        let mut world = Self {
            app,
            uni,
            co,
            member,
            tokens,
            center: String::new(),
            project: String::new(),
        };
        world.center = world.fresh_center("participants").await;
        world.project = world.fresh_project().await;
        world
    }

    fn token(&self, who: J) -> Option<&str> {
        self.tokens
            .iter()
            .find(|(w, _)| *w == who)
            .and_then(|(_, t)| t.as_deref())
    }

    fn center_body(&self, visibility: &str) -> Value {
        json!({"host_university_id": self.uni, "name": "Memory Center",
               "partners": [{"company_id": self.co, "role": "founding_sponsor"}],
               "member_ids": [self.member], "visibility": visibility})
    }

    fn project_body(&self) -> Value {
        json!({"title": "HBM", "type": "sponsored_research", "sponsor_id": self.co,
               "university_id": self.uni, "co_investigator_ids": [self.member],
               "amount_minor": 1000, "currency": "KRW"})
    }

    async fn fresh_center(&self, visibility: &str) -> String {
        let res = self
            .app
            .operator()
            .post("/api/v1/centers", &self.center_body(visibility))
            .await;
        res.expect(201);
        res.json()["id"].as_str().unwrap().to_owned()
    }

    async fn fresh_project(&self) -> String {
        let res = self
            .app
            .operator()
            .post("/api/v1/funded-projects", &self.project_body())
            .await;
        res.expect(201);
        res.json()["id"].as_str().unwrap().to_owned()
    }

    async fn fresh_payment(&self) -> String {
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

/// The status a caller should get (centres and projects).
type JointExpect = fn(J) -> u16;

/// The host office manages; participants (partner company, member professor) read only;
/// everyone else does not even see a participants-only record (404).
fn office_manages(ok: u16, who: J) -> u16 {
    match who {
        J::Anonymous => 401,
        J::Operator | J::HostAdmin | J::HostStaff => ok,
        J::PartnerStaff | J::MemberFaculty => 403,
        _ => 404,
    }
}

fn participants_read(who: J) -> u16 {
    match who {
        J::Operator | J::HostAdmin | J::HostStaff | J::PartnerStaff | J::MemberFaculty => 200,
        _ => 404,
    }
}

#[actix_web::test]
async fn centres_and_projects_matrix() {
    let w = Joint::new().await;
    let rows: [(&str, JointExpect); 16] = [
        ("create centre", |j| match j {
            J::Anonymous => 401,
            J::Operator | J::HostAdmin | J::HostStaff => 201,
            _ => 403,
        }),
        ("update centre", |j| office_manages(200, j)),
        ("delete centre", |j| office_manages(204, j)),
        ("restore centre", |j| match j {
            J::Anonymous => 401,
            J::Operator => 200,
            _ => 403,
        }),
        ("read participants-only centre", participants_read),
        ("read public centre", |_| 200),
        ("create project", |j| match j {
            J::Anonymous => 401,
            J::Operator | J::HostAdmin | J::HostStaff => 201,
            _ => 403,
        }),
        ("update project", |j| office_manages(200, j)),
        ("delete project", |j| office_manages(204, j)),
        ("restore project", |j| match j {
            J::Anonymous => 401,
            J::Operator => 200,
            _ => 403,
        }),
        ("read participants-only project", participants_read),
        ("add payment", |j| office_manages(201, j)),
        ("list payments", participants_read),
        ("update payment", |j| office_manages(200, j)),
        ("delete payment", |j| office_manages(204, j)),
        ("search participants-only centre", participants_read),
    ];
    let mut failures = Vec::new();
    let mut cells = 0;
    for (name, expect) in &rows {
        for who in JOINT {
            let (method, path, body): (Method, String, Option<Value>) = match *name {
                "create centre" => (
                    Method::POST,
                    "/api/v1/centers".into(),
                    Some(w.center_body("participants")),
                ),
                "update centre" => (
                    Method::PATCH,
                    format!("/api/v1/centers/{}", w.center),
                    Some(json!({"description": format!("{who:?}")})),
                ),
                "delete centre" => (
                    Method::DELETE,
                    format!("/api/v1/centers/{}", w.fresh_center("participants").await),
                    None,
                ),
                "restore centre" => {
                    let id = w.fresh_center("participants").await;
                    w.app
                        .operator()
                        .delete(&format!("/api/v1/centers/{id}"))
                        .await
                        .expect(204);
                    (Method::POST, format!("/api/v1/centers/{id}/restore"), None)
                }
                "read participants-only centre" => {
                    (Method::GET, format!("/api/v1/centers/{}", w.center), None)
                }
                "read public centre" => (
                    Method::GET,
                    format!("/api/v1/centers/{}", w.fresh_center("public").await),
                    None,
                ),
                "create project" => (
                    Method::POST,
                    "/api/v1/funded-projects".into(),
                    Some(w.project_body()),
                ),
                "update project" => (
                    Method::PATCH,
                    format!("/api/v1/funded-projects/{}", w.project),
                    Some(json!({"description": format!("{who:?}")})),
                ),
                "delete project" => (
                    Method::DELETE,
                    format!("/api/v1/funded-projects/{}", w.fresh_project().await),
                    None,
                ),
                "restore project" => {
                    let id = w.fresh_project().await;
                    w.app
                        .operator()
                        .delete(&format!("/api/v1/funded-projects/{id}"))
                        .await
                        .expect(204);
                    (
                        Method::POST,
                        format!("/api/v1/funded-projects/{id}/restore"),
                        None,
                    )
                }
                "read participants-only project" => (
                    Method::GET,
                    format!("/api/v1/funded-projects/{}", w.project),
                    None,
                ),
                "add payment" => (
                    Method::POST,
                    format!("/api/v1/funded-projects/{}/payments", w.project),
                    Some(json!({"due_date": "2027-01-31", "amount_minor": 10, "currency": "KRW"})),
                ),
                "list payments" => (
                    Method::GET,
                    format!("/api/v1/funded-projects/{}/payments", w.project),
                    None,
                ),
                "update payment" => (
                    Method::PATCH,
                    w.fresh_payment().await,
                    Some(json!({"note": format!("{who:?}")})),
                ),
                "delete payment" => (Method::DELETE, w.fresh_payment().await, None),
                "search participants-only centre" => {
                    // The centre is found in search exactly when its GET succeeds.
                    w.app
                        .operator()
                        .if_match("*")
                        .patch(
                            &format!("/api/v1/centers/{}?refresh=wait_for", w.center),
                            &json!({"focus_areas": ["matrixprobe"]}),
                        )
                        .await
                        .expect(200);
                    let res = w
                        .app
                        .caller(w.token(who))
                        .get("/api/v1/search?type=center&q=matrixprobe")
                        .await;
                    cells += 1;
                    let found = res.text().contains(&w.center);
                    if found != (expect(who) == 200) {
                        failures.push(format!("{name} as {who:?}: found = {found}"));
                    }
                    continue;
                }
                other => panic!("unknown row {other}"),
            };
            let res = w
                .app
                .caller(w.token(who))
                .if_match("*")
                .request(method.clone(), &path, body.as_ref())
                .await;
            cells += 1;
            let want = expect(who);
            if res.status.as_u16() != want {
                failures.push(format!(
                    "{name} as {who:?}: got {}, want {want}: {}",
                    res.status,
                    res.text()
                ));
                continue;
            }
            if want >= 400 {
                res.assert_problem();
            }
            // What a caller may not read, a list does not show either; what it may, it does.
            if method == Method::GET && name.starts_with("read") {
                let list = if path.starts_with("/api/v1/centers") {
                    "/api/v1/centers?limit=100"
                } else {
                    "/api/v1/funded-projects?limit=100"
                };
                let id = path.rsplit('/').next().unwrap();
                let listed = w
                    .app
                    .caller(w.token(who))
                    .get(list)
                    .await
                    .text()
                    .contains(id);
                if listed != (want == 200) {
                    failures.push(format!(
                        "{name} as {who:?}: listed = {listed}, but GET gave {want}"
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {cells} cells wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(cells, rows.len() * JOINT.len());
}

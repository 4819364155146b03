//! Organizations, their members and invitations, and what their office reads (reports, the
//! audit log): the university's own roles against another university's.

use actix_web::http::Method;
use serde_json::{Value, json};

use crate::Persona::{self, *};
use crate::common::TestApp;
use crate::{Cast, Expect, Op, Stage, Tally, run_matrix};

const EVERYONE: [Persona; 8] = [
    Anonymous,
    UniAdmin,
    UniStaff,
    UniFaculty,
    OtherUniAdmin,
    OtherUniStaff,
    OtherUniFaculty,
    // Last, since some of its calls succeed and change the target.
    Operator,
];

struct World {
    app: TestApp,
    /// The university.
    own: String,
    cast: Cast,
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
        let own = app.org_id("university", "Own University", "TW").await;
        let other = app.org_id("university", "Other University", "KR").await;
        let cast = Cast::new(
            &app,
            &[
                (UniAdmin, &own, "admin"),
                (UniStaff, &own, "staff"),
                (UniFaculty, &own, "faculty"),
                (OtherUniAdmin, &other, "admin"),
                (OtherUniStaff, &other, "staff"),
                (OtherUniFaculty, &other, "faculty"),
            ],
        )
        .await;
        Self { app, own, cast }
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

fn operator_only(ok: u16) -> Expect {
    match ok {
        201 => |w| match w {
            Anonymous => 401,
            Operator => 201,
            _ => 403,
        },
        _ => |w| match w {
            Anonymous => 401,
            Operator => 204,
            _ => 403,
        },
    }
}

fn own_admin(ok: u16) -> Expect {
    match ok {
        200 => |w| match w {
            Anonymous => 401,
            Operator | UniAdmin => 200,
            _ => 403,
        },
        201 => |w| match w {
            Anonymous => 401,
            Operator | UniAdmin => 201,
            _ => 403,
        },
        _ => |w| match w {
            Anonymous => 401,
            Operator | UniAdmin => 204,
            _ => 403,
        },
    }
}

fn office_only(w: Persona) -> u16 {
    match w {
        Anonymous => 401,
        Operator | UniAdmin | UniStaff => 200,
        _ => 403,
    }
}

async fn operation(world: &World, row: &str, _who: Persona) -> Op {
    let own = &world.own;
    let (method, path, body): (Method, String, Option<Value>) = match row {
        "create organization" => (
            Method::POST,
            "/api/v1/organizations".into(),
            Some(json!({"kind": "company", "name": "New Co", "country": "TW"})),
        ),
        "update organization" => (
            Method::PATCH,
            format!("/api/v1/organizations/{own}"),
            Some(json!({"website": "https://own.edu.tw"})),
        ),
        "add member" => (
            Method::POST,
            format!("/api/v1/organizations/{own}/members"),
            Some(
                json!({"email": format!("n-{}@own.edu", uuid::Uuid::new_v4().simple()), "role": "staff", "display_name": "N"}),
            ),
        ),
        "invite member" => (
            Method::POST,
            format!("/api/v1/organizations/{own}/invitations"),
            Some(
                json!({"email": format!("n-{}@own.edu", uuid::Uuid::new_v4().simple()), "role": "staff"}),
            ),
        ),
        "list invitations" => (
            Method::GET,
            format!("/api/v1/organizations/{own}/invitations"),
            None,
        ),
        "change member role" => (
            Method::PATCH,
            format!(
                "/api/v1/organizations/{own}/members/{}",
                world.victim().await
            ),
            Some(json!({"role": "faculty"})),
        ),
        "remove member" => (
            Method::DELETE,
            format!(
                "/api/v1/organizations/{own}/members/{}",
                world.victim().await
            ),
            None,
        ),
        "list members" => (
            Method::GET,
            format!("/api/v1/organizations/{own}/members"),
            None,
        ),
        "funnel report" => (
            Method::GET,
            format!("/api/v1/reports/funnel?university_id={own}"),
            None,
        ),
        "funding report" => (
            Method::GET,
            format!("/api/v1/reports/funding?university_id={own}"),
            None,
        ),
        "centres report" => (
            Method::GET,
            format!("/api/v1/reports/centers?university_id={own}"),
            None,
        ),
        "faculty funding report" => (
            Method::GET,
            format!("/api/v1/reports/faculty-funding?university_id={own}"),
            None,
        ),
        "register webhook" => (
            Method::POST,
            format!("/api/v1/organizations/{own}/webhooks"),
            Some(
                json!({"url": "https://hooks.own.edu.tw/liaison", "event_types": ["funded_project.created"]}),
            ),
        ),
        "list webhooks" => (
            Method::GET,
            format!("/api/v1/organizations/{own}/webhooks"),
            None,
        ),
        "audit log of the organization" => (
            Method::GET,
            format!("/api/v1/audit?organization_id={own}"),
            None,
        ),
        other => panic!("unknown row {other}"),
    };
    Op::Request(method, path, body)
}

#[actix_web::test]
async fn authorization_matrix() {
    let world = World::new().await;
    let rows: [(&str, Expect); 15] = [
        ("create organization", operator_only(201)),
        ("update organization", own_admin(200)),
        // Adding an account without its consent is the operator's bootstrap path; admins
        // invite, and the account joins by accepting.
        ("add member", operator_only(201)),
        ("invite member", own_admin(201)),
        ("list invitations", own_admin(200)),
        ("change member role", own_admin(200)),
        ("remove member", own_admin(204)),
        ("list members", |w| match w {
            Anonymous => 401,
            Operator | UniAdmin | UniStaff | UniFaculty => 200,
            _ => 403,
        }),
        // The liaison office's reports and its organization's audit log: its admins and staff.
        ("funnel report", office_only),
        ("funding report", office_only),
        ("centres report", office_only),
        ("faculty funding report", office_only),
        ("audit log of the organization", office_only),
        // Webhooks carry everything the organization may read: its admins'.
        ("register webhook", own_admin(201)),
        ("list webhooks", own_admin(200)),
    ];
    run_matrix(&world, &rows, &EVERYONE, operation).await;

    // Deleting the organization, after every other row: every refused caller first (the
    // organization must survive them), then the operator. Without If-Match.
    let delete = operator_only(204);
    let mut tally = Tally::default();
    for who in EVERYONE {
        let res = world
            .app
            .caller(world.cast.token(who))
            .delete(&format!("/api/v1/organizations/{}", world.own))
            .await;
        tally.status("delete organization", who, &res, delete(who));
    }
    tally.assert_all_right(EVERYONE.len());
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
    for who in [UniStaff, UniFaculty, OtherUniAdmin] {
        world
            .app
            .caller(world.cast.token(who))
            .if_match("*")
            .patch(
                &format!("/api/v1/organizations/{own}"),
                &json!({"name": "Hijacked"}),
            )
            .await
            .expect(403);
        world
            .app
            .caller(world.cast.token(who))
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
        .caller(world.cast.token(UniAdmin))
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
        .caller(world.cast.token(OtherUniAdmin))
        .get("/api/v1/me")
        .await
        .json();
    assert_eq!(other_admin_me["memberships"].as_array().unwrap().len(), 1);
}

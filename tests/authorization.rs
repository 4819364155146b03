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
        let own = app.create_org("university", "Own University", "TW").await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let other = app.create_org("university", "Other University", "KR").await["id"]
            .as_str()
            .unwrap()
            .to_owned();
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
        Row {
            name: "add member",
            method: Method::POST,
            expect: own_admin(201),
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
                other => panic!("unknown row {other}"),
            };
            let res = world
                .app
                .call(
                    row.method.clone(),
                    &path,
                    world.token(who),
                    &[("if-match", "*")],
                    body.as_ref(),
                )
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
            .call(
                Method::DELETE,
                &format!("/api/v1/organizations/{own}"),
                world.token(who),
                &[],
                None,
            )
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
        .call(
            Method::GET,
            &format!("/api/v1/organizations/{own}"),
            None,
            &[],
            None,
        )
        .await
        .json();
    for who in [Who::OwnStaff, Who::OwnFaculty, Who::OtherAdmin] {
        world
            .app
            .call(
                Method::PATCH,
                &format!("/api/v1/organizations/{own}"),
                world.token(who),
                &[("if-match", "*")],
                Some(&json!({"name": "Hijacked"})),
            )
            .await
            .expect(403);
        world
            .app
            .call(
                Method::POST,
                &format!("/api/v1/organizations/{own}/members"),
                world.token(who),
                &[],
                Some(&json!({"email": "intruder@evil.org", "role": "admin", "display_name": "I"})),
            )
            .await
            .expect(403);
    }
    let after = world
        .app
        .call(
            Method::GET,
            &format!("/api/v1/organizations/{own}"),
            None,
            &[],
            None,
        )
        .await
        .json();
    assert_eq!(before, after);
    let members = world
        .app
        .call(
            Method::GET,
            &format!("/api/v1/organizations/{own}/members"),
            Some(&world.app.operator_token),
            &[],
            None,
        )
        .await
        .json();
    assert!(!members.to_string().contains("intruder@evil.org"));
    // And nobody can make themselves an operator or join another organization on their own.
    let other_admin_me = world
        .app
        .call(
            Method::GET,
            "/api/v1/me",
            world.token(Who::OtherAdmin),
            &[],
            None,
        )
        .await
        .json();
    assert_eq!(other_admin_me["memberships"].as_array().unwrap().len(), 1);
}

//! Organization members: the operator adds accounts directly, admins invite and accounts join
//! by accepting; list, read, change role, remove, and the rules that keep an organization
//! manageable.

mod common;

use actix_web::http::Method;
use common::{PASSWORD, Response, TestApp};
use serde_json::json;

#[actix_web::test]
async fn admins_manage_their_members_end_to_end() {
    let app = TestApp::spawn().await;
    let org = app
        .create_org("university", "National Taiwan University", "TW")
        .await;
    let org_id = org["id"].as_str().unwrap().to_owned();
    let base = format!("/api/v1/organizations/{org_id}/members");
    let invitations = format!("/api/v1/organizations/{org_id}/invitations");

    // The operator appoints an admin (a new account: a one-time password comes back once).
    let res = app
        .operator()
        .post(
            &base,
            &json!({"email": "ilo-head@ntu.edu.tw", "role": "admin", "display_name": "陳建宏"}),
        )
        .await;
    res.expect(201);
    let admin = res.json();
    let initial = admin["initial_password"].as_str().unwrap();
    assert!(
        res.header("location")
            .unwrap()
            .ends_with(admin["user_id"].as_str().unwrap())
    );
    let admin_token = app.login("ilo-head@ntu.edu.tw", initial).await;
    let as_admin = |method: Method, path: String, body: Option<serde_json::Value>| {
        let app = &app;
        let token = admin_token.clone();
        async move { app.as_(&token).request(method, &path, body.as_ref()).await }
    };

    // The admin cannot enrol accounts directly: it invites an existing account and an
    // address that has none yet.
    as_admin(
        Method::POST,
        base.clone(),
        Some(json!({"email": "prof.lin@ntu.edu.tw", "role": "faculty", "display_name": "x"})),
    )
    .await
    .expect(403);
    app.create_user("prof.lin@ntu.edu.tw", PASSWORD, false)
        .await;
    let res = as_admin(
        Method::POST,
        invitations.clone(),
        Some(json!({"email": "PROF.LIN@ntu.edu.tw", "role": "faculty"})),
    )
    .await;
    res.expect(201);
    assert_eq!(res.json()["status"], "pending");
    assert_eq!(
        res.json()["organization_name"],
        "National Taiwan University"
    );
    as_admin(
        Method::POST,
        invitations.clone(),
        Some(json!({"email": "staff@ntu.edu.tw", "role": "staff"})),
    )
    .await
    .expect(201);

    // The professor sees the invitation and accepts it.
    let prof_token = app.login("prof.lin@ntu.edu.tw", PASSWORD).await;
    let mine = app
        .as_(&prof_token)
        .get("/api/v1/me/invitations")
        .await
        .json();
    assert_eq!(mine["items"].as_array().unwrap().len(), 1, "{mine}");
    let invitation = mine["items"][0]["id"].as_str().unwrap().to_owned();
    let res = app
        .as_(&prof_token)
        .request(
            Method::POST,
            &format!("/api/v1/me/invitations/{invitation}/accept"),
            None,
        )
        .await;
    res.expect(200);
    assert_eq!(res.json()["status"], "accepted");
    let me = app.as_(&prof_token).get("/api/v1/me").await.json();
    assert_eq!(me["memberships"][0]["role"], "faculty");
    let prof_id = me["user"]["id"].as_str().unwrap().to_owned();

    // The address without an account keeps its invitation until the account is created.
    app.create_user("staff@ntu.edu.tw", PASSWORD, false).await;
    let staff_token = app.login("staff@ntu.edu.tw", PASSWORD).await;
    let mine = app
        .as_(&staff_token)
        .get("/api/v1/me/invitations")
        .await
        .json();
    let invitation = mine["items"][0]["id"].as_str().unwrap().to_owned();
    app.as_(&staff_token)
        .request(
            Method::POST,
            &format!("/api/v1/me/invitations/{invitation}/accept"),
            None,
        )
        .await
        .expect(200);

    // Members and pending invitations are refused again; so are bad addresses and roles.
    for (email, role) in [
        ("prof.lin@ntu.edu.tw", "staff"),
        ("staff@ntu.edu.tw", "staff"),
    ] {
        as_admin(
            Method::POST,
            invitations.clone(),
            Some(json!({"email": email, "role": role})),
        )
        .await
        .expect(409);
    }
    as_admin(
        Method::POST,
        invitations.clone(),
        Some(json!({"email": "later@ntu.edu.tw", "role": "staff"})),
    )
    .await
    .expect(201);
    as_admin(
        Method::POST,
        invitations.clone(),
        Some(json!({"email": "later@ntu.edu.tw", "role": "admin"})),
    )
    .await
    .expect(409);
    let res = as_admin(
        Method::POST,
        invitations.clone(),
        Some(json!({"email": "not-an-email", "role": "staff"})),
    )
    .await;
    res.expect(422);
    assert_eq!(res.json()["errors"][0]["code"], "invalid_email");

    // The admin lists invitations, all or by status.
    let all = as_admin(Method::GET, invitations.clone(), None)
        .await
        .json();
    assert_eq!(all["items"].as_array().unwrap().len(), 3);
    let pending = as_admin(Method::GET, format!("{invitations}?status=pending"), None)
        .await
        .json();
    assert_eq!(pending["items"][0]["email"], "later@ntu.edu.tw");
    assert_eq!(pending["items"].as_array().unwrap().len(), 1);

    // List, oldest first, paginated.
    let res = as_admin(Method::GET, format!("{base}?limit=2"), None).await;
    res.expect(200);
    let page = res.json();
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest = as_admin(Method::GET, format!("{base}?limit=2&cursor={cursor}"), None)
        .await
        .json();
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);
    assert!(rest.get("next_cursor").is_none());

    // Change a role: If-Match required and checked, with the ETag a GET gives.
    let member = format!("{base}/{prof_id}");
    let res = as_admin(Method::GET, member.clone(), None).await;
    res.expect(200);
    assert_eq!(res.json()["role"], "faculty");
    let etag = res.header("etag").unwrap();
    assert_eq!(etag, "\"1\"");
    as_admin(
        Method::PATCH,
        member.clone(),
        Some(json!({"role": "staff"})),
    )
    .await
    .expect(428);
    app.as_(&admin_token)
        .if_match("\"7\"")
        .patch(&member, &json!({"role": "staff"}))
        .await
        .expect(412);
    let res = app
        .as_(&admin_token)
        .if_match(etag.as_str())
        .patch(&member, &json!({"role": "staff"}))
        .await;
    res.expect(200);
    assert_eq!(res.json()["role"], "staff");
    assert_eq!(res.header("etag").as_deref(), Some("\"2\""));

    // Remove.
    assert_eq!(
        as_admin(Method::DELETE, member.clone(), None)
            .await
            .status
            .as_u16(),
        204
    );
    as_admin(Method::DELETE, member.clone(), None)
        .await
        .expect(404);
    as_admin(Method::GET, member.clone(), None)
        .await
        .expect(404);
    let me = app.as_(&prof_token).get("/api/v1/me").await.json();
    assert!(me["memberships"].as_array().unwrap().is_empty());
}

/// An admin of a new company, and the company's invitations path.
async fn company_admin(app: &TestApp) -> (String, String) {
    let org = app.create_org("company", "MediaTek", "TW").await;
    let org_id = org["id"].as_str().unwrap();
    (
        app.member_token(org_id, "admin").await,
        format!("/api/v1/organizations/{org_id}/invitations"),
    )
}

async fn invite(app: &TestApp, admin: &str, invitations: &str, email: &str) -> Response {
    app.as_(admin)
        .post(invitations, &json!({"email": email, "role": "staff"}))
        .await
}

async fn answer(app: &TestApp, token: &str, invitation: &str, verb: &str) -> Response {
    app.as_(token)
        .request(
            Method::POST,
            &format!("/api/v1/me/invitations/{invitation}/{verb}"),
            None,
        )
        .await
}

async fn member_emails(app: &TestApp, invitations: &str) -> Vec<String> {
    let members = invitations.replace("/invitations", "/members");
    common::each(&app.operator().get(&members).await.json(), "items", |m| {
        m["email"].as_str().unwrap().to_owned()
    })
}

#[actix_web::test]
async fn inviting_answers_the_same_whether_or_not_the_address_has_an_account() {
    let app = TestApp::spawn().await;
    let (admin, invitations) = company_admin(&app).await;
    app.create_user("has-account@example.org", PASSWORD, false)
        .await;
    let known = invite(&app, &admin, &invitations, "has-account@example.org").await;
    let unknown = invite(&app, &admin, &invitations, "no-account@example.org").await;
    // Apart from what differs by construction (its id, the address, the time), the two
    // answers are the same document with the same status and headers.
    let redact = |res: &Response| {
        let mut v = res.json();
        for key in ["id", "email", "created_at", "updated_at", "expires_at"] {
            assert!(v[key].is_string(), "{key} in {v}");
            v[key] = json!("[redacted]");
        }
        let mut headers: Vec<String> = res
            .headers
            .iter()
            .map(|(k, _)| k.as_str().to_owned())
            .collect();
        headers.sort();
        (res.status, v, headers)
    };
    assert_eq!(redact(&known), redact(&unknown));
    assert_eq!(known.json()["email"], "has-account@example.org");
    assert!(known.json().get("user_id").is_none());
    assert!(known.json().get("display_name").is_none());
    // And neither address is a member yet.
    let members = member_emails(&app, &invitations).await;
    assert!(!members.iter().any(|m| m.ends_with("account@example.org")));
    let token = app.login("has-account@example.org", PASSWORD).await;
    let me = app.as_(&token).get("/api/v1/me").await.json();
    assert!(me["memberships"].as_array().unwrap().is_empty());
}

#[actix_web::test]
async fn an_account_joins_only_by_accepting_and_declining_adds_nothing() {
    let app = TestApp::spawn().await;
    let (admin, invitations) = company_admin(&app).await;
    app.create_user("engineer@example.org", PASSWORD, false)
        .await;
    let token = app.login("engineer@example.org", PASSWORD).await;

    // Declined: nothing changes, and it cannot be accepted afterwards.
    let first = invite(&app, &admin, &invitations, "engineer@example.org").await;
    first.expect(201);
    let first = first.id();
    let res = answer(&app, &token, &first, "decline").await;
    res.expect(200);
    assert_eq!(res.json()["status"], "declined");
    assert_eq!(
        answer(&app, &token, &first, "accept").await.code(),
        "conflict"
    );
    assert!(
        !member_emails(&app, &invitations)
            .await
            .contains(&"engineer@example.org".to_owned())
    );
    let mine = app.as_(&token).get("/api/v1/me/invitations").await.json();
    assert!(mine["items"].as_array().unwrap().is_empty(), "{mine}");

    // Invited again and accepted: a member; neither answer can be given twice.
    let second = invite(&app, &admin, &invitations, "engineer@example.org").await;
    second.expect(201);
    let second = second.id();
    answer(&app, &token, &second, "accept").await.expect(200);
    assert!(
        member_emails(&app, &invitations)
            .await
            .contains(&"engineer@example.org".to_owned())
    );
    answer(&app, &token, &second, "accept").await.expect(409);
    answer(&app, &token, &second, "decline").await.expect(409);
    assert_eq!(
        member_emails(&app, &invitations)
            .await
            .iter()
            .filter(|m| *m == "engineer@example.org")
            .count(),
        1
    );
}

#[actix_web::test]
async fn only_the_invited_account_answers_and_admins_revoke_pending_invitations() {
    let app = TestApp::spawn().await;
    let (admin, invitations) = company_admin(&app).await;
    let (other_admin, other_invitations) = company_admin(&app).await;
    app.create_user("invitee@example.org", PASSWORD, false)
        .await;
    app.create_user("stranger@example.org", PASSWORD, false)
        .await;
    let invitee = app.login("invitee@example.org", PASSWORD).await;
    let stranger = app.login("stranger@example.org", PASSWORD).await;
    let res = invite(&app, &admin, &invitations, "invitee@example.org").await;
    res.expect(201);
    let id = res.id();

    // A stranger, and the inviting admin itself, cannot answer it: it is not theirs (404).
    for token in [&stranger, &admin] {
        for verb in ["accept", "decline"] {
            assert_eq!(answer(&app, token, &id, verb).await.code(), "not_found");
        }
    }
    assert!(
        !member_emails(&app, &invitations)
            .await
            .contains(&"stranger@example.org".to_owned())
    );
    // Another organization's admin neither sees nor revokes it.
    let revoke = format!("{invitations}/{id}");
    app.as_(&other_admin).get(&invitations).await.expect(403);
    app.as_(&other_admin).delete(&revoke).await.expect(403);
    app.as_(&other_admin)
        .delete(&format!("{other_invitations}/{id}"))
        .await
        .expect(404);
    // Anonymous callers are 401.
    app.anonymous()
        .get("/api/v1/me/invitations")
        .await
        .expect(401);
    app.anonymous()
        .request(
            Method::POST,
            &format!("/api/v1/me/invitations/{id}/accept"),
            None,
        )
        .await
        .expect(401);

    // Revoked: the invitee can no longer accept, and it cannot be revoked twice.
    app.as_(&admin).delete(&revoke).await.expect(204);
    let mine = app.as_(&invitee).get("/api/v1/me/invitations").await.json();
    assert!(mine["items"].as_array().unwrap().is_empty());
    answer(&app, &invitee, &id, "accept").await.expect(409);
    app.as_(&admin).delete(&revoke).await.expect(409);
    assert!(
        !member_emails(&app, &invitations)
            .await
            .contains(&"invitee@example.org".to_owned())
    );
    let listed = app.as_(&admin).get(&invitations).await.json();
    assert_eq!(listed["items"][0]["status"], "revoked");
}

#[actix_web::test]
async fn bad_invitation_requests_are_4xx_problems_that_change_nothing() {
    let app = TestApp::spawn().await;
    let (admin, invitations) = company_admin(&app).await;
    let token = app
        .member_token(invitations.split('/').nth(4).unwrap(), "staff")
        .await;
    let unknown = uuid::Uuid::now_v7();
    for (method, path, who, want) in [
        (
            Method::POST,
            "/api/v1/me/invitations/not-an-id/accept".to_owned(),
            &token,
            400,
        ),
        (
            Method::POST,
            "/api/v1/me/invitations/not-an-id/decline".to_owned(),
            &token,
            400,
        ),
        (
            Method::POST,
            format!("/api/v1/me/invitations/{unknown}/accept"),
            &token,
            404,
        ),
        (
            Method::DELETE,
            format!("{invitations}/not-an-id"),
            &admin,
            400,
        ),
        (
            Method::DELETE,
            format!("{invitations}/{unknown}"),
            &admin,
            404,
        ),
        (
            Method::GET,
            format!("{invitations}?status=maybe"),
            &admin,
            400,
        ),
        (Method::GET, format!("{invitations}?limit=0"), &admin, 400),
        (
            Method::GET,
            "/api/v1/organizations/not-an-id/invitations".to_owned(),
            &admin,
            400,
        ),
        (
            Method::GET,
            format!("/api/v1/organizations/{unknown}/invitations"),
            &admin,
            404,
        ),
    ] {
        let res = app.as_(who).request(method.clone(), &path, None).await;
        assert_eq!(res.status.as_u16(), want, "{method} {path}: {}", res.text());
        res.assert_problem();
    }
    for (body, field) in [
        (json!({"email": "x@example.org", "role": "faculty"}), "role"),
        (json!({"email": "x@example.org", "role": "owner"}), "role"),
        (json!({"email": "x@example.org"}), "role"),
        (
            json!({"email": "x@example.org", "role": "staff", "display_name": "X"}),
            "display_name",
        ),
    ] {
        let res = app.as_(&admin).post(&invitations, &body).await;
        res.expect(422);
        assert_eq!(res.json()["errors"][0]["field"], field, "{body}");
    }
    let listed = app.as_(&admin).get(&invitations).await.json();
    assert!(listed["items"].as_array().unwrap().is_empty());
}

#[actix_web::test]
async fn the_last_admin_cannot_be_removed_or_demoted() {
    let app = TestApp::spawn().await;
    let org = app.create_org("company", "MediaTek", "TW").await;
    let base = format!(
        "/api/v1/organizations/{}/members",
        org["id"].as_str().unwrap()
    );
    let admin = app
        .operator()
        .post(
            &base,
            &json!({"email": "admin@mediatek.com", "role": "admin", "display_name": "A"}),
        )
        .await
        .json();
    let path = format!("{base}/{}", admin["user_id"].as_str().unwrap());
    app.operator()
        .if_match("*")
        .patch(&path, &json!({"role": "staff"}))
        .await
        .expect(409);
    app.operator().delete(&path).await.expect(409);
    // Faculty is a university role.
    let res = app
        .operator()
        .post(
            &base,
            &json!({"email": "x@mediatek.com", "role": "faculty", "display_name": "X"}),
        )
        .await;
    res.expect(422);
    assert_eq!(res.json()["errors"][0]["code"], "role_not_allowed");
    // With a second admin, the first can step down.
    app.operator()
        .post(
            &base,
            &json!({"email": "admin2@mediatek.com", "role": "admin", "display_name": "B"}),
        )
        .await
        .expect(201);
    app.operator()
        .if_match("*")
        .patch(&path, &json!({"role": "staff"}))
        .await
        .expect(200);
}

#[actix_web::test]
async fn members_of_unknown_organizations_are_404() {
    let app = TestApp::spawn().await;
    let base = format!("/api/v1/organizations/{}/members", uuid::Uuid::now_v7());
    app.operator()
        .post(
            &base,
            &json!({"email": "a@b.org", "role": "staff", "display_name": "A"}),
        )
        .await
        .expect(404);
    app.operator().get(&base).await.expect(404);
    app.operator()
        .get("/api/v1/organizations/not-an-id/members")
        .await
        .expect(400);
}

/// An invitation not answered within 14 days expires: its invitee no longer sees or answers
/// it, the admin sees it as expired (and may still withdraw it), and inviting the address
/// again sends the same invitation anew.
#[actix_web::test]
async fn an_unanswered_invitation_expires_and_inviting_again_renews_it() {
    let app = TestApp::spawn().await;
    let (admin, invitations) = company_admin(&app).await;
    app.create_user("late@example.org", PASSWORD, false).await;
    let token = app.login("late@example.org", PASSWORD).await;
    let sent = invite(&app, &admin, &invitations, "late@example.org").await;
    sent.expect(201);
    let v = sent.json();
    let created = chrono::DateTime::parse_from_rfc3339(v["created_at"].as_str().unwrap()).unwrap();
    let expires = chrono::DateTime::parse_from_rfc3339(v["expires_at"].as_str().unwrap()).unwrap();
    assert_eq!(expires - created, chrono::Duration::days(14), "{v}");
    let id = sent.id();
    let sent_long_ago = |id: &str| {
        format!(
            "UPDATE member_invitations SET updated_at = '2020-01-01 00:00:00' WHERE id = '{id}'"
        )
    };
    app.db.execute(&sent_long_ago(&id));

    let listed = |query: &'static str| {
        let (app, admin, invitations) = (&app, &admin, &invitations);
        async move {
            let list = app.as_(admin).get(&format!("{invitations}{query}")).await;
            list.expect(200);
            common::each(&list.json(), "items", |i| {
                (
                    i["id"].as_str().unwrap().to_owned(),
                    i["status"].as_str().unwrap().to_owned(),
                )
            })
        }
    };
    assert_eq!(listed("").await, [(id.clone(), "expired".to_owned())]);
    assert_eq!(listed("?status=expired").await.len(), 1);
    assert!(listed("?status=pending").await.is_empty());
    let mine = app.as_(&token).get("/api/v1/me/invitations").await.json();
    assert!(mine["items"].as_array().unwrap().is_empty(), "{mine}");
    let refused = answer(&app, &token, &id, "accept").await;
    refused.expect(409);
    assert!(
        refused.json()["detail"]
            .as_str()
            .unwrap()
            .contains("expired"),
        "{}",
        refused.text()
    );
    assert!(
        !member_emails(&app, &invitations)
            .await
            .contains(&"late@example.org".to_owned())
    );

    // Invited again: the same invitation, pending for 14 days more, in the role asked now.
    let again = app
        .as_(&admin)
        .post(
            &invitations,
            &json!({"email": "late@example.org", "role": "admin"}),
        )
        .await;
    again.expect(201);
    assert_eq!(again.id(), id);
    assert_eq!(again.json()["status"], "pending");
    assert_eq!(again.json()["role"], "admin");
    answer(&app, &token, &id, "accept").await.expect(200);
    assert!(
        member_emails(&app, &invitations)
            .await
            .contains(&"late@example.org".to_owned())
    );

    // An expired invitation can still be withdrawn by the admin.
    let other = invite(&app, &admin, &invitations, "never@example.org").await;
    other.expect(201);
    let other = other.id();
    app.db.execute(&sent_long_ago(&other));
    app.as_(&admin)
        .delete(&format!("{invitations}/{other}"))
        .await
        .expect(204);
    assert_eq!(
        listed("?status=revoked").await,
        [(other, "revoked".to_owned())]
    );
}

/// How long an invitation can be answered is the `invitation_lifetime_days` setting.
#[actix_web::test]
async fn an_invitation_lasts_as_long_as_the_setting_says() {
    let app = TestApp::spawn_with(|s| s.invitation_lifetime_days = 2).await;
    let (admin, invitations) = company_admin(&app).await;
    let mut sent = Vec::new();
    for (email, days_ago) in [("recent@example.org", 1), ("old@example.org", 3)] {
        app.create_user(email, PASSWORD, false).await;
        let res = invite(&app, &admin, &invitations, email).await;
        res.expect(201);
        let v = res.json();
        let created =
            chrono::DateTime::parse_from_rfc3339(v["created_at"].as_str().unwrap()).unwrap();
        let expires =
            chrono::DateTime::parse_from_rfc3339(v["expires_at"].as_str().unwrap()).unwrap();
        assert_eq!(expires - created, chrono::Duration::days(2), "{v}");
        let at = chrono::Utc::now().naive_utc() - chrono::Duration::days(days_ago);
        app.db.execute(&format!(
            "UPDATE member_invitations SET updated_at = '{}' WHERE id = '{}'",
            at.format("%Y-%m-%d %H:%M:%S"),
            res.id()
        ));
        sent.push((email, res.id()));
    }
    let list = app.as_(&admin).get(&invitations).await;
    list.expect(200);
    let mut statuses = common::each(&list.json(), "items", |i| {
        (
            i["email"].as_str().unwrap().to_owned(),
            i["status"].as_str().unwrap().to_owned(),
        )
    });
    statuses.sort();
    assert_eq!(
        statuses,
        [
            ("old@example.org".to_owned(), "expired".to_owned()),
            ("recent@example.org".to_owned(), "pending".to_owned()),
        ]
    );
    for ((email, id), status) in sent.iter().zip([200, 409]) {
        let token = app.login(email, PASSWORD).await;
        answer(&app, &token, id, "accept").await.expect(status);
    }
}

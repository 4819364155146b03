//! Organization members: add (existing or new accounts), list, change role, remove, and the
//! rules that keep an organization manageable.

mod common;

use actix_web::http::Method;
use common::{PASSWORD, TestApp};
use serde_json::json;

#[actix_web::test]
async fn admins_manage_their_members_end_to_end() {
    let app = TestApp::spawn().await;
    let org = app
        .create_org("university", "National Taiwan University", "TW")
        .await;
    let base = format!(
        "/api/v1/organizations/{}/members",
        org["id"].as_str().unwrap()
    );

    // The operator appoints an admin (a new account: a one-time password comes back once).
    let res = app
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

    // The admin adds an existing account (no password in the answer) and a new one.
    app.create_user("prof.lin@ntu.edu.tw", PASSWORD, false)
        .await;
    let res = app
        .call(
            Method::POST,
            &base,
            Some(&admin_token),
            &[],
            Some(&json!({"email": "PROF.LIN@ntu.edu.tw", "role": "faculty"})),
        )
        .await;
    res.expect(201);
    assert!(res.json().get("initial_password").is_none());
    assert_eq!(res.json()["display_name"], "prof.lin@ntu.edu.tw");
    let prof_id = res.json()["user_id"].as_str().unwrap().to_owned();
    app.call(
        Method::POST,
        &base,
        Some(&admin_token),
        &[],
        Some(&json!({"email": "staff@ntu.edu.tw", "role": "staff", "display_name": "ILO staff"})),
    )
    .await
    .expect(201);

    // Duplicates, missing names for new accounts and misplaced roles are refused.
    app.call(
        Method::POST,
        &base,
        Some(&admin_token),
        &[],
        Some(&json!({"email": "prof.lin@ntu.edu.tw", "role": "staff"})),
    )
    .await
    .expect(409);
    let res = app
        .call(
            Method::POST,
            &base,
            Some(&admin_token),
            &[],
            Some(&json!({"email": "new@ntu.edu.tw", "role": "staff"})),
        )
        .await;
    res.expect(422);
    assert_eq!(res.json()["errors"][0]["field"], "display_name");
    let res = app
        .call(
            Method::POST,
            &base,
            Some(&admin_token),
            &[],
            Some(&json!({"email": "not-an-email", "role": "staff", "display_name": "x"})),
        )
        .await;
    res.expect(422);
    assert_eq!(res.json()["errors"][0]["code"], "invalid_email");

    // List, oldest first, paginated.
    let res = app
        .call(
            Method::GET,
            &format!("{base}?limit=2"),
            Some(&admin_token),
            &[],
            None,
        )
        .await;
    res.expect(200);
    let page = res.json();
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest = app
        .call(
            Method::GET,
            &format!("{base}?limit=2&cursor={cursor}"),
            Some(&admin_token),
            &[],
            None,
        )
        .await
        .json();
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);
    assert!(rest.get("next_cursor").is_none());

    // Change a role: If-Match required and checked.
    let member = format!("{base}/{prof_id}");
    app.call(
        Method::PATCH,
        &member,
        Some(&admin_token),
        &[],
        Some(&json!({"role": "staff"})),
    )
    .await
    .expect(428);
    app.call(
        Method::PATCH,
        &member,
        Some(&admin_token),
        &[("if-match", "\"7\"")],
        Some(&json!({"role": "staff"})),
    )
    .await
    .expect(412);
    let res = app
        .call(
            Method::PATCH,
            &member,
            Some(&admin_token),
            &[("if-match", "\"1\"")],
            Some(&json!({"role": "staff"})),
        )
        .await;
    res.expect(200);
    assert_eq!(res.json()["role"], "staff");
    assert_eq!(res.header("etag").as_deref(), Some("\"2\""));

    // Remove.
    assert_eq!(
        app.call(Method::DELETE, &member, Some(&admin_token), &[], None)
            .await
            .status
            .as_u16(),
        204
    );
    app.call(Method::DELETE, &member, Some(&admin_token), &[], None)
        .await
        .expect(404);
    let prof_token = app.login("prof.lin@ntu.edu.tw", PASSWORD).await;
    let me = app
        .call(Method::GET, "/api/v1/me", Some(&prof_token), &[], None)
        .await
        .json();
    assert!(me["memberships"].as_array().unwrap().is_empty());
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
        .post(
            &base,
            &json!({"email": "admin@mediatek.com", "role": "admin", "display_name": "A"}),
        )
        .await
        .json();
    let path = format!("{base}/{}", admin["user_id"].as_str().unwrap());
    app.patch(&path, Some("*"), &json!({"role": "staff"}))
        .await
        .expect(409);
    app.delete(&path, None).await.expect(409);
    // Faculty is a university role.
    let res = app
        .post(
            &base,
            &json!({"email": "x@mediatek.com", "role": "faculty", "display_name": "X"}),
        )
        .await;
    res.expect(422);
    assert_eq!(res.json()["errors"][0]["code"], "role_not_allowed");
    // With a second admin, the first can step down.
    app.post(
        &base,
        &json!({"email": "admin2@mediatek.com", "role": "admin", "display_name": "B"}),
    )
    .await
    .expect(201);
    app.patch(&path, Some("*"), &json!({"role": "staff"}))
        .await
        .expect(200);
}

#[actix_web::test]
async fn members_of_unknown_organizations_are_404() {
    let app = TestApp::spawn().await;
    let base = format!("/api/v1/organizations/{}/members", uuid::Uuid::now_v7());
    app.post(
        &base,
        &json!({"email": "a@b.org", "role": "staff", "display_name": "A"}),
    )
    .await
    .expect(404);
    app.operator_get(&base).await.expect(404);
    app.operator_get("/api/v1/organizations/not-an-id/members")
        .await
        .expect(400);
}

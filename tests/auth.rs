//! Accounts and tokens through the API: login, refresh rotation and reuse detection, logout,
//! the caller's account, password change, throttling, and every way a credential can be
//! forged or stale (all 401 problem+json).

mod common;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{PASSWORD, TEST_SECRET, TestApp};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use liaison::config::{JwtAlgorithm, JwtKeyConfig, Secret};
use serde_json::{Value, json};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

async fn login_pair(app: &TestApp, email: &str, password: &str) -> Value {
    let res = app
        .anonymous()
        .post(
            "/api/v1/auth/login",
            &json!({"email": email, "password": password}),
        )
        .await;
    res.expect(200);
    res.json()
}

async fn me(app: &TestApp, token: &str) -> common::Response {
    app.as_(token).get("/api/v1/me").await
}

#[actix_web::test]
async fn login_returns_a_bearer_pair_and_me_shows_memberships() {
    let app = TestApp::spawn().await;
    let org = app.create_org("university", "KAIST", "KR").await;
    let org_id = org["id"].as_str().unwrap();
    let res = app
        .operator().post(&format!("/api/v1/organizations/{org_id}/members"), &json!({"email": "Minjun.Kim@KAIST.ac.kr", "role": "faculty", "display_name": "김민준"}))
        .await;
    res.expect(201);
    let initial = res.json()["initial_password"].as_str().unwrap().to_owned();

    // Email is case-insensitive.
    let pair = login_pair(&app, "minjun.kim@kaist.ac.kr", &initial).await;
    assert_eq!(pair["token_type"], "Bearer");
    assert_eq!(pair["expires_in"], 900);
    assert!(pair["refresh_token"].as_str().unwrap().len() >= 40);
    let header = jsonwebtoken::decode_header(pair["access_token"].as_str().unwrap()).unwrap();
    assert_eq!(header.kid.as_deref(), Some("test"));

    let res = me(&app, pair["access_token"].as_str().unwrap()).await;
    res.expect(200);
    let body = res.json();
    assert_eq!(body["user"]["display_name"], "김민준");
    assert_eq!(body["user"]["is_platform_operator"], false);
    assert_eq!(body["memberships"][0]["organization_id"], org_id);
    assert_eq!(body["memberships"][0]["role"], "faculty");
    assert_eq!(body["memberships"][0]["organization_kind"], "university");
    assert!(
        !res.text().contains("password"),
        "no hash or password in /me"
    );
}

#[actix_web::test]
async fn wrong_password_and_unknown_email_get_the_same_answer() {
    let app = TestApp::spawn().await;
    let wrong = app
        .anonymous()
        .post(
            "/api/v1/auth/login",
            &json!({"email": "operator@liaison.test", "password": "not the password"}),
        )
        .await;
    let unknown = app
        .anonymous()
        .post(
            "/api/v1/auth/login",
            &json!({"email": "nobody@liaison.test", "password": "not the password"}),
        )
        .await;
    wrong.expect(401);
    unknown.expect(401);
    assert_eq!(wrong.json(), unknown.json());
    assert_eq!(wrong.code(), "invalid_credentials");
    assert!(!wrong.text().contains("not the password"));
}

#[actix_web::test]
async fn refresh_rotates_and_reuse_revokes_the_whole_family() {
    let app = TestApp::spawn().await;
    let first = login_pair(&app, "operator@liaison.test", PASSWORD).await;
    let refresh = |token: &str| {
        let body = json!({"refresh_token": token});
        let app = &app;
        async move { app.anonymous().post("/api/v1/auth/refresh", &body).await }
    };
    let second = refresh(first["refresh_token"].as_str().unwrap()).await;
    second.expect(200);
    let second = second.json();
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    me(&app, second["access_token"].as_str().unwrap())
        .await
        .expect(200);

    // The used token no longer works, and presenting it revokes the family: the token it was
    // rotated into stops working too.
    refresh(first["refresh_token"].as_str().unwrap())
        .await
        .expect(401);
    refresh(second["refresh_token"].as_str().unwrap())
        .await
        .expect(401);
    // Another login (another family) is unaffected.
    let other = login_pair(&app, "operator@liaison.test", PASSWORD).await;
    refresh(other["refresh_token"].as_str().unwrap())
        .await
        .expect(200);
    refresh("not-a-token").await.expect(401);
}

#[actix_web::test]
async fn logout_revokes_the_refresh_token() {
    let app = TestApp::spawn().await;
    let pair = login_pair(&app, "operator@liaison.test", PASSWORD).await;
    let body = json!({"refresh_token": pair["refresh_token"]});
    let res = app.anonymous().post("/api/v1/auth/logout", &body).await;
    assert_eq!(res.status.as_u16(), 204);
    app.anonymous()
        .post("/api/v1/auth/refresh", &body)
        .await
        .expect(401);
    // Idempotent.
    assert_eq!(
        app.anonymous()
            .post("/api/v1/auth/logout", &body)
            .await
            .status
            .as_u16(),
        204
    );
}

#[actix_web::test]
async fn password_change_checks_the_old_one_and_ends_other_sessions() {
    let app = TestApp::spawn().await;
    app.create_user("prof@ntu.edu.tw", PASSWORD, false).await;
    let pair = login_pair(&app, "prof@ntu.edu.tw", PASSWORD).await;
    let token = pair["access_token"].as_str().unwrap();
    let change = |current: &str, new: &str| {
        let body = json!({"current_password": current, "new_password": new});
        let app = &app;
        let token = token.to_owned();
        async move { app.as_(&token).post("/api/v1/me/password", &body).await }
    };
    let res = change("wrong password here", "a new long password").await;
    res.expect(422);
    assert_eq!(res.json()["errors"][0]["field"], "current_password");
    let res = change(PASSWORD, "short").await;
    res.expect(422);
    assert_eq!(res.json()["errors"][0]["code"], "too_short");
    assert_eq!(
        change(PASSWORD, "a new long password")
            .await
            .status
            .as_u16(),
        204
    );

    app.anonymous()
        .post(
            "/api/v1/auth/login",
            &json!({"email": "prof@ntu.edu.tw", "password": PASSWORD}),
        )
        .await
        .expect(401);
    login_pair(&app, "prof@ntu.edu.tw", "a new long password").await;
    let body = json!({"refresh_token": pair["refresh_token"]});
    app.anonymous()
        .post("/api/v1/auth/refresh", &body)
        .await
        .expect(401);
    // Unauthenticated password change is refused.
    app.anonymous()
        .post(
            "/api/v1/me/password",
            &json!({"current_password": "x", "new_password": "y"}),
        )
        .await
        .expect(401);
}

#[actix_web::test]
async fn repeated_failures_are_throttled_per_account_and_per_client() {
    let app = TestApp::spawn_with(|s| s.login_max_failures = 3).await;
    let attempt = |email: &str, password: &str| {
        let body = json!({"email": email, "password": password});
        let app = &app;
        async move { app.anonymous().post("/api/v1/auth/login", &body).await }
    };
    for _ in 0..3 {
        attempt("operator@liaison.test", "wrong wrong wrong")
            .await
            .expect(401);
    }
    // Even the right password is refused now, with a Retry-After.
    let res = attempt("operator@liaison.test", PASSWORD).await;
    res.expect(429);
    let retry: u64 = res.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=900).contains(&retry));
    assert_eq!(res.code(), "too_many_requests");

    // Per client: failures spread over many accounts from one address are throttled too.
    let app = TestApp::spawn_with(|s| s.login_max_failures_per_client = 3).await;
    for i in 0..3 {
        app.anonymous()
            .post(
                "/api/v1/auth/login",
                &json!({"email": format!("u{i}@x.org"), "password": "nope nope"}),
            )
            .await
            .expect(401);
    }
    app.anonymous()
        .post(
            "/api/v1/auth/login",
            &json!({"email": "u9@x.org", "password": "nope nope"}),
        )
        .await
        .expect(429);
}

/// `path` with a JSON body from the client address `from` (`as` bearer token, if any).
async fn post_from(
    app: &TestApp,
    from: &str,
    path: &str,
    token: Option<&str>,
    body: Value,
) -> common::Response {
    let mut req = actix_web::test::TestRequest::post()
        .uri(path)
        .peer_addr(format!("{from}:40000").parse().unwrap())
        .insert_header(("content-type", "application/json"))
        .set_payload(body.to_string());
    if let Some(t) = token {
        req = req.insert_header(("authorization", format!("Bearer {t}")));
    }
    app.send(req).await
}

/// A stranger's wrong passwords cannot lock the owner out: they slow down only the
/// stranger's own address, with growing delays, and the owner's right password from another
/// address goes through.
#[actix_web::test]
async fn a_stranger_cannot_lock_an_account_and_delays_grow_for_the_guesser() {
    let app = TestApp::spawn_with(|s| s.login_max_failures = 3).await;
    let login = |from: &'static str, password: &'static str| {
        let app = &app;
        async move {
            post_from(
                app,
                from,
                "/api/v1/auth/login",
                None,
                json!({"email": "operator@liaison.test", "password": password}),
            )
            .await
        }
    };
    for _ in 0..3 {
        login("203.0.113.9", "wrong wrong wrong").await.expect(401);
    }
    let res = login("203.0.113.9", PASSWORD).await;
    res.expect(429);
    assert_eq!(res.header("retry-after").as_deref(), Some("1"));
    // The owner, elsewhere, is not held up.
    login("198.51.100.7", PASSWORD).await.expect(200);
    // The stranger, having waited, fails again and now waits twice as long.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    login("203.0.113.9", "wrong again wrong").await.expect(401);
    let res = login("203.0.113.9", "wrong again wrong").await;
    res.expect(429);
    assert_eq!(res.header("retry-after").as_deref(), Some("2"));
}

/// A stolen access token does not buy unlimited guesses at the current password.
#[actix_web::test]
async fn password_changes_are_throttled_like_logins() {
    let app = TestApp::spawn_with(|s| s.login_max_failures = 3).await;
    let token = app.operator_token.clone();
    let change = |from: &'static str, current: &'static str| {
        let (app, token) = (&app, token.clone());
        async move {
            post_from(
                app,
                from,
                "/api/v1/me/password",
                Some(&token),
                json!({"current_password": current, "new_password": "a brand new password 42"}),
            )
            .await
        }
    };
    for _ in 0..3 {
        let res = change("203.0.113.9", "not my password").await;
        res.expect(422);
    }
    let res = change("203.0.113.9", PASSWORD).await;
    res.expect(429);
    assert!(res.header("retry-after").is_some());
    // Nothing changed: the old password still logs in.
    app.login("operator@liaison.test", PASSWORD).await;
    // The owner from their own address changes it.
    change("198.51.100.7", PASSWORD).await.expect(204);
    app.login("operator@liaison.test", "a brand new password 42")
        .await;
}

fn now() -> u64 {
    liaison::service::auth::unix_now()
}

fn claims(sub: &str) -> Value {
    json!({"iss": "liaison", "aud": "liaison-api", "sub": sub, "iat": now(), "nbf": now(),
           "exp": now() + 600, "jti": "x"})
}

fn sign(alg: Algorithm, kid: &str, key: &EncodingKey, claims: &Value) -> String {
    let mut h = Header::new(alg);
    h.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&h, claims, key).unwrap()
}

fn hs(claims: &Value) -> String {
    sign(
        Algorithm::HS256,
        "test",
        &EncodingKey::from_secret(TEST_SECRET.as_bytes()),
        claims,
    )
}

#[actix_web::test]
async fn forged_or_stale_credentials_are_401() {
    let app = TestApp::spawn_with(|s| {
        // An asymmetric key that verifies, to try algorithm confusion against.
        s.jwt_keys.push(JwtKeyConfig {
            kid: "ed".into(),
            algorithm: JwtAlgorithm::EdDSA,
            secret: None,
            private_key_file: None,
            public_key_file: Some(format!("{FIXTURES}/ed25519-public.pem").into()),
            retired: true,
        });
    })
    .await;
    let user_id = app.create_user("prof@snu.ac.kr", PASSWORD, false).await;
    let good = hs(&claims(&user_id));
    me(&app, &good).await.expect(200);

    let mut cases: Vec<(&str, String)> = Vec::new();
    let mut c = claims(&user_id);
    c["exp"] = json!(now() - 120);
    cases.push(("expired", hs(&c)));
    let mut c = claims(&user_id);
    c["nbf"] = json!(now() + 600);
    cases.push(("not yet valid", hs(&c)));
    let mut c = claims(&user_id);
    c["aud"] = json!("someone-else");
    cases.push(("wrong audience", hs(&c)));
    let mut c = claims(&user_id);
    c["iss"] = json!("evil");
    cases.push(("wrong issuer", hs(&c)));
    let mut c = claims(&user_id);
    c.as_object_mut().unwrap().remove("exp");
    cases.push(("no exp", hs(&c)));
    cases.push((
        "bad signature",
        sign(
            Algorithm::HS256,
            "test",
            &EncodingKey::from_secret(b"another secret that is long enough!!"),
            &claims(&user_id),
        ),
    ));
    cases.push((
        "unknown kid",
        sign(
            Algorithm::HS256,
            "nope",
            &EncodingKey::from_secret(TEST_SECRET.as_bytes()),
            &claims(&user_id),
        ),
    ));
    cases.push((
        "no kid",
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims(&user_id),
            &EncodingKey::from_secret(TEST_SECRET.as_bytes()),
        )
        .unwrap(),
    ));
    // alg: none, unsigned.
    let enc = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
    cases.push((
        "alg none",
        format!(
            "{}.{}.",
            enc(&json!({"alg": "none", "typ": "JWT", "kid": "test"})),
            enc(&claims(&user_id))
        ),
    ));
    // Algorithm confusion: HS256 "signed" with the Ed25519 public key as the HMAC secret.
    let public = std::fs::read(format!("{FIXTURES}/ed25519-public.pem")).unwrap();
    cases.push((
        "HS256 with the public key",
        sign(
            Algorithm::HS256,
            "ed",
            &EncodingKey::from_secret(&public),
            &claims(&user_id),
        ),
    ));
    cases.push(("garbage", "not.a.jwt".into()));
    cases.push(("tampered payload", {
        let parts: Vec<&str> = good.split('.').collect();
        let mut c = claims(&user_id);
        c["sub"] = json!(uuid::Uuid::now_v7().to_string());
        format!("{}.{}.{}", parts[0], enc(&c), parts[2])
    }));
    cases.push((
        "unknown user",
        hs(&claims(&uuid::Uuid::now_v7().to_string())),
    ));

    for (name, token) in &cases {
        let res = me(&app, token).await;
        assert_eq!(res.status.as_u16(), 401, "{name}: {}", res.text());
        assert_eq!(res.code(), "unauthenticated", "{name}");
        assert_eq!(
            res.header("www-authenticate").as_deref(),
            Some("Bearer"),
            "{name}"
        );
    }
    // Malformed Authorization headers.
    for header in [
        "Basic dXNlcjpwYXNz",
        "Bearer",
        "Bearer ",
        &format!("Token {good}"),
        &good,
    ] {
        let res = app
            .anonymous()
            .header("authorization", header)
            .get("/api/v1/me")
            .await;
        assert_eq!(res.status.as_u16(), 401, "{header:?}");
    }
    // No Authorization at all.
    app.anonymous().get("/api/v1/me").await.expect(401);
    // Public reads do not look at credentials; a write with an invalid token is 401, never
    // treated as anonymous.
    app.as_("not.a.jwt")
        .get("/api/v1/organizations")
        .await
        .expect(200);
    app.as_("not.a.jwt")
        .post(
            "/api/v1/organizations",
            &json!({"kind": "company", "name": "x", "country": "TW"}),
        )
        .await
        .expect(401);

    // Disabled, then deleted users: their still-unexpired tokens stop working at once.
    let (db, email) = (app.state.db.clone(), "prof@snu.ac.kr");
    let db2 = db.clone();
    actix_web::rt::task::spawn_blocking(move || {
        liaison::service::accounts::set_user_state_blocking(&db2, email, true, false)
    })
    .await
    .unwrap()
    .unwrap();
    me(&app, &good).await.expect(401);
    app.anonymous()
        .post(
            "/api/v1/auth/login",
            &json!({"email": email, "password": PASSWORD}),
        )
        .await
        .expect(401);
    actix_web::rt::task::spawn_blocking(move || {
        liaison::service::accounts::set_user_state_blocking(&db, email, false, false)
    })
    .await
    .unwrap()
    .unwrap();
    me(&app, &good).await.expect(200);
    let db = app.state.db.clone();
    actix_web::rt::task::spawn_blocking(move || {
        liaison::service::accounts::set_user_state_blocking(&db, email, true, true)
    })
    .await
    .unwrap()
    .unwrap();
    me(&app, &good).await.expect(401);
}

#[actix_web::test]
async fn asymmetric_keys_sign_and_retired_keys_still_verify() {
    let old_secret = "the-old-secret-0123456789-abcdefghijklmnop";
    let app = TestApp::spawn_with(|s| {
        s.jwt_secret = None;
        s.jwt_keys = vec![
            JwtKeyConfig {
                kid: "ed-2026".into(),
                algorithm: JwtAlgorithm::EdDSA,
                secret: None,
                private_key_file: Some(format!("{FIXTURES}/ed25519-private.pem").into()),
                public_key_file: Some(format!("{FIXTURES}/ed25519-public.pem").into()),
                retired: false,
            },
            JwtKeyConfig {
                kid: "rsa-2025".into(),
                algorithm: JwtAlgorithm::RS256,
                secret: None,
                private_key_file: Some(format!("{FIXTURES}/rsa-private.pem").into()),
                public_key_file: Some(format!("{FIXTURES}/rsa-public.pem").into()),
                retired: true,
            },
            JwtKeyConfig {
                kid: "hs-2024".into(),
                algorithm: JwtAlgorithm::HS256,
                secret: Some(Secret(old_secret.into())),
                private_key_file: None,
                public_key_file: None,
                retired: true,
            },
        ];
    })
    .await;
    let header = jsonwebtoken::decode_header(&app.operator_token).unwrap();
    assert_eq!(
        (header.alg, header.kid.as_deref()),
        (Algorithm::EdDSA, Some("ed-2026"))
    );
    me(&app, &app.operator_token).await.expect(200);
    let user_id = me(&app, &app.operator_token).await.json()["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let rsa =
        EncodingKey::from_rsa_pem(&std::fs::read(format!("{FIXTURES}/rsa-private.pem")).unwrap())
            .unwrap();
    me(
        &app,
        &sign(Algorithm::RS256, "rsa-2025", &rsa, &claims(&user_id)),
    )
    .await
    .expect(200);
    me(
        &app,
        &sign(
            Algorithm::HS256,
            "hs-2024",
            &EncodingKey::from_secret(old_secret.as_bytes()),
            &claims(&user_id),
        ),
    )
    .await
    .expect(200);
    // A retired key's kid with another algorithm is refused.
    me(
        &app,
        &sign(
            Algorithm::HS256,
            "rsa-2025",
            &EncodingKey::from_secret(old_secret.as_bytes()),
            &claims(&user_id),
        ),
    )
    .await
    .expect(401);
}

#[actix_web::test]
async fn no_secret_appears_in_the_openapi_document() {
    let spec = liaison::http::openapi_json();
    for secret in [TEST_SECRET, PASSWORD, "eyJ"] {
        assert!(!spec.contains(secret), "{secret}");
    }
    let v: Value = serde_json::from_str(&spec).unwrap();
    assert_eq!(
        v["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert_eq!(
        v["paths"]["/api/v1/me"]["get"]["security"][0]["bearer"],
        json!([])
    );
}

//! Webhooks through the API, delivered to a receiver on 127.0.0.1: the Standard Webhooks
//! headers and signature, retries with the same id, the delivery log and replays, an endpoint
//! disabled when it keeps failing (and its admins told), endpoints that receive only what
//! their organization may read, and targets inside the network refused.

mod common;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::TestApp;
use common::receiver::{Received, Receiver};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

async fn app_for_receivers(schedule: Vec<u64>) -> TestApp {
    TestApp::spawn_with(move |s| {
        s.webhook_allow_private_targets = true;
        s.webhook_retry_schedule_secs = schedule;
    })
    .await
}

async fn endpoint(app: &TestApp, admin: &str, org: &str, url: &str, types: &[&str]) -> Value {
    let res = app
        .as_(admin)
        .post(
            &format!("/api/v1/organizations/{org}/webhooks"),
            &json!({"url": url, "event_types": types, "description": "CRM"}),
        )
        .await;
    res.expect(201);
    assert_eq!(
        res.header("location").unwrap(),
        format!("/api/v1/webhooks/{}", res.json()["id"].as_str().unwrap())
    );
    res.json()
}

async fn need(app: &TestApp, token: &str, company: &str, title: &str, visibility: &str) -> String {
    let res = app
        .as_(token)
        .post(
            "/api/v1/needs",
            &json!({"company_id": company, "title": title, "status": "open", "visibility": visibility}),
        )
        .await;
    res.expect(201);
    res.id()
}

/// Checks a request's Standard Webhooks signature with the endpoint's secret.
fn verify(r: &Received, secret: &str) {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    let signed = format!(
        "{}.{}.{}",
        r.header("webhook-id"),
        r.header("webhook-timestamp"),
        r.body
    );
    mac.update(signed.as_bytes());
    let want = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    assert_eq!(r.header("webhook-signature"), want);
    let ts: i64 = r.header("webhook-timestamp").parse().unwrap();
    assert!((chrono::Utc::now().timestamp() - ts).abs() < 120);
}

async fn deliveries(app: &TestApp, admin: &str, endpoint: &str) -> Vec<Value> {
    let res = app
        .as_(admin)
        .get(&format!("/api/v1/webhooks/{endpoint}/deliveries"))
        .await;
    res.expect(200);
    res.json()["items"].as_array().unwrap().clone()
}

#[actix_web::test]
async fn deliveries_are_signed_retried_with_one_id_logged_and_replayed() {
    let app = app_for_receivers(vec![1, 1, 1]).await;
    let co = app.org_id("company", "MediaTek", "TW").await;
    let admin = app.member_token(&co, "admin").await;
    let receiver = Receiver::start();
    receiver.answer(&[500]);
    let hook = endpoint(&app, &admin, &co, &receiver.url, &["need.published"]).await;
    let secret = hook["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"));
    assert_eq!(hook["enabled"], true);
    assert_eq!(hook["event_types"], json!(["need.published"]));

    let n = need(&app, &admin, &co, "Edge inference for phones", "public").await;
    let got = receiver.wait_for("a retry after a 500", |r| r.len() >= 2);
    assert_eq!(got.len(), 2, "delivered once it succeeded: {got:#?}");
    assert_eq!(got[0].header("webhook-id"), got[1].header("webhook-id"));
    for r in &got {
        verify(r, secret);
        assert_eq!(r.header("content-type"), "application/json");
    }
    let body = got[1].json();
    assert_eq!(body["type"], "need.published");
    assert_eq!(body["data"]["entity"], "need");
    assert_eq!(body["data"]["entity_id"], n.as_str());
    assert_eq!(body["data"]["title"], "Edge inference for phones");
    assert!(body["timestamp"].as_str().unwrap().ends_with('Z'));

    // The log: one delivery, two attempts, the failure's answer kept.
    let hook_id = hook["id"].as_str().unwrap();
    let mut log = deliveries(&app, &admin, hook_id).await;
    for _ in 0..50 {
        if log[0]["state"] == "delivered" {
            break;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
        log = deliveries(&app, &admin, hook_id).await;
    }
    assert_eq!(log.len(), 1);
    let d = &log[0];
    assert_eq!(d["id"], got[0].header("webhook-id"));
    assert_eq!(d["state"], "delivered");
    assert_eq!(d["attempts"], 2);
    assert_eq!(d["payload"], body);
    assert_eq!(d["attempt_log"][0]["status"], 500);
    assert_eq!(d["attempt_log"][0]["response"], "boom");
    assert_eq!(d["attempt_log"][1]["status"], 200);
    assert!(d["attempt_log"][1]["latency_ms"].as_i64().unwrap() >= 0);
    assert_eq!(d["next_attempt_at"], Value::Null);

    // A replay goes out again at once, with the same id.
    let delivery = d["id"].as_str().unwrap();
    let res = app
        .as_(&admin)
        .post(
            &format!("/api/v1/webhooks/{hook_id}/deliveries/{delivery}/replay"),
            &json!({}),
        )
        .await;
    res.expect(202);
    let got = receiver.wait_for("the replay", |r| r.len() == 3);
    assert_eq!(got[2].header("webhook-id"), delivery);
    verify(&got[2], secret);
    // Events of types it did not subscribe to are not sent.
    app.as_(&admin)
        .if_match("*")
        .patch(&format!("/api/v1/needs/{n}"), &json!({"summary": "more"}))
        .await
        .expect(200);
    need(&app, &admin, &co, "Second need", "public").await;
    let got = receiver.wait_for("the second need", |r| r.len() == 4);
    assert_eq!(got[3].json()["data"]["title"], "Second need");
    assert!(got.iter().all(|r| r.json()["type"] == "need.published"));
}

#[actix_web::test]
async fn an_endpoint_that_keeps_failing_is_disabled_and_its_admins_told() {
    let app = app_for_receivers(vec![1]).await;
    let co = app.org_id("company", "Realtek", "TW").await;
    let admin = app.member_token(&co, "admin").await;
    let other_admin = app.member_token(&co, "admin").await;
    let failing = Receiver::start();
    failing.always(Some(503));
    let gone = Receiver::start();
    gone.always(Some(410));
    let hook = endpoint(&app, &admin, &co, &failing.url, &["need.published"]).await;
    let gone_hook = endpoint(&app, &admin, &co, &gone.url, &["need.published"]).await;
    need(&app, &admin, &co, "Wi-Fi 8 PHY", "public").await;
    // Two attempts (the schedule has one retry), then it gives up.
    failing.wait_for("two attempts", |r| r.len() == 2);
    gone.wait_for("one attempt", |r| r.len() == 1);

    let list = common::wait_for_json(&app, &other_admin, "/api/v1/notifications", |v| {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["type"] == "webhook.disabled")
            .count()
            == 2
    })
    .await;
    let disabled: Vec<&Value> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["type"] == "webhook.disabled")
        .collect();
    assert!(disabled.iter().any(|n| n["entity_id"] == hook["id"]));
    assert!(disabled.iter().any(|n| n["title"] == gone.url.as_str()));
    for (h, why) in [(&hook, "retry schedule"), (&gone_hook, "410")] {
        let id = h["id"].as_str().unwrap();
        let now = app
            .as_(&admin)
            .get(&format!("/api/v1/webhooks/{id}"))
            .await
            .json();
        assert_eq!(now["enabled"], false);
        assert!(
            now["disabled_reason"].as_str().unwrap().contains(why),
            "{now}"
        );
        let log = deliveries(&app, &admin, id).await;
        assert_eq!(log[0]["state"], "failed");
    }
    assert_eq!(
        failing.received().len(),
        2,
        "a disabled endpoint gets nothing more"
    );
    assert_eq!(gone.received().len(), 1);

    // Turned back on, it gets what comes next; the failed delivery can be replayed (not
    // while the endpoint is disabled).
    failing.always(None);
    let id = hook["id"].as_str().unwrap();
    let failed = deliveries(&app, &admin, id).await[0].clone();
    app.as_(&admin)
        .post(
            &format!(
                "/api/v1/webhooks/{id}/deliveries/{}/replay",
                failed["id"].as_str().unwrap()
            ),
            &json!({}),
        )
        .await
        .expect(409);
    let res = app
        .as_(&admin)
        .if_match("*")
        .patch(&format!("/api/v1/webhooks/{id}"), &json!({"enabled": true}))
        .await;
    res.expect(200);
    assert_eq!(res.json()["disabled_reason"], Value::Null);
    need(&app, &admin, &co, "Bluetooth LE audio", "public").await;
    failing.wait_for("the next event", |r| {
        r.iter()
            .any(|x| x.json()["data"]["title"] == "Bluetooth LE audio")
    });
    let failed = deliveries(&app, &admin, id)
        .await
        .into_iter()
        .find(|d| d["state"] == "failed")
        .unwrap();
    let delivery = failed["id"].as_str().unwrap();
    app.as_(&admin)
        .post(
            &format!("/api/v1/webhooks/{id}/deliveries/{delivery}/replay"),
            &json!({}),
        )
        .await
        .expect(202);
    failing.wait_for("the replay", |r| {
        r.iter()
            .filter(|x| x.header("webhook-id") == delivery)
            .count()
            == 3
    });
}

#[actix_web::test]
async fn endpoints_receive_only_what_their_organization_may_read() {
    let app = app_for_receivers(vec![1]).await;
    let co = app.org_id("company", "Samsung Electronics", "KR").await;
    let rival = app.org_id("company", "SK hynix", "KR").await;
    let uni = app.org_id("university", "KAIST", "KR").await;
    let admin = app.member_token(&co, "admin").await;
    let rival_admin = app.member_token(&rival, "admin").await;
    let uni_admin = app.member_token(&uni, "admin").await;
    let (_, profile) = app.professor(&uni, json!({"name": "Kim Ji-woo"})).await;
    let own = Receiver::start();
    let theirs = Receiver::start();
    let office = Receiver::start();
    let types = ["need.published", "need.updated", "invitation.received"];
    endpoint(&app, &admin, &co, &own.url, &types).await;
    endpoint(&app, &rival_admin, &rival, &theirs.url, &types).await;
    endpoint(&app, &uni_admin, &uni, &office.url, &types).await;

    let secret = need(
        &app,
        &admin,
        &co,
        "HBM4 roadmap (confidential)",
        "confidential",
    )
    .await;
    let res = app
        .as_(&admin)
        .post(
            "/api/v1/engagements",
            &json!({"need_id": secret, "faculty_id": profile, "state": "invited"}),
        )
        .await;
    res.expect(201);
    let public = need(&app, &admin, &co, "Public HBM call", "public").await;

    own.wait_for("all three events", |r| r.len() == 3);
    let got = theirs.wait_for("the public need", |r| {
        r.iter()
            .any(|x| x.json()["data"]["entity_id"] == public.as_str())
    });
    let office_got = office.wait_for("the invitation and the public need", |r| r.len() == 2);
    // Later events went out, so the confidential ones had their turn: none reached others.
    assert_eq!(got.len(), 1, "{got:#?}");
    for r in got.iter().chain(&office_got) {
        assert!(!r.body.contains("HBM4"), "{}", r.body);
    }
    assert!(
        office_got
            .iter()
            .any(|r| r.json()["type"] == "invitation.received"
                && r.json()["data"]["need_id"] == secret.as_str())
    );

    // A need made public after a confidential start, while the notifier was behind (another
    // process held the event log): what reaches others is the need as public, never its
    // confidential title.
    app.db.execute(
        "UPDATE workers SET holder = 'elsewhere', lease_until = '2999-01-01 00:00:00' \
         WHERE name = 'notifications'",
    );
    let turned = need(
        &app,
        &admin,
        &co,
        "Acquire BatteryCo (secret)",
        "confidential",
    )
    .await;
    app.as_(&admin)
        .if_match("*")
        .patch(
            &format!("/api/v1/needs/{turned}"),
            &json!({"title": "Battery research", "visibility": "public"}),
        )
        .await
        .expect(200);
    app.db.execute(
        "UPDATE workers SET holder = NULL, lease_until = NULL WHERE name = 'notifications'",
    );
    let got = theirs.wait_for("the need made public", |r| {
        r.iter()
            .any(|x| x.json()["data"]["entity_id"] == turned.as_str())
    });
    for r in &got {
        assert!(!r.body.contains("BatteryCo"), "{}", r.body);
    }
    own.wait_for("the owner's copies", |r| {
        r.iter().any(|x| x.body.contains("Acquire BatteryCo"))
    });
}

#[actix_web::test]
async fn endpoints_are_for_admins_and_targets_inside_are_refused() {
    let app = TestApp::spawn().await;
    let co = app.org_id("company", "TSMC", "TW").await;
    let other = app.org_id("company", "UMC", "TW").await;
    let admin = app.member_token(&co, "admin").await;
    let staff = app.member_token(&co, "staff").await;
    let other_admin = app.member_token(&other, "admin").await;
    let path = format!("/api/v1/organizations/{co}/webhooks");
    let good =
        json!({"url": "https://hooks.example.com/liaison", "event_types": ["need.published"]});

    app.anonymous().post(&path, &good).await.expect(401);
    app.as_(&staff).post(&path, &good).await.expect(403);
    app.as_(&other_admin).post(&path, &good).await.expect(403);
    app.as_(&staff).get(&path).await.expect(403);
    for (url, code) in [
        ("http://127.0.0.1:9/hook", "not_allowed"),
        ("http://localhost:8080/hook", "not_allowed"),
        ("http://10.0.0.5/hook", "not_allowed"),
        ("http://169.254.169.254/latest/meta-data", "not_allowed"),
        ("http://[::1]/hook", "not_allowed"),
        ("http://[::ffff:192.168.0.1]/hook", "not_allowed"),
        ("ftp://hooks.example.com/", "invalid_url"),
        ("https://user:pw@hooks.example.com/", "invalid_url"),
        ("not a url", "invalid_url"),
    ] {
        let res = app
            .as_(&admin)
            .post(
                &path,
                &json!({"url": url, "event_types": ["need.published"]}),
            )
            .await;
        assert_eq!(res.status.as_u16(), 422, "{url}: {}", res.text());
        let p = res.assert_problem();
        assert_eq!(p["errors"][0]["field"], "url", "{url}");
        assert_eq!(p["errors"][0]["code"], code, "{url}");
    }
    for body in [
        json!({"url": "https://hooks.example.com/", "event_types": []}),
        json!({"url": "https://hooks.example.com/", "event_types": ["alert.matched"]}),
        json!({"url": "https://hooks.example.com/", "event_types": ["need.exploded"]}),
        json!({"url": "https://hooks.example.com/", "event_types": ["need.published"], "secret": "hunter2"}),
    ] {
        let res = app.as_(&admin).post(&path, &body).await;
        assert_eq!(res.status.as_u16(), 422, "{body}: {}", res.text());
        res.assert_problem();
    }
    assert_eq!(app.as_(&admin).get(&path).await.json()["items"], json!([]));

    let res = app
        .as_(&admin)
        .post(
            &path,
            &json!({"url": "https://hooks.example.com/liaison", "event_types": ["need.published"],
                    "secret": "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"}),
        )
        .await;
    res.expect(201);
    let hook = res.json();
    assert_eq!(hook["secret"], "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD");
    let id = hook["id"].as_str().unwrap();
    let one = format!("/api/v1/webhooks/{id}");
    app.as_(&other_admin).get(&one).await.expect(404);
    app.as_(&staff).get(&one).await.expect(404);
    app.as_(&admin)
        .patch(&one, &json!({"enabled": false}))
        .await
        .expect(428);
    let res = app
        .as_(&admin)
        .if_match("*")
        .patch(&one, &json!({"url": "http://127.0.0.1/x"}))
        .await;
    res.expect(422);
    let res = app
        .as_(&admin)
        .if_match("\"1\"")
        .patch(
            &one,
            &json!({"event_types": ["need.published", "need.closed"]}),
        )
        .await;
    res.expect(200);
    assert_eq!(res.header("etag").as_deref(), Some("\"2\""));
    assert_eq!(
        res.json()["event_types"],
        json!(["need.closed", "need.published"])
    );
    app.as_(&admin)
        .if_match("\"1\"")
        .patch(&one, &json!({"enabled": false}))
        .await
        .expect(412);
    // The audit log keeps the endpoint's history for its admins, never its secret.
    let audit = app
        .as_(&admin)
        .get(&format!(
            "/api/v1/audit?entity=webhook_endpoint&entity_id={id}"
        ))
        .await;
    audit.expect(200);
    assert_eq!(audit.json()["items"].as_array().unwrap().len(), 2);
    assert!(!audit.text().contains("whsec_"), "{}", audit.text());
    app.as_(&other_admin).delete(&one).await.expect(404);
    app.as_(&admin).delete(&one).await.expect(204);
    app.as_(&admin).get(&one).await.expect(404);
    app.as_(&admin)
        .get(&format!("{one}/deliveries"))
        .await
        .expect(404);
}

#[actix_web::test]
async fn a_delivery_whose_record_turned_confidential_is_not_retried() {
    let app = app_for_receivers(vec![2]).await;
    let co = app.org_id("company", "Samsung Electronics", "KR").await;
    let rival = app.org_id("company", "SK hynix", "KR").await;
    let admin = app.member_token(&co, "admin").await;
    let rival_admin = app.member_token(&rival, "admin").await;
    let theirs = Receiver::start();
    theirs.answer(&[503]);
    let hook = endpoint(&app, &rival_admin, &rival, &theirs.url, &["need.published"]).await;
    let n = need(&app, &admin, &co, "Public for now", "public").await;
    theirs.wait_for("the first attempt", |r| r.len() == 1);
    // Before the retry, the company makes the need confidential.
    app.as_(&admin)
        .if_match("*")
        .patch(
            &format!("/api/v1/needs/{n}"),
            &json!({"visibility": "confidential"}),
        )
        .await
        .expect(200);
    let id = hook["id"].as_str().unwrap();
    let log = common::wait_for_json(
        &app,
        &rival_admin,
        &format!("/api/v1/webhooks/{id}/deliveries"),
        |v| v["items"][0]["state"] == "failed",
    )
    .await;
    let d = &log["items"][0];
    assert_eq!(d["attempts"], 2);
    assert!(
        d["attempt_log"][1]["error"]
            .as_str()
            .unwrap()
            .contains("may no longer read")
    );
    assert_eq!(theirs.received().len(), 1, "the retry was not sent");
    let now = app
        .as_(&rival_admin)
        .get(&format!("/api/v1/webhooks/{id}"))
        .await
        .json();
    assert_eq!(now["enabled"], true, "not the endpoint's fault");
}

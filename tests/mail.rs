//! E-mail through a local SMTP server: an immediate mail in the recipient's language with an
//! unsubscribe link that works, a confidential need's title kept out of a mail to someone who
//! may not read it, daily digests that gather what came and wait a day, and no e-mail
//! delivery where no SMTP server is configured.

mod common;

use common::TestApp;
use common::smtp::{Mail, SmtpSink};
use serde_json::{Value, json};

async fn app_with_mail(sink: &SmtpSink) -> TestApp {
    let url = sink.url.clone();
    TestApp::spawn_with(move |s| {
        s.smtp_url = Some(liaison::config::Secret(url));
        s.public_base_url = "http://liaison.test".to_owned();
        s.due_scan_interval_secs = 1;
    })
    .await
}

async fn email_of(app: &TestApp, token: &str) -> String {
    app.as_(token).get("/api/v1/me").await.json()["user"]["email"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn settings(app: &TestApp, token: &str, body: Value) -> Value {
    let res = app
        .as_(token)
        .put("/api/v1/notification-settings", &body)
        .await;
    res.expect(200);
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

async fn invite(app: &TestApp, token: &str, need: &str, profile: &str) {
    app.as_(token)
        .post(
            "/api/v1/engagements",
            &json!({"need_id": need, "faculty_id": profile, "state": "invited"}),
        )
        .await
        .expect(201);
}

fn to<'a>(mails: &'a [Mail], address: &str) -> Vec<&'a Mail> {
    mails
        .iter()
        .filter(|m| m.recipients.iter().any(|r| r == address))
        .collect()
}

#[actix_web::test]
async fn an_immediate_mail_in_the_recipients_language_that_can_be_stopped() {
    let sink = SmtpSink::start();
    let app = app_with_mail(&sink).await;
    let uni = app.org_id("university", "KAIST", "KR").await;
    let co = app.org_id("company", "Samsung Electronics", "KR").await;
    let staff = app.member_token(&co, "staff").await;
    let office = app.member_token(&uni, "staff").await;
    let (prof, profile) = app.professor(&uni, json!({"name": "Kim Min-jun"})).await;
    let now = settings(
        &app,
        &prof,
        json!({"deliveries": {"invitation.received": "immediate"}, "language": "ko"}),
    )
    .await;
    assert_eq!(now["language"], "ko");
    assert_eq!(now["deliveries"]["invitation.received"], "immediate");
    settings(
        &app,
        &office,
        json!({"deliveries": {"invitation.received": "immediate"}}),
    )
    .await;
    let (prof_mail, office_mail) = (email_of(&app, &prof).await, email_of(&app, &office).await);

    let secret = need(
        &app,
        &staff,
        &co,
        "HBM 열관리 공동연구 (기밀)",
        "confidential",
    )
    .await;
    invite(&app, &staff, &secret, &profile).await;
    let mails = sink.wait_for("both mails", |m| {
        !to(m, &prof_mail).is_empty() && !to(m, &office_mail).is_empty()
    });
    let mail = to(&mails, &prof_mail)[0];
    assert!(
        mail.text().contains("“HBM 열관리 공동연구 (기밀)” 초대"),
        "{}",
        mail.text()
    );
    assert!(mail.text().contains("이메일 수신 거부"), "{}", mail.text());
    assert!(
        mail.data.contains("Content-Type: text/plain")
            && mail.data.contains("Content-Type: text/html")
    );
    assert!(
        mail.text()
            .contains("<li>“HBM 열관리 공동연구 (기밀)” 초대</li>"),
        "{}",
        mail.text()
    );
    let link = mail.header("List-Unsubscribe").unwrap();
    assert!(
        link.starts_with("<http://liaison.test/api/v1/unsubscribe/"),
        "{link}"
    );
    assert_eq!(
        mail.header("List-Unsubscribe-Post").as_deref(),
        Some("List-Unsubscribe=One-Click")
    );
    // The office follows the engagement but may not read the need: its mail names no title.
    let office_copy = to(&mails, &office_mail)[0];
    assert!(
        office_copy.text().contains("Invitation to “a need”"),
        "{}",
        office_copy.text()
    );
    assert!(
        !office_copy.text().contains("HBM"),
        "{}",
        office_copy.text()
    );

    // The link: a page asking to confirm (following it changes nothing), then the POST.
    let path = link
        .trim_matches(['<', '>'])
        .strip_prefix("http://liaison.test")
        .unwrap()
        .to_owned();
    let page = app.anonymous().get(&path).await;
    page.expect(200);
    assert!(page.text().contains("method=\"post\""), "{}", page.text());
    let unchanged = app
        .as_(&prof)
        .get("/api/v1/notification-settings")
        .await
        .json();
    assert_eq!(unchanged["deliveries"]["invitation.received"], "immediate");
    app.anonymous().post(&path, &json!({})).await.expect(200);
    let after = app
        .as_(&prof)
        .get("/api/v1/notification-settings")
        .await
        .json();
    assert_eq!(after["deliveries"]["invitation.received"], "in_app");
    assert_eq!(after["language"], "ko");
    app.anonymous()
        .post("/api/v1/unsubscribe/not-a-token", &json!({}))
        .await
        .expect(404);

    // What comes next stays in the app.
    let next = need(&app, &staff, &co, "Second call", "public").await;
    invite(&app, &staff, &next, &profile).await;
    common::wait_for_json(&app, &prof, "/api/v1/notifications", |v| {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["type"] == "invitation.received")
            .count()
            == 2
    })
    .await;
    std::thread::sleep(std::time::Duration::from_secs(1));
    assert_eq!(to(&sink.mails(), &prof_mail).len(), 1);
}

#[actix_web::test]
async fn a_daily_digest_gathers_what_came_and_waits_a_day() {
    let sink = SmtpSink::start();
    let app = app_with_mail(&sink).await;
    let co = app.org_id("company", "TSMC", "TW").await;
    let staff = app.member_token(&co, "staff").await;
    let colleague = app.member_token(&co, "staff").await;
    settings(
        &app,
        &colleague,
        json!({"deliveries": {}, "language": "zh-Hant"}),
    )
    .await;
    let address = email_of(&app, &colleague).await;
    need(&app, &staff, &co, "先進封裝熱管理", "public").await;
    need(&app, &staff, &co, "CoWoS yield analytics", "public").await;
    common::wait_for_json(&app, &colleague, "/api/v1/notifications", |v| {
        v["items"].as_array().unwrap().len() == 2
    })
    .await;
    // A digest reports what was not mailed yet, whenever it came.
    settings(
        &app,
        &colleague,
        json!({"deliveries": {"need.published": "daily"}}),
    )
    .await;
    let mails = sink.wait_for("the digest", |m| !to(m, &address).is_empty());
    let digests = to(&mails, &address);
    assert_eq!(digests.len(), 1, "{digests:#?}");
    let digest = digests[0];
    assert!(
        digest.text().contains("新需求：先進封裝熱管理"),
        "{}",
        digest.text()
    );
    assert!(digest.text().contains("新需求：CoWoS yield analytics"));
    assert!(digest.text().contains("取消訂閱電子郵件"));

    // Within the day, a new need waits for the next digest.
    need(&app, &staff, &co, "Chiplet interconnect", "public").await;
    common::wait_for_json(&app, &colleague, "/api/v1/notifications", |v| {
        v["items"].as_array().unwrap().len() == 3
    })
    .await;
    std::thread::sleep(std::time::Duration::from_millis(2500));
    assert_eq!(to(&sink.mails(), &address).len(), 1);
    // A day later (moved back in the database), it comes alone.
    app.db
        .execute("UPDATE mail_preferences SET daily_sent_at = '2000-01-01 00:00:00'");
    let mails = sink.wait_for("the second digest", |m| to(m, &address).len() == 2);
    let second = to(&mails, &address)[1];
    assert!(
        second.text().contains("新需求：Chiplet interconnect"),
        "{}",
        second.text()
    );
    assert!(!second.text().contains("CoWoS"), "{}", second.text());
}

#[actix_web::test]
async fn e_mail_deliveries_need_an_smtp_server() {
    let app = TestApp::spawn().await;
    let co = app.org_id("company", "MediaTek", "TW").await;
    let staff = app.member_token(&co, "staff").await;
    let res = app
        .as_(&staff)
        .put(
            "/api/v1/notification-settings",
            &json!({"deliveries": {"need.published": "daily", "need.closed": "none"}}),
        )
        .await;
    res.expect(422);
    let p = res.assert_problem();
    assert_eq!(p["errors"][0]["field"], "deliveries.need.published");
    let now = settings(
        &app,
        &staff,
        json!({"deliveries": {"need.closed": "none"}, "language": "ko"}),
    )
    .await;
    assert_eq!(now["deliveries"]["need.closed"], "none");
    assert_eq!(now["language"], "ko");
    let res = app
        .as_(&staff)
        .put(
            "/api/v1/notification-settings",
            &json!({"deliveries": {}, "language": "fr"}),
        )
        .await;
    res.expect(422);
}

//! Liaison-office reports through the API: figures computed from real activity, JSON and CSV
//! (RFC 4180, UTF-8 with a byte-order mark), and who may read them.

mod common;

use actix_web::http::Method;
use common::TestApp;
use serde_json::{Value, json};

async fn org(app: &TestApp, kind: &str, name: &str) -> String {
    app.create_org(kind, name, "TW").await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn me(app: &TestApp, token: &str) -> String {
    app.call(Method::GET, "/api/v1/me", Some(token), &[], None)
        .await
        .json()["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn post(app: &TestApp, token: &str, path: &str, body: Value) -> common::Response {
    app.call(Method::POST, path, Some(token), &[], Some(&body))
        .await
}

#[actix_web::test]
async fn the_funnel_counts_engagements_and_times_answers() {
    let app = TestApp::spawn().await;
    let nycu = org(&app, "university", "國立陽明交通大學").await;
    let other_uni = org(&app, "university", "Other").await;
    let tsmc = org(&app, "company", "TSMC").await;
    let office = app.member_token(&nycu, "staff").await;
    let staff = app.member_token(&tsmc, "staff").await;
    let prof = app.member_token(&nycu, "faculty").await;
    let owner = me(&app, &prof).await;
    let mine = app
        .post(
            "/api/v1/faculty",
            &json!({"university_id": nycu, "name": "Chen", "owner_user_id": owner}),
        )
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let plain = app
        .post(
            "/api/v1/faculty",
            &json!({"university_id": nycu, "name": "Lin"}),
        )
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let elsewhere = app
        .post(
            "/api/v1/faculty",
            &json!({"university_id": other_uni, "name": "Kim"}),
        )
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let need = |title: &'static str| {
        let (app, tsmc) = (&app, tsmc.clone());
        async move {
            app.post(
                "/api/v1/needs",
                &json!({"company_id": tsmc, "title": title, "status": "open", "visibility": "public"}),
            )
            .await
            .json()["id"]
            .as_str()
            .unwrap()
            .to_owned()
        }
    };
    let (a, b) = (need("Lithography").await, need("Packaging").await);
    // Invited, then the professor answers: interested.
    let res = post(
        &app,
        &staff,
        "/api/v1/engagements",
        json!({"need_id": a, "faculty_id": mine, "state": "invited"}),
    )
    .await;
    res.expect(201);
    let e = res.json()["id"].as_str().unwrap().to_owned();
    let etag = res.header("etag").unwrap();
    app.call(
        Method::POST,
        &format!("/api/v1/engagements/{e}/transitions"),
        Some(&prof),
        &[("if-match", etag.as_str())],
        Some(&json!({"to": "interested"})),
    )
    .await
    .expect(200);
    // Shortlisted only; and one at another university (not counted).
    post(
        &app,
        &staff,
        "/api/v1/engagements",
        json!({"need_id": b, "faculty_id": plain, "state": "shortlisted"}),
    )
    .await
    .expect(201);
    post(
        &app,
        &staff,
        "/api/v1/engagements",
        json!({"need_id": a, "faculty_id": elsewhere, "state": "shortlisted"}),
    )
    .await
    .expect(201);

    let path = format!("/api/v1/reports/funnel?university_id={nycu}");
    let res = app.call(Method::GET, &path, Some(&office), &[], None).await;
    res.expect(200);
    let r = res.json();
    assert_eq!(r["needs"], 2, "{r}");
    assert_eq!(r["engagements"], 2);
    assert_eq!(r["engagements_by_state"]["interested"], 1);
    assert_eq!(r["engagements_by_state"]["shortlisted"], 1);
    assert_eq!(r["engagements_by_state"]["agreed"], 0);
    assert_eq!(r["invited"], 1);
    assert_eq!(r["responded"], 1);
    let hours = r["median_hours_to_first_response"].as_f64().unwrap();
    assert!((0.0..0.1).contains(&hours), "{hours}");

    // CSV, by parameter or by Accept header: BOM, CRLF, one row per stage.
    for res in [
        app.call(
            Method::GET,
            &format!("{path}&format=csv"),
            Some(&office),
            &[],
            None,
        )
        .await,
        app.call(
            Method::GET,
            &path,
            Some(&office),
            &[("accept", "text/csv")],
            None,
        )
        .await,
    ] {
        res.expect(200);
        assert!(res.header("content-type").unwrap().starts_with("text/csv"));
        assert!(
            res.header("content-disposition")
                .unwrap()
                .contains("funnel.csv")
        );
        let text = res.text();
        assert!(text.starts_with('\u{feff}'), "{text:?}");
        assert!(text.contains("stage,count\r\n"));
        assert!(text.contains("engagements_interested,1\r\n"));
        assert!(text.contains("needs,2\r\n"));
    }

    // A period that excludes everything.
    let res = app
        .call(
            Method::GET,
            &format!("{path}&from=2000-01-01&to=2000-02-01"),
            Some(&office),
            &[],
            None,
        )
        .await;
    assert_eq!(res.json()["engagements"], 0);

    // Who may read it: the office and operators; not the company, not the professor, not
    // another university's office, not anonymous callers.
    app.call(
        Method::GET,
        &path,
        Some(&app.operator_token.clone()),
        &[],
        None,
    )
    .await
    .expect(200);
    app.call(Method::GET, &path, Some(&staff), &[], None)
        .await
        .expect(403);
    app.call(Method::GET, &path, Some(&prof), &[], None)
        .await
        .expect(403);
    let other_office = app.member_token(&other_uni, "admin").await;
    app.call(Method::GET, &path, Some(&other_office), &[], None)
        .await
        .expect(403);
    app.call(Method::GET, &path, None, &[], None)
        .await
        .expect(401);
}

#[actix_web::test]
async fn bad_report_parameters_are_problems() {
    let app = TestApp::spawn().await;
    let nycu = org(&app, "university", "NYCU").await;
    let tsmc = org(&app, "company", "TSMC").await;
    for q in [
        "".to_owned(),
        "university_id=nope".to_owned(),
        format!("university_id={nycu}&from=2026-02-01&to=2026-01-01"),
        format!("university_id={nycu}&from=yesterday"),
        format!("university_id={nycu}&format=xlsx"),
        format!("university_id={nycu}&colour=red"),
    ] {
        let res = app.get(&format!("/api/v1/reports/funnel?{q}")).await;
        res.expect(400);
        res.assert_problem();
    }
    // A company or an unknown id is not a university.
    for id in [tsmc, "0190c2a4-0000-7000-8000-000000000000".to_owned()] {
        let res = app
            .call(
                Method::GET,
                &format!("/api/v1/reports/funnel?university_id={id}"),
                Some(&app.operator_token.clone()),
                &[],
                None,
            )
            .await;
        res.expect(404);
    }
}

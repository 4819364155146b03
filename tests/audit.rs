//! The audit log through the API: engagements and memberships leave entries with who, when,
//! before and after; only the organizations' admins and staff (and operators) read them; no
//! route edits or deletes them, and the database refuses it too.

mod common;

use actix_web::http::Method;
use common::TestApp;
use serde_json::{Value, json};

async fn audit(app: &TestApp, token: Option<&str>, query: &str) -> (u16, Value) {
    let res = app
        .caller(token)
        .get(&format!("/api/v1/audit?{query}"))
        .await;
    (res.status.as_u16(), res.json())
}

fn entries(v: &Value) -> Vec<Value> {
    v["items"].as_array().unwrap().clone()
}

#[actix_web::test]
async fn changes_are_recorded_and_read_only_by_those_concerned() {
    let app = TestApp::spawn().await;
    let tsmc = app.org_id("company", "TSMC", "TW").await;
    let nycu = app.org_id("university", "NYCU", "TW").await;
    let elsewhere = app.org_id("company", "Elsewhere", "TW").await;
    let staff = app.member_token(&tsmc, "staff").await;
    let office = app.member_token(&nycu, "staff").await;
    let prof = app.member_token(&nycu, "faculty").await;
    let outsider = app.member_token(&elsewhere, "admin").await;
    let profile = app
        .operator()
        .post(
            "/api/v1/faculty",
            &json!({"university_id": nycu, "name": "Chen", "keywords": ["photonics"]}),
        )
        .await
        .id();
    let need = app
        .operator().post("/api/v1/needs", &json!({"company_id": tsmc, "title": "Photonics", "status": "open", "visibility": "public"}))
        .await
        .id();

    // An engagement created and moved by the company's staff.
    let res = app
        .as_(&staff)
        .post(
            "/api/v1/engagements",
            &json!({"need_id": need, "faculty_id": profile, "state": "shortlisted"}),
        )
        .await;
    res.expect(201);
    let engagement = res.id();
    let etag = res.header("etag").unwrap();
    app.as_(&staff)
        .if_match(etag.as_str())
        .post(
            &format!("/api/v1/engagements/{engagement}/transitions"),
            &json!({"to": "closed", "reason_text": "budget moved"}),
        )
        .await
        .expect(200);
    let me = app.as_(&staff).get("/api/v1/me").await.json()["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let (status, list) = audit(
        &app,
        Some(&staff),
        &format!("entity=engagement&entity_id={engagement}"),
    )
    .await;
    assert_eq!(status, 200, "{list}");
    let e = entries(&list);
    assert_eq!(e.len(), 2, "{list}");
    assert_eq!(e[0]["action"], "create");
    assert_eq!(e[0]["actor_user_id"], me.as_str());
    assert!(e[0].get("before").is_none());
    assert_eq!(e[0]["after"]["state"], "shortlisted");
    assert_eq!(e[1]["action"], "update");
    assert_eq!(e[1]["before"]["state"], "shortlisted");
    assert_eq!(e[1]["after"]["state"], "closed");
    assert_eq!(e[1]["after"]["reason_text"], "budget moved");
    assert!(
        e[1]["changed"]
            .as_array()
            .unwrap()
            .contains(&json!("state"))
    );
    let mut orgs: Vec<String> = serde_json::from_value(e[1]["organization_ids"].clone()).unwrap();
    orgs.sort();
    let mut expected = vec![tsmc.clone(), nycu.clone()];
    expected.sort();
    assert_eq!(orgs, expected);
    assert!(e[0]["at"].as_str().unwrap() <= e[1]["at"].as_str().unwrap());

    // The university's office does not see a shortlist that never reached the professor
    // (nor `GET /engagements` shows it to them); it sees its memberships (its own members).
    let (status, list) = audit(&app, Some(&office), "entity=engagement").await;
    assert_eq!(status, 200);
    assert_eq!(entries(&list).len(), 0, "{list}");
    let (_, list) = audit(
        &app,
        Some(&office),
        &format!("entity=membership&organization_id={nycu}"),
    )
    .await;
    let created: Vec<&Value> = entries(&list)
        .iter()
        .filter(|e| e["action"] == "create")
        .map(|_| &Value::Null)
        .collect();
    assert_eq!(created.len(), 2, "office and professor memberships: {list}");
    for e in entries(&list) {
        assert_eq!(e["organization_ids"], json!([nycu]));
    }

    // Others: an admin elsewhere sees none of it and may not ask for these organizations;
    // a professor (not office) and anonymous callers may not read the log at all.
    let (status, list) = audit(&app, Some(&outsider), "entity=engagement").await;
    assert_eq!(status, 200);
    assert_eq!(entries(&list).len(), 0);
    assert_eq!(
        audit(&app, Some(&outsider), &format!("organization_id={tsmc}"))
            .await
            .0,
        403
    );
    assert_eq!(audit(&app, Some(&prof), "").await.0, 403);
    assert_eq!(audit(&app, None, "").await.0, 401);
    // Operators see everything.
    let (status, list) = audit(&app, Some(&app.operator_token.clone()), "entity=engagement").await;
    assert_eq!(status, 200);
    assert_eq!(entries(&list).len(), 2);

    // Filters and pages.
    let (_, list) = audit(&app, Some(&staff), "action=update").await;
    assert!(entries(&list).iter().all(|e| e["action"] == "update"));
    let (_, first) = audit(&app, None.or(Some(&staff)), "limit=1").await;
    assert_eq!(entries(&first).len(), 1);
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let (_, second) = audit(&app, Some(&staff), &format!("limit=1&cursor={cursor}")).await;
    assert_ne!(entries(&second)[0]["id"], entries(&first)[0]["id"]);
    for bad in [
        "entity=planet",
        "action=erase",
        "since=yesterday",
        "entity_id=nope",
        "colour=red",
        "limit=0",
    ] {
        let (status, v) = audit(&app, Some(&staff), bad).await;
        assert_eq!(status, 400, "{bad}: {v}");
    }
}

#[actix_web::test]
async fn membership_changes_are_recorded_with_before_and_after() {
    let app = TestApp::spawn().await;
    let nycu = app.org_id("university", "NYCU", "TW").await;
    let admin = app.member_token(&nycu, "admin").await;
    // The admin invites; the account joins by accepting.
    let res = app
        .as_(&admin)
        .post(
            &format!("/api/v1/organizations/{nycu}/invitations"),
            &json!({"email": "new@example.org", "role": "staff"}),
        )
        .await;
    res.expect(201);
    let invitation = res.id();
    let user = app
        .create_user("new@example.org", common::PASSWORD, false)
        .await;
    let token = app.login("new@example.org", common::PASSWORD).await;
    app.as_(&token)
        .request(
            Method::POST,
            &format!("/api/v1/me/invitations/{invitation}/accept"),
            None,
        )
        .await
        .expect(200);
    let path = format!("/api/v1/organizations/{nycu}/members/{user}");
    let res = app.as_(&admin).get(&path).await;
    res.expect(200);
    let etag = res.header("etag").unwrap();
    let res = app
        .as_(&admin)
        .if_match(etag.as_str())
        .patch(&path, &json!({"role": "admin"}))
        .await;
    res.expect(200);
    let etag = res.header("etag").unwrap();
    app.as_(&admin)
        .if_match(etag.as_str())
        .delete(&path)
        .await
        .expect(204);
    let (_, list) = audit(
        &app,
        Some(&admin),
        &format!("entity=membership&organization_id={nycu}"),
    )
    .await;
    let mine: Vec<Value> = entries(&list)
        .into_iter()
        .filter(|e| {
            e["before"]["user_id"] == user.as_str() || e["after"]["user_id"] == user.as_str()
        })
        .collect();
    let actions: Vec<&str> = mine.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["create", "update", "delete"], "{list}");
    assert_eq!(mine[0]["after"]["role"], "staff");
    assert_eq!(mine[1]["before"]["role"], "staff");
    assert_eq!(mine[1]["after"]["role"], "admin");
    assert!(
        mine[1]["changed"]
            .as_array()
            .unwrap()
            .contains(&json!("role"))
    );
    assert_eq!(mine[2]["before"]["role"], "admin");
    assert!(mine[2].get("after").is_none());
    // Joining is the member's own act; the invitation's life is recorded too.
    assert_eq!(mine[0]["actor_user_id"], user.as_str());
    let (_, list) = audit(
        &app,
        Some(&admin),
        &format!("entity=invitation&entity_id={invitation}"),
    )
    .await;
    let found = entries(&list);
    let steps: Vec<(&str, &str)> = found
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["after"]["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(steps, [("create", "pending"), ("update", "accepted")]);
    // Invited addresses are the admins' to see, as the invitation list is: not the staff's.
    let staff = app.member_token(&nycu, "staff").await;
    let (_, list) = audit(&app, Some(&staff), "entity=invitation").await;
    assert!(entries(&list).is_empty(), "{list}");
}

#[actix_web::test]
async fn entries_cannot_be_changed_through_the_api_or_the_database() {
    let app = TestApp::spawn().await;
    let db = &app.db;
    let nycu = app.org_id("university", "NYCU", "TW").await;
    app.member_token(&nycu, "staff").await;
    let (_, list) = audit(&app, Some(&app.operator_token.clone()), "").await;
    let id = entries(&list)[0]["id"].as_str().unwrap().to_owned();
    for (method, path) in [
        (Method::DELETE, format!("/api/v1/audit/{id}")),
        (Method::PATCH, format!("/api/v1/audit/{id}")),
        (Method::PUT, format!("/api/v1/audit/{id}")),
        (Method::DELETE, "/api/v1/audit".to_owned()),
        (Method::POST, "/api/v1/audit".to_owned()),
    ] {
        let res = app
            .operator()
            .request(method.clone(), &path, Some(&json!({})))
            .await;
        let status = res.status.as_u16();
        assert!(status == 404 || status == 405, "{method} {path}: {status}");
    }
    // Even bypassing the service, the database refuses.
    assert!(
        db.try_execute(&format!(
            "UPDATE audit_log SET action = 'create' WHERE id = '{id}'"
        ))
        .is_err()
    );
    assert!(
        db.try_execute(&format!("DELETE FROM audit_log WHERE id = '{id}'"))
            .is_err()
    );
    let (_, after) = audit(&app, Some(&app.operator_token.clone()), "").await;
    assert_eq!(entries(&after).len(), entries(&list).len());
}

#[actix_web::test]
async fn centres_projects_and_payments_are_audited_for_host_and_partners() {
    let app = TestApp::spawn().await;
    let uni = app.org_id("university", "KAIST", "TW").await;
    let co = app.org_id("company", "SK hynix", "TW").await;
    let outsider_co = app.org_id("company", "Elsewhere", "TW").await;
    let office = app.member_token(&uni, "staff").await;
    let partner = app.member_token(&co, "staff").await;
    let outsider = app.member_token(&outsider_co, "admin").await;
    let res = app
        .as_(&office).post("/api/v1/centers", &json!({"host_university_id": uni, "name": "Memory Center", "status": "active",
                "partners": [{"company_id": co, "role": "founding_sponsor"}], "visibility": "participants"}))
        .await;
    res.expect(201);
    let centre = res.id();
    let etag = res.header("etag").unwrap();
    app.as_(&office)
        .if_match(etag.as_str())
        .patch(
            &format!("/api/v1/centers/{centre}"),
            &json!({"name": "HBM Memory Center"}),
        )
        .await
        .expect(200);
    let res = app
        .as_(&office).post("/api/v1/funded-projects", &json!({"title": "HBM thermal", "type": "sponsored_research", "sponsor_id": co,
                "university_id": uni, "amount_minor": 300_000_000i64, "currency": "KRW",
                "start_date": "2027-01-01", "end_date": "2028-12-31", "visibility": "participants"}))
        .await;
    res.expect(201);
    let project = res.id();
    let res = app
        .as_(&office)
        .post(
            &format!("/api/v1/funded-projects/{project}/payments"),
            &json!({"due_date": "2027-03-31", "amount_minor": 100_000_000i64, "currency": "KRW"}),
        )
        .await;
    res.expect(201);
    let payment = res.id();
    let etag = res.header("etag").unwrap();
    app.as_(&office)
        .if_match(etag.as_str())
        .delete(&format!(
            "/api/v1/funded-projects/{project}/payments/{payment}"
        ))
        .await
        .expect(204);

    // The partner company's staff see the centre's, project's and payment's entries.
    for (entity, id, actions) in [
        ("center", &centre, vec!["create", "update"]),
        ("funded_project", &project, vec!["create"]),
        ("payment", &payment, vec!["create", "delete"]),
    ] {
        let (status, list) = audit(
            &app,
            Some(&partner),
            &format!("entity={entity}&entity_id={id}"),
        )
        .await;
        assert_eq!(status, 200);
        let got: Vec<String> = entries(&list)
            .iter()
            .map(|e| e["action"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(got, actions, "{entity}: {list}");
    }
    let (_, list) = audit(
        &app,
        Some(&office),
        &format!("entity=center&entity_id={centre}"),
    )
    .await;
    let update = &entries(&list)[1];
    assert_eq!(update["before"]["name"], "Memory Center");
    assert_eq!(update["after"]["name"], "HBM Memory Center");
    assert!(
        update["changed"]
            .as_array()
            .unwrap()
            .contains(&json!("name"))
    );
    let (_, list) = audit(
        &app,
        Some(&office),
        &format!("entity=payment&entity_id={payment}"),
    )
    .await;
    assert_eq!(entries(&list)[1]["before"]["amount_minor"], 100_000_000i64);
    // An unrelated company sees none of it: only the entries of its own organization.
    let (_, list) = audit(&app, Some(&outsider), "").await;
    assert!(
        entries(&list)
            .iter()
            .all(|e| e["organization_ids"] == json!([outsider_co])),
        "{list}"
    );
}

#[actix_web::test]
async fn needs_are_audited_for_their_company_only() {
    let app = TestApp::spawn().await;
    let tsmc = app.org_id("company", "TSMC", "TW").await;
    let rival = app.org_id("company", "Rival", "TW").await;
    let staff = app.member_token(&tsmc, "staff").await;
    let staff_id = app.as_(&staff).get("/api/v1/me").await.json()["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let outsider = app.member_token(&rival, "staff").await;
    let write = |method: Method, path: String, body: Option<Value>| {
        let (app, staff) = (&app, &staff);
        async move {
            let res = app
                .as_(staff)
                .if_match("*")
                .request(method, &path, body.as_ref())
                .await;
            assert!(res.status.is_success(), "{path}: {}", res.text());
            res
        }
    };
    let created = write(
        Method::POST,
        "/api/v1/needs".into(),
        Some(
            json!({"company_id": tsmc, "title": "EUV overlay", "status": "draft",
                    "visibility": "confidential", "keywords": ["overlay"]}),
        ),
    )
    .await
    .json();
    let id = created["id"].as_str().unwrap().to_owned();
    write(
        Method::PATCH,
        format!("/api/v1/needs/{id}"),
        Some(json!({"title": "EUV overlay metrology"})),
    )
    .await;
    write(Method::DELETE, format!("/api/v1/needs/{id}"), None).await;
    app.operator()
        .request(Method::POST, &format!("/api/v1/needs/{id}/restore"), None)
        .await
        .expect(200);

    let (status, list) = audit(&app, Some(&staff), &format!("entity=need&entity_id={id}")).await;
    assert_eq!(status, 200);
    let log = entries(&list);
    let actions: Vec<&str> = log.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["create", "update", "delete", "restore"]);
    assert_eq!(log[0]["actor_user_id"], json!(staff_id));
    assert_eq!(log[0]["before"], Value::Null);
    assert_eq!(log[0]["after"]["title"], "EUV overlay");
    assert_eq!(log[1]["before"]["title"], "EUV overlay");
    assert_eq!(log[1]["after"]["title"], "EUV overlay metrology");
    assert_eq!(log[2]["after"], Value::Null);
    assert_eq!(log[3]["before"], Value::Null);
    assert_eq!(log[3]["after"]["id"], json!(id));
    // A confidential need's history is its company's: another company sees none of it.
    let (status, list) = audit(&app, Some(&outsider), "entity=need").await;
    assert_eq!(status, 200);
    assert!(entries(&list).is_empty(), "{list}");
}

#[actix_web::test]
async fn organizations_are_audited_for_themselves() {
    let app = TestApp::spawn().await;
    let ntu = app.org_id("university", "NTU", "TW").await;
    let other = app.org_id("university", "Other", "TW").await;
    let admin = app.member_token(&ntu, "admin").await;
    let outsider = app.member_token(&other, "admin").await;
    app.as_(&admin)
        .if_match("*")
        .patch(
            &format!("/api/v1/organizations/{ntu}"),
            &json!({"local_name": "國立臺灣大學"}),
        )
        .await
        .expect(200);
    let (status, list) = audit(
        &app,
        Some(&admin),
        &format!("entity=organization&entity_id={ntu}"),
    )
    .await;
    assert_eq!(status, 200);
    let log = entries(&list);
    let actions: Vec<&str> = log.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["create", "update"]);
    assert_eq!(log[1]["before"]["local_name"], Value::Null);
    assert_eq!(log[1]["after"]["local_name"], "國立臺灣大學");
    let (_, list) = audit(
        &app,
        Some(&outsider),
        &format!("entity=organization&entity_id={ntu}"),
    )
    .await;
    assert!(entries(&list).is_empty(), "{list}");

    app.operator()
        .if_match("*")
        .delete(&format!("/api/v1/organizations/{other}"))
        .await
        .expect(204);
    let (_, list) = audit(
        &app,
        Some(&app.operator_token.clone()),
        &format!("entity=organization&entity_id={other}&action=delete"),
    )
    .await;
    let log = entries(&list);
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["before"]["name"], "Other");
}

/// An audit entry is shown only to someone who could see its engagement in the state it
/// recorded, as `GET /engagements` does: a company's shortlist stays out of the professor's
/// university's audit log and funnel, before and after the engagement reaches the
/// professor; the company and operators see every entry.
#[actix_web::test]
async fn a_company_shortlist_stays_out_of_the_university_audit_log_and_funnel() {
    let app = TestApp::spawn().await;
    let tsmc = app.org_id("company", "TSMC", "TW").await;
    let nycu = app.org_id("university", "NYCU", "TW").await;
    let staff = app.member_token(&tsmc, "staff").await;
    let office = app.member_token(&nycu, "staff").await;
    let prof = app.member_token(&nycu, "faculty").await;
    let owner = app.as_(&prof).get("/api/v1/me").await.json()["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let id = |v: Value| v["id"].as_str().unwrap().to_owned();
    let chen = id(app
        .operator()
        .post(
            "/api/v1/faculty",
            &json!({"university_id": nycu, "name": "Chen", "owner_user_id": owner}),
        )
        .await
        .json());
    let lin = id(app
        .operator()
        .post(
            "/api/v1/faculty",
            &json!({"university_id": nycu, "name": "Lin"}),
        )
        .await
        .json());
    let need = id(app
        .operator().post("/api/v1/needs", &json!({"company_id": tsmc, "title": "Photonics", "status": "open", "visibility": "public"}))
        .await
        .json());
    let shortlist = |faculty: String| {
        let (app, staff, need) = (&app, staff.clone(), need.clone());
        async move {
            let res = app
                .as_(&staff)
                .post(
                    "/api/v1/engagements",
                    &json!({"need_id": need, "faculty_id": faculty, "state": "shortlisted"}),
                )
                .await;
            res.expect(201);
            (id(res.json()), res.header("etag").unwrap())
        }
    };
    let transition = |who: String, e: String, etag: String, to: &'static str| {
        let app = &app;
        async move {
            let res = app
                .as_(&who)
                .if_match(etag.as_str())
                .post(
                    &format!("/api/v1/engagements/{e}/transitions"),
                    &json!({"to": to}),
                )
                .await;
            res.expect(200);
            res.header("etag").unwrap()
        }
    };
    let funnel = |token: String| {
        let (app, nycu) = (&app, nycu.clone());
        async move {
            let res = app
                .as_(&token)
                .get(&format!("/api/v1/reports/funnel?university_id={nycu}"))
                .await;
            res.expect(200);
            res.json()
        }
    };
    let states = |v: &Value| -> Vec<(String, String)> {
        entries(v)
            .iter()
            .map(|e| {
                let s = |x: &Value| x["state"].as_str().unwrap_or("-").to_owned();
                (s(&e["before"]), s(&e["after"]))
            })
            .collect()
    };
    let pair = |a: &str, b: &str| (a.to_owned(), b.to_owned());

    // Two private shortlists: one closed unseen, one later invited.
    let (closed, etag) = shortlist(lin.clone()).await;
    transition(staff.clone(), closed.clone(), etag, "closed").await;
    let (invited, etag) = shortlist(chen.clone()).await;
    let (_, list) = audit(&app, Some(&office), "entity=engagement").await;
    assert_eq!(entries(&list).len(), 0, "{list}");
    let (_, list) = audit(&app, Some(&office), &format!("organization_id={nycu}")).await;
    assert!(
        entries(&list).iter().all(|e| e["entity"] != "engagement"),
        "{list}"
    );
    let r = funnel(office.clone()).await;
    assert_eq!(
        (r["needs"].clone(), r["engagements"].clone()),
        (json!(0), json!(0)),
        "{r}"
    );
    assert_eq!(r["engagements_by_state"]["shortlisted"], 0);

    // Invited: the invitation and what follows are the university's to see, the shortlist
    // before it is not (even though the engagement now is).
    let etag = transition(staff.clone(), invited.clone(), etag, "invited").await;
    transition(prof.clone(), invited.clone(), etag, "interested").await;
    let (_, list) = audit(&app, Some(&office), "entity=engagement").await;
    assert_eq!(
        states(&list),
        vec![
            pair("shortlisted", "invited"),
            pair("invited", "interested")
        ],
        "{list}"
    );
    assert!(
        entries(&list)
            .iter()
            .all(|e| e["entity_id"] == invited.as_str())
    );
    // Pages skip what the reader may not see.
    let (_, first) = audit(&app, Some(&office), "entity=engagement&limit=1").await;
    assert_eq!(states(&first), vec![pair("shortlisted", "invited")]);
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let (_, second) = audit(
        &app,
        Some(&office),
        &format!("entity=engagement&limit=1&cursor={cursor}"),
    )
    .await;
    assert_eq!(states(&second), vec![pair("invited", "interested")]);
    assert!(second.get("next_cursor").is_none(), "{second}");
    let r = funnel(office.clone()).await;
    assert_eq!(
        (r["needs"].clone(), r["engagements"].clone()),
        (json!(1), json!(1)),
        "{r}"
    );
    assert_eq!(r["engagements_by_state"]["interested"], 1);
    assert_eq!(r["engagements_by_state"]["closed"], 0);
    assert_eq!(r["invited"], 1);

    // The company and operators see every entry; the operator's funnel counts everything.
    let all = vec![
        pair("-", "shortlisted"),
        pair("shortlisted", "closed"),
        pair("-", "shortlisted"),
        pair("shortlisted", "invited"),
        pair("invited", "interested"),
    ];
    let (_, list) = audit(&app, Some(&staff), "entity=engagement").await;
    assert_eq!(states(&list), all, "{list}");
    let operator = app.operator_token.clone();
    let (_, list) = audit(&app, Some(&operator), "entity=engagement").await;
    assert_eq!(states(&list), all, "{list}");
    let r = funnel(operator).await;
    assert_eq!(r["engagements"], 2, "{r}");
    assert_eq!(r["engagements_by_state"]["closed"], 1);
}

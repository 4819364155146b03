//! Engagements through the API: the workflow with its history, refused moves (409 with the
//! allowed next states, nothing changed), decline reasons, who sees what, and the invitation
//! that an engagement grants and takes away (in `GET /needs/{id}` and in search).

mod common;

use actix_web::http::Method;
use common::TestApp;
use serde_json::{Value, json};

const STATES: [&str; 6] = [
    "shortlisted",
    "invited",
    "interested",
    "declined",
    "agreed",
    "closed",
];

/// A professor at a new university who owns a faculty profile: (token, profile id).
async fn professor(app: &TestApp, name: &str) -> (String, String) {
    let uni = app
        .org_id("university", &format!("{name} University"), "TW")
        .await;
    app.professor(&uni, json!({"name": name, "keywords": ["photonics"]}))
        .await
}

/// A need of `company`, as the operator.
async fn need(app: &TestApp, company: &str, title: &str, status: &str, visibility: &str) -> String {
    let res = app
        .operator()
        .post(
            "/api/v1/needs?refresh=wait_for",
            &json!({"company_id": company, "title": title, "status": status,
                    "visibility": visibility, "keywords": ["photonics"]}),
        )
        .await;
    res.expect(201);
    res.id()
}

async fn engage(app: &TestApp, token: &str, need: &str, profile: &str, state: &str) -> Value {
    let res = app
        .as_(token)
        .post(
            "/api/v1/engagements?refresh=wait_for",
            &json!({"need_id": need, "faculty_id": profile, "state": state}),
        )
        .await;
    res.expect(201);
    assert_eq!(
        res.header("location").unwrap(),
        format!("/api/v1/engagements/{}", res.json()["id"].as_str().unwrap())
    );
    assert_eq!(res.header("etag").as_deref(), Some("\"1\""));
    res.json()
}

/// Moves an engagement with `If-Match: *` and returns the response.
async fn step(app: &TestApp, token: &str, id: &str, body: Value) -> common::Response {
    app.as_(token)
        .if_match("*")
        .post(
            &format!("/api/v1/engagements/{id}/transitions?refresh=wait_for"),
            &body,
        )
        .await
}

async fn read(app: &TestApp, token: Option<&str>, id: &str) -> common::Response {
    app.caller(token)
        .get(&format!("/api/v1/engagements/{id}"))
        .await
}

fn ids(list: &Value) -> Vec<String> {
    common::each(list, "items", |i| i["id"].as_str().unwrap().to_owned())
}

async fn listed(app: &TestApp, token: Option<&str>, query: &str) -> Vec<String> {
    let res = app
        .caller(token)
        .get(&format!("/api/v1/engagements{query}"))
        .await;
    res.expect(200);
    ids(&res.json())
}

/// Whether the caller sees the need, asked both ways: `GET /needs/{id}` and search.
async fn sees_need(app: &TestApp, token: &str, need: &str) -> bool {
    let one = app.as_(token).get(&format!("/api/v1/needs/{need}")).await;
    let found = app
        .as_(token)
        .get("/api/v1/search?type=need&q=photonics")
        .await
        .json();
    let in_search = ids(&found).contains(&need.to_owned());
    assert_eq!(
        one.status.as_u16() == 200,
        in_search,
        "GET and search agree: {found}"
    );
    in_search
}

#[actix_web::test]
async fn a_company_and_a_professor_walk_an_engagement_to_agreement() {
    let app = TestApp::spawn().await;
    let co = app.org_id("company", "TSMC", "TW").await;
    let staff = app.member_token(&co, "staff").await;
    let staff_id = app.user_id(&staff).await;
    let (prof, profile) = professor(&app, "Lin").await;
    let prof_id = app.user_id(&prof).await;
    let n = need(&app, &co, "Silicon photonics packaging", "open", "public").await;

    let created = engage(&app, &staff, &n, &profile, "shortlisted").await;
    let id = created["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/engagements/{id}/transitions");
    assert_eq!(created["state"], "shortlisted");
    assert_eq!(created["need_id"], json!(n));
    assert_eq!(created["faculty_id"], json!(profile));
    assert_eq!(created["created_by"], json!(staff_id));
    assert_eq!(
        created["next_states"],
        json!(["invited", "interested", "closed"])
    );
    assert_eq!(created["events"].as_array().unwrap().len(), 1);
    assert_eq!(created["events"][0]["from"], Value::Null);
    assert_eq!(created["events"][0]["to"], "shortlisted");
    assert_eq!(created["events"][0]["actor_user_id"], json!(staff_id));

    // A shortlist is the company's own note.
    read(&app, Some(&prof), &id).await.expect(404);
    assert!(listed(&app, Some(&prof), "").await.is_empty());
    assert_eq!(read(&app, Some(&staff), &id).await.json(), created);

    // Moves need the current ETag, like every other write.
    let invite = json!({"to": "invited", "reason_text": "Your 2025 paper on co-packaged optics"});
    app.as_(&staff).post(&path, &invite).await.expect(428);
    app.as_(&staff)
        .if_match("\"9\"")
        .post(&path, &invite)
        .await
        .expect(412);
    assert_eq!(
        read(&app, Some(&staff), &id).await.json()["state"],
        "shortlisted"
    );
    let res = app.as_(&staff).if_match("\"1\"").post(&path, &invite).await;
    res.expect(200);
    assert_eq!(res.header("etag").as_deref(), Some("\"2\""));
    assert_eq!(res.json()["state"], "invited");

    // Invited: now the professor's business too.
    let seen = read(&app, Some(&prof), &id).await;
    seen.expect(200);
    assert_eq!(seen.header("etag").as_deref(), Some("\"2\""));
    assert_eq!(listed(&app, Some(&prof), "").await, [id.as_str()]);
    let res = app
        .as_(&prof)
        .if_match("\"2\"")
        .post(
            &path,
            &json!({"to": "interested", "reason_text": "Happy to talk.\nAvailable from March."}),
        )
        .await;
    res.expect(200);
    assert_eq!(res.json()["next_states"], json!(["agreed", "closed"]));
    let res = app
        .as_(&staff)
        .if_match("\"3\"")
        .post(&path, &json!({"to": "agreed"}))
        .await;
    res.expect(200);
    let done = res.json();
    assert_eq!(done["state"], "agreed");
    assert_eq!(done["next_states"], json!([]));

    // The whole history: who moved it, from where to where, when and why.
    let events = done["events"].as_array().unwrap();
    let moves: Vec<(Value, Value, Value)> = events
        .iter()
        .map(|e| {
            (
                e["from"].clone(),
                e["to"].clone(),
                e["actor_user_id"].clone(),
            )
        })
        .collect();
    assert_eq!(
        moves,
        [
            (Value::Null, json!("shortlisted"), json!(staff_id)),
            (json!("shortlisted"), json!("invited"), json!(staff_id)),
            (json!("invited"), json!("interested"), json!(prof_id)),
            (json!("interested"), json!("agreed"), json!(staff_id)),
        ]
    );
    assert_eq!(
        events[1]["reason_text"],
        "Your 2025 paper on co-packaged optics"
    );
    assert_eq!(
        events[2]["reason_text"],
        "Happy to talk.\nAvailable from March."
    );
    assert!(events.iter().all(|e| e["reason_code"].is_null()));
    let times: Vec<&str> = events.iter().map(|e| e["at"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    assert_eq!(done["updated_at"].as_str().unwrap(), times[3]);
    // The professor sees it from the invitation on: the shortlist before it, with any note the
    // company made, is the company's own.
    let mut theirs = done.clone();
    theirs["events"].as_array_mut().unwrap().remove(0);
    theirs["created_at"] = done["events"][1]["at"].clone();
    assert_eq!(read(&app, Some(&prof), &id).await.json(), theirs);

    // Final: nothing moves it any more.
    let res = step(&app, &staff, &id, json!({"to": "closed"})).await;
    res.expect(409);
    let p = res.json();
    assert_eq!(p["current_state"], "agreed");
    assert_eq!(p["allowed_next_states"], json!([]));
}

#[actix_web::test]
async fn every_move_outside_the_workflow_is_409_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let co = app.org_id("company", "MediaTek", "TW").await;
    let n = need(&app, &co, "5G modem power", "open", "public").await;
    let op = app.operator_token.clone();
    // One engagement in each state, moved by the operator (who may make every legal move).
    let paths: [&[&str]; 6] = [
        &[],
        &["invited"],
        &["invited", "interested"],
        &["invited", "declined"],
        &["invited", "interested", "agreed"],
        &["closed"],
    ];
    let allowed: [&[&str]; 6] = [
        &["invited", "interested", "closed"],
        &["interested", "declined", "closed"],
        &["agreed", "closed"],
        &[],
        &[],
        &[],
    ];
    for (i, (path, allowed)) in paths.iter().zip(allowed).enumerate() {
        let (_, profile) = professor(&app, &format!("P{i}")).await;
        let id = engage(&app, &op, &n, &profile, "shortlisted").await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        for to in *path {
            step(&app, &op, &id, json!({"to": to})).await.expect(200);
        }
        let before = read(&app, Some(&op), &id).await;
        let state = before.json()["state"].as_str().unwrap().to_owned();
        assert_eq!(state, STATES[i]);
        assert_eq!(before.json()["next_states"], json!(allowed));
        for to in STATES.iter().filter(|s| !allowed.contains(s)) {
            let body = if *to == "declined" {
                json!({"to": to, "reason_code": "budget"})
            } else {
                json!({"to": to})
            };
            let res = step(&app, &op, &id, body).await;
            res.expect(409);
            let p = res.json();
            assert_eq!(p["code"], "conflict");
            assert_eq!(p["current_state"], json!(state), "{state} -> {to}");
            assert_eq!(p["allowed_next_states"], json!(allowed));
            assert!(p["detail"].as_str().unwrap().contains(&state));
        }
        let after = read(&app, Some(&op), &id).await;
        assert_eq!(after.json(), before.json(), "refused moves change nothing");
        assert_eq!(after.header("etag"), before.header("etag"));
    }
}

#[actix_web::test]
async fn each_side_makes_only_its_own_moves() {
    let app = TestApp::spawn().await;
    let co = app.org_id("company", "ASE", "TW").await;
    let staff = app.member_token(&co, "admin").await;
    let (prof, profile) = professor(&app, "Wu").await;
    let n = need(&app, &co, "Fan-out packaging", "open", "public").await;
    let id = engage(&app, &staff, &n, &profile, "invited").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Answering an invitation is the professor's; the company cannot do it for them.
    step(&app, &staff, &id, json!({"to": "interested"}))
        .await
        .expect(403);
    step(
        &app,
        &staff,
        &id,
        json!({"to": "declined", "reason_code": "budget"}),
    )
    .await
    .expect(403);
    // Withdrawing an invitation is the company's; the professor declines instead.
    step(&app, &prof, &id, json!({"to": "closed"}))
        .await
        .expect(403);
    assert_eq!(
        read(&app, Some(&prof), &id).await.json()["state"],
        "invited"
    );
    step(&app, &prof, &id, json!({"to": "interested"}))
        .await
        .expect(200);
    // Recording the agreement is the company's.
    step(&app, &prof, &id, json!({"to": "agreed"}))
        .await
        .expect(403);
    // Either side may end an interest; here the professor withdraws theirs.
    let res = step(
        &app,
        &prof,
        &id,
        json!({"to": "closed", "reason_text": "Changed jobs"}),
    )
    .await;
    res.expect(200);
    assert_eq!(res.json()["state"], "closed");
}

#[actix_web::test]
async fn declines_carry_a_reason_from_the_list_and_bad_input_is_a_problem() {
    let app = TestApp::spawn().await;
    let co = app.org_id("company", "Foxconn", "TW").await;
    let staff = app.member_token(&co, "staff").await;
    let n = need(&app, &co, "EV battery thermal", "open", "public").await;
    let mut invited = Vec::new();
    for name in ["A", "B", "C"] {
        let (token, profile) = professor(&app, name).await;
        let id = engage(&app, &staff, &n, &profile, "invited").await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        invited.push((token, id));
    }
    let (prof, id) = &invited[0];
    let bad = |body: Value, field: &'static str, code: &'static str| {
        let (app, prof, id) = (&app, prof.clone(), id.clone());
        async move {
            let res = step(app, &prof, &id, body).await;
            res.expect(422);
            let p = res.json();
            assert!(
                p["errors"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|e| e["field"] == field && e["code"] == code),
                "{field}/{code} in {p}"
            );
        }
    };
    bad(
        json!({"to": "declined", "reason_code": "other"}),
        "reason_text",
        "required",
    )
    .await;
    bad(
        json!({"to": "declined", "reason_code": "other", "reason_text": "  "}),
        "reason_text",
        "required",
    )
    .await;
    bad(
        json!({"to": "declined", "reason_code": "busy"}),
        "reason_code",
        "invalid_value",
    )
    .await;
    bad(
        json!({"to": "interested", "reason_code": "budget"}),
        "reason_code",
        "not_allowed",
    )
    .await;
    bad(
        json!({"to": "declined", "reason_text": "x".repeat(2001)}),
        "reason_text",
        "too_long",
    )
    .await;
    bad(json!({"to": "maybe"}), "to", "invalid_value").await;
    bad(json!({"reason_code": "budget"}), "to", "required").await;
    bad(
        json!({"to": "declined", "why": "no"}),
        "why",
        "unknown_field",
    )
    .await;
    let res = app
        .as_(prof)
        .if_match("*")
        .request(
            Method::POST,
            &format!("/api/v1/engagements/{id}/transitions"),
            None,
        )
        .await;
    assert!(res.status.is_client_error());
    res.assert_problem();
    let mut req = actix_web::test::TestRequest::post()
        .uri(&format!("/api/v1/engagements/{id}/transitions"))
        .insert_header(("content-type", "application/json"))
        .insert_header(("if-match", "*"))
        .insert_header(("authorization", format!("Bearer {prof}")))
        .set_payload("{\"to\": ");
    let res = app.send(req).await;
    res.expect(400);
    assert_eq!(res.code(), "malformed_json");
    req = actix_web::test::TestRequest::post()
        .uri("/api/v1/engagements/not-an-id/transitions")
        .insert_header(("content-type", "application/json"))
        .insert_header(("authorization", format!("Bearer {prof}")))
        .set_payload("{\"to\": \"declined\"}");
    app.send(req).await.expect(400);
    let res = app
        .as_(prof)
        .if_match("3")
        .post(
            &format!("/api/v1/engagements/{id}/transitions"),
            &json!({"to": "declined"}),
        )
        .await;
    res.expect(400);
    assert_eq!(res.code(), "invalid_header");
    let unchanged = read(&app, Some(prof), id).await.json();
    assert_eq!(unchanged["state"], "invited");
    assert_eq!(unchanged["events"].as_array().unwrap().len(), 1);

    // Valid declines: a listed reason, `other` with its text, or no reason at all.
    let res = step(
        &app,
        prof,
        id,
        json!({"to": "declined", "reason_code": "timeline", "reason_text": "Booked until 2028"}),
    )
    .await;
    res.expect(200);
    let last = res.json()["events"][1].clone();
    assert_eq!(last["to"], "declined");
    assert_eq!(last["reason_code"], "timeline");
    assert_eq!(last["reason_text"], "Booked until 2028");
    let (prof, id) = &invited[1];
    let res = step(
        &app,
        prof,
        id,
        json!({"to": "declined", "reason_code": "other", "reason_text": "On sabbatical"}),
    )
    .await;
    res.expect(200);
    assert_eq!(res.json()["events"][1]["reason_code"], "other");
    let (prof, id) = &invited[2];
    let res = step(&app, prof, id, json!({"to": "declined"})).await;
    res.expect(200);
    assert_eq!(res.json()["events"][1]["reason_code"], Value::Null);
    assert_eq!(listed(&app, Some(&staff), "?state=declined").await.len(), 3);
}

#[actix_web::test]
async fn an_invitation_opens_a_confidential_need_and_ending_it_closes_it_again() {
    let app = TestApp::spawn().await;
    let co = app.org_id("company", "NVIDIA", "TW").await;
    let staff = app.member_token(&co, "staff").await;
    let secret = need(
        &app,
        &co,
        "Confidential photonics interconnect",
        "open",
        "confidential",
    )
    .await;
    let invitations = format!("/api/v1/needs/{secret}/invitations");
    let invited_profiles = || {
        let (app, staff, invitations) = (&app, staff.clone(), invitations.clone());
        async move {
            let list = app.as_(&staff).get(&invitations).await.json();
            let mut found: Vec<String> = list
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["faculty_id"].as_str().unwrap().to_owned())
                .collect();
            found.sort();
            found
        }
    };

    // Invited at once, then declined.
    let (a, a_profile) = professor(&app, "Alpha").await;
    assert!(!sees_need(&app, &a, &secret).await);
    let id = engage(&app, &staff, &secret, &a_profile, "invited").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(sees_need(&app, &a, &secret).await);
    assert_eq!(invited_profiles().await, [a_profile.as_str()]);
    step(
        &app,
        &a,
        &id,
        json!({"to": "declined", "reason_code": "confidentiality_terms"}),
    )
    .await
    .expect(200);
    assert!(!sees_need(&app, &a, &secret).await);
    assert!(invited_profiles().await.is_empty());
    // The professor still sees their own engagement, and its history.
    assert_eq!(read(&app, Some(&a), &id).await.json()["state"], "declined");

    // Shortlisted (nothing shown), invited, interested (still shown), closed by the company.
    let (b, b_profile) = professor(&app, "Beta").await;
    let id = engage(&app, &staff, &secret, &b_profile, "shortlisted").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(!sees_need(&app, &b, &secret).await);
    step(&app, &staff, &id, json!({"to": "invited"}))
        .await
        .expect(200);
    assert!(sees_need(&app, &b, &secret).await);
    step(&app, &b, &id, json!({"to": "interested"}))
        .await
        .expect(200);
    assert!(sees_need(&app, &b, &secret).await);
    step(
        &app,
        &staff,
        &id,
        json!({"to": "closed", "reason_text": "Went with another lab"}),
    )
    .await
    .expect(200);
    assert!(!sees_need(&app, &b, &secret).await);

    // The invitations endpoints are the same workflow: inviting there starts an engagement in
    // `invited`, withdrawing closes it (with an event), and either way the view follows.
    let (c, c_profile) = professor(&app, "Gamma").await;
    app.as_(&staff)
        .post(
            &format!("{invitations}?refresh=wait_for"),
            &json!({"faculty_id": c_profile}),
        )
        .await
        .expect(201);
    assert!(sees_need(&app, &c, &secret).await);
    let mine = app.as_(&c).get("/api/v1/engagements").await.json();
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    let id = mine["items"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(mine["items"][0]["state"], "invited");
    // Inviting again changes nothing; the engagement itself cannot be created twice.
    app.as_(&staff)
        .post(&invitations, &json!({"faculty_id": c_profile}))
        .await
        .expect(200);
    let res = app
        .as_(&staff)
        .post(
            "/api/v1/engagements",
            &json!({"need_id": secret, "faculty_id": c_profile, "state": "invited"}),
        )
        .await;
    res.expect(409);
    assert_eq!(res.json()["engagement_id"], json!(id));
    app.as_(&staff)
        .delete(&format!("{invitations}/{c_profile}?refresh=wait_for"))
        .await
        .expect(204);
    assert!(!sees_need(&app, &c, &secret).await);
    let closed = read(&app, Some(&c), &id).await.json();
    assert_eq!(closed["state"], "closed");
    let last = closed["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["from"].as_str(), last["to"].as_str()),
        (Some("invited"), Some("closed"))
    );
    assert_eq!(last["reason_text"], "invitation withdrawn");
    // A closed engagement is not reopened by inviting again.
    app.as_(&staff)
        .post(&invitations, &json!({"faculty_id": c_profile}))
        .await
        .expect(409);
    assert!(!sees_need(&app, &c, &secret).await);
    assert!(invited_profiles().await.is_empty());
}

#[actix_web::test]
async fn a_professor_says_they_are_interested_in_a_need_they_can_see() {
    let app = TestApp::spawn().await;
    let co = app.org_id("company", "Delta", "TW").await;
    let staff = app.member_token(&co, "staff").await;
    let (prof, profile) = professor(&app, "Huang").await;
    let (_, someone_else) = professor(&app, "Other").await;
    let prof_id = app.user_id(&prof).await;
    let public = need(&app, &co, "Power electronics", "open", "public").await;
    let secret = need(&app, &co, "Secret inverter", "open", "confidential").await;
    let draft = need(&app, &co, "Draft idea", "draft", "public").await;
    let closed = need(&app, &co, "Old need", "open", "public").await;
    app.operator()
        .if_match("*")
        .patch(
            &format!("/api/v1/needs/{closed}"),
            &json!({"status": "closed"}),
        )
        .await
        .expect(200);
    let interest = |n: &str, p: &str| json!({"need_id": n, "faculty_id": p, "state": "interested"});
    let post = |body: Value| {
        let (app, prof) = (&app, prof.clone());
        async move { app.as_(&prof).post("/api/v1/engagements", &body).await }
    };

    // Needs they cannot see do not exist for them; a closed one takes no interest.
    post(interest(&secret, &profile)).await.expect(404);
    post(interest(&draft, &profile)).await.expect(404);
    post(interest(&closed, &profile)).await.expect(409);
    // Only for their own profile, and only interest: shortlists and invitations are the company's.
    post(interest(&public, &someone_else)).await.expect(403);
    post(json!({"need_id": public, "faculty_id": profile, "state": "invited"}))
        .await
        .expect(403);
    post(json!({"need_id": public, "faculty_id": profile, "state": "agreed"}))
        .await
        .expect(422);
    assert!(listed(&app, Some(&staff), "").await.is_empty());

    let res = post(interest(&public, &profile)).await;
    res.expect(201);
    let e = res.json();
    assert_eq!(e["state"], "interested");
    assert_eq!(e["created_by"], json!(prof_id));
    assert_eq!(e["events"][0]["from"], Value::Null);
    assert_eq!(
        listed(&app, Some(&staff), "").await,
        [e["id"].as_str().unwrap()]
    );
    post(interest(&public, &profile)).await.expect(409);
    let res = step(
        &app,
        &staff,
        e["id"].as_str().unwrap(),
        json!({"to": "agreed"}),
    )
    .await;
    res.expect(200);
    assert_eq!(res.json()["state"], "agreed");

    // Interest in a need that had shortlisted them is answered as if there were no shortlist
    // (see interest_answers_the_same_whether_or_not_the_company_shortlisted_them).
    let other = need(&app, &co, "Motor drives", "open", "members").await;
    let shortlisted = engage(&app, &staff, &other, &profile, "shortlisted").await;
    let res = post(interest(&other, &profile)).await;
    res.expect(201);
    let e = res.json();
    assert_ne!(e["id"], shortlisted["id"]);
    assert_eq!(e["state"], "interested");
    // The company sees one engagement for the pair, its shortlist in the history.
    let theirs = read(&app, Some(&staff), e["id"].as_str().unwrap())
        .await
        .json();
    let moves: Vec<(Value, Value)> = theirs["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["from"].clone(), e["to"].clone()))
        .collect();
    assert_eq!(
        moves,
        [
            (Value::Null, json!("shortlisted")),
            (Value::Null, json!("interested"))
        ]
    );
    assert_eq!(
        listed(&app, Some(&staff), &format!("?need_id={other}")).await,
        [e["id"].as_str().unwrap()]
    );
}

#[actix_web::test]
async fn duplicates_needs_that_are_not_open_bad_input_and_lists() {
    let app = TestApp::spawn().await;
    let co = app.org_id("company", "UMC", "TW").await;
    let rival_co = app.org_id("company", "GlobalFoundries", "TW").await;
    let staff = app.member_token(&co, "staff").await;
    let rival = app.member_token(&rival_co, "admin").await;
    let (prof, profile) = professor(&app, "Kao").await;
    let (other_prof, other_profile) = professor(&app, "Tsai").await;
    let open = need(&app, &co, "28nm RF", "open", "public").await;
    let draft = need(&app, &co, "Draft 22nm", "draft", "public").await;

    let create = |body: Value| {
        let (app, staff) = (&app, staff.clone());
        async move { app.as_(&staff).post("/api/v1/engagements", &body).await }
    };
    // A draft may be shortlisted for, not invited to.
    create(json!({"need_id": draft, "faculty_id": profile, "state": "invited"}))
        .await
        .expect(409);
    create(json!({"need_id": draft, "faculty_id": profile, "state": "shortlisted"}))
        .await
        .expect(201);
    let first = create(json!({"need_id": open, "faculty_id": profile, "state": "invited"})).await;
    first.expect(201);
    let first = first.json();
    // One engagement per need and profile.
    let dup = create(json!({"need_id": open, "faculty_id": profile, "state": "shortlisted"})).await;
    dup.expect(409);
    assert_eq!(dup.json()["engagement_id"], first["id"]);
    assert_eq!(dup.json()["current_state"], "invited");

    // Bad input: problems, never 500, nothing saved.
    let res =
        create(json!({"need_id": "x", "faculty_id": "", "state": "closed", "extra": 1})).await;
    res.expect(422);
    let res = create(json!({"need_id": "x", "faculty_id": "", "state": "closed"})).await;
    res.expect(422);
    let fields: Vec<String> = res.json()["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(fields, ["need_id", "faculty_id", "state"]);
    create(json!({"need_id": open, "faculty_id": profile}))
        .await
        .expect(422);
    create(json!({"need_id": open, "faculty_id": profile, "state": "pending"}))
        .await
        .expect(422);
    create(json!({"need_id": open, "faculty_id": uuid::Uuid::now_v7().to_string(), "state": "shortlisted"}))
        .await
        .expect(404);
    create(json!({"need_id": uuid::Uuid::now_v7().to_string(), "faculty_id": profile, "state": "shortlisted"}))
        .await
        .expect(404);
    create(json!({"need_id": open, "faculty_id": other_profile, "state": "shortlisted", "reason_text": "a\u{0}b"}))
        .await
        .expect(422);
    app.anonymous()
        .post(
            "/api/v1/engagements",
            &json!({"need_id": open, "faculty_id": other_profile, "state": "shortlisted"}),
        )
        .await
        .expect(401);
    // Another company may not engage anyone for this company's need.
    app.as_(&rival)
        .post(
            "/api/v1/engagements",
            &json!({"need_id": open, "faculty_id": other_profile, "state": "shortlisted"}),
        )
        .await
        .expect(403);

    // Lists: only what the caller may see, filtered and paged.
    let second = engage(&app, &staff, &open, &other_profile, "invited").await;
    let third_need = need(&app, &co, "Third", "open", "public").await;
    let third = engage(&app, &staff, &third_need, &other_profile, "shortlisted").await;
    let all = listed(&app, Some(&staff), "").await;
    assert_eq!(all.len(), 4);
    let mut sorted = all.clone();
    sorted.sort();
    assert_eq!(all, sorted, "oldest first");
    assert_eq!(
        listed(&app, Some(&staff), &format!("?need_id={open}")).await,
        [
            first["id"].as_str().unwrap(),
            second["id"].as_str().unwrap()
        ]
    );
    assert_eq!(
        listed(
            &app,
            Some(&staff),
            &format!("?faculty_id={other_profile}&state=shortlisted")
        )
        .await,
        [third["id"].as_str().unwrap()]
    );
    let page = app
        .as_(&staff)
        .get("/api/v1/engagements?limit=3")
        .await
        .json();
    assert_eq!(ids(&page), all[..3]);
    let cursor = page["next_cursor"].as_str().unwrap();
    assert_eq!(
        listed(&app, Some(&staff), &format!("?limit=3&cursor={cursor}")).await,
        all[3..]
    );
    assert_eq!(
        listed(&app, Some(&prof), "").await,
        [first["id"].as_str().unwrap()]
    );
    assert_eq!(
        listed(&app, Some(&other_prof), "").await,
        [second["id"].as_str().unwrap()]
    );
    assert!(listed(&app, Some(&rival), "").await.is_empty());
    read(&app, Some(&rival), first["id"].as_str().unwrap())
        .await
        .expect(404);
    read(&app, Some(&other_prof), first["id"].as_str().unwrap())
        .await
        .expect(404);
    read(&app, None, first["id"].as_str().unwrap())
        .await
        .expect(401);
    app.anonymous().get("/api/v1/engagements").await.expect(401);
    for q in [
        "?state=pending",
        "?need_id=1",
        "?limit=0",
        "?cursor=!!",
        "?colour=red",
    ] {
        app.as_(&staff)
            .get(&format!("/api/v1/engagements{q}"))
            .await
            .expect(400);
    }
    let res = read(&app, Some(&staff), first["id"].as_str().unwrap()).await;
    let etag = res.header("etag").unwrap();
    let res = app
        .as_(&staff)
        .if_none_match(etag.as_str())
        .get(&format!(
            "/api/v1/engagements/{}",
            first["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(res.status.as_u16(), 304);
}

#[actix_web::test]
async fn closing_or_awarding_a_need_closes_its_pending_engagements() {
    let app = TestApp::spawn().await;
    let co = app.org_id("company", "MediaTek", "TW").await;
    let staff = app.member_token(&co, "staff").await;
    let staff_id = app.user_id(&staff).await;
    for outcome in ["closed", "awarded"] {
        let n = need(
            &app,
            &co,
            &format!("6G beamforming ({outcome})"),
            "open",
            "public",
        )
        .await;
        let mut by_state = Vec::new();
        for (name, start, moves) in [
            ("Short", "shortlisted", &[][..]),
            ("Invited", "invited", &[][..]),
            ("Keen", "invited", &["interested"][..]),
            ("Busy", "invited", &["declined"][..]),
            ("Signed", "invited", &["interested", "agreed"][..]),
        ] {
            let (prof, profile) = professor(&app, &format!("{name} {outcome}")).await;
            let id = engage(&app, &staff, &n, &profile, start).await["id"]
                .as_str()
                .unwrap()
                .to_owned();
            for to in moves {
                let mut body = json!({"to": to});
                if *to == "declined" {
                    body["reason_code"] = json!("timeline");
                }
                let who = if *to == "agreed" { &staff } else { &prof };
                step(&app, who, &id, body).await.expect(200);
            }
            by_state.push((id, moves.last().copied().unwrap_or(start)));
        }
        let res = app
            .as_(&staff)
            .if_match("*")
            .patch(&format!("/api/v1/needs/{n}"), &json!({"status": outcome}))
            .await;
        res.expect(200);
        assert_eq!(res.json()["status"], outcome);
        for (id, before) in &by_state {
            let e = read(&app, Some(&staff), id).await.json();
            let pending = matches!(*before, "shortlisted" | "invited" | "interested");
            if pending {
                assert_eq!(
                    e["state"], "closed",
                    "{before} → closed when the need is {outcome}"
                );
                let last = e["events"].as_array().unwrap().last().unwrap().clone();
                assert_eq!(last["from"], *before);
                assert_eq!(last["to"], "closed");
                assert_eq!(last["actor_user_id"], json!(staff_id));
                assert_eq!(last["reason_text"], format!("the need was {outcome}"));
            } else {
                assert_eq!(e["state"], *before, "a final state stays");
            }
        }
    }
}

/// Issue 19, item 9: a professor learned of a company's hidden shortlist because expressing
/// interest answered differently (409 "there already is an engagement", later 200 with the
/// shortlist in the history) when the company had shortlisted them. Now interest is answered
/// the same with or without a shortlist (also one the company closed again), and nothing the
/// professor or their university's office reads afterwards shows it; the company keeps its
/// history.
#[actix_web::test]
async fn interest_answers_the_same_whether_or_not_the_company_shortlisted_them() {
    const NOTE: &str = "Private: cheaper than the other candidate";
    let app = TestApp::spawn().await;
    let co = app.org_id("company", "Foxconn", "TW").await;
    let staff = app.member_token(&co, "staff").await;
    let (prof, profile) = professor(&app, "Wu").await;
    let prof_id = app.user_id(&prof).await;
    let uni = app
        .operator()
        .get(&format!("/api/v1/faculty/{profile}"))
        .await
        .json()["university_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let office = app.member_token(&uni, "staff").await;
    let plain = need(&app, &co, "Battery packs", "open", "public").await;
    let listed_need = need(&app, &co, "Cell chemistry", "open", "public").await;
    let closed_need = need(&app, &co, "Thermal runaway", "open", "public").await;
    let mut shortlists = Vec::new();
    for n in [&listed_need, &closed_need] {
        let res = app
            .as_(&staff)
            .post(
                "/api/v1/engagements",
                &json!({"need_id": n, "faculty_id": profile, "state": "shortlisted",
                             "reason_text": NOTE}),
            )
            .await;
        res.expect(201);
        shortlists.push(res.id());
    }
    step(&app, &staff, &shortlists[1], json!({"to": "closed"}))
        .await
        .expect(200);

    // The same answer for all three: 201, a new id, ETag "1", the professor's event first.
    let redact = |mut e: Value| {
        for key in ["id", "need_id", "created_at", "updated_at"] {
            e[key] = json!("…");
        }
        e["events"][0]["at"] = json!("…");
        e
    };
    let mut answers = Vec::new();
    for n in [&plain, &listed_need, &closed_need] {
        let e = engage(&app, &prof, n, &profile, "interested").await;
        assert!(!shortlists.contains(&e["id"].as_str().unwrap().to_owned()));
        assert_eq!(e["created_at"], e["events"][0]["at"]);
        answers.push(e);
    }
    let expected = json!({
        "id": "…", "need_id": "…", "faculty_id": profile, "state": "interested",
        "next_states": ["agreed", "closed"], "created_by": prof_id,
        "created_at": "…", "updated_at": "…",
        "events": [{"from": null, "to": "interested", "actor_user_id": prof_id,
                    "reason_code": null, "reason_text": null, "at": "…"}]
    });
    for e in &answers {
        assert_eq!(redact(e.clone()), expected);
    }

    // Afterwards: what the professor and their university's office read is the same for the
    // three, and never shows the shortlist or the company's note.
    for token in [&prof, &office] {
        for e in &answers {
            let id = e["id"].as_str().unwrap();
            let one = read(&app, Some(token), id).await;
            one.expect(200);
            assert_eq!(one.header("etag").as_deref(), Some("\"1\""));
            assert_eq!(one.json(), *e);
        }
        let all = app.as_(token).get("/api/v1/engagements").await;
        all.expect(200);
        assert_eq!(all.json()["items"], json!(answers));
        for old in &shortlists {
            read(&app, Some(token), old).await.expect(404);
        }
    }
    let audit = app.as_(&prof).get("/api/v1/audit").await;
    audit.expect(403);
    let audit = app
        .as_(&office)
        .get("/api/v1/audit?entity=engagement&action=delete")
        .await;
    audit.expect(200);
    assert_eq!(audit.json()["items"], json!([]));

    // Saying it again is a 409 naming the engagement, alike for the three.
    for (n, e) in [&plain, &listed_need, &closed_need].iter().zip(&answers) {
        let again = app
            .as_(&prof)
            .post(
                "/api/v1/engagements",
                &json!({"need_id": n, "faculty_id": profile, "state": "interested"}),
            )
            .await;
        again.expect(409);
        assert_eq!(again.json()["engagement_id"], e["id"]);
        assert_eq!(again.json()["current_state"], "interested");
    }

    // The company keeps its history (its note included) in the one engagement of the pair.
    let theirs = read(&app, Some(&staff), answers[2]["id"].as_str().unwrap()).await;
    theirs.expect(200);
    let moves: Vec<(Value, Value, Value)> = theirs.json()["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["from"].clone(), e["to"].clone(), e["reason_text"].clone()))
        .collect();
    assert_eq!(
        moves,
        [
            (Value::Null, json!("shortlisted"), json!(NOTE)),
            (json!("shortlisted"), json!("closed"), Value::Null),
            (Value::Null, json!("interested"), Value::Null),
        ]
    );
    assert_eq!(
        listed(&app, Some(&staff), &format!("?need_id={listed_need}")).await,
        [answers[1]["id"].as_str().unwrap()]
    );
    read(&app, Some(&staff), &shortlists[0]).await.expect(404);
}

//! Events, notifications and saved alerts through the API: who hears of what (the other side
//! of an engagement, the office, a company's colleagues), that nobody hears of a record they
//! may not read (a confidential need), alerts that fire once per record with the match list's
//! own score, settings that turn a type off, events that time makes due, and bad input.
//!
//! Notifications are made by a background worker a moment after the change. A test that
//! expects nothing waits for a later event the same user certainly receives (a sentinel):
//! events and changed records are taken in order, so everything before it was handled.

mod common;

use std::time::Duration;

use actix_web::test::TestRequest;
use common::TestApp;
use serde_json::{Value, json};

async fn inbox(app: &TestApp, token: &str) -> Value {
    let res = app.as_(token).get("/api/v1/notifications?limit=100").await;
    res.expect(200);
    res.json()
}

/// Waits (up to 30 s) until the user's notifications satisfy `done`; returns them.
async fn wait_for(
    app: &TestApp,
    token: &str,
    what: &str,
    done: impl Fn(&[Value]) -> bool,
) -> Value {
    let _ = what;
    common::wait_for_json(app, token, "/api/v1/notifications?limit=100", |v| {
        done(v["items"].as_array().unwrap())
    })
    .await
}

fn of_type<'a>(items: &'a [Value], t: &str) -> Vec<&'a Value> {
    items.iter().filter(|n| n["type"] == t).collect()
}

/// The notifications of type `t` about record `id`: their entity, or for `alert.matched`
/// (about the alert) one of the records it lists.
fn about<'a>(items: &'a [Value], t: &str, id: &str) -> Vec<&'a Value> {
    items
        .iter()
        .filter(|n| n["type"] == t && (n["entity_id"] == id || listed(n, id).is_some()))
        .collect()
}

/// The record `id` as an alert's notification lists it.
fn listed<'a>(n: &'a Value, id: &str) -> Option<&'a Value> {
    n["data"]["records"]
        .as_array()?
        .iter()
        .find(|r| r["id"] == id)
}

async fn need(app: &TestApp, token: &str, body: Value) -> String {
    let res = app
        .as_(token)
        .post("/api/v1/needs?refresh=wait_for", &body)
        .await;
    res.expect(201);
    res.id()
}

async fn engage(app: &TestApp, token: &str, need: &str, profile: &str, state: &str) -> String {
    let res = app
        .as_(token)
        .post(
            "/api/v1/engagements",
            &json!({"need_id": need, "faculty_id": profile, "state": state}),
        )
        .await;
    res.expect(201);
    res.id()
}

async fn step(app: &TestApp, token: &str, id: &str, to: &str) {
    app.as_(token)
        .if_match("*")
        .post(
            &format!("/api/v1/engagements/{id}/transitions"),
            &json!({"to": to}),
        )
        .await
        .expect(200);
}

/// The id of the alert named `name` whose notification lists record `id`.
fn n_id(items: &[Value], t: &str, id: &str, name: &str) -> String {
    about(items, t, id)
        .into_iter()
        .find(|n| n["data"]["alert_name"] == name)
        .and_then(|n| n["entity_id"].as_str())
        .unwrap()
        .to_owned()
}

async fn alert(app: &TestApp, token: &str, body: Value) -> String {
    let res = app.as_(token).post("/api/v1/alerts", &body).await;
    res.expect(201);
    res.id()
}

#[actix_web::test]
async fn engagement_moves_reach_the_other_side_and_the_office_not_the_actor() {
    let app = TestApp::spawn().await;
    let uni = app.org_id("university", "NYCU", "TW").await;
    let co = app.org_id("company", "MediaTek", "TW").await;
    let staff = app.member_token(&co, "staff").await;
    let colleague = app.member_token(&co, "staff").await;
    let office = app.member_token(&uni, "staff").await;
    let (prof, profile) = app
        .professor(
            &uni,
            json!({"name": "Chen Yu-ting", "keywords": ["silicon photonics"]}),
        )
        .await;

    let n = need(
        &app,
        &staff,
        json!({"company_id": co, "title": "Co-packaged optics for AI racks", "status": "open",
               "visibility": "public", "keywords": ["silicon photonics"]}),
    )
    .await;
    let list = wait_for(&app, &colleague, "need.published", |i| {
        !about(i, "need.published", &n).is_empty()
    })
    .await;
    let published = about(list["items"].as_array().unwrap(), "need.published", &n)[0];
    assert_eq!(published["entity"], "need");
    assert_eq!(published["title"], "Co-packaged optics for AI racks");
    assert_eq!(
        published["summary"],
        "New need: Co-packaged optics for AI racks"
    );
    assert_eq!(published["read_at"], Value::Null);

    let e = engage(&app, &staff, &n, &profile, "invited").await;
    let list = wait_for(&app, &prof, "the invitation", |i| {
        !of_type(i, "invitation.received").is_empty()
    })
    .await;
    let invitation = of_type(list["items"].as_array().unwrap(), "invitation.received")[0].clone();
    assert_eq!(invitation["entity"], "engagement");
    assert_eq!(invitation["entity_id"], e.as_str());
    assert_eq!(invitation["title"], "Co-packaged optics for AI racks");
    assert_eq!(invitation["data"]["need_id"], n.as_str());
    assert_eq!(list["unread_count"], 1);
    wait_for(&app, &office, "the office's copy", |i| {
        !about(i, "invitation.received", &e).is_empty()
    })
    .await;

    step(&app, &prof, &e, "interested").await;
    let list = wait_for(&app, &staff, "the professor's answer", |i| {
        !about(i, "engagement.state_changed", &e).is_empty()
    })
    .await;
    let items = list["items"].as_array().unwrap();
    let answer = about(items, "engagement.state_changed", &e)[0];
    assert_eq!(answer["data"]["state"], "interested");
    assert_eq!(answer["data"]["previous_state"], "invited");
    // The company's own moves and its own need are not news to the one who made them.
    assert!(of_type(items, "invitation.received").is_empty(), "{list:#}");
    assert!(of_type(items, "need.published").is_empty(), "{list:#}");

    // The professor hears of the company's next move, and never of their own.
    step(&app, &staff, &e, "agreed").await;
    let list = wait_for(&app, &prof, "the agreement", |i| {
        i.iter().any(|n| n["data"]["state"] == "agreed")
    })
    .await;
    let items = list["items"].as_array().unwrap();
    assert!(
        !items.iter().any(|n| n["data"]["state"] == "interested"),
        "{list:#}"
    );
    assert_eq!(items[0]["data"]["state"], "agreed", "newest first");
    assert_eq!(list["unread_count"], 2);

    // Reading: one, then the rest; another user's notification does not exist for them.
    let id = invitation["id"].as_str().unwrap();
    app.as_(&staff)
        .post(&format!("/api/v1/notifications/{id}/read"), &json!({}))
        .await
        .expect(404);
    let res = app
        .as_(&prof)
        .post(&format!("/api/v1/notifications/{id}/read"), &json!({}))
        .await;
    res.expect(200);
    assert!(res.json()["read_at"].is_string());
    let again = app
        .as_(&prof)
        .post(&format!("/api/v1/notifications/{id}/read"), &json!({}))
        .await;
    again.expect(200);
    assert_eq!(again.json()["read_at"], res.json()["read_at"], "idempotent");
    let unread = app
        .as_(&prof)
        .get("/api/v1/notifications?unread=true")
        .await
        .json();
    assert_eq!(unread["unread_count"], 1);
    assert_eq!(unread["items"].as_array().unwrap().len(), 1);
    let res = app
        .as_(&prof)
        .post("/api/v1/notifications/read", &json!({}))
        .await;
    res.expect(200);
    assert_eq!(res.json(), json!({"marked": 1, "unread_count": 0}));

    // Paging, newest first.
    let first = app
        .as_(&prof)
        .get("/api/v1/notifications?limit=1")
        .await
        .json();
    assert_eq!(first["items"][0]["data"]["state"], "agreed");
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = app
        .as_(&prof)
        .get(&format!("/api/v1/notifications?limit=1&cursor={cursor}"))
        .await
        .json();
    assert_eq!(second["items"][0]["type"], "invitation.received");
    assert!(second.get("next_cursor").is_none());

    // Closing the need closes the engagements under way in the same change: a professor it
    // reached still hears that it closed; one only on the company's shortlist does not.
    let (listed, listed_profile) = app.professor(&uni, json!({"name": "Lai Hsin-yi"})).await;
    engage(&app, &staff, &n, &listed_profile, "shortlisted").await;
    let (asked, asked_profile) = app.professor(&uni, json!({"name": "Wu Chia-hao"})).await;
    engage(&app, &staff, &n, &asked_profile, "invited").await;
    app.as_(&staff)
        .if_match("*")
        .patch(&format!("/api/v1/needs/{n}"), &json!({"status": "closed"}))
        .await
        .expect(200);
    for token in [&prof, &asked] {
        wait_for(&app, token, "the need's closing", |i| {
            !about(i, "need.closed", &n).is_empty()
        })
        .await;
    }
    assert!(
        inbox(&app, &listed).await["items"]
            .as_array()
            .unwrap()
            .is_empty(),
        "a shortlist is the company's own note"
    );
}

#[actix_web::test]
async fn a_confidential_need_reaches_only_those_who_may_read_it() {
    let app = TestApp::spawn().await;
    let uni = app.org_id("university", "KAIST", "KR").await;
    let uni2 = app.org_id("university", "NTHU", "TW").await;
    let co = app.org_id("company", "Samsung Electronics", "KR").await;
    let rival = app.org_id("company", "SK hynix", "KR").await;
    let staff = app.member_token(&co, "staff").await;
    let colleague = app.member_token(&co, "admin").await;
    let rival_staff = app.member_token(&rival, "staff").await;
    let office2 = app.member_token(&uni2, "staff").await;
    let profile = json!({"name": "Kim Min-jun", "keywords": ["HBM thermal management"],
                         "research_interests": "HBM thermal management and 3D stacking"});
    let (outsider, outsider_profile) = app.professor(&uni, profile.clone()).await;
    let (invited, invited_profile) = app
        .professor(
            &uni2,
            json!({"name": "Wang Li-hua", "keywords": ["HBM thermal management"]}),
        )
        .await;
    // Everyone outside watches for exactly this kind of need.
    alert(
        &app,
        &outsider,
        json!({"name": "HBM", "search": {"type": "need", "q": "HBM thermal"}}),
    )
    .await;
    alert(
        &app,
        &outsider,
        json!({"name": "fits me", "faculty_id": outsider_profile, "min_score": 0.001}),
    )
    .await;
    alert(
        &app,
        &rival_staff,
        json!({"name": "competitors", "search": {"type": "need", "q": "HBM"}}),
    )
    .await;

    let secret_title = "HBM4 thermal roadmap (do not share)";
    let secret = need(
        &app,
        &staff,
        json!({"company_id": co, "title": secret_title, "status": "open",
               "visibility": "confidential", "keywords": ["HBM thermal management"],
               "description": "HBM thermal management for 3D stacking"}),
    )
    .await;
    let e = engage(&app, &staff, &secret, &invited_profile, "invited").await;
    app.as_(&staff)
        .if_match("*")
        .patch(
            &format!("/api/v1/needs/{secret}"),
            &json!({"summary": "Now with a budget"}),
        )
        .await
        .expect(200);

    // Those who may read it hear of it, with its title.
    wait_for(&app, &colleague, "the colleague's copy", |i| {
        !about(i, "need.published", &secret).is_empty()
            && !about(i, "need.updated", &secret).is_empty()
    })
    .await;
    let list = wait_for(&app, &invited, "the invited professor's", |i| {
        !about(i, "invitation.received", &e).is_empty()
            && !about(i, "need.updated", &secret).is_empty()
    })
    .await;
    assert_eq!(
        about(list["items"].as_array().unwrap(), "invitation.received", &e)[0]["title"],
        secret_title
    );
    // The office follows its professor's engagement, but may not read the need itself: it
    // hears of the invitation without the need's title or anything else of it.
    let list = wait_for(&app, &office2, "the office's copy", |i| {
        !about(i, "invitation.received", &e).is_empty()
    })
    .await;
    assert_eq!(
        about(list["items"].as_array().unwrap(), "invitation.received", &e)[0]["title"],
        "a need"
    );
    assert!(!list.to_string().contains("HBM4"), "{list:#}");

    // A public need of the same kind: the alerts work, and they fire for it alone.
    let public = need(
        &app,
        &staff,
        json!({"company_id": co, "title": "HBM thermal interface materials", "status": "open",
               "visibility": "public", "keywords": ["HBM thermal management"],
               "description": "HBM thermal management for 3D stacking"}),
    )
    .await;
    let list = wait_for(&app, &outsider, "both alerts on the public need", |i| {
        about(i, "alert.matched", &public).len() == 2
    })
    .await;
    for n in about(list["items"].as_array().unwrap(), "alert.matched", &public) {
        assert_eq!(n["entity"], "saved_alert");
        assert_eq!(
            listed(n, &public).unwrap()["title"],
            "HBM thermal interface materials"
        );
        assert!(
            n["summary"]
                .as_str()
                .unwrap()
                .starts_with("HBM thermal interface materials fits your alert"),
            "{n:#}"
        );
    }
    let rivals = wait_for(&app, &rival_staff, "the rival's alert", |i| {
        !about(i, "alert.matched", &public).is_empty()
    })
    .await;
    for seen in [&list, &rivals] {
        let text = seen.to_string();
        assert!(!text.contains(&secret), "{seen:#}");
        assert!(!text.contains("HBM4"), "{seen:#}");
    }
}

#[actix_web::test]
async fn alerts_fire_once_per_record_with_the_match_lists_score() {
    let app = TestApp::spawn().await;
    let uni = app
        .org_id("university", "Seoul National University", "KR")
        .await;
    let co = app.org_id("company", "LG AI Research", "KR").await;
    let staff = app.member_token(&co, "staff").await;
    let (prof, profile) = app
        .professor(
            &uni,
            json!({"name": "Lee Seo-yeon", "keywords": ["graph neural networks", "drug discovery"],
                   "research_interests": "Graph neural networks for molecular property prediction",
                   "publications": [{"title": "Message passing networks for molecule toxicity", "year": 2024}]}),
        )
        .await;
    alert(
        &app,
        &prof,
        json!({"name": "needs for me", "faculty_id": profile, "min_score": 0.001}),
    )
    .await;

    let fits = need(
        &app,
        &staff,
        json!({"company_id": co, "title": "Graph neural networks for molecular property prediction",
               "status": "open", "visibility": "public", "keywords": ["drug discovery"]}),
    )
    .await;
    let list = wait_for(&app, &prof, "the alert", |i| {
        !about(i, "alert.matched", &fits).is_empty()
    })
    .await;
    let hit = about(list["items"].as_array().unwrap(), "alert.matched", &fits)[0].clone();
    assert_eq!(hit["entity"], "saved_alert");
    assert_eq!(hit["title"], "needs for me");
    assert_eq!(hit["data"]["alert_name"], "needs for me");
    let record = listed(&hit, &fits).unwrap();
    assert_eq!(record["entity"], "need");
    let score = record["score"].as_f64().unwrap();
    let matches = app
        .as_(&prof)
        .get(&format!("/api/v1/faculty/{profile}/matches"))
        .await
        .json();
    let in_list = matches["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["need"]["id"] == fits.as_str())
        .expect("the need is in the profile's match list")["score"]
        .as_f64()
        .unwrap();
    assert!(
        (score - in_list).abs() < 1e-4,
        "alert {score} vs list {in_list}"
    );

    // A change of the same need does not notify again; a need that does not fit never does.
    app.as_(&staff)
        .if_match("*")
        .patch(
            &format!("/api/v1/needs/{fits}?refresh=wait_for"),
            &json!({"description": "Also toxicity prediction with message passing networks."}),
        )
        .await
        .expect(200);
    let unrelated = need(
        &app,
        &staff,
        json!({"company_id": co, "title": "Concrete curing sensors for bridges", "status": "open",
               "visibility": "public", "keywords": ["civil engineering"]}),
    )
    .await;
    let sentinel = need(
        &app,
        &staff,
        json!({"company_id": co, "title": "Drug discovery with graph neural networks",
               "status": "open", "visibility": "public", "keywords": ["graph neural networks"]}),
    )
    .await;
    let list = wait_for(&app, &prof, "the sentinel", |i| {
        !about(i, "alert.matched", &sentinel).is_empty()
    })
    .await;
    let items = list["items"].as_array().unwrap();
    assert_eq!(about(items, "alert.matched", &fits).len(), 1, "{list:#}");
    assert!(
        about(items, "alert.matched", &unrelated).is_empty(),
        "{list:#}"
    );

    // The company's side: profiles for its need, and a saved search over profiles.
    alert(
        &app,
        &staff,
        json!({"name": "GNN people", "need_id": fits, "min_score": 0.001}),
    )
    .await;
    alert(
        &app,
        &staff,
        json!({"name": "toxicity", "search": {"type": "faculty", "q": "toxicity"}}),
    )
    .await;
    let newcomer = app
        .create_indexed(
            "/api/v1/faculty",
            &json!({"university_id": uni, "name": "Park Ha-eun",
                    "keywords": ["graph neural networks"],
                    "research_interests": "Molecular property prediction and toxicity with graph neural networks"}),
        )
        .await;
    let stranger = app
        .create_indexed(
            "/api/v1/faculty",
            &json!({"university_id": uni, "name": "Choi Dong-hyun", "keywords": ["bridge inspection"]}),
        )
        .await;
    let list = wait_for(&app, &staff, "both of the company's alerts", |i| {
        about(i, "alert.matched", &newcomer).len() == 2
    })
    .await;
    let items = list["items"].as_array().unwrap();
    assert!(
        about(items, "alert.matched", &stranger).is_empty(),
        "{list:#}"
    );
    let names: Vec<&str> = about(items, "alert.matched", &newcomer)
        .iter()
        .map(|n| n["data"]["alert_name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"GNN people") && names.contains(&"toxicity"),
        "{names:?}"
    );
    for n in about(items, "alert.matched", &newcomer) {
        let record = listed(n, &newcomer).unwrap();
        assert_eq!(record["entity"], "faculty_profile");
        assert_eq!(record["title"], "Park Ha-eun");
    }
    // Every hit of an alert, with its score, from the alert itself; for its owner alone.
    let gnn = n_id(items, "alert.matched", &newcomer, "GNN people");
    let hits = app
        .as_(&staff)
        .get(&format!("/api/v1/alerts/{gnn}/hits"))
        .await
        .json();
    let found: Vec<&Value> = hits["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["id"] == newcomer.as_str())
        .collect();
    assert_eq!(found.len(), 1, "{hits:#}");
    assert_eq!(found[0]["entity"], "faculty_profile");
    assert!(found[0]["score"].as_f64().unwrap() > 0.0, "{hits:#}");
    assert!(!hits.to_string().contains(&stranger), "{hits:#}");
    app.as_(&prof)
        .get(&format!("/api/v1/alerts/{gnn}/hits"))
        .await
        .expect(404);

    // Alerts are the owner's: listed, read and deleted by them alone.
    let mine = app.as_(&staff).get("/api/v1/alerts").await.json();
    assert_eq!(mine["items"].as_array().unwrap().len(), 2);
    let id = mine["items"][0]["id"].as_str().unwrap();
    assert_eq!(mine["items"][0]["kind"], "match");
    assert_eq!(mine["items"][0]["target"], "faculty");
    app.as_(&prof)
        .get(&format!("/api/v1/alerts/{id}"))
        .await
        .expect(404);
    app.as_(&prof)
        .delete(&format!("/api/v1/alerts/{id}"))
        .await
        .expect(404);
    app.as_(&staff)
        .delete(&format!("/api/v1/alerts/{id}"))
        .await
        .expect(204);
    app.as_(&staff)
        .get(&format!("/api/v1/alerts/{id}"))
        .await
        .expect(404);
}

/// A bulk import that fits an alert many times: its notifications list the best few hits
/// each (one per batch of changes, not one per profile), and the alert's hits list them all.
#[actix_web::test]
async fn a_batch_of_hits_is_one_notification_and_the_alert_lists_them_all() {
    let app = TestApp::spawn().await;
    let uni = app.org_id("university", "KAIST", "KR").await;
    let co = app.org_id("company", "SK hynix", "KR").await;
    let staff = app.member_token(&co, "staff").await;
    let id = alert(
        &app,
        &staff,
        json!({"name": "perovskites", "search": {"type": "faculty", "q": "perovskite"}}),
    )
    .await;
    let lines: Vec<String> = (0..14)
        .map(|i| {
            let topic = if i < 12 {
                "Perovskite solar cells"
            } else {
                "Bridge inspection"
            };
            json!({"external_id": format!("K-{i}"), "name": format!("Researcher {i}"),
                   "research_interests": format!("{topic}, study {i}")})
            .to_string()
        })
        .collect();
    let res = app
        .send(
            TestRequest::post()
                .uri(&format!("/api/v1/faculty/import?university_id={uni}"))
                .insert_header(("content-type", "application/x-ndjson"))
                .insert_header(("authorization", format!("Bearer {}", app.operator_token)))
                .set_payload(lines.join("\n")),
        )
        .await;
    res.expect(200);
    let count = |items: &[Value]| -> u64 {
        of_type(items, "alert.matched")
            .iter()
            .map(|n| n["data"]["count"].as_u64().unwrap())
            .sum()
    };
    let list = wait_for(&app, &staff, "the perovskite hits", |i| count(i) >= 12).await;
    let items = list["items"].as_array().unwrap();
    let notes = of_type(items, "alert.matched");
    assert_eq!(count(items), 12, "{list:#}");
    assert!(notes.len() < 12, "one notification per hit: {list:#}");
    let mut listed_ids = Vec::new();
    for n in &notes {
        assert_eq!(n["entity_id"], id.as_str());
        let records = n["data"]["records"].as_array().unwrap();
        assert!(!records.is_empty() && records.len() <= 10, "{n:#}");
        listed_ids.extend(records.iter().map(|r| r["id"].as_str().unwrap().to_owned()));
        if n["data"]["count"].as_u64().unwrap() > 1 {
            assert!(
                n["summary"]
                    .as_str()
                    .unwrap()
                    .contains("more fit your alert"),
                "{n:#}"
            );
        }
    }
    let unique: std::collections::HashSet<&String> = listed_ids.iter().collect();
    assert_eq!(
        unique.len(),
        listed_ids.len(),
        "a record listed twice: {list:#}"
    );
    // Unread, the alert's notification takes in later hits; once read, a new one starts.
    assert_eq!(notes.len(), 1, "{list:#}");
    let first = notes[0]["id"].as_str().unwrap().to_owned();
    let more = |from: usize, to: usize| -> String {
        (from..to)
            .map(|i| {
                json!({"external_id": format!("K-{i}"), "name": format!("Researcher {i}"),
                       "research_interests": format!("Perovskite tandem cells, study {i}")})
                .to_string()
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let import = |body: String| {
        TestRequest::post()
            .uri(&format!("/api/v1/faculty/import?university_id={uni}"))
            .insert_header(("content-type", "application/x-ndjson"))
            .insert_header(("authorization", format!("Bearer {}", app.operator_token)))
            .set_payload(body)
    };
    app.send(import(more(20, 23))).await.expect(200);
    let list = wait_for(&app, &staff, "three more", |i| count(i) >= 15).await;
    let notes = of_type(list["items"].as_array().unwrap(), "alert.matched");
    assert_eq!(notes.len(), 1, "{list:#}");
    // Made again, newest, so that a client that saw the first sees these as new.
    assert_ne!(notes[0]["id"], first.as_str());
    assert_eq!(list["unread_count"], 1);
    let first = notes[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(notes[0]["data"]["count"], 15);
    assert_eq!(notes[0]["data"]["records"].as_array().unwrap().len(), 10);
    app.as_(&staff)
        .post(&format!("/api/v1/notifications/{first}/read"), &json!({}))
        .await
        .expect(200);
    app.send(import(more(30, 32))).await.expect(200);
    let list = wait_for(&app, &staff, "a new notification", |i| count(i) >= 17).await;
    let notes = of_type(list["items"].as_array().unwrap(), "alert.matched");
    assert_eq!(notes.len(), 2, "{list:#}");
    assert_eq!(notes[0]["data"]["count"], 2);
    assert!(notes[0]["read_at"].is_null() && !notes[1]["read_at"].is_null());

    // The alert's hits, page by page: all seventeen, once each, none of the others.
    let mut seen = Vec::new();
    let mut offset = Some(0);
    while let Some(o) = offset {
        let page = app
            .as_(&staff)
            .get(&format!("/api/v1/alerts/{id}/hits?limit=5&offset={o}"))
            .await
            .json();
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 5);
        for h in items {
            assert_eq!(h["entity"], "faculty_profile");
            assert!(h["score"].is_null(), "{h:#}");
            seen.push(h["title"].as_str().unwrap().to_owned());
        }
        offset = page["next_offset"].as_i64();
    }
    seen.sort();
    let mut expected: Vec<String> = (0..12)
        .chain(20..23)
        .chain(30..32)
        .map(|i| format!("Researcher {i}"))
        .collect();
    expected.sort();
    assert_eq!(seen, expected);
    for bad in ["limit=0", "limit=101", "offset=-1", "offset=x", "other=1"] {
        let res = app
            .as_(&staff)
            .get(&format!("/api/v1/alerts/{id}/hits?{bad}"))
            .await;
        res.expect(400);
        res.assert_problem();
    }
}

#[actix_web::test]
async fn a_type_turned_off_is_not_delivered() {
    let app = TestApp::spawn().await;
    let uni = app.org_id("university", "NTU", "TW").await;
    let co = app.org_id("company", "TSMC", "TW").await;
    let staff = app.member_token(&co, "staff").await;
    let (prof, profile) = app.professor(&uni, json!({"name": "Huang Po-han"})).await;

    let settings = app.as_(&prof).get("/api/v1/notification-settings").await;
    settings.expect(200);
    let all = settings.json()["deliveries"].as_object().unwrap().clone();
    assert_eq!(all.len(), 12);
    assert!(all.values().all(|d| d == "in_app"));
    let res = app
        .as_(&prof)
        .put(
            "/api/v1/notification-settings",
            &json!({"deliveries": {"invitation.received": "none", "need.updated": "in_app"}}),
        )
        .await;
    res.expect(200);
    let now = res.json();
    assert_eq!(now["deliveries"]["invitation.received"], "none");
    assert_eq!(now["deliveries"]["need.updated"], "in_app");
    assert_eq!(
        app.as_(&prof)
            .get("/api/v1/notification-settings")
            .await
            .json(),
        now
    );
    for bad in [
        json!({"deliveries": {"need.exploded": "none"}}),
        json!({"deliveries": {"need.updated": "carrier_pigeon"}}),
        json!({"deliveries": []}),
        json!({}),
    ] {
        let res = app
            .as_(&prof)
            .put("/api/v1/notification-settings", &bad)
            .await;
        assert!(
            matches!(res.status.as_u16(), 400 | 422),
            "{bad}: {}",
            res.status
        );
        res.assert_problem();
    }
    assert_eq!(
        app.as_(&prof)
            .get("/api/v1/notification-settings")
            .await
            .json(),
        now,
        "a refused PUT changes nothing"
    );

    let n = need(
        &app,
        &staff,
        json!({"company_id": co, "title": "3D IC thermal", "status": "open", "visibility": "public"}),
    )
    .await;
    let e = engage(&app, &staff, &n, &profile, "invited").await;
    step(&app, &staff, &e, "closed").await;
    let list = wait_for(&app, &prof, "the closing", |i| {
        !about(i, "engagement.state_changed", &e).is_empty()
    })
    .await;
    assert!(
        of_type(list["items"].as_array().unwrap(), "invitation.received").is_empty(),
        "{list:#}"
    );
}

/// Notifications and the events behind them are forgotten after `notification_retention_days`;
/// newer ones stay.
#[actix_web::test]
async fn notifications_past_their_retention_are_forgotten() {
    let app = TestApp::spawn_with(|s| {
        s.due_scan_interval_secs = 1;
        s.notification_retention_days = 30;
    })
    .await;
    let uni = app.org_id("university", "KAIST", "KR").await;
    let co = app.org_id("company", "SK hynix", "KR").await;
    let staff = app.member_token(&co, "staff").await;
    let (prof, profile) = app
        .professor(&uni, json!({"name": "Kim Ji-ho", "keywords": ["HBM"]}))
        .await;
    let first = need(
        &app,
        &staff,
        json!({"company_id": co, "title": "HBM packaging", "status": "open", "visibility": "public"}),
    )
    .await;
    let old = engage(&app, &staff, &first, &profile, "invited").await;
    wait_for(&app, &prof, "the first invitation", |i| {
        !about(i, "invitation.received", &old).is_empty()
    })
    .await;
    // Forty days pass for everything so far.
    for table in ["notifications SET created_at", "events SET at"] {
        app.db
            .execute(&format!("UPDATE {table} = '2020-01-01 00:00:00'"));
    }
    let second = need(
        &app,
        &staff,
        json!({"company_id": co, "title": "HBM thermal", "status": "open", "visibility": "public"}),
    )
    .await;
    let new = engage(&app, &staff, &second, &profile, "invited").await;
    let list = wait_for(
        &app,
        &prof,
        "the old one forgotten, the new one kept",
        |i| {
            about(i, "invitation.received", &old).is_empty()
                && !about(i, "invitation.received", &new).is_empty()
        },
    )
    .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list:#}");
    // The old events went with it; the new ones stay.
    let old_events = app
        .db
        .try_execute("UPDATE events SET entity = entity WHERE at < '2021-01-01 00:00:00'")
        .unwrap();
    assert_eq!(old_events, 0);
    let new_events = app
        .db
        .try_execute("UPDATE events SET entity = entity WHERE at > '2021-01-01 00:00:00'")
        .unwrap();
    assert!(new_events >= 1);
}

#[actix_web::test]
async fn overdue_payments_and_coming_renewals_are_announced_once() {
    let app = TestApp::spawn_with(|s| s.due_scan_interval_secs = 1).await;
    let uni = app.org_id("university", "KAIST", "KR").await;
    let sponsor = app.org_id("company", "SK hynix", "KR").await;
    let office = app.member_token(&uni, "staff").await;
    let sponsor_staff = app.member_token(&sponsor, "staff").await;
    let project = app
        .as_(&office)
        .post(
            "/api/v1/funded-projects",
            &json!({"title": "HBM thermal", "type": "sponsored_research", "sponsor_id": sponsor,
                    "university_id": uni, "amount_minor": 300_000_000i64, "currency": "KRW",
                    "start_date": "2025-01-01", "end_date": "2027-12-31", "visibility": "participants"}),
        )
        .await;
    project.expect(201);
    let project = project.id();
    wait_for(&app, &sponsor_staff, "the new project", |i| {
        !about(i, "funded_project.created", &project).is_empty()
    })
    .await;
    let payments = format!("/api/v1/funded-projects/{project}/payments");
    let late = app
        .as_(&office)
        .post(
            &payments,
            &json!({"due_date": "2025-03-31", "amount_minor": 100_000_000i64, "currency": "KRW"}),
        )
        .await;
    late.expect(201);
    let late = late.id();
    let paid = app
        .as_(&office)
        .post(
            &payments,
            &json!({"due_date": "2099-03-31", "amount_minor": 100_000_000i64, "currency": "KRW"}),
        )
        .await;
    paid.expect(201);
    let paid = paid.id();
    app.as_(&office)
        .if_match("*")
        .patch(
            &format!("{payments}/{paid}"),
            &json!({"status": "received", "received_date": "2025-02-01"}),
        )
        .await
        .expect(200);

    let renewal = (chrono::Utc::now().date_naive() + chrono::Days::new(30)).to_string();
    let centre = app
        .as_(&office)
        .post(
            "/api/v1/centers",
            &json!({"host_university_id": uni, "name": "KAIST–SK hynix Memory Center",
                    "partners": [{"company_id": sponsor, "role": "founding_sponsor"}],
                    "renewal_date": renewal}),
        )
        .await;
    centre.expect(201);
    let centre = centre.id();
    app.as_(&office)
        .if_match("*")
        .patch(
            &format!("/api/v1/centers/{centre}"),
            &json!({"status": "active"}),
        )
        .await
        .expect(200);

    let list = wait_for(&app, &sponsor_staff, "overdue, received and renewal", |i| {
        !about(i, "payment.overdue", &late).is_empty()
            && !about(i, "payment.received", &paid).is_empty()
            && !about(i, "center.renewal_due", &centre).is_empty()
    })
    .await;
    let items = list["items"].as_array().unwrap();
    assert_eq!(
        about(items, "payment.overdue", &late)[0]["title"],
        "HBM thermal"
    );
    assert_eq!(
        about(items, "center.renewal_due", &centre)[0]["data"]["renewal_date"],
        renewal.as_str()
    );
    // The scan runs every second: still once each, a few scans later.
    actix_web::rt::time::sleep(Duration::from_secs(3)).await;
    let items = inbox(&app, &sponsor_staff).await["items"].clone();
    let items = items.as_array().unwrap();
    assert_eq!(about(items, "payment.overdue", &late).len(), 1);
    assert_eq!(about(items, "center.renewal_due", &centre).len(), 1);
    assert!(about(items, "payment.overdue", &paid).is_empty());
    // The office made these changes itself; it still hears of what time made due.
    let office_items = inbox(&app, &office).await;
    assert_eq!(
        about(
            office_items["items"].as_array().unwrap(),
            "payment.overdue",
            &late
        )
        .len(),
        1
    );
}

#[actix_web::test]
async fn bad_alerts_and_requests_are_problems_that_change_nothing() {
    let app = TestApp::spawn().await;
    let uni = app.org_id("university", "NYCU", "TW").await;
    let co = app.org_id("company", "MediaTek", "TW").await;
    let other = app.org_id("company", "Realtek", "TW").await;
    let staff = app.member_token(&co, "staff").await;
    let other_staff = app.member_token(&other, "staff").await;
    let (prof, profile) = app.professor(&uni, json!({"name": "Tsai Ming-che"})).await;
    let (_, someone_else) = app.professor(&uni, json!({"name": "Lo Chia-hui"})).await;
    let n = need(
        &app,
        &staff,
        json!({"company_id": co, "title": "Edge inference", "status": "open", "visibility": "public"}),
    )
    .await;

    app.anonymous()
        .get("/api/v1/notifications")
        .await
        .expect(401);
    app.anonymous()
        .post(
            "/api/v1/alerts",
            &json!({"name": "x", "search": {"type": "need"}}),
        )
        .await
        .expect(401);
    for (body, status, field) in [
        (
            json!({"name": "", "search": {"type": "need", "q": "edge"}}),
            422,
            "name",
        ),
        (
            json!({"name": "both", "search": {"type": "need"}, "need_id": n, "min_score": 0.5}),
            422,
            "search",
        ),
        (json!({"name": "none"}), 422, "search"),
        (json!({"name": "no score", "need_id": n}), 422, "min_score"),
        (
            json!({"name": "big score", "need_id": n, "min_score": 1.5}),
            422,
            "min_score",
        ),
        (
            json!({"name": "score on search", "search": {"type": "need"}, "min_score": 0.5}),
            422,
            "min_score",
        ),
        (
            json!({"name": "bad id", "need_id": "nope", "min_score": 0.5}),
            422,
            "need_id",
        ),
        (
            json!({"name": "bad filter", "search": {"type": "need", "department": "EE"}}),
            422,
            "search.department",
        ),
        (
            json!({"name": "bad syntax", "search": {"type": "need", "q": "title:"}}),
            422,
            "search.q",
        ),
        (
            json!({"name": "bad country", "search": {"type": "faculty", "country": "ZZZ"}}),
            422,
            "search.country",
        ),
    ] {
        let res = app.as_(&staff).post("/api/v1/alerts", &body).await;
        assert_eq!(res.status.as_u16(), status, "{body}: {}", res.text());
        let problem = res.assert_problem();
        assert!(
            problem["errors"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["field"] == field),
            "{body}: {problem:#}"
        );
    }
    // Unknown fields and wrong types are refused before anything is checked.
    let res = app
        .as_(&staff)
        .post(
            "/api/v1/alerts",
            &json!({"name": "x", "search": {"type": "need"}, "extra": 1}),
        )
        .await;
    assert!(matches!(res.status.as_u16(), 400 | 422));
    res.assert_problem();
    // Another company's need, another professor's profile: not theirs to watch.
    app.as_(&other_staff)
        .post(
            "/api/v1/alerts",
            &json!({"name": "spy", "need_id": n, "min_score": 0.1}),
        )
        .await
        .expect(403);
    app.as_(&prof)
        .post(
            "/api/v1/alerts",
            &json!({"name": "not mine", "faculty_id": someone_else, "min_score": 0.1}),
        )
        .await
        .expect(403);
    app.as_(&prof)
        .post(
            "/api/v1/alerts",
            &json!({"name": "gone", "need_id": "00000000-0000-7000-8000-000000000000", "min_score": 0.1}),
        )
        .await
        .expect(404);
    assert_eq!(
        app.as_(&staff).get("/api/v1/alerts").await.json()["items"],
        json!([]),
        "nothing was saved"
    );
    app.as_(&prof)
        .post(
            "/api/v1/alerts",
            &json!({"name": "mine", "faculty_id": profile, "min_score": 0.1}),
        )
        .await
        .expect(201);
    // At most 100 alerts an account.
    for i in 1..100 {
        alert(
            &app,
            &prof,
            json!({"name": format!("alert {i}"), "search": {"type": "need", "q": "edge"}}),
        )
        .await;
    }
    let res = app
        .as_(&prof)
        .post(
            "/api/v1/alerts",
            &json!({"name": "one more", "search": {"type": "need"}}),
        )
        .await;
    res.expect(409);
    assert_eq!(res.code(), "quota_exceeded");

    for path in [
        "/api/v1/notifications?limit=0",
        "/api/v1/notifications?cursor=%%%",
        "/api/v1/notifications?unread=maybe",
        "/api/v1/notifications?colour=red",
    ] {
        let res = app.as_(&prof).get(path).await;
        res.expect(400);
        res.assert_problem();
    }
    app.as_(&prof)
        .post("/api/v1/notifications/read", &json!({"up_to": "nope"}))
        .await
        .expect(422);
    app.as_(&prof)
        .post("/api/v1/notifications/not-an-id/read", &json!({}))
        .await
        .expect(400);
}

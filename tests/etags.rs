//! Optimistic concurrency as a client meets it: every operation that takes `If-Match` acts on a
//! resource that a GET returns with its `ETag`, and that ETag is exactly what the write checks.

mod common;

use std::collections::BTreeSet;

use actix_web::http::Method;
use common::TestApp;
use serde_json::{Value, json};

/// Every operation that takes `If-Match`: (method, path template, the template of the resource
/// whose ETag it checks). A new If-Match operation must be added here, and so walked below.
const IF_MATCH_OPERATIONS: &[(&str, &str, &str)] = &[
    (
        "patch",
        "/api/v1/compute/allocations/{id}",
        "/api/v1/compute/allocations/{id}",
    ),
    (
        "post",
        "/api/v1/compute/allocations/{id}/transitions",
        "/api/v1/compute/allocations/{id}",
    ),
    (
        "patch",
        "/api/v1/compute/resources/{id}",
        "/api/v1/compute/resources/{id}",
    ),
    (
        "post",
        "/api/v1/engagements/{id}/transitions",
        "/api/v1/engagements/{id}",
    ),
    ("patch", "/api/v1/webhooks/{id}", "/api/v1/webhooks/{id}"),
    (
        "patch",
        "/api/v1/organizations/{id}",
        "/api/v1/organizations/{id}",
    ),
    (
        "patch",
        "/api/v1/organizations/{id}/members/{user_id}",
        "/api/v1/organizations/{id}/members/{user_id}",
    ),
    ("patch", "/api/v1/faculty/{id}", "/api/v1/faculty/{id}"),
    ("patch", "/api/v1/needs/{id}", "/api/v1/needs/{id}"),
    ("patch", "/api/v1/centers/{id}", "/api/v1/centers/{id}"),
    (
        "patch",
        "/api/v1/funded-projects/{id}",
        "/api/v1/funded-projects/{id}",
    ),
    (
        "patch",
        "/api/v1/funded-projects/{id}/payments/{payment_id}",
        "/api/v1/funded-projects/{id}/payments/{payment_id}",
    ),
    (
        "delete",
        "/api/v1/funded-projects/{id}/payments/{payment_id}",
        "/api/v1/funded-projects/{id}/payments/{payment_id}",
    ),
    (
        "delete",
        "/api/v1/funded-projects/{id}",
        "/api/v1/funded-projects/{id}",
    ),
    ("delete", "/api/v1/centers/{id}", "/api/v1/centers/{id}"),
    ("delete", "/api/v1/needs/{id}", "/api/v1/needs/{id}"),
    ("delete", "/api/v1/faculty/{id}", "/api/v1/faculty/{id}"),
    (
        "delete",
        "/api/v1/organizations/{id}/members/{user_id}",
        "/api/v1/organizations/{id}/members/{user_id}",
    ),
    (
        "delete",
        "/api/v1/organizations/{id}",
        "/api/v1/organizations/{id}",
    ),
];

async fn created(res: common::Response) -> Value {
    res.expect(201);
    res.json()
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

#[actix_web::test]
async fn every_resource_that_takes_if_match_is_readable_with_its_etag() {
    let app = TestApp::spawn().await;

    // The document: the If-Match operations are exactly those walked here, and each one's
    // resource has a GET that declares its ETag.
    let spec: Value = serde_json::from_str(&liaison::http::openapi_json()).unwrap();
    let mut declared = BTreeSet::new();
    for (path, ops) in spec["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            let takes_if_match = op["parameters"]
                .as_array()
                .is_some_and(|ps| ps.iter().any(|p| p["name"] == "If-Match"));
            if takes_if_match {
                declared.insert((method.clone(), path.clone()));
            }
        }
    }
    let walked: BTreeSet<_> = IF_MATCH_OPERATIONS
        .iter()
        .map(|(m, p, _)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    assert_eq!(declared, walked, "If-Match operations in the document");
    for (_, _, resource) in IF_MATCH_OPERATIONS {
        let etag = &spec["paths"][resource]["get"]["responses"]["200"]["headers"]["ETag"];
        assert!(etag.is_object(), "GET {resource} declares no ETag");
    }

    // One of each resource.
    let uni = id(&app.create_org("university", "KAIST", "KR").await);
    let co = id(&app.create_org("company", "SK hynix", "KR").await);
    let staff = app.member_token(&co, "staff").await;
    // An admin of its own, so that the member below may be promoted and then removed.
    app.member_token(&co, "admin").await;
    let members = format!("/api/v1/organizations/{co}/members");
    let member = created(
        app.operator().post(&members, &json!({"email": "analyst@skhynix.com", "role": "staff", "display_name": "Analyst"}))
        .await,
    )
    .await;
    let profile = id(&created(
        app.operator()
            .post(
                "/api/v1/faculty?refresh=wait_for",
                &json!({"university_id": uni, "name": "Park Ji-hoon", "keywords": ["memory"]}),
            )
            .await,
    )
    .await);
    let need = id(&created(
        app.operator()
            .post(
                "/api/v1/needs?refresh=wait_for",
                &json!({"company_id": co, "title": "HBM thermal design", "status": "open",
                    "visibility": "public", "keywords": ["memory"]}),
            )
            .await,
    )
    .await);
    let engagement = id(&created(
        app.as_(&staff)
            .post(
                "/api/v1/engagements",
                &json!({"need_id": need, "faculty_id": profile, "state": "shortlisted"}),
            )
            .await,
    )
    .await);
    let center = id(&created(
        app.operator()
            .post(
                "/api/v1/centers",
                &json!({"host_university_id": uni, "name": "KAIST–SK hynix Memory Center",
                    "partners": [{"company_id": co, "role": "founding_sponsor"}]}),
            )
            .await,
    )
    .await);
    let project = id(&created(
        app.operator()
            .post(
                "/api/v1/funded-projects",
                &json!({"title": "HBM thermal", "type": "sponsored_research", "sponsor_id": co,
                    "university_id": uni, "principal_investigator_id": profile,
                    "amount_minor": 300_000_000i64, "currency": "KRW",
                    "start_date": "2027-01-01", "end_date": "2028-12-31"}),
            )
            .await,
    )
    .await);
    let payment = id(&created(
        app.operator()
            .post(
                &format!("/api/v1/funded-projects/{project}/payments"),
                &json!({"due_date": "2027-03-01", "amount_minor": 100_000_000i64,
                    "currency": "KRW", "status": "scheduled"}),
            )
            .await,
    )
    .await);

    let resource = id(&created(
        app.operator()
            .post(
                "/api/v1/compute/resources",
                &json!({"owner_id": uni, "name": "KAIST GPU platform", "kind": "gpu_cluster",
                    "unit": "gpu_hours", "period": "year", "capacity": 50000,
                    "academia_percent": 60, "industry_percent": 40}),
            )
            .await,
    )
    .await);
    let allocation = id(&created(
        app.operator()
            .post(
                "/api/v1/compute/allocations",
                &json!({"resource_id": resource, "applicant_id": co, "period": "2027",
                    "requested": 1000, "justification": "HBM thermal simulation runs"}),
            )
            .await,
    )
    .await);

    let webhook = id(&created(
        app.operator()
            .post(
                &format!("/api/v1/organizations/{co}/webhooks"),
                &json!({"url": "https://hooks.skhynix.example/liaison",
                    "event_types": ["need.published"]}),
            )
            .await,
    )
    .await);

    // Walk: GET the resource, then write with the ETag it gave. Payments and projects go before
    // what they refer to, the organization last.
    let member_path = format!("{members}/{}", member["user_id"].as_str().unwrap());
    let walk: Vec<(&str, String, String, Option<Value>)> = vec![
        (
            "patch",
            format!("/api/v1/compute/allocations/{allocation}"),
            format!("/api/v1/compute/allocations/{allocation}"),
            Some(json!({"requested": 800})),
        ),
        (
            "post",
            format!("/api/v1/compute/allocations/{allocation}/transitions"),
            format!("/api/v1/compute/allocations/{allocation}"),
            Some(json!({"to": "submitted"})),
        ),
        (
            "patch",
            format!("/api/v1/compute/resources/{resource}"),
            format!("/api/v1/compute/resources/{resource}"),
            Some(json!({"gpu_model": "H200"})),
        ),
        (
            "post",
            format!("/api/v1/engagements/{engagement}/transitions"),
            format!("/api/v1/engagements/{engagement}"),
            Some(json!({"to": "closed"})),
        ),
        (
            "patch",
            format!("/api/v1/webhooks/{webhook}"),
            format!("/api/v1/webhooks/{webhook}"),
            Some(json!({"description": "CRM"})),
        ),
        (
            "patch",
            format!("/api/v1/organizations/{co}"),
            format!("/api/v1/organizations/{co}"),
            Some(json!({"website": "https://www.skhynix.com"})),
        ),
        (
            "patch",
            member_path.clone(),
            member_path.clone(),
            Some(json!({"role": "admin"})),
        ),
        (
            "patch",
            format!("/api/v1/faculty/{profile}"),
            format!("/api/v1/faculty/{profile}"),
            Some(json!({"title": "Professor"})),
        ),
        (
            "patch",
            format!("/api/v1/needs/{need}"),
            format!("/api/v1/needs/{need}"),
            Some(json!({"title": "HBM thermal simulation"})),
        ),
        (
            "patch",
            format!("/api/v1/centers/{center}"),
            format!("/api/v1/centers/{center}"),
            Some(json!({"name": "KAIST–SK hynix Memory Centre"})),
        ),
        (
            "patch",
            format!("/api/v1/funded-projects/{project}"),
            format!("/api/v1/funded-projects/{project}"),
            Some(json!({"title": "HBM thermal simulation"})),
        ),
        (
            "patch",
            format!("/api/v1/funded-projects/{project}/payments/{payment}"),
            format!("/api/v1/funded-projects/{project}/payments/{payment}"),
            Some(json!({"note": "first instalment"})),
        ),
        (
            "delete",
            format!("/api/v1/funded-projects/{project}/payments/{payment}"),
            format!("/api/v1/funded-projects/{project}/payments/{payment}"),
            None,
        ),
        (
            "delete",
            format!("/api/v1/funded-projects/{project}"),
            format!("/api/v1/funded-projects/{project}"),
            None,
        ),
        (
            "delete",
            format!("/api/v1/centers/{center}"),
            format!("/api/v1/centers/{center}"),
            None,
        ),
        (
            "delete",
            format!("/api/v1/needs/{need}"),
            format!("/api/v1/needs/{need}"),
            None,
        ),
        (
            "delete",
            format!("/api/v1/faculty/{profile}"),
            format!("/api/v1/faculty/{profile}"),
            None,
        ),
        ("delete", member_path.clone(), member_path.clone(), None),
        (
            "delete",
            format!("/api/v1/organizations/{co}"),
            format!("/api/v1/organizations/{co}"),
            None,
        ),
    ];
    assert_eq!(walk.len(), IF_MATCH_OPERATIONS.len());
    for ((method, path, resource, body), (m, _, _)) in walk.iter().zip(IF_MATCH_OPERATIONS) {
        assert_eq!(method, m);
        // The engagement is the company's shortlist: its staff reads and moves it.
        let token = if resource.starts_with("/api/v1/engagements") {
            staff.as_str()
        } else {
            app.operator_token.as_str()
        };
        let read = app.as_(token).get(resource).await;
        read.expect(200);
        let etag = read
            .header("etag")
            .unwrap_or_else(|| panic!("GET {resource} has no ETag"));
        // A stale tag is refused, so the write really checks the tag the GET gave.
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        app.as_(token)
            .if_match("\"999\"")
            .request(method.clone(), path, body.as_ref())
            .await
            .expect(412);
        let res = app
            .as_(token)
            .if_match(&etag)
            .request(method, path, body.as_ref())
            .await;
        assert!(
            res.status.is_success(),
            "{m} {path} with the ETag of GET {resource}: {} {}",
            res.status,
            res.text()
        );
    }
}

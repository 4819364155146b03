//! Faculty profiles: the university's office manages them, the owner edits their own, and a
//! members-only profile is hidden from strangers.

use actix_web::http::Method;
use actix_web::test::TestRequest;
use serde_json::json;

use crate::Persona::{self, *};
use crate::records::{CALLERS, Records, office};
use crate::{Expect, Op, run_matrix};

async fn operation(w: &Records, row: &str, who: Persona) -> Op {
    match row {
        "create profile" => Op::Request(
            Method::POST,
            "/api/v1/faculty".into(),
            Some(json!({"university_id": w.uni, "name": "New"})),
        ),
        "update profile" => Op::Request(
            Method::PATCH,
            format!("/api/v1/faculty/{}", w.owned),
            Some(json!({"title": format!("{who:?}")})),
        ),
        "update members-only profile" => Op::Request(
            Method::PATCH,
            format!("/api/v1/faculty/{}", w.hidden),
            Some(json!({"title": format!("{who:?}")})),
        ),
        "delete profile" => Op::Request(
            Method::DELETE,
            format!("/api/v1/faculty/{}", w.fresh_profile().await),
            None,
        ),
        "restore profile" => {
            let id = w.fresh_profile().await;
            w.app
                .operator()
                .delete(&format!("/api/v1/faculty/{id}"))
                .await
                .expect(204);
            Op::Request(Method::POST, format!("/api/v1/faculty/{id}/restore"), None)
        }
        "import profiles" => Op::Raw(Box::new(
            TestRequest::post()
                .uri(&format!("/api/v1/faculty/import?university_id={}", w.uni))
                .insert_header(("content-type", "text/csv"))
                .set_payload(format!("external_id,name\n{who:?},Imported\n")),
        )),
        // The profile has no ORCID iD nor OpenAlex id: whoever may sync it gets 422 (and no
        // request leaves the machine).
        "sync profile" => Op::Request(
            Method::POST,
            format!("/api/v1/faculty/{}/sync", w.owned),
            None,
        ),
        "start bulk sync" => Op::Request(
            Method::POST,
            "/api/v1/faculty/sync".into(),
            Some(json!({"university_id": w.uni})),
        ),
        "read sync job" => {
            let res = w
                .app
                .operator()
                .post("/api/v1/faculty/sync", &json!({"university_id": w.uni}))
                .await;
            res.expect(202);
            Op::Request(Method::GET, format!("/api/v1/sync-jobs/{}", res.id()), None)
        }
        "watch needs for profile" => Op::Request(
            Method::POST,
            "/api/v1/alerts".into(),
            Some(json!({"name": "fits", "faculty_id": w.owned, "min_score": 0.3})),
        ),
        "read members-only profile" => {
            Op::Request(Method::GET, format!("/api/v1/faculty/{}", w.hidden), None)
        }
        other => panic!("unknown row {other}"),
    }
}

#[actix_web::test]
async fn profiles_matrix() {
    let w = Records::new().await;
    let rows: [(&str, Expect); 11] = [
        ("create profile", |p| office(201, p)),
        ("update profile", |p| {
            if p == Owner { 200 } else { office(200, p) }
        }),
        ("update members-only profile", |p| office(200, p)),
        ("delete profile", |p| office(204, p)),
        ("restore profile", |p| match p {
            Anonymous => 401,
            Operator => 200,
            _ => 403,
        }),
        ("import profiles", |p| office(200, p)),
        ("sync profile", |p| {
            if p == Owner { 422 } else { office(422, p) }
        }),
        ("start bulk sync", |p| office(202, p)),
        // A job one may not follow does not exist for them.
        ("read sync job", |p| match office(200, p) {
            403 => 404,
            s => s,
        }),
        ("read members-only profile", |p| {
            if p == Anonymous { 404 } else { 200 }
        }),
        // A match alert on a profile: those who may edit it.
        ("watch needs for profile", |p| {
            if p == Owner { 201 } else { office(201, p) }
        }),
    ];
    run_matrix(&w, &rows, &CALLERS, operation).await;
}

//! Project needs and their invitations: the company manages them; a confidential need is
//! seen only by the company and the professor invited to it, a draft only by the company.

use actix_web::http::Method;
use serde_json::json;

use crate::Persona::{self, *};
use crate::records::{CALLERS, Records, company};
use crate::{Expect, Op, run_matrix};

async fn operation(w: &Records, row: &str, who: Persona) -> Op {
    let (method, path, body) = match row {
        "create need" => (
            Method::POST,
            "/api/v1/needs".into(),
            Some(json!({"company_id": w.co, "title": "New need"})),
        ),
        "update need" => (
            Method::PATCH,
            format!("/api/v1/needs/{}", w.public_need),
            Some(json!({"summary": format!("{who:?}")})),
        ),
        "update confidential need" => (
            Method::PATCH,
            format!("/api/v1/needs/{}", w.confidential_need),
            Some(json!({"summary": format!("{who:?}")})),
        ),
        "delete need" => (
            Method::DELETE,
            format!("/api/v1/needs/{}", w.fresh_need().await),
            None,
        ),
        "restore need" => {
            let id = w.fresh_need().await;
            w.app
                .operator()
                .delete(&format!("/api/v1/needs/{id}"))
                .await
                .expect(204);
            (Method::POST, format!("/api/v1/needs/{id}/restore"), None)
        }
        "invite faculty" => (
            Method::POST,
            format!("/api/v1/needs/{}/invitations", w.public_need),
            Some(json!({"faculty_id": w.fresh_profile().await})),
        ),
        "list invitations" => (
            Method::GET,
            format!("/api/v1/needs/{}/invitations", w.public_need),
            None,
        ),
        "withdraw invitation" => {
            let profile = w.fresh_profile().await;
            let invitations = format!("/api/v1/needs/{}/invitations", w.public_need);
            w.app
                .operator()
                .post(&invitations, &json!({"faculty_id": profile}))
                .await
                .expect(201);
            (Method::DELETE, format!("{invitations}/{profile}"), None)
        }
        "read confidential need" => (
            Method::GET,
            format!("/api/v1/needs/{}", w.confidential_need),
            None,
        ),
        "read members-only need" => (
            Method::GET,
            format!("/api/v1/needs/{}", w.members_need),
            None,
        ),
        "read draft need" => (Method::GET, format!("/api/v1/needs/{}", w.draft_need), None),
        "watch profiles for need" => (
            Method::POST,
            "/api/v1/alerts".into(),
            Some(json!({"name": "fits", "need_id": w.public_need, "min_score": 0.3})),
        ),
        "watch profiles for confidential need" => (
            Method::POST,
            "/api/v1/alerts".into(),
            Some(json!({"name": "fits", "need_id": w.confidential_need, "min_score": 0.3})),
        ),
        other => panic!("unknown row {other}"),
    };
    Op::Request(method, path, body)
}

#[actix_web::test]
async fn needs_matrix() {
    let w = Records::new().await;
    let rows: [(&str, Expect); 13] = [
        ("create need", |p| company(201, p)),
        ("update need", |p| company(200, p)),
        ("update confidential need", |p| match p {
            InvitedFaculty => 403,
            Anonymous | Operator | CoAdmin | CoStaff => company(200, p),
            _ => 404,
        }),
        ("delete need", |p| company(204, p)),
        ("restore need", |p| match p {
            Anonymous => 401,
            Operator => 200,
            _ => 403,
        }),
        ("invite faculty", |p| company(201, p)),
        ("list invitations", |p| company(200, p)),
        ("withdraw invitation", |p| company(204, p)),
        ("read confidential need", |p| match p {
            Operator | CoAdmin | CoStaff | InvitedFaculty => 200,
            _ => 404,
        }),
        ("read members-only need", |p| {
            if p == Anonymous { 404 } else { 200 }
        }),
        ("read draft need", |p| match p {
            Operator | CoAdmin | CoStaff => 200,
            _ => 404,
        }),
        // A match alert on a need: those who manage the company's needs.
        ("watch profiles for need", |p| company(201, p)),
        ("watch profiles for confidential need", |p| match p {
            Anonymous | Operator | CoAdmin | CoStaff | InvitedFaculty => company(201, p),
            _ => 404,
        }),
    ];
    run_matrix(&w, &rows, &CALLERS, operation).await;
}

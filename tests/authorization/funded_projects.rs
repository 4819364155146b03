//! Funded projects and their payments: the performing university's office manages them,
//! participants (the sponsor, a co-investigator) read them, nobody else sees them.

use actix_web::http::Method;
use serde_json::json;

use crate::Persona;
use crate::joint::{
    JOINT, Joint, office_creates, office_manages, operator_restores, participants_read,
};
use crate::{Expect, Op, run_matrix};

async fn operation(w: &Joint, row: &str, who: Persona) -> Op {
    let (method, path, body) = match row {
        "create project" => (
            Method::POST,
            "/api/v1/funded-projects".into(),
            Some(w.project_body()),
        ),
        "update project" => (
            Method::PATCH,
            format!("/api/v1/funded-projects/{}", w.project),
            Some(json!({"description": format!("{who:?}")})),
        ),
        "delete project" => (
            Method::DELETE,
            format!("/api/v1/funded-projects/{}", w.fresh_project().await),
            None,
        ),
        "restore project" => {
            let id = w.fresh_project().await;
            w.app
                .operator()
                .delete(&format!("/api/v1/funded-projects/{id}"))
                .await
                .expect(204);
            (
                Method::POST,
                format!("/api/v1/funded-projects/{id}/restore"),
                None,
            )
        }
        "read participants-only project" => (
            Method::GET,
            format!("/api/v1/funded-projects/{}", w.project),
            None,
        ),
        "add payment" => (
            Method::POST,
            format!("/api/v1/funded-projects/{}/payments", w.project),
            Some(json!({"due_date": "2027-01-31", "amount_minor": 10, "currency": "KRW"})),
        ),
        "list payments" => (
            Method::GET,
            format!("/api/v1/funded-projects/{}/payments", w.project),
            None,
        ),
        "update payment" => (
            Method::PATCH,
            w.fresh_payment().await,
            Some(json!({"note": format!("{who:?}")})),
        ),
        "delete payment" => (Method::DELETE, w.fresh_payment().await, None),
        other => panic!("unknown row {other}"),
    };
    Op::Request(method, path, body)
}

#[actix_web::test]
async fn funded_projects_matrix() {
    let w = Joint::new().await;
    let rows: [(&str, Expect); 9] = [
        ("create project", office_creates),
        ("update project", |j| office_manages(200, j)),
        ("delete project", |j| office_manages(204, j)),
        ("restore project", operator_restores),
        ("read participants-only project", participants_read),
        ("add payment", |j| office_manages(201, j)),
        ("list payments", participants_read),
        ("update payment", |j| office_manages(200, j)),
        ("delete payment", |j| office_manages(204, j)),
    ];
    run_matrix(&w, &rows, &JOINT, operation).await;
}

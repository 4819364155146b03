//! Joint lab centres: the host university's office manages them, participants read a
//! participants-only centre, and search finds it exactly for those who may read it.

use actix_web::http::Method;
use serde_json::json;

use crate::Persona;
use crate::joint::{
    JOINT, Joint, office_creates, office_manages, operator_restores, participants_read,
};
use crate::{Expect, Op, Stage, run_matrix};

async fn operation(w: &Joint, row: &str, who: Persona) -> Op {
    match row {
        "create centre" => Op::Request(
            Method::POST,
            "/api/v1/centers".into(),
            Some(w.center_body("participants")),
        ),
        "update centre" => Op::Request(
            Method::PATCH,
            format!("/api/v1/centers/{}", w.center),
            Some(json!({"description": format!("{who:?}")})),
        ),
        "delete centre" => Op::Request(
            Method::DELETE,
            format!("/api/v1/centers/{}", w.fresh_center("participants").await),
            None,
        ),
        "restore centre" => {
            let id = w.fresh_center("participants").await;
            w.app
                .operator()
                .delete(&format!("/api/v1/centers/{id}"))
                .await
                .expect(204);
            Op::Request(Method::POST, format!("/api/v1/centers/{id}/restore"), None)
        }
        "read participants-only centre" => {
            Op::Request(Method::GET, format!("/api/v1/centers/{}", w.center), None)
        }
        "read public centre" => Op::Request(
            Method::GET,
            format!("/api/v1/centers/{}", w.fresh_center("public").await),
            None,
        ),
        "search participants-only centre" => {
            // The centre is found in search exactly when its GET succeeds.
            w.app
                .operator()
                .if_match("*")
                .patch(
                    &format!("/api/v1/centers/{}?refresh=wait_for", w.center),
                    &json!({"focus_areas": ["matrixprobe"]}),
                )
                .await
                .expect(200);
            let res = w
                .app
                .caller(w.cast().token(who))
                .get("/api/v1/search?type=center&q=matrixprobe")
                .await;
            Op::Found(res.text().contains(&w.center))
        }
        other => panic!("unknown row {other}"),
    }
}

#[actix_web::test]
async fn centres_matrix() {
    let w = Joint::new().await;
    let rows: [(&str, Expect); 7] = [
        ("create centre", office_creates),
        ("update centre", |j| office_manages(200, j)),
        ("delete centre", |j| office_manages(204, j)),
        ("restore centre", operator_restores),
        ("read participants-only centre", participants_read),
        ("read public centre", |_| 200),
        ("search participants-only centre", participants_read),
    ];
    run_matrix(&w, &rows, &JOINT, operation).await;
}

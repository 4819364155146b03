//! Engagements: the company shortlists and invites, the profile's owner answers; a caller
//! who may not see the need (or the engagement) gets 404. The profile's university office
//! follows its engagements once disclosed to the professor (not the company's shortlist), and
//! may not move them.

use actix_web::http::Method;
use serde_json::{Value, json};

use crate::Persona::{self, *};
use crate::records::{CALLERS, Records, company};
use crate::{Expect, Op, run_matrix};

async fn operation(w: &Records, row: &str, _who: Persona) -> Op {
    let (method, path, body) = match row {
        "shortlist faculty" | "invite faculty by engagement" => (
            Method::POST,
            "/api/v1/engagements".into(),
            Some(
                json!({"need_id": w.public_need, "faculty_id": w.fresh_profile().await,
                "state": if row == "shortlist faculty" { "shortlisted" } else { "invited" }}),
            ),
        ),
        "invite faculty to confidential need" => (
            Method::POST,
            "/api/v1/engagements".into(),
            Some(
                json!({"need_id": w.confidential_need, "faculty_id": w.fresh_profile().await,
                "state": "invited"}),
            ),
        ),
        "express interest" => (
            Method::POST,
            "/api/v1/engagements".into(),
            Some(
                json!({"need_id": w.fresh_need().await, "faculty_id": w.owned,
                "state": "interested"}),
            ),
        ),
        "express interest in confidential need" => (
            Method::POST,
            "/api/v1/engagements".into(),
            Some(
                json!({"need_id": w.confidential_need, "faculty_id": w.owned,
                "state": "interested"}),
            ),
        ),
        "list engagements" => (Method::GET, "/api/v1/engagements?limit=100".into(), None),
        "read invited engagement" => (
            Method::GET,
            format!("/api/v1/engagements/{}", w.invited_engagement),
            None,
        ),
        "read shortlisted engagement" => (
            Method::GET,
            format!("/api/v1/engagements/{}", w.shortlisted_engagement),
            None,
        ),
        "invite shortlisted"
        | "accept invitation"
        | "decline invitation"
        | "withdraw engagement invitation"
        | "record agreement"
        | "end interest" => {
            let (start, moves, to): (&str, &[&str], Value) = match row {
                "invite shortlisted" => ("shortlisted", &[], json!({"to": "invited"})),
                "accept invitation" => ("invited", &[], json!({"to": "interested"})),
                "decline invitation" => (
                    "invited",
                    &[],
                    json!({"to": "declined", "reason_code": "no_capacity"}),
                ),
                "withdraw engagement invitation" => ("invited", &[], json!({"to": "closed"})),
                "record agreement" => ("invited", &["interested"], json!({"to": "agreed"})),
                _ => ("invited", &["interested"], json!({"to": "closed"})),
            };
            let id = w.fresh_engagement(start, moves).await;
            (
                Method::POST,
                format!("/api/v1/engagements/{id}/transitions"),
                Some(to),
            )
        }
        other => panic!("unknown row {other}"),
    };
    Op::Request(method, path, body)
}

#[actix_web::test]
async fn engagements_matrix() {
    let w = Records::new().await;
    let rows: [(&str, Expect); 14] = [
        ("shortlist faculty", |p| company(201, p)),
        ("invite faculty by engagement", |p| company(201, p)),
        ("invite faculty to confidential need", |p| match p {
            InvitedFaculty => 403,
            Anonymous | Operator | CoAdmin | CoStaff => company(201, p),
            _ => 404,
        }),
        ("express interest", |p| match p {
            Anonymous => 401,
            Operator | Owner => 201,
            _ => 403,
        }),
        ("express interest in confidential need", |p| match p {
            Anonymous => 401,
            Operator => 201,
            // The company sees the need but the profile is not theirs to speak for.
            CoAdmin | CoStaff | InvitedFaculty => 403,
            _ => 404,
        }),
        (
            "list engagements",
            |p| {
                if p == Anonymous { 401 } else { 200 }
            },
        ),
        ("read invited engagement", |p| match p {
            Anonymous => 401,
            Operator | CoAdmin | CoStaff | Owner | UniAdmin | UniStaff => 200,
            _ => 404,
        }),
        ("read shortlisted engagement", |p| match p {
            Anonymous => 401,
            Operator | CoAdmin | CoStaff => 200,
            _ => 404,
        }),
        ("invite shortlisted", |p| match p {
            Anonymous => 401,
            Operator | CoAdmin | CoStaff => 200,
            _ => 404,
        }),
        ("accept invitation", |p| match p {
            Anonymous => 401,
            Operator | Owner => 200,
            CoAdmin | CoStaff | UniAdmin | UniStaff => 403,
            _ => 404,
        }),
        ("decline invitation", |p| match p {
            Anonymous => 401,
            Operator | Owner => 200,
            CoAdmin | CoStaff | UniAdmin | UniStaff => 403,
            _ => 404,
        }),
        ("withdraw engagement invitation", |p| match p {
            Anonymous => 401,
            Operator | CoAdmin | CoStaff => 200,
            Owner | UniAdmin | UniStaff => 403,
            _ => 404,
        }),
        ("record agreement", |p| match p {
            Anonymous => 401,
            Operator | CoAdmin | CoStaff => 200,
            Owner | UniAdmin | UniStaff => 403,
            _ => 404,
        }),
        ("end interest", |p| match p {
            Anonymous => 401,
            Operator | CoAdmin | CoStaff | Owner => 200,
            UniAdmin | UniStaff => 403,
            _ => 404,
        }),
    ];
    run_matrix(&w, &rows, &CALLERS, operation).await;
}

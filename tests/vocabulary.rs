//! The vocabularies a client reads in docs/api.md are the ones the code declares: every table
//! there lists exactly the codes of its enum, with the same wire names, statuses and titles,
//! so the documentation cannot drift from the code (or the code from what was published);
//! and text in the database that names no value of its stored enum is a server fault, not a
//! panic.

mod common;

use std::collections::BTreeSet;

use common::TestApp;

use liaison::error::{ErrorCode, FieldCode};

const API_MD: &str = include_str!("../docs/api.md");

/// The rows of the first table after `heading` in docs/api.md whose header row is `header`,
/// each split into trimmed cells.
fn table(heading: &str, header: &str) -> Vec<Vec<String>> {
    let Some(start) = API_MD.find(heading) else {
        panic!("docs/api.md has no heading {heading:?}");
    };
    let section = &API_MD[start..];
    let Some(at) = section.find(header) else {
        panic!("docs/api.md has no table {header:?} under {heading:?}");
    };
    section[at..]
        .lines()
        .skip(2) // the header and the |---| row
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            l.trim_matches('|')
                .split(" | ")
                .map(|c| c.trim().to_owned())
                .collect()
        })
        .collect()
}

fn unquote(cell: &str) -> String {
    cell.trim_matches('`').to_owned()
}

#[test]
fn the_error_table_lists_every_code_with_its_status_and_title() {
    let documented: BTreeSet<(String, u16, String)> =
        table("## Errors", "| status | `code` | title | when |")
            .into_iter()
            .map(|row| {
                let status = row[0].parse().unwrap_or(0);
                (unquote(&row[1]), status, row[2].clone())
            })
            .collect();
    let declared: BTreeSet<(String, u16, String)> = ErrorCode::ALL
        .iter()
        .map(|c| (c.as_str().to_owned(), c.status(), c.title().to_owned()))
        .collect();
    assert_eq!(
        documented, declared,
        "docs/api.md's error table and ErrorCode differ"
    );
    assert_eq!(
        declared.len(),
        ErrorCode::ALL.len(),
        "a wire name is used twice"
    );
}

#[test]
fn error_codes_serialise_to_their_wire_names() {
    for code in ErrorCode::ALL {
        assert_eq!(
            serde_json::to_value(code).ok(),
            Some(serde_json::Value::from(code.as_str())),
        );
    }
}

#[test]
fn the_field_code_table_lists_every_code_with_its_meaning() {
    let documented: BTreeSet<(String, String)> = table("### Field codes", "| `code` | meaning |")
        .into_iter()
        .map(|row| (unquote(&row[0]), row[1].clone()))
        .collect();
    let declared: BTreeSet<(String, String)> = FieldCode::ALL
        .iter()
        .map(|c| (c.as_str().to_owned(), c.meaning().to_owned()))
        .collect();
    assert_eq!(
        documented, declared,
        "docs/api.md's field codes and FieldCode differ"
    );
    assert_eq!(
        declared.len(),
        FieldCode::ALL.len(),
        "a wire name is used twice"
    );
}

#[test]
fn field_codes_serialise_to_their_wire_names_and_back() {
    let problems = ErrorCode::ALL.iter().map(|c| FieldCode::Problem(*c));
    for code in FieldCode::ALL.iter().copied().chain(problems) {
        let json = serde_json::to_value(code).ok();
        assert_eq!(json, Some(serde_json::Value::from(code.as_str())));
        let back: Option<FieldCode> = json.and_then(|j| serde_json::from_value(j).ok());
        // `invalid_header` is both a field code and an error code: it reads back as the former.
        assert_eq!(back.map(FieldCode::as_str), Some(code.as_str()));
    }
    assert!(serde_json::from_value::<FieldCode>("no_such_code".into()).is_err());
}

/// `audit_log.entity` has no CHECK constraint on either backend, so a value no version of the
/// service writes can be put there (past the trigger that keeps the log append-only, dropped
/// in this test's own database): reading it must fail as a logged 500 that names nothing of
/// it, and the server must go on answering.
#[actix_web::test]
async fn unknown_stored_text_is_an_internal_error() {
    let app = TestApp::spawn().await;
    app.org_id("company", "Acme", "TW").await;
    let before = app.operator().get("/api/v1/audit").await;
    before.expect(200);
    assert!(!before.json()["items"].as_array().unwrap().is_empty());

    app.db.execute(if app.db.is_postgres() {
        "DROP TRIGGER audit_log_immutable ON audit_log"
    } else {
        "DROP TRIGGER audit_log_no_update"
    });
    app.db.execute("UPDATE audit_log SET entity = 'spaceship'");
    let res = app.operator().get("/api/v1/audit").await;
    res.expect(500);
    assert_eq!(res.code(), "internal");
    assert!(!res.text().contains("spaceship"), "{}", res.text());

    app.anonymous()
        .get("/api/v1/organizations")
        .await
        .expect(200);
}

/// Every stored enum: the wire name serde writes is the text the database holds, and reads
/// back as the same value.
#[test]
fn stored_enums_serialise_to_the_text_they_are_stored_as() {
    use liaison::domain::stored::*;
    macro_rules! check {
        ($($t:ty),+) => {$(
            for v in <$t>::ALL {
                assert_eq!(serde_json::to_value(v).ok(), Some(serde_json::Value::from(v.as_str())));
                assert_eq!(<$t>::from_wire(v.as_str()), Some(v));
                assert_eq!(v.to_string(), v.as_str());
            }
        )+};
    }
    check!(
        Role,
        AuditAction,
        AuditEntity,
        ParticipantVisibility,
        CenterStatus,
        PartnerRole,
        EngagementState,
        DeclineReason,
        CollaborationType,
        ProfileVisibility,
        InvitationStatus,
        NeedStatus,
        NeedVisibility,
        OrganizationKind,
        ProjectType,
        ProjectStatus,
        PaymentStatus
    );
}

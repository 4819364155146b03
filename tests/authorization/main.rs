//! The authorization matrices: every write endpoint (and every read whose answer depends on
//! who asks) × every persona, with the status each persona should get. One module per
//! subject, one vocabulary of callers ([`Persona`]) for all of them. A new endpoint must add
//! its rows here.
//!
//! One test binary (each binary costs a link); the subjects are its modules.

#[path = "../common/mod.rs"]
mod common;

mod centers;
mod compute;
mod engagements;
mod faculty;
mod funded_projects;
mod joint;
mod needs;
mod organizations;
mod records;

use actix_web::http::Method;
use actix_web::test::TestRequest;
use common::{Response, TestApp};
use serde_json::Value;

/// Who calls. "The university" and "the company" are the organizations whose records a
/// matrix is about (in the centres matrix: the host university, and the partner company that
/// also sponsors the project); "other" ones are organizations of the same kind that have no
/// part in them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Persona {
    /// No token.
    Anonymous,
    /// Logged in, member of no organization.
    NoOrg,
    /// The platform operator.
    Operator,
    UniAdmin,
    UniStaff,
    /// A professor of the university with no part in the records.
    UniFaculty,
    /// A professor of the university who owns the profile under test.
    Owner,
    OtherUniAdmin,
    OtherUniStaff,
    OtherUniFaculty,
    /// A professor of another university whose profile was invited to the confidential need.
    InvitedFaculty,
    /// A professor of another university whose profile is a member of the centre and a
    /// co-investigator of the project.
    MemberFaculty,
    CoAdmin,
    CoStaff,
    OtherCoStaff,
    /// Staff of the organization that owns the compute resource (a national facility).
    FacilityStaff,
}

/// The status a persona should get for one operation.
pub type Expect = fn(Persona) -> u16;

/// The personas of one matrix with their tokens.
pub struct Cast {
    tokens: Vec<(Persona, Option<String>)>,
}

impl Cast {
    /// `Anonymous`, `Operator` and a new member for each `(persona, organization id, role)`.
    pub async fn new(app: &TestApp, members: &[(Persona, &str, &str)]) -> Self {
        let mut tokens = vec![
            (Persona::Anonymous, None),
            (Persona::Operator, Some(app.operator_token.clone())),
        ];
        for (who, org, role) in members {
            tokens.push((*who, Some(app.member_token(org, role).await)));
        }
        Self { tokens }
    }

    /// Adds `NoOrg`: an account that belongs to no organization.
    pub async fn with_no_org(mut self, app: &TestApp) -> Self {
        app.create_user("nobody@example.com", common::PASSWORD, false)
            .await;
        let token = app.login("nobody@example.com", common::PASSWORD).await;
        self.tokens.push((Persona::NoOrg, Some(token)));
        self
    }

    pub fn token(&self, who: Persona) -> Option<&str> {
        self.tokens
            .iter()
            .find(|(w, _)| *w == who)
            .unwrap_or_else(|| panic!("{who:?} is not in this cast"))
            .1
            .as_deref()
    }
}

/// A matrix's application and callers.
pub trait Stage {
    fn app(&self) -> &TestApp;
    fn cast(&self) -> &Cast;
}

/// What one cell does.
pub enum Op {
    /// A request with `If-Match: *` (so that no cell depends on an ETag).
    Request(Method, String, Option<Value>),
    /// A request built by hand (an upload), sent with the persona's token.
    Raw(Box<TestRequest>),
    /// Whether the persona found the record (by search): right exactly when it may read it
    /// (the row expects 200).
    Found(bool),
}

/// The cells run so far and those that went wrong.
#[derive(Default)]
pub struct Tally {
    cells: usize,
    failures: Vec<String>,
}

impl Tally {
    /// Counts a cell, and whether it answered `want` (an error as a problem document).
    pub fn status(&mut self, row: &str, who: Persona, res: &Response, want: u16) -> bool {
        self.cells += 1;
        if res.status.as_u16() != want {
            self.failures.push(format!(
                "{row} as {who:?}: got {}, want {want}: {}",
                res.status,
                res.text()
            ));
            return false;
        }
        if want >= 400 {
            res.assert_problem();
        }
        true
    }

    /// Counts a cell that asks whether the persona found a record it may (200) or may not read.
    pub fn found(&mut self, row: &str, who: Persona, found: bool, want: u16) {
        self.cells += 1;
        if found != (want == 200) {
            self.failures
                .push(format!("{row} as {who:?}: found = {found}"));
        }
    }

    pub fn fail(&mut self, failure: String) {
        self.failures.push(failure);
    }

    #[track_caller]
    pub fn assert_all_right(self, cells: usize) {
        assert!(
            self.failures.is_empty(),
            "{} of {} cells wrong:\n{}",
            self.failures.len(),
            self.cells,
            self.failures.join("\n")
        );
        assert_eq!(self.cells, cells);
    }
}

/// Runs every row for every persona of `personas` (in that order) and asserts each cell.
/// A `read …` row also checks that the record's list shows it exactly when its GET succeeds.
pub async fn run_matrix<W: Stage>(
    w: &W,
    rows: &[(&str, Expect)],
    personas: &[Persona],
    operation: impl AsyncFn(&W, &str, Persona) -> Op,
) {
    let mut tally = Tally::default();
    for (name, expect) in rows {
        for &who in personas {
            let want = expect(who);
            let token = w.cast().token(who);
            let (res, read) = match operation(w, name, who).await {
                Op::Found(found) => {
                    tally.found(name, who, found, want);
                    continue;
                }
                Op::Raw(req) => {
                    let mut req = *req;
                    if let Some(t) = token {
                        req = req.insert_header(("authorization", format!("Bearer {t}")));
                    }
                    (w.app().send(req).await, None)
                }
                Op::Request(method, path, body) => {
                    let res = w
                        .app()
                        .caller(token)
                        .if_match("*")
                        .request(method.clone(), &path, body.as_ref())
                        .await;
                    let read = (method == Method::GET && name.starts_with("read")).then_some(path);
                    (res, read)
                }
            };
            if !tally.status(name, who, &res, want) {
                continue;
            }
            // What a caller may not read, a list does not show either; what it may, it does.
            if let Some(path) = read {
                let (collection, id) = path.rsplit_once('/').unwrap();
                let listed = w
                    .app()
                    .caller(token)
                    .get(&format!("{collection}?limit=100"))
                    .await
                    .text()
                    .contains(id);
                if listed != (want == 200) {
                    tally.fail(format!(
                        "{name} as {who:?}: listed = {listed}, but GET gave {want}"
                    ));
                }
            }
        }
    }
    tally.assert_all_right(rows.len() * personas.len());
}

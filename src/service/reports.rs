//! Reports for liaison offices: computed exactly from the database (integer counts and
//! minor units; medians of durations), readable by the university's admins and staff and
//! operators, and rendered as JSON or as CSV (RFC 4180, UTF-8 with a byte-order mark so that
//! spreadsheet programs show Korean and Chinese correctly).

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime};

use crate::api::engagements::EngagementState;
use crate::api::reports::{FunnelReport, ReportParams};
use crate::db::Db;
use crate::db::engagements::EventRow;
use crate::domain::PublicId;
use crate::error::{AppError, AppResult, FieldError};

use super::policy::{self, Action, Caller};

/// A report as a table: what the CSV form shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(columns: &[&str]) -> Self {
        Self {
            columns: columns.iter().map(|c| (*c).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// RFC 4180: CRLF line ends; fields with a comma, quote, CR or LF quoted, quotes doubled;
    /// preceded by a UTF-8 byte-order mark.
    pub fn to_csv(&self) -> String {
        fn field(s: &str) -> String {
            if s.contains([',', '"', '\r', '\n']) {
                format!("\"{}\"", s.replace('"', "\"\""))
            } else {
                s.to_owned()
            }
        }
        let mut out = String::from("\u{feff}");
        for line in std::iter::once(&self.columns).chain(&self.rows) {
            let cells: Vec<String> = line.iter().map(|c| field(c)).collect();
            out.push_str(&cells.join(","));
            out.push_str("\r\n");
        }
        out
    }
}

/// Checked report parameters.
pub struct Period {
    pub university_id: String,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

impl Period {
    fn parse(p: &ReportParams) -> AppResult<Self> {
        let mut errors = Vec::new();
        let university_id = PublicId::parse(&p.university_id);
        if university_id.is_none() {
            errors.push(FieldError::new(
                "university_id",
                "invalid_id",
                "must be an id",
            ));
        }
        if let (Some(f), Some(t)) = (p.from, p.to)
            && t <= f
        {
            errors.push(FieldError::new("to", "before_from", "must be after `from`"));
        }
        match university_id {
            Some(university_id) if errors.is_empty() => Ok(Self {
                university_id,
                from: p.from,
                to: p.to,
            }),
            _ => Err(AppError::query(errors)),
        }
    }

    fn bounds(&self) -> (Option<NaiveDateTime>, Option<NaiveDateTime>) {
        (
            self.from.and_then(|d| d.and_hms_opt(0, 0, 0)),
            self.to.and_then(|d| d.and_hms_opt(0, 0, 0)),
        )
    }
}

/// Checks the caller may read the university's reports (404 for an unknown university).
async fn authorized(db: &Db, caller: Option<&Caller>, p: &ReportParams) -> AppResult<Period> {
    let period = Period::parse(p)?;
    let id = period.university_id.clone();
    let kind = db
        .run(move |c| {
            Ok(crate::db::organizations::find(c, &id)?
                .filter(|o| o.deleted_at.is_none())
                .map(|o| o.kind))
        })
        .await?;
    if kind.as_deref() != Some("university") {
        // Callers who could read it learn it is not a university; others learn nothing.
        policy::authorize(
            caller,
            Action::ViewReports {
                university_id: &period.university_id,
            },
        )?;
        return Err(AppError::not_found("University"));
    }
    policy::authorize(
        caller,
        Action::ViewReports {
            university_id: &period.university_id,
        },
    )?;
    Ok(period)
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

/// The first invitation and the professor's first answer after it.
fn time_to_first_response(events: &[EventRow]) -> (bool, Option<f64>) {
    let invited = events.iter().find(|e| e.to_state == "invited");
    let Some(invited) = invited else {
        return (false, None);
    };
    let answer = events
        .iter()
        .filter(|e| e.seq > invited.seq)
        .find(|e| e.to_state == "interested" || e.to_state == "declined");
    (
        true,
        answer.map(|a| (a.at - invited.at).num_seconds().max(0) as f64 / 3600.0),
    )
}

pub async fn funnel(
    db: &Db,
    caller: Option<&Caller>,
    p: ReportParams,
) -> AppResult<(FunnelReport, Table)> {
    let period = authorized(db, caller, &p).await?;
    let (from, to) = period.bounds();
    let uni = period.university_id.clone();
    let rows = db
        .run(move |c| {
            Ok(crate::db::reports::engagements_of_university(
                c, &uni, from, to,
            )?)
        })
        .await?;
    let mut by_state: BTreeMap<String, u64> = EngagementState::ALL
        .iter()
        .map(|s| (s.as_str().to_owned(), 0))
        .collect();
    let mut needs = std::collections::HashSet::new();
    let (mut invited, mut responded, mut agreed) = (0u64, 0u64, 0u64);
    let mut waits = Vec::new();
    for (e, events) in &rows {
        *by_state.entry(e.state.clone()).or_default() += 1;
        needs.insert(e.need_id.clone());
        let (was_invited, answered) = time_to_first_response(events);
        if was_invited {
            invited += 1;
        }
        if let Some(h) = answered {
            responded += 1;
            waits.push(h);
        }
        if events.iter().any(|ev| ev.to_state == "agreed") {
            agreed += 1;
        }
    }
    let report = FunnelReport {
        university_id: period.university_id,
        from: period.from,
        to: period.to,
        needs: needs.len() as u64,
        engagements: rows.len() as u64,
        engagements_by_state: by_state,
        invited,
        responded,
        median_hours_to_first_response: median(waits),
        agreed,
    };
    let mut t = Table::new(&["stage", "count"]);
    t.row(vec!["needs".into(), report.needs.to_string()]);
    t.row(vec!["engagements".into(), report.engagements.to_string()]);
    for (state, n) in &report.engagements_by_state {
        t.row(vec![format!("engagements_{state}"), n.to_string()]);
    }
    t.row(vec!["invited".into(), report.invited.to_string()]);
    t.row(vec!["responded".into(), report.responded.to_string()]);
    t.row(vec!["agreed".into(), report.agreed.to_string()]);
    t.row(vec![
        "median_hours_to_first_response".into(),
        report
            .median_hours_to_first_response
            .map(|h| format!("{h:.2}"))
            .unwrap_or_default(),
    ]);
    Ok((report, t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_what_needs_quoting_and_starts_with_a_bom() {
        let mut t = Table::new(&["name", "note"]);
        t.row(vec!["國立陽明交通大學".into(), "a, \"b\"\nc".into()]);
        t.row(vec!["서울대학교".into(), "plain".into()]);
        assert_eq!(
            t.to_csv(),
            "\u{feff}name,note\r\n國立陽明交通大學,\"a, \"\"b\"\"\nc\"\r\n서울대학교,plain\r\n"
        );
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), Some(2.5));
    }
}

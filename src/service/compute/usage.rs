//! Usage from the scheduler: Slurm's accounting records, as `sacct` writes them with
//! `--parsable2 --noheader --format=JobID,Account,User,Partition,AllocTRES,ElapsedRaw,Start,End,State`,
//! charged to the allocations whose scheduler account ran them.
//!
//! A finished job is charged once, keyed by the resource and its job id, so importing the
//! same records again changes nothing and a later record of the same job (a requeue, a
//! corrected accounting entry) replaces the earlier one. The charge is the units the job held
//! (`gres/gpu` for GPU-hours, `node` for node-hours, from `AllocTRES`) times its elapsed
//! seconds. Job steps (`123.batch`) repeat their job's allocation and are skipped, as are
//! jobs still pending or running. A job is charged to the active or expired allocation of
//! its account whose period contains the job's start.

use chrono::NaiveDateTime;

use crate::db::compute::{self as rows, ResourceRow, UsageRow};
use crate::db::{Db, DbConn};
use crate::domain::{Period, PublicId};
use crate::dto::compute::{ComputeUnit, UsageImportReport, UsageImportRow, UsageImportStatus};
use crate::error::{AppError, AppResult, FieldCode, FieldError};
use crate::service::now;
use crate::service::policy::{self, Action, Caller};

/// The columns, in the order the `--format` above gives them.
pub const COLUMNS: [&str; 9] = [
    "JobID",
    "Account",
    "User",
    "Partition",
    "AllocTRES",
    "ElapsedRaw",
    "Start",
    "End",
    "State",
];

/// Lines per transaction: a large file neither holds the writer for long nor is lost whole
/// when one batch fails.
const BATCH: usize = 500;

/// Job states in which a job is not over yet: charged once it is.
const UNFINISHED: [&str; 6] = [
    "PENDING",
    "RUNNING",
    "REQUEUED",
    "RESIZING",
    "SUSPENDED",
    "STOPPED",
];

/// One job line, read.
#[derive(Debug, Clone, PartialEq)]
struct Job {
    id: String,
    account: String,
    user: String,
    partition: String,
    gpus: i64,
    nodes: i64,
    elapsed: i64,
    start: NaiveDateTime,
    end: NaiveDateTime,
    state: String,
}

/// What a line is: a job to charge, or a line that charges nothing and why.
#[derive(Debug, PartialEq)]
enum Line {
    Job(Job),
    Skip { job: Option<String>, note: String },
}

fn field_error(field: &str, message: impl Into<String>) -> FieldError {
    FieldError::new(field, FieldCode::Invalid, message)
}

fn time(field: &str, v: &str) -> Result<NaiveDateTime, FieldError> {
    NaiveDateTime::parse_from_str(v.trim(), "%Y-%m-%dT%H:%M:%S").map_err(|_| {
        field_error(
            field,
            format!("must be a time like 2027-01-05T09:30:00 (got `{v}`)"),
        )
    })
}

/// A count in `AllocTRES` (`cpu=8,gres/gpu=2,mem=64G,node=1`). GPUs are `gres/gpu`, or the
/// sum of typed entries (`gres/gpu:h100=2`) when only those are given.
fn tres_count(tres: &str, key: &str) -> Result<i64, FieldError> {
    let mut exact = None;
    let mut typed = 0i64;
    for entry in tres.split(',').filter(|e| !e.is_empty()) {
        let Some((k, v)) = entry.split_once('=') else {
            return Err(field_error(
                "AllocTRES",
                format!("`{entry}` is not name=value"),
            ));
        };
        let count = || {
            v.parse::<i64>()
                .ok()
                .filter(|n| (0..=10_000_000).contains(n))
                .ok_or_else(|| field_error("AllocTRES", format!("`{entry}` is not a count")))
        };
        if k == key {
            exact = Some(count()?);
        } else if let Some(rest) = k.strip_prefix(key)
            && rest.starts_with(':')
        {
            typed += count()?;
        }
    }
    Ok(exact.unwrap_or(typed))
}

/// A job id the report may echo: short, and free of control characters.
fn readable_job_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && !id.chars().any(char::is_control)
}

/// The value, or `None` with its error kept.
fn keep<T>(errors: &mut Vec<FieldError>, r: Result<T, FieldError>) -> Option<T> {
    r.map_err(|e| errors.push(e)).ok()
}

fn parse_line(line: &str) -> Result<Line, Vec<FieldError>> {
    let cells: Vec<&str> = line.split('|').collect();
    if cells.len() != COLUMNS.len() {
        return Err(vec![FieldError::new(
            "row",
            FieldCode::Invalid,
            format!(
                "has {} fields; expected {} separated by `|` ({})",
                cells.len(),
                COLUMNS.len(),
                COLUMNS.join("|")
            ),
        )]);
    }
    let [
        id,
        account,
        user,
        partition,
        tres,
        elapsed,
        start,
        end,
        state,
    ] = [0, 1, 2, 3, 4, 5, 6, 7, 8].map(|i| cells[i].trim());
    if id == "JobID" {
        return Ok(Line::Skip {
            job: None,
            note: "a header line (sacct without --noheader)".into(),
        });
    }
    if !readable_job_id(id) {
        return Err(vec![field_error("JobID", "must be a job id")]);
    }
    if id.contains('.') {
        return Ok(Line::Skip {
            job: Some(id.into()),
            note: "a job step; its job's own line is charged".into(),
        });
    }
    // `CANCELLED by 1234`: the state is the first word.
    let state = state.split_whitespace().next().unwrap_or("").to_uppercase();
    if UNFINISHED.contains(&state.as_str()) {
        return Ok(Line::Skip {
            job: Some(id.into()),
            note: format!("{state}: not finished; import it again once it ends"),
        });
    }
    let mut errors = Vec::new();
    let text = |field: &str, v: &str| {
        if v.is_empty() || v.chars().count() > 128 || v.chars().any(char::is_control) {
            Err(field_error(field, "must be 1-128 characters"))
        } else {
            Ok(v.to_owned())
        }
    };
    let account = keep(
        &mut errors,
        text("Account", account).map(|a| a.to_lowercase()),
    );
    let user = keep(&mut errors, text("User", user));
    let partition = keep(
        &mut errors,
        if partition.is_empty() {
            Ok(String::new())
        } else {
            text("Partition", partition)
        },
    );
    let gpus = keep(&mut errors, tres_count(tres, "gres/gpu"));
    let nodes = keep(&mut errors, tres_count(tres, "node"));
    let elapsed = keep(
        &mut errors,
        elapsed
            .parse::<i64>()
            .ok()
            .filter(|s| (0..=100 * 365 * 86_400).contains(s))
            .ok_or_else(|| field_error("ElapsedRaw", "must be whole seconds")),
    );
    let start = keep(&mut errors, time("Start", start));
    let end = keep(&mut errors, time("End", end));
    if state.is_empty() {
        errors.push(field_error("State", "must be a job state"));
    }
    match (account, user, partition, gpus, nodes, elapsed, start, end) {
        (
            Some(account),
            Some(user),
            Some(partition),
            Some(gpus),
            Some(nodes),
            Some(elapsed),
            Some(start),
            Some(end),
        ) if errors.is_empty() => Ok(Line::Job(Job {
            id: id.into(),
            account,
            user,
            partition,
            gpus,
            nodes,
            elapsed,
            start,
            end,
            state,
        })),
        _ => Err(errors),
    }
}

/// Charges one job: what it is charged, to which allocation, and whether that is new.
fn charge(
    conn: &mut DbConn,
    resource: &ResourceRow,
    job: Job,
    at: NaiveDateTime,
) -> AppResult<UsageImportRow> {
    let units = match resource.unit {
        ComputeUnit::NodeHours => job.nodes,
        _ => job.gpus,
    };
    let mut out = UsageImportRow {
        row: 0,
        job: Some(job.id.clone()),
        status: UsageImportStatus::Skipped,
        allocation_id: None,
        charged: None,
        note: None,
        errors: Vec::new(),
    };
    if units == 0 || job.elapsed == 0 {
        out.note = Some(match resource.unit {
            ComputeUnit::NodeHours => "held no nodes, or ran for no time".into(),
            _ => "held no GPUs (no gres/gpu in AllocTRES), or ran for no time".into(),
        });
        return Ok(out);
    }
    let period = Period::containing(resource.period, job.start.date());
    let allocation = rows::chargeable(conn, &resource.id, &job.account)?
        .into_iter()
        .find(|a| period.as_ref().is_some_and(|p| p.name == a.period));
    let Some(allocation) = allocation else {
        out.status = UsageImportStatus::Rejected;
        out.errors.push(FieldError::new(
            "Account",
            FieldCode::UnknownAccount,
            format!(
                "no active or expired allocation of this resource charges account `{}` in {}",
                job.account,
                period.map_or_else(|| "the job's period".to_owned(), |p| p.name)
            ),
        ));
        return Ok(out);
    };
    let row = UsageRow {
        resource_id: resource.id.clone(),
        job_id: job.id.clone(),
        allocation_id: allocation.id.clone(),
        account: job.account,
        user_name: job.user,
        job_partition: job.partition,
        units,
        elapsed_seconds: job.elapsed,
        charged_seconds: units * job.elapsed,
        started_at: job.start,
        ended_at: job.end,
        job_state: job.state,
        imported_at: at,
    };
    out.allocation_id = Some(allocation.id);
    out.charged = Some(super::hours(row.charged_seconds));
    out.status = match rows::find_usage(conn, &resource.id, &job.id)? {
        None => {
            rows::insert_usage(conn, &row)?;
            UsageImportStatus::Charged
        }
        Some(old)
            if UsageRow {
                imported_at: at,
                ..old.clone()
            } == row =>
        {
            UsageImportStatus::Unchanged
        }
        Some(_) => {
            rows::replace_usage(conn, &row)?;
            UsageImportStatus::Updated
        }
    };
    Ok(out)
}

/// Imports `sacct` records for `resource_id` (its owner's admins and staff): a report for
/// every non-blank line; the lines that could be charged are.
pub async fn import_usage(
    db: &Db,
    caller: Option<&Caller>,
    resource_id: String,
    body: Vec<u8>,
) -> AppResult<UsageImportReport> {
    let caller = policy::require_signed_in(caller)?.clone();
    let resource_id = PublicId::parse(&resource_id).ok_or_else(|| {
        AppError::query(vec![FieldError::new(
            "resource_id",
            FieldCode::InvalidId,
            "must be an id",
        )])
    })?;
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&body);
    let text = std::str::from_utf8(body).map_err(|e| {
        AppError::validation(vec![FieldError::new(
            "body",
            FieldCode::InvalidEncoding,
            format!("must be UTF-8 ({e})"),
        )])
    })?;
    let lines: Vec<(usize, String)> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| (i + 1, l.to_owned()))
        .collect();
    let mut report = UsageImportReport {
        charged: 0,
        updated: 0,
        unchanged: 0,
        skipped: 0,
        rejected: 0,
        rows: Vec::with_capacity(lines.len()),
    };
    // The first batch runs even for an empty file, so that who may import, and into what,
    // is answered the same way.
    let mut batches: Vec<Vec<(usize, String)>> = lines.chunks(BATCH).map(<[_]>::to_vec).collect();
    if batches.is_empty() {
        batches.push(Vec::new());
    }
    for batch in batches {
        let (caller, resource_id) = (caller.clone(), resource_id.clone());
        let rows_out = db
            .write(move |conn| {
                let resource = rows::find_resource(conn, &resource_id, false)?
                    .ok_or_else(|| AppError::not_found("Compute resource"))?;
                policy::authorize(
                    Some(&caller),
                    Action::ManageCompute {
                        owner_id: &resource.owner_id,
                    },
                )?;
                if resource.unit == ComputeUnit::Credits {
                    return Err(AppError::validation(vec![FieldError::new(
                        "resource_id",
                        FieldCode::NotApplicable,
                        "a cloud credit pool is not charged from scheduler usage",
                    )]));
                }
                let at = now();
                let mut out = Vec::with_capacity(batch.len());
                for (n, line) in batch {
                    let mut row = match parse_line(&line) {
                        Err(errors) => UsageImportRow {
                            row: 0,
                            job: line
                                .split('|')
                                .next()
                                .map(|s| s.trim().to_owned())
                                .filter(|s| readable_job_id(s)),
                            status: UsageImportStatus::Rejected,
                            allocation_id: None,
                            charged: None,
                            note: None,
                            errors,
                        },
                        Ok(Line::Skip { job, note }) => UsageImportRow {
                            row: 0,
                            job,
                            status: UsageImportStatus::Skipped,
                            allocation_id: None,
                            charged: None,
                            note: Some(note),
                            errors: Vec::new(),
                        },
                        Ok(Line::Job(job)) => charge(conn, &resource, job, at)?,
                    };
                    row.row = n;
                    out.push(row);
                }
                // An allocation whose usage changed reads differently: a new version, so that
                // a cached copy (its ETag) is not taken for current.
                let mut charged: Vec<&str> = out
                    .iter()
                    .filter(|r| {
                        matches!(
                            r.status,
                            UsageImportStatus::Charged | UsageImportStatus::Updated
                        )
                    })
                    .filter_map(|r| r.allocation_id.as_deref())
                    .collect();
                charged.sort_unstable();
                charged.dedup();
                for id in charged {
                    rows::touch_allocation(conn, id, at)?;
                }
                Ok(out)
            })
            .await?;
        for r in rows_out {
            match r.status {
                UsageImportStatus::Charged => report.charged += 1,
                UsageImportStatus::Updated => report.updated += 1,
                UsageImportStatus::Unchanged => report.unchanged += 1,
                UsageImportStatus::Skipped => report.skipped += 1,
                UsageImportStatus::Rejected => report.rejected += 1,
            }
            report.rows.push(r);
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(line: &str) -> Option<Job> {
        match parse_line(line) {
            Ok(Line::Job(j)) => Some(j),
            _ => None,
        }
    }

    #[test]
    fn sacct_lines_read_as_jobs_steps_and_unfinished_jobs() {
        let j = job(
            "4211|nycu-lab|chen|gpu|billing=16,cpu=16,gres/gpu=4,mem=256G,node=1|7200|2027-01-05T09:00:00|2027-01-05T11:00:00|COMPLETED",
        );
        assert_eq!(
            j.map(|j| (j.gpus, j.nodes, j.elapsed, j.account)),
            Some((4, 1, 7200, "nycu-lab".to_owned()))
        );
        // Typed GPUs, an account in capitals, a state with its actor.
        let t = job(
            "4212_3|Lab|lin|h100|cpu=8,gres/gpu:h100=2,node=1|60|2027-01-05T09:00:00|2027-01-05T09:01:00|CANCELLED by 1001",
        );
        assert_eq!(
            t.map(|t| (t.gpus, t.state, t.account)),
            Some((2, "CANCELLED".to_owned(), "lab".to_owned()))
        );
        assert!(matches!(
            parse_line(
                "4211.batch|nycu-lab|chen|gpu|cpu=16,gres/gpu=4,mem=256G,node=1|7200|2027-01-05T09:00:00|2027-01-05T11:00:00|COMPLETED"
            ),
            Ok(Line::Skip { .. })
        ));
        assert!(matches!(
            parse_line(
                "4213|nycu-lab|chen|gpu|cpu=16,gres/gpu=4,node=1|600|2027-01-05T09:00:00|Unknown|RUNNING"
            ),
            Ok(Line::Skip { .. })
        ));
        let fields: Vec<String> = parse_line(
            "4214|nycu-lab|chen|gpu|cpu=16,gres/gpu=x|abc|yesterday|2027-01-05T11:00:00|COMPLETED",
        )
        .err()
        .unwrap_or_default()
        .into_iter()
        .map(|e| e.field)
        .collect();
        assert_eq!(fields, ["AllocTRES", "ElapsedRaw", "Start"]);
        assert!(parse_line("4215|a|b").is_err());
    }
}

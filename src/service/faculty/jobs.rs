//! Bulk syncs as jobs: `POST /faculty/sync` queues one, a runner thread of the process works
//! through the university's profiles one at a time (each profile's failure is its own), and
//! the job's row keeps its progress, so that a client polls it and a job interrupted by a
//! restart resumes where it stopped. The same runner makes the periodic refresh.

use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use chrono::NaiveDateTime;

use crate::db::Db;
use crate::db::sync_jobs::{self as rows, Progress, Selection, SyncJobRow};
use crate::domain::PublicId;
use crate::dto::faculty::{
    StartSync, SyncJob, SyncJobError, SyncJobKind, SyncJobState, SyncSource,
};
use crate::error::{AppError, AppResult, FieldCode, FieldError};
use crate::service::now;
use crate::service::policy::{self, Action, Caller};
use crate::sources::Sources;

/// A runner holds a job this long past its last progress; a runner that died frees it then.
const LEASE: Duration = Duration::from_secs(120);
/// How often an idle runner looks for jobs (queued by another replica, or left by one that
/// died) and for a refresh that is due.
const POLL: Duration = Duration::from_secs(5);
/// Failures a job keeps (the rest are counted, and each profile's own sync state has its
/// error).
const MAX_ERRORS: usize = 100;
/// Profiles read from the database at a time.
const PAGE: i64 = 100;

fn lease_from(t: NaiveDateTime) -> NaiveDateTime {
    t + chrono::Duration::from_std(LEASE).unwrap_or_else(|_| chrono::Duration::seconds(120))
}

fn view(row: SyncJobRow) -> SyncJob {
    SyncJob {
        id: row.id,
        university_id: row.university_id,
        kind: row.kind,
        state: row.state,
        sources: serde_json::from_str(&row.sources).unwrap_or_default(),
        total: row.total,
        processed: row.processed,
        updated: row.updated,
        unchanged: row.unchanged,
        failed: row.failed,
        errors: serde_json::from_str(&row.errors).unwrap_or_default(),
        detail: row.detail,
        created_at: row.created_at.and_utc(),
        started_at: row.started_at.map(|t| t.and_utc()),
        finished_at: row.finished_at.map(|t| t.and_utc()),
    }
}

/// `POST /faculty/sync`: queues a sync of every profile of a university that has an ORCID iD
/// or OpenAlex id (the university's office, operators), and wakes the runner.
pub async fn start(
    db: &Db,
    runner: &SyncRunner,
    caller: Option<&Caller>,
    input: StartSync,
) -> AppResult<SyncJob> {
    let job = queue(db, caller, input).await?;
    runner.wake();
    Ok(job)
}

/// Queues a bulk sync (see [`start`]) without waking a runner. While one of the university
/// is queued or running, that one is the answer: a second request makes no second job.
pub async fn queue(db: &Db, caller: Option<&Caller>, input: StartSync) -> AppResult<SyncJob> {
    create(db, caller, input, None).await.map(view)
}

/// Makes a job: queued, or already taken by `runner` (the CLI, which runs it itself: no
/// runner of a service can take it first).
async fn create(
    db: &Db,
    caller: Option<&Caller>,
    input: StartSync,
    runner: Option<String>,
) -> AppResult<SyncJobRow> {
    let university_id = super::bulk_university(caller, &input.university_id, super::NamedIn::Body)?;
    let sources = match input.sources {
        Some(s) if s.is_empty() => {
            return Err(AppError::validation(vec![FieldError::new(
                "sources",
                FieldCode::Required,
                "must name at least one source (or be left out for both)",
            )]));
        }
        Some(mut s) => {
            s.sort();
            s.dedup();
            s
        }
        None => SyncSource::ALL.to_vec(),
    };
    let requested_by = caller.map(|c| c.user_id.clone());
    db.write(move |conn| {
        super::require_university(conn, &university_id, super::NamedIn::Body)?;
        if let Some(active) = rows::active_for(conn, &university_id)? {
            // The CLI runs its job itself, so it cannot share one a runner holds.
            return match runner {
                None => Ok(active),
                Some(_) => Err(AppError::new(
                    crate::error::ErrorCode::Conflict,
                    format!(
                        "A sync of this university is already under way: /api/v1/sync-jobs/{}",
                        active.id
                    ),
                )),
            };
        }
        let sources = serde_json::to_string(&sources).map_err(AppError::internal)?;
        // The CLI's caller is no account.
        let requested_by = match requested_by {
            Some(u) => crate::db::accounts::find_user(conn, &u)?.map(|_| u),
            None => None,
        };
        let ts = now();
        Ok(rows::insert(
            conn,
            &rows::NewJob {
                id: &PublicId::generate(),
                university_id: Some(&university_id),
                kind: SyncJobKind::Request,
                requested_by: requested_by.as_deref(),
                sources: &sources,
                runner: runner.as_deref().map(|r| (r, lease_from(ts))),
            },
            ts,
        )?)
    })
    .await
}

/// Makes a job and runs it here and now (the CLI), telling `progress` (processed, total)
/// after each profile.
pub async fn run_now(
    db: &Db,
    sources: Arc<Sources>,
    caller: Option<&Caller>,
    input: StartSync,
    progress: impl FnMut(i32, i32) + Send + 'static,
) -> AppResult<SyncJob> {
    let job = create(db, caller, input, Some(PublicId::generate())).await?;
    let id = job.id.clone();
    let worker = db.clone();
    let mut progress = progress;
    actix_web::rt::task::spawn_blocking(move || {
        work(&worker, &sources, job, None, &|| false, &mut progress)
    })
    .await
    .map_err(AppError::internal)??;
    db.run(move |conn| {
        rows::find(conn, &id)?
            .map(view)
            .ok_or_else(|| AppError::not_found("Sync job"))
    })
    .await
}

/// `GET /sync-jobs/{id}`: whoever may start a job of its university; the periodic refresh's
/// jobs, operators.
pub async fn get(db: &Db, caller: Option<&Caller>, id: String) -> AppResult<SyncJob> {
    let caller = policy::require_signed_in(caller)?.clone();
    db.run(move |conn| {
        let job = rows::find(conn, &id)?.ok_or_else(|| AppError::not_found("Sync job"))?;
        let allowed = match &job.university_id {
            Some(u) => policy::authorize(Some(&caller), Action::ImportFaculty { university_id: u }),
            None => policy::authorize(Some(&caller), Action::ViewSyncRefresh),
        };
        // A job one may not see does not exist for them.
        allowed.map_err(|_| AppError::not_found("Sync job"))?;
        Ok(view(job))
    })
    .await
}

/// `GET /sync-jobs`: the jobs of the universities whose office the caller is in, oldest
/// first (operators: every job, the periodic refresh's included).
pub async fn list(
    db: &Db,
    caller: Option<&Caller>,
    q: crate::dto::faculty::ListSyncJobs,
) -> AppResult<crate::dto::faculty::SyncJobList> {
    let caller = policy::require_signed_in(caller)?.clone();
    let page = crate::service::PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let university_id = PublicId::query_param("university_id", q.university_id.as_deref())?;
    let universities: Option<Vec<String>> =
        if policy::authorize(Some(&caller), Action::ViewSyncRefresh).is_ok() {
            None
        } else {
            Some(
                caller
                    .memberships
                    .iter()
                    .map(|m| m.organization_id.clone())
                    .filter(|u| {
                        policy::authorize(Some(&caller), Action::ImportFaculty { university_id: u })
                            .is_ok()
                    })
                    .collect(),
            )
        };
    db.run(move |conn| {
        let (rows, next_cursor) = page.read(
            |seek| {
                rows::list(
                    conn,
                    universities.as_deref(),
                    university_id.as_deref(),
                    seek,
                )
            },
            |r| &r.id,
        )?;
        Ok(crate::dto::faculty::SyncJobList {
            items: rows.into_iter().map(view).collect(),
            next_cursor,
        })
    })
    .await
}

/// The process's runner of sync jobs: one thread, started with the service and stopped when
/// the last handle is dropped (the thread sees its channel close).
pub struct SyncRunner {
    wake: std::sync::Mutex<mpsc::Sender<()>>,
}

impl SyncRunner {
    pub fn start(
        db: Db,
        sources: Arc<Sources>,
        refresh_every: Option<Duration>,
    ) -> anyhow::Result<Arc<Self>> {
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("liaison-sync".into())
            .spawn(move || run(&db, &sources, refresh_every, &rx))?;
        Ok(Arc::new(Self {
            wake: std::sync::Mutex::new(tx),
        }))
    }

    /// Tells the runner a job was queued.
    pub fn wake(&self) {
        let _ = self
            .wake
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .send(());
    }
}

/// Whether the runner should stop: its handle was dropped.
fn stopped(rx: &mpsc::Receiver<()>) -> bool {
    matches!(rx.try_recv(), Err(mpsc::TryRecvError::Disconnected))
}

fn run(db: &Db, sources: &Sources, refresh_every: Option<Duration>, rx: &mpsc::Receiver<()>) {
    match super::analysed::fill(db, &|| stopped(rx)) {
        Ok(0) => {}
        Ok(n) => tracing::info!(
            publications = n,
            "analysed publications written before their analysed form was kept"
        ),
        Err(e) => {
            tracing::warn!(error = %e.detail, "could not analyse the publications that lack their analysed form; matching analyses them as it goes")
        }
    }
    loop {
        if let Some(every) = refresh_every
            && let Err(e) = queue_refresh(db, every)
        {
            tracing::warn!(error = %e.detail, "could not queue the periodic sync refresh");
        }
        loop {
            let ts = now();
            // Looked for with a read, taken with a write: an idle runner never takes the
            // (SQLite) write lock.
            let claimed = db
                .run_blocking(|conn| Ok(rows::next_claimable(conn, ts)?))
                .and_then(|found| match found {
                    Some(id) => db.write_blocking(|conn| {
                        Ok(rows::claim(
                            conn,
                            &id,
                            &PublicId::generate(),
                            ts,
                            lease_from(ts),
                        )?)
                    }),
                    None => Ok(None),
                });
            match claimed {
                Ok(Some(job)) => {
                    let id = job.id.clone();
                    let stop = || stopped(rx);
                    if let Err(e) = work(db, sources, job, refresh_every, &stop, &mut |_, _| {}) {
                        tracing::warn!(job = %id, error = %e.detail, "sync job stopped; it resumes when its lease ends");
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!(error = %e.detail, "could not look for sync jobs");
                    break;
                }
            }
            if stopped(rx) {
                return;
            }
        }
        match rx.recv_timeout(POLL) {
            Ok(()) | Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

/// Queues a refresh job when the last one is older than the interval.
fn queue_refresh(db: &Db, every: Duration) -> AppResult<()> {
    let every = chrono::Duration::from_std(every).map_err(AppError::internal)?;
    let due = |conn: &mut crate::db::DbConn| -> AppResult<bool> {
        Ok(rows::last_refresh(conn)?.is_none_or(|last| now() - last >= every))
    };
    // Checked with a read first: an idle runner never takes the (SQLite) write lock.
    if !db.run_blocking(due)? {
        return Ok(());
    }
    db.write_blocking(|conn| {
        rows::lock_refresh(conn)?;
        let ts = now();
        if !due(conn)? {
            return Ok(());
        }
        let sources = serde_json::to_string(&SyncSource::ALL).map_err(AppError::internal)?;
        rows::insert(
            conn,
            &rows::NewJob {
                id: &PublicId::generate(),
                university_id: None,
                kind: SyncJobKind::Refresh,
                requested_by: None,
                sources: &sources,
                runner: None,
            },
            ts,
        )?;
        Ok(())
    })
}

/// Works through a claimed job, saving progress after each profile; returns early (leaving
/// the job to resume) when the runner is stopped.
fn work(
    db: &Db,
    sources: &Sources,
    job: SyncJobRow,
    refresh_every: Option<Duration>,
    stop: &dyn Fn() -> bool,
    progress: &mut dyn FnMut(i32, i32),
) -> AppResult<()> {
    let wanted: Vec<SyncSource> = serde_json::from_str(&job.sources).unwrap_or_default();
    // The refresh takes profiles not synced within the interval before the job was made
    // (with the refresh since turned off: not synced since it was made).
    let not_synced_since = (job.kind == SyncJobKind::Refresh).then(|| {
        let interval = refresh_every
            .and_then(|d| chrono::Duration::from_std(d).ok())
            .unwrap_or_else(chrono::Duration::zero);
        job.created_at - interval
    });
    let selection = Selection {
        university_id: job.university_id.as_deref(),
        not_synced_since,
    };
    let started_at = job.started_at.unwrap_or_else(now);
    let mut errors: Vec<SyncJobError> = serde_json::from_str(&job.errors).unwrap_or_default();
    let mut p = (
        job.total,
        job.processed,
        job.updated,
        job.unchanged,
        job.failed,
    );
    if job.started_at.is_none() {
        p.0 = db
            .run_blocking(|conn| Ok(rows::count_profiles(conn, &selection)?))?
            .try_into()
            .unwrap_or(i32::MAX);
    }
    let mut cursor = job.cursor.clone();
    let runner = job.runner.clone().unwrap_or_default();
    let heartbeat = Heartbeat::start(db.clone(), job.id.clone(), runner.clone());
    let save = |p: (i32, i32, i32, i32, i32), cursor: Option<&str>, errors: &[SyncJobError]| {
        let errors = serde_json::to_string(errors).map_err(AppError::internal)?;
        let ts = now();
        db.write_blocking(|conn| {
            Ok(rows::save_progress(
                conn,
                &job.id,
                &runner,
                &Progress {
                    total: p.0,
                    processed: p.1,
                    updated: p.2,
                    unchanged: p.3,
                    failed: p.4,
                    cursor,
                    errors: &errors,
                },
                started_at,
                ts,
                lease_from(ts),
            )?)
        })
    };
    if !save(p, cursor.as_deref(), &errors)? {
        return Ok(());
    }
    loop {
        let page =
            db.run_blocking(|conn| Ok(rows::profiles(conn, &selection, cursor.as_deref(), PAGE)?))?;
        if page.is_empty() {
            break;
        }
        for faculty_id in page {
            // Stopped, or the job is another runner's now (this one's lease ran out).
            if stop() || heartbeat.lost() {
                return Ok(());
            }
            p.1 += 1;
            match super::sync::sync_blocking(db, sources, &faculty_id, &wanted) {
                Ok(report) => {
                    let failures: Vec<SyncJobError> = report
                        .sources
                        .iter()
                        .filter_map(|o| {
                            o.error.as_ref().map(|e| SyncJobError {
                                faculty_id: faculty_id.clone(),
                                source: Some(o.source),
                                code: e.code_str().to_owned(),
                                detail: e.detail.clone(),
                            })
                        })
                        .collect();
                    if !failures.is_empty() {
                        p.4 += 1;
                    } else if report.changed {
                        p.2 += 1;
                    } else {
                        p.3 += 1;
                    }
                    let room = MAX_ERRORS.saturating_sub(errors.len());
                    errors.extend(failures.into_iter().take(room));
                }
                // The database being unavailable stops the job until its lease ends (it
                // resumes there); anything else is this profile's: a profile deleted
                // meanwhile, or without an identifier for the job's sources, is skipped; any
                // other refusal is reported and the job goes on.
                Err(e) if e.code == crate::error::ErrorCode::ServiceUnavailable => {
                    return Err(e);
                }
                Err(e)
                    if e.code == crate::error::ErrorCode::NotFound
                        || e.errors.iter().any(|f| f.field == "orcid") =>
                {
                    p.3 += 1;
                }
                Err(e) => {
                    p.4 += 1;
                    if errors.len() < MAX_ERRORS {
                        errors.push(SyncJobError {
                            faculty_id: faculty_id.clone(),
                            source: None,
                            code: e.code.as_str().to_owned(),
                            detail: e.detail.clone(),
                        });
                    }
                }
            }
            cursor = Some(faculty_id);
            if !save(p, cursor.as_deref(), &errors)? {
                return Ok(());
            }
            progress(p.1, p.0);
        }
    }
    db.write_blocking(|conn| {
        rows::finish(conn, &job.id, &runner, SyncJobState::Succeeded, None, now())?;
        Ok(())
    })
}

/// Renews a job's lease every 30 s while its runner works (one profile can take minutes:
/// timeouts, retries, `Retry-After`), and tells the runner when the job is no longer its
/// own. Stops when dropped.
struct Heartbeat {
    lost: Arc<std::sync::atomic::AtomicBool>,
    done: Arc<std::sync::atomic::AtomicBool>,
}

impl Heartbeat {
    const EVERY: Duration = Duration::from_secs(30);

    fn start(db: Db, job: String, runner: String) -> Self {
        use std::sync::atomic::{AtomicBool, Ordering};
        let lost = Arc::new(AtomicBool::new(false));
        let done = Arc::new(AtomicBool::new(false));
        let (lost_in, done_in) = (lost.clone(), done.clone());
        let spawned = std::thread::Builder::new()
            .name("liaison-sync-lease".into())
            .spawn(move || {
                let mut waited = Duration::ZERO;
                while !done_in.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(200));
                    waited += Duration::from_millis(200);
                    if waited < Self::EVERY {
                        continue;
                    }
                    waited = Duration::ZERO;
                    let ts = now();
                    match db.write_blocking(|conn| {
                        Ok(rows::renew(conn, &job, &runner, lease_from(ts))?)
                    }) {
                        Ok(true) => {}
                        Ok(false) => {
                            lost_in.store(true, Ordering::SeqCst);
                            return;
                        }
                        Err(e) => tracing::warn!(job, error = %e.detail, "could not renew a sync job's lease"),
                    }
                }
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "could not start a sync job's lease renewal");
        }
        Self { lost, done }
    }

    fn lost(&self) -> bool {
        self.lost.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.done.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

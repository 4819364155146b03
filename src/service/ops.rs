//! Readiness: whether this replica can serve (its database answers and its index folder is
//! writable), and how far its search index is behind the database.

use std::time::Duration;

use crate::db::Db;
use crate::dto::ops::{Check, Readiness, SearchLag};
use crate::search::{IndexDir, SearchIndex};

/// Runs the readiness checks. Both run at once under one deadline: a probe that waits for an
/// unreachable database (the pool retries connecting for `db_timeout_secs`, twice over) is
/// taken for a dead process, and a load balancer needs the answer sooner than its own
/// timeout. A check still running at the deadline finishes on the blocking pool, bounded by
/// its own timeouts; only its answer is no longer waited for. The status is `ready` when
/// every check passed, `unavailable` otherwise.
pub async fn readiness(
    db: &Db,
    index_dir: &IndexDir,
    search: &SearchIndex,
    deadline: Duration,
) -> Readiness {
    let db = db.clone();
    let database = tokio::time::timeout(deadline, async move {
        db.ping().await?;
        db.run(|c| Ok(crate::db::outbox::latest(c)?)).await
    });
    let index_dir = index_dir.clone();
    let index = tokio::time::timeout(
        deadline,
        actix_web::rt::task::spawn_blocking(move || index_dir.check_writable()),
    );
    let (database, index) = futures_util::future::join(database, index).await;
    let (database, latest) = match database {
        Ok(Ok(latest)) => (
            Check {
                name: "database".into(),
                ok: true,
                detail: None,
            },
            Some(latest),
        ),
        failed => {
            let detail = match failed {
                Ok(Err(e)) => {
                    tracing::warn!(error = %e.log_message(), "readiness: database check failed");
                    "database unreachable".to_owned()
                }
                _ => {
                    tracing::warn!(?deadline, "readiness: the database did not answer in time");
                    format!("database did not answer within {} ms", deadline.as_millis())
                }
            };
            let check = Check {
                name: "database".into(),
                ok: false,
                detail: Some(detail),
            };
            (check, None)
        }
    };
    let index = match index {
        Ok(Ok(Ok(()))) => Check {
            name: "index".into(),
            ok: true,
            detail: None,
        },
        other => {
            tracing::warn!(result = ?other.map(|r| r.map(|r| r.map_err(|e| e.kind()))), "readiness: index check failed");
            Check {
                name: "index".into(),
                ok: false,
                detail: Some("index folder not writable".into()),
            }
        }
    };
    let checks = vec![database, index];
    let progress = search.progress();
    let latest = latest.unwrap_or(progress.applied);
    let search = Some(SearchLag {
        applied: progress.applied,
        latest,
        lag: (latest - progress.applied).max(0),
        rebuilding: progress.rebuilding,
    });
    let status = if checks.iter().all(|c| c.ok) {
        "ready"
    } else {
        "unavailable"
    };
    Readiness {
        status: status.into(),
        checks,
        search,
    }
}

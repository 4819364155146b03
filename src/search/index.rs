//! The tantivy index: the handle searches and the service hold (`SearchIndex`), and
//! `liaison reindex`. Its parts: the fields (`fields`), how records become documents
//! (`documents`), the index on disk (`storage`), the one indexer thread that owns the only
//! `IndexWriter` and follows the database's search outbox (`indexer`), and the organization
//! names facets are labelled with (`labels`).
//!
//! Crash safety: every commit carries the outbox position it covers in its payload. A
//! restart (after kill -9 too) reopens the last commit and resumes from that position;
//! uncommitted work is simply redone. Applying a row loads the record's *current* state from
//! the database and replaces its document, so redoing is harmless.

mod documents;
mod fields;
mod indexer;
mod labels;
mod storage;

pub use documents::{FacultyTexts, faculty_texts};
pub(super) use fields::query_schema;
#[cfg(test)]
pub(super) use fields::schema;
pub use fields::{Fields, key};

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tantivy::{Index, IndexReader, ReloadPolicy};

use crate::db::Db;
use crate::db::outbox;
use crate::error::{AppError, AppResult};
use indexer::{Indexer, fill};
use labels::Labels;
use storage::{commit, open_index, own, verify, writer};

/// `liaison reindex`: rebuilds the index in `dir` from the database alone. Refuses while a
/// running service holds the index. Returns (documents, outbox position).
pub fn rebuild(db: &Db, dir: &Path) -> anyhow::Result<(usize, i64)> {
    let _owner = own(dir)?;
    let (index, fields, _) = open_index(dir)?;
    let mut writer = writer(&index, dir)?;
    let (seq, count) = fill(db, &writer, &fields).map_err(|e| anyhow::anyhow!(e.describe()))?;
    commit(&mut writer, seq)?;
    writer.wait_merging_threads()?;
    Ok((count, seq))
}

/// How far the index has got.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Progress {
    /// The outbox position the searchable index covers.
    pub applied: i64,
    /// Whether the indexer is (re)building the index from scratch.
    pub rebuilding: bool,
}

/// The searchable index plus its indexer thread. Dropping the last handle stops the thread
/// after a final commit.
pub struct SearchIndex {
    pub(super) reader: IndexReader,
    pub(super) index: Index,
    pub(super) fields: Fields,
    progress: tokio::sync::watch::Sender<Progress>,
    stop: Arc<AtomicBool>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    db: Db,
    /// The threads CPU-bound work on the index runs on (see `cpu_bound`).
    cpu: super::pool::CpuPool,
    /// Facet columns of the searchable segments, read once (see `facets::FacetValues`).
    pub(super) facet_values: super::facets::FacetValues,
    /// The caller's query text parser (see `query::parser`).
    pub(super) parser: tantivy::query::QueryParser,
    /// Organization names for facet labels (see `organization_names`).
    labels: Labels,
    /// Where each glossary form occurs, per segment (see `FormPostings`).
    forms: super::FormPostings,
    /// Which documents each filter admits, per segment (see `AdmittedDocs`).
    admitted: super::admitted::AdmittedDocs,
    /// Set when a search finds the index's files damaged; the indexer then rebuilds it.
    damaged: Arc<AtomicBool>,
    /// When the index was last verified after a failed search (`check_after_failure`).
    last_check: Mutex<Option<Instant>>,
    /// Statistics of the public documents of the latest searcher generation (see `stats`).
    public_stats: Mutex<Option<Arc<super::stats::PublicStats>>>,
    /// Held while the index is open (see `own`).
    _owner: std::fs::File,
}

impl SearchIndex {
    /// Opens (or creates) the index in `dir` and starts the indexer. A missing, outdated or
    /// unreadable index is rebuilt from the database in the background; search answers from
    /// what is there meanwhile and `/readyz` shows it.
    pub fn open(dir: &Path, db: Db, commit_interval: Duration) -> anyhow::Result<Arc<Self>> {
        let owner = own(dir)?;
        let (index, fields, seq) = open_index(dir)?;
        let writer = writer(&index, dir)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let parser = super::query::parser(&index);
        let (progress, _) = tokio::sync::watch::channel(Progress {
            applied: seq.unwrap_or(0),
            rebuilding: seq.is_none(),
        });
        let this = Arc::new(Self {
            reader,
            index,
            fields,
            progress,
            stop: Arc::new(AtomicBool::new(false)),
            thread: Mutex::new(None),
            db,
            cpu: super::pool::CpuPool::per_core()?,
            facet_values: Default::default(),
            forms: Default::default(),
            admitted: Default::default(),
            parser,
            labels: Labels::default(),
            damaged: Arc::new(AtomicBool::new(false)),
            last_check: Mutex::new(None),
            public_stats: Mutex::new(None),
            _owner: owner,
        });
        let handle = Indexer::start(&this, writer, commit_interval, seq)?;
        *this.thread.lock().unwrap_or_else(|p| p.into_inner()) = Some(handle);
        Ok(this)
    }

    /// How many jobs wait for one of `cpu_bound`'s threads.
    pub fn cpu_queued(&self) -> usize {
        self.cpu.queued()
    }

    /// How many jobs `cpu_bound` runs at once (one per core).
    pub fn cpu_threads(&self) -> usize {
        self.cpu.threads()
    }

    /// Runs CPU-bound work on the index (a search, a match) on its own threads, one per
    /// core, in arrival order (see `pool`).
    pub async fn cpu_bound<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> AppResult<T> + Send + 'static,
    ) -> AppResult<T> {
        // A job that panicked (tantivy panics on some damaged files) counts as failed too.
        let result = self
            .cpu
            .run(f)
            .await
            .unwrap_or_else(|e| Err(AppError::internal(e)));
        if result
            .as_ref()
            .is_err_and(|e| e.code == crate::error::ErrorCode::Internal)
        {
            self.check_after_failure();
        }
        result
    }

    /// A search or match failed inside the index: verifies its files (on a thread of its own,
    /// at most once a minute) and, if they are damaged, has the indexer rebuild it from the
    /// database. Search answers meanwhile from what is there, as during a rebuild at start.
    fn check_after_failure(&self) {
        const AT_MOST_EVERY: Duration = Duration::from_secs(60);
        {
            let mut last = self.last_check.lock().unwrap_or_else(|p| p.into_inner());
            if last.is_some_and(|t| t.elapsed() < AT_MOST_EVERY) {
                return;
            }
            *last = Some(Instant::now());
        }
        let (index, damaged, changes) =
            (self.index.clone(), self.damaged.clone(), self.db.changes());
        let spawned = std::thread::Builder::new()
            .name("liaison-index-check".into())
            .spawn(move || {
                if let Err(damage) = verify(&index) {
                    tracing::error!(%damage, "search index damaged; rebuilding it from the database");
                    damaged.store(true, Ordering::SeqCst);
                    changes.notify();
                }
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "could not start the search index check");
        }
    }

    /// The names of these organizations (those that exist), for facet labels.
    pub async fn organization_names(&self, ids: Vec<String>) -> AppResult<HashMap<String, String>> {
        let (mut names, missing, generation) = self.labels.lookup(ids);
        if !missing.is_empty() {
            let found = self
                .db
                .run(move |c| Ok(crate::db::search::organization_names(c, missing)?))
                .await?;
            self.labels.remember(generation, &found);
            names.extend(found);
        }
        Ok(names)
    }

    pub fn progress(&self) -> Progress {
        *self.progress.borrow()
    }

    /// Waits until everything committed to the database so far is searchable, or `timeout`
    /// passes; returns whether it got there.
    pub async fn wait_for_current(&self, timeout: Duration) -> AppResult<bool> {
        let target = self.db.run(|c| Ok(outbox::latest(c)?)).await?;
        let mut rx = self.progress.subscribe();
        let reached = tokio::time::timeout(
            timeout,
            rx.wait_for(|p| !p.rebuilding && p.applied >= target),
        )
        .await;
        Ok(matches!(reached, Ok(Ok(_))))
    }

    /// Stops the indexer after it commits what it has applied (also done on drop).
    pub fn shutdown(&self) {
        self.stop.store(true, Ordering::SeqCst);
        self.db.changes().notify();
        if let Some(h) = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = h.join();
        }
    }
}

impl Drop for SearchIndex {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        self.db.changes().notify();
        // The thread holds only a weak handle, so it can finish on its own; joining here
        // would make a drop on the indexer thread itself wait for itself.
    }
}

/// Fields and reader access for queries.
impl SearchIndex {
    pub fn searcher(&self) -> tantivy::Searcher {
        self.reader.searcher()
    }

    /// The statistics every score is computed with, for `searcher` (see `stats`): made once
    /// per searcher generation.
    pub fn public_stats(
        &self,
        searcher: &tantivy::Searcher,
    ) -> AppResult<Arc<super::stats::PublicStats>> {
        let generation = searcher.generation().generation_id();
        let cached = self.public_stats.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = cached.as_ref().filter(|s| s.generation() == generation) {
            return Ok(s.clone());
        }
        drop(cached);
        let made = Arc::new(
            super::stats::PublicStats::new(&self.fields, searcher).map_err(AppError::internal)?,
        );
        let mut cached = self.public_stats.lock().unwrap_or_else(|p| p.into_inner());
        if cached.as_ref().is_none_or(|s| s.generation() < generation) {
            *cached = Some(made.clone());
        }
        Ok(made)
    }

    pub fn fields(&self) -> &Fields {
        &self.fields
    }

    pub fn form_postings(&self) -> &super::FormPostings {
        &self.forms
    }

    pub fn admitted(&self) -> &super::admitted::AdmittedDocs {
        &self.admitted
    }
}

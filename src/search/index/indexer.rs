//! The indexer thread: the one owner of the `IndexWriter`, following the database's search
//! outbox, committing in batches, and rebuilding the index when it must.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tantivy::{IndexWriter, Term};

use super::documents::{INDEXED, Indexed};
use super::fields::Fields;
use super::storage::commit;
use super::{Progress, SearchIndex};
use crate::db::outbox::{self, Entity};
use crate::db::{Db, DbConn};
use crate::error::{AppError, AppResult};

/// Outbox rows applied per database round trip.
const BATCH: i64 = 500;
/// Applied outbox rows older than this are deleted (hourly). An index that was away longer
/// (e.g. a replica stopped for weeks) notices the gap and rebuilds.
const OUTBOX_RETENTION: chrono::TimeDelta = chrono::TimeDelta::days(7);
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

pub(super) struct Indexer {
    index: std::sync::Weak<SearchIndex>,
    writer: IndexWriter,
    fields: Fields,
    db: Db,
    stop: Arc<AtomicBool>,
    damaged: Arc<AtomicBool>,
    interval: Duration,
    /// The outbox position of the last commit (`None`: the index must be rebuilt first).
    committed: Option<i64>,
    last_prune: Instant,
}

impl Indexer {
    /// Starts the indexer thread of `index`, which applies the outbox after `committed` (or
    /// rebuilds first when that is `None`) and commits at most every `interval`.
    pub(super) fn start(
        index: &Arc<SearchIndex>,
        writer: IndexWriter,
        interval: Duration,
        committed: Option<i64>,
    ) -> std::io::Result<std::thread::JoinHandle<()>> {
        let worker = Indexer {
            index: Arc::downgrade(index),
            writer,
            fields: index.fields,
            db: index.db.clone(),
            stop: index.stop.clone(),
            damaged: index.damaged.clone(),
            interval,
            committed,
            last_prune: Instant::now(),
        };
        std::thread::Builder::new()
            .name("liaison-indexer".into())
            .spawn(move || worker.run())
    }

    fn run(mut self) {
        let mut backoff = Duration::from_millis(100);
        loop {
            match self.step() {
                Ok(true) => break,
                Ok(false) => backoff = Duration::from_millis(100),
                Err(e) => {
                    let _ = self.writer.rollback();
                    if self.stop.load(Ordering::SeqCst) || self.index.strong_count() == 0 {
                        // Shutting down: what is committed stays; the rest is replayed at start.
                        tracing::warn!(error = %e.log_message(), "search indexer stopped after an error");
                        break;
                    }
                    tracing::error!(error = %e.log_message(), "search indexer failed; retrying from the last commit");
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
            }
        }
        let _ = self.writer.wait_merging_threads();
    }

    fn publish(&self, seq: i64, rebuilding: bool) {
        if let Some(index) = self.index.upgrade() {
            if let Err(e) = index.reader.reload() {
                tracing::warn!(error = %e, "search reader reload failed");
            }
            index.progress.send_replace(Progress {
                applied: seq,
                rebuilding,
            });
        }
    }

    /// Rebuilds if needed, then applies outbox rows until stopped. Returns Ok(true) when it
    /// stopped cleanly.
    fn step(&mut self) -> AppResult<bool> {
        // Rows this index never applied were pruned (it was away longer than the retention):
        // only a rebuild can catch up.
        if let Some(committed) = self.committed {
            let oldest = self.db.run_blocking(|c| Ok(outbox::oldest(c)?))?;
            if oldest.is_some_and(|o| o > committed + 1) {
                tracing::warn!(
                    committed,
                    oldest,
                    "search index is behind the pruned outbox; rebuilding"
                );
                self.committed = None;
            }
        }
        let mut seq = match self.committed {
            Some(seq) => seq,
            None => {
                let started = Instant::now();
                let (seq, count) = fill(&self.db, &self.writer, &self.fields)?;
                commit(&mut self.writer, seq).map_err(AppError::internal)?;
                tracing::info!(
                    documents = count,
                    seq,
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "search index rebuilt from the database"
                );
                self.committed = Some(seq);
                self.publish(seq, false);
                seq
            }
        };
        let changes = self.db.changes();
        let mut dirty_since: Option<Instant> = None;
        loop {
            let seen = changes.current();
            let rows = self
                .db
                .run_blocking(|c| Ok(outbox::after(c, seq, BATCH)?))?;
            let more = rows.len() as i64 == BATCH;
            if let Some(last) = rows.last().map(|r| r.0) {
                let mut changed: HashMap<Entity, BTreeSet<String>> = HashMap::new();
                let mut orgs = BTreeSet::new();
                for (_, entity, id) in rows {
                    match Entity::from_db(&entity) {
                        Some(Entity::Organization) => {
                            orgs.insert(id);
                        }
                        Some(entity) => {
                            changed.entry(entity).or_default().insert(id);
                        }
                        None => tracing::warn!(entity, "unknown outbox entity"),
                    }
                }
                if !orgs.is_empty()
                    && let Some(index) = self.index.upgrade()
                {
                    index.labels.forget();
                }
                let (writer, fields) = (&self.writer, &self.fields);
                self.db.run_blocking(|conn| {
                    for org in &orgs {
                        for indexed in &INDEXED {
                            let ids = (indexed.of_organization)(conn, org)?;
                            changed.entry(indexed.entity).or_default().extend(ids);
                        }
                    }
                    for indexed in &INDEXED {
                        if let Some(ids) = changed.get(&indexed.entity) {
                            apply(conn, writer, fields, indexed, ids)?;
                        }
                    }
                    Ok(())
                })?;
                seq = last;
                dirty_since.get_or_insert_with(Instant::now);
            }
            if self.damaged.swap(false, Ordering::SeqCst) {
                self.committed = None;
                return Ok(false);
            }
            let stopping = self.stop.load(Ordering::SeqCst) || self.index.strong_count() == 0;
            let due = self.committed.is_some_and(|c| c < seq)
                && (stopping || dirty_since.is_some_and(|t| t.elapsed() >= self.interval));
            if due {
                commit(&mut self.writer, seq).map_err(AppError::internal)?;
                self.committed = Some(seq);
                dirty_since = None;
                self.publish(seq, false);
            }
            if self.last_prune.elapsed() >= PRUNE_EVERY {
                self.last_prune = Instant::now();
                let before = (chrono::Utc::now() - OUTBOX_RETENTION).naive_utc();
                let applied = self.committed.unwrap_or(0);
                match self
                    .db
                    .write_blocking(|c| Ok(outbox::prune(c, applied, before)?))
                {
                    Ok(n) if n > 0 => tracing::info!(rows = n, "pruned applied search outbox rows"),
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(error = %e.log_message(), "search outbox pruning failed")
                    }
                }
            }
            if stopping && self.committed == Some(seq) {
                return Ok(true);
            }
            // Wait for a write (in this process) or the next poll (other processes, replicas).
            let wait = match dirty_since {
                Some(t) => self.interval.saturating_sub(t.elapsed()),
                None => Duration::from_millis(200),
            };
            if !more && !wait.is_zero() {
                changes.wait(seen, wait);
            }
        }
    }
}

fn id_term(f: &Fields, id: &str) -> Term {
    Term::from_field_text(f.id, id)
}

/// Replaces the documents of these records of one kind with their current state (or drops
/// them).
fn apply(
    conn: &mut DbConn,
    writer: &IndexWriter,
    f: &Fields,
    indexed: &Indexed,
    ids: &BTreeSet<String>,
) -> AppResult<()> {
    for chunk in ids.iter().cloned().collect::<Vec<_>>().chunks(200) {
        for id in chunk {
            writer.delete_term(id_term(f, id));
        }
        for doc in (indexed.documents)(conn, f, chunk)? {
            writer.add_document(doc).map_err(AppError::internal)?;
        }
    }
    Ok(())
}

/// Fills an empty writer with every live record; returns the outbox position it covers. The
/// position is read *before* the records, so any change after it is replayed afterwards.
pub(super) fn fill(db: &Db, writer: &IndexWriter, f: &Fields) -> AppResult<(i64, usize)> {
    db.run_blocking(|conn| {
        let seq = outbox::latest(conn)?;
        writer.delete_all_documents().map_err(AppError::internal)?;
        let mut count = 0;
        for indexed in &INDEXED {
            let mut after = String::new();
            loop {
                let ids = (indexed.live_ids)(conn, &after, 1000)?;
                let Some(last) = ids.last().cloned() else {
                    break;
                };
                count += ids.len();
                apply(conn, writer, f, indexed, &ids.into_iter().collect())?;
                after = last;
            }
        }
        Ok((seq, count))
    })
}

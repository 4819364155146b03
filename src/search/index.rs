//! The tantivy index: its schema, how records become documents, and the one indexer thread
//! that owns the only `IndexWriter` and follows the database's search outbox.
//!
//! Crash safety: every commit carries the outbox position it covers in its payload. A
//! restart (after kill -9 too) reopens the last commit and resumes from that position;
//! uncommitted work is simply redone. Applying a row loads the record's *current* state from
//! the database and replaces its document, so redoing is harmless.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tantivy::schema::{
    FAST, Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

use super::analyzer::{MULTILINGUAL, multilingual};
use crate::db::outbox::{self, Entity};
use crate::db::search::{self as source, CenterSource, FacultySource, NeedSource};
use crate::db::{Db, DbConn};
use crate::error::{AppError, AppResult};

/// Bump when the schema or the analysis changes: an index of another version is rebuilt.
const SCHEMA_VERSION: u32 = 4;
/// Outbox rows applied per database round trip.
const BATCH: i64 = 500;
/// Applied outbox rows older than this are deleted (hourly). An index that was away longer
/// (e.g. a replica stopped for weeks) notices the gap and rebuilds.
const OUTBOX_RETENTION: chrono::TimeDelta = chrono::TimeDelta::days(7);
const PRUNE_EVERY: Duration = Duration::from_secs(3600);
/// Memory for the writer's in-flight segments, shared by its threads (tantivy needs at least
/// 15 MB per thread).
const WRITER_MEMORY: usize = 96 * 1024 * 1024;

/// Segments of about the same size that are merged into one (tantivy's default: 8). A search
/// pays per segment (each word's postings are looked up, and scorers built, in every one):
/// after a bulk load of 100,000 profiles the default left 7 segments of 13,000-22,000 and
/// search at concurrency 16 answered 1,166-1,201 requests/s; merging at 4 left 3 segments
/// and 1,384-1,422 requests/s (p99 19.5-20.9 -> 16.5-18.1 ms), matching likewise. Merging
/// more often cost the import nothing measurable (2,535-2,540 vs 2,423-2,560 profiles/s).
const MERGE_AT_SEGMENTS: usize = 4;

/// The schema's fields.
#[derive(Clone, Copy)]
pub struct Fields {
    pub id: Field,
    pub kind: Field,
    pub title: Field,
    pub keywords: Field,
    pub body: Field,
    pub publications: Field,
    pub org: Field,
    pub country: Field,
    pub department: Field,
    pub status: Field,
    pub visibility: Field,
    pub collaboration: Field,
    pub keyword: Field,
    pub invited: Field,
    /// The department as written (for facet values; `department` holds the lookup key).
    pub department_label: Field,
    /// Centres: the organizations (host, partners) and profiles (director, members) whose
    /// people may see a participants-only centre.
    pub participant: Field,
}

/// Publications are indexed without positions: they were half of the index, and their
/// positions a large share of what importing and merging cost. A phrase (or a CJK word,
/// which is a phrase of bigrams) matches publications when all its words occur in them
/// (see `query::parse`); titles, keywords and bodies keep positions and exact phrases.
const PUBLICATIONS: IndexRecordOption = IndexRecordOption::WithFreqs;

/// The index's schema; `publications` says how that field is indexed (`query_schema`).
fn schema_with(publications: IndexRecordOption) -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text_with = |stored: bool, option: IndexRecordOption| {
        let o = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(MULTILINGUAL)
                .set_index_option(option),
        );
        if stored { o.set_stored() } else { o }
    };
    let text = |stored: bool| text_with(stored, IndexRecordOption::WithFreqsAndPositions);
    let fields = Fields {
        id: b.add_text_field("id", STRING | STORED),
        kind: b.add_text_field("kind", STRING),
        title: b.add_text_field("title", text(true)),
        keywords: b.add_text_field("keywords", text(true)),
        body: b.add_text_field("body", text(true)),
        publications: b.add_text_field("publications", text_with(false, publications)),
        org: b.add_text_field("org", STRING | STORED | FAST),
        country: b.add_text_field("country", STRING),
        department: b.add_text_field("department", STRING),
        // FAST (columnar) fields are what facet counts aggregate over.
        status: b.add_text_field("status", STRING | STORED | FAST),
        visibility: b.add_text_field("visibility", STRING),
        collaboration: b.add_text_field("collaboration", STRING | FAST),
        keyword: b.add_text_field("keyword", STRING | FAST),
        invited: b.add_text_field("invited", STRING),
        department_label: b.add_text_field("department_label", STRING | FAST),
        participant: b.add_text_field("participant", STRING),
    };
    (b.build(), fields)
}

pub(super) fn schema() -> (Schema, Fields) {
    schema_with(PUBLICATIONS)
}

/// The schema the query parser reads: the index's, with positions on every text field, so
/// that it builds a phrase wherever the caller's text has one; `query::parse` turns phrases
/// on fields indexed without positions into all of their words. Same fields in the same
/// order, so its `Field`s are the index's.
pub(super) fn query_schema() -> Schema {
    schema_with(IndexRecordOption::WithFreqsAndPositions).0
}

/// Lowercased, trimmed: how filter values are stored and looked up.
pub fn key(s: &str) -> String {
    s.trim().to_lowercase()
}

fn join<'a>(parts: impl IntoIterator<Item = Option<&'a str>>) -> String {
    parts
        .into_iter()
        .flatten()
        .filter(|s| !s.trim().is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// A profile's full-text fields as they are indexed (and as matching analyses them).
pub struct FacultyTexts {
    pub title: String,
    pub keywords: String,
    pub body: String,
    pub publications: String,
}

pub fn faculty_texts(s: &FacultySource) -> FacultyTexts {
    let r = &s.row;
    let pubs: Vec<&str> = s
        .parts
        .publications
        .iter()
        .flat_map(|p| {
            [
                Some(p.title.as_str()),
                p.abstract_.as_deref(),
                p.venue.as_deref(),
            ]
        })
        .flatten()
        .collect();
    FacultyTexts {
        title: join([Some(r.name.as_str()), r.local_name.as_deref()]),
        keywords: s.parts.keywords.join("\n"),
        body: join([
            r.title.as_deref(),
            r.department.as_deref(),
            r.research_interests.as_deref(),
            r.bio.as_deref(),
        ]),
        publications: pubs.join("\n"),
    }
}

fn faculty_doc(f: &Fields, s: &FacultySource) -> TantivyDocument {
    let r = &s.row;
    let texts = faculty_texts(s);
    let mut doc = TantivyDocument::default();
    doc.add_text(f.id, &r.id);
    doc.add_text(f.kind, "faculty");
    doc.add_text(f.title, texts.title);
    doc.add_text(f.keywords, texts.keywords);
    doc.add_text(f.body, texts.body);
    doc.add_text(f.publications, texts.publications);
    doc.add_text(f.org, &r.university_id);
    doc.add_text(f.country, key(&s.country));
    doc.add_text(f.visibility, &r.visibility);
    if let Some(d) = r
        .department
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
    {
        doc.add_text(f.department, key(d));
        doc.add_text(f.department_label, d);
    }
    for k in &s.parts.keywords {
        doc.add_text(f.keyword, key(k));
    }
    for c in &s.parts.availability {
        doc.add_text(f.collaboration, c);
    }
    doc
}

fn need_doc(f: &Fields, s: &NeedSource) -> TantivyDocument {
    let r = &s.row;
    let mut doc = TantivyDocument::default();
    doc.add_text(f.id, &r.id);
    doc.add_text(f.kind, "need");
    doc.add_text(f.title, &r.title);
    doc.add_text(f.keywords, s.parts.keywords.join("\n"));
    doc.add_text(
        f.body,
        join([
            r.summary.as_deref(),
            r.description.as_deref(),
            r.location.as_deref(),
        ]),
    );
    doc.add_text(f.org, &r.company_id);
    doc.add_text(f.country, key(&s.country));
    doc.add_text(f.status, &r.status);
    doc.add_text(f.visibility, &r.visibility);
    for k in &s.parts.keywords {
        doc.add_text(f.keyword, key(k));
    }
    for c in &s.parts.collaboration_types {
        doc.add_text(f.collaboration, c);
    }
    for p in &s.invited {
        doc.add_text(f.invited, p);
    }
    doc
}

/// Shared resources as words: the kind and every value (`gpu H100 64`).
fn resources_text(json: &str) -> String {
    let entries: Vec<serde_json::Map<String, serde_json::Value>> =
        serde_json::from_str(json).unwrap_or_default();
    entries
        .iter()
        .map(|e| {
            e.iter()
                .map(|(k, v)| match v {
                    serde_json::Value::String(s) if k == "kind" => s.replace('_', " "),
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn center_doc(f: &Fields, s: &CenterSource) -> TantivyDocument {
    let r = &s.row;
    let mut doc = TantivyDocument::default();
    doc.add_text(f.id, &r.id);
    doc.add_text(f.kind, "center");
    doc.add_text(
        f.title,
        join([Some(r.name.as_str()), r.local_name.as_deref()]),
    );
    doc.add_text(f.keywords, s.parts.focus_areas.join("\n"));
    let resources = resources_text(&r.shared_resources);
    doc.add_text(
        f.body,
        join([r.description.as_deref(), Some(resources.as_str())]),
    );
    doc.add_text(f.org, &r.host_university_id);
    doc.add_text(f.country, key(&s.country));
    doc.add_text(f.status, &r.status);
    doc.add_text(f.visibility, &r.visibility);
    for k in &s.parts.focus_areas {
        doc.add_text(f.keyword, key(k));
    }
    doc.add_text(f.participant, &r.host_university_id);
    for (company, _) in &s.parts.partners {
        doc.add_text(f.participant, company);
    }
    for p in r.director_id.iter().chain(&s.parts.member_ids) {
        doc.add_text(f.participant, p);
    }
    doc
}

/// What the commit payload records.
#[derive(serde::Serialize, serde::Deserialize)]
struct Payload {
    schema: u32,
    seq: i64,
}

fn payload_of(index: &Index) -> Option<Payload> {
    let metas = index.load_metas().ok()?;
    serde_json::from_str(metas.payload.as_deref()?).ok()
}

/// The file whose lock says which process owns the index directory. Taken before anything
/// looks at the directory: a second process (`liaison reindex` beside a running service) that
/// inspected the files first could catch the owner mid-merge, take the index for damaged and
/// clear it, the owner's writer lock with it. Not a `*.lock` name, so `clear_dir` keeps it.
const OWNER_FILE: &str = "liaison.owner";

/// Takes the directory's owner lock for as long as the returned file is open (the kernel
/// drops it when the process ends, however it ends).
fn own(dir: &Path) -> anyhow::Result<std::fs::File> {
    std::fs::create_dir_all(dir)?;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(OWNER_FILE))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(anyhow::anyhow!(
            "the search index in {} is in use by another process (is `liaison serve` running?)",
            dir.display()
        )),
        Err(std::fs::TryLockError::Error(e)) => Err(e.into()),
    }
}

/// Opens the index in `dir`, or makes a new one when there is none or it is of another
/// schema version (it is a projection: the database rebuilds it). Returns whether the caller
/// must rebuild it from the database.
fn open_index(dir: &Path) -> anyhow::Result<(Index, Fields, Option<i64>)> {
    let (schema, fields) = schema();
    let existing = if dir.join("meta.json").exists() {
        match Index::open_in_dir(dir) {
            Ok(index) if index.schema() == schema => match verify(&index) {
                Ok(()) => payload_of(&index)
                    .filter(|p| p.schema == SCHEMA_VERSION)
                    .map(|p| (index, p.seq)),
                Err(damage) => {
                    tracing::warn!(%damage, "search index damaged; rebuilding it from the database");
                    None
                }
            },
            Ok(_) => None,
            Err(e) => {
                tracing::warn!(error = %e, "search index unreadable; rebuilding it from the database");
                None
            }
        }
    } else {
        None
    };
    let (index, seq) = match existing {
        Some((index, seq)) => (index, Some(seq)),
        None => {
            clear_dir(dir)?;
            (Index::create_in_dir(dir, schema)?, None)
        }
    };
    index.tokenizers().register(MULTILINGUAL, multilingual());
    Ok((index, fields, seq))
}

/// Checks that every file of the committed segments is there and whole (tantivy's footer
/// checksums; about a second per gigabyte). A file cut short stopped the service at start
/// ("File corrupted"), and zeros in a postings file or a missing positions file let it start
/// and answer most searches with 500; a damaged index is rebuilt from the database instead.
fn verify(index: &Index) -> Result<(), String> {
    use tantivy::Directory as _;
    use tantivy::index::SegmentComponent as C;
    let metas = index
        .searchable_segment_metas()
        .map_err(|e| e.to_string())?;
    let dir = index.directory();
    for meta in &metas {
        let mut components = vec![C::Postings, C::Positions, C::FastFields, C::FieldNorms];
        components.extend([C::Terms, C::Store]);
        if meta.has_deletes() {
            components.push(C::Delete);
        }
        for component in components {
            let path = meta.relative_path(component);
            if !dir.exists(&path).map_err(|e| e.to_string())? {
                return Err(format!("{} is missing", path.display()));
            }
        }
    }
    match index.validate_checksum() {
        Ok(damaged) if damaged.is_empty() => Ok(()),
        Ok(damaged) => Err(format!("checksums do not match in {damaged:?}")),
        Err(e) => Err(e.to_string()),
    }
}

/// Removes an old index's files (and nothing that is not a file).
fn clear_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let ours = name == "meta.json"
            || name == ".managed.json"
            || name.ends_with(".lock")
            || [
                ".idx",
                ".pos",
                ".term",
                ".store",
                ".fast",
                ".fieldnorm",
                ".del",
            ]
            .iter()
            .any(|e| name.ends_with(e));
        if ours && entry.file_type()?.is_file() {
            std::fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

fn writer(index: &Index, dir: &Path) -> anyhow::Result<IndexWriter> {
    // Indexing is CPU-bound (analysis); up to two threads let bulk loads keep up.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(2));
    let writer: IndexWriter = index
        .writer_with_num_threads(threads, WRITER_MEMORY)
        .map_err(|e| match e {
            tantivy::TantivyError::LockFailure(..) => anyhow::anyhow!(
                "the search index in {} is in use by another process (is `liaison serve` running?)",
                dir.display()
            ),
            e => anyhow::anyhow!("cannot open the search index for writing: {e}"),
        })?;
    let mut merges = tantivy::indexer::LogMergePolicy::default();
    merges.set_min_num_segments(MERGE_AT_SEGMENTS);
    writer.set_merge_policy(Box::new(merges));
    Ok(writer)
}

fn commit(writer: &mut IndexWriter, seq: i64) -> tantivy::Result<()> {
    let mut prepared = writer.prepare_commit()?;
    prepared.set_payload(&serde_json::json!({"schema": SCHEMA_VERSION, "seq": seq}).to_string());
    prepared.commit()?;
    Ok(())
}

fn id_term(f: &Fields, id: &str) -> Term {
    Term::from_field_text(f.id, id)
}

/// Replaces the documents of these records with their current state (or drops them).
fn apply(
    conn: &mut DbConn,
    writer: &IndexWriter,
    f: &Fields,
    faculty: &BTreeSet<String>,
    needs: &BTreeSet<String>,
    centers: &BTreeSet<String>,
) -> AppResult<()> {
    for chunk in faculty.iter().cloned().collect::<Vec<_>>().chunks(200) {
        for id in chunk {
            writer.delete_term(id_term(f, id));
        }
        for s in source::faculty(conn, chunk)? {
            if s.row.deleted_at.is_none() {
                writer
                    .add_document(faculty_doc(f, &s))
                    .map_err(AppError::internal)?;
            }
        }
    }
    for chunk in needs.iter().cloned().collect::<Vec<_>>().chunks(200) {
        for id in chunk {
            writer.delete_term(id_term(f, id));
        }
        for s in source::needs(conn, chunk)? {
            if s.row.deleted_at.is_none() {
                writer
                    .add_document(need_doc(f, &s))
                    .map_err(AppError::internal)?;
            }
        }
    }
    for chunk in centers.iter().cloned().collect::<Vec<_>>().chunks(200) {
        for id in chunk {
            writer.delete_term(id_term(f, id));
        }
        for s in source::centers(conn, chunk)? {
            if s.row.deleted_at.is_none() {
                writer
                    .add_document(center_doc(f, &s))
                    .map_err(AppError::internal)?;
            }
        }
    }
    Ok(())
}

/// Fills an empty writer with every live record; returns the outbox position it covers. The
/// position is read *before* the records, so any change after it is replayed afterwards.
fn fill(db: &Db, writer: &IndexWriter, f: &Fields) -> AppResult<(i64, usize)> {
    db.run_blocking(|conn| {
        let seq = outbox::latest(conn)?;
        writer.delete_all_documents().map_err(AppError::internal)?;
        let mut count = 0;
        let mut after = String::new();
        loop {
            let ids = source::live_faculty_ids(conn, &after, 1000)?;
            let Some(last) = ids.last().cloned() else {
                break;
            };
            count += ids.len();
            apply(
                conn,
                writer,
                f,
                &ids.into_iter().collect(),
                &BTreeSet::new(),
                &BTreeSet::new(),
            )?;
            after = last;
        }
        let mut after = String::new();
        loop {
            let ids = source::live_need_ids(conn, &after, 1000)?;
            let Some(last) = ids.last().cloned() else {
                break;
            };
            count += ids.len();
            apply(
                conn,
                writer,
                f,
                &BTreeSet::new(),
                &ids.into_iter().collect(),
                &BTreeSet::new(),
            )?;
            after = last;
        }
        let mut after = String::new();
        loop {
            let ids = source::live_center_ids(conn, &after, 1000)?;
            let Some(last) = ids.last().cloned() else {
                break;
            };
            count += ids.len();
            apply(
                conn,
                writer,
                f,
                &BTreeSet::new(),
                &BTreeSet::new(),
                &ids.into_iter().collect(),
            )?;
            after = last;
        }
        Ok((seq, count))
    })
}

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
    /// Set when a search finds the index's files damaged; the indexer then rebuilds it.
    damaged: Arc<AtomicBool>,
    /// When the index was last verified after a failed search (`check_after_failure`).
    last_check: Mutex<Option<Instant>>,
    /// Statistics of the public documents of the latest searcher generation (see `stats`).
    public_stats: Mutex<Option<Arc<super::stats::PublicStats>>>,
    /// Held while the index is open (see `own`).
    _owner: std::fs::File,
}

/// Organization names remembered between searches: looking them up was a database round
/// trip per search (a twentieth of a search's CPU, half of it SQLite preparing the statement
/// again for each length of its `IN` list). A rename reaches the index through the outbox
/// like every other change; the indexer forgets the names then (`forget`), so labels are as
/// fresh as the hits they label. `generation` keeps a lookup that raced a rename from
/// remembering the old name.
#[derive(Default)]
struct Labels {
    known: Mutex<(u64, HashMap<String, String>)>,
}

/// Names remembered at most (organizations are few; this only bounds a pathological case).
const LABELS_KEPT: usize = 10_000;

impl Labels {
    /// The remembered names of `ids`, the ids not remembered, and the generation to remember
    /// those under.
    fn lookup(&self, ids: Vec<String>) -> (HashMap<String, String>, Vec<String>, u64) {
        let known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        let (mut found, mut missing) = (HashMap::new(), Vec::new());
        for id in ids {
            match known.1.get(&id) {
                Some(name) => {
                    found.insert(id, name.clone());
                }
                None => missing.push(id),
            }
        }
        (found, missing, known.0)
    }

    fn remember(&self, generation: u64, names: &HashMap<String, String>) {
        let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        if known.0 != generation {
            return;
        }
        if known.1.len() + names.len() > LABELS_KEPT {
            known.1.clear();
        }
        known
            .1
            .extend(names.iter().map(|(k, v)| (k.clone(), v.clone())));
    }

    fn forget(&self) {
        let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        known.0 += 1;
        known.1.clear();
    }
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
            parser,
            labels: Labels::default(),
            damaged: Arc::new(AtomicBool::new(false)),
            last_check: Mutex::new(None),
            public_stats: Mutex::new(None),
            _owner: owner,
        });
        let worker = Indexer {
            index: Arc::downgrade(&this),
            writer,
            fields,
            db: this.db.clone(),
            stop: this.stop.clone(),
            damaged: this.damaged.clone(),
            interval: commit_interval,
            committed: seq,
            last_prune: Instant::now(),
        };
        let handle = std::thread::Builder::new()
            .name("liaison-indexer".into())
            .spawn(move || worker.run())?;
        *this.thread.lock().unwrap_or_else(|p| p.into_inner()) = Some(handle);
        Ok(this)
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

struct Indexer {
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
                let (mut faculty, mut needs) = (BTreeSet::new(), BTreeSet::new());
                let (mut orgs, mut centers) = (BTreeSet::new(), BTreeSet::new());
                for (_, entity, id) in rows {
                    match Entity::from_db(&entity) {
                        Some(Entity::Faculty) => {
                            faculty.insert(id);
                        }
                        Some(Entity::Need) => {
                            needs.insert(id);
                        }
                        Some(Entity::Organization) => {
                            orgs.insert(id);
                        }
                        Some(Entity::Center) => {
                            centers.insert(id);
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
                        let (f, n) = source::of_organization(conn, org)?;
                        faculty.extend(f);
                        needs.extend(n);
                        centers.extend(source::centers_of_organization(conn, org)?);
                    }
                    apply(conn, writer, fields, &faculty, &needs, &centers)
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
}

//! The index on disk: opening it (or starting over when it is missing, outdated or damaged),
//! its writer, and commits that record the outbox position they cover.

use std::path::Path;

use tantivy::{Index, IndexWriter};

use super::fields::{Fields, schema};
use crate::search::analyzer::{MULTILINGUAL, multilingual};

/// Bump when the schema or the analysis changes: an index of another version is rebuilt.
const SCHEMA_VERSION: u32 = 4;
/// Memory for the writer's in-flight segments, shared by its threads (tantivy needs at least
/// 15 MB per thread).
const WRITER_MEMORY: usize = 96 * 1024 * 1024;

/// Segments of about the same size that are merged into one (tantivy's default: 8). A search
/// pays per segment (each word's postings are looked up, and scorers built, in every one), so
/// fewer segments answer more searches, while merging more often costs a bulk import nothing
/// measurable (figures in bench/README.md, "Segments of about the same size are merged at 4").
const MERGE_AT_SEGMENTS: usize = 4;

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
pub(super) fn own(dir: &Path) -> anyhow::Result<std::fs::File> {
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
pub(super) fn open_index(dir: &Path) -> anyhow::Result<(Index, Fields, Option<i64>)> {
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
/// checksums; about a second per gigabyte). tantivy refuses to open an index with a file cut
/// short ("File corrupted"), and opens one with zeros in a postings file or a missing
/// positions file only to fail most searches; a damaged index is rebuilt from the database
/// instead, since it is a projection of it.
pub(super) fn verify(index: &Index) -> Result<(), String> {
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

pub(super) fn writer(index: &Index, dir: &Path) -> anyhow::Result<IndexWriter> {
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

pub(super) fn commit(writer: &mut IndexWriter, seq: i64) -> tantivy::Result<()> {
    let mut prepared = writer.prepare_commit()?;
    prepared.set_payload(&serde_json::json!({"schema": SCHEMA_VERSION, "seq": seq}).to_string());
    prepared.commit()?;
    Ok(())
}

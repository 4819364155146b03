//! Filling in the analysed form of publications written before it existed
//! (`publications.analysed`, see `search::matching::AnalysedPublication::stored`). Matching
//! reads such publications' abstracts and analyses them at every match instead, with the same
//! scores, so this only makes them cheaper. It runs once when the service starts, on the sync
//! runner's thread, in small transactions; every publication written since carries its form.

use crate::db::Db;
use crate::db::faculty as rows;
use crate::error::AppResult;
use crate::search::matching::AnalysedPublication;

/// Publications analysed per transaction: a short hold of the (SQLite) write lock.
const BATCH: i64 = 500;

/// Analyses the publications that lack their form until none do or `stop` says so; returns
/// how many it filled.
pub fn fill(db: &Db, stop: &dyn Fn() -> bool) -> AppResult<usize> {
    let mut filled = 0;
    while !stop() {
        // Read, then analysed without holding the write lock.
        let found = db.run_blocking(|c| Ok(rows::unanalysed(c, BATCH)?))?;
        if found.is_empty() {
            break;
        }
        let forms: Vec<(String, i32, Vec<u8>)> = found
            .into_iter()
            .map(|(id, position, title, abstract_)| {
                let form = AnalysedPublication::stored(&title, abstract_.as_deref());
                (id, position, form)
            })
            .collect();
        let set = db.write_blocking(|c| Ok(rows::set_analysed(c, &forms)?))?;
        if set == 0 {
            // Every one was rewritten meanwhile (and carries its form): nothing is left
            // that this pass could change.
            break;
        }
        filled += set;
    }
    Ok(filled)
}

//! Organization names for facet labels, remembered between searches.

use std::collections::HashMap;
use std::sync::Mutex;

/// Organization names remembered between searches, so that labelling facets is not a database
/// round trip per search (SQLite also prepares the statement again for each length of its
/// `IN` list). A rename reaches the index through the outbox
/// like every other change; the indexer forgets the names then (`forget`), so labels are as
/// fresh as the hits they label. `generation` keeps a lookup that raced a rename from
/// remembering the old name.
#[derive(Default)]
pub(super) struct Labels {
    known: Mutex<(u64, HashMap<String, String>)>,
}

/// Names remembered at most (organizations are few; this only bounds a pathological case).
const LABELS_KEPT: usize = 10_000;

impl Labels {
    /// The remembered names of `ids`, the ids not remembered, and the generation to remember
    /// those under.
    pub(super) fn lookup(&self, ids: Vec<String>) -> (HashMap<String, String>, Vec<String>, u64) {
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

    pub(super) fn remember(&self, generation: u64, names: &HashMap<String, String>) {
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

    pub(super) fn forget(&self) {
        let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        known.0 += 1;
        known.1.clear();
    }
}

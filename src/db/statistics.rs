//! The query planner's statistics after bulk writes (PostgreSQL).
//!
//! PostgreSQL plans from statistics that autovacuum gathers some time after a table changes,
//! and never where it is off. Right after a bulk import the planner would take the tables
//! for (nearly) empty and plan a matching query as a sequential scan of every publication to
//! load a few candidates' (bench/README.md has the figures). Bulk imports call
//! [`refresh`] when they end, so the statistics follow the load at once.

use diesel::prelude::*;
use diesel::sql_types::{Array, Text};

use super::DbConn;

/// The tables a profile import writes.
pub const FACULTY_TABLES: [&str; 4] = [
    "faculty_profiles",
    "publications",
    "faculty_keywords",
    "faculty_availability",
];

#[derive(QueryableByName)]
struct Stale {
    #[diesel(sql_type = Text)]
    relname: String,
}

/// PostgreSQL: gathers fresh statistics (`ANALYZE`) for those of `tables` never analysed, or
/// grown by more than a tenth (and 8 pages) since they last were: autovacuum's own default
/// threshold, measured on the table's size on disk, which is current at once (the counters of
/// changed rows autovacuum reads reach other sessions only seconds later). Returns the tables
/// analysed. SQLite: nothing (its planner keeps no statistics unless asked to).
pub fn refresh(conn: &mut DbConn, tables: &[&str]) -> QueryResult<Vec<String>> {
    let DbConn::Pg(pg) = conn else {
        return Ok(Vec::new());
    };
    let stale: Vec<Stale> = diesel::sql_query(
        "SELECT c.relname::text AS relname FROM pg_class c \
         WHERE c.relnamespace = current_schema()::regnamespace AND c.relname = ANY($1) \
         AND (c.reltuples < 0 \
              OR pg_relation_size(c.oid) / current_setting('block_size')::bigint \
                 > 1.1 * c.relpages + 8)",
    )
    .bind::<Array<Text>, _>(tables)
    .load(pg)?;
    for table in &stale {
        diesel::sql_query(format!(
            "ANALYZE \"{}\"",
            table.relname.replace('"', "\"\"")
        ))
        .execute(pg)?;
    }
    Ok(stale.into_iter().map(|t| t.relname).collect())
}

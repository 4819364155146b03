-- The transactional outbox the search indexer follows: every change to an indexed record
-- writes a row here in the same transaction. `seq` only grows (AUTOINCREMENT never reuses).
CREATE TABLE search_outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

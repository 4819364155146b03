-- The transactional outbox the search indexer follows: every change to an indexed record
-- writes a row here in the same transaction. Writers take a transaction-scoped advisory lock
-- before inserting, so rows become visible in `seq` order and the indexer never skips one.
CREATE TABLE search_outbox (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

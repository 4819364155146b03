-- Organizations: universities, companies, government bodies and foundations.
-- Kept in step with migrations/postgres (same tables, columns and constraints).
CREATE TABLE organizations (
    id          TEXT PRIMARY KEY NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('university', 'company', 'government', 'foundation')),
    name        TEXT NOT NULL,
    local_name  TEXT,
    country     TEXT NOT NULL,
    website     TEXT,
    version     BIGINT NOT NULL DEFAULT 1,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    deleted_at  TIMESTAMP
);
CREATE INDEX organizations_kind_country ON organizations (kind, country);

-- Profiles filled from where researchers already keep them (ORCID, OpenAlex): where each field
-- and publication came from and when, what the owner deleted (so a sync never brings it back),
-- each profile's last sync per source, and bulk sync jobs. Kept in step with the other
-- backend's migration of the same name.
ALTER TABLE faculty_profiles ADD COLUMN openalex_id TEXT;
CREATE INDEX faculty_profiles_openalex ON faculty_profiles (university_id, openalex_id);

-- `source`: manual (typed through the API), import (a CSV or NDJSON file), orcid, openalex.
ALTER TABLE publications ADD COLUMN source TEXT NOT NULL DEFAULT 'manual'
    CHECK (source IN ('manual', 'import', 'orcid', 'openalex'));
-- The source's own id of the work (an ORCID put-code, an OpenAlex work id).
ALTER TABLE publications ADD COLUMN source_id TEXT;
ALTER TABLE publications ADD COLUMN recorded_at TIMESTAMP;
UPDATE publications SET recorded_at = (
    SELECT p.updated_at FROM faculty_profiles p WHERE p.id = publications.faculty_id
);

-- Which writer last set each field of a profile. A field without a row was never set. Rows
-- from before this migration count as typed by hand: a sync never overwrites them.
CREATE TABLE faculty_field_sources (
    faculty_id  TEXT NOT NULL REFERENCES faculty_profiles (id) ON DELETE CASCADE,
    field       TEXT NOT NULL,
    source      TEXT NOT NULL CHECK (source IN ('manual', 'import', 'orcid', 'openalex')),
    recorded_at TIMESTAMP NOT NULL,
    PRIMARY KEY (faculty_id, field)
);
INSERT INTO faculty_field_sources (faculty_id, field, source, recorded_at)
    SELECT id, 'name', 'manual', updated_at FROM faculty_profiles;
INSERT INTO faculty_field_sources (faculty_id, field, source, recorded_at)
    SELECT id, 'local_name', 'manual', updated_at FROM faculty_profiles WHERE local_name IS NOT NULL;
INSERT INTO faculty_field_sources (faculty_id, field, source, recorded_at)
    SELECT id, 'title', 'manual', updated_at FROM faculty_profiles WHERE title IS NOT NULL;
INSERT INTO faculty_field_sources (faculty_id, field, source, recorded_at)
    SELECT id, 'department', 'manual', updated_at FROM faculty_profiles WHERE department IS NOT NULL;
INSERT INTO faculty_field_sources (faculty_id, field, source, recorded_at)
    SELECT id, 'email', 'manual', updated_at FROM faculty_profiles WHERE email IS NOT NULL;
INSERT INTO faculty_field_sources (faculty_id, field, source, recorded_at)
    SELECT id, 'orcid', 'manual', updated_at FROM faculty_profiles WHERE orcid IS NOT NULL;
INSERT INTO faculty_field_sources (faculty_id, field, source, recorded_at)
    SELECT id, 'research_interests', 'manual', updated_at FROM faculty_profiles WHERE research_interests IS NOT NULL;
INSERT INTO faculty_field_sources (faculty_id, field, source, recorded_at)
    SELECT id, 'bio', 'manual', updated_at FROM faculty_profiles WHERE bio IS NOT NULL;
INSERT INTO faculty_field_sources (faculty_id, field, source, recorded_at)
    SELECT id, 'languages', 'manual', updated_at FROM faculty_profiles WHERE languages <> '[]';
INSERT INTO faculty_field_sources (faculty_id, field, source, recorded_at)
    SELECT DISTINCT p.id, 'keywords', 'manual', p.updated_at
    FROM faculty_profiles p JOIN faculty_keywords k ON k.faculty_id = p.id;

-- Publications the owner removed: a sync skips a work with the same identity (the DOI when
-- both have one, else the normalised title and year).
CREATE TABLE publication_tombstones (
    faculty_id  TEXT NOT NULL REFERENCES faculty_profiles (id) ON DELETE CASCADE,
    -- `doi:<lower-case DOI>` when the publication had one, else `title:<title key>`.
    work_key    TEXT NOT NULL,
    title_key   TEXT NOT NULL,
    deleted_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (faculty_id, work_key)
);

-- Each profile's last sync from each source.
CREATE TABLE faculty_sync_state (
    faculty_id    TEXT NOT NULL REFERENCES faculty_profiles (id) ON DELETE CASCADE,
    source        TEXT NOT NULL CHECK (source IN ('orcid', 'openalex')),
    attempted_at  TIMESTAMP NOT NULL,
    succeeded_at  TIMESTAMP,
    error_code    TEXT,
    error_detail  TEXT,
    PRIMARY KEY (faculty_id, source)
);

-- A bulk sync: the profiles of one university (or, for the periodic refresh, every profile
-- due), taken in id order; `cursor` is the last profile done, so a job interrupted by a
-- restart resumes where it stopped. A runner holds a job while `lease_until` is ahead, and
-- writes its progress only while `runner` is still its own token.
CREATE TABLE sync_jobs (
    id            TEXT PRIMARY KEY NOT NULL,
    university_id TEXT REFERENCES organizations (id),
    kind          TEXT NOT NULL CHECK (kind IN ('request', 'refresh')),
    requested_by  TEXT REFERENCES users (id),
    sources       TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed')),
    total         INTEGER NOT NULL DEFAULT 0,
    processed     INTEGER NOT NULL DEFAULT 0,
    updated       INTEGER NOT NULL DEFAULT 0,
    unchanged     INTEGER NOT NULL DEFAULT 0,
    failed        INTEGER NOT NULL DEFAULT 0,
    cursor        TEXT,
    -- JSON array of the first errors: {faculty_id, source, code, detail}.
    errors        TEXT NOT NULL DEFAULT '[]',
    detail        TEXT,
    -- The runner holding the job (a token it drew when it took it), and until when.
    runner        TEXT,
    lease_until   TIMESTAMP,
    created_at    TIMESTAMP NOT NULL,
    started_at    TIMESTAMP,
    finished_at   TIMESTAMP,
    updated_at    TIMESTAMP NOT NULL
);
CREATE INDEX sync_jobs_state ON sync_jobs (state, created_at);
CREATE INDEX sync_jobs_university ON sync_jobs (university_id, created_at);

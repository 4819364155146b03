-- Faculty profiles and company project needs, with their list-valued parts in side tables
-- (so that filters by keyword or collaboration type are plain indexed lookups on both
-- backends). Kept in step with the other backend's migration of the same name.
CREATE TABLE faculty_profiles (
    id                  TEXT PRIMARY KEY NOT NULL,
    university_id       TEXT NOT NULL REFERENCES organizations (id),
    owner_user_id       TEXT REFERENCES users (id),
    -- The office's own identifier, a stable key for imports.
    external_id         TEXT,
    name                TEXT NOT NULL,
    local_name          TEXT,
    title               TEXT,
    department          TEXT,
    email               TEXT,
    orcid               TEXT,
    research_interests  TEXT,
    bio                 TEXT,
    -- JSON array of language names/codes, as given.
    languages           TEXT NOT NULL DEFAULT '[]',
    visibility          TEXT NOT NULL CHECK (visibility IN ('public', 'members')),
    version             BIGINT NOT NULL DEFAULT 1,
    created_at          TIMESTAMP NOT NULL,
    updated_at          TIMESTAMP NOT NULL,
    deleted_at          TIMESTAMP
);
CREATE INDEX faculty_profiles_university ON faculty_profiles (university_id, department);
CREATE INDEX faculty_profiles_owner ON faculty_profiles (owner_user_id);
CREATE UNIQUE INDEX faculty_profiles_external_id ON faculty_profiles (university_id, external_id) WHERE external_id IS NOT NULL;
CREATE UNIQUE INDEX faculty_profiles_orcid ON faculty_profiles (university_id, orcid) WHERE orcid IS NOT NULL;

CREATE TABLE faculty_keywords (
    faculty_id   TEXT NOT NULL REFERENCES faculty_profiles (id),
    position     INTEGER NOT NULL,
    keyword      TEXT NOT NULL,
    -- Lower-cased, for case-insensitive filtering.
    keyword_key  TEXT NOT NULL,
    PRIMARY KEY (faculty_id, position)
);
CREATE INDEX faculty_keywords_key ON faculty_keywords (keyword_key);

CREATE TABLE faculty_availability (
    faculty_id          TEXT NOT NULL REFERENCES faculty_profiles (id),
    collaboration_type  TEXT NOT NULL,
    PRIMARY KEY (faculty_id, collaboration_type)
);
CREATE INDEX faculty_availability_type ON faculty_availability (collaboration_type);

CREATE TABLE publications (
    faculty_id  TEXT NOT NULL REFERENCES faculty_profiles (id),
    position    INTEGER NOT NULL,
    title       TEXT NOT NULL,
    abstract    TEXT,
    year        INTEGER,
    venue       TEXT,
    doi         TEXT,
    PRIMARY KEY (faculty_id, position)
);

CREATE TABLE needs (
    id               TEXT PRIMARY KEY NOT NULL,
    company_id       TEXT NOT NULL REFERENCES organizations (id),
    title            TEXT NOT NULL,
    summary          TEXT,
    description      TEXT,
    -- Money: integer minor units plus an ISO 4217 code.
    budget_min       BIGINT,
    budget_max       BIGINT,
    currency         TEXT,
    duration_months  INTEGER,
    deadline         DATE,
    location         TEXT,
    remote           BOOLEAN NOT NULL DEFAULT FALSE,
    status           TEXT NOT NULL CHECK (status IN ('draft', 'open', 'closed', 'awarded')),
    visibility       TEXT NOT NULL CHECK (visibility IN ('public', 'members', 'confidential')),
    version          BIGINT NOT NULL DEFAULT 1,
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL,
    deleted_at       TIMESTAMP
);
CREATE INDEX needs_company ON needs (company_id, status);

CREATE TABLE need_keywords (
    need_id      TEXT NOT NULL REFERENCES needs (id),
    position     INTEGER NOT NULL,
    keyword      TEXT NOT NULL,
    keyword_key  TEXT NOT NULL,
    PRIMARY KEY (need_id, position)
);
CREATE INDEX need_keywords_key ON need_keywords (keyword_key);

CREATE TABLE need_collaboration (
    need_id             TEXT NOT NULL REFERENCES needs (id),
    collaboration_type  TEXT NOT NULL,
    PRIMARY KEY (need_id, collaboration_type)
);
CREATE INDEX need_collaboration_type ON need_collaboration (collaboration_type);

-- Faculty a company has invited to a need: they may see it even when it is confidential.
CREATE TABLE need_invitations (
    need_id     TEXT NOT NULL REFERENCES needs (id),
    faculty_id  TEXT NOT NULL REFERENCES faculty_profiles (id),
    invited_by  TEXT NOT NULL REFERENCES users (id),
    created_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (need_id, faculty_id)
);
CREATE INDEX need_invitations_faculty ON need_invitations (faculty_id);

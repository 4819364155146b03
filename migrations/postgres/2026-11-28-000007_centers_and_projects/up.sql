-- Joint lab centres and funded projects, with their list-valued parts in side tables (so that
-- "the centres a company takes part in" or "the projects a professor works on" are plain
-- indexed lookups on both backends). Kept in step with the other backend's migration of the
-- same name.
CREATE TABLE centers (
    id                  TEXT PRIMARY KEY NOT NULL,
    host_university_id  TEXT NOT NULL REFERENCES organizations (id),
    name                TEXT NOT NULL,
    local_name          TEXT,
    description         TEXT,
    -- A faculty profile of the host university.
    director_id         TEXT REFERENCES faculty_profiles (id),
    established_date    DATE,
    renewal_date        DATE,
    end_date            DATE,
    status              TEXT NOT NULL CHECK (status IN ('planned', 'active', 'renewing', 'closed')),
    visibility          TEXT NOT NULL CHECK (visibility IN ('public', 'participants')),
    -- JSON array of typed entries ({"kind": "gpu", ...}), validated by the service.
    shared_resources    TEXT NOT NULL DEFAULT '[]',
    version             BIGINT NOT NULL DEFAULT 1,
    created_at          TIMESTAMP NOT NULL,
    updated_at          TIMESTAMP NOT NULL,
    deleted_at          TIMESTAMP
);
CREATE INDEX centers_host ON centers (host_university_id, status);
CREATE INDEX centers_director ON centers (director_id);

CREATE TABLE center_partners (
    center_id   TEXT NOT NULL REFERENCES centers (id),
    company_id  TEXT NOT NULL REFERENCES organizations (id),
    role        TEXT NOT NULL CHECK (role IN ('founding_sponsor', 'member')),
    PRIMARY KEY (center_id, company_id)
);
CREATE INDEX center_partners_company ON center_partners (company_id);

CREATE TABLE center_members (
    center_id   TEXT NOT NULL REFERENCES centers (id),
    faculty_id  TEXT NOT NULL REFERENCES faculty_profiles (id),
    PRIMARY KEY (center_id, faculty_id)
);
CREATE INDEX center_members_faculty ON center_members (faculty_id);

CREATE TABLE center_focus_areas (
    center_id   TEXT NOT NULL REFERENCES centers (id),
    position    INTEGER NOT NULL,
    focus_area  TEXT NOT NULL,
    -- Lower-cased, for case-insensitive filtering.
    focus_key   TEXT NOT NULL,
    PRIMARY KEY (center_id, position)
);
CREATE INDEX center_focus_areas_key ON center_focus_areas (focus_key);

-- Money: integer minor units plus an ISO 4217 code, per year and sponsor.
CREATE TABLE center_funding (
    center_id     TEXT NOT NULL REFERENCES centers (id),
    position      INTEGER NOT NULL,
    year          INTEGER NOT NULL,
    sponsor_id    TEXT NOT NULL REFERENCES organizations (id),
    amount_minor  BIGINT NOT NULL,
    currency      TEXT NOT NULL,
    PRIMARY KEY (center_id, position)
);
CREATE INDEX center_funding_sponsor ON center_funding (sponsor_id, year);

CREATE TABLE funded_projects (
    id                TEXT PRIMARY KEY NOT NULL,
    title             TEXT NOT NULL,
    description       TEXT,
    kind              TEXT NOT NULL CHECK (kind IN ('sponsored_research', 'center_funding', 'donation', 'government_grant', 'consulting', 'license', 'in_kind')),
    sponsor_id        TEXT NOT NULL REFERENCES organizations (id),
    university_id     TEXT NOT NULL REFERENCES organizations (id),
    pi_id             TEXT REFERENCES faculty_profiles (id),
    center_id         TEXT REFERENCES centers (id),
    need_id           TEXT REFERENCES needs (id),
    -- Engagements live in another migration; no foreign key yet (checked by the service later).
    engagement_id     TEXT,
    amount_minor      BIGINT NOT NULL,
    currency          TEXT NOT NULL,
    start_date        DATE,
    end_date          DATE,
    status            TEXT NOT NULL CHECK (status IN ('proposed', 'negotiating', 'active', 'completed', 'terminated')),
    visibility        TEXT NOT NULL CHECK (visibility IN ('public', 'participants')),
    version           BIGINT NOT NULL DEFAULT 1,
    created_at        TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL,
    deleted_at        TIMESTAMP
);
CREATE INDEX funded_projects_university ON funded_projects (university_id, status);
CREATE INDEX funded_projects_sponsor ON funded_projects (sponsor_id, status);
CREATE INDEX funded_projects_center ON funded_projects (center_id);
CREATE INDEX funded_projects_pi ON funded_projects (pi_id);

CREATE TABLE project_investigators (
    project_id  TEXT NOT NULL REFERENCES funded_projects (id),
    faculty_id  TEXT NOT NULL REFERENCES faculty_profiles (id),
    PRIMARY KEY (project_id, faculty_id)
);
CREATE INDEX project_investigators_faculty ON project_investigators (faculty_id);

-- Scheduled and received payments, always in the project's currency.
CREATE TABLE project_payments (
    id             TEXT PRIMARY KEY NOT NULL,
    project_id     TEXT NOT NULL REFERENCES funded_projects (id),
    due_date       DATE,
    received_date  DATE,
    amount_minor   BIGINT NOT NULL,
    currency       TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('scheduled', 'received', 'cancelled')),
    note           TEXT,
    version        BIGINT NOT NULL DEFAULT 1,
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL
);
CREATE INDEX project_payments_project ON project_payments (project_id);

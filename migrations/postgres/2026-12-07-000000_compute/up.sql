-- Shared compute: resources (GPU clusters, HPC systems, cloud credit pools) with a capacity per
-- allocation period split between academia and industry, the allocations people apply for,
-- and the usage the scheduler recorded against them. Kept in step with the other backend's
-- migration of the same name.
CREATE TABLE compute_resources (
    id                TEXT PRIMARY KEY NOT NULL,
    -- Whose staff decide: a university, a company (a centre's cluster it brings), or a
    -- government body (a national facility).
    owner_id          TEXT NOT NULL REFERENCES organizations (id),
    -- The joint centre the resource belongs to, if any.
    center_id         TEXT REFERENCES centers (id),
    name              TEXT NOT NULL,
    description       TEXT,
    kind              TEXT NOT NULL CHECK (kind IN ('gpu_cluster', 'hpc_system', 'cloud_credits')),
    unit              TEXT NOT NULL CHECK (unit IN ('gpu_hours', 'node_hours', 'credits')),
    gpu_model         TEXT,
    -- Lower-cased, for case-insensitive filtering.
    gpu_model_key     TEXT,
    gpu_count         INTEGER,
    period            TEXT NOT NULL CHECK (period IN ('month', 'quarter', 'year')),
    -- Units available in each period.
    capacity          BIGINT NOT NULL CHECK (capacity > 0),
    academia_percent  INTEGER NOT NULL CHECK (academia_percent BETWEEN 0 AND 100),
    industry_percent  INTEGER NOT NULL CHECK (industry_percent BETWEEN 0 AND 100),
    status            TEXT NOT NULL CHECK (status IN ('active', 'retired')),
    version           BIGINT NOT NULL DEFAULT 1,
    created_at        TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL,
    deleted_at        TIMESTAMP,
    CHECK (academia_percent + industry_percent = 100)
);
CREATE INDEX compute_resources_owner ON compute_resources (owner_id);
CREATE INDEX compute_resources_center ON compute_resources (center_id);
CREATE INDEX compute_resources_gpu_model ON compute_resources (gpu_model_key);

CREATE TABLE compute_allocations (
    id                     TEXT PRIMARY KEY NOT NULL,
    resource_id            TEXT NOT NULL REFERENCES compute_resources (id),
    -- The university or company that applies.
    applicant_id           TEXT NOT NULL REFERENCES organizations (id),
    -- The share the allocation counts against.
    sector                 TEXT NOT NULL CHECK (sector IN ('academia', 'industry')),
    -- The professor the allocation is for (a profile of the applicant university).
    faculty_id             TEXT REFERENCES faculty_profiles (id),
    requested_by           TEXT NOT NULL REFERENCES users (id),
    -- What the allocation serves.
    need_id                TEXT REFERENCES needs (id),
    engagement_id          TEXT REFERENCES engagements (id),
    center_id              TEXT REFERENCES centers (id),
    project_id             TEXT REFERENCES funded_projects (id),
    -- The allocation period ("2027", "2027-Q1", "2027-01") and the dates it covers.
    period                 TEXT NOT NULL,
    period_start           DATE NOT NULL,
    period_end             DATE NOT NULL,
    requested              BIGINT NOT NULL CHECK (requested > 0),
    approved               BIGINT CHECK (approved > 0),
    justification          TEXT NOT NULL,
    state                  TEXT NOT NULL CHECK (state IN ('draft', 'submitted', 'approved', 'rejected', 'active', 'expired')),
    decision_reason        TEXT,
    -- Why the owner approved beyond the sector's share (audited).
    quota_override_reason  TEXT,
    -- The scheduler account usage is charged to (Slurm's Account).
    scheduler_account      TEXT,
    renewal_of             TEXT REFERENCES compute_allocations (id),
    decided_by             TEXT REFERENCES users (id),
    decided_at             TIMESTAMP,
    version                BIGINT NOT NULL DEFAULT 1,
    created_at             TIMESTAMP NOT NULL,
    updated_at             TIMESTAMP NOT NULL
);
CREATE INDEX compute_allocations_resource ON compute_allocations (resource_id, period, sector, state);
CREATE INDEX compute_allocations_applicant ON compute_allocations (applicant_id);
CREATE INDEX compute_allocations_faculty ON compute_allocations (faculty_id);
CREATE INDEX compute_allocations_account ON compute_allocations (resource_id, scheduler_account);

-- One finished scheduler job, charged once: a re-import of the same job id replaces it.
CREATE TABLE compute_usage (
    resource_id      TEXT NOT NULL REFERENCES compute_resources (id),
    job_id           TEXT NOT NULL,
    allocation_id    TEXT NOT NULL REFERENCES compute_allocations (id),
    account          TEXT NOT NULL,
    user_name        TEXT NOT NULL,
    job_partition    TEXT NOT NULL,
    -- GPUs or nodes the job held, as the resource's unit counts them.
    units            BIGINT NOT NULL,
    elapsed_seconds  BIGINT NOT NULL,
    -- units × elapsed seconds: what the job is charged, in unit-seconds.
    charged_seconds  BIGINT NOT NULL,
    started_at       TIMESTAMP NOT NULL,
    ended_at         TIMESTAMP NOT NULL,
    job_state        TEXT NOT NULL,
    imported_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (resource_id, job_id)
);
CREATE INDEX compute_usage_allocation ON compute_usage (allocation_id, started_at);

-- What compute a need brings to the work or needs found ("5,000 H100 GPU-hours").
ALTER TABLE needs ADD COLUMN compute_direction TEXT CHECK (compute_direction IN ('brings', 'needs'));
ALTER TABLE needs ADD COLUMN compute_amount BIGINT;
ALTER TABLE needs ADD COLUMN compute_unit TEXT CHECK (compute_unit IN ('gpu_hours', 'node_hours', 'credits'));
ALTER TABLE needs ADD COLUMN compute_gpu_model TEXT;

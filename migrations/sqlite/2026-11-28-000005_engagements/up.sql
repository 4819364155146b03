-- Engagements: a company and a professor working towards a collaboration on one need, one per
-- (need, profile) pair, with an append-only history of every state change. Kept in step with
-- the other backend's migration of the same name.
CREATE TABLE engagements (
    id          TEXT PRIMARY KEY NOT NULL,
    need_id     TEXT NOT NULL REFERENCES needs (id),
    faculty_id  TEXT NOT NULL REFERENCES faculty_profiles (id),
    state       TEXT NOT NULL CHECK (state IN ('shortlisted', 'invited', 'interested', 'declined', 'agreed', 'closed')),
    created_by  TEXT NOT NULL REFERENCES users (id),
    version     BIGINT NOT NULL DEFAULT 1,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX engagements_pair ON engagements (need_id, faculty_id);
CREATE INDEX engagements_faculty ON engagements (faculty_id);

-- Never updated or deleted: the history of each engagement, oldest first by `seq`.
CREATE TABLE engagement_events (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    engagement_id  TEXT NOT NULL REFERENCES engagements (id),
    from_state     TEXT,
    to_state       TEXT NOT NULL,
    actor_user_id  TEXT NOT NULL REFERENCES users (id),
    reason_code    TEXT,
    reason_text    TEXT,
    at             TIMESTAMP NOT NULL
);
CREATE INDEX engagement_events_engagement ON engagement_events (engagement_id, seq);

-- Invitations made before engagements existed become engagements in `invited`, so that every
-- invitation has the engagement that owns it. (Their ids are random UUIDs, not time-ordered.)
INSERT INTO engagements (id, need_id, faculty_id, state, created_by, version, created_at, updated_at)
SELECT lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-'
             || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6))),
       i.need_id, i.faculty_id, 'invited', i.invited_by, 1, i.created_at, i.created_at
FROM need_invitations i;
INSERT INTO engagement_events (engagement_id, from_state, to_state, actor_user_id, at)
SELECT e.id, NULL, 'invited', e.created_by, e.created_at FROM engagements e;

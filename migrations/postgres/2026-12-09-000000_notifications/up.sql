-- What happened, for those who should hear of it: events (one durable record per change that
-- others care about, written in the change's transaction), each user's notifications made
-- from them, what each user wants to receive, saved alerts, and the positions of the workers
-- that follow the event log and the search outbox. Kept in step with the other backend's
-- migration of the same name.

-- `audit_entry_id`: the audit entry of the change, whose organizations and snapshots decide
-- who may see the event (the audit log's own visibility rules). `recipient_user_id`: an event
-- meant for one account only (a saved alert's hit). `once_key`: an event that must happen at
-- most once (an alert's hit on a record, a payment falling overdue).
CREATE TABLE events (
    seq               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                TEXT NOT NULL UNIQUE,
    type              TEXT NOT NULL,
    at                TIMESTAMP NOT NULL,
    entity            TEXT NOT NULL,
    entity_id         TEXT NOT NULL,
    audit_entry_id    TEXT REFERENCES audit_log (id),
    actor_user_id     TEXT,
    recipient_user_id TEXT REFERENCES users (id) ON DELETE CASCADE,
    data              TEXT NOT NULL,
    once_key          TEXT UNIQUE
);
CREATE INDEX events_entity ON events (entity, entity_id);

CREATE TABLE notifications (
    id         TEXT NOT NULL PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    event_id   TEXT NOT NULL REFERENCES events (id),
    type       TEXT NOT NULL,
    entity     TEXT NOT NULL,
    entity_id  TEXT NOT NULL,
    title      TEXT NOT NULL,
    data       TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    read_at    TIMESTAMP,
    UNIQUE (user_id, event_id)
);
CREATE INDEX notifications_user ON notifications (user_id, id);
CREATE INDEX notifications_unread ON notifications (user_id, read_at);

-- How a user receives each type of event; a type without a row is delivered in the app.
CREATE TABLE notification_settings (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    event_type TEXT NOT NULL,
    delivery   TEXT NOT NULL,
    PRIMARY KEY (user_id, event_type)
);

-- `kind` search: `search` holds the search's parameters (JSON) and `target` what it searches;
-- `kind` match: profiles for `need_id`, or needs for `faculty_id`, scoring at least `min_score`.
CREATE TABLE saved_alerts (
    id         TEXT NOT NULL PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('search', 'match')),
    target     TEXT NOT NULL CHECK (target IN ('faculty', 'need', 'center')),
    search     TEXT,
    need_id    TEXT REFERENCES needs (id) ON DELETE CASCADE,
    faculty_id TEXT REFERENCES faculty_profiles (id) ON DELETE CASCADE,
    min_score  DOUBLE PRECISION,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX saved_alerts_user ON saved_alerts (user_id);

-- A worker's position in the log it follows, and who holds it (a lease, so that one process
-- of a deployment does the work and another takes over when it dies).
CREATE TABLE workers (
    name        TEXT NOT NULL PRIMARY KEY,
    position    BIGINT NOT NULL,
    holder      TEXT,
    lease_until TIMESTAMP
);
-- Alerts are checked against records that change from now on, not the whole history.
INSERT INTO workers (name, position) SELECT 'alerts', COALESCE(MAX(seq), 0) FROM search_outbox;
INSERT INTO workers (name, position) VALUES ('notifications', 0);

-- Webhooks: an organization's endpoints, each event's delivery to each endpoint that may see
-- it (made in the same transaction as the notifications of the event), and every attempt.
-- Kept in step with the other backend's migration of the same name.
CREATE TABLE webhook_endpoints (
    id              TEXT NOT NULL PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    url             TEXT NOT NULL,
    description     TEXT,
    -- JSON array of event types.
    event_types     TEXT NOT NULL,
    -- `whsec_` + base64 of the key (Standard Webhooks).
    secret          TEXT NOT NULL,
    enabled         BOOLEAN NOT NULL,
    disabled_reason TEXT,
    version         BIGINT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    deleted_at      TIMESTAMP
);
CREATE INDEX webhook_endpoints_organization ON webhook_endpoints (organization_id);

-- `id` is the `webhook-id` header: the same on every attempt and replay of the delivery.
CREATE TABLE webhook_deliveries (
    id              TEXT NOT NULL PRIMARY KEY,
    endpoint_id     TEXT NOT NULL REFERENCES webhook_endpoints (id),
    event_id        TEXT NOT NULL REFERENCES events (id),
    event_type      TEXT NOT NULL,
    payload         TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL,
    -- The attempt count when the retry schedule last started (0, or at the last replay).
    retry_base      INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP,
    last_status     INTEGER,
    last_error      TEXT,
    runner          TEXT,
    lease_until     TIMESTAMP,
    created_at      TIMESTAMP NOT NULL,
    delivered_at    TIMESTAMP,
    UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);

CREATE TABLE webhook_attempts (
    delivery_id TEXT NOT NULL REFERENCES webhook_deliveries (id),
    attempt     INTEGER NOT NULL,
    at          TIMESTAMP NOT NULL,
    -- The HTTP status (NULL: no answer; see `error`).
    status      INTEGER,
    latency_ms  INTEGER NOT NULL,
    error       TEXT,
    -- The start of the answer's body (at most 1,000 characters).
    response    TEXT,
    PRIMARY KEY (delivery_id, attempt)
);

-- The records each saved alert has found, once each. A step of the alert check records its
-- new hits here and makes one `alert.matched` event per alert listing them, instead of one
-- event per hit (a bulk import would otherwise give a broad alert thousands of
-- notifications); `GET /alerts/{id}/hits` lists them all. Kept in step with the other
-- backend's migration of the same name.
CREATE TABLE alert_hits (
    alert_id  TEXT NOT NULL REFERENCES saved_alerts (id) ON DELETE CASCADE,
    entity_id TEXT NOT NULL,
    entity    TEXT NOT NULL,
    title     TEXT NOT NULL,
    score     DOUBLE,
    found_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (alert_id, entity_id)
);
CREATE INDEX alert_hits_found ON alert_hits (alert_id, found_at);

-- The hits made before this table, one event each, are remembered so they do not fire again.
INSERT OR IGNORE INTO alert_hits (alert_id, entity_id, entity, title, score, found_at)
SELECT json_extract(e.data, '$.alert_id'), e.entity_id, e.entity,
       COALESCE(json_extract(e.data, '$.title'), ''), json_extract(e.data, '$.score'), e.at
FROM events e
JOIN saved_alerts a ON a.id = json_extract(e.data, '$.alert_id')
WHERE e.type = 'alert.matched';

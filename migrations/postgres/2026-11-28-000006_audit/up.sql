-- The audit log: who changed what, when, and the record before and after. Entries are only
-- ever inserted; triggers refuse changes even from outside the service. Kept in step with the
-- other backend's migration of the same name.
CREATE TABLE audit_log (
    id             TEXT PRIMARY KEY NOT NULL,
    at             TIMESTAMP NOT NULL,
    actor_user_id  TEXT,
    action         TEXT NOT NULL CHECK (action IN ('create', 'update', 'delete', 'restore')),
    entity         TEXT NOT NULL,
    entity_id      TEXT NOT NULL,
    before         TEXT,
    after          TEXT
);
CREATE INDEX audit_log_entity ON audit_log (entity, entity_id, id);
CREATE INDEX audit_log_actor ON audit_log (actor_user_id, id);

-- The organizations an entry concerns: their admins and staff may read it.
CREATE TABLE audit_log_organizations (
    entry_id         TEXT NOT NULL REFERENCES audit_log (id),
    organization_id  TEXT NOT NULL,
    PRIMARY KEY (organization_id, entry_id)
);

CREATE FUNCTION audit_log_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit log entries cannot be changed or deleted';
END;
$$;
CREATE TRIGGER audit_log_immutable BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_immutable();
CREATE TRIGGER audit_log_organizations_immutable BEFORE UPDATE OR DELETE ON audit_log_organizations
    FOR EACH ROW EXECUTE FUNCTION audit_log_immutable();

DROP TRIGGER IF EXISTS audit_log_organizations_no_delete;
DROP TRIGGER IF EXISTS audit_log_organizations_no_update;
DROP TRIGGER IF EXISTS audit_log_no_delete;
DROP TRIGGER IF EXISTS audit_log_no_update;
DROP TABLE audit_log_organizations;
DROP TABLE audit_log;

DROP TABLE audit_log_organizations;
DROP TABLE audit_log;
DROP FUNCTION audit_log_immutable();

DROP TABLE mail_outbox;
DROP TABLE mail_preferences;
ALTER TABLE notifications DROP COLUMN mailed_at;

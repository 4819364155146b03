DROP TABLE sync_jobs;
DROP TABLE faculty_sync_state;
DROP TABLE publication_tombstones;
DROP TABLE faculty_field_sources;
ALTER TABLE publications DROP COLUMN recorded_at;
ALTER TABLE publications DROP COLUMN source_id;
ALTER TABLE publications DROP COLUMN source;
DROP INDEX faculty_profiles_openalex;
ALTER TABLE faculty_profiles DROP COLUMN openalex_id;

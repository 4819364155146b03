ALTER TABLE needs DROP COLUMN compute_gpu_model;
ALTER TABLE needs DROP COLUMN compute_unit;
ALTER TABLE needs DROP COLUMN compute_amount;
ALTER TABLE needs DROP COLUMN compute_direction;
DROP TABLE compute_usage;
DROP TABLE compute_allocations;
DROP TABLE compute_resources;

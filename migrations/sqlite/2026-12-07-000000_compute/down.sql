DROP TABLE compute_usage;
DROP TABLE compute_allocations;
DROP TABLE compute_resources;

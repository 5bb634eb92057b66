SET lock_timeout = '2s';
SET statement_timeout = '10min';
CREATE TABLE staging (id bigint);
ALTER TABLE staging RENAME TO staging_orders;

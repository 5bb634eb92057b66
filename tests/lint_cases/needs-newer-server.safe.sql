-- case: pg-version 17
SET lock_timeout = '2s';
SET statement_timeout = '10min';
ALTER TABLE orders ADD COLUMN doubled bigint GENERATED ALWAYS AS (total * 2) STORED; -- schemashift:ignore add-column-rewrites

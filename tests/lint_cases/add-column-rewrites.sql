SET lock_timeout = '2s';
SET statement_timeout = '10min';
ALTER TABLE orders ADD COLUMN token uuid DEFAULT gen_random_uuid();
ALTER TABLE orders ADD COLUMN seen_at timestamptz DEFAULT clock_timestamp();
ALTER TABLE orders ADD COLUMN doubled bigint GENERATED ALWAYS AS (total * 2) STORED;

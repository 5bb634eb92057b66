SET lock_timeout = '2s';
SET statement_timeout = '10min';
-- schemashift:ignore-file drop-object
DROP VIEW order_totals;

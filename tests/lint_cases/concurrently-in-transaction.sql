SET lock_timeout = '2s';
SET statement_timeout = '10min';
BEGIN;
CREATE INDEX CONCURRENTLY orders_customer_idx ON orders (customer_id);
COMMIT;

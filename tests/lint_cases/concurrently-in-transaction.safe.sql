SET lock_timeout = '2s';
SET statement_timeout = '10min';
CREATE INDEX CONCURRENTLY orders_customer_idx ON orders (customer_id);

SET lock_timeout = '2s';
SET statement_timeout = '10min';
REINDEX INDEX CONCURRENTLY orders_customer_idx;

SET lock_timeout = '2s';
SET statement_timeout = '10min';
DROP INDEX orders_customer_idx;

SET lock_timeout = '2s';
SET statement_timeout = '10min';
CREATE TABLE orders_with_a_reasonable_name (id bigint);

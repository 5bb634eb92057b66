SET lock_timeout = '2s';
SET statement_timeout = '10min';
VACUUM FULL orders;
CLUSTER orders USING orders_pkey;
ALTER TABLE orders SET LOGGED;

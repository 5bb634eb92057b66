SET lock_timeout = '2s';
SET statement_timeout = '10min';
CREATE TABLE archive.orders_2020 (id bigint);

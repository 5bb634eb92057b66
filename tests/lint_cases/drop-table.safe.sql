SET lock_timeout = '2s';
SET statement_timeout = '10min';
CREATE TABLE scratch (id bigint);
DROP TABLE scratch;

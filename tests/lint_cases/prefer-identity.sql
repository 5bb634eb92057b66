SET lock_timeout = '2s';
SET statement_timeout = '10min';
CREATE TABLE items (id bigserial PRIMARY KEY);

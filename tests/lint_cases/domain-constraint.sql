SET lock_timeout = '2s';
SET statement_timeout = '10min';
CREATE DOMAIN positive AS bigint CHECK (VALUE > 0);

SET lock_timeout = '2s';
SET statement_timeout = '10min';
BEGIN;
ALTER TABLE orders ADD COLUMN note2 text;

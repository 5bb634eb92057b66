SET lock_timeout = '2s';
SET statement_timeout = '10min';
ALTER TABLE orders ALTER COLUMN id DROP IDENTITY;

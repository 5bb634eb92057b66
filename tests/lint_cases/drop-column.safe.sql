SET lock_timeout = '2s';
SET statement_timeout = '10min';
ALTER TABLE orders DROP COLUMN note; -- schemashift:ignore drop-column

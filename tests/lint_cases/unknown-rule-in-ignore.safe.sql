SET lock_timeout = '2s';
SET statement_timeout = '10min';
ALTER TABLE orders ADD COLUMN note2 text; -- schemashift:ignore rename

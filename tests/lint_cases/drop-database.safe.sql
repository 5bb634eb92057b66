SET lock_timeout = '2s';
SET statement_timeout = '10min';
-- schemashift:ignore drop-database
DROP DATABASE shop_copy;

SET lock_timeout = '2s';
SET statement_timeout = '10min';
ALTER TYPE order_status ADD VALUE 'refunded' AFTER 'paid';

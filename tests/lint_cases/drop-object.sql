SET lock_timeout = '2s';
SET statement_timeout = '10min';
DROP VIEW order_totals;
DROP FUNCTION order_total(bigint);
DROP SEQUENCE invoice_seq;

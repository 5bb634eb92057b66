SET lock_timeout = '2s';
SET statement_timeout = '10min';
ALTER TABLE orders RENAME COLUMN note TO remark;
ALTER TABLE orders RENAME TO purchases;
ALTER INDEX orders_pkey RENAME TO purchases_pkey;

SET lock_timeout = '2s';
SET statement_timeout = '10min';
ALTER TABLE orders ADD CONSTRAINT orders_customer_fk
  FOREIGN KEY (customer_id) REFERENCES customers (id);
ALTER TABLE orders ADD CONSTRAINT orders_total_check CHECK (total >= 0);

SET lock_timeout = '2s';
SET statement_timeout = '10min';
ALTER TABLE orders ADD PRIMARY KEY (id);
ALTER TABLE orders ADD CONSTRAINT orders_number_key UNIQUE (number);

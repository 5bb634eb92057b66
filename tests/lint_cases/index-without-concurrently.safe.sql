SET lock_timeout = '2s';
SET statement_timeout = '10min';
CREATE INDEX CONCURRENTLY orders_customer_idx ON orders (customer_id);

CREATE TABLE audit (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, at timestamptz);
CREATE INDEX audit_at_idx ON audit (at);

SET lock_timeout = '2s';
SET statement_timeout = '10min';
UPDATE orders SET status = 'paid', note = 'ok' WHERE id = 1;

SET lock_timeout = '2s';
SET statement_timeout = '10min';
ALTER TABLE events DETACH PARTITION events_2020 CONCURRENTLY;

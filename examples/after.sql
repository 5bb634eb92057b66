-- The "after" side: one new column, one new index, one new view. Nothing is dropped,
-- so `schemashift diff examples/before.sql examples/after.sql` needs no --unsafe.
CREATE TABLE author (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL
);

CREATE TABLE book (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    title text NOT NULL,
    author_id bigint NOT NULL REFERENCES author (id),
    published date
);

CREATE INDEX book_author_id_idx ON book (author_id);

CREATE VIEW recent_book AS
    SELECT title, published FROM book WHERE published > date '2020-01-01';

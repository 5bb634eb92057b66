-- A tiny library schema: the "before" side of the README's first command.
CREATE TABLE author (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL
);

CREATE TABLE book (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    title text NOT NULL,
    author_id bigint NOT NULL REFERENCES author (id)
);

"""Shapes met in consecutive versions of public pg_dump schema histories (a job queue's tables
growing functions, triggers and checks between two versions), each diffed both directions through
the oracle (empty re-diff, catalog compare).

Written from PostgreSQL's documented behaviour: a CHECK may call a function, which must exist first;
a function may take a table's row type, so it depends on the table; a SQL-language body is checked
at CREATE when check_function_bodies is on, as in psql; a sequence OWNED BY a column goes with it;
CREATE EXTENSION gives an extension its control file's comment, and pg_dump writes that comment out,
so a dump taken where the extension's version had another comment carries another text."""

from __future__ import annotations

import pytest

import corpus
import schemashift

JOBS_V1 = (
    "CREATE TABLE jobs (prio smallint DEFAULT 100 NOT NULL, job_id bigint NOT NULL, kind text NOT NULL,"
    " queue text DEFAULT ''::text NOT NULL, args json DEFAULT '[]'::json NOT NULL);"
    "CREATE SEQUENCE jobs_job_id_seq OWNED BY jobs.job_id;"
    "ALTER TABLE jobs ALTER COLUMN job_id SET DEFAULT nextval('jobs_job_id_seq'::regclass);"
    "ALTER TABLE jobs ADD CONSTRAINT jobs_pkey PRIMARY KEY (queue, prio, job_id);"
    "COMMENT ON TABLE jobs IS '3';"
)
TAGS_FN = (
    "CREATE FUNCTION valid_tags(tags jsonb) RETURNS boolean LANGUAGE sql AS $$"
    " SELECT bool_and(jsonb_typeof(value) = 'string') FROM jsonb_array_elements(tags) $$;"
)
JOBS_V2 = TAGS_FN + (
    "CREATE TABLE jobs (prio smallint DEFAULT 100 NOT NULL, id bigint NOT NULL, kind text NOT NULL,"
    " queue text DEFAULT 'default'::text NOT NULL, args jsonb DEFAULT '[]'::jsonb NOT NULL,"
    " data jsonb DEFAULT '{}'::jsonb NOT NULL, done_at timestamptz,"
    " CONSTRAINT valid_data CHECK (jsonb_typeof(data) = 'object' AND (NOT (data ? 'tags') OR valid_tags(data -> 'tags'))))"
    " WITH (fillfactor='90');"
    "CREATE SEQUENCE jobs_id_seq OWNED BY jobs.id;"
    "ALTER TABLE jobs ALTER COLUMN id SET DEFAULT nextval('jobs_id_seq'::regclass);"
    "ALTER TABLE jobs ADD CONSTRAINT jobs_pkey PRIMARY KEY (id);"
    "COMMENT ON TABLE jobs IS '4';"
    "CREATE INDEX jobs_poll_idx ON jobs (queue, prio, id) WHERE done_at IS NULL;"
    "CREATE INDEX jobs_data_idx ON jobs USING gin (data jsonb_path_ops);"
)
STATE_FNS = (
    "CREATE FUNCTION job_state(job jobs) RETURNS text LANGUAGE sql AS $$"
    " SELECT CASE WHEN job.done_at IS NOT NULL THEN 'done' ELSE 'ready' END $$;"
    "CREATE FUNCTION job_exists() RETURNS boolean LANGUAGE sql AS $$ SELECT EXISTS (SELECT FROM jobs) $$;"
    "CREATE FUNCTION job_notify() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
    " PERFORM pg_notify('jobs', job_state(NEW)); RETURN NULL; END $$;"
    "CREATE FUNCTION job_guard() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
    " IF NOT job_exists() THEN RAISE EXCEPTION 'last job'; END IF; RETURN OLD; END $$;"
    "CREATE TRIGGER job_notify AFTER INSERT OR UPDATE ON jobs FOR EACH ROW"
    " WHEN (coalesce(current_setting('jobs.quiet', true), '') <> 'true') EXECUTE FUNCTION job_notify();"
    "CREATE CONSTRAINT TRIGGER job_guard AFTER DELETE ON jobs DEFERRABLE INITIALLY DEFERRED"
    " FOR EACH ROW EXECUTE FUNCTION job_guard();"
)
LOCKERS = (
    "CREATE UNLOGGED TABLE lockers (pid int PRIMARY KEY, queues text[] NOT NULL,"
    " CONSTRAINT valid_queues CHECK (array_ndims(queues) = 1 AND array_length(queues, 1) IS NOT NULL));"
)

CASES = {
    "job table rebuilt with a check over a new function": (JOBS_V1, JOBS_V2),
    "row-type function, trigger functions and triggers added": (JOBS_V2, JOBS_V2 + STATE_FNS),
    "whole queue version step": (JOBS_V1 + "CREATE TABLE other (id int);", JOBS_V2 + STATE_FNS + LOCKERS
                                 + "CREATE TABLE other (id int);"),
    "unlogged table with array checks added": ("", LOCKERS),
}

TRGM = "CREATE EXTENSION pg_trgm;"
EXTENSION_COMMENTS = {  # pg_dump writes COMMENT ON EXTENSION with the text of the version it dumped
    "extension comment of another version": (TRGM, TRGM + "COMMENT ON EXTENSION pg_trgm IS 'an older text';"),
    "extension created with a comment of its own": ("", TRGM + "COMMENT ON EXTENSION pg_trgm IS 'trigrams';"),
    "extension comment removed": (TRGM, TRGM + "COMMENT ON EXTENSION pg_trgm IS NULL;"),
}
CASES.update(EXTENSION_COMMENTS)


@pytest.mark.parametrize("name", list(CASES))
def test_round_trips(any_pg, name: str) -> None:
    a, b = CASES[name]
    corpus.assert_round_trips(any_pg, "histories", name, a, b)


def test_created_extension_keeps_its_own_comment(pg18) -> None:
    """CREATE EXTENSION sets the control file's comment: the plan does not write it again."""
    empty, with_trgm = pg18.load(""), pg18.load(TRGM)
    try:
        plan = schemashift.diff_schemas(schemashift.inspect(pg18.url(empty)), schemashift.inspect(pg18.url(with_trgm)))
        assert "CREATE EXTENSION" in plan.sql and "COMMENT" not in plan.sql, plan.sql
    finally:
        pg18.drop(empty)
        pg18.drop(with_trgm)

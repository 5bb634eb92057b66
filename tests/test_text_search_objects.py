"""Text search dictionaries and configurations: created, dropped, mappings and options changed,
used by a stored generated column and an expression index; both directions, through the oracle."""

from __future__ import annotations

import pytest

import corpus
import oracle
from schemashift import api
from schemashift.dialects.postgres.inspect import dictionary_options

DICT = "CREATE TEXT SEARCH DICTIONARY public.english_simple (TEMPLATE = pg_catalog.simple, STOPWORDS = english);"
CONFIG = ("CREATE TEXT SEARCH CONFIGURATION public.english_unaccent (COPY = pg_catalog.english);"
          "ALTER TEXT SEARCH CONFIGURATION public.english_unaccent ALTER MAPPING FOR asciiword, word "
          "WITH public.english_simple, english_stem;")
USED = ("CREATE TABLE doc (id int, body text, tsv tsvector GENERATED ALWAYS AS "
        "(to_tsvector('public.english_unaccent'::regconfig, body)) STORED);"
        "CREATE INDEX doc_fts ON doc USING gin (to_tsvector('public.english_unaccent'::regconfig, body));")

PAIRS = {
    "created": ("", DICT + CONFIG),
    "config used by a generated column and an index": ("CREATE TABLE other (a int);", DICT + CONFIG + USED),
    "mapping changed": (
        DICT + CONFIG,
        DICT + CONFIG + "ALTER TEXT SEARCH CONFIGURATION english_unaccent DROP MAPPING FOR email, url;"
        "ALTER TEXT SEARCH CONFIGURATION english_unaccent ALTER MAPPING FOR hword WITH english_simple;"
        "ALTER TEXT SEARCH CONFIGURATION english_unaccent ALTER MAPPING FOR asciiword WITH english_stem;",
    ),
    "mapping changed under a generated column": (
        DICT + CONFIG + USED,
        DICT + CONFIG + USED + "ALTER TEXT SEARCH CONFIGURATION english_unaccent ALTER MAPPING FOR word WITH simple;",
    ),
    "a mapping's dictionary dropped with it": (
        DICT + CONFIG,
        CONFIG.replace("public.english_simple, ", ""),
    ),
    "mapping to an extension's dictionary": (
        "",
        "CREATE EXTENSION unaccent;" + CONFIG.replace("public.english_simple", "public.unaccent")
        + "CREATE TEXT SEARCH DICTIONARY my_unaccent (TEMPLATE = public.unaccent, RULES = 'unaccent');" + USED,
    ),
    "dictionary option changed": (
        DICT + "CREATE TEXT SEARCH DICTIONARY syn (TEMPLATE = simple, STOPWORDS = english, ACCEPT = false);",
        "CREATE TEXT SEARCH DICTIONARY public.english_simple (TEMPLATE = simple);"
        "CREATE TEXT SEARCH DICTIONARY syn (TEMPLATE = simple, ACCEPT = true);"
        "CREATE TEXT SEARCH DICTIONARY num (TEMPLATE = simple, ACCEPT = 0, STOPWORDS = 'english');",
    ),
    "dictionary template changed": (
        DICT + CONFIG,
        "CREATE TEXT SEARCH DICTIONARY public.english_simple (TEMPLATE = snowball, LANGUAGE = english);" + CONFIG,
    ),
    "parser changed": (
        "CREATE TEXT SEARCH CONFIGURATION c1 (PARSER = pg_catalog.default);",
        "CREATE TEXT SEARCH CONFIGURATION c1 (COPY = pg_catalog.simple);",
    ),
    "comment changed": (
        DICT + CONFIG + "COMMENT ON TEXT SEARCH CONFIGURATION english_unaccent IS 'old';",
        DICT + CONFIG + "COMMENT ON TEXT SEARCH CONFIGURATION english_unaccent IS 'new ''quoted''';"
        "COMMENT ON TEXT SEARCH DICTIONARY english_simple IS 'dictionary';",
    ),
    "quoted and unicode names in a schema of its own": (
        'CREATE SCHEMA "Tëxt ""s""";',
        'CREATE SCHEMA "Tëxt ""s"""; CREATE TEXT SEARCH DICTIONARY "Tëxt ""s"""."Dïct ""1""" '
        "(TEMPLATE = simple, STOPWORDS = english);"
        'CREATE TEXT SEARCH CONFIGURATION "Tëxt ""s"""."Cönf ig" (COPY = simple);'
        'ALTER TEXT SEARCH CONFIGURATION "Tëxt ""s"""."Cönf ig" ALTER MAPPING FOR word WITH "Tëxt ""s"""."Dïct ""1""";'
        'CREATE TABLE "Tëxt ""s""".t (b text, v tsvector GENERATED ALWAYS AS '
        '(to_tsvector(\'"Tëxt ""s"""."Cönf ig"\'::regconfig, b)) STORED);',
    ),
}


@pytest.mark.parametrize("cluster", ["pg18", "pg15"])
@pytest.mark.parametrize("name", sorted(PAIRS))
def test_text_search_round_trips(name: str, cluster: str, request: pytest.FixtureRequest) -> None:
    corpus.assert_round_trips(request.getfixturevalue(cluster), "text_search", name, *PAIRS[name])


def test_dictionary_options_parse_the_servers_text() -> None:
    """dictinitoption as the server serialises it: quoted names, doubled quotes, E'' strings."""
    assert dictionary_options("stopwords = 'english', \"Odd\"\"x\" = 'it''s', x = E'a\\\\b'") == (
        ("stopwords", "'english'"), ('Odd"x', "'it''s'"), ("x", "E'a\\\\b'"))
    assert dictionary_options(None) == ()


def test_text_search_statements_lock_no_table(pg18: oracle.Cluster) -> None:
    """Every text search statement of every plan above is labelled, and locks no table."""
    labels = []
    for a, b in PAIRS.values():
        dbs = [pg18.load(text) for text in (a, b)]
        try:
            source, target = (api.inspect(pg18.url(d)) for d in dbs)
            for plan in (api.diff_schemas(source, target), api.diff_schemas(target, source)):
                labels += [(s.sql, s.locks) for s in plan.statements if " TEXT SEARCH " in f" {s.sql}"]
        finally:
            for d in dbs:
                pg18.drop(d)
    assert len(labels) > 20
    assert [(sql, locks) for sql, locks in labels if locks is None or locks.locks] == []

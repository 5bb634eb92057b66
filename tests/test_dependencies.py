"""Objects that must be dropped and created again, with everything that reads them, both directions.

Each pair goes through the oracle (empty re-diff and the independent catalog comparison)."""

from __future__ import annotations

import pytest

import corpus

FUNCTION = "CREATE FUNCTION f(x int) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT x + 1 $$;\n"
USES = """CREATE TABLE t (a int, b int DEFAULT f(1), c int GENERATED ALWAYS AS (f(a)) STORED, CHECK (f(a) > 0));
CREATE INDEX t_f ON t (f(a));
CREATE VIEW v AS SELECT f(a) AS fa FROM t;
"""

PAIRS = {
    # A function's result type changes: its default, generated column, CHECK, index and view go
    # around its DROP and CREATE.
    "function result type under default, generated column, check, index, view": (
        FUNCTION + USES,
        FUNCTION.replace("RETURNS int", "RETURNS bigint").replace("x + 1", "x + 2")
        + USES.replace("b int DEFAULT", "b bigint DEFAULT").replace("c int GENERATED", "c bigint GENERATED"),
    ),
    "function body only: one CREATE OR REPLACE": (FUNCTION + USES, FUNCTION.replace("x + 1", "x + 5") + USES),
    "column type under a view": (
        "CREATE TABLE t (a int); CREATE VIEW v AS SELECT a FROM t; CREATE VIEW w AS SELECT * FROM v;",
        "CREATE TABLE t (a text); CREATE VIEW v AS SELECT a FROM t; CREATE VIEW w AS SELECT * FROM v;",
    ),
    "view loses a column under another view": (
        "CREATE TABLE t (a int, b int); CREATE VIEW v AS SELECT a, b FROM t; CREATE VIEW w AS SELECT a FROM v;",
        "CREATE TABLE t (a int, b int); CREATE VIEW v AS SELECT a FROM t; CREATE VIEW w AS SELECT a FROM v;",
    ),
    "table replaced by a view of the same name": (
        "CREATE TABLE data (id int); CREATE VIEW q AS SELECT * FROM data;",
        "CREATE TABLE t_data (id int); CREATE VIEW data AS SELECT * FROM t_data; CREATE VIEW q AS SELECT * FROM data;",
    ),
}


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_dependents_are_rebuilt(name: str, pg18) -> None:
    corpus.assert_round_trips(pg18, "dependencies", name, *PAIRS[name])

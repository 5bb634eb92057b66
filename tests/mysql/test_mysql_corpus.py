"""sqldef's mysqldef cases (../shared/corpus/sqldef-mysql) on MariaDB, both directions: the plan
applied with the `mariadb` client, then the re-diff empty, the oracle equal to a database built
from the target, and the rows inserted before the change still there.

Skipped, with the cause: cases that expect an error, are offline-only or need a sqldef config;
cases for MySQL 8, MySQL 5.7 or TiDB rather than MariaDB (`flavor`, `max_version`); cases whose
SQL does not load on this MariaDB (vector types need 11.7+). `test_mysql_sqldef_pass_rate` is the
gate: at least 95 % of the cases that load pass.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pymysql
import pytest

import corpus
from mariadb_oracle import apply_with_client, fingerprint, inspected, plan_between
from schemashift.dialects.mysql.loader import load_text
from schemashift.dialects.mysql.servers import ThrowawayServer
from schemashift.errors import LoadError

FOLDER = "sqldef-mysql"
SPECS = corpus.sqldef_specs(FOLDER) if (corpus.CORPUS / FOLDER).is_dir() else []
PASS_RATE = 0.95
MYSQL_ONLY = "needs MySQL rather than MariaDB"


def _skip_cause(spec: dict[str, Any]) -> str | None:
    """Why a case is no current→desired pair for MariaDB, or None."""
    flavor = str(spec.get("flavor", ""))
    if spec.get("error"):
        return "expects an error"
    if spec.get("offline"):
        return "offline-only case"
    if spec.get("config"):
        return "needs a sqldef configuration"
    if flavor in ("mysql", "!mariadb") or spec.get("max_version"):
        return MYSQL_ONLY
    if flavor == "tidb":
        return "TiDB only"
    return None


_VALUES = {"char": "'1'", "varchar": "'1'", "text": "'1'", "tinytext": "'1'", "mediumtext": "'1'", "longtext": "'1'",
           "date": "'2001-01-01'", "datetime": "'2001-01-01 00:00:00'", "timestamp": "'2001-01-01 00:00:00'",
           "time": "'00:00:01'", "year": "2001", "json": "'{}'", "bit": "b'1'", "binary": "'1'", "varbinary": "'1'",
           "blob": "'1'", "tinyblob": "'1'", "mediumblob": "'1'", "longblob": "'1'", "point": "POINT(0, 0)",
           "geometry": "POINT(0, 0)"}
_COLUMNS = ("SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, COLUMN_TYPE FROM information_schema.COLUMNS"
            " WHERE TABLE_SCHEMA = %s AND IS_NULLABLE = 'NO' AND COLUMN_DEFAULT IS NULL AND EXTRA = ''"
            " ORDER BY TABLE_NAME, ORDINAL_POSITION")


def _value(data_type: str, column_type: str) -> str:
    """A value most columns of the type accept: 1, '1', a date, an enum's first label."""
    if data_type in ("enum", "set"):
        return column_type[column_type.index("(") + 1:].split(",")[0].rstrip(")")
    return _VALUES.get(data_type, "1")


_ALL_COLUMNS = ("SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s"
                " AND EXTRA NOT LIKE '%%GENERATED%%'")


def _q(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _seed_rows(server: ThrowawayServer, database: str, target: str) -> dict[str, int]:
    """One row in each table (a value for each NOT NULL column without a default, the defaults
    elsewhere), kept only where the target's table of the same name accepts the row's values in
    the columns both have (a row the target refuses cannot survive): table → row count."""
    counts = {}
    with server.target.connect(database, autocommit=False) as conn, conn.cursor() as cur, \
            server.target.connect(target, autocommit=False) as probe, probe.cursor() as pcur:
        for c in (cur, pcur):
            c.execute("SET SESSION foreign_key_checks = 0")
        cur.execute(_COLUMNS, (database,))
        needed: dict[str, list[tuple[str, str]]] = {}
        for table, column, data_type, column_type in cur.fetchall():
            needed.setdefault(table, []).append((_q(column), _value(data_type, column_type)))
        columns: dict[tuple[str, str], list[str]] = {}
        for db, c in ((database, cur), (target, pcur)):
            c.execute(_ALL_COLUMNS, (db,))
            for table, column in c.fetchall():
                columns.setdefault((db, table), []).append(column)
        cur.execute("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s"
                    " AND TABLE_TYPE = 'BASE TABLE'", (database,))
        for (table,) in cur.fetchall():
            cols = needed.get(table, [])
            common = [c for c in columns.get((database, table), []) if c in columns.get((target, table), [])]
            try:
                cur.execute(f"INSERT INTO {_q(table)} ({', '.join(c for c, _ in cols)})"
                            f" VALUES ({', '.join(v for _, v in cols)})")
                if common:
                    cur.execute(f"SELECT {', '.join(map(_q, common))} FROM {_q(table)}")
                    pcur.execute(f"INSERT INTO {_q(table)} ({', '.join(map(_q, common))})"
                                 f" VALUES ({', '.join(['%s'] * len(common))})", cur.fetchone())
                conn.commit()
            except pymysql.err.MySQLError:  # a row that does not fit here or there: none
                conn.rollback()
            probe.rollback()
            cur.execute(f"SELECT count(*) FROM {_q(table)}")
            counts[table] = cur.fetchone()[0]
            conn.commit()
    return counts


def _counts(server: ThrowawayServer, database: str, tables: list[str]) -> dict[str, int]:
    with server.target.connect(database) as conn, conn.cursor() as cur:
        out = {}
        for table in tables:
            cur.execute(f"SELECT count(*) FROM `{table.replace('`', '``')}`")
            out[table] = cur.fetchone()[0]
        return out


def _direction(server: ThrowawayServer, a: str, b: str) -> str | None:
    """Turn database `a` into `b`; the failure, or None."""
    try:
        seeded = _seed_rows(server, a, b)
        want = inspected(server.target, b)  # b is not changed: read once for the plan and the re-diff
        plan = plan_between(server.target, a, want)
        apply_with_client(server.target, a, plan)
        left = plan_between(server.target, a, want)
        if left:
            return f"re-diff not empty:\n{left.sql}\n--- plan:\n{plan.sql}"
        got, want = fingerprint(server.target, a), fingerprint(server.target, b)
        if got != want:
            return f"oracle differs:\n{got}\n{want}\n--- plan:\n{plan.sql}"
        kept = [t for t in seeded if f"table {t}" in want]
        after = _counts(server, a, kept)
        ROWS_KEPT["directions"] += 1
        ROWS_KEPT["with rows"] += any(seeded[t] for t in kept)
        if after != {t: seeded[t] for t in kept}:
            return f"rows lost: before {seeded}, after {after}\n--- plan:\n{plan.sql}"
        return None
    except AssertionError as exc:
        return str(exc)


_results: dict[str, tuple[str, str]] = {}
ROWS_KEPT: Counter[str] = Counter()  # directions checked, and those where a kept table had a row


def run(server: ThrowawayServer, case_id: str) -> tuple[str, str]:
    """(status, message): pass | fail | noload | skip; remembered for the rate test."""
    if case_id not in _results:
        spec = dict((f"{f}::{n}", s) for f, n, s in SPECS)[case_id]
        current, desired = spec.get("current") or "", spec.get("desired") or ""
        cause = _skip_cause(spec)
        if cause:
            _results[case_id] = ("skip", cause)
        else:
            _results[case_id] = _run_both(server, current, desired)
    return _results[case_id]


def _run_both(server: ThrowawayServer, current: str, desired: str) -> tuple[str, str]:
    """Three databases: current and desired for the first direction; the untouched desired and a
    second current for the other."""
    made: list[str] = []
    try:
        loaded = []
        for side, text in (("current", current), ("desired", desired), ("current", current)):
            made.append(server.create())
            try:
                load_text(server.target, made[-1], text, side)
            except LoadError as exc:
                return "noload", str(exc)
            loaded.append(made[-1])
        first, second, third = loaded
        for label, (a, b) in (("current->desired", (first, second)), ("desired->current", (second, third))):
            failure = _direction(server, a, b)
            if failure:
                return "fail", f"{label}: {failure}"
        return "pass", ""
    finally:
        for name in made:
            server.drop(name)


IDS = [f"{f}::{n}" for f, n, _ in SPECS]


# One xdist worker runs them all: the rate test then reuses every case's result.
@pytest.mark.xdist_group("mysql-corpus")
@pytest.mark.parametrize("case_id", IDS)
def test_mysql_sqldef_case(mariadb: ThrowawayServer, case_id: str) -> None:
    status, message = run(mariadb, case_id)
    if status in ("skip", "noload"):
        pytest.skip(f"{status}: {message.splitlines()[0] if message else ''}")
    assert status == "pass", message


VECTOR = "does not load: VECTOR type (MariaDB 11.7+)"


def _noload_cause(message: str) -> str:
    """A load error as a cause to count: the server's message without the side, line and names."""
    if "'VECTOR'" in message:
        return VECTOR
    if "mysqldef_test." in message:
        return "does not load: names sqldef's own database `mysqldef_test`"
    return "does not load: " + re.sub(r"`ss_\w+`\.", "", message.split(": ", 1)[-1])


@pytest.mark.xdist_group("mysql-corpus")
def test_mysql_sqldef_pass_rate(mariadb: ThrowawayServer) -> None:
    """At least 95 % of the cases that load pass; skips counted by cause."""
    results = {case_id: run(mariadb, case_id) for case_id in IDS}
    statuses = Counter(s for s, _ in results.values())
    causes = Counter(_noload_cause(m) if s == "noload" else m for s, m in results.values() if s in ("skip", "noload"))
    vector = causes[VECTOR]
    loaded = statuses["pass"] + statuses["fail"]
    print(f"\nsqldef-mysql on MariaDB: {statuses['pass']}/{loaded} loaded cases pass both directions"
          f" ({len(IDS)} cases, {statuses['noload']} do not load, {statuses['skip']} skipped)")
    print(f"  needing MySQL rather than MariaDB: {causes[MYSQL_ONLY]}; vector types (MariaDB 11.7+): {vector}")
    print(f"  rows kept: {ROWS_KEPT['with rows']} of {ROWS_KEPT['directions']} passing directions had seeded rows"
          " in a table both sides have")
    for cause, n in sorted(causes.items()):
        print(f"  {n:3}  {cause}")
    failed = [f"{c}: {m.splitlines()[0]}" for c, (s, m) in results.items() if s == "fail"]
    assert loaded and statuses["pass"] >= PASS_RATE * loaded, "\n".join(failed)

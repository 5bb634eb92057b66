"""What the MariaDB tests judge a plan by, without schemashift's inspector: SHOW CREATE TABLE
(AUTO_INCREMENT=N taken out, the lines inside the parentheses sorted: column and key order
ignored) and information_schema's rows for views, triggers, routines and events; and the plan
applied the way a user would, with the `mariadb` client stopping at the first error."""

from __future__ import annotations

import re
import subprocess
from typing import Any

from schemashift.dialects.mysql.dialect import diff_schemas
from schemashift.dialects.mysql.inspect import inspect_connection
from schemashift.dialects.mysql.loader import load_text
from schemashift.dialects.mysql.render import client_script
from schemashift.dialects.mysql.servers import Target
from schemashift.model import Schema
from schemashift.plan import Plan

CLIENT = "mariadb"

_VIEWS = ("SELECT TABLE_NAME, VIEW_DEFINITION, CHECK_OPTION, SECURITY_TYPE, ALGORITHM FROM information_schema.VIEWS"
          " WHERE TABLE_SCHEMA = %s")
_TRIGGERS = ("SELECT TRIGGER_NAME, EVENT_OBJECT_TABLE, ACTION_TIMING, EVENT_MANIPULATION, ACTION_STATEMENT,"
             " ACTION_ORDER FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = %s")
_ROUTINES = ("SELECT ROUTINE_NAME, ROUTINE_TYPE, DTD_IDENTIFIER, ROUTINE_DEFINITION, IS_DETERMINISTIC,"
             " SQL_DATA_ACCESS, SECURITY_TYPE, ROUTINE_COMMENT FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = %s")
_PARAMETERS = ("SELECT SPECIFIC_NAME, ROUTINE_TYPE, ORDINAL_POSITION, PARAMETER_MODE, PARAMETER_NAME, DTD_IDENTIFIER"
               " FROM information_schema.PARAMETERS WHERE SPECIFIC_SCHEMA = %s")
_EVENTS = ("SELECT EVENT_NAME, EVENT_DEFINITION, EVENT_TYPE, EXECUTE_AT, INTERVAL_VALUE, INTERVAL_FIELD, ENDS,"
           " STATUS, ON_COMPLETION, EVENT_COMMENT FROM information_schema.EVENTS WHERE EVENT_SCHEMA = %s")


def _table_text(create: str) -> tuple[str, tuple[str, ...], str]:
    """(head, sorted body lines, options and partitioning) of SHOW CREATE TABLE's text."""
    lines = create.splitlines()
    close = max(i for i, line in enumerate(lines) if line.startswith(")"))
    body = tuple(sorted(line.strip().rstrip(",") for line in lines[1:close]))
    tail = re.sub(r" AUTO_INCREMENT=\d+", "", "\n".join(lines[close:]))
    return lines[0], body, tail


def fingerprint(target: Target, database: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with target.connect(database) as conn, conn.cursor() as cur:
        cur.execute("SHOW FULL TABLES")
        for name, kind in cur.fetchall():
            if kind != "VIEW":
                cur.execute(f"SHOW CREATE TABLE `{name.replace('`', '``')}`")
                out[f"table {name}"] = _table_text(cur.fetchone()[1])
        prefix = f"`{database}`."
        for label, sql in (("view", _VIEWS), ("trigger", _TRIGGERS), ("routine", _ROUTINES),
                           ("parameter", _PARAMETERS), ("event", _EVENTS)):
            cur.execute(sql, (database,))
            out[label] = sorted(tuple(str(v).replace(prefix, "") for v in row) for row in cur.fetchall())
    return out


def apply_with_client(target: Target, database: str, plan: Plan) -> None:
    """Run the plan as a user would: its script on the `mariadb` client's stdin."""
    result = subprocess.run([CLIENT, *target.client_args(database)], input=client_script(plan.statements),
                            text=True, capture_output=True)
    assert result.returncode == 0, f"{result.stderr.strip()}\n--- plan:\n{client_script(plan.statements)}"


def inspected(target: Target, database: str) -> Schema:
    """The database as schemashift's model: read once for a database that a plan does not change."""
    with target.connect(database) as conn:
        return inspect_connection(conn)


def plan_between(target: Target, a: str, b: str | Schema) -> Plan:
    """The plan from database `a` to database `b` (or to `b`'s model, already read)."""
    return diff_schemas(inspected(target, a), inspected(target, b) if isinstance(b, str) else b)


def database_from(server: Any, sql: str) -> str:
    name = server.create()
    load_text(server.target, name, sql)
    return name


def assert_round_trip(server: Any, a_sql: str, b_sql: str) -> None:
    """A→B and B→A: the plan applied with the client, then the re-diff empty and the oracle equal."""
    for src, dst in ((a_sql, b_sql), (b_sql, a_sql)):
        a, b = database_from(server, src), database_from(server, dst)
        try:
            want = inspected(server.target, b)
            plan = plan_between(server.target, a, want)
            apply_with_client(server.target, a, plan)
            left = plan_between(server.target, a, want)
            assert not left, f"re-diff not empty:\n{left.sql}\n--- plan:\n{plan.sql}"
            assert fingerprint(server.target, a) == fingerprint(server.target, b), plan.sql
        finally:
            server.drop(a)
            server.drop(b)

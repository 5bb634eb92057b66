"""Read one MySQL/MariaDB database into the shared model with the fixed set of information_schema
queries in `queries.ALL`, inside one REPEATABLE READ transaction.

Keys use the schema name `objects.SCHEMA`, not the database's own, and the database's name is
taken out of the server's view text, so two databases of any names compare object by object.
Columns are kept in name order (their position is only bookkeeping): MySQL adds a column where
it is told, and the oracle ignores column order, so an order-only difference is no diff.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from ...errors import SourceError
from ...model import Constraint, Schema, Table, Trigger, View
from .objects import SCHEMA, Event, MysqlColumn, MysqlIndex, Routine
from .queries import ALL
from .sqltext import identifiers, literal, quote, relation_names

Rows = list[tuple[Any, ...]]


def inspect_connection(conn: Any, database: str | None = None) -> Schema:
    """The schema of `database` (default: the connection's current one), as one snapshot."""
    with conn.cursor() as cur:
        if database is None:
            cur.execute("SELECT DATABASE()")
            database = cur.fetchone()[0]
            if database is None:
                raise SourceError("no database to inspect: name one in the URL (mysql://user@host/DATABASE)")
        cur.execute("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        cur.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")
        try:
            rows = {}
            for name, sql in ALL.items():
                cur.execute(sql, {"db": database})
                rows[name] = list(cur.fetchall())
        finally:
            cur.execute("COMMIT")
    return _Build(database, rows).schema()


class _Build:
    """The model from the queries' rows."""

    def __init__(self, database: str, rows: dict[str, Rows]) -> None:
        self.db, self.rows = database, rows
        self.out = Schema(dialect="mysql")
        self.column_checks = {(r[0], r[1]): r[3] for r in rows["checks"] if r[2] == "Column"}

    def schema(self) -> Schema:
        self._tables()
        self._indexes()
        self._foreign_keys()
        for table, name, level, clause in self.rows["checks"]:
            if level != "Column":
                self.out.add(Constraint(schema=SCHEMA, table=table, name=name, type="c",
                                        definition=f"CHECK ({clause})"))
        self._views()
        self._triggers()
        self._routines()
        self._events()
        self._dependencies()
        return self.out

    def _tables(self) -> None:
        columns: dict[str, list[MysqlColumn]] = defaultdict(list)
        tables = {r[0] for r in self.rows["tables"]}
        for table, *col in self.rows["columns"]:
            if table in tables:
                columns[table].append(self._column(table, *col))
        partitions = _partition_clauses(self.rows["partitions"])
        for name, ttype, engine, collation, charset, create_options, comment in self.rows["tables"]:
            if ttype == "SEQUENCE":
                raise SourceError(f"sequence {quote(name)}: the MySQL dialect does not cover MariaDB sequences")
            options = [f"ENGINE={engine}", f"DEFAULT CHARSET={charset}", f"COLLATE={collation}"]
            options += sorted(o for o in (create_options or "").split() if o.lower() != "partitioned")
            if ttype == "SYSTEM VERSIONED":
                options.append("WITH SYSTEM VERSIONING")
            self.out.add(Table(schema=SCHEMA, name=name, columns=tuple(sorted(columns[name], key=lambda c: c.name)),
                               options=tuple(options), partition_key=partitions.get(name), comment=comment or None))

    def _column(self, table: str, name: str, position: int, default: str | None, nullable: str, ctype: str,
                charset: str | None, collation: str | None, extra: str, comment: str, generation: str | None
                ) -> MysqlColumn:
        flags = [f.strip() for f in (extra or "").split(",")]
        words = " ".join(flags).lower()
        generated = "GENERATED" in " ".join(flags).upper()
        on_update = next((f[len("on update "):] for f in flags if f.lower().startswith("on update ")), None)
        return MysqlColumn(
            name=name, type=ctype, not_null=nullable == "NO", default=None if generated else default,
            generated=generation if generated else None,
            generated_kind=("s" if "stored" in words or "persistent" in words else "v") if generated else "",
            collation=collation, charset=charset, auto_increment="auto_increment" in words, on_update=on_update,
            invisible="invisible" in words, check=self.column_checks.get((table, name)), comment=comment or None,
            position=position)

    def _indexes(self) -> None:
        grouped: dict[tuple[str, str], list[tuple[Any, ...]]] = defaultdict(list)
        for table, name, *rest in self.rows["indexes"]:
            grouped[(table, name)].append(tuple(rest))
        for (table, name), parts in grouped.items():
            non_unique, _, _, _, itype, comment, ignored = parts[0]
            cols = ",".join(quote(c) + (f"({sub})" if sub and itype != "SPATIAL" else "")
                            + (" DESC" if order == "D" else "") for _, c, sub, order, *_ in parts)
            if name == "PRIMARY":
                text = f"PRIMARY KEY ({cols})" + (f" COMMENT {literal(comment)}" if comment else "")
                self.out.add(Constraint(schema=SCHEMA, table=table, name=name, type="p", definition=text))
                continue
            plain = "KEY" if non_unique else "UNIQUE KEY"
            word = {"FULLTEXT": "FULLTEXT KEY", "SPATIAL": "SPATIAL KEY"}.get(itype, plain)
            text = f"{word} {quote(name)} ({cols})" + (" USING HASH" if itype == "HASH" else "")
            text += (f" COMMENT {literal(comment)}" if comment else "") + (" IGNORED" if ignored == "YES" else "")
            self.out.add(MysqlIndex(schema=SCHEMA, name=name, table=table, definition=text))

    def _foreign_keys(self) -> None:
        grouped: dict[tuple[str, str], list[tuple[Any, ...]]] = defaultdict(list)
        for table, name, *rest in self.rows["foreign_key_columns"]:
            grouped[(table, name)].append(tuple(rest))
        actions = {(r[0], r[1]): r[2:] for r in self.rows["foreign_key_actions"]}
        for (table, name), parts in grouped.items():
            _, ref_db, ref_table, _ = parts[0]
            on_update, on_delete = actions[(table, name)]
            target = (quote(ref_db) + "." if ref_db != self.db else "") + quote(ref_table)
            text = (f"FOREIGN KEY ({','.join(quote(p[0]) for p in parts)}) REFERENCES {target}"
                    f" ({','.join(quote(p[3]) for p in parts)})")
            text += f" ON DELETE {on_delete}" if on_delete != "RESTRICT" else ""
            text += f" ON UPDATE {on_update}" if on_update != "RESTRICT" else ""
            key = ("constraint", SCHEMA, table, name)
            self.out.add(Constraint(schema=SCHEMA, table=table, name=name, type="f", definition=text))
            for column, *_, ref_column in parts:  # so that a retyped column on either side replaces it
                self.out.depend(key, ("column", SCHEMA, table, column))
                if ref_db == self.db:
                    self.out.depend(key, ("column", SCHEMA, ref_table, ref_column))
            if ref_db == self.db:
                self.out.depend(key, ("table", SCHEMA, ref_table))

    def _local(self, text: str) -> str:
        """The server's text without this database's name in front of names."""
        return text.replace(quote(self.db) + ".", "")

    def _views(self) -> None:
        for name, definition, check, security, algorithm in self.rows["views"]:
            text = self._local(definition) + (f" WITH {check} CHECK OPTION" if check and check != "NONE" else "")
            self.out.add(View(schema=SCHEMA, name=name, definition=text,
                              options=(f"ALGORITHM={algorithm}", f"SQL SECURITY {security}")))

    def _triggers(self) -> None:
        """Triggers of one table and event fire in order: each after the one before it says
        FOLLOWS it, so an order that changes is a changed trigger, created after its predecessor."""
        previous: dict[tuple[str, str, str], str] = {}
        for name, table, timing, event, statement, _order in self.rows["triggers"]:
            after = previous.get((table, timing, event))
            follows = f"FOLLOWS {quote(after)} " if after else ""
            key = ("trigger", SCHEMA, table, name)
            self.out.add(Trigger(schema=SCHEMA, table=table, name=name,
                                 definition=f"{timing} {event} ON {quote(table)} FOR EACH ROW {follows}{statement}"))
            if after:
                self.out.depend(key, ("trigger", SCHEMA, table, after))
            previous[(table, timing, event)] = name

    def _routines(self) -> None:
        params: dict[tuple[str, str], list[str]] = defaultdict(list)
        for routine, rtype, mode, pname, dtd in self.rows["parameters"]:
            params[(routine, rtype)].append((f"{mode} " if rtype == "PROCEDURE" else "") + f"{quote(pname)} {dtd}")
        for name, rtype, returns, body, deterministic, access, security, comment in self.rows["routines"]:
            text = f"({', '.join(params[(name, rtype)])})" + (f" RETURNS {returns}" if rtype == "FUNCTION" else "")
            text += " DETERMINISTIC" if deterministic == "YES" else ""
            text += f" {access}" if access != "CONTAINS SQL" else ""
            text += f" SQL SECURITY {security}" if security != "DEFINER" else ""
            text += f" COMMENT {literal(comment)}" if comment else ""
            self.out.add(Routine(schema=SCHEMA, name=name, routine_type=rtype, definition=f"{text} {body}"))

    def _events(self) -> None:
        for (name, body, etype, at, value, field, starts, ends, status, completion, comment,
             created) in self.rows["events"]:
            if etype == "ONE TIME":
                schedule = f"AT {literal(str(at))}"
            else:
                schedule = f"EVERY {literal(str(value))} {field}"
                if starts is not None and abs(starts - created) > timedelta(seconds=5):  # not the default (now)
                    schedule += f" STARTS {literal(str(starts))}"
                schedule += f" ENDS {literal(str(ends))}" if ends is not None else ""
            state = {"ENABLED": "ENABLE", "DISABLED": "DISABLE"}.get(status, "DISABLE ON SLAVE")
            text = f"ON SCHEDULE {schedule} ON COMPLETION {completion} {state}"
            text += f" COMMENT {literal(comment)}" if comment else ""
            self.out.add(Event(schema=SCHEMA, name=name, definition=f"{text} DO {body}"))

    def _dependencies(self) -> None:
        """What views, triggers and routines read: a table, view or routine a view's query reads,
        or whose name a body mentions (MariaDB keeps no such list; a mention too many only orders
        more strictly)."""
        names: dict[str, list[tuple[str, ...]]] = defaultdict(list)
        for key, obj in self.out.objects.items():
            if key[0] in ("table", "view") or isinstance(obj, Routine):
                names[obj.name.lower()].append(key)  # type: ignore[attr-defined]
        for key, obj in list(self.out.objects.items()):
            if isinstance(obj, View | Trigger | Routine | Event):
                words = relation_names(obj.definition) if isinstance(obj, View) else identifiers(obj.definition)
                for ref in _mentions(words, names):
                    self.out.depend(key, ref)
            if isinstance(obj, Trigger):
                self.out.depend(key, ("table", SCHEMA, obj.table))


def _mentions(words: set[str], names: dict[str, list[tuple[str, ...]]]) -> Iterable[tuple[str, ...]]:
    for word in words:
        yield from names.get(word, ())


def _partition_clauses(rows: Rows) -> dict[str, str]:
    """PARTITION BY ... (...) per partitioned table, from its partitions' rows."""
    grouped: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for table, *rest in rows:
        grouped[table].append(tuple(rest))
    return {table: _partition_clause(parts) for table, parts in grouped.items()}


def _partition_clause(parts: list[tuple[Any, ...]]) -> str:
    _, _, method, sub_method, expr, sub_expr, _, _ = parts[0]
    text = f"PARTITION BY {method} ({expr})"
    if sub_method:
        text += f" SUBPARTITION BY {sub_method} ({sub_expr})"
    items: dict[str, list[str]] = {}
    for pname, sub, _, _, _, _, description, comment in parts:
        if pname not in items:
            bound = {"RANGE": f" VALUES LESS THAN ({description})", "LIST": f" VALUES IN ({description})"}.get(
                method.split()[0], "")
            items[pname] = [f"PARTITION {quote(pname)}{bound}" + (f" COMMENT {literal(comment)}" if comment else "")]
        if sub:
            items[pname].append(f"SUBPARTITION {quote(sub)}")
    default_names = list(items) == [f"p{i}" for i in range(len(items))]
    if method.split()[-1] in ("HASH", "KEY") and not sub_method and default_names \
            and all(len(p) == 1 and " COMMENT " not in p[0] for p in items.values()):
        # the default names: as `PARTITIONS n` wrote them (SHOW CREATE TABLE prints none for 1)
        return text + (f" PARTITIONS {len(items)}" if len(items) > 1 else "")
    body = ", ".join(p[0] + (f" ({', '.join(p[1:])})" if p[1:] else "") for p in items.values())
    return f"{text} ({body})"

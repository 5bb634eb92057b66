"""Changes → MySQL statements: one combined ALTER TABLE per changed table, foreign keys dropped
before and added after every table's ALTER (so keys across tables, and cycles, need no order of
tables), views, triggers, routines and events dropped and created around them.

Order comes from the plan's dependency graph. Each table has a "shape" key: its CREATE or its
combined ALTER makes it; what reads the table's columns or keys (a new foreign key, a new view,
a trigger) requires it, and what stops reading them (a dropped foreign key or view) releases it,
so runs before.
"""

from __future__ import annotations

import re
from collections import defaultdict

from ...differ import Alter, Change, Create, Drop, Rename
from ...model import Constraint, DbObject, Key, Schema, Table, Trigger, View
from ...plan import Plan, Statement
from .objects import SCHEMA, Event, MysqlColumn, MysqlIndex, Routine
from .sqltext import identifiers, literal, quote, tokens

# Column types whose change to a wider one keeps every value (rank in the list).
_INTEGERS = ["tinyint", "smallint", "mediumint", "int", "bigint"]
_TEXTS = ["tinytext", "text", "mediumtext", "longtext"]
_BLOBS = ["tinyblob", "blob", "mediumblob", "longblob"]
_SIZED = re.compile(r"^(varchar|char|varbinary|binary)\((\d+)\)(.*)$")
# A default the server prints so that it reads back as written: a literal, a parenthesised
# expression, a call with no arguments (current_timestamp(6)); anything else goes in parentheses.
_LITERAL_DEFAULT = re.compile(r"^(NULL|'.*'|-?[\d.]+(e[-+]?\d+)?|b'[01]*'|0x[0-9a-f]+|\(.*\)|[a-z_]+\(\d*\))$",
                              re.I | re.S)


def shape(table: str) -> Key:
    return ("shape", SCHEMA, table)


def column_sql(col: MysqlColumn) -> str:
    """One column definition, from the model."""
    sql = f"{quote(col.name)} {col.type}"
    if col.charset and col.collation:
        sql += f" CHARACTER SET {col.charset} COLLATE {col.collation}"
    if col.generated is not None:
        sql += f" GENERATED ALWAYS AS ({col.generated}) {'STORED' if col.generated_kind == 's' else 'VIRTUAL'}"
    else:
        sql += " NOT NULL" if col.not_null else " NULL"
        if col.default is not None:
            sql += f" DEFAULT {col.default}" if _LITERAL_DEFAULT.match(col.default) else f" DEFAULT ({col.default})"
        if col.on_update:
            sql += f" ON UPDATE {col.on_update}"
        if col.auto_increment:
            sql += " AUTO_INCREMENT"
    if col.invisible:
        sql += " INVISIBLE"
    if col.comment:
        sql += f" COMMENT {literal(col.comment)}"
    if col.check:
        sql += f" CHECK ({col.check})"
    return sql


def _by_position(table: Table) -> list[MysqlColumn]:
    return sorted(table.columns, key=lambda c: c.position)  # type: ignore[arg-type, return-value]


def _table_options(options: tuple[str, ...]) -> list[str]:
    return [o for o in options if o != "WITH SYSTEM VERSIONING"]


def create_table(schema: Schema, table: Table) -> str:
    """CREATE TABLE with its columns, primary key, indexes and CHECKs (foreign keys come after)."""
    parts = [column_sql(c) for c in _by_position(table)]
    for obj in _on_table(schema, table.name):
        if isinstance(obj, MysqlIndex) or isinstance(obj, Constraint) and obj.type in "pc":
            parts.append(_inline(obj))
    sql = f"CREATE TABLE {quote(table.name)} (\n  " + ",\n  ".join(parts) + "\n) "
    sql += " ".join(_table_options(table.options))
    if "WITH SYSTEM VERSIONING" in table.options:
        sql += " WITH SYSTEM VERSIONING"
    if table.comment:
        sql += f" COMMENT={literal(table.comment)}"
    if table.partition_key:
        sql += f"\n{table.partition_key}"
    return sql


def _on_table(schema: Schema, table: str) -> list[DbObject]:
    return [o for k, o in schema.objects.items() if k[0] in ("index", "constraint") and o.table == table]  # type: ignore[attr-defined]


def _inline(obj: DbObject) -> str:
    if isinstance(obj, MysqlIndex) or obj.type == "p":  # type: ignore[attr-defined]
        return obj.definition  # type: ignore[attr-defined]
    return f"CONSTRAINT {quote(obj.name)} {obj.definition}"  # type: ignore[attr-defined]


def _st(sql: str, key: Key, kind: str, *, phase: int = 50, destructive: bool = False, why: str = "",
        creates: set[Key] | frozenset[Key] = frozenset(), drops: set[Key] | frozenset[Key] = frozenset(),
        requires: set[Key] | frozenset[Key] = frozenset(), releases: set[Key] | frozenset[Key] = frozenset()
        ) -> Statement:
    return Statement(sql=sql, kind=kind, object_key=key, destructive=destructive, why=why, phase=phase,
                     creates=frozenset(creates), drops=frozenset(drops), requires=frozenset(requires),
                     releases=frozenset(releases), script=client_text(sql))


def widens(old: str, new: str) -> bool:
    """Whether a column type change keeps every value (a longer string, a bigger integer)."""
    if old == new:
        return True
    a, b = _SIZED.match(old), _SIZED.match(new)
    if a and b:
        return a.group(1) == b.group(1) and int(b.group(2)) >= int(a.group(2)) and a.group(3) == b.group(3)
    for family in (_INTEGERS, _TEXTS, _BLOBS):
        oa, ob = old.split("(")[0].split()[0], new.split("(")[0].split()[0]
        if oa in family and ob in family:
            same_sign = ("unsigned" in old) == ("unsigned" in new)
            return same_sign and family.index(ob) >= family.index(oa)
    return False


class _Bucket:
    """The clauses of one table's combined ALTER TABLE, in the order MySQL needs them."""

    def __init__(self) -> None:
        self.drops: list[str] = []
        self.modifies: list[str] = []
        self.adds: list[str] = []
        self.keys: list[str] = []
        self.options: list[str] = []
        self.lost: list[str] = []
        self.keep_history = False  # a system-versioned table's columns change

    def clauses(self) -> list[str]:
        return self.drops + self.modifies + self.adds + self.keys + self.options


class Renderer:
    """One diff's statements, each with the keys that order it."""

    def __init__(self, changes: list[Change], source: Schema, target: Schema) -> None:
        self.source, self.target = source, target
        self.changes = [c for c in changes if not isinstance(c, Rename)]
        self.created = {c.new.name for c in self.changes if isinstance(c, Create) and isinstance(c.new, Table)}
        self.dropped = {c.old.name for c in self.changes if isinstance(c, Drop) and isinstance(c.old, Table)}
        self.dropped_keys = {c.old.key for c in self.changes if isinstance(c, Drop)}
        self.changes += self._over_readded_columns()
        self.buckets: dict[str, _Bucket] = defaultdict(_Bucket)
        self.out: list[Statement] = []

    def _over_readded_columns(self) -> list[Change]:
        """Kept keys and CHECKs over a column that is dropped and added again (it becomes or stops
        being generated) are dropped before it and added after it: the server refuses to drop a
        column a foreign key or CHECK reads, and keeps an index with the old column's key length
        (a stale prefix, or one it refuses)."""
        readded = {(new.name, c.name.lower()) for change in self.changes if isinstance(change, Alter)
                   and isinstance(old := change.old, Table) and isinstance(new := change.new, Table)
                   for c in old.columns if (n := new.column(c.name)) is not None and n != c
                   and _regenerated(c, n)}  # type: ignore[arg-type]
        out: list[Change] = []
        for key, obj in self.source.objects.items() if readded else ():
            if isinstance(obj, MysqlIndex | Constraint) and self.target.objects.get(key) == obj \
                    and readded & _columns_read(self.source, obj):
                out += [Drop(obj), Create(obj)]
                self.dropped_keys.add(key)
        return out

    def statements(self) -> list[Statement]:
        for change in self.changes:
            if isinstance(change, Drop) and not change.implied:
                self._drop(change.old)
        for change in self.changes:
            if isinstance(change, Create):
                self._create(change.new)
            elif isinstance(change, Alter) and isinstance(change.old, Table):
                self._alter_table(change.old, change.new)  # type: ignore[arg-type]
        for table, bucket in sorted(self.buckets.items()):
            clauses = bucket.clauses()
            if clauses:
                # MariaDB refuses to change a system-versioned table's columns unless told to keep
                # the history rows as they are (the only way there is).
                keep = "SET STATEMENT system_versioning_alter_history=KEEP FOR " if bucket.keep_history else ""
                sql = f"{keep}ALTER TABLE {quote(table)}\n  " + ",\n  ".join(clauses)
                self.out.append(_st(sql, ("table", SCHEMA, table), "alter", destructive=bool(bucket.lost),
                                    why=", ".join(bucket.lost), requires={("table", SCHEMA, table)},
                                    creates={shape(table)}, drops={shape(table)}))
        return self.out

    # --- drops ------------------------------------------------------------------------------------

    def _drop(self, obj: DbObject) -> None:
        releases = self._reads(self.source, obj.key)
        if isinstance(obj, Table):
            releases |= {shape(r) for r in self._references(self.source, obj.name)}
            self.out.append(_st(f"DROP TABLE {quote(obj.name)}", obj.key, "drop", destructive=True,
                                why=f"drops table {obj.name} and its rows", drops={obj.key, shape(obj.name)},
                                releases=releases))
        elif isinstance(obj, Constraint) and obj.type == "f":
            ref = _referenced(obj)
            self.out.append(_st(f"ALTER TABLE {quote(obj.table)} DROP FOREIGN KEY {quote(obj.name)}", obj.key, "drop",
                                phase=10, releases={shape(obj.table), *({shape(ref)} if ref else ())}, drops={obj.key}))
        elif isinstance(obj, Constraint | MysqlIndex):
            if obj.table not in self.dropped:
                bucket = self.buckets[obj.table]
                bucket.drops.append(_drop_clause(obj))
        elif isinstance(obj, View):
            self.out.append(_st(f"DROP VIEW {quote(obj.name)}", obj.key, "drop", phase=20, drops={obj.key},
                                releases=releases))
        elif isinstance(obj, Trigger):
            self.out.append(_st(f"DROP TRIGGER {quote(obj.name)}", obj.key, "drop", phase=20, drops={obj.key},
                                releases=releases | {shape(obj.table)}))
        elif isinstance(obj, Routine | Event):
            word = obj.routine_type if isinstance(obj, Routine) else "EVENT"
            self.out.append(_st(f"DROP {word} {quote(obj.name)}", obj.key, "drop", phase=20, drops={obj.key},
                                releases=releases))

    def _reads(self, schema: Schema, key: Key) -> set[Key]:
        """The keys of what `key` reads in `schema`, tables also by their shape."""
        keys = set(schema.dependencies(key))
        return keys | {shape(k[2]) for k in keys if k[0] == "table"}

    def _references(self, schema: Schema, table: str) -> set[str]:
        """Tables that `table`'s foreign keys point to."""
        return {r for c in schema.constraints_on(SCHEMA, table) if c.type == "f" and (r := _referenced(c))}

    # --- creates ----------------------------------------------------------------------------------

    def _create(self, obj: DbObject) -> None:
        requires = self._reads(self.target, obj.key)
        if isinstance(obj, Table):
            self.out.append(_st(create_table(self.target, obj), obj.key, "create",
                                creates={obj.key, shape(obj.name)}))
        elif isinstance(obj, Constraint) and obj.type == "f":
            ref = _referenced(obj)
            renew = "".join(f"DROP INDEX {quote(i.name)}, ADD {i.definition}, " for i in self._fk_made_indexes(obj))
            sql = f"ALTER TABLE {quote(obj.table)} {renew}ADD {_inline(obj)}"
            self.out.append(_st(sql, obj.key, "create", phase=90,
                                requires={shape(obj.table), *({shape(ref)} if ref else ())}, creates={obj.key}))
        elif isinstance(obj, Constraint | MysqlIndex):
            if obj.table not in self.created:
                self.buckets[obj.table].keys.append(f"ADD {_inline(obj)}")
        elif isinstance(obj, View):
            self.out.append(_st(f"CREATE {' '.join(obj.options)} VIEW {quote(obj.name)} AS {obj.definition}", obj.key,
                                "create", phase=60, creates={obj.key}, requires=requires))
        elif isinstance(obj, Trigger):
            self.out.append(_st(f"CREATE TRIGGER {quote(obj.name)} {obj.definition}", obj.key, "create", phase=70,
                                creates={obj.key}, requires=requires | {shape(obj.table)}))
        elif isinstance(obj, Routine):
            self.out.append(_st(f"CREATE {obj.routine_type} {quote(obj.name)}{obj.definition}", obj.key, "create",
                                phase=55, creates={obj.key}, requires=requires))
        elif isinstance(obj, Event):
            self.out.append(_st(f"CREATE EVENT {quote(obj.name)} {obj.definition}", obj.key, "create", phase=75,
                                creates={obj.key}, requires=requires))

    def _fk_made_indexes(self, fk: Constraint) -> list[MysqlIndex]:
        """Kept indexes that a dropped foreign key on the same columns may have made itself: MariaDB
        replaces such an index by one named after the next foreign key added on those columns,
        unless the index is created again (then it is the user's)."""
        if fk.table in self.created:
            return []
        cols = _key_columns(fk.definition)
        gone = [c for c in self.source.constraints_on(SCHEMA, fk.table) if c.type == "f"
                and _key_columns(c.definition) == cols and c.key in self.dropped_keys]
        names = {c.name for c in gone} | {cols[0]}
        if not gone:
            return []
        return [o for k, o in self.source.objects.items() if isinstance(o, MysqlIndex) and o.table == fk.table
                and o.name in names and self.target.objects.get(k) == o
                and _key_columns(o.definition)[:len(cols)] == cols]

    # --- one table's ALTER ------------------------------------------------------------------------

    def _alter_table(self, old: Table, new: Table) -> None:
        bucket = self.buckets[new.name]
        for col in old.columns:
            if new.column(col.name) is None:
                bucket.drops.append(f"DROP COLUMN {quote(col.name)}")
                bucket.lost.append(f"drops column {new.name}.{col.name} and its values")
        previous: str | None = None
        for col in _by_position(new):
            was = old.column(col.name)
            place = f" AFTER {quote(previous)}" if previous else " FIRST"
            previous = col.name
            if was == col:
                continue
            if was is None or _regenerated(was, col):  # type: ignore[arg-type]
                if was is not None:
                    bucket.drops.append(f"DROP COLUMN {quote(col.name)}")
                    if not was.generated:
                        bucket.lost.append(f"drops column {new.name}.{col.name} and its values")
                bucket.adds.append(f"ADD COLUMN {column_sql(col)}{place}")
                continue
            bucket.modifies.append(f"MODIFY COLUMN {column_sql(col)}")
            if not widens(was.type, col.type) or was.charset != col.charset:  # type: ignore[attr-defined]
                bucket.lost.append(f"changes {new.name}.{col.name} from {was.type} to {col.type}")
        bucket.options += _option_changes(old, new)
        bucket.keep_history = "WITH SYSTEM VERSIONING" in old.options and old.columns != new.columns
        if old.partition_key != new.partition_key:
            self._repartition(new)

    def _repartition(self, new: Table) -> None:
        """Partitioning goes in a statement of its own, after the table's ALTER (a unique key must
        hold the partition columns, and the ALTER may add that key)."""
        sql = f"ALTER TABLE {quote(new.name)} " + (new.partition_key or "REMOVE PARTITIONING")
        self.out.append(_st(sql, new.key, "alter", phase=80, requires={shape(new.name)}))


def _regenerated(old: MysqlColumn, new: MysqlColumn) -> bool:
    """A column that becomes or stops being generated, or changes kind: MySQL needs it dropped and
    added again."""
    return (old.generated is None) != (new.generated is None) or old.generated_kind != new.generated_kind


def _drop_clause(obj: DbObject) -> str:
    if isinstance(obj, MysqlIndex):
        return f"DROP INDEX {quote(obj.name)}"
    if obj.type == "p":  # type: ignore[attr-defined]
        return "DROP PRIMARY KEY"
    return f"DROP CONSTRAINT {quote(obj.name)}"  # type: ignore[attr-defined]


def _columns_read(schema: Schema, obj: MysqlIndex | Constraint) -> set[tuple[str, str]]:
    """(table, lower-cased column) of the columns a key or CHECK reads, both sides of a foreign
    key (the inspector records those as its dependencies)."""
    if isinstance(obj, Constraint) and obj.type == "f":
        return {(k[2], k[3].lower()) for k in schema.dependencies(obj.key) if k[0] == "column"}
    if isinstance(obj, Constraint) and obj.type == "c":
        return {(obj.table, name) for name in identifiers(obj.definition)}
    return {(obj.table, c.lower()) for c in _key_columns(obj.definition)}


def _key_columns(definition: str) -> list[str]:
    """The column names in the first parenthesis of a key's definition (past prefix lengths:
    `(`a`(5),`b`)`)."""
    names, depth = [], 0
    for _, tok in tokens(definition):
        if tok == "(":
            depth += 1
        elif tok == ")":
            depth -= 1
            if not depth:
                break
        elif depth == 1 and tok.startswith("`"):
            names.append(tok[1:-1].replace("``", "`"))
    return names


def _referenced(fk: Constraint) -> str | None:
    """The table a foreign key in this database points to (None: another database's)."""
    toks = [t for _, t in tokens(fk.definition)]
    i = toks.index("REFERENCES") + 1
    if i + 1 < len(toks) and toks[i + 1] == ".":
        return None
    return toks[i][1:-1].replace("``", "`")


def _option_changes(old: Table, new: Table) -> list[str]:
    """Table options that differ: the new value, or `name=DEFAULT` for an option taken away."""
    out = []
    gone = [o for o in old.options if o not in new.options]
    for option in (o for o in new.options if o not in old.options):
        if option == "WITH SYSTEM VERSIONING":
            out.append("ADD SYSTEM VERSIONING")
        elif not option.startswith("COLLATE=") or not any(o.startswith("DEFAULT CHARSET=") for o in out):
            out.append(option)
    if any(o.startswith(("DEFAULT CHARSET=", "COLLATE=")) for o in out):  # a collation belongs to its charset
        out = [o for o in out if not o.startswith(("DEFAULT CHARSET=", "COLLATE="))]
        out += [o for o in new.options if o.startswith(("DEFAULT CHARSET=", "COLLATE="))]
    names = {o.split("=")[0].lower() for o in new.options}
    for option in gone:
        name = option.split("=")[0]
        if option == "WITH SYSTEM VERSIONING":
            out.append("DROP SYSTEM VERSIONING")
        elif name.lower() not in names:
            out.append(f"{name}=DEFAULT")
    if old.comment != new.comment:
        out.append(f"COMMENT={literal(new.comment or '')}")
    return out


def client_text(sql: str) -> str:
    """A statement as the `mariadb`/`mysql` client reads it in a script: one with `;` inside (a
    trigger's, routine's or event's BEGIN ... END body) goes between DELIMITER lines."""
    if any(t == ";" for _, t in tokens(sql)):
        mark = next(m for m in ("$$", "//", ";;", "$$$") if m not in sql)
        return f"DELIMITER {mark}\n{sql}{mark}\nDELIMITER ;"
    return f"{sql};"


def client_script(statements: list[Statement]) -> str:
    """The plan as a script for the `mariadb`/`mysql` client."""
    return Plan(list(statements)).sql

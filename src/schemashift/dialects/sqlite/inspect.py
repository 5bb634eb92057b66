"""Read a SQLite database into the shared model: sqlite_schema and the pragmas, in one read
transaction. Structured pragma output is used wherever SQLite gives it (columns, keys, foreign
keys, index columns), so two spellings SQLite treats alike compare equal; the CREATE text is only
parsed for what no pragma reports (CHECK, collation, generation expression, AUTOINCREMENT)."""

from __future__ import annotations

import sqlite3

from urllib.parse import quote as quote_uri

from ...errors import SourceError
from ...model import Column, Constraint, Index, Schema, Table, Trigger, View
from .sqltext import join, paren_group, quote, split_top, tokens, unquote, upper_words

SCHEMA = "main"
_TABLE_CONSTRAINT_WORDS = {"CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"}


def inspect_connection(conn: sqlite3.Connection) -> Schema:
    """The schema of `conn`'s main database, read inside one transaction so it is one snapshot."""
    in_tx = conn.in_transaction
    if not in_tx:
        conn.execute("BEGIN")
    try:
        rows = conn.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_schema WHERE sql IS NOT NULL"
            " AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY rowid").fetchall()
        schema = Schema(dialect="sqlite")
        for kind, name, table, sql in rows:
            if kind == "table" and sql.split(None, 2)[1].upper() == "VIRTUAL":
                raise SourceError(f"virtual table {quote(name)}: the SQLite dialect does not cover virtual tables")
            if kind == "table":
                _table(conn, schema, name, sql)
            elif kind == "index":
                schema.add(_index(conn, name, table, sql))
            elif kind == "view":
                schema.add(View(schema=SCHEMA, name=name, definition=_after_name(sql, "VIEW")))
            elif kind == "trigger":
                schema.add(Trigger(schema=SCHEMA, table=table, name=name, definition=_after_name(sql, "TRIGGER")))
        return schema
    finally:
        if not in_tx:
            conn.execute("COMMIT")


def inspect_file(path: str) -> Schema:
    """The schema of the SQLite database file at `path` (opened read-only)."""
    try:
        conn = sqlite3.connect(f"file:{quote_uri(path)}?mode=ro", uri=True, isolation_level=None)
        conn.execute("SELECT 1 FROM sqlite_schema LIMIT 1")
    except sqlite3.Error as exc:
        raise SourceError(f"{path}: cannot read it as a SQLite database ({exc})") from None
    try:
        return inspect_connection(conn)
    finally:
        conn.close()


def _after_name(sql: str, word: str) -> str:
    """A view's or trigger's CREATE text after its name, in one spelling (TEMP / IF NOT EXISTS dropped)."""
    toks = tokens(sql)
    i = [t.upper() for t in toks].index(word) + 1
    if [t.upper() for t in toks[i:i + 3]] == ["IF", "NOT", "EXISTS"]:
        i += 3
    i += 3 if toks[i + 1:i + 2] == ["."] else 1  # schema-qualified name
    return join(toks[i:])


def _table(conn: sqlite3.Connection, schema: Schema, name: str, sql: str) -> None:
    """One table: columns from table_xinfo, keys from index_list / foreign_key_list, and what only
    the CREATE text says."""
    parsed = _parse_table(sql)
    info = conn.execute("SELECT strict, wr FROM pragma_table_list WHERE schema = 'main' AND name = ?", (name,)).fetchone()
    options = (("STRICT",) if info and info[0] else ()) + (("WITHOUT ROWID",) if info and info[1] else ())
    columns, pk = [], []
    for cid, cname, ctype, notnull, dflt, pkpos, hidden in conn.execute(
            "SELECT cid, name, type, \"notnull\", dflt_value, pk, hidden FROM pragma_table_xinfo(?)", (name,)):
        if hidden == 1:  # a virtual table's hidden column
            continue
        extra = parsed["columns"].get(cname.lower(), {})
        columns.append(Column(
            name=cname, type=" ".join(ctype.upper().split()), not_null=bool(notnull),
            default=join(tokens(dflt)) if dflt is not None else None,
            generated=extra.get("generated"), generated_kind={2: "v", 3: "s"}.get(hidden, ""),
            collation=extra.get("collation"), position=cid))
        if pkpos:
            pk.append((pkpos, cname))
    schema.add(Table(schema=SCHEMA, name=name, columns=tuple(columns), options=options))
    indexes = conn.execute(f"PRAGMA index_list({quote(name)})").fetchall()
    if pk:
        pk_index = next((r[1] for r in indexes if r[3] == "pk"), None)
        cols = _key_columns(conn, pk_index) if pk_index else ", ".join(quote(c) for _, c in sorted(pk))
        auto = " AUTOINCREMENT" if parsed["autoincrement"] else ""
        _constraint(schema, name, "p", "primary key", f"PRIMARY KEY ({cols}{auto})"
                    + _on_conflict(parsed, "p", [c for _, c in sorted(pk)]))
    for _, iname, unique, origin, _partial in indexes:
        if origin == "u":
            cols = _key_columns(conn, iname)
            names = [r[0] for r in conn.execute("SELECT name FROM pragma_index_xinfo(?) WHERE key ORDER BY seqno", (iname,))]
            _constraint(schema, name, "u", f"unique ({cols})", f"UNIQUE ({cols})" + _on_conflict(parsed, "u", names))
    fks: dict[int, list[tuple]] = {}
    for row in conn.execute(f"PRAGMA foreign_key_list({quote(name)})").fetchall():
        fks.setdefault(row[0], []).append(row)
    for fk_id, parts in sorted(fks.items()):
        _constraint(schema, name, "f", f"foreign key {fk_id}", _fk_definition(sorted(parts, key=lambda r: r[1]), parsed))
    for cname, check in sorted(set(parsed["checks"]), key=lambda c: (c[1], c[0] or "")):
        named = f"CONSTRAINT {quote(cname)} " if cname else ""  # SQLite's error message names it
        _constraint(schema, name, "c", f"check {check}" + (f" {cname}" if cname else ""), f"{named}CHECK ({check})")


def _key_columns(conn: sqlite3.Connection, index: str) -> str:
    """A key's columns as its index stores them: order, DESC and collation (index_xinfo)."""
    return ", ".join(quote(n) + (" DESC" if d else "") + (f" COLLATE {c.upper()}" if c.upper() != "BINARY" else "")
                     for n, d, c in conn.execute(
                         "SELECT name, \"desc\", coll FROM pragma_index_xinfo(?) WHERE key ORDER BY seqno", (index,)))


def _on_conflict(parsed: dict, kind: str, columns: list[str]) -> str:
    action = parsed["conflict"].get((kind, tuple(c.lower() for c in columns)))
    return f" ON CONFLICT {action}" if action and action != "ABORT" else ""


def _fk_definition(parts: list[tuple], parsed: dict) -> str:
    """A foreign key as SQLite itself reports it (columns, target, actions), plus its deferral,
    which only the CREATE text says."""
    _, _, target, _, _, on_update, on_delete, _ = parts[0]
    src = ", ".join(quote(p[3]) for p in parts)
    ref = ", ".join(quote(p[4]) for p in parts if p[4] is not None)
    text = f"FOREIGN KEY ({src}) REFERENCES {quote(target)}" + (f" ({ref})" if ref else "")
    if on_update != "NO ACTION":
        text += f" ON UPDATE {on_update}"
    if on_delete != "NO ACTION":
        text += f" ON DELETE {on_delete}"
    key = (tuple(p[3].lower() for p in parts), target.lower())
    if key in parsed["deferred"]:
        text += " DEFERRABLE INITIALLY DEFERRED"
    return text


def _constraint(schema: Schema, table: str, type_: str, name: str, definition: str) -> None:
    schema.add(Constraint(schema=SCHEMA, table=table, name=name, type=type_, definition=definition))


def _parse_table(sql: str) -> dict:
    """What only the CREATE TABLE text says: per column its collation and generation expression,
    every CHECK, AUTOINCREMENT and which foreign keys are INITIALLY DEFERRED."""
    toks = tokens(sql)
    start = toks.index("(")
    body, _ = paren_group(toks, start)
    out: dict = {"columns": {}, "checks": [], "autoincrement": False, "deferred": set(), "conflict": {}}
    for part in split_top(body):
        up = [t.upper() for t in part]
        is_column = up[0] not in _TABLE_CONSTRAINT_WORDS
        col = unquote(part[0]).lower() if is_column else None
        extra: dict = {}
        i = 1 if is_column else 0
        while i < len(part):
            word = up[i]
            if word == "CHECK" and i + 1 < len(part) and part[i + 1] == "(":
                named = unquote(part[i - 1]) if i >= 2 and up[i - 2] == "CONSTRAINT" else None
                expr, i = paren_group(part, i + 1)
                out["checks"].append((named, join(expr)))
                continue
            if word == "AS" and is_column and i + 1 < len(part) and part[i + 1] == "(":
                expr, i = paren_group(part, i + 1)
                extra["generated"] = join(expr)
                continue
            if word == "COLLATE" and is_column and i + 1 < len(part):
                coll = unquote(part[i + 1]).upper()
                extra["collation"] = None if coll == "BINARY" else coll
            if word in ("PRIMARY", "UNIQUE"):
                _conflict(out, part, up, i, col)
            if word == "AUTOINCREMENT":
                out["autoincrement"] = True
            if word == "REFERENCES":
                _deferral(out, part, up, i, col)
            i += 1
        if col is not None:
            out["columns"][col] = extra
    return out


def _conflict(out: dict, part: list[str], up: list[str], i: int, col: str | None) -> None:
    """Record a PRIMARY KEY's or UNIQUE's ON CONFLICT clause, by kind and columns (no pragma has it)."""
    kind = "p" if up[i] == "PRIMARY" else "u"
    j = i + (2 if kind == "p" else 1)
    if col is None:
        cols_toks, j = paren_group(part, j)
        cols = tuple(unquote(c[0]).lower() for c in split_top(cols_toks))
    else:
        cols = (col,)
    while j < len(up) and up[j] in ("ASC", "DESC"):
        j += 1
    if up[j:j + 2] == ["ON", "CONFLICT"] and j + 2 < len(up):
        out["conflict"][(kind, cols)] = up[j + 2]


def _deferral(out: dict, part: list[str], up: list[str], i: int, col: str | None) -> None:
    """Record a foreign key (by its columns and target) whose clause says INITIALLY DEFERRED."""
    target = unquote(part[i + 1]).lower()
    rest = up[i:]
    if "DEFERRABLE" not in rest or "DEFERRED" not in rest or rest[rest.index("DEFERRABLE") - 1] == "NOT":
        return
    if col is not None:
        out["deferred"].add(((col,), target))
        return
    cols, _ = paren_group(part, up.index("KEY") + 1)
    out["deferred"].add((tuple(unquote(c).lower() for c in cols if c != ","), target))


def _index(conn: sqlite3.Connection, name: str, table: str, sql: str) -> Index:
    """An explicit index: its columns from index_xinfo (expressions from the text), its WHERE."""
    toks = tokens(sql)
    up = [t.upper() for t in toks]
    unique = "UNIQUE" in up[:up.index("INDEX")]
    on = up.index("ON")
    cols, after = paren_group(toks, on + 2 if toks[on + 2] == "(" else on + 4)
    where = toks[after:]
    xinfo = conn.execute("SELECT cid, name, \"desc\", coll FROM pragma_index_xinfo(?) WHERE key ORDER BY seqno", (name,)).fetchall()
    if all(cid >= 0 for cid, *_ in xinfo):
        col_text = ", ".join(quote(n) + (" DESC" if d else "") + (f" COLLATE {c.upper()}" if c.upper() != "BINARY" else "")
                             for _, n, d, c in xinfo)
    else:
        col_text = join(cols)
    definition = ("UNIQUE " if unique else "") + f"ON {quote(table)} ({col_text})" + (
        " " + join(where) if where else "")
    return Index(schema=SCHEMA, name=name, table=table, definition=definition)

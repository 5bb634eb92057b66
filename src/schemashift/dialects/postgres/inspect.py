"""Read a PostgreSQL database into a `Schema`: a fixed set of bulk catalog queries in one snapshot."""

from __future__ import annotations

import functools
import re
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

import psycopg
from psycopg.rows import namedtuple_row, tuple_row

from ...runtime.gcpause import gc_paused
from ..base import InspectOptions
from ...model import (
    Acl,
    Collation,
    Column,
    CompositeType,
    Constraint,
    DbObject,
    DefaultPrivilege,
    Domain,
    EnumType,
    EventTrigger,
    Extension,
    Function,
    Grant,
    IdentityOptions,
    Index,
    Key,
    Namespace,
    Policy,
    Publication,
    RangeType,
    Rule,
    Schema,
    Sequence,
    Statistics,
    Table,
    TextSearchConfiguration,
    TextSearchDictionary,
    Trigger,
    View,
)
from . import queries as q
from .sqltext import ident, literal

Row = Any  # a namedtuple of the query's columns (psycopg's namedtuple_row)


# aclitem's privilege letters (PostgreSQL's ACL_ALL_RIGHTS_STR) and the names GRANT uses for them.
_PRIVILEGES = dict(a="INSERT", r="SELECT", w="UPDATE", d="DELETE", D="TRUNCATE", x="REFERENCES", t="TRIGGER",
                   X="EXECUTE", U="USAGE", C="CREATE", c="CONNECT", T="TEMPORARY", s="SET", A="ALTER SYSTEM",
                   m="MAINTAIN")
_ACLITEM = re.compile(r'(?:"((?:[^"]|"")*)"|([^=]*))=([A-Za-z*]*)/')


@functools.cache
def _grants(item: str) -> tuple[Grant, ...]:
    """One aclitem's text, `grantee=privileges/grantor` (grantee quoted like an identifier, empty for
    PUBLIC; `*` after a letter: WITH GRANT OPTION). Few distinct items exist, so each is parsed once."""
    match = _ACLITEM.match(item)
    if match is None:
        raise ValueError(f"unexpected aclitem {item!r}")
    quoted, plain, letters = match.groups()
    grantee = quoted.replace('""', '"') if quoted is not None else plain or "PUBLIC"
    return tuple(Grant(grantee, _PRIVILEGES[p], letters[i + 1:i + 2] == "*")
                 for i, p in enumerate(letters) if p != "*")


def acl(items: list[str] | None) -> Acl:
    return _acl(tuple(items or ()))


@functools.cache
def _acl(items: tuple[str, ...]) -> Acl:
    """Most objects share a handful of ACLs: each distinct one becomes a frozenset once."""
    return frozenset(g for item in items for g in _grants(item))


@dataclass
class _Reader:
    """Turns query rows into model objects and remembers which OID became which key."""

    schema: Schema
    options: InspectOptions
    keys: dict[tuple[str, int, int], Key] = field(default_factory=dict)
    extension_members: dict[tuple[str, int], Key] = field(default_factory=dict)

    def remember(self, catalog: str, oid: int, key: Key, sub: int = 0) -> None:
        self.keys[(catalog, oid, sub)] = key



_ROW_FACTORY = {q.DEPENDS: tuple_row}  # the biggest result by far: plain tuples, not named ones


def inspect_connection(conn: psycopg.Connection, options: InspectOptions | None = None) -> Schema:
    """Inspect inside one REPEATABLE READ, read-only transaction on `conn`.

    Once the namespaces are known, the other queries run in a few batches, one after another, on a
    thread of their own; the rows of each batch are read and become objects here as soon as it is
    done, while the server works on the next. (psycopg hands back a pipeline's first result only once
    its last query has finished: one pipeline of every query made the objects wait for all of them.
    A batch is one pipeline, so a small schema costs a handful of round trips.)
    """
    options = options or InspectOptions()
    schema = Schema(server_version=conn.info.server_version)
    reader = _Reader(schema, options)
    runner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="schemashift-inspect")
    try:
        with gc_paused(), conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            conn.execute("SET LOCAL search_path = ''")
            namespaces = conn.cursor(row_factory=namedtuple_row).execute(q.NAMESPACES, dict(
                include=list(options.schemas), exclude=list(options.exclude_schemas))).fetchall()
            all_schemas = not options.schemas and not options.exclude_schemas
            params = dict(nsp=[r.oid for r in namespaces], all_schemas=all_schemas)

            def run(batch: tuple[str, ...]) -> dict[str, psycopg.Cursor[Any]]:
                with conn.pipeline():
                    return {query: conn.cursor(row_factory=_ROW_FACTORY.get(query, namedtuple_row))
                            .execute(query, params) for query in batch}

            # In the order the objects are built. The big queries go alone, so that their rows are
            # turned into objects while the server works on the next.
            small = (q.FUNCTIONS, q.TRIGGERS, *((q.EVENT_TRIGGERS, q.PUBLICATIONS) if all_schemas else ()),
                     q.POLICIES, q.RULES, q.STATISTICS, q.DEFAULT_PRIVILEGES, q.CASTS)
            batches = [(q.EXTENSIONS, q.COLLATIONS, q.TEXT_SEARCH_DICTIONARIES, q.TEXT_SEARCH_CONFIGURATIONS, q.TYPES, q.RELATIONS, q.COLUMNS, q.SEQUENCES),
                       (q.CONSTRAINTS,), (q.INDEXES,), small, (q.DEPENDS,)]
            pending: dict[str, Future[dict[str, psycopg.Cursor[Any]]]] = {}
            for batch in batches:
                pending.update(dict.fromkeys(batch, runner.submit(run, batch)))

            def fetch(query: str) -> list[Any]:
                return pending.pop(query).result()[query].fetchall()

            try:
                _namespaces(reader, namespaces)
                _extensions(reader, fetch(q.EXTENSIONS))
                _collations(reader, fetch(q.COLLATIONS))
                _text_search(reader, fetch(q.TEXT_SEARCH_DICTIONARIES), fetch(q.TEXT_SEARCH_CONFIGURATIONS))
                types, relations, columns = fetch(q.TYPES), fetch(q.RELATIONS), fetch(q.COLUMNS)
                _relations(reader, relations, columns, fetch(q.SEQUENCES))
                _types(reader, types, relations, columns)
                _constraints(reader, fetch(q.CONSTRAINTS))
                _indexes(reader, fetch(q.INDEXES))
                _functions(reader, fetch(q.FUNCTIONS))
                _triggers(reader, fetch(q.TRIGGERS))
                if all_schemas:
                    _event_triggers(reader, fetch(q.EVENT_TRIGGERS))
                    _publications(reader, fetch(q.PUBLICATIONS))
                _policies(reader, fetch(q.POLICIES))
                _rules(reader, fetch(q.RULES))
                _statistics(reader, fetch(q.STATISTICS))
                _default_privileges(reader, fetch(q.DEFAULT_PRIVILEGES))
                schema.casts = frozenset((row.source, row.target) for row in fetch(q.CASTS))
                _depends(reader, fetch(q.DEPENDS))
            except BaseException:  # Ctrl-C, or an error here: stop the batch the server is running
                conn.cancel_safe()  # (it may wait on a lock), then roll back once the runner is done
                runner.shutdown(cancel_futures=True)
                raise
    finally:
        runner.shutdown(cancel_futures=True)  # the runner ends with the call (after a failure, already)
    return schema


def _namespaces(r: _Reader, rows: list[Row]) -> None:
    for row in rows:
        obj = Namespace(row.name, comment=row.comment, acl=acl(row.acl),
                        default_acl=acl(row.default_acl))
        r.schema.add(obj)
        r.remember("pg_namespace", row.oid, obj.key)


def _extensions(r: _Reader, rows: list[Row]) -> None:
    for row in rows:
        version = None if r.options.ignore_extension_versions else row.version
        obj = Extension(row.name, row.schema, version, frozenset(row.updatable_to),
                        default_comment=row.default_comment, comment=row.comment)
        r.schema.add(obj)
        r.remember("pg_extension", row.oid, obj.key)
        r.schema.depend(obj.key, ("schema", row.schema))


def _collations(r: _Reader, rows: list[Row]) -> None:
    for row in rows:
        c = row.row
        locale = c.get("colllocale", c.get("colliculocale"))
        obj = Collation(
            row.schema, row.name, provider=c["collprovider"], locale=locale,
            lc_collate=c.get("collcollate"), lc_ctype=c.get("collctype"),
            deterministic=c["collisdeterministic"], rules=c.get("collicurules"), comment=row.comment,
        )
        _add(r, obj, "pg_collation", row.oid)


# One `name = value` of dictinitoption, as the server serialises a dictionary's options.
_DICT_OPTION = re.compile(r"""\s*((?:"(?:[^"]|"")*")|[^\s=,]+)\s*=\s*(E?'(?:[^'\\]|''|\\.)*'|[^\s,]+)\s*(?:,|$)""")


def dictionary_options(text: str | None) -> tuple[tuple[str, str], ...]:
    """dictinitoption's text as (name, value as SQL) pairs; names unquoted, values as printed."""
    options = []
    for match in _DICT_OPTION.finditer(text or ""):
        name, value = match.groups()
        options.append((name[1:-1].replace('""', '"') if name.startswith('"') else name, value))
    return tuple(options)


def _text_search(r: _Reader, dictionaries: list[Row], configurations: list[Row]) -> None:
    for row in dictionaries:
        _add(r, TextSearchDictionary(row.schema, row.name, row.template, dictionary_options(row.options),
                                     comment=row.comment), "pg_ts_dict", row.oid)
    for row in configurations:
        mappings = tuple((alias, tuple(dicts)) for alias, dicts in row.mappings)
        _add(r, TextSearchConfiguration(row.schema, row.name, row.parser, mappings, comment=row.comment),
             "pg_ts_config", row.oid)


def _add(r: _Reader, obj: DbObject, catalog: str, oid: int) -> None:
    r.schema.add(obj)
    r.remember(catalog, oid, obj.key)
    schema = getattr(obj, "schema", None)
    if schema:
        r.schema.depend(obj.key, ("schema", schema))


def _seq_options(row: Row) -> IdentityOptions:
    return IdentityOptions(row.data_type, row.seqstart, row.seqincrement, row.seqmin,
                           row.seqmax, row.seqcache, row.seqcycle)


def _relations(r: _Reader, relations: list[Row], columns: list[Row], sequences: list[Row]) -> None:
    by_oid = {row.oid: row for row in relations}
    cols: dict[int, list[Row]] = {}
    for col in columns:
        cols.setdefault(col.attrelid, []).append(col)
    identity: dict[tuple[int, int], tuple[IdentityOptions, str | None]] = {}
    for seq in sequences:
        rel = by_oid.get(seq.oid)
        if seq.owner_deptype == "i":
            identity[(seq.owner_rel, seq.owner_col)] = (_seq_options(seq), rel and rel.name)
        elif rel is not None:
            owner = by_oid.get(seq.owner_rel)
            owned_by = None
            if owner is not None:
                col = next(c for c in cols[owner.oid] if c.attnum == seq.owner_col)
                owned_by = (owner.schema, owner.name, col.name)
            obj = Sequence(rel.schema, rel.name, _seq_options(seq), owned_by,
                           unlogged=rel.relpersistence == "u", comment=rel.comment,
                           acl=acl(rel.acl), default_acl=acl(rel.default_acl))
            _add(r, obj, "pg_class", rel.oid)
    for rel in relations:
        kind = rel.relkind
        if kind in ("r", "p", "f"):
            _table(r, rel, cols.get(rel.oid, []), identity)
        elif kind in ("v", "m"):
            _view(r, rel, cols.get(rel.oid, []))


def _column(row: Row, identity: tuple[IdentityOptions, str | None] | None, partition: bool = False) -> Column:
    generated = row.default_expr if row.attgenerated else None
    options, sequence = identity or (None, None)
    return Column(
        row.name, row.type, not_null=row.attnotnull, not_null_name=row.not_null_name,
        default=None if generated else row.default_expr,
        identity=row.attidentity, identity_options=options, identity_sequence=sequence,
        generated=generated, generated_kind=row.attgenerated, collation=row.collation,
        storage=row.storage, local=row.attislocal and not partition, position=row.attnum,
        comment=row.comment, acl=acl(row.acl),
    )


def _table(r: _Reader, rel: Row, cols: list[Row],
           identity: dict[tuple[int, int], tuple[IdentityOptions, str | None]]) -> None:
    parents = [tuple(p) for p in rel.parents or ()]
    parent = parents[0] if rel.relispartition else None
    table = Table(
        rel.schema, rel.name,
        columns=tuple(_column(c, identity.get((rel.oid, c.attnum)), rel.relispartition) for c in cols),
        partitioned=rel.relkind == "p", unlogged=rel.relpersistence == "u",
        options=tuple(sorted(rel.reloptions or ())), partition_key=rel.partition_key,
        parent=parent, partition_bound=rel.partition_bound,
        inherits=() if parent else tuple(parents),
        rls=rel.relrowsecurity, force_rls=rel.relforcerowsecurity,
        replica_identity=rel.relreplident, comment=rel.comment,
        acl=acl(rel.acl), default_acl=acl(rel.default_acl),
    )
    table_key = table.key
    _add(r, table, "pg_class", rel.oid)
    r.remember("pg_type", rel.reltype, table_key)
    for c in cols:
        key = table.column_key(c.name)
        r.remember("pg_class", rel.oid, key, c.attnum)
        r.schema.depend(key, table_key)
        if c.attrdef_oid:
            r.remember("pg_attrdef", c.attrdef_oid, table.default_key(c.name))
    for p in parents:
        r.schema.depend(table_key, ("table", *p))


def _view(r: _Reader, rel: Row, cols: list[Row]) -> None:
    view = View(
        rel.schema, rel.name, definition=rel.viewdef, materialized=rel.relkind == "m",
        options=tuple(sorted(rel.reloptions or ())), columns=tuple((c.name, c.type) for c in cols),
        populated=rel.relispopulated,
        column_comments=tuple((c.name, c.comment) for c in cols if c.comment),
        column_acls=tuple((c.name, acl(c.acl)) for c in cols if c.acl),
        comment=rel.comment, acl=acl(rel.acl), default_acl=acl(rel.default_acl),
    )
    _add(r, view, "pg_class", rel.oid)
    r.remember("pg_type", rel.reltype, view.key)
    r.remember("pg_rewrite", rel.view_rule, view.key)  # what the view reads hangs off this rule


def _types(r: _Reader, types: list[Row], relations: list[Row], columns: list[Row]) -> None:
    composite_cols: dict[int, list[Row]] = {}
    for col in columns:
        composite_cols.setdefault(col.attrelid, []).append(col)
    composite_rel = {rel.oid: rel for rel in relations if rel.relkind == "c"}
    arrays: list[Row] = []
    for t in types:
        common: dict[str, Any] = dict(comment=t.comment, acl=acl(t.acl), default_acl=acl(t.default_acl))
        obj: DbObject | None = None
        if not t.own:
            continue
        if t.typtype == "e":
            obj = EnumType(t.schema, t.name, tuple(t.labels or ()), **common)
        elif t.typtype == "d":
            obj = Domain(t.schema, t.name, t.base_type, default=t.typdefault,
                         not_null=t.typnotnull, collation=t.collation, **common)
        elif t.typtype == "r":
            rng = t.range
            obj = RangeType(t.schema, t.name, rng["subtype"], rng["opclass"], rng["collation"],
                            rng["canonical"], rng["subdiff"], rng["multirange"], **common)
            r.remember("pg_type", rng["multirange_oid"], obj.key)  # its multirange stands for it
        elif t.typtype == "c" and t.typrelid in composite_rel:
            attrs = tuple((c.name, c.type, c.collation) for c in composite_cols.get(t.typrelid, []))
            obj = CompositeType(t.schema, t.name, attrs, **common)
            r.remember("pg_class", t.typrelid, obj.key)
        elif t.typcategory == "A":
            arrays.append(t)
        if obj is not None:
            _add(r, obj, "pg_type", t.oid)
    for t in arrays:  # an array type stands for its element type
        element = r.keys.get(("pg_type", t.typelem, 0))
        if element:
            r.remember("pg_type", t.oid, element)


def _constraints(r: _Reader, rows: list[Row]) -> None:
    domains: dict[Key, list[tuple[str, str]]] = {}
    clones: dict[int, int] = {}  # a foreign key's clone (one per partition on either side) -> its parent
    for row in rows:
        if row.type_name is not None:
            key = ("type", row.schema, row.type_name)
            domains.setdefault(key, []).append((row.name, row.definition))
            r.remember("pg_constraint", row.oid, key)
            continue
        attached = row.relispartition and row.contype in ("p", "u", "x") and row.parent_name is not None
        if not attached and (not row.conislocal or row.conparentid):
            if row.contype == "f" and row.conparentid:
                clones[row.oid] = row.conparentid
            continue  # inherited from a parent table (CHECK, a partition's FK clone): created with it
        obj = Constraint(row.schema, row.table_name, row.name, row.contype, row.definition,
                         parent=(row.parent_schema, row.parent_table, row.parent_name) if attached else None,
                         comment=row.comment)
        r.schema.add(obj)
        r.remember("pg_constraint", row.oid, obj.key)
        r.schema.depend(obj.key, ("table", row.schema, row.table_name))
    _fk_clones(r, clones)
    for key, cons in domains.items():
        dom = r.schema.objects.get(key)
        if isinstance(dom, Domain):
            r.schema.add(replace(dom, constraints=tuple(sorted(cons))))


def _fk_clones(r: _Reader, clones: dict[int, int]) -> None:
    """A clone stands for the foreign key it was cloned from: its pg_depend rows (on each partition
    of the referenced table, which cannot be dropped while the key stands) are the key's own."""
    for oid in clones:
        root = oid
        while root in clones:
            root = clones[root]
        key = r.keys.get(("pg_constraint", root, 0))
        if key is not None:
            r.remember("pg_constraint", oid, key)


def _indexes(r: _Reader, rows: list[Row]) -> None:
    by_oid = {row.oid: row for row in rows}
    for row in rows:  # first every index's key, so that a partition's index can name its parent's
        backs = row.constraint_oid and r.keys.get(("pg_constraint", row.constraint_oid, 0))
        r.remember("pg_class", row.oid, backs or ("index", row.schema, row.name))
    definitions: dict[int, str] = {}
    for row in rows:
        if row.constraint_oid:
            if row.parent:
                _attach_constraint(r, row)
            continue  # the constraint is the object
        parent = parent_key = None
        if row.parent:  # attached to the partitioned table's index (or its constraint's)
            parent = (row.parent[0], row.parent[1])
            parent_key = r.keys.get(("pg_class", row.parent[2], 0))
        obj = Index(row.schema, row.name, table=row.table_name, definition=_definition(row, by_oid, definitions),
                    clustered=row.indisclustered, on_view=row.relkind == "m", parent=parent,
                    parent_key=parent_key, comment=row.comment)
        _add(r, obj, "pg_class", row.oid)


def _attach_constraint(r: _Reader, row: Row) -> None:
    """A partition's constraint whose index is attached to a partitioned table's index that backs no
    constraint (one that does is the constraint's `parent`): the constraint records that index,
    whose drop takes it along."""
    key = r.keys.get(("pg_constraint", row.constraint_oid, 0))
    con = r.schema.objects.get(key) if key else None
    parent_key = r.keys.get(("pg_class", row.parent[2], 0))
    if isinstance(con, Constraint) and con.parent is None and parent_key and parent_key[0] == "index":
        r.schema.add(replace(con, index_parent=(row.parent[0], row.parent[1]), index_parent_key=parent_key))


def _definition(row: Row, by_oid: dict[int, Row], derived: dict[int, str]) -> str:
    """An index's definition; a partition's is derived from its parent's (see queries.INDEXES):
    the same after `USING`, the partition's own name and table before. `derived` keeps those made."""
    if not row.derived:
        return row.definition
    if row.oid not in derived:
        parent = by_oid[row.parent[2]]
        above = _definition(parent, by_oid, derived)
        if not above.startswith(parent.prefix + "USING "):
            raise AssertionError(f"unexpected index definition {above!r}")
        derived[row.oid] = row.prefix + above[len(parent.prefix):]
    return derived[row.oid]


def _functions(r: _Reader, rows: list[Row]) -> None:
    for row in rows:
        definition = row.definition or _aggregate_definition(row)
        modes = row.proargmodes or ["i"] * len(row.proargnames or [])
        in_names = tuple(n for n, m in zip(row.proargnames or [], modes) if m in ("i", "b", "v"))
        obj = Function(
            row.schema, row.name, row.identity_args, definition, result=row.result,
            argument_names=in_names, prokind=row.prokind,
            comment=row.comment, acl=acl(row.acl), default_acl=acl(row.default_acl),
        )
        _add(r, obj, "pg_proc", row.oid)


def _aggregate_definition(row: Row) -> str:
    """CREATE AGGREGATE text from pg_aggregate: PostgreSQL has no pg_get_aggregatedef."""
    a = row.aggregate
    parts = [f"SFUNC = {a['sfunc']}", f"STYPE = {a['stype']}"]
    for name, value in (("FINALFUNC", a["finalfunc"]), ("COMBINEFUNC", a["combinefunc"]),
                        ("SORTOP", a["sortop"] and f"OPERATOR({a['sortop'].split('(')[0]})")):
        if value:
            parts.append(f"{name} = {value}")
    if a.get("agginitval") is not None:
        parts.append("INITCOND = " + literal(a["agginitval"]))
    if a.get("aggfinalextra"):
        parts.append("FINALFUNC_EXTRA")
    name = f"{ident(row.schema)}.{ident(row.name)}"
    return f"CREATE AGGREGATE {name}({a['args']}) ({', '.join(parts)})"


def _triggers(r: _Reader, rows: list[Row]) -> None:
    for row in rows:
        obj = Trigger(row.schema, row.table_name, row.name, row.definition, row.tgenabled,
                      comment=row.comment)
        r.schema.add(obj)
        r.remember("pg_trigger", row.oid, obj.key)


def _event_triggers(r: _Reader, rows: list[Row]) -> None:
    for row in rows:
        obj = EventTrigger(row.name, row.event, row.function, tuple(row.tags), row.evtenabled,
                           comment=row.comment)
        r.schema.add(obj)
        r.remember("pg_event_trigger", row.oid, obj.key)


def _policies(r: _Reader, rows: list[Row]) -> None:
    for row in rows:
        obj = Policy(row.schema, row.table_name, row.name, row.polpermissive, row.polcmd,
                     tuple(row.roles), row.using_expr, row.check_expr, comment=row.comment)
        r.schema.add(obj)
        r.remember("pg_policy", row.oid, obj.key)


def _rules(r: _Reader, rows: list[Row]) -> None:
    for row in rows:
        obj = Rule(row.schema, row.table_name, row.name, row.definition, row.ev_enabled,
                   comment=row.comment)
        r.schema.add(obj)
        r.remember("pg_rewrite", row.oid, obj.key)


def _statistics(r: _Reader, rows: list[Row]) -> None:
    for row in rows:
        target = row.target
        obj = Statistics(row.schema, row.name, row.definition,
                         None if target in (None, -1) else int(target), comment=row.comment)
        _add(r, obj, "pg_statistic_ext", row.oid)


def _publications(r: _Reader, rows: list[Row]) -> None:
    for row in rows:
        p = row.row
        ops = [op for op in ("insert", "update", "delete", "truncate") if p.get(f"pub{op}")]
        target = "ALL TABLES" if p["puballtables"] else ", ".join(
            f"{ident(s)}.{ident(t)}" for s, t in row.tables)
        definition = f"{target}|{','.join(ops)}|{p.get('pubviaroot')}"
        obj = Publication(row.name, definition, comment=row.comment)
        r.schema.add(obj)
        r.remember("pg_publication", row.oid, obj.key)


def _default_privileges(r: _Reader, rows: list[Row]) -> None:
    for row in rows:
        obj = DefaultPrivilege(row.role, row.schema, row.object_type, acl(row.acl),
                               default_acl=acl(row.default_acl))
        r.schema.add(obj)


def _depends(r: _Reader, rows: list[tuple[Any, ...]]) -> None:
    """Turn pg_depend rows into edges between our keys; rows about unknown objects are dropped.
    An end's key is its own (a column's), else its whole object's, else its extension's. This is
    the biggest result by far, so the lookups are written out in the loop."""
    keys, members = r.keys, r.extension_members
    for cat, objid, _, _, refobjid, _, deptype in rows:
        if deptype == "e":
            members[(cat, objid)] = keys.get(("pg_extension", refobjid, 0), ("extension", "?"))
    known, get = r.schema.objects, keys.get
    depend = r.schema.depend
    # Parts of a table, not objects of their own; asked before `known`, as a key's hash is computed
    # anew at each dict lookup.
    parts = ("column", "default")
    for cat, objid, objsubid, refcat, refobjid, refobjsubid, deptype in rows:
        if deptype == "e":
            continue
        src = get((cat, objid, objsubid)) or get((cat, objid, 0)) or members.get((cat, objid))
        if not src or not (src[0] in parts or src in known):
            continue
        if src[0] == "sequence" and cat == "pg_class" and refcat == "pg_class" and deptype in ("a", "i"):
            continue  # OWNED BY is its own statement; identity sequences belong to their column
        dst = get((refcat, refobjid, refobjsubid)) or get((refcat, refobjid, 0)) or members.get((refcat, refobjid))
        if dst and (dst[0] in parts or dst in known):
            depend(src, dst)

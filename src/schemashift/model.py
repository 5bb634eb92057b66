"""The schema model: plain frozen data, one class per object kind. No SQL, no I/O.

Every object has a `key` (its identity: kind, schema, name, ...). Two schemas are compared object by
object through dataclass equality, so a field only affects the diff when it takes part in `==`;
fields that are bookkeeping (positions, OIDs, defaults used for rendering) are `compare=False`.
What an object depends on lives beside the objects, in `Schema.depends`, built from `pg_depend`
and from the model's own references, so that ordering never relies on fixed phases.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import ClassVar

from .frozen import frozen

Key = tuple[str, ...]


@frozen(order=True)
class Grant:
    """One privilege held by one role (`PUBLIC` for everyone)."""

    grantee: str
    privilege: str
    grantable: bool = False


Acl = frozenset[Grant]


@frozen
class DbObject:
    """Fields every object kind shares; `kind` names the key's first element."""

    kind: ClassVar[str] = ""
    comment: str | None = field(default=None, kw_only=True)
    acl: Acl = field(default=frozenset(), kw_only=True)
    # What `acl` is right after CREATE (owner's rights, PUBLIC's defaults): the base for GRANT/REVOKE.
    default_acl: Acl = field(default=frozenset(), kw_only=True, compare=False)

    @property
    def key(self) -> Key:
        raise NotImplementedError


@frozen
class SchemaObject(DbObject):
    """An object that lives in a namespace."""

    schema: str
    name: str

    @property
    def key(self) -> Key:
        return (self.kind, self.schema, self.name)


@frozen
class Namespace(DbObject):
    """A schema (pg_namespace)."""

    kind: ClassVar[str] = "schema"
    name: str

    @property
    def key(self) -> Key:
        return ("schema", self.name)


@frozen
class Extension(DbObject):
    """An installed extension; its member objects are left out of the model (pg_extension)."""

    kind: ClassVar[str] = "extension"
    name: str
    schema: str
    version: str | None  # None when versions are ignored
    updatable_to: frozenset[str] = field(default=frozenset(), compare=False)  # ALTER EXTENSION UPDATE targets
    default_comment: str | None = field(default=None, compare=False)  # what CREATE EXTENSION sets

    @property
    def key(self) -> Key:
        return ("extension", self.name)


@frozen
class Collation(SchemaObject):
    """A user-defined collation (pg_collation)."""

    kind: ClassVar[str] = "collation"
    provider: str
    locale: str | None
    lc_collate: str | None
    lc_ctype: str | None
    deterministic: bool
    rules: str | None = None


@frozen
class TextSearchDictionary(SchemaObject):
    """A text search dictionary: a template and its options as the server prints them (pg_ts_dict)."""

    kind: ClassVar[str] = "text_search_dictionary"
    template: str  # qualified
    options: tuple[tuple[str, str], ...] = ()  # (name, value as SQL), in the server's order


@frozen
class TextSearchConfiguration(SchemaObject):
    """A text search configuration: its parser and, per token type, the dictionaries tried in order
    (pg_ts_config, pg_ts_config_map)."""

    kind: ClassVar[str] = "text_search_configuration"
    parser: str  # qualified
    mappings: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (token type alias, qualified dictionaries)


@frozen
class IdentityOptions:
    """Sequence options of an identity column or a sequence."""

    data_type: str
    start: int
    increment: int
    minvalue: int
    maxvalue: int
    cache: int
    cycle: bool


@frozen
class Column(DbObject):
    """A table column, with its default, identity or generation expression (pg_attribute, pg_attrdef)."""

    kind: ClassVar[str] = "column"
    name: str
    type: str
    not_null: bool = False
    not_null_name: str | None = None  # PostgreSQL 18 names NOT NULL constraints
    default: str | None = None
    identity: str = ""  # "", "a" (ALWAYS) or "d" (BY DEFAULT)
    identity_options: IdentityOptions | None = None
    # The identity's implicit sequence: its name is taken while the identity exists.
    identity_sequence: str | None = field(default=None, compare=False)
    generated: str | None = None  # stored generation expression
    generated_kind: str = ""  # "s" stored, "v" virtual (PostgreSQL 18)
    collation: str | None = None  # only when not the type's default
    storage: str | None = None  # only when not the type's default
    # False when the column exists only through a parent table (always False in partitions).
    local: bool = True
    position: int = field(default=0, compare=False)


@frozen
class Table(SchemaObject):
    """A table, partitioned table or partition, with its columns in order (pg_class relkind r/p)."""

    kind: ClassVar[str] = "table"
    columns: tuple[Column, ...] = ()
    partitioned: bool = False
    unlogged: bool = False
    options: tuple[str, ...] = ()
    partition_key: str | None = None
    parent: tuple[str, str] | None = None  # (schema, name) of the table this is a partition of
    partition_bound: str | None = None
    inherits: tuple[tuple[str, str], ...] = ()
    rls: bool = False
    force_rls: bool = False
    replica_identity: str = "d"

    def column(self, name: str) -> Column | None:
        return self._columns_by_name.get(name)

    @cached_property
    def _columns_by_name(self) -> dict[str, Column]:
        """Built on first lookup (kept outside the fields, so equality and hashing ignore it)."""
        return {c.name: c for c in self.columns}

    def column_key(self, name: str) -> Key:
        return ("column", self.schema, self.name, name)

    def default_key(self, name: str) -> Key:
        """A column's default or generation expression: it has dependencies of its own (functions,
        sequences) that must be ordered apart from the column's type."""
        return ("default", self.schema, self.name, name)


@frozen
class Constraint(DbObject):
    """A table or domain constraint, compared by its printed definition (pg_constraint)."""

    kind: ClassVar[str] = "constraint"
    schema: str
    table: str
    name: str
    type: str  # p, u, f, c, x (pg_constraint.contype)
    definition: str  # pg_get_constraintdef, incl. DEFERRABLE / NOT VALID
    on_domain: bool = False
    # On a partition: the partitioned table's constraint it is attached to, (schema, table, name).
    parent: tuple[str, str, str] | None = None
    # On a partition, when its index is attached to a partitioned table's index that backs no
    # constraint: that index, by name and by model key. No DETACH undoes it: the parent index's
    # drop takes the constraint with it (CASCADE), and the constraint is added back.
    index_parent: tuple[str, str] | None = None
    index_parent_key: Key | None = field(default=None, compare=False)

    @property
    def key(self) -> Key:
        return ("constraint", self.schema, self.table, self.name)

    @property
    def attached_key(self) -> Key | None:
        """What it is attached to on the partitioned table: a constraint, or an index."""
        return ("constraint", *self.parent) if self.parent else self.index_parent_key


@frozen
class Index(SchemaObject):
    """An index not owned by a constraint, compared by its printed definition (pg_index)."""

    kind: ClassVar[str] = "index"
    table: str
    definition: str  # pg_get_indexdef
    clustered: bool = False
    on_view: bool = field(default=False, compare=False)  # on a materialized view, not a table
    # On a partition: the partitioned table's index it is attached to, by name and by model key
    # (an index that backs a constraint is that constraint in the model).
    parent: tuple[str, str] | None = None
    parent_key: Key | None = field(default=None, compare=False)


@frozen
class Sequence(SchemaObject):
    """A sequence, and the column that owns it if any (pg_sequence)."""

    kind: ClassVar[str] = "sequence"
    options: IdentityOptions
    owned_by: tuple[str, str, str] | None = None  # (schema, table, column)
    unlogged: bool = False


@frozen
class EnumType(SchemaObject):
    """An enum type with its labels in order (pg_enum)."""

    kind: ClassVar[str] = "type"
    labels: tuple[str, ...]


@frozen
class Domain(SchemaObject):
    """A domain over a base type; its CHECKs are Constraint objects (pg_type typtype d)."""

    kind: ClassVar[str] = "type"
    base_type: str
    default: str | None = None
    not_null: bool = False
    collation: str | None = None
    constraints: tuple[tuple[str, str], ...] = ()  # (name, definition)


@frozen
class CompositeType(SchemaObject):
    """A standalone composite type (pg_type typtype c)."""

    kind: ClassVar[str] = "type"
    attributes: tuple[tuple[str, str, str | None], ...] = ()  # (name, type, collation)


@frozen
class RangeType(SchemaObject):
    """A range type and its multirange (pg_range)."""

    kind: ClassVar[str] = "type"
    subtype: str
    opclass: str | None = None
    collation: str | None = None
    canonical: str | None = None
    subdiff: str | None = None
    multirange: str | None = None


@frozen
class View(SchemaObject):
    """A view or materialized view, compared by its printed query (pg_class relkind v/m)."""

    kind: ClassVar[str] = "view"
    definition: str
    materialized: bool = False
    options: tuple[str, ...] = ()
    columns: tuple[tuple[str, str], ...] = ()  # (name, type): CREATE OR REPLACE may only append
    populated: bool = True
    column_comments: tuple[tuple[str, str], ...] = ()
    column_acls: tuple[tuple[str, Acl], ...] = ()


@frozen
class Function(DbObject):
    """A function, procedure or aggregate, identified by its argument types."""

    kind: ClassVar[str] = "function"
    schema: str
    name: str
    identity_args: str
    definition: str  # pg_get_functiondef, or CREATE AGGREGATE text for aggregates
    result: str | None = None  # pg_get_function_result: a change needs DROP + CREATE
    argument_names: tuple[str, ...] = ()  # a rename of an IN argument needs DROP + CREATE
    prokind: str = "f"

    @property
    def key(self) -> Key:
        return ("function", self.schema, f"{self.name}({self.identity_args})")


@frozen
class Trigger(DbObject):
    """A table trigger, compared by its printed definition (pg_trigger)."""

    kind: ClassVar[str] = "trigger"
    schema: str
    table: str
    name: str
    definition: str  # pg_get_triggerdef
    enabled: str = "O"  # pg_trigger.tgenabled

    @property
    def key(self) -> Key:
        return ("trigger", self.schema, self.table, self.name)


@frozen
class EventTrigger(DbObject):
    """A database-wide event trigger (pg_event_trigger)."""

    kind: ClassVar[str] = "event_trigger"
    name: str
    event: str
    function: str
    tags: tuple[str, ...] = ()
    enabled: str = "O"

    @property
    def key(self) -> Key:
        return ("event_trigger", self.name)


@frozen
class Policy(DbObject):
    """A row-level security policy (pg_policy)."""

    kind: ClassVar[str] = "policy"
    schema: str
    table: str
    name: str
    permissive: bool
    command: str
    roles: tuple[str, ...]
    using: str | None
    check: str | None

    @property
    def key(self) -> Key:
        return ("policy", self.schema, self.table, self.name)


@frozen
class Rule(DbObject):
    """A rewrite rule other than a view's own (pg_rewrite)."""

    kind: ClassVar[str] = "rule"
    schema: str
    table: str
    name: str
    definition: str
    enabled: str = "O"

    @property
    def key(self) -> Key:
        return ("rule", self.schema, self.table, self.name)


@frozen
class Statistics(SchemaObject):
    """An extended statistics object (pg_statistic_ext)."""

    kind: ClassVar[str] = "statistics"
    definition: str
    target: int | None = None


@frozen
class Publication(DbObject):
    """A logical replication publication (pg_publication)."""

    kind: ClassVar[str] = "publication"
    name: str
    definition: str  # normalised description: all tables / table list, operations, options

    @property
    def key(self) -> Key:
        return ("publication", self.name)


@frozen
class DefaultPrivilege(DbObject):
    """ALTER DEFAULT PRIVILEGES: grants a role's future objects of one type receive."""

    kind: ClassVar[str] = "default_privilege"
    role: str
    schema: str | None
    object_type: str  # r, S, f, T, n
    grants: Acl = frozenset()

    @property
    def key(self) -> Key:
        return ("default_privilege", self.role, self.schema or "", self.object_type)


@dataclass
class Schema:
    """Everything inspected from one database: objects by key, and what each depends on."""

    objects: dict[Key, DbObject] = field(default_factory=dict)
    depends: dict[Key, set[Key]] = field(default_factory=dict)
    server_version: int = 0
    # (source type, target type) of every pg_cast row, as format_type prints them without typmod:
    # whether a column's type change can be written as a cast (empty: not known, assume it can).
    casts: frozenset[tuple[str, str]] = frozenset()
    # Which engine it was read from (a dialect's `name`): a diff only compares schemas of one.
    dialect: str = "postgresql"
    _cached: _Lookups | None = field(default=None, repr=False, compare=False)

    def add(self, obj: DbObject) -> None:
        self.objects[obj.key] = obj
        self._cached = None

    def depend(self, key: Key, on: Key) -> None:
        if key != on:
            ons = self.depends.get(key)
            if ons is None:  # not setdefault(key, set()): that builds a set for each of ~50,000 calls
                self.depends[key] = {on}
            else:
                ons.add(on)
            self._cached = None

    def attached_to(self, parent: Key) -> list[Key]:
        """Indexes and constraints of partitions attached to the index or constraint `parent`."""
        return self._lookups().attached_to.get(parent, [])

    def attachments_on(self, schema: str, table: str) -> list[Key]:
        """A partition's own indexes and constraints that are attached to its parent's."""
        return self._lookups().attachments_on.get((schema, table), [])

    def constraints_on(self, schema: str, table: str) -> list[Constraint]:
        return self._lookups().constraints_on.get((schema, table), [])

    def children_of(self, schema: str, table: str) -> list[Table]:
        """Tables that inherit from `schema.table` or are its partitions."""
        return self._lookups().children_of.get((schema, table), [])

    def _lookups(self) -> _Lookups:
        if self._cached is None:
            self._cached = _Lookups.of(self.objects.values(), self.depends)
        return self._cached

    def prepare(self, *, as_source: bool) -> Schema:
        """Build now, rather than on first use, what a diff looks up (the source's dependents too):
        `api.diff` calls this on each side's own thread, so that the side done first has them ready
        when the diff starts."""
        lookups = self._lookups()
        if as_source:
            lookups.dependents()
        return self

    def dependencies(self, key: Key) -> frozenset[Key]:
        return frozenset(self.depends.get(key, ()))

    def dependencies_of(self, keys: Iterable[Key]) -> frozenset[Key]:
        """What the objects `keys` depend on together, apart from each other (one statement's
        needs); gathered without a copy per key, as a plan asks this for thousands of statements."""
        keys = set(keys)
        out: set[Key] = set()
        for k in keys:
            out.update(self.depends.get(k, ()))
        return frozenset(out - keys)

    def dependents(self) -> dict[Key, set[Key]]:
        """The reverse of `depends`: key → keys that depend on it (built once; not to be changed)."""
        return self._lookups().dependents()

    def types_over(self, key: Key) -> list[Key]:
        """Types built on the type `key` (a domain over it, a composite holding it), transitively,
        each after the types it is built on: what a rebuild of `key` has to rebuild with it."""
        dependents, seen, order = self.dependents(), set(), []

        def visit(k: Key) -> None:
            for d in sorted(dependents.get(k, ())):
                if d[0] == "type" and d not in seen:
                    seen.add(d)
                    visit(d)
                    order.append(d)

        visit(key)
        return order[::-1]

    def without_table(self, schema: str, name: str) -> Schema:
        """A copy without one table and what lives on it (constraints, indexes, triggers, policies,
        rules, owned sequences), and without its schema if nothing else is left there (the
        migration runner creates the schema it names): how schemashift's own history table is kept
        out of every diff. `public` always stays."""

        def on_table(obj: DbObject) -> bool:
            if isinstance(obj, Sequence):
                return obj.owned_by is not None and obj.owned_by[:2] == (schema, name)
            return getattr(obj, "schema", None) == schema and (
                getattr(obj, "table", None) == name or obj.key == ("table", schema, name))

        gone = {key for key, obj in self.objects.items() if on_table(obj)}
        if not gone:
            return self
        # Keys that exist only in `depends`: the table's columns, defaults and partition bound.
        gone |= {k for k in self.depends if k[0] in ("column", "default", "partition") and k[1:3] == (schema, name)}
        if schema != "public" and not any(getattr(o, "schema", None) == schema
                                          for k, o in self.objects.items() if k not in gone):
            gone.add(("schema", schema))
        return Schema(
            {k: o for k, o in self.objects.items() if k not in gone},
            {k: ons - gone for k, ons in self.depends.items() if k not in gone},
            self.server_version,
            self.casts,
            self.dialect,
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Schema) and self.objects == other.objects

    __hash__ = None  # type: ignore[assignment]


@dataclass
class _Lookups:
    """Indexes over a schema's objects, built once when first asked for."""

    attached_to: dict[Key, list[Key]] = field(default_factory=dict)
    attachments_on: dict[tuple[str, str], list[Key]] = field(default_factory=dict)
    constraints_on: dict[tuple[str, str], list[Constraint]] = field(default_factory=dict)
    children_of: dict[tuple[str, str], list[Table]] = field(default_factory=dict)
    depends: dict[Key, set[Key]] = field(default_factory=dict)
    _dependents: dict[Key, set[Key]] | None = None

    def dependents(self) -> dict[Key, set[Key]]:
        if self._dependents is None:
            self._dependents = {}
            for key, ons in self.depends.items():
                for on in ons:
                    self._dependents.setdefault(on, set()).add(key)
        return self._dependents

    @classmethod
    def of(cls, objects: Iterable[DbObject], depends: dict[Key, set[Key]]) -> _Lookups:
        found = cls(depends=depends)
        for obj in objects:
            if isinstance(obj, Constraint):
                found.constraints_on.setdefault((obj.schema, obj.table), []).append(obj)
            if isinstance(obj, Table):
                for parent in {*obj.inherits, obj.parent} - {None}:
                    found.children_of.setdefault(parent, []).append(obj)  # type: ignore[arg-type]
            up = obj.parent_key if isinstance(obj, Index) else (
                obj.attached_key if isinstance(obj, Constraint) else None)
            if up is not None:
                found.attached_to.setdefault(up, []).append(obj.key)
                found.attachments_on.setdefault((obj.schema, obj.table), []).append(obj.key)  # type: ignore[attr-defined]
        return found

"""Schema × Schema → Changes: one walk over object keys, written once for every dialect.

An object only in the source is dropped, only in the target created; present in both but different,
it is altered in place when the dialect can (`Dialect.can_alter`) and replaced (drop + create)
otherwise. Replacing an object replaces, with it, everything that depends on it in the source
(a view over a function that changes its result type); a column whose type changes does the same
for the views, rules, policies and triggers that read it, which PostgreSQL cannot carry over.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from dataclasses import dataclass, field, replace
from typing import Protocol

from .frozen import frozen
from .model import Column, Constraint, DbObject, Key, Schema, Table


@frozen
class Create:
    new: DbObject

    def reverse(self) -> Drop:
        return Drop(self.new)


@frozen
class Drop:
    old: DbObject
    implied: bool = False  # dropped by PostgreSQL along with its owner: no statement of its own

    def reverse(self) -> Create:
        return Create(self.old)


@frozen
class Alter:
    old: DbObject
    new: DbObject

    def reverse(self) -> Alter:
        return Alter(self.new, self.old)


@frozen
class Rename:
    """The same object under another name (only where a drop is impossible or would lose data)."""

    old: DbObject
    new: DbObject

    def reverse(self) -> Rename:
        return Rename(self.new, self.old)


Change = Create | Drop | Alter | Rename


class Dialect(Protocol):
    """What the shared walk asks of a dialect."""

    def can_alter(self, old: DbObject, new: DbObject) -> bool: ...

    def owners(self, obj: DbObject) -> tuple[Key, ...]: ...

    def rebuilt_by_column_type_change(self, key: Key) -> bool: ...

    def retypes_columns(self, old: DbObject, new: DbObject) -> bool: ...

    def recreates_column(self, table: Table, old: Column, new: Column, source: Schema, target: Schema) -> bool: ...

    def without_owner(self, obj: DbObject) -> DbObject: ...  # `obj` itself when it has no owner to leave

    def rename_identity(self, obj: DbObject) -> Hashable | None: ...


@dataclass
class _Walk:
    source: Schema
    target: Schema
    dialect: Dialect
    replaced: set[Key] = field(default_factory=set)
    dropped: set[Key] = field(default_factory=set)
    reset_defaults: set[Key] = field(default_factory=set)  # expressions to take off and put back
    dependents: dict[Key, set[Key]] = field(default_factory=dict)  # the source's, reversed once

    def __post_init__(self) -> None:
        self.dependents = self.source.dependents()


def diff(source: Schema, target: Schema, dialect: Dialect) -> list[Change]:
    """The changes that turn `source` into `target`, in key order (the planner orders them)."""
    walk = _Walk(source, target, dialect)
    altered: dict[Key, Change] = {}
    # Sorted once: tens of thousands. In insertion order (the inspector's, by name) the keys come in
    # long sorted runs, which sorted() merges; a set's order would make it sort from scratch.
    keys = sorted([*source.objects, *(k for k in target.objects if k not in source.objects)])
    for key in keys:
        old, new = source.objects.get(key), target.objects.get(key)
        if old == new:
            continue
        if old is None:
            altered[key] = Create(new)  # type: ignore[arg-type]
        elif new is None:
            walk.dropped.add(key)
        elif type(old) is type(new) and dialect.can_alter(old, new):
            altered[key] = Alter(old, new)
        else:
            walk.replaced.add(key)
    _cascade(walk, altered)
    _defaults_set_by_rebuild(walk, altered)
    renames = _renames(walk, altered)
    gone = walk.dropped | walk.replaced | set(_dropped_columns(altered))
    _replace_holders(walk, altered, gone)
    _recreate_carried(walk, altered, gone)
    renames = _keep_renames(walk, altered, renames, gone)
    changes: list[Change] = _reset_defaults(walk, altered)
    dropped_or_replaced = walk.dropped | walk.replaced
    for key in sorted(dropped_or_replaced):
        old = source.objects[key]
        changes.append(Drop(old, implied=_goes_with(dialect.owners(old), gone)))
    for key in sorted(walk.replaced):
        changes.append(Create(target.objects[key]))
    for key in (k for k in keys if k in source.objects and k in target.objects and k not in dropped_or_replaced):
        old = source.objects[key]
        free = dialect.without_owner(old)
        if free is not old and _goes_with(dialect.owners(old), gone):
            # kept, but its owner goes: free it first, re-own it after
            changes += [Alter(old, free), Alter(free, target.objects[key])]
            altered.pop(key, None)
    changes.extend(altered[k] for k in sorted(altered) if k not in walk.replaced)
    return changes + renames


def _replace_holders(walk: _Walk, altered: dict[Key, Change], gone: set[Key]) -> None:
    """An object that goes only with an owner other than its table or column (a partition's index
    attached to its parent's: there is no detach) takes that owner with it, which is replaced."""
    pending = list(walk.dropped | walk.replaced)
    while pending:
        for owner in walk.dialect.owners(walk.source.objects[pending.pop()]):
            if owner[0] in ("table", "column", "view") or owner in gone or owner not in walk.target.objects:
                continue
            walk.replaced.add(owner)
            gone.add(owner)
            altered.pop(owner, None)
            pending.append(owner)


def _recreate_carried(walk: _Walk, altered: dict[Key, Change], gone: set[Key]) -> None:
    """An object kept in the target whose owner goes is carried off with it (a partition's index
    attached to a parent index that is dropped) unless the dialect can free it first: it is
    replaced, created again once the owner is gone. Repeated, as it may own others in turn."""
    owned = {k: walk.dialect.owners(o) for k, o in walk.source.objects.items()
             if k in walk.target.objects and k not in gone and walk.dialect.without_owner(o) is o}
    owned = {k: v for k, v in owned.items() if v}
    found = True
    while found:
        found = False
        for key, owners in owned.items():
            if key not in gone and _goes_with(owners, gone):
                walk.replaced.add(key)
                gone.add(key)
                altered.pop(key, None)
                found = True


def _renames(walk: _Walk, altered: dict[Key, Change]) -> list[Change]:
    """Pair a dropped and a created object that the dialect says are one object renamed."""
    dropped: dict[Hashable, Key] = {}
    for key in walk.dropped:
        identity = walk.dialect.rename_identity(walk.source.objects[key])
        if identity is not None:
            dropped[identity] = key
    renames: list[Change] = []
    for key, change in sorted(altered.items()):
        identity = walk.dialect.rename_identity(change.new) if isinstance(change, Create) else None
        if identity is not None and identity in dropped:
            old_key = dropped.pop(identity)
            walk.dropped.discard(old_key)
            del altered[key]
            renames.append(Rename(walk.source.objects[old_key], change.new))
    return renames


def _keep_renames(walk: _Walk, altered: dict[Key, Change], renames: list[Change], gone: set[Key]) -> list[Change]:
    """A renamed object that PostgreSQL drops with its owner (a partition's index under a parent
    index that is replaced) is gone before the rename: it is dropped and created instead."""
    kept: list[Change] = []
    for change in renames:
        if _goes_with(walk.dialect.owners(change.old), gone):
            walk.dropped.add(change.old.key)
            gone.add(change.old.key)
            altered[change.new.key] = Create(change.new)
        else:
            kept.append(change)
    return kept


def _cascade(walk: _Walk, altered: dict[Key, Change]) -> None:
    """Replace whatever depends on a replaced object, or on a column whose type changes.

    A dropped object's dependents that look unchanged read a namesake in the target (a table
    replaced by a view of the same name): they are rebuilt too. Those that changed say so
    themselves, and their own change stops reading the dropped object.
    """
    pending: list[tuple[Key, str]] = [(k, "replaced") for k in walk.replaced]
    for key in walk.replaced:  # what reads a replaced table reads its columns (pg_depend says so)
        pending += [(k, "replaced") for k in _column_keys(walk.source.objects[key])]
    retyped_types = list(_retyped_types(walk, altered))
    type_columns = [k for t in retyped_types for k in _type_columns(walk, t)]
    rebuilt_columns = set(type_columns)
    pending += [(k, "retyped") for k in type_columns]
    pending += [(k, "retyped") for k in _retyped_columns(altered)]
    pending += [(k, "recreated") for k in _recreated_columns(walk, altered)]
    pending += [(k, "retyped type") for k in retyped_types]
    for key in walk.dropped:
        pending.append((key, "dropped"))
        pending += [(k, "dropped") for k in _column_keys(walk.source.objects[key])]
    carried = {k for k in retyped_types if not isinstance(altered.get(k), Alter)}
    for key in carried:  # created by the rebuild from the target's definition
        altered.pop(key, None)
    seen: set[tuple[Key, str]] = set()
    while pending:
        key, why = item = pending.pop()
        if item in seen:
            continue
        seen.add(item)
        for dep in walk.dependents.get(key, ()):
            if dep[0] == "default" and why not in ("retyped", "recreated") and not _own_default(walk, key, why, dep):
                walk.reset_defaults.add(dep)
                continue
            if dep[0] in ("column", "default") or dep in carried or dep in walk.replaced or dep in walk.dropped:
                continue
            if why == "retyped" and not walk.dialect.rebuilt_by_column_type_change(dep) and not (
                    key in rebuilt_columns and _is_foreign_key(walk.source.objects.get(dep))):
                continue
            if why == "dropped" and dep in altered:
                continue
            if dep in walk.target.objects:
                walk.replaced.add(dep)
                altered.pop(dep, None)
            else:
                walk.dropped.add(dep)
            pending.append((dep, "replaced"))
            pending += [(k, "replaced") for k in _column_keys(walk.source.objects[dep])]


def _reset_defaults(walk: _Walk, altered: dict[Key, Change]) -> list[Change]:
    """A default or generation expression that reads a replaced object comes off before the object
    goes and back on after it returns: two steps through a table without those expressions (a
    generated column has no other way than being dropped and added again)."""
    changes: list[Change] = []
    for table_key in sorted({("table", *k[1:3]) for k in walk.reset_defaults}):
        old, new = walk.source.objects.get(table_key), walk.target.objects.get(table_key)
        if not isinstance(old, Table) or not isinstance(new, Table) or table_key in walk.replaced:
            continue
        reset = {k[3] for k in walk.reset_defaults if ("table", *k[1:3]) == table_key}
        columns = tuple(c if c.name not in reset else replace(c, default=None)
                        for c in old.columns if not (c.name in reset and c.generated))
        bare = replace(old, columns=columns)
        changes += [Alter(old, bare), Alter(bare, new)]
        altered.pop(table_key, None)
    return changes


def _column_keys(obj: DbObject) -> list[Key]:
    return [obj.column_key(c.name) for c in obj.columns] if isinstance(obj, Table) else []


def _goes_with(owners: tuple[Key, ...], gone: set[Key]) -> bool:
    """Whether PostgreSQL drops an object by itself when one of its owners (table, column, parent
    index) goes."""
    return any(o in gone or (o[0] == "column" and ("table", *o[1:3]) in gone) for o in owners)


def _dropped_columns(altered: dict[Key, Change]) -> Iterator[Key]:
    for change in altered.values():
        if isinstance(change, Alter) and isinstance(change.old, Table) and isinstance(change.new, Table):
            for col in change.old.columns:
                if change.new.column(col.name) is None:
                    yield change.old.column_key(col.name)


def _defaults_set_by_rebuild(walk: _Walk, altered: dict[Key, Change]) -> None:
    """The rebuild of a type takes its columns' defaults off and puts the target's on (default off,
    rebuild, default on): the table's own change leaves them alone, or it would both release the old
    type before the rebuild and need the column after it, a cycle."""
    for type_key in _retyped_types(walk, altered):
        for key in _type_columns(walk, type_key):
            change = altered.get(("table", *key[1:3]))
            if not isinstance(change, Alter) or not isinstance(change.old, Table):
                continue
            old, new = change.old.column(key[3]), change.new.column(key[3])
            if old is not None and new is not None and old.default != new.default and old.type == new.type:
                columns = tuple(replace(c, default=new.default) if c is old else c for c in change.old.columns)
                altered[change.old.key] = Alter(replace(change.old, columns=columns), change.new)


def _own_default(walk: _Walk, type_key: Key, why: str, default: Key) -> bool:
    """A rebuilt type's rebuild takes the defaults of its own columns off and puts them back itself."""
    column = ("column", *default[1:])
    return why == "retyped type" and any(column in walk.dependents.get(k, ())
                                         for k in (type_key, *walk.source.types_over(type_key)))


def _retyped_types(walk: _Walk, altered: dict[Key, Change]) -> Iterator[Key]:
    """Types rebuilt under their columns (an enum losing or reordering labels). What reads the type
    itself, not only through a column (a constant `'ok'::mood` in an index predicate, a CHECK, a
    function's argument), would keep the old type: it is replaced around the rebuild."""
    for change in list(altered.values()):
        if isinstance(change, Alter) and walk.dialect.retypes_columns(change.old, change.new):
            yield change.old.key
            yield from _carried_types(walk, change.old.key)


def _carried_types(walk: _Walk, type_key: Key) -> list[Key]:
    """The types built on a rebuilt type that the target keeps (a domain over an enum, a composite
    holding it): the rebuild drops and creates them itself, around their columns, as one step."""
    return [k for k in walk.source.types_over(type_key) if k in walk.target.objects]


def _type_columns(walk: _Walk, type_key: Key) -> Iterator[Key]:
    """The source's columns of a type."""
    return (k for k in walk.dependents.get(type_key, ()) if k[0] == "column")


def _kept_columns(altered: dict[Key, Change]) -> Iterator[tuple[Table, Table, Column, Column]]:
    """(old table, new table, old column, new column) of each column an altered table keeps."""
    for change in list(altered.values()):
        if isinstance(change, Alter) and isinstance(change.old, Table) and isinstance(change.new, Table):
            for old_col in change.old.columns:
                new_col = change.new.column(old_col.name)
                if new_col is not None:
                    yield change.old, change.new, old_col, new_col


def _retyped_columns(altered: dict[Key, Change]) -> Iterator[Key]:
    """Columns whose type changes in an altered table (those of a rebuilt type come from it)."""
    return (old.column_key(c.name) for old, _, c, new_col in _kept_columns(altered) if _type_changes(c, new_col))


def _is_foreign_key(obj: DbObject | None) -> bool:
    """A foreign key between columns of a rebuilt type goes around the rebuild: each side is
    retyped by a statement of its own, and in between the two sides' types differ."""
    return isinstance(obj, Constraint) and obj.type == "f"


def _recreated_columns(walk: _Walk, altered: dict[Key, Change]) -> Iterator[Key]:
    """Columns dropped and added again (a type with no conversion): the server drops what reads
    them (indexes, constraints, statistics) with them, so all of it is created again after."""
    return (old.column_key(c.name) for old, _, c, new_col in _kept_columns(altered)
            if walk.dialect.recreates_column(old, c, new_col, walk.source, walk.target))


def _type_changes(old: Column, new: Column) -> bool:
    return (old.type, old.collation) != (new.type, new.collation)

"""What the engines with one namespace per database (SQLite, MySQL/MariaDB) answer alike: every
object lives in `namespace`, tables are altered in place (by ALTER or a rebuild) and everything
else is dropped and created, an object on a table goes with it, and renames are not detected."""

from __future__ import annotations

from collections.abc import Hashable

from ..migrations.history import HistoryTable
from ..model import Column, DbObject, Key, Schema, Table
from ..plan import Plan


class OneNamespace:
    namespace: str

    def table_named(self, spec: str) -> tuple[str, str]:
        schema, _, name = spec.rpartition(".")
        return self.namespace, HistoryTable(schema or "public", name).flat_name

    def can_alter(self, old: DbObject, new: DbObject) -> bool:
        return isinstance(old, Table)

    def owners(self, obj: DbObject) -> tuple[Key, ...]:
        table = getattr(obj, "table", None)
        return (("table", self.namespace, table),) if table is not None else ()

    def without_owner(self, obj: DbObject) -> DbObject:
        return obj

    def rename_identity(self, obj: DbObject) -> Hashable | None:
        return None

    def retypes_columns(self, old: DbObject, new: DbObject) -> bool:
        return False

    def catalog_state(self, conn: object) -> str | None:
        return None  # their inspection costs little more than a digest would

    def label_locks(self, plan: Plan, source: Schema, target: Schema) -> Plan:
        return plan  # no lock labels for these engines yet: `locks` stays None ("unknown")

    def recreates_column(self, table: Table, old: Column, new: Column, source: Schema, target: Schema) -> bool:
        return False

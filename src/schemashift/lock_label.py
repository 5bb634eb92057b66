"""What a planned statement does to a live table: the locks it holds until its transaction ends
and whether it rewrites the table, scans it under the lock, or only changes the catalog.

Engine-neutral data; each dialect fills it (PostgreSQL: `dialects/postgres/locks.py`).
"""

from __future__ import annotations

from .frozen import frozen

# Weakest first, as PostgreSQL orders its table lock modes; a relation's label keeps the strongest.
MODES = ("ACCESS SHARE", "ROW SHARE", "ROW EXCLUSIVE", "SHARE UPDATE EXCLUSIVE", "SHARE",
         "SHARE ROW EXCLUSIVE", "EXCLUSIVE", "ACCESS EXCLUSIVE")
EFFECTS = ("instant", "scan", "rewrite")  # least work first


@frozen(order=True)
class RelationLock:
    """One relation and the strongest lock mode the statement holds on it."""

    schema: str
    name: str
    mode: str


@frozen
class LockLabel:
    """The relations a statement locks (strongest mode each, by name) and its effect on the data:
    `rewrite` (a new copy of the table), `scan` (every row read under the lock) or `instant`."""

    locks: tuple[RelationLock, ...]
    effect: str

    def text(self) -> str:
        """`ACCESS EXCLUSIVE on "public"."t", SHARE ROW EXCLUSIVE on "public"."u" (scan)`."""
        if not self.locks:
            return f"no table locks ({self.effect})"
        named = ", ".join(f"{lk.mode} on {_quoted(lk.schema)}.{_quoted(lk.name)}" for lk in self.locks)
        return f"{named} ({self.effect})"

    def as_json(self) -> dict[str, object]:
        return {"effect": self.effect,
                "relations": [{"schema": lk.schema, "name": lk.name, "mode": lk.mode} for lk in self.locks]}


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
